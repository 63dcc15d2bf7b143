/*  test_broker_authority.c -- a broker run with --trust holds the line by itself.

    Every test talks to a real broker process with a raw client that signs
    its own events (tests/ld_client.h), so no node check stands in front:
    a community writing into a neighbour's topics, a community certifying a
    street, a revoked key's later (and back-dated) events, an event that
    arrives before its author's certificate, and a second broker that
    learns of a revocation after it stored what the cut invalidates. The
    node's own check before signing is tested at the end through `liandong
    publish`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "ld_client.h"
#include "ld_payload.h"
#include "ld_pbjson.h"
#include "ld_proc.h"
#include "ld_test_util.h"

#define S_TIMEOUT  10000
#define S_ROOT     0x01
#define S_GUANXILU 0x02
#define S_JINJIANG 0x03
#define S_LONGGUAN 0x04
#define S_XINHE    0x05
#define S_SUPER    0x06
#define S_EVENTS   64

typedef struct {
    char dir[256];
    char root_pub[600];
    ld_proc_t broker;
    char data[300];
    char listen[256];
    ld_client_t *client;
    ld_client_author_t *root, *guanxilu, *jinjiang, *longguan, *xinhe, *super;
    //  every event the root signed, in order (to replay at a second broker)
    ld_event_t *root_events[S_EVENTS];
    size_t root_count;
} fixture_t;

static void
s_start_broker (fixture_t *fx, ld_proc_t *broker, const char *data, char *listen, size_t size)
{
    const char *argv[] = {"broker",  "--data",     data, "--listen", "tcp://127.0.0.1:*",
                          "--trust", fx->root_pub, NULL};
    assert_int_equal (ld_proc_start (broker, argv, true, S_TIMEOUT), 0);
    assert_int_equal (ld_proc_endpoint (broker, "listen", listen, size), 0);
}

//  A CurveZMQ client of the broker whose data dir is data, authenticated as
//  who (the root: a trusted key that may relay anyone's events).
static ld_client_t *
s_client (const char *data, const char *listen, ld_client_author_t *who)
{
    char path[400], err[256];
    uint8_t broker_key[LD_KEY_BYTES];
    snprintf (path, sizeof path, "%s/%s", data, LD_IDENTITY_PUBLIC);
    assert_int_equal (ld_public_key_load (path, broker_key, err, sizeof err), LD_OK);
    ld_client_t *client = ld_client_new_curve (listen, who->identity, broker_key);
    assert_non_null (client);
    return client;
}

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    fx->root = ld_client_author_new (S_ROOT);
    fx->guanxilu = ld_client_author_new (S_GUANXILU);
    fx->jinjiang = ld_client_author_new (S_JINJIANG);
    fx->longguan = ld_client_author_new (S_LONGGUAN);
    fx->xinhe = ld_client_author_new (S_XINHE);
    fx->super = ld_client_author_new (S_SUPER);
    char root_dir[300], err[256];
    snprintf (root_dir, sizeof root_dir, "%s/root", fx->dir);
    assert_int_equal (ld_identity_save (fx->root->identity, root_dir, false, err, sizeof err),
                      LD_OK);
    snprintf (fx->root_pub, sizeof fx->root_pub, "%s/%s", root_dir, LD_IDENTITY_PUBLIC);
    snprintf (fx->data, sizeof fx->data, "%s/broker", fx->dir);
    s_start_broker (fx, &fx->broker, fx->data, fx->listen, sizeof fx->listen);
    fx->client = s_client (fx->data, fx->listen, fx->root);
    assert_int_equal (ld_client_hello (fx->client, S_TIMEOUT), 0);
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_client_destroy (&fx->client);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    ld_proc_stop_all ();
    ld_client_author_destroy (&fx->root);
    ld_client_author_destroy (&fx->guanxilu);
    ld_client_author_destroy (&fx->jinjiang);
    ld_client_author_destroy (&fx->longguan);
    ld_client_author_destroy (&fx->xinhe);
    ld_client_author_destroy (&fx->super);
    for (size_t i = 0; i < fx->root_count; i++)
        ld_event_destroy (&fx->root_events[i]);
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

//  Publishes one event; returns its refusal ("" status if stored).
static ld_client_refusal_t
s_publish (ld_client_t *client, ld_event_t *event)
{
    ld_client_refusal_t refusal = {0};
    int refused = ld_client_publish (client, &event, 1, S_TIMEOUT, &refusal, 1);
    assert_true (refused == 0 || refused == 1);
    return refusal;
}

static void
s_assert_stored (ld_client_t *client, ld_event_t *event)
{
    ld_client_refusal_t refusal = s_publish (client, event);
    if (*refusal.status)
        fail_msg ("refused: %s: %s", refusal.status, refusal.reason);
}

//  certifier's next event: a certificate for subject.
static ld_event_t *
s_certificate (ld_client_author_t *certifier, ld_client_author_t *subject, const char *level,
               const char *path, const char *name)
{
    uint8_t *payload;
    size_t size;
    assert_int_equal (ld_payload_certify (ld_identity_public_key (subject->identity), level, path,
                                          name, &payload, &size),
                      LD_OK);
    char topic[300];
    snprintf (topic, sizeof topic, "trust/%s", path);
    ld_event_t *event = ld_client_author_event (certifier, topic, "trust.certify", payload, size,
                                                ld_client_now_ms ());
    free (payload);
    assert_non_null (event);
    return event;
}

//  The root's next event is kept for replay; returns it (borrowed).
static ld_event_t *
s_root_keep (fixture_t *fx, ld_event_t *event)
{
    assert_true (fx->root_count < S_EVENTS);
    fx->root_events[fx->root_count++] = event;
    return event;
}

//  Certifies, stores, frees: certifier -> subject.
static void
s_certify (fixture_t *fx, ld_client_author_t *certifier, ld_client_author_t *subject,
           const char *level, const char *path, const char *name)
{
    ld_event_t *event = s_certificate (certifier, subject, level, path, name);
    s_assert_stored (fx->client, event);
    if (certifier == fx->root)
        s_root_keep (fx, event);
    else
        ld_event_destroy (&event);
}

//  The district of the tests: 观溪路街道 with 金江苑社区 and 新河社区 under it.
static void
s_guanxilu (fixture_t *fx)
{
    s_certify (fx, fx->root, fx->guanxilu, "street", "wudang/guanxilu/", "观溪路街道");
    s_certify (fx, fx->guanxilu, fx->jinjiang, "community", "wudang/guanxilu/jinjiangyuan/",
               "金江苑社区");
    s_certify (fx, fx->guanxilu, fx->xinhe, "community", "wudang/guanxilu/xinhe/", "新河社区");
}

static void
s_assert_refused (ld_client_refusal_t refusal, const char *status, const char *in_reason)
{
    if (strcmp (refusal.status, status) != 0)
        fail_msg ("expected %s, got '%s': %s", status, refusal.status, refusal.reason);
    if (in_reason && !strstr (refusal.reason, in_reason))
        fail_msg ("reason does not name '%s': %s", in_reason, refusal.reason);
}

//  How many of author's events the broker holds, and their marks by seq.
static size_t
s_stored_of (ld_client_t *client, ld_client_author_t *author, char marks[][32], size_t max)
{
    ld_client_stored_t *events = NULL;
    size_t count = 0, mine = 0;
    assert_int_equal (ld_client_catchup_all (client, 0, "", S_TIMEOUT, &events, &count, NULL), 0);
    for (size_t i = 0; i < count; i++) {
        ld_event_t *event = NULL;
        assert_int_equal (ld_event_decode (events[i].envelope, events[i].size, 0, &event, NULL, 0),
                          LD_OK);
        if (memcmp (ld_event_author (event), ld_identity_public_key (author->identity),
                    LD_KEY_BYTES)
            == 0) {
            uint64_t seq = ld_event_seq (event);
            if (marks && seq >= 1 && seq <= max)
                snprintf (marks[seq - 1], 32, "%s", events[i].invalid);
            mine++;
        }
        ld_event_destroy (&event);
    }
    ld_client_stored_free (&events, count);
    return mine;
}

//  --------------------------------------------------------------------------

static void
test_a_community_cannot_write_into_a_neighbour_s_topics (void **state)
{
    fixture_t *fx = *state;
    s_guanxilu (fx);
    ld_event_t *own =
        ld_client_author_next (fx->jinjiang, "note/wudang/guanxilu/jinjiangyuan/", "楼道灯修好了");
    s_assert_stored (fx->client, own);
    ld_event_t *neighbour =
        ld_client_author_next (fx->jinjiang, "note/wudang/guanxilu/xinhe/", "替新河发通知");
    s_assert_refused (s_publish (fx->client, neighbour), "outside-path",
                      "outside the community's path 'wudang/guanxilu/jinjiangyuan/'");
    //  nor the street's own topics above it
    ld_client_author_t *again = fx->jinjiang;
    again->next_seq--; //  the refused seq was never stored: sign it anew
    memcpy (again->prev, ld_event_id (own), LD_ID_BYTES);
    ld_event_t *street = ld_client_author_next (again, "note/wudang/guanxilu/", "街道通知");
    s_assert_refused (s_publish (fx->client, street), "outside-path", "rule note");
    assert_int_equal (s_stored_of (fx->client, fx->jinjiang, NULL, 0), 1);
    ld_event_destroy (&own);
    ld_event_destroy (&neighbour);
    ld_event_destroy (&street);
}

static void
test_a_community_cannot_certify_a_street (void **state)
{
    fixture_t *fx = *state;
    s_guanxilu (fx);
    ld_event_t *cert = s_certificate (fx->jinjiang, fx->longguan, "street",
                                      "wudang/guanxilu/jinjiangyuan/x/", "假街道");
    s_assert_refused (s_publish (fx->client, cert), "forbidden-level", "rule trust.certify");
    //  a supervisor certifies nobody at all
    s_certify (fx, fx->root, fx->super, "supervisor", "wudang/", "乌当区督办");
    ld_event_t *by_super =
        s_certificate (fx->super, fx->longguan, "community", "wudang/longguanglu/", "假社区");
    s_assert_refused (s_publish (fx->client, by_super), "forbidden-type", "supervisor");
    //  the key certified nowhere stays unknown
    ld_event_t *note = ld_client_author_next (fx->longguan, "note/wudang/longguanglu/", "x");
    ld_client_refusal_t refusal = s_publish (fx->client, note);
    s_assert_refused (refusal, "awaiting-certificate", NULL);
    assert_true (refusal.retry);
    ld_event_destroy (&cert);
    ld_event_destroy (&by_super);
    ld_event_destroy (&note);
}

static void
test_an_event_before_its_certificate_is_admitted_once_it_arrives (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *early =
        ld_client_author_next (fx->longguan, "note/wudang/longguanglu/", "证书还没到");
    ld_client_refusal_t refusal = s_publish (fx->client, early);
    s_assert_refused (refusal, "awaiting-certificate", NULL);
    assert_true (refusal.retry);
    assert_int_equal (s_stored_of (fx->client, fx->longguan, NULL, 0), 0);
    s_certify (fx, fx->root, fx->longguan, "street", "wudang/longguanglu/", "龙广路街道");
    s_assert_stored (fx->client, early);
    assert_int_equal (s_stored_of (fx->client, fx->longguan, NULL, 0), 1);
    ld_event_destroy (&early);
}

//  The revocation cut, at the broker that learns it first and at a second
//  broker that stored the cut events before it learned of the cut.
static void
test_a_revocation_cut_invalidates_later_events_everywhere (void **state)
{
    fixture_t *fx = *state;
    s_certify (fx, fx->root, fx->longguan, "street", "wudang/longguanglu/", "龙广路街道");
    ld_event_t *feed[6];
    for (int i = 0; i < 5; i++) {
        feed[i] = ld_client_author_next (fx->longguan, "note/wudang/longguanglu/", "事项");
        s_assert_stored (fx->client, feed[i]);
    }
    //  broker 2 gets the certificate and all five events, not the cut
    ld_proc_t broker2;
    char data2[300], listen2[256];
    snprintf (data2, sizeof data2, "%s/broker2", fx->dir);
    s_start_broker (fx, &broker2, data2, listen2, sizeof listen2);
    ld_client_t *client2 = s_client (data2, listen2, fx->root);
    for (size_t i = 0; i < fx->root_count; i++)
        s_assert_stored (client2, fx->root_events[i]);
    for (int i = 0; i < 5; i++)
        s_assert_stored (client2, feed[i]);

    //  the root cuts the street after seq 3, at broker 1
    uint8_t *payload;
    size_t size;
    assert_int_equal (
        ld_payload_revoke (ld_identity_public_key (fx->longguan->identity), 3, &payload, &size),
        LD_OK);
    ld_event_t *revoke = ld_client_author_event (
        fx->root, "trust/wudang/longguanglu/", "trust.revoke", payload, size, ld_client_now_ms ());
    free (payload);
    s_assert_stored (fx->client, s_root_keep (fx, revoke));
    char marks[8][32] = {{0}};
    assert_int_equal (s_stored_of (fx->client, fx->longguan, marks, 8), 5);
    assert_string_equal (marks[2], "");
    assert_string_equal (marks[3], "revoked");
    assert_string_equal (marks[4], "revoked");
    //  a later event, back-dated to before the revocation, is never valid
    assert_int_equal (ld_payload_note ("倒签的事项", &payload, &size), LD_OK);
    feed[5] = ld_client_author_event (fx->longguan, "note/wudang/longguanglu/", "note", payload,
                                      size, 1000);
    free (payload);
    assert_non_null (feed[5]);
    s_assert_refused (s_publish (fx->client, feed[5]), "revoked", "after");

    //  broker 2 learns of the cut: it keeps the events and marks them
    s_assert_stored (client2, revoke);
    char marks2[8][32] = {{0}};
    assert_int_equal (s_stored_of (client2, fx->longguan, marks2, 8), 5);
    assert_string_equal (marks2[0], "");
    assert_string_equal (marks2[2], "");
    assert_string_equal (marks2[3], "revoked");
    assert_string_equal (marks2[4], "revoked");
    s_assert_refused (s_publish (client2, feed[5]), "revoked", NULL);

    //  a restart decides the same from what it stored
    ld_client_destroy (&client2);
    assert_int_equal (ld_proc_stop (&broker2), 0);
    s_start_broker (fx, &broker2, data2, listen2, sizeof listen2);
    client2 = s_client (data2, listen2, fx->root);
    s_assert_refused (s_publish (client2, feed[5]), "revoked", NULL);
    char marks3[8][32] = {{0}};
    assert_int_equal (s_stored_of (client2, fx->longguan, marks3, 8), 5);
    assert_string_equal (marks3[2], "");
    assert_string_equal (marks3[3], "revoked");
    ld_client_destroy (&client2);
    assert_int_equal (ld_proc_stop (&broker2), 0);
    for (int i = 0; i < 6; i++)
        ld_event_destroy (&feed[i]);
}

//  A CurveZMQ SUB to the client's live endpoint as who, subscribed to all.
static zsock_t *
s_live_sub (fixture_t *fx, ld_client_t *client, ld_client_author_t *who)
{
    char path[400], err[256], endpoint[300];
    uint8_t broker_key[LD_KEY_BYTES], server[LD_KEY_BYTES];
    snprintf (path, sizeof path, "%s/%s", fx->data, LD_IDENTITY_PUBLIC);
    assert_int_equal (ld_public_key_load (path, broker_key, err, sizeof err), LD_OK);
    assert_int_equal (ld_curve_public_from_key (broker_key, server), LD_OK);
    ld_curve_t *curve = ld_curve_new (who->identity);
    assert_non_null (curve);
    snprintf (endpoint, sizeof endpoint, ">%s", client->live);
    ld_socket_spec_t spec = {.type = ZMQ_SUB,
                             .endpoints = endpoint,
                             .max_message = LD_SYNC_FRAME_MAX,
                             .curve_secret = ld_curve_secret (curve),
                             .curve_public = ld_curve_public (curve),
                             .curve_server_key = server};
    zsock_t *sub = ld_socket_new (&spec, err, sizeof err);
    ld_curve_destroy (&curve);
    assert_non_null (sub);
    zsock_set_subscribe (sub, "");
    return sub;
}

//  Messages the SUB receives within ms.
static size_t
s_live_count (zsock_t *sub, int ms)
{
    size_t count = 0;
    int64_t deadline = ld_client_now_ms () + ms;
    while (true) {
        int64_t left = deadline - ld_client_now_ms ();
        zmq_pollitem_t item = {zsock_resolve (sub), 0, ZMQ_POLLIN, 0};
        if (left <= 0 || zmq_poll (&item, 1, (long) left) != 1)
            return count;
        zmsg_t *msg = zmsg_recv (sub);
        zmsg_destroy (&msg);
        count++;
    }
}

//  Root notes until the SUB has seen one (the subscription propagates
//  asynchronously).
static void
s_until_live (fixture_t *fx, zsock_t *sub)
{
    for (int i = 0; i < 50; i++) {
        ld_event_t *note = ld_client_author_next (fx->root, "note/wudang/", "门铃");
        s_assert_stored (fx->client, note);
        ld_event_destroy (&note);
        if (s_live_count (sub, 200) > 0)
            return;
    }
    fail_msg ("the live subscriber never received anything");
}

//  Only a certified key completes the CurveZMQ handshake; a revocation
//  refuses its next request at once and stops its live delivery.
static void
test_a_revoked_key_is_cut_off_at_once (void **state)
{
    fixture_t *fx = *state;
    char path[400], err[256];
    uint8_t broker_key[LD_KEY_BYTES];
    snprintf (path, sizeof path, "%s/%s", fx->data, LD_IDENTITY_PUBLIC);
    assert_int_equal (ld_public_key_load (path, broker_key, err, sizeof err), LD_OK);
    //  not certified yet: the handshake is refused, nothing comes back
    ld_client_t *street = ld_client_new_curve (fx->listen, fx->longguan->identity, broker_key);
    assert_non_null (street);
    assert_int_equal (ld_client_hello (street, 1000), -1);
    ld_client_destroy (&street);
    s_certify (fx, fx->root, fx->longguan, "street", "wudang/longguanglu/", "龙广路街道");
    street = ld_client_new_curve (fx->listen, fx->longguan->identity, broker_key);
    assert_int_equal (ld_client_hello (street, S_TIMEOUT), 0);
    ld_event_t *first = ld_client_author_next (fx->longguan, "note/wudang/longguanglu/", "一");
    s_assert_stored (street, first);
    //  live delivery to the street, and to the root as the control
    assert_int_equal (ld_client_hello (fx->client, S_TIMEOUT), 0);
    zsock_t *street_sub = s_live_sub (fx, street, fx->longguan);
    zsock_t *root_sub = s_live_sub (fx, fx->client, fx->root);
    s_until_live (fx, street_sub);
    s_until_live (fx, root_sub);

    //  the root cuts the street after its seq 1
    uint8_t *payload;
    size_t size;
    assert_int_equal (
        ld_payload_revoke (ld_identity_public_key (fx->longguan->identity), 1, &payload, &size),
        LD_OK);
    ld_event_t *revoke = ld_client_author_event (
        fx->root, "trust/wudang/longguanglu/", "trust.revoke", payload, size, ld_client_now_ms ());
    free (payload);
    s_assert_stored (fx->client, s_root_keep (fx, revoke));
    //  every later request of the street is refused, on its open connection
    assert_int_equal (ld_client_hello (street, S_TIMEOUT), -1);
    assert_string_equal (street->error_status, "unauthorized");
    //  live delivery stops for the street and goes on for the root
    s_live_count (street_sub, 500);
    s_until_live (fx, root_sub);
    for (int i = 0; i < 3; i++) {
        ld_event_t *note = ld_client_author_next (fx->root, "note/wudang/", "撤销之后");
        s_assert_stored (fx->client, note);
        ld_event_destroy (&note);
    }
    assert_int_equal (s_live_count (street_sub, 1500), 0);
    assert_true (s_live_count (root_sub, 1500) >= 3);
    //  and a new connection of the street is refused at the handshake
    ld_client_t *again = ld_client_new_curve (fx->listen, fx->longguan->identity, broker_key);
    assert_int_equal (ld_client_hello (again, 1000), -1);
    assert_string_equal (again->error_status, "");
    ld_client_destroy (&again);
    zsock_destroy (&street_sub);
    zsock_destroy (&root_sub);
    ld_client_destroy (&street);
    ld_event_destroy (&first);
}

//  `liandong status --json` of the node at control, into out.
static void
s_status (const char *control, char *out, size_t size)
{
    const char *argv[] = {"status", "--control", control, "--json", NULL};
    assert_int_equal (ld_test_run (argv, out, size, NULL, 0), 0);
}

//  Polls the node's status until it contains text, for up to ms.
static bool
s_status_until (const char *control, const char *text, int ms)
{
    char out[4096];
    int64_t deadline = ld_client_now_ms () + ms;
    do {
        s_status (control, out, sizeof out);
        if (strstr (out, text))
            return true;
        usleep (100000); //  a poll interval: the node's state is the condition
    } while (ld_client_now_ms () < deadline);
    fprintf (stderr, "last status: %s\n", out);
    return false;
}

//  Through a real node: an event before the author's certificate is kept
//  (publish exits 75) and delivered once the certificate arrives; then the
//  node refuses at once what the broker would refuse for good, naming the
//  rule, and goes on signing (it does not die).
static void
test_a_node_waits_for_its_certificate_and_refuses_overreach_at_once (void **state)
{
    fixture_t *fx = *state;
    char street_dir[300], secret[400], node_data[300], control[320], broker_pub[400];
    char err[512], out[4096];
    snprintf (street_dir, sizeof street_dir, "%s/street", fx->dir);
    assert_int_equal (ld_identity_save (fx->longguan->identity, street_dir, false, err, sizeof err),
                      LD_OK);
    snprintf (secret, sizeof secret, "%s/%s", street_dir, LD_IDENTITY_SECRET);
    snprintf (node_data, sizeof node_data, "%s/street.data", fx->dir);
    snprintf (control, sizeof control, "ipc://%s/street.ipc", fx->dir);
    snprintf (broker_pub, sizeof broker_pub, "%s/%s", fx->data, LD_IDENTITY_PUBLIC);
    ld_proc_t node;
    const char *node_argv[] = {"node",     "--data",    node_data,  "--identity",
                               secret,     "--broker",  fx->listen, "--broker-key",
                               broker_pub, "--control", control,    NULL};
    assert_int_equal (ld_proc_start (&node, node_argv, true, S_TIMEOUT), 0);

    const char *early[] = {
        "publish", "--control", control,     "--topic", "note/wudang/longguanglu/",
        "--text",  "证书未到",  "--timeout", "1000",    NULL};
    assert_int_equal (ld_test_run (early, out, sizeof out, err, sizeof err), 75);
    s_certify (fx, fx->root, fx->longguan, "street", "wudang/longguanglu/", "龙广路街道");
    //  the node connects anew and delivers; its fold names its level
    assert_true (s_status_until (control, "\"ackedSeq\":1", 20000));
    assert_true (s_status_until (control, "\"level\":\"street\"", 10000));

    const char *neighbour[] = {"publish", "--control", control, "--topic", "note/wudang/guanxilu/",
                               "--text",  "越界",      NULL};
    assert_int_equal (ld_test_run (neighbour, out, sizeof out, err, sizeof err), 65);
    assert_non_null (strstr (err, "outside-path"));
    assert_non_null (strstr (err, "rule note"));
    const char *inside[] = {"publish", "--control", control, "--topic", "note/wudang/longguanglu/",
                            "--text",  "辖区内",    NULL};
    assert_int_equal (ld_test_run (inside, out, sizeof out, err, sizeof err), 0);
    s_status (control, out, sizeof out);
    assert_non_null (strstr (out, "\"headSeq\":2"));
    assert_non_null (strstr (out, "\"dead\":null"));
    assert_int_equal (s_stored_of (fx->client, fx->longguan, NULL, 0), 2);
    assert_int_equal (ld_proc_stop (&node), 0);
}

//  Feed level, at the broker itself: a supervisor (or a unit) adopting a
//  resolution is never stored, whatever its payload says.
static void
test_a_resolution_adopted_by_a_supervisor_is_never_stored (void **state)
{
    fixture_t *fx = *state;
    s_certify (fx, fx->root, fx->super, "supervisor", "wudang/", "乌当区督办");
    json_t *json = json_pack ("{s:o, s:s, s:s}", "meeting",
                              json_string ("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), "text",
                              "督办自行通过决议", "category", "other");
    ProtobufCMessage *message = NULL;
    char err[256];
    assert_int_equal (ld_pbjson_to_message (ld_payload_descriptor ("resolution.adopt"), json,
                                            &message, err, sizeof err),
                      LD_OK);
    json_decref (json);
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_pack (message, &payload, &size), LD_OK);
    ld_pbjson_message_free (message);
    ld_event_t *adopt = ld_client_author_event (fx->super, "resolution/wudang/", "resolution.adopt",
                                                payload, size, ld_client_now_ms ());
    free (payload);
    assert_non_null (adopt);
    s_assert_refused (s_publish (fx->client, adopt), "forbidden-type", "resolution.adopt");
    assert_int_equal (s_stored_of (fx->client, fx->super, NULL, 0), 0);
    ld_event_destroy (&adopt);
}

int
main (void)
{
    if (ld_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_community_cannot_write_into_a_neighbour_s_topics,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_community_cannot_certify_a_street, setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_an_event_before_its_certificate_is_admitted_once_it_arrives, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_revocation_cut_invalidates_later_events_everywhere,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_revoked_key_is_cut_off_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_resolution_adopted_by_a_supervisor_is_never_stored,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_a_node_waits_for_its_certificate_and_refuses_overreach_at_once, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
