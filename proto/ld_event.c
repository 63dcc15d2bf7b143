/*  ld_event.c -- decoding, verifying and signing events. See ld_event.h.

    Decode order, cheapest refusal first:
      1. size against the envelope limit (before anything is allocated);
      2. Envelope wire scan + unpack, signature length;
      3. Body wire scan + unpack (limits, UTF-8, required fields);
      4. semantic rules: key length, seq >= 1, prev present iff seq > 1,
         topic and type syntax;
      5. the payload, if the type is known: same scan, then unpack.
    The id is BLAKE2b-256 of the body bytes exactly as received.
*/
#include "ld_event.h"

#include <stdlib.h>
#include <string.h>

#include "ld_codec.h"
#include "ld_payload.h"
#include "liandong.pb-c.h"

struct _ld_event_t {
    uint8_t *envelope; //  exact bytes received or produced
    size_t envelope_size;
    Liandong__Envelope *env; //  env->body.data: the signed bytes
    Liandong__Body *body;
    uint8_t id[LD_ID_BYTES];
    bool type_known;
};

static bool
s_is_slug_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

ld_status_t
ld_topic_check (const char *topic, size_t size)
{
    if (size > LD_TOPIC_MAX)
        return LD_ERR_TOPIC_TOO_LONG;
    if (size == 0 || topic[size - 1] != '/')
        return LD_ERR_BAD_TOPIC;
    size_t segment = 0;
    for (size_t i = 0; i < size; i++) {
        if (topic[i] == '/') {
            if (segment == 0)
                return LD_ERR_BAD_TOPIC; //  empty segment, e.g. "a//"
            segment = 0;
        }
        else if (!s_is_slug_char (topic[i]) || ++segment > LD_TOPIC_SEGMENT_MAX)
            return LD_ERR_BAD_TOPIC;
    }
    return LD_OK;
}

ld_status_t
ld_type_check (const char *type, size_t size)
{
    if (size == 0 || size > LD_TYPE_MAX)
        return LD_ERR_BAD_TYPE;
    for (size_t i = 0; i < size; i++)
        if (!s_is_slug_char (type[i]))
            return LD_ERR_BAD_TYPE;
    return LD_OK;
}

void
ld_event_destroy (ld_event_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_event_t *self = *self_p;
    if (self->body)
        liandong__body__free_unpacked (self->body, NULL);
    if (self->env)
        liandong__envelope__free_unpacked (self->env, NULL);
    free (self->envelope);
    free (self);
    *self_p = NULL;
}

static ld_status_t
s_check_body (const Liandong__Body *body, char *err, size_t err_size)
{
    if (body->author.len != LD_KEY_BYTES)
        return ld_fail (err, err_size, LD_ERR_BAD_KEY, "author is %zu bytes", body->author.len);
    if (body->seq == 0)
        return ld_fail (err, err_size, LD_ERR_BAD_SEQ, "seq is 0");
    if (body->seq == 1 && body->has_prev)
        return ld_fail (err, err_size, LD_ERR_BAD_PREV, "prev given at seq 1");
    if (body->seq > 1 && (!body->has_prev || body->prev.len != LD_ID_BYTES))
        return ld_fail (err, err_size, LD_ERR_BAD_PREV, "seq %llu needs a 32-byte prev",
                        (unsigned long long) body->seq);
    ld_status_t rc = ld_topic_check (body->topic, strlen (body->topic));
    if (rc != LD_OK)
        return ld_fail (err, err_size, rc, "'%s'", body->topic);
    rc = ld_type_check (body->type, strlen (body->type));
    if (rc != LD_OK)
        return ld_fail (err, err_size, rc, "'%s'", body->type);
    return LD_OK;
}

ld_status_t
ld_event_decode (const uint8_t *data, size_t size, size_t envelope_max, ld_event_t **event_p,
                 char *err, size_t err_size)
{
    *event_p = NULL;
    if (envelope_max == 0)
        envelope_max = LD_ENVELOPE_MAX_DEFAULT;
    if (size > envelope_max)
        return ld_fail (err, err_size, LD_ERR_TOO_BIG, "%zu bytes (limit %zu)", size, envelope_max);
    ld_event_t *self = calloc (1, sizeof *self);
    if (!self)
        return LD_ERR_NOMEM;
    ld_status_t rc;
    ProtobufCMessage *message = NULL;
    rc = ld_codec_unpack (&liandong__envelope__descriptor, data, size, &message, err, err_size);
    if (rc != LD_OK)
        goto failed;
    self->env = (Liandong__Envelope *) message;
    //  The envelope is not signed: anything beside body and signature would
    //  let two byte strings carry the same event. Only the body may grow.
    if (self->env->base.n_unknown_fields != 0) {
        rc = ld_fail (err, err_size, LD_ERR_MALFORMED, "unknown field in the envelope");
        goto failed;
    }
    if (self->env->signature.len != LD_SIG_BYTES) {
        rc = ld_fail (err, err_size, LD_ERR_BAD_SIGNATURE, "signature is %zu bytes",
                      self->env->signature.len);
        goto failed;
    }
    rc = ld_codec_unpack (&liandong__body__descriptor, self->env->body.data, self->env->body.len,
                          &message, err, err_size);
    if (rc != LD_OK)
        goto failed;
    self->body = (Liandong__Body *) message;
    rc = s_check_body (self->body, err, err_size);
    if (rc != LD_OK)
        goto failed;
    const ProtobufCMessageDescriptor *payload_desc = ld_payload_descriptor (self->body->type);
    if (payload_desc) {
        self->type_known = true;
        rc = ld_codec_unpack (payload_desc, self->body->payload.data, self->body->payload.len,
                              &message, err, err_size);
        if (rc != LD_OK)
            goto failed;
        protobuf_c_message_free_unpacked (message, NULL);
    }
    self->envelope = malloc (size ? size : 1);
    if (!self->envelope) {
        rc = LD_ERR_NOMEM;
        goto failed;
    }
    memcpy (self->envelope, data, size);
    self->envelope_size = size;
    ld_hash_id (self->env->body.data, self->env->body.len, self->id);
    *event_p = self;
    return LD_OK;
failed:
    ld_event_destroy (&self);
    return rc;
}

