/*  ld_store.c -- placeholder until the store lands. */
#include "ld_store.h"
