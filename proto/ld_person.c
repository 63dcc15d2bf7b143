/*  ld_person.c -- erasable personal details. See ld_person.h.

    Why the commitment is over the serialized bytes and not the fields:
    protobuf encoding is not canonical, so the node commits to exactly the
    bytes it seals, and opening checks the bytes it got back. The node never
    re-encodes a Person.
*/
#include "ld_person.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ld_codec.h"
#include "ld_pbjson.h"
#include "liandong.pb-c.h"

_Static_assert(LD_PERSON_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(LD_PERSON_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(LD_PERSON_MAC_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(LD_COMMITMENT_BYTES == LD_ID_BYTES, "a commitment prints like an id");

//  Person's fields are tighter than the codec's defaults; the whole is
//  checked against LD_PERSON_MAX before anything else.
static const ld_codec_limit_t s_limits[] = {
    {"liandong.Person", "name", LD_NAME_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Person", "phone", LD_PERSON_PHONE_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Person", "unit", LD_NAME_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Person", "note", LD_PERSON_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.SealedPerson", "commitment", LD_COMMITMENT_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.SealedPerson", "nonce", LD_PERSON_NONCE_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.SealedPerson", "sealed", LD_STRING_MAX, LD_ERR_STRING_TOO_LONG, 0},
};

#define S_LIMIT_COUNT (sizeof s_limits / sizeof s_limits[0])

ld_person_secret_t *
ld_person_secret_new (void)
{
    ld_person_secret_t *self = sodium_malloc (sizeof *self);
    if (!self)
        return NULL;
    randombytes_buf (self->key, sizeof self->key);
    randombytes_buf (self->salt, sizeof self->salt);
    return self;
}

void
ld_person_secret_destroy (ld_person_secret_t **self_p)
{
    if (self_p && *self_p) {
        sodium_free (*self_p); //  wipes before it frees
        *self_p = NULL;
    }
}

//  Copies an optional string field of a decoded Person ("" if absent).
static void
s_copy (char *out, size_t size, const char *value)
{
    snprintf (out, size, "%s", value ? value : "");
}

ld_status_t
ld_person_decode (const uint8_t *data, size_t size, ld_person_t *person, char *err, size_t err_size)
{
    memset (person, 0, sizeof *person);
    if (size > LD_PERSON_MAX)
        return ld_fail (err, err_size, LD_ERR_STRING_TOO_LONG,
                        "person details of %zu bytes, more than %d", size, LD_PERSON_MAX);
    ProtobufCMessage *message = NULL;
    ld_status_t rc = ld_codec_unpack_limited (&liandong__person__descriptor, data, size, s_limits,
                                              S_LIMIT_COUNT, &message, err, err_size);
    if (rc != LD_OK)
        return rc;
    Liandong__Person *decoded = (Liandong__Person *) message;
    if (!decoded->name || !*decoded->name)
        rc = ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD, "a person needs a name");
    else {
        s_copy (person->name, sizeof person->name, decoded->name);
        s_copy (person->phone, sizeof person->phone, decoded->phone);
        s_copy (person->unit, sizeof person->unit, decoded->unit);
        s_copy (person->note, sizeof person->note, decoded->note);
    }
    protobuf_c_message_free_unpacked (message, NULL);
    return rc;
}

ld_status_t
ld_person_pack (const ld_person_t *person, uint8_t **data_p, size_t *size_p, char *err,
                size_t err_size)
{
    *data_p = NULL;
    *size_p = 0;
    Liandong__Person message = LIANDONG__PERSON__INIT;
    message.name = (char *) person->name;
    message.phone = *person->phone ? (char *) person->phone : NULL;
    message.unit = *person->unit ? (char *) person->unit : NULL;
    message.note = *person->note ? (char *) person->note : NULL;
    //  Strings of the struct are NUL-terminated within their arrays, so the
    //  packed size is bounded; the decode below checks every field's limit
    //  and UTF-8 exactly as a receiver will.
    size_t size = protobuf_c_message_get_packed_size (&message.base);
    if (size > LD_PERSON_MAX)
        return ld_fail (err, err_size, LD_ERR_STRING_TOO_LONG,
                        "person details of %zu bytes, more than %d", size, LD_PERSON_MAX);
    uint8_t *data = malloc (size ? size : 1);
    if (!data)
        return LD_ERR_NOMEM;
    protobuf_c_message_pack (&message.base, data);
    ld_person_t *check = malloc (sizeof *check);
    ld_status_t rc = check ? ld_person_decode (data, size, check, err, err_size) : LD_ERR_NOMEM;
    if (check) {
        sodium_memzero (check, sizeof *check);
        free (check);
    }
    if (rc != LD_OK) {
        sodium_memzero (data, size);
        free (data);
        return rc;
    }
    *data_p = data;
    *size_p = size;
    return LD_OK;
}

//  commitment = BLAKE2b-256 (salt || person)
static void
s_commit (const uint8_t *person, size_t size, const uint8_t salt[LD_PERSON_SALT_BYTES],
          uint8_t commitment[LD_COMMITMENT_BYTES])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, LD_COMMITMENT_BYTES);
    crypto_generichash_update (&state, salt, LD_PERSON_SALT_BYTES);
    crypto_generichash_update (&state, person, size);
    crypto_generichash_final (&state, commitment, LD_COMMITMENT_BYTES);
    sodium_memzero (&state, sizeof state);
}

