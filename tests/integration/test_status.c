/*  test_status.c -- `liandong status --broker` end to end.

    Against a real --open broker, with events published through a node by
    `liandong publish`: the counts, the JSON shape, digests that change
    with one more event and match what the broker's store computes once it
    has stopped, the human output. A second broker --follow-ing the first:
    its link in both outputs, and the same digests once it has caught up.
    Against a fake broker (a ROUTER in the
    test), what a lone broker cannot show and what one should not send:
    --follow links in both outputs, an Error reply, a status without the
    digests asked for, silence.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_identity.h"
#include "ld_proc.h"
#include "ld_socket.h"
#include "ld_store.h"
#include "ld_sync.h"
#include "ld_test_util.h"

#define S_PATH_BYTES  (PATH_MAX / 2)
#define S_READY_MS    20000 //  a daemon prints its ready line within this
#define S_WAIT_MS     10000 //  a CLI run against the fake broker ends within this
#define S_CONVERGE_MS 30000 //  a --follow link catches up within this
#define S_RETRY_MS    100   //  between two looks at a converging link
#define S_OUT_MAX     65536
#define S_HEX_CHARS   (LD_ID_BYTES * 2)

typedef struct {
    char dir[S_PATH_BYTES];
    char broker_dir[S_PATH_BYTES + 16];
    char node_dir[S_PATH_BYTES + 16];
    char secret[S_PATH_BYTES + 32];
    char control[S_PATH_BYTES + 32];
    char listen[128];
    char follower_dir[S_PATH_BYTES + 16];
    char follower_listen[128];
    //  in the fixture, not on a test's stack: the process registry points
    //  at them until teardown, even when an assertion ends a test early
    ld_proc_t broker;
    ld_proc_t node;
    ld_proc_t follower; //  a second broker, --follow-ing the first
    ld_proc_t cli;      //  a `liandong status` run against the fake broker
} fixture_t;

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    snprintf (fx->broker_dir, sizeof fx->broker_dir, "%s/broker", fx->dir);
    snprintf (fx->node_dir, sizeof fx->node_dir, "%s/node", fx->dir);
    snprintf (fx->follower_dir, sizeof fx->follower_dir, "%s/follower", fx->dir);
    snprintf (fx->secret, sizeof fx->secret, "%s/keys/%s", fx->dir, LD_IDENTITY_SECRET);
    snprintf (fx->control, sizeof fx->control, "ipc://%s/control", fx->dir);
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_proc_stop_all ();
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

//  --------------------------------------------------------------------------
//  A real broker, and a node to publish through

static void
s_start_broker_and_node (fixture_t *fx)
{
    const char *broker[] = {"broker", "--data", fx->broker_dir, "--listen", "tcp://127.0.0.1:*",
                            "--open", NULL};
    assert_int_equal (ld_proc_start (&fx->broker, broker, true, S_READY_MS), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
    char keys[S_PATH_BYTES + 16];
    snprintf (keys, sizeof keys, "%s/keys", fx->dir);
    const char *keygen[] = {"keygen", "--out", keys, NULL};
    assert_int_equal (ld_test_run (keygen, NULL, 0, NULL, 0), 0);
    const char *node[] = {"node",     "--data",   fx->node_dir, "--identity", fx->secret,
                          "--broker", fx->listen, "--control",  fx->control,  NULL};
    assert_int_equal (ld_proc_start (&fx->node, node, true, S_READY_MS), 0);
}

//  One note through the node, acknowledged by the broker.
static void
s_publish (fixture_t *fx, const char *text)
{
    const char *args[] = {"publish",    "--control", fx->control, "--topic",
                          "note/test/", "--text",    text,        NULL};
    char err[1024];
    int rc = ld_test_run (args, NULL, 0, err, sizeof err);
    if (rc != 0)
        print_error ("publish: %s", err);
    assert_int_equal (rc, 0);
}

//  `status --broker LISTEN --json --digest`, parsed.
static json_t *
s_status_json_of (const char *listen)
{
    const char *args[] = {"status", "--broker", listen, "--json", "--digest", NULL};
    char *out = malloc (S_OUT_MAX), err[1024];
    assert_non_null (out);
    int rc = ld_test_run (args, out, S_OUT_MAX, err, sizeof err);
    if (rc != 0)
        print_error ("status: %s", err);
    assert_int_equal (rc, 0);
    json_error_t error;
    json_t *status = json_loads (out, 0, &error);
    if (!status)
        print_error ("not JSON (%s): %s", error.text, out);
    assert_non_null (status);
    free (out);
    return status;
}

static json_t *
s_status_json (fixture_t *fx)
{
    return s_status_json_of (fx->listen);
}

static uint64_t
s_number (const json_t *object, const char *name)
{
    json_t *value = json_object_get (object, name);
    assert_true (json_is_integer (value));
    assert_true (json_integer_value (value) >= 0);
    return (uint64_t) json_integer_value (value);
}

//  name holds 64 lowercase hex digits; their bytes into out.
static void
s_hex_digest (const json_t *object, const char *name, uint8_t out[LD_ID_BYTES])
{
    const char *hex = json_string_value (json_object_get (object, name));
    assert_non_null (hex);
    assert_int_equal (strlen (hex), S_HEX_CHARS);
    for (size_t i = 0; i < S_HEX_CHARS; i++)
        assert_true (isdigit ((unsigned char) hex[i]) || (hex[i] >= 'a' && hex[i] <= 'f'));
    size_t size = 0;
    assert_int_equal (sodium_hex2bin (out, LD_ID_BYTES, hex, S_HEX_CHARS, NULL, &size, NULL), 0);
    assert_int_equal (size, LD_ID_BYTES);
}

//  The object's keys are exactly names[0..count), in any order.
static void
s_assert_keys (const json_t *object, const char *const *names, size_t count)
{
    assert_true (json_is_object (object));
    for (size_t i = 0; i < count; i++)
        if (!json_object_get (object, names[i]))
            fail_msg ("no key '%s'", names[i]);
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) object, key, value)
    {
        bool known = false;
        for (size_t i = 0; i < count; i++)
            known = known || strcmp (key, names[i]) == 0;
        if (!known)
            fail_msg ("unexpected key '%s'", key);
    }
}

static const char *const s_status_keys[] = {
    "key",        "last_seq",     "authors",       "events",  "frozen", "select",
    "select_all", "heads_digest", "events_digest", "invalid", "peers"};
#define S_STATUS_KEYS (sizeof s_status_keys / sizeof s_status_keys[0])

static const char *const s_peer_keys[] = {"endpoint",  "key",        "connected", "last_contact_ms",
                                          "behind_in", "behind_out", "rate",      "pulled",
                                          "pushed",    "state",      "error",     "last_sync_ms"};
#define S_PEER_KEYS (sizeof s_peer_keys / sizeof s_peer_keys[0])

static void
test_status_shows_a_broker_s_store_and_its_digests (void **state)
{
    fixture_t *fx = *state;
    s_start_broker_and_node (fx);
    for (int i = 0; i < 3; i++)
        s_publish (fx, "议定事项进行任务分解");

    json_t *before = s_status_json (fx);
    s_assert_keys (before, s_status_keys, S_STATUS_KEYS);
    const char *key = json_string_value (json_object_get (before, "key"));
    assert_non_null (key);
    uint8_t broker_key[LD_KEY_BYTES];
    assert_int_equal (ld_key_from_text (key, broker_key), LD_OK);
    //  the node's feed and the broker's own (its receipts)
    assert_int_equal (s_number (before, "authors"), 2);
    uint64_t events = s_number (before, "events");
    assert_true (events >= 3 + 1);
    assert_int_equal (s_number (before, "last_seq"), events); //  nothing forked or moved
    assert_int_equal (s_number (before, "frozen"), 0);
    assert_int_equal (s_number (before, "invalid"), 0);
    assert_true (json_is_true (json_object_get (before, "select_all")));
    assert_int_equal (json_array_size (json_object_get (before, "select")), 0);
    json_t *peers = json_object_get (before, "peers");
    assert_true (json_is_array (peers));
    assert_int_equal (json_array_size (peers), 0);
    uint8_t heads_before[LD_ID_BYTES], events_before[LD_ID_BYTES];
    s_hex_digest (before, "heads_digest", heads_before);
    s_hex_digest (before, "events_digest", events_before);

    //  the same store answers the same digests
    json_t *again = s_status_json (fx);
    assert_string_equal (json_string_value (json_object_get (again, "events_digest")),
                         json_string_value (json_object_get (before, "events_digest")));
    json_decref (again);

    //  one more event changes both
    s_publish (fx, "one more");
    json_t *after = s_status_json (fx);
    assert_true (s_number (after, "events") > events);
    uint8_t heads_after[LD_ID_BYTES], events_after[LD_ID_BYTES];
    s_hex_digest (after, "heads_digest", heads_after);
    s_hex_digest (after, "events_digest", events_after);
    assert_memory_not_equal (heads_after, heads_before, LD_ID_BYTES);
    assert_memory_not_equal (events_after, events_before, LD_ID_BYTES);

    //  the human output: the key, the selection, no links, no digest rows
    const char *human[] = {"status", "--broker", fx->listen, NULL};
    char *out = malloc (S_OUT_MAX);
    assert_non_null (out);
    assert_int_equal (ld_test_run (human, out, S_OUT_MAX, NULL, 0), 0);
    assert_non_null (strstr (out, key));
    assert_non_null (strstr (out, "no --follow links"));
    assert_non_null (strstr (out, "all"));
    assert_null (strstr (out, "digest"));
    free (out);

    //  the digests are the store's, as ld_store_digest reads it
    assert_int_equal (ld_proc_stop (&fx->node), 0);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    char path[S_PATH_BYTES + 64];
    snprintf (path, sizeof path, "%s/%s", fx->broker_dir, LD_STORE_FILE);
    ld_store_t *store = NULL;
    assert_int_equal (ld_store_open (path, &store, NULL, 0), LD_OK);
    uint8_t heads[LD_ID_BYTES], all[LD_ID_BYTES];
    uint64_t count = 0;
    assert_int_equal (ld_store_digest (store, heads, all, &count, NULL), LD_OK);
    ld_store_destroy (&store);
    assert_memory_equal (heads, heads_after, LD_ID_BYTES);
    assert_memory_equal (all, events_after, LD_ID_BYTES);
    assert_int_equal (count, s_number (after, "events"));
    json_decref (before);
    json_decref (after);
}

static bool
s_same_string (const json_t *a, const json_t *b, const char *name)
{
    const char *x = json_string_value (json_object_get (a, name));
    const char *y = json_string_value (json_object_get (b, name));
    return x && y && strcmp (x, y) == 0;
}

static void
test_status_shows_a_follow_link_and_the_same_digests_once_caught_up (void **state)
{
    fixture_t *fx = *state;
    s_start_broker_and_node (fx);
    for (int i = 0; i < 3; i++)
        s_publish (fx, "金江苑社区");
    const char *follower[] = {
        "broker", "--data",   fx->follower_dir, "--listen", "tcp://127.0.0.1:*",
        "--open", "--follow", fx->listen,       NULL};
    assert_int_equal (ld_proc_start (&fx->follower, follower, true, S_READY_MS), 0);
    assert_int_equal (
        ld_proc_endpoint (&fx->follower, "listen", fx->follower_listen, sizeof fx->follower_listen),
        0);
    json_t *followed = s_status_json (fx);
    //  looks at the follower until its digests are the followed broker's
    json_t *status = NULL;
    bool same = false;
    int64_t deadline = ld_proc_now_ms () + S_CONVERGE_MS;
    while (!same && ld_proc_now_ms () < deadline) {
        json_decref (status);
        status = s_status_json_of (fx->follower_listen);
        same = s_same_string (status, followed, "heads_digest")
               && s_same_string (status, followed, "events_digest");
        if (!same)
            poll (NULL, 0, S_RETRY_MS);
    }
    if (!same)
        fail_msg ("the follower's digests never matched: %s", json_dumps (status, 0));
    assert_int_equal (s_number (status, "events"), s_number (followed, "events"));
    assert_int_equal (json_array_size (json_object_get (followed, "peers")), 0);
    json_t *peers = json_object_get (status, "peers");
    assert_int_equal (json_array_size (peers), 1);
    json_t *link = json_array_get (peers, 0);
    s_assert_keys (link, s_peer_keys, S_PEER_KEYS);
    assert_string_equal (json_string_value (json_object_get (link, "endpoint")), fx->listen);
    //  an --open link learns the key from the Welcome
    assert_true (s_same_string (link, followed, "key"));
    assert_true (json_is_true (json_object_get (link, "connected")));
    assert_true (s_number (link, "last_contact_ms") > 0);
    assert_true (json_is_null (json_object_get (link, "error")));

    //  the human output names the link
    const char *human[] = {"status", "--broker", fx->follower_listen, NULL};
    char *out = malloc (S_OUT_MAX);
    assert_non_null (out);
    assert_int_equal (ld_test_run (human, out, S_OUT_MAX, NULL, 0), 0);
    assert_non_null (strstr (out, fx->listen));
    assert_non_null (strstr (out, "connected, "));
    assert_null (strstr (out, "no --follow links"));
    free (out);
    json_decref (status);
    json_decref (followed);
}

//  --------------------------------------------------------------------------
//  A fake broker: a ROUTER that answers every BrokerStatusRequest with
//  `reply` (or never, if reply is NULL)

typedef struct {
    zsock_t *router;
    char listen[128];
    const ld_reply_t *reply;
    bool asked_digest; //  what the last request asked
} s_fake_t;

static void
s_fake_start (s_fake_t *fake, const ld_reply_t *reply)
{
    char err[256];
    ld_socket_spec_t spec = {.type = ZMQ_ROUTER, .endpoints = "@tcp://127.0.0.1:*"};
    fake->router = ld_socket_new (&spec, err, sizeof err);
    assert_non_null (fake->router);
    snprintf (fake->listen, sizeof fake->listen, "%s", zsock_endpoint (fake->router));
    fake->reply = reply;
}

static void
s_fake_answer (s_fake_t *fake)
{
    zmsg_t *msg = zmsg_recv (fake->router);
    assert_non_null (msg);
    zframe_t *routing_id = zmsg_first (msg);
    zframe_t *frame = zmsg_next (msg);
    ld_request_t *request = NULL;
    assert_non_null (frame);
    assert_int_equal (
        ld_request_decode (zframe_data (frame), zframe_size (frame), &request, NULL, 0), LD_OK);
    assert_int_equal (request->kind_case, LIANDONG__SYNC__REQUEST__KIND_BROKER_STATUS);
    fake->asked_digest = request->broker_status->has_digest && request->broker_status->digest;
    if (fake->reply)
        assert_int_equal (ld_reply_send (fake->router, routing_id, fake->reply), 0);
    ld_request_free (&request);
    zmsg_destroy (&msg);
}

//  Runs `liandong args...` against the fake, serving it until its output
//  ends; returns its exit code and its stdout in out.
static int
s_run_against (fixture_t *fx, s_fake_t *fake, const char *const *args, char *out, size_t size)
{
    assert_int_equal (ld_proc_start (&fx->cli, args, false, 0), 0);
    size_t used = 0;
    out[0] = '\0';
    int64_t deadline = ld_proc_now_ms () + S_WAIT_MS;
    bool open = true;
    while (open && ld_proc_now_ms () < deadline) {
        zmq_pollitem_t items[] = {{zsock_resolve (fake->router), 0, ZMQ_POLLIN, 0},
                                  {NULL, fx->cli.out, ZMQ_POLLIN, 0}};
        if (zmq_poll (items, 2, 100) <= 0)
            continue;
        if (items[0].revents & ZMQ_POLLIN)
            s_fake_answer (fake);
        if (items[1].revents)
            open = ld_test_drain (fx->cli.out, out, size, &used);
    }
    assert_true (ld_proc_wait (&fx->cli, S_WAIT_MS));
    return ld_proc_exit_code (&fx->cli);
}

//  The fake's answer: a broker of 40 events selecting two org paths, with
//  two --follow links, one of them down since it started.
typedef struct {
    Liandong__Sync__BrokerStatus status;
    Liandong__Sync__PeerStatus peers[2];
    Liandong__Sync__PeerStatus *peer_list[2];
    char *select[2];
    uint8_t key[LD_KEY_BYTES], peer_key[LD_KEY_BYTES];
    uint8_t heads[LD_ID_BYTES], events[LD_ID_BYTES];
    ld_reply_t reply;
} s_linked_t;

static void
s_linked_init (s_linked_t *linked, int64_t now_ms)
{
    memset (linked, 0, sizeof *linked);
    memset (linked->key, 0x11, LD_KEY_BYTES);
    memset (linked->peer_key, 0x22, LD_KEY_BYTES);
    memset (linked->heads, 0xab, LD_ID_BYTES);
    memset (linked->events, 0xcd, LD_ID_BYTES);
    linked->select[0] = "wudang/";
    linked->select[1] = "nanming/";
    Liandong__Sync__PeerStatus up = LIANDONG__SYNC__PEER_STATUS__INIT;
    up.endpoint = "tcp://10.0.0.2:7000";
    up.has_key = 1;
    up.key = (ProtobufCBinaryData){LD_KEY_BYTES, linked->peer_key};
    up.connected = true;
    up.has_last_contact_ms = 1;
    up.last_contact_ms = now_ms - 2000;
    up.behind_in = 5;
    up.rate = 12.5;
    up.pulled = 100;
    up.pushed = 7;
    up.state = "syncing";
    up.has_last_sync_ms = 1;
    up.last_sync_ms = now_ms - 60000;
    Liandong__Sync__PeerStatus down = LIANDONG__SYNC__PEER_STATUS__INIT;
    down.endpoint = "tcp://10.0.0.3:7000";
    down.connected = false;
    down.behind_out = 9;
    down.state = "connecting";
    down.error = "连接被拒绝";
    linked->peers[0] = up;
    linked->peers[1] = down;
    linked->peer_list[0] = &linked->peers[0];
    linked->peer_list[1] = &linked->peers[1];
    Liandong__Sync__BrokerStatus status = LIANDONG__SYNC__BROKER_STATUS__INIT;
    status.key = (ProtobufCBinaryData){LD_KEY_BYTES, linked->key};
    status.last_seq = 42;
    status.authors = 3;
    status.events = 40;
    status.frozen = 1;
    status.n_peers = 2;
    status.peers = linked->peer_list;
    status.n_select = 2;
    status.select = linked->select;
    status.has_select_all = 1;
    status.select_all = false;
    status.has_heads_digest = 1;
    status.heads_digest = (ProtobufCBinaryData){LD_ID_BYTES, linked->heads};
    status.has_events_digest = 1;
    status.events_digest = (ProtobufCBinaryData){LD_ID_BYTES, linked->events};
    status.has_invalid = 1;
    status.invalid = 2;
    linked->status = status;
    ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__REPLY__KIND_BROKER_STATUS;
    reply.broker_status = &linked->status;
    linked->reply = reply;
}

static void
test_status_shows_follow_links_as_json (void **state)
{
    fixture_t *fx = *state;
    s_linked_t linked;
    s_linked_init (&linked, zclock_time ());
    s_fake_t fake = {0};
    s_fake_start (&fake, &linked.reply);
    const char *args[] = {"status", "--broker", fake.listen, "--json", "--digest", NULL};
    char *out = malloc (S_OUT_MAX);
    assert_non_null (out);
    assert_int_equal (s_run_against (fx, &fake, args, out, S_OUT_MAX), 0);
    zsock_destroy (&fake.router);
    assert_true (fake.asked_digest);
    json_t *status = json_loads (out, 0, NULL);
    assert_non_null (status);
    s_assert_keys (status, s_status_keys, S_STATUS_KEYS);
    char key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (linked.key, key);
    assert_string_equal (json_string_value (json_object_get (status, "key")), key);
    assert_int_equal (s_number (status, "last_seq"), 42);
    assert_int_equal (s_number (status, "events"), 40);
    assert_int_equal (s_number (status, "frozen"), 1);
    assert_int_equal (s_number (status, "invalid"), 2);
    assert_true (json_is_false (json_object_get (status, "select_all")));
    json_t *select = json_object_get (status, "select");
    assert_int_equal (json_array_size (select), 2);
    assert_string_equal (json_string_value (json_array_get (select, 1)), "nanming/");
    char hex[S_HEX_CHARS + 1];
    memset (hex, 'a', S_HEX_CHARS);
    for (size_t i = 1; i < S_HEX_CHARS; i += 2)
        hex[i] = 'b';
    hex[S_HEX_CHARS] = '\0';
    assert_string_equal (json_string_value (json_object_get (status, "heads_digest")), hex);

    json_t *peers = json_object_get (status, "peers");
    assert_int_equal (json_array_size (peers), 2);
    json_t *up = json_array_get (peers, 0), *down = json_array_get (peers, 1);
    s_assert_keys (up, s_peer_keys, S_PEER_KEYS);
    s_assert_keys (down, s_peer_keys, S_PEER_KEYS);
    ld_key_to_text (linked.peer_key, key);
    assert_string_equal (json_string_value (json_object_get (up, "endpoint")),
                         "tcp://10.0.0.2:7000");
    assert_string_equal (json_string_value (json_object_get (up, "key")), key);
    assert_true (json_is_true (json_object_get (up, "connected")));
    assert_int_equal (s_number (up, "last_contact_ms"), linked.peers[0].last_contact_ms);
    assert_int_equal (s_number (up, "behind_in"), 5);
    assert_true (json_real_value (json_object_get (up, "rate")) == 12.5);
    assert_int_equal (s_number (up, "pulled"), 100);
    assert_int_equal (s_number (up, "pushed"), 7);
    assert_string_equal (json_string_value (json_object_get (up, "state")), "syncing");
    assert_true (json_is_null (json_object_get (up, "error")));
    assert_int_equal (s_number (up, "last_sync_ms"), linked.peers[0].last_sync_ms);
    assert_true (json_is_null (json_object_get (down, "key")));
    assert_true (json_is_false (json_object_get (down, "connected")));
    assert_int_equal (s_number (down, "last_contact_ms"), 0);
    assert_int_equal (s_number (down, "behind_out"), 9);
    assert_string_equal (json_string_value (json_object_get (down, "error")), "连接被拒绝");
    assert_int_equal (s_number (down, "last_sync_ms"), 0);
    json_decref (status);

    //  without --digest: neither asked for nor shown
    s_fake_start (&fake, &linked.reply);
    const char *plain[] = {"status", "--broker", fake.listen, "--json", NULL};
    assert_int_equal (s_run_against (fx, &fake, plain, out, S_OUT_MAX), 0);
    zsock_destroy (&fake.router);
    assert_false (fake.asked_digest);
    status = json_loads (out, 0, NULL);
    assert_non_null (status);
    assert_null (json_object_get (status, "heads_digest"));
    assert_null (json_object_get (status, "events_digest"));
    assert_null (json_object_get (status, "invalid"));
    assert_int_equal (json_array_size (json_object_get (status, "peers")), 2);
    json_decref (status);
    free (out);
}

static void
test_status_shows_follow_links_as_a_table (void **state)
{
    fixture_t *fx = *state;
    s_linked_t linked;
    s_linked_init (&linked, zclock_time ());
    s_fake_t fake = {0};
    s_fake_start (&fake, &linked.reply);
    const char *args[] = {"status", "--broker", fake.listen, "--digest", NULL};
    char *out = malloc (S_OUT_MAX);
    assert_non_null (out);
    assert_int_equal (s_run_against (fx, &fake, args, out, S_OUT_MAX), 0);
    zsock_destroy (&fake.router);
    char key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (linked.key, key);
    static const char *const expected[] = {
        "wudang/ nanming/",
        "heads digest",
        "abababab",
        "events digest",
        "cdcdcdcd",
        "tcp://10.0.0.2:7000",
        "connected, syncing",
        "s ago",
        "12.5/s",
        "tcp://10.0.0.3:7000",
        "disconnected, connecting",
        "never",
        "连接被拒绝",
    };
    assert_non_null (strstr (out, key));
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        if (!strstr (out, expected[i]))
            fail_msg ("no '%s' in:\n%s", expected[i], out);
    assert_null (strstr (out, "no --follow links"));
    free (out);
}

static void
test_status_exits_with_the_code_of_a_broker_s_refusal (void **state)
{
    fixture_t *fx = *state;
    Liandong__Sync__Error error = LIANDONG__SYNC__ERROR__INIT;
    error.status = "io-error";
    error.reason = "the store cannot be read";
    ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__REPLY__KIND_ERROR;
    reply.error = &error;
    s_fake_t fake = {0};
    s_fake_start (&fake, &reply);
    const char *args[] = {"status", "--broker", fake.listen, "--json", NULL};
    char out[256];
    assert_int_equal (s_run_against (fx, &fake, args, out, sizeof out), EX_IOERR);
    zsock_destroy (&fake.router);
    assert_string_equal (out, "");
}

static void
test_status_refuses_a_status_without_the_digests_asked_for (void **state)
{
    fixture_t *fx = *state;
    s_linked_t linked;
    s_linked_init (&linked, zclock_time ());
    linked.status.has_heads_digest = 0;
    linked.status.has_events_digest = 0;
    s_fake_t fake = {0};
    s_fake_start (&fake, &linked.reply);
    const char *args[] = {"status", "--broker", fake.listen, "--json", "--digest", NULL};
    char out[256];
    assert_int_equal (s_run_against (fx, &fake, args, out, sizeof out), EX_PROTOCOL);
    zsock_destroy (&fake.router);
    assert_string_equal (out, "");
}

static void
test_status_exits_69_when_the_broker_is_silent (void **state)
{
    fixture_t *fx = *state;
    s_fake_t fake = {0};
    s_fake_start (&fake, NULL);
    const char *args[] = {"status", "--broker", fake.listen, "--timeout", "300", NULL};
    char out[256];
    assert_int_equal (s_run_against (fx, &fake, args, out, sizeof out), EX_UNAVAILABLE);
    zsock_destroy (&fake.router);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_status_shows_a_broker_s_store_and_its_digests, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (
            test_status_shows_a_follow_link_and_the_same_digests_once_caught_up, setup, teardown),
        cmocka_unit_test_setup_teardown (test_status_shows_follow_links_as_json, setup, teardown),
        cmocka_unit_test_setup_teardown (test_status_shows_follow_links_as_a_table, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_status_exits_with_the_code_of_a_broker_s_refusal,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_status_refuses_a_status_without_the_digests_asked_for,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_status_exits_69_when_the_broker_is_silent, setup,
                                         teardown),
    };
    return cmocka_run_group_tests_name ("status", tests, NULL, NULL);
}