ld_status_t
ld_event_verify (const ld_event_t *self)
{
    return ld_verify (self->body->author.data, self->env->body.data, self->env->body.len,
                      self->env->signature.data)
               ? LD_OK
               : LD_ERR_BAD_SIGNATURE;
}

ld_status_t
ld_event_sign (ld_identity_t *identity, uint64_t seq, const uint8_t prev[LD_ID_BYTES],
               int64_t time_ms, const char *topic, const char *type, const uint8_t *payload,
               size_t payload_size, ld_event_t **event_p, char *err, size_t err_size)
{
    *event_p = NULL;
    Liandong__Body body = LIANDONG__BODY__INIT;
    body.author.data = (uint8_t *) ld_identity_public_key (identity);
    body.author.len = LD_KEY_BYTES;
    body.seq = seq;
    if (prev) {
        body.has_prev = 1;
        body.prev.data = (uint8_t *) prev;
        body.prev.len = LD_ID_BYTES;
    }
    body.time_ms = time_ms;
    body.topic = (char *) topic;
    body.type = (char *) type;
    if (payload) {
        body.has_payload = 1;
        body.payload.data = (uint8_t *) payload;
        body.payload.len = payload_size;
    }
    uint8_t *body_bytes = NULL, *env_bytes = NULL;
    size_t body_size, env_size;
    ld_status_t rc = ld_payload_pack (&body.base, &body_bytes, &body_size);
    if (rc != LD_OK)
        return rc;
    uint8_t sig[LD_SIG_BYTES];
    ld_identity_sign (identity, body_bytes, body_size, sig);
    Liandong__Envelope env = LIANDONG__ENVELOPE__INIT;
    env.body.data = body_bytes;
    env.body.len = body_size;
    env.signature.data = sig;
    env.signature.len = LD_SIG_BYTES;
    rc = ld_payload_pack (&env.base, &env_bytes, &env_size);
    if (rc == LD_OK)
        rc = ld_event_decode (env_bytes, env_size, 0, event_p, err, err_size);
    free (env_bytes);
    free (body_bytes);
    return rc;
}

ld_event_t *
ld_event_dup (const ld_event_t *self)
{
    ld_event_t *copy = NULL;
    ld_event_decode (self->envelope, self->envelope_size, self->envelope_size, &copy, NULL, 0);
    return copy;
}

const uint8_t *
ld_event_id (const ld_event_t *self)
{
    return self->id;
}

const uint8_t *
ld_event_author (const ld_event_t *self)
{
    return self->body->author.data;
}

uint64_t
ld_event_seq (const ld_event_t *self)
{
    return self->body->seq;
}

const uint8_t *
ld_event_prev (const ld_event_t *self)
{
    return self->body->has_prev ? self->body->prev.data : NULL;
}

int64_t
ld_event_time_ms (const ld_event_t *self)
{
    return self->body->time_ms;
}

const char *
ld_event_topic (const ld_event_t *self)
{
    return self->body->topic;
}

const char *
ld_event_type (const ld_event_t *self)
{
    return self->body->type;
}

const uint8_t *
ld_event_signature (const ld_event_t *self)
{
    return self->env->signature.data;
}

const uint8_t *
ld_event_payload (const ld_event_t *self, size_t *size)
{
    *size = self->body->has_payload ? self->body->payload.len : 0;
    return self->body->payload.data;
}

const uint8_t *
ld_event_envelope (const ld_event_t *self, size_t *size)
{
    *size = self->envelope_size;
    return self->envelope;
}

const uint8_t *
ld_event_body (const ld_event_t *self, size_t *size)
{
    *size = self->env->body.len;
    return self->env->body.data;
}

bool
ld_event_type_known (const ld_event_t *self)
{
    return self->type_known;
}
