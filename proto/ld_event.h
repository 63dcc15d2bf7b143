/*  ld_event.h -- one signed event: the envelope bytes and their decoded body.

    An event is immutable once built. It owns a copy of the envelope bytes it
    was decoded from; every pointer an accessor returns is borrowed and valid
    until ld_event_destroy.

    Decoding never trusts its input: the size, every length and count, UTF-8,
    the topic and type charset, the key and seq rules are all checked, and
    each failure has its own status code (ld_status.h) plus a message in the
    caller's err buffer. Decoding does not verify the signature;
    ld_event_verify does, on the exact body bytes received.
*/
#ifndef LD_EVENT_H_INCLUDED
#define LD_EVENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"
#include "ld_identity.h"
#include "ld_limits.h"
#include "ld_status.h"

typedef struct _ld_event_t ld_event_t;

//  Decodes an envelope. envelope_max is the size limit (0 means
//  LD_ENVELOPE_MAX_DEFAULT). On success *event_p is a new event the caller
//  owns. Errors: any codec status of ld_status.h; err names the field.
ld_status_t ld_event_decode (const uint8_t *data, size_t size, size_t envelope_max,
                             ld_event_t **event_p, char *err, size_t err_size);

//  LD_OK if the signature verifies over the body bytes, else
//  LD_ERR_BAD_SIGNATURE.
ld_status_t ld_event_verify (const ld_event_t *self) __attribute__ ((warn_unused_result));

//  Builds, signs and returns a new event through *event_p. prev must be
//  NULL exactly when seq is 1. The result passes ld_event_decode's checks
//  or is refused with the same status a receiver would give.
ld_status_t ld_event_sign (ld_identity_t *identity, uint64_t seq, const uint8_t prev[LD_ID_BYTES],
                           int64_t time_ms, const char *topic, const char *type,
                           const uint8_t *payload, size_t payload_size, ld_event_t **event_p,
                           char *err, size_t err_size);

//  Destroys an event; NULL-safe; sets *self_p to NULL.
void ld_event_destroy (ld_event_t **self_p);

//  A new event with the same bytes (cheap enough: one decode).
ld_event_t *ld_event_dup (const ld_event_t *self);

//  Accessors. Arrays are LD_*_BYTES long; strings are NUL-terminated.
const uint8_t *ld_event_id (const ld_event_t *self);
const uint8_t *ld_event_author (const ld_event_t *self);
uint64_t ld_event_seq (const ld_event_t *self);
const uint8_t *ld_event_prev (const ld_event_t *self); //  NULL at seq 1
int64_t ld_event_time_ms (const ld_event_t *self);
const char *ld_event_topic (const ld_event_t *self);
const char *ld_event_type (const ld_event_t *self);
const uint8_t *ld_event_signature (const ld_event_t *self);
const uint8_t *ld_event_payload (const ld_event_t *self, size_t *size);
const uint8_t *ld_event_envelope (const ld_event_t *self, size_t *size);
const uint8_t *ld_event_body (const ld_event_t *self, size_t *size);

//  True if the event type is one this build decodes (see ld_payload.h).
bool ld_event_type_known (const ld_event_t *self);

//  Topic and type syntax checks, shared with the CLI so that users are told
//  before anything is signed. Return LD_OK, LD_ERR_BAD_TOPIC,
//  LD_ERR_TOPIC_TOO_LONG or LD_ERR_BAD_TYPE.
ld_status_t ld_topic_check (const char *topic, size_t size);
ld_status_t ld_type_check (const char *type, size_t size);

#endif
