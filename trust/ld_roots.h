/*  ld_roots.h -- trust root files: a district's public key with its org
    path and display name.

    A root file is a public key file (crypto/ld_identity.h) whose first
    line is the key; optional lines after it say where the root may
    certify and what it is called:

        ed25519:<base64url public key>
        path: wudang/
        name: 乌当区

    `liandong keygen --out DIR --path P --name N` writes DIR/identity.pub
    this way; `liandong broker --trust FILE` and `liandong cert --trust
    FILE` read it. Without a path line the root may certify anywhere
    (path ""); without a name line it is called "district". Blank lines
    and lines starting with '#' are skipped; any other line, or a line
    given twice, is an error: a typo in a trust root must not widen it.
    ld_public_key_load reads only the first line, so the same file serves
    wherever a public key is asked for.
*/
#ifndef LD_ROOTS_H_INCLUDED
#define LD_ROOTS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"
#include "ld_limits.h"
#include "ld_status.h"
#include "ld_trust.h"

#define LD_ROOT_PATH_LABEL   "path:"
#define LD_ROOT_NAME_LABEL   "name:"
#define LD_ROOT_NAME_DEFAULT "district"
#define LD_ROOT_FILE_MAX     4096 //  bytes of a root file

//  Reads a root from a file, or from the text itself when path_or_text
//  starts with "ed25519:" (a key alone, or the whole file's text). Writes
//  the key, the org path ("" = anywhere) and the display name into the
//  caller's buffers. Errors (err names the file and the line):
//  LD_ERR_NOT_FOUND, LD_ERR_IO, LD_ERR_TOO_BIG (past LD_ROOT_FILE_MAX),
//  LD_ERR_BAD_FORMAT (no key on the first line, an unknown or repeated
//  line), LD_ERR_BAD_TOPIC / LD_ERR_TOPIC_TOO_LONG (path),
//  LD_ERR_BAD_UTF8 / LD_ERR_STRING_TOO_LONG / LD_ERR_BAD_PAYLOAD (name:
//  not UTF-8, too long, empty).
ld_status_t ld_root_load (const char *path_or_text, uint8_t key[LD_KEY_BYTES],
                          char path[LD_TOPIC_MAX + 1], char name[LD_NAME_MAX + 1], char *err,
                          size_t err_size);

//  The text of a root file for key, path ("" or NULL: no path line) and
//  name (NULL: no name line), written into out (out_size bytes, NUL-
//  terminated). Errors: those of ld_root_load for path and name, and
//  LD_ERR_TOO_BIG if out is too small.
ld_status_t ld_root_format (const uint8_t key[LD_KEY_BYTES], const char *path, const char *name,
                            char *out, size_t out_size, char *err, size_t err_size);

//  ld_root_load, then ld_trust_add_root. Errors: ld_root_load's, and
//  ld_trust_add_root's (LD_ERR_EXISTS: the key is a root already,
//  LD_ERR_NOMEM).
ld_status_t ld_trust_add_root_file (ld_trust_t *trust, const char *path_or_text, char *err,
                                    size_t err_size);

#endif
