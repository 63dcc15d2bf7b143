/*  ld_person.h -- erasable personal details (DESIGN.md section 3):
    liandong.proto's Person and SealedPerson.

    A signed body never holds a person's details in clear. It holds a
    SealedPerson:
        commitment  BLAKE2b-256 (salt || person), where person is the
                    serialized Person and salt is LD_PERSON_SALT_BYTES of
                    randomness;
        nonce       LD_PERSON_NONCE_BYTES, random per sealing;
        sealed      XChaCha20-Poly1305-IETF (person), under a per-person
                    key, with the commitment as associated data (so a
                    sealed blob cannot be passed off under another
                    commitment).
    The key and the salt (an ld_person_secret_t) are held by the community's
    node and by no one else. Destroying them erases the person: the sealed
    bytes no longer open, and without the salt the commitment cannot be
    tested against guesses (a phone number has few enough values to try
    them all against an unsalted hash). Signatures over the body still
    verify, because the body itself never changes.

    Everything decoded here goes through the bounded codec first; nothing
    from the wire can abort.
*/
#ifndef LD_PERSON_H_INCLUDED
#define LD_PERSON_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"
#include "ld_limits.h"
#include "ld_status.h"

#define LD_PERSON_KEY_BYTES   32 //  crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define LD_PERSON_SALT_BYTES  32 //  of the commitment
#define LD_PERSON_NONCE_BYTES 24 //  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define LD_PERSON_MAC_BYTES   16 //  crypto_aead_xchacha20poly1305_ietf_ABYTES
#define LD_COMMITMENT_BYTES   32 //  BLAKE2b-256, printed like an id ("blake2b:...")
//  A serialized Person: its sealed form must fit SealedPerson.sealed,
//  which the event codec bounds at LD_STRING_MAX.
#define LD_PERSON_MAX       (LD_STRING_MAX - LD_PERSON_MAC_BYTES)
#define LD_PERSON_PHONE_MAX 64 //  bytes of Person.phone
//  A serialized SealedPerson: the three fields and their tags.
#define LD_SEALED_PERSON_MAX (LD_STRING_MAX + LD_PERSON_NONCE_BYTES + LD_COMMITMENT_BYTES + 16)

//  A person's details, decoded. Strings are NUL-terminated UTF-8; an absent
//  optional field is "".
typedef struct {
    char name[LD_NAME_MAX + 1];
    char phone[LD_PERSON_PHONE_MAX + 1];
    char unit[LD_NAME_MAX + 1];
    char note[LD_PERSON_MAX + 1];
} ld_person_t;

//  A SealedPerson, decoded (fixed buffers: nothing to free).
typedef struct {
    uint8_t commitment[LD_COMMITMENT_BYTES];
    uint8_t nonce[LD_PERSON_NONCE_BYTES];
    uint8_t sealed[LD_STRING_MAX];
    size_t sealed_size;
} ld_sealed_person_t;

//  The per-person secret. Lives only in libsodium guarded memory.
typedef struct {
    uint8_t key[LD_PERSON_KEY_BYTES];
    uint8_t salt[LD_PERSON_SALT_BYTES];
} ld_person_secret_t;

//  A new secret with a random key and salt, in sodium_malloc memory; NULL
//  if that memory cannot be had.
ld_person_secret_t *ld_person_secret_new (void);

//  Wipes and frees the secret (sodium_free); NULL-safe; sets *self_p NULL.
void ld_person_secret_destroy (ld_person_secret_t **self_p);

//  Serializes a person's details. *data_p is malloc'ed and the caller's
//  (it holds personal data: wipe it before freeing). Errors:
//  LD_ERR_BAD_PAYLOAD (empty name), LD_ERR_STRING_TOO_LONG (a field past
//  its limit, or the whole past LD_PERSON_MAX), LD_ERR_BAD_UTF8,
//  LD_ERR_NOMEM; err names the field.
ld_status_t ld_person_pack (const ld_person_t *person, uint8_t **data_p, size_t *size_p, char *err,
                            size_t err_size);

//  Decodes a serialized Person into *person, refusing what ld_person_pack
//  refuses and anything the bounded codec refuses.
ld_status_t ld_person_decode (const uint8_t *data, size_t size, ld_person_t *person, char *err,
                              size_t err_size);

//  Seals person (a serialized Person, checked with ld_person_decode) under
//  secret with a fresh random nonce. Writes the commitment, and the
//  serialized SealedPerson into *sealed_p (malloc'ed, the caller's).
//  Errors: ld_person_decode's, LD_ERR_NOMEM.
ld_status_t ld_person_seal (const uint8_t *person, size_t size, const ld_person_secret_t *secret,
                            uint8_t commitment[LD_COMMITMENT_BYTES], uint8_t **sealed_p,
                            size_t *sealed_size_p, char *err, size_t err_size);

//  Decodes a serialized SealedPerson (bounded; commitment and nonce of
//  their exact sizes). Errors: the codec's statuses, LD_ERR_BAD_PAYLOAD.
ld_status_t ld_sealed_person_decode (const uint8_t *data, size_t size, ld_sealed_person_t *sealed,
                                     char *err, size_t err_size);

//  Opens a sealed person with its secret into person[0..*size_p), a buffer
//  of the caller's (LD_PERSON_MAX bytes; wipe it after use). The result is
//  checked against the commitment. Errors: LD_ERR_BAD_PAYLOAD (does not
//  open under this secret: another person's key, or altered bytes; or does
//  not match the commitment).
ld_status_t ld_person_open (const ld_sealed_person_t *sealed, const ld_person_secret_t *secret,
                            uint8_t person[LD_PERSON_MAX], size_t *size_p, char *err,
                            size_t err_size);

//  A serialized SealedPerson in the proto3 JSON mapping (bytes as base64),
//  the form a Checkin's "member" takes in `liandong publish --json`. A new
//  reference (json_decref), or NULL if the bytes do not decode or memory
//  ran out.
json_t *ld_sealed_person_to_json (const uint8_t *data, size_t size);

#endif
