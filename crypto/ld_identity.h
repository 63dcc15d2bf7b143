/*  ld_identity.h -- an Ed25519 identity: a key pair whose secret half lives
    only in libsodium secure memory (guarded pages, locked, wiped on free).

    Files, as written by `liandong keygen --out DIR`:
        DIR/identity.secret   mode 0600, one line: ed25519-secret:<base64url seed>
        DIR/identity.pub      one line: ed25519:<base64url public key>
    Loading a secret that group or others may read is refused
    (LD_ERR_PERMISSIONS): a key that others could have copied is not a key.
    The secret never appears in argv, logs or error messages.
*/
#ifndef LD_IDENTITY_H_INCLUDED
#define LD_IDENTITY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"
#include "ld_status.h"

#define LD_SECRET_PREFIX   "ed25519-secret:"
#define LD_IDENTITY_SECRET "identity.secret"
#define LD_IDENTITY_PUBLIC "identity.pub"

typedef struct _ld_identity_t ld_identity_t;

//  A fresh random identity, or NULL if secure memory is exhausted.
ld_identity_t *ld_identity_new (void);

//  The identity derived from a 32-byte seed (tests use RFC 8032 vectors).
ld_identity_t *ld_identity_new_from_seed (const uint8_t seed[LD_SEED_BYTES]);

//  Destroys the identity, wiping the secret; sets *self_p to NULL. NULL-safe.
void ld_identity_destroy (ld_identity_t **self_p);

//  Loads a secret key file. On success *identity_p holds a new identity the
//  caller owns. Errors: LD_ERR_NOT_FOUND, LD_ERR_PERMISSIONS (mode allows
//  group/other access), LD_ERR_BAD_FORMAT, LD_ERR_IO, LD_ERR_NOMEM; err gets a
//  message naming the file (never its content).
ld_status_t ld_identity_load (const char *secret_path, ld_identity_t **identity_p, char *err,
                              size_t err_size);

//  Writes DIR/identity.secret (0600) and DIR/identity.pub, creating DIR
//  (0700) if needed. Refuses with LD_ERR_EXISTS if either file exists and
//  force is false: a second key history under one name forks it.
ld_status_t ld_identity_save (ld_identity_t *self, const char *dir, bool force, char *err,
                              size_t err_size);

//  The public key; borrowed, valid while the identity lives.
const uint8_t *ld_identity_public_key (ld_identity_t *self);

//  Signs data; writes LD_SIG_BYTES into sig.
void ld_identity_sign (ld_identity_t *self, const uint8_t *data, size_t size,
                       uint8_t sig[LD_SIG_BYTES]);

//  Reads a public key file (or accepts the text form itself when path_or_text
//  starts with "ed25519:"). Only the first line counts: a trust root file
//  (trust/ld_roots.h) has "path:" and "name:" lines after the key.
//  Errors: LD_ERR_NOT_FOUND, LD_ERR_BAD_FORMAT.
ld_status_t ld_public_key_load (const char *path_or_text, uint8_t key[LD_KEY_BYTES], char *err,
                                size_t err_size);

//  The identity's key pair in its Curve25519 form, for CurveZMQ (one key
//  per identity serves both signing and transport; libsodium converts).
//  The secret half lives in secure memory like the Ed25519 secret.
typedef struct _ld_curve_t ld_curve_t;

//  The Curve25519 pair of an identity, or NULL if secure memory is
//  exhausted or the key cannot be converted.
ld_curve_t *ld_curve_new (ld_identity_t *identity);

//  Wipes and frees; NULL-safe; sets *self_p to NULL.
void ld_curve_destroy (ld_curve_t **self_p);

//  The 32-byte Curve25519 public and secret keys; borrowed.
const uint8_t *ld_curve_public (const ld_curve_t *self);
const uint8_t *ld_curve_secret (const ld_curve_t *self);

//  The Curve25519 form of an Ed25519 public key (a peer's: the broker's
//  pinned key, a certified key the ZAP handler admits). LD_ERR_BAD_KEY if
//  the key is not a valid Ed25519 point.
ld_status_t ld_curve_public_from_key (const uint8_t key[LD_KEY_BYTES], uint8_t curve[LD_KEY_BYTES]);

#endif
