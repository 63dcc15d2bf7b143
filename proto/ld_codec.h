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

//  A limit for one field that differs from the defaults (LD_STRING_MAX
//  bytes, LD_REPEATED_MAX elements). Zero members mean "the default".
typedef struct {
    const char *message; //  full name, e.g. "liandong.sync.Publish"
    const char *field;   //  name as in the .proto
    size_t max_bytes;    //  string or bytes field; SIZE_MAX: only the frame bounds it
    ld_status_t status;  //  given when max_bytes is passed (0: LD_ERR_STRING_TOO_LONG)
    size_t max_count;    //  repeated field
} ld_codec_limit_t;

//  As ld_codec_unpack, with extra per-field limits that take precedence
//  over the built-in ones (the event schema's). limits may be NULL.
ld_status_t ld_codec_unpack_limited (const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                     size_t size, const ld_codec_limit_t *limits,
                                     size_t limit_count, ProtobufCMessage **message_p, char *err,
                                     size_t err_size);

//  Scans data as a message of desc. LD_OK or the first violation found.
ld_status_t ld_codec_check (const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                            size_t size, char *err, size_t err_size);

//  ld_codec_check, then protobuf_c_message_unpack. *message_p is owned by
//  the caller (protobuf_c_message_free_unpacked).
ld_status_t ld_codec_unpack (const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                             size_t size, ProtobufCMessage **message_p, char *err, size_t err_size);

#endif
