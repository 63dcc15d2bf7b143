/*  ld_codec.h -- bounded checking of protobuf wire bytes (private to proto/).

    protobuf-c allocates as the input dictates and has no limits of its own,
    so every message from a stranger is first scanned here against its
    descriptor: well-formed varints and lengths, no groups, every string and
    bytes field within its limit, every string valid UTF-8, every repeated
    field within LD_REPEATED_MAX, nesting within LD_DEPTH_MAX, every required
    field present. Only bytes that pass are handed to protobuf-c to unpack.
    Unknown fields are skipped (bounded by the enclosing length): newer
    writers may add fields.
*/
#ifndef LD_CODEC_H_INCLUDED
#define LD_CODEC_H_INCLUDED

#include <protobuf-c/protobuf-c.h>

#include "ld_status.h"

//  Scans data as a message of desc. LD_OK or the first violation found.
ld_status_t
    ld_codec_check (const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t size,
                    char *err, size_t err_size);

//  ld_codec_check, then protobuf_c_message_unpack. *message_p is owned by
//  the caller (protobuf_c_message_free_unpacked).
ld_status_t
    ld_codec_unpack (const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t size,
                     ProtobufCMessage **message_p, char *err, size_t err_size);

#endif
