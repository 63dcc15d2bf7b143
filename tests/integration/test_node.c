/*  test_node.c -- `liandong node` and `liandong publish` against a real
    broker: real processes on loopback, temp dirs, readiness lines.

    Integration (default): publish is acknowledged and seq increments;
    --no-wait answers "committed"; with the broker down publish says
    "queued" (75) and the outbox delivers 5,000 events once the broker
    starts; a wiped node restores its feed with --restore, refuses to sign
    meanwhile, and continues without a fork; --restore refuses a data dir
    that holds own events; a missing or silent control socket is 69; usage
    errors are 64; a node whose event the broker refuses for good is dead
    and says so, also after a restart; a broker that lost its store is
    refilled from the outbox.

    Fault (argument --fault): the broker is killed -9 five times at random
    moments while three nodes publish 20,000 events each; afterwards every
    event a client saw acknowledged is in the broker's store, each feed is
    whole (seqs 1..20,000 once) and not frozen, and every outbox drains.
    Storage faults through the VFS shim (store/ld_faultvfs.c): a broker's
    full disk is retried by the outbox until space returns; a node's full
    disk refuses the request and the node goes on; a failed fsync stops the
    node with 74 and a restart recovers. Each has a control step without
    the fault.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>

#include "ld_faultvfs.h"
#include "ld_identity.h"
#include "ld_proc.h"
#include "ld_socket.h"
#include "ld_store.h"
#include "ld_sync.h"
#include "ld_test_util.h"

#define S_NODES_MAX    3
#define S_READY_MS     20000  //  a daemon prints its ready line within this
#define S_STATUS_MS    5000   //  a node answers NodeStatus within this
#define S_DRAIN_MS     120000 //  an outbox drains within this
#define S_PUBLISH_MS   300000 //  a bulk publish finishes within this
#define S_OUT_MAX      65536
#define S_BULK_EVENTS  5000
#define S_FAULT_EVENTS 20000
#define S_TAIL_EVENTS  10000 //  per node, for the tail check
#define S_FAULT_KILLS  5
#define S_PATH_BYTES   512

typedef struct {
    char dir[S_PATH_BYTES / 2];
    char broker_dir[S_PATH_BYTES];
    char listen[128]; //  the broker's actual --listen endpoint
    char live[128];   //  its --live endpoint, when the ports are fixed
    ld_proc_t broker;
    ld_proc_t nodes[S_NODES_MAX];
    ld_proc_t publishers[S_NODES_MAX];
    char node_dir[S_NODES_MAX][S_PATH_BYTES];
    char secret[S_NODES_MAX][S_PATH_BYTES];
    char control[S_NODES_MAX][S_PATH_BYTES];
    uint8_t key[S_NODES_MAX][LD_KEY_BYTES];
} fixture_t;

typedef struct {
    uint64_t head_seq, acked_seq;
    bool restoring;
    bool dead;
} s_status_t;

//  --------------------------------------------------------------------------
//  Processes

//  Fixes the broker's --listen and --live ports, for a test that starts it
//  later or restarts it; the broker is not running.
static void
s_broker_ports (fixture_t *fx)
{
    //  below the ephemeral range, so that a restart finds them free
    assert_int_equal (ld_proc_free_endpoint (fx->listen, sizeof fx->listen), 0);
    assert_int_equal (ld_proc_free_endpoint (fx->live, sizeof fx->live), 0);
}

//  Starts the broker: on the ports s_broker_ports fixed, else on any free
//  port ("*"), whose endpoint the ready line tells.
static void
s_broker_start (fixture_t *fx)
{
    const char *fixed[] = {"broker", "--data", fx->broker_dir, "--listen", fx->listen,
                           "--live", fx->live, "--open",       NULL};
    const char *any[] = {"broker", "--data", fx->broker_dir, "--listen", "tcp://127.0.0.1:*",
                         "--open", NULL};
    assert_int_equal (ld_proc_start (&fx->broker, fx->live[0] ? fixed : any, true, S_READY_MS), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
}

static void
s_node_start (fixture_t *fx, int i, bool restore)
{
    const char *argv[] = {
        "node",     "--data",   fx->node_dir[i], "--identity",   fx->secret[i],
        "--broker", fx->listen, "--control",     fx->control[i], restore ? "--restore" : NULL,
        NULL};
    assert_int_equal (ld_proc_start (&fx->nodes[i], argv, true, S_READY_MS), 0);
    char control[S_PATH_BYTES];
    assert_int_equal (ld_proc_endpoint (&fx->nodes[i], "control", control, sizeof control), 0);
    assert_string_equal (control, fx->control[i]);
}

//  Starts $LD_BIN argv with stdin from in_path and stdout to out_path (for
//  bulk publishing), registered with the harness so that it is stopped
//  even if the test fails.
static void
s_spawn_io (ld_proc_t *proc, const char *const *argv, const char *in_path, const char *out_path)
{
    memset (proc, 0, sizeof *proc);
    proc->out = -1;
    const char *bin = getenv ("LD_BIN");
    assert_non_null (bin);
    const char *args[LD_PROC_ARGS_MAX + 2] = {bin};
    for (size_t i = 0; argv[i] && i < LD_PROC_ARGS_MAX; i++)
        args[i + 1] = argv[i];
    fflush (NULL);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        int in = open (in_path, O_RDONLY);
        int out = open (out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || dup2 (in, STDIN_FILENO) < 0 || dup2 (out, STDOUT_FILENO) < 0)
            _exit (127);
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        execv (bin, (char *const *) args);
        _exit (127);
    }
    proc->pid = pid;
    for (int i = 0; i < LD_PROC_MAX; i++)
        if (!ld_proc_registry[i]) {
            ld_proc_registry[i] = proc;
            break;
        }
}

//  `liandong publish --control C --topic note/test/ ARGS...`; returns its
//  exit code with stdout in out and stderr in err.
static int
s_publish (fixture_t *fx, int i, const char *const *extra, char *out, char *err)
{
    const char *args[LD_TEST_ARGS_MAX + 1] = {"publish", "--control", fx->control[i], "--topic",
                                              "note/test/"};
    size_t n = 5;
    for (size_t k = 0; extra[k] && n < LD_TEST_ARGS_MAX; k++)
        args[n++] = extra[k];
    args[n] = NULL;
    return ld_test_run (args, out, S_OUT_MAX, err, S_OUT_MAX);
}

//  Writes count NDJSON note payloads into path.
static void
s_write_ndjson (const char *path, int count, int node)
{
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    for (int k = 1; k <= count; k++)
        fprintf (file, "{\"text\": \"node %d event %d: 议定事项进行任务分解并实行跟踪督办\"}\n",
                 node, k);
    assert_int_equal (fclose (file), 0);
}

//  --------------------------------------------------------------------------
//  Looking at nodes and the broker's store

//  Asks node i for its NodeStatus. Returns false if it does not answer.
static bool
s_node_status (fixture_t *fx, int i, s_status_t *status)
{
    char endpoint[S_PATH_BYTES + 2], err[256];
    snprintf (endpoint, sizeof endpoint, ">%s", fx->control[i]);
    ld_socket_spec_t spec = {.type = ZMQ_DEALER, .endpoints = endpoint, .max_message = 65536};
    zsock_t *sock = ld_socket_new (&spec, err, sizeof err);
    assert_non_null (sock);
    Liandong__Sync__NodeStatusRequest status_request = LIANDONG__SYNC__NODE_STATUS_REQUEST__INIT;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_STATUS;
    request.status = &status_request;
    bool answered = false;
    if (ld_control_request_send (sock, &request) == 0) {
        zmq_pollitem_t item = {zsock_resolve (sock), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, S_STATUS_MS) == 1) {
            zframe_t *frame = zframe_recv (sock);
            ld_control_reply_t *reply = NULL;
            if (frame
                && ld_control_reply_decode (zframe_data (frame), zframe_size (frame), &reply, err,
                                            sizeof err)
                       == LD_OK
                && reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_STATUS) {
                status->head_seq = reply->status->head_seq;
                status->acked_seq = reply->status->acked_seq;
                status->restoring = reply->status->restoring;
                status->dead = reply->status->dead != NULL;
                answered = true;
            }
            ld_control_reply_free (&reply);
            zframe_destroy (&frame);
        }
    }
    zsock_destroy (&sock);
    return answered;
}

//  Waits until node i's outbox is drained at head (acked == head == head)
//  and it is not restoring; fails the test after S_DRAIN_MS.
static void
s_wait_drained (fixture_t *fx, int i, uint64_t head)
{
    int64_t deadline = ld_proc_now_ms () + S_DRAIN_MS;
    s_status_t status = {0};
    while (ld_proc_now_ms () < deadline) {
        assert_true (s_node_status (fx, i, &status));
        if (!status.restoring && status.head_seq == head && status.acked_seq == head)
            return;
        poll (NULL, 0, 50); //  a poll timeout between two questions
    }
    fail_msg ("node %d not drained: head %" PRIu64 " acked %" PRIu64 ", expected %" PRIu64, i,
              status.head_seq, status.acked_seq, head);
}

//  Opens the broker's store; the broker must be stopped.
static ld_store_t *
s_broker_store (fixture_t *fx)
{
    assert_true (fx->broker.reaped);
    char path[S_PATH_BYTES + 32];
    snprintf (path, sizeof path, "%s/%s", fx->broker_dir, LD_STORE_FILE);
    ld_store_t *store = NULL;
    assert_int_equal (ld_store_open (path, &store, NULL, 0), LD_OK);
    return store;
}

typedef struct {
    uint64_t next_seq; //  the seq expected next
    uint8_t (*ids)[LD_ID_BYTES];
    size_t capacity;
    bool broken;
} s_feed_t;

static int
s_collect_ids (void *arg, const ld_stored_t *stored)
{
    s_feed_t *feed = arg;
    ld_event_t *event = NULL;
    if (ld_event_decode (stored->envelope, stored->size, 0, &event, NULL, 0) != LD_OK
        || ld_event_seq (event) != feed->next_seq || feed->next_seq > feed->capacity) {
        feed->broken = true;
        ld_event_destroy (&event);
        return 1;
    }
    memcpy (feed->ids[feed->next_seq - 1], ld_event_id (event), LD_ID_BYTES);
    feed->next_seq++;
    ld_event_destroy (&event);
    return 0;
}

//  Reads node i's whole feed from store into ids[seq - 1]; asserts it is
//  exactly seqs 1..count, once each, in order, and not frozen.
static uint8_t (*s_read_feed (fixture_t *fx, ld_store_t *store, int i, uint64_t count))[LD_ID_BYTES]
{
    ld_head_t head;
    assert_int_equal (ld_store_head (store, fx->key[i], &head), LD_OK);
    assert_int_equal (head.seq, count);
    assert_false (head.frozen);
    s_feed_t feed = {.next_seq = 1, .capacity = count};
    feed.ids = calloc (count, LD_ID_BYTES);
    assert_non_null (feed.ids);
    assert_int_equal (ld_store_read_feed (store, fx->key[i], 1, 0, s_collect_ids, &feed), LD_OK);
    assert_false (feed.broken);
    assert_int_equal (feed.next_seq, count + 1);
    return feed.ids;
}

//  Parses a text-mode line "<id> <seq>".
static uint64_t
s_parse_line (const char *line, uint8_t id[LD_ID_BYTES])
{
    char text[LD_ID_TEXT_BYTES];
    unsigned long long seq = 0;
    assert_int_equal (sscanf (line, "%51s %llu", text, &seq), 2);
    assert_int_equal (ld_id_from_text (text, id), LD_OK);
    return seq;
}

//  --------------------------------------------------------------------------
//  Fixtures

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    snprintf (fx->broker_dir, sizeof fx->broker_dir, "%s/broker", fx->dir);
    for (int i = 0; i < S_NODES_MAX; i++) {
        char keys[S_PATH_BYTES / 2 + 16];
        snprintf (keys, sizeof keys, "%s/keys%d", fx->dir, i);
        snprintf (fx->node_dir[i], sizeof fx->node_dir[i], "%s/node%d", fx->dir, i);
        snprintf (fx->secret[i], sizeof fx->secret[i], "%s/%s", keys, LD_IDENTITY_SECRET);
        snprintf (fx->control[i], sizeof fx->control[i], "ipc://%s/control%d", fx->dir, i);
        const char *keygen[] = {"keygen", "--out", keys, NULL};
        assert_int_equal (ld_test_run (keygen, NULL, 0, NULL, 0), 0);
        char pub[S_PATH_BYTES + 16];
        snprintf (pub, sizeof pub, "%s/%s", keys, LD_IDENTITY_PUBLIC);
        assert_int_equal (ld_public_key_load (pub, fx->key[i], NULL, 0), LD_OK);
    }
    *state = fx;
    return 0;
}

//  Nodes still running are stopped with SIGTERM and must exit cleanly (in
//  the sanitizer build that also means without leaks); anything else the
//  test started is killed.
static int
teardown (void **state)
{
    fixture_t *fx = *state;
    int result = 0;
    for (int i = 0; i < S_NODES_MAX; i++)
        if (fx->nodes[i].pid && !fx->nodes[i].reaped && ld_proc_stop (&fx->nodes[i]) != 0) {
            print_error ("node %d did not stop cleanly: exit %d\n", i,
                         ld_proc_exit_code (&fx->nodes[i]));
            result = -1;
        }
    ld_proc_stop_all ();
    ld_test_remove_tree (fx->dir);
    free (fx);
    return result;
}

//  --------------------------------------------------------------------------
//  Integration

static void
test_publish_is_acknowledged_and_seq_increments (void **state)
{
    fixture_t *fx = *state;
    s_broker_start (fx);
    s_node_start (fx, 0, false);
    char out[S_OUT_MAX], err[S_OUT_MAX];
    uint8_t id1[LD_ID_BYTES], id2[LD_ID_BYTES];

    const char *first[] = {"--text", "龙广路街道大工委联席会议", NULL};
    assert_int_equal (s_publish (fx, 0, first, out, err), EX_OK);
    assert_int_equal (s_parse_line (out, id1), 1);
    const char *second[] = {"--type", "note", "--text", "垃圾杂物清运", NULL};
    assert_int_equal (s_publish (fx, 0, second, out, err), EX_OK);
    assert_int_equal (s_parse_line (out, id2), 2);

    //  Acknowledged means stored by the broker: both are there.
    s_wait_drained (fx, 0, 2);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    ld_store_t *store = s_broker_store (fx);
    uint8_t (*ids)[LD_ID_BYTES] = s_read_feed (fx, store, 0, 2);
    assert_memory_equal (ids[0], id1, LD_ID_BYTES);
    assert_memory_equal (ids[1], id2, LD_ID_BYTES);
    free (ids);
    ld_store_destroy (&store);
}

static void
test_no_wait_answers_committed (void **state)
{
    fixture_t *fx = *state;
    s_broker_ports (fx); //  the broker is down: committed does not need it
    s_node_start (fx, 0, false);
    char out[S_OUT_MAX], err[S_OUT_MAX], path[S_PATH_BYTES + 16];
    snprintf (path, sizeof path, "%s/event.json", fx->dir);
    const char *event =
        "{\n  \"topic\": \"note/wudang/\",\n  \"payload\": {\"text\": \"一表\"}\n}\n";
    assert_int_equal (ld_test_write_file (path, event, strlen (event), 0600), 0);

    const char *json[] = {"--type", "note", "--json", path, "--no-wait", NULL};
    assert_int_equal (s_publish (fx, 0, json, out, err), EX_OK);
    json_t *line = json_loads (out, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null (line);
    assert_string_equal (json_string_value (json_object_get (line, "status")), "committed");
    assert_int_equal (json_integer_value (json_object_get (line, "seq")), 1);
    uint8_t id[LD_ID_BYTES];
    assert_int_equal (ld_id_from_text (json_string_value (json_object_get (line, "id")), id),
                      LD_OK);
    json_decref (line);

    const char *text[] = {"--text", "一册", "--no-wait", NULL};
    assert_int_equal (s_publish (fx, 0, text, out, err), EX_OK);
    assert_int_equal (s_parse_line (out, id), 2);
}

static void
test_publish_with_broker_down_is_queued (void **state)
{
    fixture_t *fx = *state;
    s_broker_ports (fx); //  the broker is down
    s_node_start (fx, 0, false);
    char out[S_OUT_MAX], err[S_OUT_MAX];
    uint8_t id[LD_ID_BYTES];

    const char *args[] = {"--text", "一卡", "--timeout", "300", NULL};
    assert_int_equal (s_publish (fx, 0, args, out, err), EX_TEMPFAIL);
    assert_int_equal (s_parse_line (out, id), 1); //  committed all the same
    assert_non_null (strstr (err, "queued"));
}

static void
test_outbox_delivers_5000_events_once_broker_starts (void **state)
{
    fixture_t *fx = *state;
    s_broker_ports (fx); //  the broker is down
    s_node_start (fx, 0, false);
    char in[S_PATH_BYTES + 16], out[S_PATH_BYTES + 16];
    snprintf (in, sizeof in, "%s/bulk.ndjson", fx->dir);
    snprintf (out, sizeof out, "%s/bulk.out", fx->dir);
    s_write_ndjson (in, S_BULK_EVENTS, 0);

    const char *argv[] = {"publish", "--control", fx->control[0], "--topic", "note/test/",
                          "--type",  "note",      "--json",       "-",       "--no-wait",
                          NULL};
    s_spawn_io (&fx->publishers[0], argv, in, out);
    assert_true (ld_proc_wait (&fx->publishers[0], S_PUBLISH_MS));
    assert_int_equal (ld_proc_exit_code (&fx->publishers[0]), EX_OK);
    s_status_t status;
    assert_true (s_node_status (fx, 0, &status));
    assert_int_equal (status.head_seq, S_BULK_EVENTS);
    assert_int_equal (status.acked_seq, 0); //  nothing could be delivered yet

    s_broker_start (fx); //  on the same port
    s_wait_drained (fx, 0, S_BULK_EVENTS);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    ld_store_t *store = s_broker_store (fx);
    free (s_read_feed (fx, store, 0, S_BULK_EVENTS));
    ld_store_destroy (&store);
}

static void
test_wiped_node_restores_and_continues_without_fork (void **state)
{
    fixture_t *fx = *state;
    s_broker_ports (fx); //  fixed: the broker restarts on them
    s_broker_start (fx);
    s_node_start (fx, 0, false);
    char out[S_OUT_MAX], err[S_OUT_MAX];
    uint8_t id[LD_ID_BYTES];
    const char *note[] = {"--text", "结对共建", NULL};
    for (int k = 1; k <= 3; k++) {
        assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK);
        assert_int_equal (s_parse_line (out, id), k);
    }
    //  The disk is lost; the broker is down when the node comes back.
    assert_int_equal (ld_proc_stop (&fx->nodes[0]), 0);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    assert_int_equal (ld_test_remove_tree (fx->node_dir[0]), 0);
    s_node_start (fx, 0, true);

    //  Until it knows its head it signs nothing: seq 1 again would fork.
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_DATAERR);
    assert_non_null (strstr (err, "restoring"));
    s_status_t status;
    assert_true (s_node_status (fx, 0, &status));
    assert_true (status.restoring);

    s_broker_start (fx);
    s_wait_drained (fx, 0, 3);
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK);
    assert_int_equal (s_parse_line (out, id), 4);

    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    ld_store_t *store = s_broker_store (fx);
    uint8_t (*ids)[LD_ID_BYTES] = s_read_feed (fx, store, 0, 4); //  whole, not frozen
    assert_memory_equal (ids[3], id, LD_ID_BYTES);
    free (ids);
    ld_store_destroy (&store);
}

static void
test_outbox_refills_a_broker_that_lost_its_store (void **state)
{
    fixture_t *fx = *state;
    s_broker_ports (fx); //  fixed: the broker restarts on them
    s_broker_start (fx);
    s_node_start (fx, 0, false);
    char out[S_OUT_MAX], err[S_OUT_MAX];
    uint8_t id[LD_ID_BYTES];
    const char *note[] = {"--text", "网格事件", NULL};
    for (int k = 1; k <= 3; k++)
        assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    assert_int_equal (ld_test_remove_tree (fx->broker_dir), 0);
    s_broker_start (fx);

    //  Seq 4 is a gap for the empty broker: it asks for seq 1, and the
    //  outbox sends the whole feed again.
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK);
    assert_int_equal (s_parse_line (out, id), 4);
    s_wait_drained (fx, 0, 4);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    ld_store_t *store = s_broker_store (fx);
    free (s_read_feed (fx, store, 0, 4));
    ld_store_destroy (&store);
}

static void
test_restore_refuses_data_dir_with_own_events (void **state)
{
    fixture_t *fx = *state;
    s_broker_ports (fx); //  the broker is down
    s_node_start (fx, 0, false);
    char out[S_OUT_MAX], err[S_OUT_MAX];
    const char *note[] = {"--text", "双报到", "--no-wait", NULL};
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK);
    assert_int_equal (ld_proc_stop (&fx->nodes[0]), 0);

    const char *argv[] = {"node",     "--data",   fx->node_dir[0], "--identity",   fx->secret[0],
                          "--broker", fx->listen, "--control",     fx->control[0], "--restore",
                          NULL};
    assert_int_equal (ld_test_run (argv, out, S_OUT_MAX, err, S_OUT_MAX), EX_USAGE);
    assert_non_null (strstr (err, "cannot restore"));
}

static void
test_publish_without_node_is_unavailable (void **state)
{
    fixture_t *fx = *state;
    char out[S_OUT_MAX], err[S_OUT_MAX];
    const char *args[] = {"--text", "网格", "--timeout", "200", NULL};
    //  No socket file at all: said at once.
    assert_int_equal (s_publish (fx, 0, args, out, err), EX_UNAVAILABLE);
    assert_non_null (strstr (err, "not reachable"));
    //  A socket file nobody serves (a node killed -9): said after the timeout.
    s_broker_ports (fx); //  the broker is down
    s_node_start (fx, 0, false);
    ld_proc_kill (&fx->nodes[0]);
    assert_int_equal (s_publish (fx, 0, args, out, err), EX_UNAVAILABLE);
    assert_string_equal (out, "");
}

static void
test_node_refused_for_good_stops_signing_for_good (void **state)
{
    fixture_t *fx = *state;
    s_broker_start (fx);
    s_node_start (fx, 0, false);
    char out[S_OUT_MAX], err[S_OUT_MAX];
    const char *note[] = {"--text", "心愿清单", NULL};
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK);
    //  The data dir is lost and the node restarted without --restore: its
    //  new seq 1 is a fork of the one the broker holds.
    assert_int_equal (ld_proc_stop (&fx->nodes[0]), 0);
    assert_int_equal (ld_test_remove_tree (fx->node_dir[0]), 0);
    s_node_start (fx, 0, false);
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_DATAERR);
    assert_non_null (strstr (err, "fork"));

    //  Dead: every later request says so, also after a restart.
    s_status_t status;
    assert_true (s_node_status (fx, 0, &status));
    assert_true (status.dead);
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_DATAERR);
    assert_non_null (strstr (err, "dead"));
    assert_int_equal (ld_proc_stop (&fx->nodes[0]), 0);
    s_node_start (fx, 0, false);
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_DATAERR);
    assert_non_null (strstr (err, "recovery is a new key"));
}

static void
test_usage_errors_exit_64 (void **state)
{
    fixture_t *fx = *state;
    char out[S_OUT_MAX], err[S_OUT_MAX];
    const char *no_input[] = {NULL};
    const char *both[] = {"--text", "a", "--json", "-", NULL};
    const char *wrong_type[] = {"--type", "receipt", "--text", "a", NULL};
    const char *bad_timeout[] = {"--text", "a", "--timeout", "0", NULL};
    assert_int_equal (s_publish (fx, 0, no_input, out, err), EX_USAGE);
    assert_int_equal (s_publish (fx, 0, both, out, err), EX_USAGE);
    assert_int_equal (s_publish (fx, 0, wrong_type, out, err), EX_USAGE);
    assert_int_equal (s_publish (fx, 0, bad_timeout, out, err), EX_USAGE);
    const char *bad_topic[] = {
        "publish", "--control", fx->control[0], "--topic", "Note/Street1", "--text", "a", NULL};
    assert_int_equal (ld_test_run (bad_topic, out, S_OUT_MAX, err, S_OUT_MAX), EX_USAGE);
    assert_non_null (strstr (err, "topic"));
    const char *node_incomplete[] = {"node", "--data", fx->node_dir[0], NULL};
    assert_int_equal (ld_test_run (node_incomplete, out, S_OUT_MAX, err, S_OUT_MAX), EX_USAGE);
    const char *node_tcp_control[] = {"node",
                                      "--data",
                                      fx->node_dir[0],
                                      "--identity",
                                      fx->secret[0],
                                      "--broker",
                                      "tcp://127.0.0.1:1",
                                      "--control",
                                      "tcp://127.0.0.1:2",
                                      NULL};
    assert_int_equal (ld_test_run (node_tcp_control, out, S_OUT_MAX, err, S_OUT_MAX), EX_USAGE);
}

//  Runs `liandong tail --from 0 --prefix note/test/ --count N --json` against
//  the broker and checks what it printed: exactly per_node events of each
//  node, each (author, seq) once, each author's seqs in order 1, 2, 3, ...
//  (the tail verifies every signature itself: it exits 65 otherwise).
static void
s_tail_check (fixture_t *fx, int nodes, uint64_t per_node)
{
    char out_path[S_PATH_BYTES + 16], count[24];
    snprintf (out_path, sizeof out_path, "%s/tail.ndjson", fx->dir);
    snprintf (count, sizeof count, "%" PRIu64, per_node * (uint64_t) nodes);
    const char *argv[] = {"tail",       "--broker", fx->listen, "--from", "0", "--prefix",
                          "note/test/", "--count",  count,      "--json", NULL};
    ld_proc_t tail;
    s_spawn_io (&tail, argv, "/dev/null", out_path);
    assert_true (ld_proc_wait (&tail, S_PUBLISH_MS));
    assert_int_equal (ld_proc_exit_code (&tail), EX_OK);
    uint64_t next[S_NODES_MAX] = {0};
    FILE *file = fopen (out_path, "r");
    assert_non_null (file);
    char *line = NULL;
    size_t capacity = 0, lines = 0;
    while (getline (&line, &capacity, file) > 0) {
        lines++;
        json_t *event = json_loads (line, 0, NULL);
        assert_non_null (event);
        uint8_t author[LD_KEY_BYTES];
        assert_int_equal (
            ld_key_from_text (json_string_value (json_object_get (event, "author")), author),
            LD_OK);
        json_t *seq_json = json_object_get (event, "seq");
        uint64_t seq = json_is_string (seq_json) ? strtoull (json_string_value (seq_json), NULL, 10)
                                                 : (uint64_t) json_integer_value (seq_json);
        int node = -1;
        for (int i = 0; i < nodes; i++)
            if (memcmp (author, fx->key[i], LD_KEY_BYTES) == 0)
                node = i;
        assert_true (node >= 0);
        //  once each, in the author's order: the next seq, never a repeat
        assert_int_equal (seq, next[node] + 1);
        next[node] = seq;
        json_decref (event);
    }
    free (line);
    fclose (file);
    assert_int_equal (lines, per_node * (uint64_t) nodes);
    for (int i = 0; i < nodes; i++)
        assert_int_equal (next[i], per_node);
}

//  1 broker, 3 nodes, 10,000 events each: a tail from 0 receives all 30,000
//  exactly once, each verified, each author's order intact.
static void
test_three_nodes_reach_a_tail_once_each_in_order (void **state)
{
    fixture_t *fx = *state;
    s_broker_start (fx);
    char in[S_NODES_MAX][S_PATH_BYTES + 16], out[S_NODES_MAX][S_PATH_BYTES + 16];
    for (int i = 0; i < S_NODES_MAX; i++) {
        s_node_start (fx, i, false);
        snprintf (in[i], sizeof in[i], "%s/in%d.ndjson", fx->dir, i);
        snprintf (out[i], sizeof out[i], "%s/out%d.ndjson", fx->dir, i);
        s_write_ndjson (in[i], S_TAIL_EVENTS, i);
    }
    for (int i = 0; i < S_NODES_MAX; i++) {
        const char *argv[] = {"publish",    "--control", fx->control[i], "--topic",
                              "note/test/", "--type",    "note",         "--json",
                              "-",          "--timeout", "20000",        NULL};
        s_spawn_io (&fx->publishers[i], argv, in[i], out[i]);
    }
    for (int i = 0; i < S_NODES_MAX; i++) {
        assert_true (ld_proc_wait (&fx->publishers[i], S_PUBLISH_MS));
        assert_int_equal (ld_proc_exit_code (&fx->publishers[i]), EX_OK);
    }
    s_tail_check (fx, S_NODES_MAX, S_TAIL_EVENTS);
}

//  --------------------------------------------------------------------------
//  Fault

//  Checks every "acknowledged" line of a publish output against the ids
//  the broker stored; returns how many there were.
static size_t
s_check_acknowledged (const char *out_path, uint8_t (*ids)[LD_ID_BYTES], uint64_t count)
{
    FILE *file = fopen (out_path, "r");
    assert_non_null (file);
    char *line = NULL;
    size_t capacity = 0, acknowledged = 0, lines = 0;
    while (getline (&line, &capacity, file) > 0) {
        lines++;
        json_t *outcome = json_loads (line, 0, NULL);
        assert_non_null (outcome);
        const char *status = json_string_value (json_object_get (outcome, "status"));
        assert_non_null (status);
        if (strcmp (status, "acknowledged") == 0) {
            uint64_t seq = (uint64_t) json_integer_value (json_object_get (outcome, "seq"));
            uint8_t id[LD_ID_BYTES];
            assert_int_equal (
                ld_id_from_text (json_string_value (json_object_get (outcome, "id")), id), LD_OK);
            assert_true (seq >= 1 && seq <= count);
            assert_memory_equal (ids[seq - 1], id, LD_ID_BYTES);
            acknowledged++;
        }
        else
            assert_string_equal (status, "queued"); //  committed; the outbox delivers it
        json_decref (outcome);
    }
    free (line);
    fclose (file);
    assert_int_equal (lines, count);
    return acknowledged;
}

//  Events the broker has acknowledged to all nodes together.
static uint64_t
s_acked_total (fixture_t *fx)
{
    uint64_t total = 0;
    for (int i = 0; i < S_NODES_MAX; i++) {
        s_status_t status;
        assert_true (s_node_status (fx, i, &status));
        total += status.acked_seq;
    }
    return total;
}

static void
test_broker_killed_five_times_loses_nothing_acknowledged (void **state)
{
    fixture_t *fx = *state;
    unsigned seed = (unsigned) time (NULL);
    print_message ("kill schedule seed %u\n", seed);
    srand (seed);
    s_broker_ports (fx); //  fixed: the broker restarts on them
    s_broker_start (fx);
    char in[S_NODES_MAX][S_PATH_BYTES + 16], out[S_NODES_MAX][S_PATH_BYTES + 16];
    for (int i = 0; i < S_NODES_MAX; i++) {
        s_node_start (fx, i, false);
        snprintf (in[i], sizeof in[i], "%s/in%d.ndjson", fx->dir, i);
        snprintf (out[i], sizeof out[i], "%s/out%d.ndjson", fx->dir, i);
        s_write_ndjson (in[i], S_FAULT_EVENTS, i);
    }
    int64_t started = ld_proc_now_ms ();
    for (int i = 0; i < S_NODES_MAX; i++) {
        const char *argv[] = {"publish",    "--control", fx->control[i], "--topic",
                              "note/test/", "--type",    "note",         "--json",
                              "-",          "--timeout", "20000",        NULL};
        s_spawn_io (&fx->publishers[i], argv, in[i], out[i]);
    }
    //  Random moments, as points of progress rather than of time, so that
    //  every kill falls within the run however fast the machine is: the
    //  k-th kill comes once the nodes' acknowledged events pass a random
    //  share of the total, between 5% and 90%, in increasing order.
    uint64_t total = (uint64_t) S_NODES_MAX * S_FAULT_EVENTS, share = 0;
    int kills_while_publishing = 0;
    for (int k = 0; k < S_FAULT_KILLS; k++) {
        share += 5 + (uint64_t) (rand () % ((90 - 5 * S_FAULT_KILLS) / S_FAULT_KILLS + 1));
        int64_t deadline = ld_proc_now_ms () + S_PUBLISH_MS;
        while (s_acked_total (fx) < total * share / 100 && ld_proc_now_ms () < deadline)
            poll (NULL, 0, 10);
        //  The control: each kill must hit while events are still flowing.
        bool publishing = false;
        for (int i = 0; i < S_NODES_MAX; i++)
            publishing |= !ld_proc_wait (&fx->publishers[i], 0);
        kills_while_publishing += publishing;
        ld_proc_kill (&fx->broker);
        poll (NULL, 0, rand () % 300);
        s_broker_start (fx);
    }
    assert_int_equal (kills_while_publishing, S_FAULT_KILLS);
    for (int i = 0; i < S_NODES_MAX; i++) {
        assert_true (ld_proc_wait (&fx->publishers[i], S_PUBLISH_MS));
        int code = ld_proc_exit_code (&fx->publishers[i]);
        assert_true (code == EX_OK || code == EX_TEMPFAIL); //  75: some only queued
    }
    for (int i = 0; i < S_NODES_MAX; i++)
        s_wait_drained (fx, i, S_FAULT_EVENTS);
    print_message ("3 x %d events through %d kills in %" PRId64 " ms\n", S_FAULT_EVENTS,
                   S_FAULT_KILLS, ld_proc_now_ms () - started);

    //  a tail from 0 shows each event once, in each author's order
    s_tail_check (fx, S_NODES_MAX, S_FAULT_EVENTS);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    ld_store_t *store = s_broker_store (fx);
    for (int i = 0; i < S_NODES_MAX; i++) {
        uint8_t (*ids)[LD_ID_BYTES] = s_read_feed (fx, store, i, S_FAULT_EVENTS);
        size_t acknowledged = s_check_acknowledged (out[i], ids, S_FAULT_EVENTS);
        print_message ("node %d: %zu acknowledged to the client, all stored\n", i, acknowledged);
        assert_true (acknowledged > 0);
        free (ids);
    }
    ld_store_destroy (&store);
}

//  Points the storage fault shim of the processes started next at the
//  fixture's control file (see store/ld_faultvfs.c); NULL: no shim.
static void
s_fault_shim (fixture_t *fx, char *control, size_t size, bool on)
{
    snprintf (control, size, "%s/fault", fx->dir);
    if (on) {
        assert_int_equal (ld_test_write_file (control, "", 0, 0600), 0);
        setenv (LD_FAULT_FILE_ENV, control, 1);
    }
    else
        unsetenv (LD_FAULT_FILE_ENV);
}

static void
s_fault_set (const char *control, const char *word)
{
    assert_int_equal (ld_test_write_file (control, word, strlen (word), 0600), 0);
}

static void
test_broker_disk_full_is_retried_until_space_returns (void **state)
{
    fixture_t *fx = *state;
    char control[S_PATH_BYTES], out[S_OUT_MAX], err[S_OUT_MAX];
    s_fault_shim (fx, control, sizeof control, true);
    s_broker_start (fx);
    s_fault_shim (fx, control, sizeof control, false);
    s_node_start (fx, 0, false);
    const char *note[] = {"--text", "共建协议", "--timeout", "500", NULL};
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK); //  control: no fault

    s_fault_set (control, "full");
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_TEMPFAIL);
    assert_non_null (strstr (err, "queued"));
    s_status_t status;
    assert_true (s_node_status (fx, 0, &status));
    assert_int_equal (status.head_seq, 2);
    assert_int_equal (status.acked_seq, 1);
    assert_false (status.dead); //  a full disk is not for good

    s_fault_set (control, "");
    s_wait_drained (fx, 0, 2);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    ld_store_t *store = s_broker_store (fx);
    free (s_read_feed (fx, store, 0, 2));
    ld_store_destroy (&store);
}

static void
test_node_disk_full_refuses_and_resumes (void **state)
{
    fixture_t *fx = *state;
    char control[S_PATH_BYTES], out[S_OUT_MAX], err[S_OUT_MAX];
    uint8_t id[LD_ID_BYTES];
    s_broker_ports (fx); //  the broker is down
    s_fault_shim (fx, control, sizeof control, true);
    s_node_start (fx, 0, false);
    s_fault_shim (fx, control, sizeof control, false);
    const char *note[] = {"--text", "服务记录", "--no-wait", NULL};
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK); //  control: no fault
    assert_int_equal (s_parse_line (out, id), 1);

    s_fault_set (control, "full");
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_DATAERR);
    assert_non_null (strstr (err, "disk-full"));
    s_fault_set (control, "");
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK); //  nothing was used up
    assert_int_equal (s_parse_line (out, id), 2);
}

static void
test_node_fsync_failure_stops_it_with_74 (void **state)
{
    fixture_t *fx = *state;
    char control[S_PATH_BYTES], out[S_OUT_MAX], err[S_OUT_MAX];
    uint8_t id[LD_ID_BYTES];
    s_broker_ports (fx); //  the broker is down
    s_fault_shim (fx, control, sizeof control, true);
    s_node_start (fx, 0, false);
    s_fault_shim (fx, control, sizeof control, false);
    const char *note[] = {"--text", "年度评价", "--no-wait", NULL};
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK); //  control: no fault
    assert_int_equal (s_parse_line (out, id), 1);

    s_fault_set (control, "fsync");
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_DATAERR);
    assert_non_null (strstr (err, "io-error"));
    assert_true (ld_proc_wait (&fx->nodes[0], S_READY_MS));
    assert_int_equal (ld_proc_exit_code (&fx->nodes[0]), EX_IOERR);

    //  Restarted, it recovers from the WAL: whether the failed commit
    //  survived is SQLite's call, but the feed goes on without a gap.
    s_fault_set (control, "");
    s_node_start (fx, 0, false);
    assert_int_equal (s_publish (fx, 0, note, out, err), EX_OK);
    uint64_t seq = s_parse_line (out, id);
    assert_true (seq == 2 || seq == 3);
}

int
main (int argc, char **argv)
{
    const struct CMUnitTest integration[] = {
        cmocka_unit_test_setup_teardown (test_publish_is_acknowledged_and_seq_increments, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_no_wait_answers_committed, setup, teardown),
        cmocka_unit_test_setup_teardown (test_publish_with_broker_down_is_queued, setup, teardown),
        cmocka_unit_test_setup_teardown (test_outbox_delivers_5000_events_once_broker_starts, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_wiped_node_restores_and_continues_without_fork, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_outbox_refills_a_broker_that_lost_its_store, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_restore_refuses_data_dir_with_own_events, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_publish_without_node_is_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown (test_node_refused_for_good_stops_signing_for_good, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_usage_errors_exit_64, setup, teardown),
        cmocka_unit_test_setup_teardown (test_three_nodes_reach_a_tail_once_each_in_order, setup,
                                         teardown),
    };
    const struct CMUnitTest fault[] = {
        cmocka_unit_test_setup_teardown (test_broker_killed_five_times_loses_nothing_acknowledged,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_broker_disk_full_is_retried_until_space_returns,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_node_disk_full_refuses_and_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown (test_node_fsync_failure_stops_it_with_74, setup, teardown),
    };
    srand ((unsigned) time (NULL) ^ (unsigned) getpid ());
    if (argc > 1 && strcmp (argv[1], "--fault") == 0)
        return cmocka_run_group_tests_name ("node-fault", fault, NULL, NULL);
    return cmocka_run_group_tests_name ("node", integration, NULL, NULL);
}
