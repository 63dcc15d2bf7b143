/*  ld_crypto.h -- hashing, verification and the text forms of keys and ids.

    Every cryptographic step is libsodium's: Ed25519 (crypto_sign_*) for
    signatures, BLAKE2b-256 (crypto_generichash) for event ids.

    Text forms (the only ones printed or accepted anywhere):
        public key   ed25519:<base64url, no padding, 43 chars>
        event id     blake2b:<base64url, no padding, 43 chars>
*/
#ifndef LD_CRYPTO_H_INCLUDED
#define LD_CRYPTO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_status.h"

#define LD_KEY_BYTES      32 //  Ed25519 public key
#define LD_SEED_BYTES     32 //  Ed25519 secret seed
#define LD_SECRET_BYTES   64 //  Ed25519 expanded secret key (seed || public)
#define LD_SIG_BYTES      64 //  Ed25519 signature
#define LD_ID_BYTES       32 //  BLAKE2b-256 event id
#define LD_KEY_PREFIX     "ed25519:"
#define LD_ID_PREFIX      "blake2b:"
#define LD_B64_32_CHARS   43                        //  base64url of 32 bytes, unpadded
#define LD_KEY_TEXT_BYTES (8 + LD_B64_32_CHARS + 1) //  including NUL
#define LD_ID_TEXT_BYTES  (8 + LD_B64_32_CHARS + 1) //  including NUL

//  Initialises libsodium; safe to call more than once. Returns 0, or -1 if
//  libsodium cannot start (no entropy source).
int ld_crypto_init (void);

//  Event id: BLAKE2b-256 of the signed body bytes.
void ld_hash_id (const uint8_t *data, size_t size, uint8_t id[LD_ID_BYTES]);

//  True only if sig is a valid Ed25519 signature of data by key.
bool ld_verify (const uint8_t key[LD_KEY_BYTES], const uint8_t *data, size_t size,
                const uint8_t sig[LD_SIG_BYTES]) __attribute__ ((warn_unused_result));

//  Writes the text form of a key / id, NUL-terminated, into out.
void ld_key_to_text (const uint8_t key[LD_KEY_BYTES], char out[LD_KEY_TEXT_BYTES]);
void ld_id_to_text (const uint8_t id[LD_ID_BYTES], char out[LD_ID_TEXT_BYTES]);

//  Parses the text form of a key / id. Leading and trailing ASCII whitespace
//  is ignored. Returns LD_OK or LD_ERR_BAD_FORMAT.
ld_status_t ld_key_from_text (const char *text, uint8_t key[LD_KEY_BYTES]);
ld_status_t ld_id_from_text (const char *text, uint8_t id[LD_ID_BYTES]);

//  True if text[0..len) holds only base64url characters (A-Z a-z 0-9 - _).
//  libsodium 1.0.18 accepts any byte >= 0x80 as a digit; every decoder of
//  ours checks the alphabet with this first.
bool ld_base64url_valid (const char *text, size_t len);

//  Standard base64 (with padding) as the proto3 JSON mapping prints bytes.
//  Returns a heap string the caller frees, or NULL on allocation failure.
char *ld_base64_encode (const uint8_t *data, size_t size);

#endif
