/*  ld_pbjson.c -- placeholder until the JSON mapping lands. */
#include "ld_pbjson.h"
