/*  test_event.c -- the wire codec (proto/ld_codec.h) and events
    (proto/ld_event.h).

    Bytes from strangers are built here the way a stranger would: protobuf-c
    structs packed by hand (or raw wire bytes, for what protobuf-c refuses
    to write) and signed with a real identity, so that the signature is
    valid and the codec check is the only thing that can refuse them. Every
    refusal asserts its exact status, and every limit is tested at the
    limit (accepted) and one past it (refused).

    The schema has no repeated field and no nested payload message yet, so
    the count and depth limits are tested on ld_codec_check with a
    descriptor built here the way protoc-c would generate it.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ld_codec.h"
#include "ld_event.h"
#include "ld_identity.h"
#include "ld_limits.h"
#include "ld_payload.h"
#include "liandong.pb-c.h"

#define S_TOPIC   "resolution/wudang/longguanglu/"
#define S_TIME_MS INT64_C (1735689600000) //  2025-01-01T00:00:00Z
#define S_NOTE    "lift repair vote on Saturday"

//  Largest hand-written wire message these tests build.
#define S_WIRE_MAX 8192

//  Protobuf wire types (the encoding, not our schema).
#define S_VARINT    0
#define S_FIXED64   1
#define S_LENGTH    2
#define S_GROUP     3
#define S_GROUP_END 4
#define S_FIXED32   5

//  Body field numbers, as in liandong.proto.
#define S_BODY_AUTHOR  1
#define S_BODY_SEQ     2
#define S_BODY_PREV    3
#define S_BODY_TIME    4
#define S_BODY_TOPIC   5
#define S_BODY_TYPE    6
#define S_BODY_PAYLOAD 7

typedef struct {
    ld_identity_t *identity; //  the author of every event
    uint8_t prev[LD_ID_BYTES];
    uint8_t *note; //  a packed Note payload
    size_t note_size;
} s_fixture_t;

static int
s_setup (void **state)
{
    if (ld_crypto_init () != 0)
        return -1;
    s_fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    //  A fixed seed keeps envelopes the same from run to run.
    uint8_t seed[LD_SEED_BYTES];
    memset (seed, 0x5a, sizeof seed);
    self->identity = ld_identity_new_from_seed (seed);
    ld_hash_id ((const uint8_t *) "seq 1", 5, self->prev);
    if (!self->identity || ld_payload_note (S_NOTE, &self->note, &self->note_size) != LD_OK) {
        ld_identity_destroy (&self->identity);
        free (self);
        return -1;
    }
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_destroy (&self->identity);
    free (self->note);
    free (self);
    return 0;
}

//  ---- building envelopes ----

//  A valid body at seq 2 carrying a note. Its pointers borrow from self.
static Liandong__Body
s_body (s_fixture_t *self)
{
    Liandong__Body body = LIANDONG__BODY__INIT;
    body.author.data = (uint8_t *) ld_identity_public_key (self->identity);
    body.author.len = LD_KEY_BYTES;
    body.seq = 2;
    body.has_prev = 1;
    body.prev.data = self->prev;
    body.prev.len = LD_ID_BYTES;
    body.time_ms = S_TIME_MS;
    body.topic = (char *) S_TOPIC;
    body.type = (char *) "note";
    body.has_payload = 1;
    body.payload.data = self->note;
    body.payload.len = self->note_size;
    return body;
}

//  Wraps body bytes and a signature of any length into envelope bytes,
//  which the caller frees.
static uint8_t *
s_wrap (const uint8_t *body, size_t body_size, const uint8_t *sig, size_t sig_size, size_t *size)
{
    Liandong__Envelope env = LIANDONG__ENVELOPE__INIT;
    env.body.data = (uint8_t *) body;
    env.body.len = body_size;
    env.signature.data = (uint8_t *) sig;
    env.signature.len = sig_size;
    uint8_t *data = NULL;
    assert_int_equal (ld_payload_pack (&env.base, &data, size), LD_OK);
    return data;
}

//  Signs body bytes with the fixture's identity and wraps them.
static uint8_t *
s_sign_bytes (s_fixture_t *self, const uint8_t *body, size_t body_size, size_t *size)
{
    uint8_t sig[LD_SIG_BYTES];
    ld_identity_sign (self->identity, body, body_size, sig);
    return s_wrap (body, body_size, sig, sizeof sig, size);
}

//  Packs, signs and wraps a body.
static uint8_t *
s_sign_body (s_fixture_t *self, const Liandong__Body *body, size_t *size)
{
    uint8_t *bytes = NULL;
    size_t bytes_size;
    assert_int_equal (ld_payload_pack (&body->base, &bytes, &bytes_size), LD_OK);
    uint8_t *envelope = s_sign_bytes (self, bytes, bytes_size, size);
    free (bytes);
    return envelope;
}

//  Decodes with the given limit. A refusal must come with a message that
//  starts with the status text; an accepted event is returned through
//  *event_p if given, else destroyed.
static ld_status_t
s_decode_max (const uint8_t *data, size_t size, size_t envelope_max, ld_event_t **event_p)
{
    ld_event_t *event = NULL;
    char err[512] = "";
    ld_status_t rc = ld_event_decode (data, size, envelope_max, &event, err, sizeof err);
    if (rc != LD_OK) {
        assert_null (event);
        const char *text = ld_status_text (rc);
        assert_int_equal (strncmp (err, text, strlen (text)), 0);
    }
    else
        assert_non_null (event);
    if (event_p)
        *event_p = event;
    else
        ld_event_destroy (&event);
    return rc;
}

static ld_status_t
s_decode (const uint8_t *data, size_t size)
{
    return s_decode_max (data, size, 0, NULL);
}

//  Status of decoding the signed body; an accepted one must also verify,
//  since these tests sign honestly.
static ld_status_t
s_status_of_body (s_fixture_t *self, const Liandong__Body *body)
{
    size_t size;
    uint8_t *envelope = s_sign_body (self, body, &size);
    ld_event_t *event = NULL;
    ld_status_t rc = s_decode_max (envelope, size, 0, &event);
    if (rc == LD_OK)
        assert_int_equal (ld_event_verify (event), LD_OK);
    ld_event_destroy (&event);
    free (envelope);
    return rc;
}

static ld_status_t
s_status_of_body_bytes (s_fixture_t *self, const uint8_t *body, size_t body_size)
{
    size_t size;
    uint8_t *envelope = s_sign_bytes (self, body, body_size, &size);
    ld_event_t *event = NULL;
    ld_status_t rc = s_decode_max (envelope, size, 0, &event);
    if (rc == LD_OK)
        assert_int_equal (ld_event_verify (event), LD_OK);
    ld_event_destroy (&event);
    free (envelope);
    return rc;
}

//  Status of a body whose topic is the given string.
static ld_status_t
s_status_of_topic (s_fixture_t *self, const char *topic)
{
    Liandong__Body body = s_body (self);
    body.topic = (char *) topic;
    return s_status_of_body (self, &body);
}

//  Status of a body whose type is the given string (its payload stays the
//  note, which is decoded only when the type is "note").
static ld_status_t
s_status_of_type (s_fixture_t *self, const char *type)
{
    Liandong__Body body = s_body (self);
    body.type = (char *) type;
    return s_status_of_body (self, &body);
}

//  A string of size copies of c (NUL-terminated), which the caller frees.
static char *
s_repeat (char c, size_t size)
{
    char *text = malloc (size + 1);
    assert_non_null (text);
    memset (text, c, size);
    text[size] = '\0';
    return text;
}

//  ---- hand-written wire bytes, for what protobuf-c will not write ----

typedef struct {
    uint8_t data[S_WIRE_MAX];
    size_t size;
} s_wire_t;

static void
s_put_raw (s_wire_t *wire, const void *data, size_t size)
{
    assert_true (wire->size + size <= sizeof wire->data);
    memcpy (wire->data + wire->size, data, size);
    wire->size += size;
}

static void
s_put_varint (s_wire_t *wire, uint64_t value)
{
    do {
        uint8_t byte = (uint8_t) (value & 0x7f);
        value >>= 7;
        if (value)
            byte |= 0x80;
        s_put_raw (wire, &byte, 1);
    } while (value);
}

static void
s_put_key (s_wire_t *wire, uint64_t field, unsigned wire_type)
{
    s_put_varint (wire, field << 3 | wire_type);
}

static void
s_put_uint (s_wire_t *wire, uint64_t field, uint64_t value)
{
    s_put_key (wire, field, S_VARINT);
    s_put_varint (wire, value);
}

static void
s_put_bytes (s_wire_t *wire, uint64_t field, const void *data, size_t size)
{
    s_put_key (wire, field, S_LENGTH);
    s_put_varint (wire, size);
    s_put_raw (wire, data, size);
}

static void
s_put_string (s_wire_t *wire, uint64_t field, const char *text)
{
    s_put_bytes (wire, field, text, strlen (text));
}

//  Writes the fields of a valid seq-2 note body, leaving out field `omit`
//  (0 to write them all).
static void
s_put_body (s_wire_t *wire, s_fixture_t *self, unsigned omit)
{
    if (omit != S_BODY_AUTHOR)
        s_put_bytes (wire, S_BODY_AUTHOR, ld_identity_public_key (self->identity), LD_KEY_BYTES);
    if (omit != S_BODY_SEQ)
        s_put_uint (wire, S_BODY_SEQ, 2);
    if (omit != S_BODY_PREV)
        s_put_bytes (wire, S_BODY_PREV, self->prev, LD_ID_BYTES);
    if (omit != S_BODY_TIME)
        s_put_uint (wire, S_BODY_TIME, (uint64_t) S_TIME_MS);
    if (omit != S_BODY_TOPIC)
        s_put_string (wire, S_BODY_TOPIC, S_TOPIC);
    if (omit != S_BODY_TYPE)
        s_put_string (wire, S_BODY_TYPE, "note");
    if (omit != S_BODY_PAYLOAD)
        s_put_bytes (wire, S_BODY_PAYLOAD, self->note, self->note_size);
}

static ld_status_t
s_status_of_wire (s_fixture_t *self, const s_wire_t *wire)
{
    return s_status_of_body_bytes (self, wire->data, wire->size);
}

//  A singular field twice is valid protobuf (last wins) but two byte
//  strings for one meaning: refused.
static void
test_event_rejects_a_field_given_twice (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t wire = {0};
    s_put_body (&wire, self, 0);
    s_put_string (&wire, S_BODY_TOPIC, "note/other/");
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
}

//  The envelope is unsigned: nothing may ride beside body and signature.
static void
test_event_rejects_unknown_envelope_field (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t body = {0};
    s_put_body (&body, self, 0);
    size_t size;
    uint8_t *envelope = s_sign_bytes (self, body.data, body.size, &size);
    s_wire_t wire = {0};
    s_put_raw (&wire, envelope, size);
    s_put_string (&wire, 9, "extra");
    free (envelope);
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_decode (wire.data, wire.size, 0, &event, NULL, 0), LD_ERR_MALFORMED);
    assert_null (event);
}

//  ---- round trip ----

static void
test_event_round_trips_with_every_accessor (void **state)
{
    s_fixture_t *self = *state;
    ld_event_t *signed_event = NULL;
    char err[256] = "";
    assert_int_equal (ld_event_sign (self->identity, 2, self->prev, S_TIME_MS, S_TOPIC, "note",
                                     self->note, self->note_size, &signed_event, err, sizeof err),
                      LD_OK);
    size_t size;
    const uint8_t *envelope = ld_event_envelope (signed_event, &size);

    ld_event_t *event = NULL;
    assert_int_equal (s_decode_max (envelope, size, 0, &event), LD_OK);
    assert_int_equal (ld_event_verify (event), LD_OK);
    assert_memory_equal (ld_event_author (event), ld_identity_public_key (self->identity),
                         LD_KEY_BYTES);
    assert_int_equal (ld_event_seq (event), 2);
    assert_non_null (ld_event_prev (event));
    assert_memory_equal (ld_event_prev (event), self->prev, LD_ID_BYTES);
    assert_int_equal (ld_event_time_ms (event), S_TIME_MS);
    assert_string_equal (ld_event_topic (event), S_TOPIC);
    assert_string_equal (ld_event_type (event), "note");
    assert_true (ld_event_type_known (event));
    size_t payload_size;
    const uint8_t *payload = ld_event_payload (event, &payload_size);
    assert_int_equal (payload_size, self->note_size);
    assert_memory_equal (payload, self->note, payload_size);

    //  The envelope is kept byte for byte; the id and signature are over
    //  the body bytes exactly as received.
    size_t copy_size, body_size;
    const uint8_t *copy = ld_event_envelope (event, &copy_size);
    assert_int_equal (copy_size, size);
    assert_memory_equal (copy, envelope, size);
    const uint8_t *body = ld_event_body (event, &body_size);
    uint8_t id[LD_ID_BYTES];
    ld_hash_id (body, body_size, id);
    assert_memory_equal (ld_event_id (event), id, LD_ID_BYTES);
    assert_memory_equal (ld_event_id (event), ld_event_id (signed_event), LD_ID_BYTES);
    assert_true (ld_verify (ld_event_author (event), body, body_size, ld_event_signature (event)));

    ProtobufCMessage *note = NULL;
    assert_int_equal (ld_payload_unpack ("note", payload, payload_size, &note, err, sizeof err),
                      LD_OK);
    assert_string_equal (((Liandong__Note *) note)->text, S_NOTE);
    protobuf_c_message_free_unpacked (note, NULL);
    ld_event_destroy (&event);
    ld_event_destroy (&signed_event);
    assert_null (event);
}

static void
test_event_at_seq_1_has_no_prev (void **state)
{
    s_fixture_t *self = *state;
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_sign (self->identity, 1, NULL, S_TIME_MS, S_TOPIC, "note",
                                     self->note, self->note_size, &event, NULL, 0),
                      LD_OK);
    assert_int_equal (ld_event_seq (event), 1);
    assert_null (ld_event_prev (event));
    assert_int_equal (ld_event_verify (event), LD_OK);
    ld_event_destroy (&event);
}

static void
test_event_dup_has_the_same_bytes_and_id (void **state)
{
    s_fixture_t *self = *state;
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_sign (self->identity, 1, NULL, S_TIME_MS, S_TOPIC, "note",
                                     self->note, self->note_size, &event, NULL, 0),
                      LD_OK);
    ld_event_t *copy = ld_event_dup (event);
    assert_non_null (copy);
    size_t size, copy_size;
    const uint8_t *bytes = ld_event_envelope (event, &size);
    const uint8_t *copy_bytes = ld_event_envelope (copy, &copy_size);
    assert_int_equal (copy_size, size);
    assert_memory_equal (copy_bytes, bytes, size);
    assert_memory_equal (ld_event_id (copy), ld_event_id (event), LD_ID_BYTES);
    ld_event_destroy (&event);
    ld_event_destroy (&copy);
}

static void
test_event_sign_refuses_what_a_receiver_would_refuse (void **state)
{
    s_fixture_t *self = *state;
    ld_event_t *event = NULL;
    char err[256] = "";
    assert_int_equal (ld_event_sign (self->identity, 1, NULL, S_TIME_MS, "No Caps/", "note",
                                     self->note, self->note_size, &event, err, sizeof err),
                      LD_ERR_BAD_TOPIC);
    assert_null (event);
    assert_int_equal (ld_event_sign (self->identity, 1, self->prev, S_TIME_MS, S_TOPIC, "note",
                                     self->note, self->note_size, &event, err, sizeof err),
                      LD_ERR_BAD_PREV);
    assert_null (event);
    assert_int_equal (ld_event_sign (self->identity, 2, self->prev, S_TIME_MS, S_TOPIC, "note",
                                     (const uint8_t *) "\xff", 1, &event, err, sizeof err),
                      LD_ERR_MALFORMED);
    assert_null (event);
}

//  ---- tampering ----

//  Flips every bit of the envelope in turn: each result must fail to
//  decode or fail to verify, never both succeed.
static void
s_assert_every_flip_refused (const uint8_t *envelope, size_t size)
{
    uint8_t *copy = malloc (size);
    assert_non_null (copy);
    memcpy (copy, envelope, size);
    size_t undecodable = 0, unverifiable = 0;
    for (size_t bit = 0; bit < size * 8; bit++) {
        copy[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        ld_event_t *event = NULL;
        if (s_decode_max (copy, size, 0, &event) != LD_OK)
            undecodable++;
        else {
            assert_int_equal (ld_event_verify (event), LD_ERR_BAD_SIGNATURE);
            unverifiable++;
        }
        ld_event_destroy (&event);
        copy[bit / 8] ^= (uint8_t) (1u << (bit % 8));
    }
    assert_int_equal (undecodable + unverifiable, size * 8);
    //  Control: both ways of failing were exercised, and the untouched
    //  envelope is good.
    assert_true (undecodable > 0);
    assert_true (unverifiable > 0);
    ld_event_t *event = NULL;
    assert_int_equal (s_decode_max (copy, size, 0, &event), LD_OK);
    assert_int_equal (ld_event_verify (event), LD_OK);
    ld_event_destroy (&event);
    free (copy);
}

static void
test_event_rejects_flipped_bit (void **state)
{
    s_fixture_t *self = *state;
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_sign (self->identity, 2, self->prev, S_TIME_MS, S_TOPIC, "note",
                                     self->note, self->note_size, &event, NULL, 0),
                      LD_OK);
    size_t size;
    const uint8_t *envelope = ld_event_envelope (event, &size);
    s_assert_every_flip_refused (envelope, size);
    ld_event_destroy (&event);
}

static void
test_event_rejects_flipped_bit_in_unknown_type_event (void **state)
{
    s_fixture_t *self = *state;
    //  An unknown payload is not decoded, so only the signature guards it.
    const uint8_t payload[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x80, 0xff};
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_sign (self->identity, 1, NULL, S_TIME_MS, S_TOPIC, "future.kind",
                                     payload, sizeof payload, &event, NULL, 0),
                      LD_OK);
    size_t size;
    const uint8_t *envelope = ld_event_envelope (event, &size);
    s_assert_every_flip_refused (envelope, size);
    ld_event_destroy (&event);
}

static void
test_event_rejects_every_truncation (void **state)
{
    s_fixture_t *self = *state;
    Liandong__Body body = s_body (self);
    size_t size;
    uint8_t *envelope = s_sign_body (self, &body, &size);
    for (size_t cut = 0; cut < size; cut++) {
        ld_status_t rc = s_decode (envelope, cut);
        assert_true (rc == LD_ERR_MALFORMED || rc == LD_ERR_MISSING_FIELD);
    }
    assert_int_equal (s_decode (envelope, size), LD_OK);
    free (envelope);
}

static void
test_event_verify_rejects_signature_by_another_key (void **state)
{
    s_fixture_t *self = *state;
    Liandong__Body body = s_body (self);
    uint8_t *bytes = NULL;
    size_t bytes_size, size;
    assert_int_equal (ld_payload_pack (&body.base, &bytes, &bytes_size), LD_OK);
    ld_identity_t *other = ld_identity_new ();
    assert_non_null (other);
    uint8_t sig[LD_SIG_BYTES];
    ld_identity_sign (other, bytes, bytes_size, sig);
    uint8_t *envelope = s_wrap (bytes, bytes_size, sig, sizeof sig, &size);

    ld_event_t *event = NULL;
    assert_int_equal (s_decode_max (envelope, size, 0, &event), LD_OK);
    assert_int_equal (ld_event_verify (event), LD_ERR_BAD_SIGNATURE);
    ld_event_destroy (&event);
    ld_identity_destroy (&other);
    free (envelope);
    free (bytes);
}

//  ---- envelope size ----

//  An envelope of exactly target bytes: an unknown type whose opaque
//  payload is sized to fit. The caller frees it.
static uint8_t *
s_envelope_of_size (s_fixture_t *self, size_t target)
{
    size_t payload_size = target - 200, size = 0;
    uint8_t *envelope = NULL;
    for (int attempt = 0; attempt < 8; attempt++) {
        uint8_t *payload = malloc (payload_size);
        assert_non_null (payload);
        memset (payload, 0xa5, payload_size);
        Liandong__Body body = s_body (self);
        body.type = (char *) "blob";
        body.payload.data = payload;
        body.payload.len = payload_size;
        free (envelope);
        envelope = s_sign_body (self, &body, &size);
        free (payload);
        if (size == target)
            return envelope;
        payload_size = payload_size + target - size;
    }
    fail_msg ("cannot build an envelope of %zu bytes", target);
    return NULL;
}

static void
test_event_accepts_envelope_at_default_size_limit (void **state)
{
    uint8_t *envelope = s_envelope_of_size (*state, LD_ENVELOPE_MAX_DEFAULT);
    assert_int_equal (s_decode (envelope, LD_ENVELOPE_MAX_DEFAULT), LD_OK);
    free (envelope);
}

static void
test_event_rejects_envelope_past_default_size_limit (void **state)
{
    uint8_t *envelope = s_envelope_of_size (*state, LD_ENVELOPE_MAX_DEFAULT + 1);
    assert_int_equal (s_decode (envelope, LD_ENVELOPE_MAX_DEFAULT + 1), LD_ERR_TOO_BIG);
    free (envelope);
}

static void
test_event_sign_refuses_envelope_past_default_size_limit (void **state)
{
    s_fixture_t *self = *state;
    size_t size = LD_ENVELOPE_MAX_DEFAULT;
    uint8_t *payload = calloc (1, size);
    assert_non_null (payload);
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_sign (self->identity, 1, NULL, S_TIME_MS, S_TOPIC, "blob", payload,
                                     size, &event, NULL, 0),
                      LD_ERR_TOO_BIG);
    assert_null (event);
    free (payload);
}

static void
test_event_honours_envelope_max_parameter (void **state)
{
    s_fixture_t *self = *state;
    Liandong__Body body = s_body (self);
    size_t size;
    uint8_t *envelope = s_sign_body (self, &body, &size);
    assert_int_equal (s_decode_max (envelope, size, size, NULL), LD_OK);
    assert_int_equal (s_decode_max (envelope, size, size - 1, NULL), LD_ERR_TOO_BIG);
    free (envelope);
}

static void
test_event_envelope_max_parameter_can_raise_the_limit (void **state)
{
    size_t size = LD_ENVELOPE_MAX_DEFAULT + 1;
    uint8_t *envelope = s_envelope_of_size (*state, size);
    assert_int_equal (s_decode_max (envelope, size, size, NULL), LD_OK);
    assert_int_equal (s_decode_max (envelope, size, size - 1, NULL), LD_ERR_TOO_BIG);
    free (envelope);
}

//  ---- topic ----

//  A topic of `size` bytes made of segments of at most `segment` chars.
static char *
s_topic (size_t size, size_t segment)
{
    char *topic = s_repeat ('t', size);
    for (size_t i = segment; i < size; i += segment + 1)
        topic[i] = '/';
    topic[size - 1] = '/';
    return topic;
}

static void
test_event_accepts_topic_at_length_limit (void **state)
{
    char *topic = s_topic (LD_TOPIC_MAX, LD_TOPIC_SEGMENT_MAX - 1);
    assert_int_equal (strlen (topic), LD_TOPIC_MAX);
    assert_int_equal (s_status_of_topic (*state, topic), LD_OK);
    free (topic);
}

static void
test_event_rejects_topic_past_length_limit (void **state)
{
    char *topic = s_topic (LD_TOPIC_MAX + 1, LD_TOPIC_SEGMENT_MAX - 1);
    assert_int_equal (s_status_of_topic (*state, topic), LD_ERR_TOPIC_TOO_LONG);
    free (topic);
}

static void
test_event_accepts_topic_segment_at_length_limit (void **state)
{
    char *topic = s_topic (LD_TOPIC_SEGMENT_MAX + 1, LD_TOPIC_SEGMENT_MAX);
    assert_int_equal (s_status_of_topic (*state, topic), LD_OK);
    free (topic);
}

static void
test_event_rejects_topic_segment_past_length_limit (void **state)
{
    char *topic = s_topic (LD_TOPIC_SEGMENT_MAX + 2, LD_TOPIC_SEGMENT_MAX + 1);
    assert_int_equal (s_status_of_topic (*state, topic), LD_ERR_BAD_TOPIC);
    free (topic);
}

static void
test_event_accepts_every_slug_character_in_topic (void **state)
{
    assert_int_equal (s_status_of_topic (*state, "abcdefghijklmnopqrstuvwxyz/0123456789/._-/"),
                      LD_OK);
}

static void
test_event_rejects_uppercase_topic (void **state)
{
    assert_int_equal (s_status_of_topic (*state, "Resolution/"), LD_ERR_BAD_TOPIC);
    assert_int_equal (s_status_of_topic (*state, "resolution/wudanG/"), LD_ERR_BAD_TOPIC);
}

static void
test_event_rejects_topic_with_space (void **state)
{
    assert_int_equal (s_status_of_topic (*state, "wu dang/"), LD_ERR_BAD_TOPIC);
    assert_int_equal (s_status_of_topic (*state, " wudang/"), LD_ERR_BAD_TOPIC);
}

static void
test_event_rejects_topic_without_trailing_slash (void **state)
{
    assert_int_equal (s_status_of_topic (*state, "resolution/wudang"), LD_ERR_BAD_TOPIC);
    assert_int_equal (s_status_of_topic (*state, "resolution"), LD_ERR_BAD_TOPIC);
}

static void
test_event_rejects_topic_with_empty_segment (void **state)
{
    assert_int_equal (s_status_of_topic (*state, "resolution//"), LD_ERR_BAD_TOPIC);
    assert_int_equal (s_status_of_topic (*state, "/resolution/"), LD_ERR_BAD_TOPIC);
    assert_int_equal (s_status_of_topic (*state, "/"), LD_ERR_BAD_TOPIC);
}

static void
test_event_rejects_empty_topic (void **state)
{
    assert_int_equal (s_status_of_topic (*state, ""), LD_ERR_BAD_TOPIC);
}

static void
test_event_rejects_non_ascii_topic (void **state)
{
    //  Valid UTF-8 (联动), but outside the slug charset.
    assert_int_equal (s_status_of_topic (*state, "\xe8\x81\x94\xe5\x8a\xa8/"), LD_ERR_BAD_TOPIC);
}

static void
test_event_rejects_invalid_utf8_in_topic (void **state)
{
    assert_int_equal (s_status_of_topic (*state, "\xc0\xaf/"), LD_ERR_BAD_UTF8);
    assert_int_equal (s_status_of_topic (*state, "a\xed\xa0\x80/"), LD_ERR_BAD_UTF8);
}

static void
test_event_rejects_nul_in_topic (void **state)
{
    s_fixture_t *self = *state;
    //  "ok/\0evil/" would read as "ok/" to anything using strlen.
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, S_BODY_TOPIC);
    s_put_bytes (&wire, S_BODY_TOPIC, "ok/\0evil/", 9);
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_BAD_UTF8);
}

//  ---- type ----

static void
test_event_accepts_type_at_length_limit (void **state)
{
    char *type = s_repeat ('k', LD_TYPE_MAX);
    assert_int_equal (s_status_of_type (*state, type), LD_OK);
    free (type);
}

static void
test_event_rejects_type_past_length_limit (void **state)
{
    char *type = s_repeat ('k', LD_TYPE_MAX + 1);
    assert_int_equal (s_status_of_type (*state, type), LD_ERR_BAD_TYPE);
    free (type);
}

static void
test_event_rejects_empty_type (void **state)
{
    assert_int_equal (s_status_of_type (*state, ""), LD_ERR_BAD_TYPE);
}

static void
test_event_rejects_type_outside_its_charset (void **state)
{
    assert_int_equal (s_status_of_type (*state, "Note"), LD_ERR_BAD_TYPE);
    assert_int_equal (s_status_of_type (*state, "no te"), LD_ERR_BAD_TYPE);
    assert_int_equal (s_status_of_type (*state, "note/"), LD_ERR_BAD_TYPE);
    assert_int_equal (s_status_of_type (*state, "\xe8\x81\x94"), LD_ERR_BAD_TYPE);
}

static void
test_event_rejects_invalid_utf8_in_type (void **state)
{
    assert_int_equal (s_status_of_type (*state, "note\xff"), LD_ERR_BAD_UTF8);
}

//  ---- ordinary strings and free text ----

static void
test_event_checks_prev_against_string_limit_before_its_own_rule (void **state)
{
    s_fixture_t *self = *state;
    uint8_t prev[LD_STRING_MAX + 1];
    memset (prev, 0x11, sizeof prev);
    Liandong__Body body = s_body (self);
    body.prev.data = prev;

    //  At the limit the codec accepts it; the 32-byte rule refuses it.
    body.prev.len = LD_STRING_MAX;
    uint8_t *bytes = NULL;
    size_t bytes_size;
    assert_int_equal (ld_payload_pack (&body.base, &bytes, &bytes_size), LD_OK);
    assert_int_equal (ld_codec_check (&liandong__body__descriptor, bytes, bytes_size, NULL, 0),
                      LD_OK);
    free (bytes);
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_BAD_PREV);
}

static void
test_event_rejects_prev_past_string_limit (void **state)
{
    s_fixture_t *self = *state;
    uint8_t prev[LD_STRING_MAX + 1];
    memset (prev, 0x11, sizeof prev);
    Liandong__Body body = s_body (self);
    body.prev.data = prev;
    body.prev.len = LD_STRING_MAX + 1;
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_STRING_TOO_LONG);
}

static void
test_event_rejects_author_past_string_limit (void **state)
{
    s_fixture_t *self = *state;
    uint8_t author[LD_STRING_MAX + 1];
    memcpy (author, ld_identity_public_key (self->identity), LD_KEY_BYTES);
    memset (author + LD_KEY_BYTES, 0, sizeof author - LD_KEY_BYTES);
    Liandong__Body body = s_body (self);
    body.author.data = author;
    body.author.len = LD_STRING_MAX;
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_BAD_KEY);
    body.author.len = LD_STRING_MAX + 1;
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_STRING_TOO_LONG);
}

static void
test_event_error_names_the_field_past_its_limit (void **state)
{
    s_fixture_t *self = *state;
    uint8_t prev[LD_STRING_MAX + 1] = {0};
    Liandong__Body body = s_body (self);
    body.prev.data = prev;
    body.prev.len = sizeof prev;
    size_t size;
    uint8_t *envelope = s_sign_body (self, &body, &size);
    ld_event_t *event = NULL;
    char err[256] = "";
    assert_int_equal (ld_event_decode (envelope, size, 0, &event, err, sizeof err),
                      LD_ERR_STRING_TOO_LONG);
    assert_non_null (strstr (err, "liandong.Body.prev"));
    free (envelope);
}

//  Status of a note event whose text is text.
static ld_status_t
s_status_of_note (s_fixture_t *self, const char *text)
{
    uint8_t *note = NULL;
    size_t note_size;
    assert_int_equal (ld_payload_note (text, &note, &note_size), LD_OK);
    Liandong__Body body = s_body (self);
    body.payload.data = note;
    body.payload.len = note_size;
    ld_status_t rc = s_status_of_body (self, &body);
    free (note);
    return rc;
}

static void
test_event_accepts_note_text_at_text_limit (void **state)
{
    char *text = s_repeat ('a', LD_TEXT_MAX);
    assert_int_equal (s_status_of_note (*state, text), LD_OK);
    free (text);
}

static void
test_event_rejects_note_text_past_text_limit (void **state)
{
    char *text = s_repeat ('a', LD_TEXT_MAX + 1);
    assert_int_equal (s_status_of_note (*state, text), LD_ERR_STRING_TOO_LONG);
    free (text);
}

static void
test_event_accepts_chinese_note_text (void **state)
{
    assert_int_equal (s_status_of_note (*state, "\xe6\xad\xa6\xe5\xbd\x93 road 7"), LD_OK);
}

static void
test_event_rejects_invalid_utf8_in_note_text (void **state)
{
    assert_int_equal (s_status_of_note (*state, "caf\xe9"), LD_ERR_BAD_UTF8); //  Latin-1
    assert_int_equal (s_status_of_note (*state, "\xed\xa0\x80"), LD_ERR_BAD_UTF8);
    assert_int_equal (s_status_of_note (*state, "\xf4\x90\x80\x80"), LD_ERR_BAD_UTF8);
}

static void
test_event_rejects_nul_in_note_text (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t note = {.size = 0};
    s_put_bytes (&note, 1, "vote\0yes", 8);
    Liandong__Body body = s_body (self);
    body.payload.data = note.data;
    body.payload.len = note.size;
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_BAD_UTF8);
}

//  ---- required fields ----

static void
test_event_rejects_body_missing_any_required_field (void **state)
{
    s_fixture_t *self = *state;
    const unsigned required[] = {S_BODY_AUTHOR, S_BODY_SEQ, S_BODY_TIME, S_BODY_TOPIC, S_BODY_TYPE};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        s_wire_t wire = {.size = 0};
        s_put_body (&wire, self, required[i]);
        assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MISSING_FIELD);
    }
    //  Control: with nothing left out the same writer makes a good body.
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, 0);
    assert_int_equal (s_status_of_wire (self, &wire), LD_OK);
}

static void
test_event_rejects_envelope_missing_body_or_signature (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t body = {.size = 0};
    s_put_body (&body, self, 0);
    uint8_t sig[LD_SIG_BYTES];
    ld_identity_sign (self->identity, body.data, body.size, sig);

    s_wire_t only_body = {.size = 0};
    s_put_bytes (&only_body, 1, body.data, body.size);
    assert_int_equal (s_decode (only_body.data, only_body.size), LD_ERR_MISSING_FIELD);
    s_wire_t only_sig = {.size = 0};
    s_put_bytes (&only_sig, 2, sig, sizeof sig);
    assert_int_equal (s_decode (only_sig.data, only_sig.size), LD_ERR_MISSING_FIELD);
    //  Control: both present.
    s_wire_t both = {.size = 0};
    s_put_bytes (&both, 1, body.data, body.size);
    s_put_bytes (&both, 2, sig, sizeof sig);
    assert_int_equal (s_decode (both.data, both.size), LD_OK);
}

static void
test_event_rejects_empty_input (void **state)
{
    (void) state;
    const uint8_t nothing[1] = {0};
    assert_int_equal (s_decode (nothing, 0), LD_ERR_MISSING_FIELD);
}

static void
test_event_rejects_empty_body (void **state)
{
    s_fixture_t *self = *state;
    //  A zero-length body: protobuf-c hands it over as a NULL pointer.
    assert_int_equal (s_status_of_body_bytes (self, NULL, 0), LD_ERR_MISSING_FIELD);
}

static void
test_event_rejects_note_without_text (void **state)
{
    s_fixture_t *self = *state;
    Liandong__Body body = s_body (self);
    body.has_payload = 0;
    body.payload.data = NULL;
    body.payload.len = 0;
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_MISSING_FIELD);
}

//  ---- malformed bytes ----

static void
test_event_rejects_truncated_varint (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, S_BODY_SEQ);
    s_put_key (&wire, S_BODY_SEQ, S_VARINT);
    s_put_raw (&wire, "\x82", 1); //  continuation bit set, then the end
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
}

static void
test_event_rejects_truncated_field_key (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, 0);
    s_put_raw (&wire, "\x80", 1);
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
}

static void
test_event_rejects_varint_longer_than_ten_bytes (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, S_BODY_SEQ);
    s_put_key (&wire, S_BODY_SEQ, S_VARINT);
    s_put_raw (&wire, "\x82\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11);
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
}

static void
test_event_rejects_varint_past_64_bits (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, S_BODY_SEQ);
    s_put_key (&wire, S_BODY_SEQ, S_VARINT);
    //  Ten bytes whose last one carries more than bit 63.
    s_put_raw (&wire, "\x82\x80\x80\x80\x80\x80\x80\x80\x80\x02", 10);
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
}

static void
test_event_rejects_length_past_the_end (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, S_BODY_TYPE);
    s_put_key (&wire, S_BODY_TYPE, S_LENGTH);
    s_put_varint (&wire, 5);
    s_put_raw (&wire, "note", 4); //  one byte short
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
}

static void
test_event_rejects_huge_length (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, 0);
    s_put_key (&wire, 99, S_LENGTH); //  an unknown field: skipped only if bounded
    s_put_varint (&wire, UINT64_MAX);
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
}

static void
test_event_rejects_group_wire_types (void **state)
{
    s_fixture_t *self = *state;
    const unsigned types[] = {S_GROUP, S_GROUP_END};
    for (size_t i = 0; i < 2; i++) {
        s_wire_t wire = {.size = 0};
        s_put_body (&wire, self, 0);
        s_put_key (&wire, 99, types[i]);
        assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
    }
}

static void
test_event_rejects_undefined_wire_types (void **state)
{
    s_fixture_t *self = *state;
    for (unsigned type = 6; type <= 7; type++) {
        s_wire_t wire = {.size = 0};
        s_put_body (&wire, self, 0);
        s_put_key (&wire, 99, type);
        assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
    }
}

static void
test_event_rejects_field_number_zero (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, 0);
    s_put_uint (&wire, 0, 1);
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
}

static void
test_event_rejects_truncated_fixed_field (void **state)
{
    s_fixture_t *self = *state;
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, 0);
    s_put_key (&wire, 99, S_FIXED64);
    s_put_raw (&wire, "1234567", 7);
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
}

static void
test_event_rejects_wrong_wire_type_for_a_field (void **state)
{
    s_fixture_t *self = *state;
    //  seq as a length-delimited run
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, S_BODY_SEQ);
    s_put_bytes (&wire, S_BODY_SEQ, "\x02", 1);
    assert_int_equal (s_status_of_wire (self, &wire), LD_ERR_MALFORMED);
    //  topic as a varint
    s_wire_t other = {.size = 0};
    s_put_body (&other, self, S_BODY_TOPIC);
    s_put_uint (&other, S_BODY_TOPIC, 7);
    assert_int_equal (s_status_of_wire (self, &other), LD_ERR_MALFORMED);
}

static void
test_event_rejects_malformed_payload_of_known_type (void **state)
{
    s_fixture_t *self = *state;
    Liandong__Body body = s_body (self);
    body.payload.data = (uint8_t *) "\x0a\x05hi";
    body.payload.len = 4;
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_MALFORMED);
}

static void
test_event_rejects_malformed_envelope (void **state)
{
    (void) state;
    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    assert_int_equal (s_decode (garbage, sizeof garbage), LD_ERR_MALFORMED);
}

//  ---- rules of the body ----

static void
test_event_rejects_author_key_of_wrong_length (void **state)
{
    s_fixture_t *self = *state;
    uint8_t author[LD_KEY_BYTES + 1] = {0};
    const size_t sizes[] = {0, LD_KEY_BYTES - 1, LD_KEY_BYTES + 1};
    for (size_t i = 0; i < 3; i++) {
        Liandong__Body body = s_body (self);
        body.author.data = author;
        body.author.len = sizes[i];
        assert_int_equal (s_status_of_body (self, &body), LD_ERR_BAD_KEY);
    }
}

static void
test_event_rejects_seq_zero (void **state)
{
    s_fixture_t *self = *state;
    Liandong__Body body = s_body (self);
    body.seq = 0;
    body.has_prev = 0;
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_BAD_SEQ);
}

static void
test_event_rejects_prev_at_seq_1 (void **state)
{
    s_fixture_t *self = *state;
    Liandong__Body body = s_body (self);
    body.seq = 1;
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_BAD_PREV);
}

static void
test_event_rejects_missing_prev_at_seq_2 (void **state)
{
    s_fixture_t *self = *state;
    Liandong__Body body = s_body (self);
    body.has_prev = 0;
    assert_int_equal (s_status_of_body (self, &body), LD_ERR_BAD_PREV);
}

static void
test_event_rejects_prev_of_wrong_length (void **state)
{
    s_fixture_t *self = *state;
    uint8_t prev[LD_ID_BYTES + 1] = {0};
    const size_t sizes[] = {0, LD_ID_BYTES - 1, LD_ID_BYTES + 1};
    for (size_t i = 0; i < 3; i++) {
        Liandong__Body body = s_body (self);
        body.prev.data = prev;
        body.prev.len = sizes[i];
        assert_int_equal (s_status_of_body (self, &body), LD_ERR_BAD_PREV);
    }
}

static void
test_event_rejects_signature_of_wrong_length (void **state)
{
    s_fixture_t *self = *state;
    Liandong__Body body = s_body (self);
    uint8_t *bytes = NULL;
    size_t bytes_size;
    assert_int_equal (ld_payload_pack (&body.base, &bytes, &bytes_size), LD_OK);
    uint8_t sig[LD_SIG_BYTES + 1];
    ld_identity_sign (self->identity, bytes, bytes_size, sig);
    sig[LD_SIG_BYTES] = 0;
    const size_t sizes[] = {0, LD_SIG_BYTES - 1, LD_SIG_BYTES + 1};
    for (size_t i = 0; i < 3; i++) {
        size_t size;
        uint8_t *envelope = s_wrap (bytes, bytes_size, sig, sizes[i], &size);
        assert_int_equal (s_decode (envelope, size), LD_ERR_BAD_SIGNATURE);
        free (envelope);
    }
    free (bytes);
}

//  ---- forward compatibility ----

static void
test_event_accepts_unknown_type_with_any_payload (void **state)
{
    s_fixture_t *self = *state;
    const uint8_t payload[] = {0xff, 0xff, 0xff, 0x00, 0x80}; //  not protobuf at all
    Liandong__Body body = s_body (self);
    body.type = (char *) "future.kind";
    body.payload.data = (uint8_t *) payload;
    body.payload.len = sizeof payload;
    size_t size;
    uint8_t *envelope = s_sign_body (self, &body, &size);

    ld_event_t *event = NULL;
    assert_int_equal (s_decode_max (envelope, size, 0, &event), LD_OK);
    assert_int_equal (ld_event_verify (event), LD_OK);
    assert_false (ld_event_type_known (event));
    assert_string_equal (ld_event_type (event), "future.kind");
    size_t payload_size;
    const uint8_t *got = ld_event_payload (event, &payload_size);
    assert_int_equal (payload_size, sizeof payload);
    assert_memory_equal (got, payload, sizeof payload);
    ld_event_destroy (&event);
    free (envelope);
}

static void
test_event_skips_unknown_body_fields (void **state)
{
    s_fixture_t *self = *state;
    //  Fields a newer writer may add, of every wire type we accept.
    s_wire_t wire = {.size = 0};
    s_put_body (&wire, self, 0);
    s_put_uint (&wire, 100, 42);
    s_put_string (&wire, 101, "added later");
    s_put_key (&wire, 102, S_FIXED64);
    s_put_raw (&wire, "12345678", 8);
    s_put_key (&wire, 103, S_FIXED32);
    s_put_raw (&wire, "1234", 4);
    assert_int_equal (s_status_of_wire (self, &wire), LD_OK);
}

//  ---- repeated counts and nesting, on a descriptor of our own ----

//  What protoc-c would generate for
//      message Tree {
//        repeated uint32  numbers = 1;
//        repeated string  names   = 2;
//        optional Tree    child   = 3;
//        repeated fixed32 fixed   = 4;
//      }
//  ld_codec_check reads only names, numbers, labels, types and the nested
//  descriptor, so nothing else is filled in.
static const ProtobufCMessageDescriptor s_tree_descriptor;

static const ProtobufCFieldDescriptor s_tree_fields[] = {
    {.name = "numbers",
     .id = 1,
     .label = PROTOBUF_C_LABEL_REPEATED,
     .type = PROTOBUF_C_TYPE_UINT32},
    {.name = "names", .id = 2, .label = PROTOBUF_C_LABEL_REPEATED, .type = PROTOBUF_C_TYPE_STRING},
    {.name = "child",
     .id = 3,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_MESSAGE,
     .descriptor = &s_tree_descriptor},
    {.name = "fixed", .id = 4, .label = PROTOBUF_C_LABEL_REPEATED, .type = PROTOBUF_C_TYPE_FIXED32},
};

//  Field numbers 1..4 are one range starting at index 0; then the sentinel.
static const ProtobufCIntRange s_tree_ranges[] = {{1, 0}, {0, 4}};

static const ProtobufCMessageDescriptor s_tree_descriptor = {
    .magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    .name = "test.Tree",
    .short_name = "Tree",
    .c_name = "Test__Tree",
    .package_name = "test",
    .n_fields = 4,
    .fields = s_tree_fields,
    .n_field_ranges = 1,
    .field_ranges = s_tree_ranges,
};

static ld_status_t
s_tree_status (const s_wire_t *wire)
{
    char err[256] = "";
    ld_status_t rc = ld_codec_check (&s_tree_descriptor, wire->data, wire->size, err, sizeof err);
    if (rc != LD_OK)
        assert_true (err[0] != '\0');
    return rc;
}

static void
test_codec_accepts_repeated_field_at_count_limit (void **state)
{
    (void) state;
    s_wire_t numbers = {.size = 0}, names = {.size = 0};
    for (unsigned i = 0; i < LD_REPEATED_MAX; i++) {
        s_put_uint (&numbers, 1, i);
        s_put_string (&names, 2, "n");
    }
    assert_int_equal (s_tree_status (&numbers), LD_OK);
    assert_int_equal (s_tree_status (&names), LD_OK);
}

static void
test_codec_rejects_repeated_field_past_count_limit (void **state)
{
    (void) state;
    s_wire_t numbers = {.size = 0}, names = {.size = 0};
    for (unsigned i = 0; i < LD_REPEATED_MAX + 1; i++) {
        s_put_uint (&numbers, 1, i);
        s_put_string (&names, 2, "n");
    }
    assert_int_equal (s_tree_status (&numbers), LD_ERR_TOO_MANY);
    assert_int_equal (s_tree_status (&names), LD_ERR_TOO_MANY);
}

//  A packed run of count varints (each 1..127, so one byte each) as field 1.
static void
s_put_packed (s_wire_t *wire, size_t count)
{
    s_put_key (wire, 1, S_LENGTH);
    s_put_varint (wire, count);
    for (size_t i = 0; i < count; i++) {
        uint8_t value = (uint8_t) (i % 127 + 1);
        s_put_raw (wire, &value, 1);
    }
}

static void
test_codec_counts_packed_elements_against_the_limit (void **state)
{
    (void) state;
    s_wire_t at = {.size = 0}, past = {.size = 0}, split = {.size = 0};
    s_put_packed (&at, LD_REPEATED_MAX);
    s_put_packed (&past, LD_REPEATED_MAX + 1);
    //  Two runs of one field add up.
    s_put_packed (&split, LD_REPEATED_MAX / 2);
    s_put_packed (&split, LD_REPEATED_MAX / 2 + 1);
    assert_int_equal (s_tree_status (&at), LD_OK);
    assert_int_equal (s_tree_status (&past), LD_ERR_TOO_MANY);
    assert_int_equal (s_tree_status (&split), LD_ERR_TOO_MANY);
}

static void
test_codec_counts_packed_and_unpacked_elements_together (void **state)
{
    (void) state;
    s_wire_t wire = {.size = 0};
    s_put_packed (&wire, LD_REPEATED_MAX);
    s_put_uint (&wire, 1, 7);
    assert_int_equal (s_tree_status (&wire), LD_ERR_TOO_MANY);
}

static void
test_codec_rejects_malformed_packed_runs (void **state)
{
    (void) state;
    s_wire_t varints = {.size = 0}, fixed = {.size = 0};
    s_put_bytes (&varints, 1, "\x01\x82", 2); //  ends inside a varint
    s_put_bytes (&fixed, 4, "123456", 6);     //  not a multiple of 4
    assert_int_equal (s_tree_status (&varints), LD_ERR_MALFORMED);
    assert_int_equal (s_tree_status (&fixed), LD_ERR_MALFORMED);
}

//  A tree of `depth` nested children below the top message.
static void
s_put_nested (s_wire_t *wire, int depth)
{
    s_wire_t inner = {.size = 0};
    s_put_uint (&inner, 1, 1); //  the innermost holds a number
    for (int level = 0; level < depth; level++) {
        s_wire_t outer = {.size = 0};
        s_put_bytes (&outer, 3, inner.data, inner.size);
        inner = outer;
    }
    *wire = inner;
}

static void
test_codec_accepts_nesting_at_depth_limit (void **state)
{
    (void) state;
    s_wire_t wire;
    s_put_nested (&wire, LD_DEPTH_MAX);
    assert_int_equal (s_tree_status (&wire), LD_OK);
}

static void
test_codec_rejects_nesting_past_depth_limit (void **state)
{
    (void) state;
    s_wire_t wire;
    s_put_nested (&wire, LD_DEPTH_MAX + 1);
    assert_int_equal (s_tree_status (&wire), LD_ERR_TOO_DEEP);
}

static void
test_codec_checks_strings_inside_nested_messages (void **state)
{
    (void) state;
    s_wire_t inner = {.size = 0}, wire = {.size = 0};
    s_put_string (&inner, 2, "\xc0\x80");
    s_put_bytes (&wire, 3, inner.data, inner.size);
    assert_int_equal (s_tree_status (&wire), LD_ERR_BAD_UTF8);
}

#define S_TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)

int
main (void)
{
    const struct CMUnitTest tests[] = {
        S_TEST (test_event_rejects_a_field_given_twice),
        S_TEST (test_event_rejects_unknown_envelope_field),
        S_TEST (test_event_round_trips_with_every_accessor),
        S_TEST (test_event_at_seq_1_has_no_prev),
        S_TEST (test_event_dup_has_the_same_bytes_and_id),
        S_TEST (test_event_sign_refuses_what_a_receiver_would_refuse),
        S_TEST (test_event_rejects_flipped_bit),
        S_TEST (test_event_rejects_flipped_bit_in_unknown_type_event),
        S_TEST (test_event_rejects_every_truncation),
        S_TEST (test_event_verify_rejects_signature_by_another_key),
        S_TEST (test_event_accepts_envelope_at_default_size_limit),
        S_TEST (test_event_rejects_envelope_past_default_size_limit),
        S_TEST (test_event_sign_refuses_envelope_past_default_size_limit),
        S_TEST (test_event_honours_envelope_max_parameter),
        S_TEST (test_event_envelope_max_parameter_can_raise_the_limit),
        S_TEST (test_event_accepts_topic_at_length_limit),
        S_TEST (test_event_rejects_topic_past_length_limit),
        S_TEST (test_event_accepts_topic_segment_at_length_limit),
        S_TEST (test_event_rejects_topic_segment_past_length_limit),
        S_TEST (test_event_accepts_every_slug_character_in_topic),
        S_TEST (test_event_rejects_uppercase_topic),
        S_TEST (test_event_rejects_topic_with_space),
        S_TEST (test_event_rejects_topic_without_trailing_slash),
        S_TEST (test_event_rejects_topic_with_empty_segment),
        S_TEST (test_event_rejects_empty_topic),
        S_TEST (test_event_rejects_non_ascii_topic),
        S_TEST (test_event_rejects_invalid_utf8_in_topic),
        S_TEST (test_event_rejects_nul_in_topic),
        S_TEST (test_event_accepts_type_at_length_limit),
        S_TEST (test_event_rejects_type_past_length_limit),
        S_TEST (test_event_rejects_empty_type),
        S_TEST (test_event_rejects_type_outside_its_charset),
        S_TEST (test_event_rejects_invalid_utf8_in_type),
        S_TEST (test_event_checks_prev_against_string_limit_before_its_own_rule),
        S_TEST (test_event_rejects_prev_past_string_limit),
        S_TEST (test_event_rejects_author_past_string_limit),
        S_TEST (test_event_error_names_the_field_past_its_limit),
        S_TEST (test_event_accepts_note_text_at_text_limit),
        S_TEST (test_event_rejects_note_text_past_text_limit),
        S_TEST (test_event_accepts_chinese_note_text),
        S_TEST (test_event_rejects_invalid_utf8_in_note_text),
        S_TEST (test_event_rejects_nul_in_note_text),
        S_TEST (test_event_rejects_body_missing_any_required_field),
        S_TEST (test_event_rejects_envelope_missing_body_or_signature),
        S_TEST (test_event_rejects_empty_input),
        S_TEST (test_event_rejects_empty_body),
        S_TEST (test_event_rejects_note_without_text),
        S_TEST (test_event_rejects_truncated_varint),
        S_TEST (test_event_rejects_truncated_field_key),
        S_TEST (test_event_rejects_varint_longer_than_ten_bytes),
        S_TEST (test_event_rejects_varint_past_64_bits),
        S_TEST (test_event_rejects_length_past_the_end),
        S_TEST (test_event_rejects_huge_length),
        S_TEST (test_event_rejects_group_wire_types),
        S_TEST (test_event_rejects_undefined_wire_types),
        S_TEST (test_event_rejects_field_number_zero),
        S_TEST (test_event_rejects_truncated_fixed_field),
        S_TEST (test_event_rejects_wrong_wire_type_for_a_field),
        S_TEST (test_event_rejects_malformed_payload_of_known_type),
        S_TEST (test_event_rejects_malformed_envelope),
        S_TEST (test_event_rejects_author_key_of_wrong_length),
        S_TEST (test_event_rejects_seq_zero),
        S_TEST (test_event_rejects_prev_at_seq_1),
        S_TEST (test_event_rejects_missing_prev_at_seq_2),
        S_TEST (test_event_rejects_prev_of_wrong_length),
        S_TEST (test_event_rejects_signature_of_wrong_length),
        S_TEST (test_event_accepts_unknown_type_with_any_payload),
        S_TEST (test_event_skips_unknown_body_fields),
        S_TEST (test_codec_accepts_repeated_field_at_count_limit),
        S_TEST (test_codec_rejects_repeated_field_past_count_limit),
        S_TEST (test_codec_counts_packed_elements_against_the_limit),
        S_TEST (test_codec_counts_packed_and_unpacked_elements_together),
        S_TEST (test_codec_rejects_malformed_packed_runs),
        S_TEST (test_codec_accepts_nesting_at_depth_limit),
        S_TEST (test_codec_rejects_nesting_past_depth_limit),
        S_TEST (test_codec_checks_strings_inside_nested_messages),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
