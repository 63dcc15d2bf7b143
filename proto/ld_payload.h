/*  ld_payload.h -- the catalogue of payload types this build understands.

    A payload is a protobuf message serialized into Body.payload; Body.type
    names its schema. Only proto/ includes the generated protobuf-c headers;
    everything else reaches payloads through the generic descriptors below
    (ld_pbjson.h turns them into JSON and back).
*/
#ifndef LD_PAYLOAD_H_INCLUDED
#define LD_PAYLOAD_H_INCLUDED

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"
#include "ld_limits.h"
#include "ld_status.h"

//  Descriptor of the payload message for an event type, or NULL if this
//  build does not know the type (which is not an error: see liandong.proto).
const ProtobufCMessageDescriptor *ld_payload_descriptor (const char *type);

//  Iterates the known types: returns the i-th type name, NULL past the end.
const char *ld_payload_type_at (size_t index);

//  Checks limits and UTF-8 on payload bytes and unpacks them as the type's
//  message. On success *message_p is owned by the caller (free it with
//  protobuf_c_message_free_unpacked (m, NULL)). Errors: codec statuses, and
//  LD_ERR_BAD_PAYLOAD if the type is unknown or the bytes do not unpack.
ld_status_t ld_payload_unpack (const char *type, const uint8_t *data, size_t size,
                               ProtobufCMessage **message_p, char *err, size_t err_size);

//  Serializes a message; *data_p is malloc'ed and owned by the caller.
ld_status_t ld_payload_pack (const ProtobufCMessage *message, uint8_t **data_p, size_t *size_p);

//  Builds a "note" payload. *data_p is malloc'ed and owned by the caller.
ld_status_t ld_payload_note (const char *text, uint8_t **data_p, size_t *size_p);

//  One author's stored seqs in a receipt.
typedef struct {
    const uint8_t *author; //  LD_KEY_BYTES
    uint64_t first_seq;
    uint64_t last_seq;
} ld_receipt_range_t;

//  Builds a "receipt" payload (see liandong.proto). *data_p is malloc'ed
//  and owned by the caller. LD_ERR_TOO_MANY past LD_RECEIPT_RANGES_MAX.
ld_status_t ld_payload_receipt (int64_t stored_ms, uint64_t first_store_seq,
                                uint64_t last_store_seq, const ld_receipt_range_t *ranges,
                                size_t range_count, const uint8_t ids_digest[LD_ID_BYTES],
                                uint8_t **data_p, size_t *size_p);

//  ---- trust payloads (liandong.proto; the rules are in trust/) ----

#define LD_TYPE_CERTIFY "trust.certify"
#define LD_TYPE_REVOKE  "trust.revoke"
#define LD_TYPE_ROTATE  "trust.rotate"
#define LD_TYPE_TRUST   "trust." //  prefix every trust type shares

//  A decoded "trust.certify". Strings are NUL-terminated; the level is only
//  checked for its syntax here (1-LD_LEVEL_NAME_MAX of [a-z]), its meaning
//  is trust/'s.
typedef struct {
    uint8_t subject[LD_KEY_BYTES];
    char level[LD_LEVEL_NAME_MAX + 1];
    char path[LD_TOPIC_MAX + 1]; //  slug segments each ending '/', as a topic
    char name[LD_NAME_MAX + 1];  //  non-empty UTF-8
} ld_certify_t;

//  A decoded "trust.revoke".
typedef struct {
    uint8_t subject[LD_KEY_BYTES];
    uint64_t after_seq;
} ld_revoke_t;

//  A decoded "trust.rotate".
typedef struct {
    uint8_t successor[LD_KEY_BYTES];
} ld_rotate_t;

//  Builds a "trust.certify" payload; *data_p is malloc'ed and owned by the
//  caller. Refuses what a receiver would refuse: LD_ERR_BAD_FORMAT (level
//  not 1-LD_LEVEL_NAME_MAX of [a-z]), LD_ERR_BAD_TOPIC or
//  LD_ERR_TOPIC_TOO_LONG (path), LD_ERR_BAD_PAYLOAD (empty name),
//  LD_ERR_STRING_TOO_LONG (name past LD_NAME_MAX), LD_ERR_BAD_UTF8, and
//  LD_ERR_NOMEM.
ld_status_t ld_payload_certify (const uint8_t subject[LD_KEY_BYTES], const char *level,
                                const char *path, const char *name, uint8_t **data_p,
                                size_t *size_p);

//  Builds a "trust.revoke" payload; *data_p is owned by the caller.
ld_status_t ld_payload_revoke (const uint8_t subject[LD_KEY_BYTES], uint64_t after_seq,
                               uint8_t **data_p, size_t *size_p);

//  Builds a "trust.rotate" payload; *data_p is owned by the caller.
ld_status_t ld_payload_rotate (const uint8_t successor[LD_KEY_BYTES], uint8_t **data_p,
                               size_t *size_p);

//  Decode trust payloads from an event's payload bytes into the caller's
//  struct (no allocation survives the call). Errors: the codec statuses,
//  LD_ERR_BAD_KEY (a key that is not 32 bytes), and the builder's checks
//  above; err names the field.
ld_status_t ld_payload_certify_decode (const uint8_t *data, size_t size, ld_certify_t *certify,
                                       char *err, size_t err_size);
ld_status_t ld_payload_revoke_decode (const uint8_t *data, size_t size, ld_revoke_t *revoke,
                                      char *err, size_t err_size);
ld_status_t ld_payload_rotate_decode (const uint8_t *data, size_t size, ld_rotate_t *rotate,
                                      char *err, size_t err_size);

#endif
