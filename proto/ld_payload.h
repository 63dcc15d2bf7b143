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

#endif
