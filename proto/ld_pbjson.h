/*  ld_pbjson.h -- protobuf messages as JSON, generically, from protobuf-c's
    descriptors (no hand-written mapper per type), using jansson.

    The mapping is the canonical proto3 JSON mapping, as protoc and other
    protobuf tools print it: lowerCamelCase field names; 64-bit integers as
    decimal strings; bytes as standard base64 with padding; enums by name;
    absent optional fields omitted; repeated fields as arrays. One deliberate
    exception, so that keys and ids read the same everywhere: a 32-byte
    bytes field that holds a public key (named `author`, `subject`, `key` or
    ending in `_key`) prints in the key text form "ed25519:...", and one that
    holds an event id (named `prev`, `id`, or ending in `_id` or `_ref`)
    prints as "blake2b:..." (see ld_crypto.h). Parsing accepts the same forms.
*/
#ifndef LD_PBJSON_H_INCLUDED
#define LD_PBJSON_H_INCLUDED

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "ld_event.h"
#include "ld_status.h"

//  The JSON object for a message; a new reference the caller owns
//  (json_decref), or NULL on allocation failure.
json_t *ld_pbjson_from_message (const ProtobufCMessage *message);

//  Builds a message of desc from a JSON object (the same mapping, field
//  names in lowerCamelCase or as in the .proto). Unknown names, wrong JSON
//  types and out-of-range numbers are errors (LD_ERR_BAD_FORMAT, err names
//  the field). *message_p is owned by the caller: free it with
//  ld_pbjson_message_free.
ld_status_t ld_pbjson_to_message (const ProtobufCMessageDescriptor *desc, const json_t *json,
                                  ProtobufCMessage **message_p, char *err, size_t err_size);

//  Frees a message built by ld_pbjson_to_message; NULL-safe.
void ld_pbjson_message_free (ProtobufCMessage *message);

//  An event as JSON:
//      {"id": "blake2b:...", "signature": "<base64>",
//       "body": {"author": "ed25519:...", "seq": "1", "prev": "blake2b:...",
//                "timeMs": "...", "topic": "...", "type": "note",
//                "payload": {...}}}
//  The payload is the decoded message when the type is known, else its
//  base64 bytes, as the canonical mapping prints a bytes field. A new
//  reference, or NULL on allocation failure.
json_t *ld_event_to_json (const ld_event_t *event);

#endif
