/*  ld_roots.c -- placeholder; see ld_roots.h. */
#include "ld_roots.h"

#include <stdio.h>

#include "ld_identity.h"

ld_status_t
ld_root_load (const char *path_or_text, uint8_t key[LD_KEY_BYTES], char path[LD_TOPIC_MAX + 1],
              char name[LD_NAME_MAX + 1], char *err, size_t err_size)
{
    path[0] = '\0';
    snprintf (name, LD_NAME_MAX + 1, "district");
    return ld_public_key_load (path_or_text, key, err, err_size);
}