ld_status_t
ld_person_seal (const uint8_t *person, size_t size, const ld_person_secret_t *secret,
                uint8_t commitment[LD_COMMITMENT_BYTES], uint8_t **sealed_p, size_t *sealed_size_p,
                char *err, size_t err_size)
{
    *sealed_p = NULL;
    *sealed_size_p = 0;
    ld_person_t *check = malloc (sizeof *check);
    if (!check)
        return LD_ERR_NOMEM;
    ld_status_t rc = ld_person_decode (person, size, check, err, err_size);
    sodium_memzero (check, sizeof *check);
    free (check);
    if (rc != LD_OK)
        return rc;
    s_commit (person, size, secret->salt, commitment);
    uint8_t nonce[LD_PERSON_NONCE_BYTES];
    randombytes_buf (nonce, sizeof nonce);
    uint8_t cipher[LD_STRING_MAX];
    unsigned long long cipher_size = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt (cipher, &cipher_size, person, size, commitment,
                                                LD_COMMITMENT_BYTES, NULL, nonce, secret->key);
    Liandong__SealedPerson message = LIANDONG__SEALED_PERSON__INIT;
    message.commitment.data = commitment;
    message.commitment.len = LD_COMMITMENT_BYTES;
    message.nonce.data = nonce;
    message.nonce.len = sizeof nonce;
    message.sealed.data = cipher;
    message.sealed.len = (size_t) cipher_size;
    size_t packed = protobuf_c_message_get_packed_size (&message.base);
    uint8_t *data = malloc (packed);
    if (!data)
        return LD_ERR_NOMEM;
    protobuf_c_message_pack (&message.base, data);
    *sealed_p = data;
    *sealed_size_p = packed;
    return LD_OK;
}

ld_status_t
ld_sealed_person_decode (const uint8_t *data, size_t size, ld_sealed_person_t *sealed, char *err,
                         size_t err_size)
{
    memset (sealed, 0, sizeof *sealed);
    if (size > LD_SEALED_PERSON_MAX)
        return ld_fail (err, err_size, LD_ERR_TOO_BIG, "sealed person of %zu bytes, more than %d",
                        size, LD_SEALED_PERSON_MAX);
    ProtobufCMessage *message = NULL;
    ld_status_t rc = ld_codec_unpack_limited (&liandong__sealed_person__descriptor, data, size,
                                              s_limits, S_LIMIT_COUNT, &message, err, err_size);
    if (rc != LD_OK)
        return rc;
    Liandong__SealedPerson *decoded = (Liandong__SealedPerson *) message;
    //  The codec bounds lengths from above; exact sizes are ours to check.
    if (decoded->commitment.len != LD_COMMITMENT_BYTES)
        rc = ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD, "commitment of %zu bytes, not %d",
                      decoded->commitment.len, LD_COMMITMENT_BYTES);
    else if (decoded->nonce.len != LD_PERSON_NONCE_BYTES)
        rc = ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD, "nonce of %zu bytes, not %d",
                      decoded->nonce.len, LD_PERSON_NONCE_BYTES);
    else if (decoded->sealed.len < LD_PERSON_MAC_BYTES)
        rc = ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD, "sealed details of %zu bytes",
                      decoded->sealed.len);
    else {
        memcpy (sealed->commitment, decoded->commitment.data, LD_COMMITMENT_BYTES);
        memcpy (sealed->nonce, decoded->nonce.data, LD_PERSON_NONCE_BYTES);
        memcpy (sealed->sealed, decoded->sealed.data, decoded->sealed.len);
        sealed->sealed_size = decoded->sealed.len;
    }
    protobuf_c_message_free_unpacked (message, NULL);
    return rc;
}

ld_status_t
ld_person_open (const ld_sealed_person_t *sealed, const ld_person_secret_t *secret,
                uint8_t person[LD_PERSON_MAX], size_t *size_p, char *err, size_t err_size)
{
    *size_p = 0;
    if (sealed->sealed_size < LD_PERSON_MAC_BYTES
        || sealed->sealed_size - LD_PERSON_MAC_BYTES > LD_PERSON_MAX)
        return ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD, "sealed details of %zu bytes",
                        sealed->sealed_size);
    unsigned long long size = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt (person, &size, NULL, sealed->sealed,
                                                    sealed->sealed_size, sealed->commitment,
                                                    LD_COMMITMENT_BYTES, sealed->nonce, secret->key)
        != 0)
        return ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD,
                        "the sealed details do not open under this person's key");
    uint8_t commitment[LD_COMMITMENT_BYTES];
    s_commit (person, (size_t) size, secret->salt, commitment);
    if (sodium_memcmp (commitment, sealed->commitment, LD_COMMITMENT_BYTES) != 0) {
        sodium_memzero (person, (size_t) size);
        return ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD,
                        "the opened details do not match the commitment");
    }
    *size_p = (size_t) size;
    return LD_OK;
}

json_t *
ld_sealed_person_to_json (const uint8_t *data, size_t size)
{
    ProtobufCMessage *message = NULL;
    char err[128];
    if (size > LD_SEALED_PERSON_MAX
        || ld_codec_unpack_limited (&liandong__sealed_person__descriptor, data, size, s_limits,
                                    S_LIMIT_COUNT, &message, err, sizeof err)
               != LD_OK)
        return NULL;
    json_t *json = ld_pbjson_from_message (message);
    protobuf_c_message_free_unpacked (message, NULL);
    return json;
}
