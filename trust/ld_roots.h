/*  ld_roots.h -- trust root files (placeholder until the cert work lands:
    the key only, path "" and name "district"). */
#ifndef LD_ROOTS_H_INCLUDED
#define LD_ROOTS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"
#include "ld_limits.h"
#include "ld_status.h"

ld_status_t ld_root_load (const char *path_or_text, uint8_t key[LD_KEY_BYTES],
                          char path[LD_TOPIC_MAX + 1], char name[LD_NAME_MAX + 1], char *err,
                          size_t err_size);

#endif
