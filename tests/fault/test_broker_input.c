/*  test_broker_input.c -- a running broker fed every kind of bad input:
    garbage frames, wrong frame counts, an oversize message, envelopes that
    do not decode, bad signatures, invalid UTF-8, broken chains, forged
    authors. Each gets a reason where there is a sender to tell, nothing of
    it is stored, and good traffic from another client flows afterwards.
    Also: an event of a type the broker does not know is stored and
    relayed (live and catch-up) like any other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ld_client.h"
#include "liandong.pb-c.h"
#include "ld_proc.h"
#include "ld_test_util.h"

#define S_TIMEOUT 10000

typedef struct {
    char dir[256];
    ld_proc_t broker;
    char listen[256];
    ld_client_t *client;
} fixture_t;

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    char data[300];
    snprintf (data, sizeof data, "%s/broker", fx->dir);
    const char *argv[] = {"broker", "--data", data, "--listen", "tcp://127.0.0.1:*",
                          "--open", NULL};
    assert_int_equal (ld_proc_start (&fx->broker, argv, true, S_TIMEOUT), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
    fx->client = ld_client_new (fx->listen);
    assert_non_null (fx->client);
    assert_int_equal (ld_client_hello (fx->client, S_TIMEOUT), 0);
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_client_destroy (&fx->client);
    //  a clean stop after all the abuse: exit code 0
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

//  Sends raw frames on a fresh DEALER and returns the first reply (or NULL).
static ld_reply_t *
s_send_frames (fixture_t *fx, zmsg_t **msg_p)
{
    ld_client_t *raw = ld_client_new (fx->listen);
    assert_non_null (raw);
    assert_int_equal (zmsg_send (msg_p, raw->dealer), 0);
    ld_reply_t *reply = ld_client_recv (raw, ld_client_now_ms () + S_TIMEOUT);
    ld_client_destroy (&raw);
    return reply;
}

//  Checks that reply is an Error with status, and frees it.
static void
s_assert_error (ld_reply_t *reply, const char *status)
{
    assert_non_null (reply);
    assert_int_equal (reply->kind_case, LIANDONG__SYNC__REPLY__KIND_ERROR);
    assert_string_equal (reply->error->status, status);
    assert_true (strlen (reply->error->reason) > 0);
    ld_reply_free (&reply);
}

static const Liandong__Sync__Refusal *
s_refusal_at (const ld_reply_t *ack, uint32_t index)
{
    for (size_t i = 0; i < ack->ack->n_refusals; i++)
        if (ack->ack->refusals[i]->index == index)
            return ack->ack->refusals[i];
    return NULL;
}

//  Good traffic still flows: a new author's batch is acknowledged whole.
static void
s_assert_good_traffic_flows (fixture_t *fx, uint8_t seed)
{
    ld_client_author_t *author = ld_client_author_new (seed);
    ld_event_t *events[20];
    for (int i = 0; i < 20; i++)
        events[i] = ld_client_author_next (author, "note/wudang/", "正常");
    ld_client_t *other = ld_client_new (fx->listen);
    assert_int_equal (ld_client_publish (other, events, 20, S_TIMEOUT, NULL, 0), 0);
    for (int i = 0; i < 20; i++)
        ld_event_destroy (&events[i]);
    ld_client_destroy (&other);
    ld_client_author_destroy (&author);
}

//  Everything the broker holds, as catch-up serves it.
static size_t
s_stored_count (fixture_t *fx, const char *prefix)
{
    ld_client_stored_t *stored = NULL;
    size_t count = 0;
    assert_int_equal (
        ld_client_catchup_all (fx->client, 0, prefix, S_TIMEOUT, &stored, &count, NULL), 0);
    ld_client_stored_free (&stored, count);
    return count;
}

static void
test_broker_answers_garbage_frames_with_a_reason (void **state)
{
    fixture_t *fx = *state;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "\xff\xff\xff garbage that is no protobuf");
    s_assert_error (s_send_frames (fx, &msg), "malformed");
    //  a valid protobuf of no known kind
    msg = zmsg_new ();
    zmsg_addmem (msg, "", 0);
    s_assert_error (s_send_frames (fx, &msg), "malformed");
    s_assert_good_traffic_flows (fx, 1);
}

static void
test_broker_answers_wrong_frame_counts (void **state)
{
    fixture_t *fx = *state;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "one");
    zmsg_addstr (msg, "two");
    s_assert_error (s_send_frames (fx, &msg), "malformed");
    s_assert_good_traffic_flows (fx, 2);
}

static void
test_broker_drops_an_oversize_message_and_serves_others (void **state)
{
    fixture_t *fx = *state;
    //  past ZMQ_MAXMSGSIZE: libzmq disconnects the sender, no reply
    size_t size = LD_SYNC_FRAME_MAX + 1024;
    zmsg_t *msg = zmsg_new ();
    zframe_t *frame = zframe_new (NULL, size);
    memset (zframe_data (frame), 0x42, size);
    zmsg_append (msg, &frame);
    ld_client_t *raw = ld_client_new (fx->listen);
    assert_int_equal (zmsg_send (&msg, raw->dealer), 0);
    ld_reply_t *reply = ld_client_recv (raw, ld_client_now_ms () + 1000);
    assert_null (reply);
    ld_client_destroy (&raw);
    s_assert_good_traffic_flows (fx, 3);
}

static void
test_broker_refuses_bad_envelopes_with_reasons_and_stores_none (void **state)
{
    fixture_t *fx = *state;
    size_t before = s_stored_count (fx, "");
    ld_client_author_t *author = ld_client_author_new (4);
    ld_event_t *first = ld_client_author_next (author, "note/wudang/", "1");
    ld_event_t *second = ld_client_author_next (author, "note/wudang/", "2");
    ld_event_t *third = ld_client_author_next (author, "note/wudang/", "3");
    size_t size;
    const uint8_t *good = ld_event_envelope (second, &size);
    //  a bad signature: flip a bit of the signature (the last bytes)
    uint8_t *bad_sig = malloc (size);
    memcpy (bad_sig, good, size);
    bad_sig[size - 1] ^= 0x01;
    //  invalid UTF-8 in the topic, properly signed by a forger
    ld_client_author_t *forger = ld_client_author_new (5);
    const uint8_t garbage[] = {0x0a, 0x05, 0x01, 0x02};
    const uint8_t *envelopes[] = {bad_sig, garbage, ld_event_envelope (third, &size)};
    size_t sizes[3];
    ld_event_envelope (second, &sizes[0]);
    sizes[1] = sizeof garbage;
    ld_event_envelope (third, &sizes[2]);
    ld_reply_t *ack = ld_client_publish_raw (fx->client, envelopes, sizes, 3, S_TIMEOUT);
    assert_non_null (ack);
    assert_int_equal (ack->ack->n_refusals, 3);
    assert_string_equal (s_refusal_at (ack, 0)->status, "bad-signature");
    assert_string_equal (s_refusal_at (ack, 1)->status, "malformed");
    //  seq 3 without 1 and 2: the sender is told which seq is needed
    const Liandong__Sync__Refusal *gap = s_refusal_at (ack, 2);
    assert_string_equal (gap->status, "gap");
    assert_true (gap->has_needed_seq);
    assert_int_equal (gap->needed_seq, 1);
    assert_true (strlen (gap->reason) > 0);
    ld_reply_free (&ack);
    //  a forged author: the forger signs a body claiming another's key
    size_t body_size;
    const uint8_t *body_bytes = ld_event_body (first, &body_size);
    uint8_t sig[LD_SIG_BYTES];
    ld_identity_sign (forger->identity, body_bytes, body_size, sig);
    Liandong__Envelope forged = LIANDONG__ENVELOPE__INIT;
    forged.body.data = (uint8_t *) body_bytes;
    forged.body.len = body_size;
    forged.signature.data = sig;
    forged.signature.len = LD_SIG_BYTES;
    size_t forged_size = liandong__envelope__get_packed_size (&forged);
    uint8_t *forged_bytes = malloc (forged_size);
    liandong__envelope__pack (&forged, forged_bytes);
    const uint8_t *one[] = {forged_bytes};
    ack = ld_client_publish_raw (fx->client, one, &forged_size, 1, S_TIMEOUT);
    assert_non_null (ack);
    assert_int_equal (ack->ack->n_refusals, 1);
    assert_string_equal (ack->ack->refusals[0]->status, "bad-signature");
    ld_reply_free (&ack);
    //  nothing of it was stored
    assert_int_equal (s_stored_count (fx, ""), before);
    s_assert_good_traffic_flows (fx, 6);
    free (forged_bytes);
    free (bad_sig);
    ld_event_destroy (&first);
    ld_event_destroy (&second);
    ld_event_destroy (&third);
    ld_client_author_destroy (&author);
    ld_client_author_destroy (&forger);
}

static void
test_broker_refuses_a_broken_chain_and_invalid_utf8 (void **state)
{
    fixture_t *fx = *state;
    ld_client_author_t *author = ld_client_author_new (7);
    ld_event_t *first = ld_client_author_next (author, "note/wudang/", "1");
    assert_int_equal (ld_client_publish (fx->client, &first, 1, S_TIMEOUT, NULL, 0), 0);
    //  seq 2 chained on something that is not seq 1
    memset (author->prev, 0x5A, LD_ID_BYTES);
    ld_event_t *broken = ld_client_author_next (author, "note/wudang/", "2");
    ld_client_refusal_t refusal;
    assert_int_equal (ld_client_publish (fx->client, &broken, 1, S_TIMEOUT, &refusal, 1), 1);
    assert_string_equal (refusal.status, "chain-broken");
    assert_false (refusal.retry);
    //  invalid UTF-8 in a note's text, validly signed: refused by the codec
    Liandong__Note note = LIANDONG__NOTE__INIT;
    note.text = "bad \xc3\x28 utf8";
    uint8_t payload[64];
    size_t payload_size = liandong__note__pack (&note, payload);
    Liandong__Body body = LIANDONG__BODY__INIT;
    body.author.data = (uint8_t *) ld_identity_public_key (author->identity);
    body.author.len = LD_KEY_BYTES;
    body.seq = 2;
    body.has_prev = 1;
    body.prev.data = (uint8_t *) ld_event_id (first);
    body.prev.len = LD_ID_BYTES;
    body.time_ms = 1;
    body.topic = "note/wudang/";
    body.type = "note";
    body.has_payload = 1;
    body.payload.data = payload;
    body.payload.len = payload_size;
    uint8_t body_bytes[512];
    size_t body_size = liandong__body__pack (&body, body_bytes);
    uint8_t sig[LD_SIG_BYTES];
    ld_identity_sign (author->identity, body_bytes, body_size, sig);
    Liandong__Envelope envelope = LIANDONG__ENVELOPE__INIT;
    envelope.body.data = body_bytes;
    envelope.body.len = body_size;
    envelope.signature.data = sig;
    envelope.signature.len = LD_SIG_BYTES;
    uint8_t bytes[640];
    size_t size = liandong__envelope__pack (&envelope, bytes);
    const uint8_t *one[] = {bytes};
    ld_reply_t *ack = ld_client_publish_raw (fx->client, one, &size, 1, S_TIMEOUT);
    assert_non_null (ack);
    assert_int_equal (ack->ack->n_refusals, 1);
    assert_string_equal (ack->ack->refusals[0]->status, "bad-utf8");
    ld_reply_free (&ack);
    //  the author's feed is still just seq 1, and it continues normally
    assert_int_equal (s_stored_count (fx, "note/wudang/"), 1);
    ld_event_destroy (&broken);
    ld_event_destroy (&first);
    ld_client_author_destroy (&author);
    s_assert_good_traffic_flows (fx, 8);
}

static void
test_broker_stores_and_relays_an_unknown_type (void **state)
{
    fixture_t *fx = *state;
    //  subscribe first, so the live relay can be seen
    zsock_t *sub = zsock_new_sub (fx->client->live, "future/");
    assert_non_null (sub);
    zsock_set_rcvtimeo (sub, S_TIMEOUT);
    ld_client_author_t *author = ld_client_author_new (9);
    const uint8_t payload[] = {0xfb, 0xff, 0xbf, 0x08, 0x2a};
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_sign (author->identity, 1, NULL, 1, "future/wudang/", "future.kind",
                                     payload, sizeof payload, &event, NULL, 0),
                      LD_OK);
    //  The subscription reaches the broker asynchronously: publish probe
    //  events under the same prefix until one arrives live.
    ld_client_author_t *probe = ld_client_author_new (10);
    zsock_set_rcvtimeo (sub, 100);
    bool subscribed = false;
    for (int attempt = 0; attempt < 100 && !subscribed; attempt++) {
        ld_event_t *ping = ld_client_author_next (probe, "future/probe/", "ping");
        assert_int_equal (ld_client_publish (fx->client, &ping, 1, S_TIMEOUT, NULL, 0), 0);
        ld_event_destroy (&ping);
        zmsg_t *msg = zmsg_recv (sub);
        subscribed = msg != NULL;
        zmsg_destroy (&msg);
    }
    assert_true (subscribed);
    //  drain probe copies still in flight
    zmsg_t *msg;
    while ((msg = zmsg_recv (sub)))
        zmsg_destroy (&msg);
    assert_int_equal (ld_client_publish (fx->client, &event, 1, S_TIMEOUT, NULL, 0), 0);
    zsock_set_rcvtimeo (sub, S_TIMEOUT);
    zmsg_t *live = zmsg_recv (sub);
    assert_non_null (live);
    assert_int_equal (zmsg_size (live), 3);
    char *topic = zmsg_popstr (live);
    assert_string_equal (topic, "future/wudang/");
    free (topic);
    zframe_t *seq_frame = zmsg_pop (live);
    zframe_t *envelope_frame = zmsg_pop (live);
    size_t envelope_size;
    const uint8_t *envelope = ld_event_envelope (event, &envelope_size);
    assert_int_equal (zframe_size (seq_frame), 8);
    assert_int_equal (zframe_size (envelope_frame), envelope_size);
    assert_memory_equal (zframe_data (envelope_frame), envelope, envelope_size);
    zframe_destroy (&seq_frame);
    zframe_destroy (&envelope_frame);
    zmsg_destroy (&live);
    ld_client_author_destroy (&probe);
    ld_client_stored_t *stored = NULL;
    size_t count = 0;
    assert_int_equal (
        ld_client_catchup_all (fx->client, 0, "future/wudang/", S_TIMEOUT, &stored, &count, NULL),
        0);
    assert_int_equal (count, 1);
    size_t size;
    const uint8_t *bytes = ld_event_envelope (event, &size);
    assert_int_equal (stored[0].size, size);
    assert_memory_equal (stored[0].envelope, bytes, size);
    //  it carries the broker's receipt
    assert_true (stored[0].receipt_seq > stored[0].store_seq);
    ld_client_stored_free (&stored, count);
    ld_event_destroy (&event);
    ld_client_author_destroy (&author);
    zsock_destroy (&sub);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_broker_answers_garbage_frames_with_a_reason, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_broker_answers_wrong_frame_counts, setup, teardown),
        cmocka_unit_test_setup_teardown (test_broker_drops_an_oversize_message_and_serves_others,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_broker_refuses_bad_envelopes_with_reasons_and_stores_none, setup, teardown),
        cmocka_unit_test_setup_teardown (test_broker_refuses_a_broken_chain_and_invalid_utf8, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_broker_stores_and_relays_an_unknown_type, setup,
                                         teardown),
    };
    return cmocka_run_group_tests_name ("broker input", tests, NULL, NULL);
}
