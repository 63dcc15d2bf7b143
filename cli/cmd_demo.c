/*  cmd_demo.c -- `liandong demo`: the main job of the README's first command.

    Runs a small district on loopback, as separate processes, through the
    real sockets: a broker that trusts the district's root key (--trust),
    and a node for each of the district, two streets and a community, each
    with its own identity. First the certificates go out, each through its
    certifier's node: the district certifies the broker and the streets,
    观溪路街道 certifies 金江苑社区. Then each office publishes a short feed
    of notes from the seed article through its node's control socket and
    waits for the broker's acknowledgement (after fsync); the broker admits
    each only inside its author's org path. Then the demo reads everything
    back from the broker by catch-up, verifies every signature, and prints
    the events with the receipts the broker signed. Everything it started
    is stopped before it returns.

    This grows into the seed scenario played by the whole federation (the
    ledger issue); its name and its place in the README stay.
*/
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_cli.h"
#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_roots.h"
#include "ld_socket.h"
#include "ld_spawn.h"
#include "ld_sync.h"
#include "ld_table.h"

#define S_NOTE_MAX   4     //  notes per office
#define S_READY_MS   15000 //  a daemon is serving within this
#define S_REPLY_MS   15000 //  a node answers an acknowledged publish within this
#define S_PATH_BYTES (PATH_MAX + 64)

typedef struct {
    const char *slug;  //  directory of its identity and data
    const char *name;  //  display name
    const char *level; //  what its certificate says
    const char *path;  //  org path
    int certifier;     //  index of the office that certifies it; -1: the root
    const char *topic;
    const char *notes[S_NOTE_MAX];
} s_office_t;

#define S_ROOT        0 //  the district: the broker's --trust root
#define S_BROKER_NAME "乌当区联动代理"

//  Sample feeds, in the words of the seed article.
static const s_office_t s_offices[] = {
    {"wudang",
     "乌当区",
     "district",
     "wudang/",
     -1,
     "note/wudang/",
     {"构建五级联动体系：街道大工委统筹、社区党建联合体协同、小区党支部主抓",
      "75家区属机关企事业单位党组织与社区党组织结对共建", NULL}},
    {"guanxilu",
     "观溪路街道",
     "street",
     "wudang/guanxilu/",
     S_ROOT,
     "note/wudang/guanxilu/",
     {"街道大工委统筹，社区党建联合体协同", NULL}},
    {"longguanglu",
     "龙广路街道",
     "street",
     "wudang/longguanglu/",
     S_ROOT,
     "note/wudang/longguanglu/",
     {"大工委联席会议：摆摊设点、占道经营、停车管理", "议定事项进行任务分解并实行跟踪督办",
      "垃圾杂物清运、环境绿化、噪音污染", NULL}},
    {"jinjiangyuan",
     "金江苑社区",
     "community",
     "wudang/guanxilu/jinjiangyuan/",
     1,
     "note/wudang/guanxilu/jinjiangyuan/",
     {"把12个小区党支部建在楼栋上", "今年累计收集民情民意10条，解决居民烦心事操心事10件", NULL}},
};

#define S_OFFICE_COUNT (sizeof s_offices / sizeof s_offices[0])

typedef struct {
    char dir[PATH_MAX];
    bool json;
    ld_spawn_t broker;
    ld_spawn_t nodes[S_OFFICE_COUNT];
    char listen[256];
    uint8_t keys[S_OFFICE_COUNT][LD_KEY_BYTES];
    uint8_t broker_key[LD_KEY_BYTES];
    size_t published, acknowledged, certificates, read, verified, receipts;
} s_demo_t;

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: liandong demo [--dir DIR] [--keep] [--json]\n"
                  "\n"
                  "Runs a local district on loopback: a broker that trusts the district's\n"
                  "root key, and one node each for the district, two streets and a\n"
                  "community, as separate processes. The certificates go out first, each\n"
                  "through its certifier's node; then each office publishes notes through\n"
                  "its node and waits for the broker's acknowledgement; then everything is\n"
                  "read back from the broker, verified and printed. DIR defaults to a new\n"
                  "temporary directory, removed afterwards unless --keep; the daemons' logs\n"
                  "are kept there.\n");
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

//  The root's .pub file names its org path and display name (ld_roots.h).
static ld_status_t
s_write_root_file (s_demo_t *self, const char *dir, char *err, size_t err_size)
{
    char text[1024], path[S_PATH_BYTES + 32];
    ld_status_t rc = ld_root_format (self->keys[S_ROOT], s_offices[S_ROOT].path,
                                     s_offices[S_ROOT].name, text, sizeof text, err, err_size);
    if (rc != LD_OK)
        return rc;
    snprintf (path, sizeof path, "%s/%s", dir, LD_IDENTITY_PUBLIC);
    FILE *file = fopen (path, "we");
    if (!file || fputs (text, file) < 0 || fclose (file) != 0) {
        if (file)
            fclose (file);
        return ld_fail (err, err_size, LD_ERR_IO, "cannot write '%s'", path);
    }
    return LD_OK;
}

//  Creates each office's identity on disk.
static int
s_make_identities (s_demo_t *self)
{
    char err[512], path[S_PATH_BYTES];
    for (size_t i = 0; i < S_OFFICE_COUNT; i++) {
        snprintf (path, sizeof path, "%s/%s", self->dir, s_offices[i].slug);
        ld_identity_t *identity = ld_identity_new ();
        if (!identity) {
            ld_cli_error ("cannot allocate secure memory");
            return EX_OSERR;
        }
        ld_status_t rc = ld_identity_save (identity, path, false, err, sizeof err);
        memcpy (self->keys[i], ld_identity_public_key (identity), LD_KEY_BYTES);
        ld_identity_destroy (&identity);
        if (rc == LD_OK && i == S_ROOT)
            rc = s_write_root_file (self, path, err, sizeof err);
        if (rc != LD_OK) {
            ld_cli_error ("%s", err);
            return ld_cli_exit_code (rc);
        }
    }
    //  The broker's own identity, certified at level broker by the root.
    snprintf (path, sizeof path, "%s/broker", self->dir);
    ld_identity_t *identity = ld_identity_new ();
    if (!identity)
        return EX_OSERR;
    ld_status_t rc = ld_identity_save (identity, path, false, err, sizeof err);
    memcpy (self->broker_key, ld_identity_public_key (identity), LD_KEY_BYTES);
    ld_identity_destroy (&identity);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return ld_cli_exit_code (rc);
    }
    return EX_OK;
}

//  Starts the broker (the nodes start as their certificates are stored).
static int
s_start (s_demo_t *self)
{
    char data[S_PATH_BYTES], log[S_PATH_BYTES], root[S_PATH_BYTES], key[S_PATH_BYTES];
    snprintf (data, sizeof data, "%s/broker", self->dir);
    snprintf (log, sizeof log, "%s/broker.log", self->dir);
    snprintf (root, sizeof root, "%s/%s/%s", self->dir, s_offices[S_ROOT].slug, LD_IDENTITY_PUBLIC);
    snprintf (key, sizeof key, "%s/broker/%s", self->dir, LD_IDENTITY_SECRET);
    const char *broker[] = {"broker",     "--data", data,      "--listen", "tcp://127.0.0.1:*",
                            "--identity", key,      "--trust", root,       "--workers",
                            "2",          NULL};
    if (ld_spawn_start (&self->broker, broker, log, S_READY_MS) != 0
        || ld_spawn_endpoint (&self->broker, "listen", self->listen, sizeof self->listen) != 0) {
        ld_cli_error ("the broker did not start; see '%s'", log);
        return EX_UNAVAILABLE;
    }
    return EX_OK;
}

//  Starts the node of one office: each only once its certificate is
//  stored, so that its first CurveZMQ handshake is admitted.
static int
s_start_node (s_demo_t *self, size_t i)
{
    char data[S_PATH_BYTES], log[S_PATH_BYTES];
    char identity[S_PATH_BYTES], control[S_PATH_BYTES];
    snprintf (data, sizeof data, "%s/%s/data", self->dir, s_offices[i].slug);
    snprintf (identity, sizeof identity, "%s/%s/%s", self->dir, s_offices[i].slug,
              LD_IDENTITY_SECRET);
    snprintf (control, sizeof control, "ipc://%s/%s.ipc", self->dir, s_offices[i].slug);
    snprintf (log, sizeof log, "%s/%s.log", self->dir, s_offices[i].slug);
    char broker_key[S_PATH_BYTES];
    snprintf (broker_key, sizeof broker_key, "%s/broker/%s", self->dir, LD_IDENTITY_PUBLIC);
    const char *node[] = {"node",     "--data",    data,         "--identity",
                          identity,   "--broker",  self->listen, "--broker-key",
                          broker_key, "--control", control,      NULL};
    if (ld_spawn_start (&self->nodes[i], node, log, S_READY_MS) != 0) {
        ld_cli_error ("the node of %s did not start; see '%s'", s_offices[i].name, log);
        return EX_UNAVAILABLE;
    }
    return EX_OK;
}

//  A DEALER connected to endpoint, or NULL; a CurveZMQ client of the
//  broker (broker_key) with curve's pair when curve is given.
static zsock_t *
s_dealer (const char *endpoint, const ld_curve_t *curve, const uint8_t *broker_key)
{
    char spec_endpoint[S_PATH_BYTES + 8], err[256];
    snprintf (spec_endpoint, sizeof spec_endpoint, ">%s", endpoint);
    ld_socket_spec_t spec = {
        .type = ZMQ_DEALER, .endpoints = spec_endpoint, .max_message = LD_SYNC_FRAME_MAX};
    if (curve) {
        spec.curve_secret = ld_curve_secret (curve);
        spec.curve_public = ld_curve_public (curve);
        spec.curve_server_key = broker_key;
    }
    zsock_t *sock = ld_socket_new (&spec, err, sizeof err);
    if (!sock)
        ld_cli_error ("%s", err);
    return sock;
}

//  One frame within timeout_ms, or NULL.
static zframe_t *
s_recv (zsock_t *sock, int timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve (sock), 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, timeout_ms) != 1)
        return NULL;
    return zframe_recv (sock);
}

//  One event through a node's control socket, waiting for the broker's
//  acknowledgement. Returns true if acknowledged.
static bool
s_author (s_demo_t *self, zsock_t *control, const char *who, const char *topic, const char *type,
          const uint8_t *payload, size_t size)
{
    Liandong__Sync__Author author = LIANDONG__SYNC__AUTHOR__INIT;
    author.tag = ++self->published;
    author.topic = (char *) topic;
    author.type = (char *) type;
    author.has_payload = 1;
    author.payload.data = (uint8_t *) payload;
    author.payload.len = size;
    author.has_wait = 1;
    author.wait = 1;
    author.has_timeout_ms = 1;
    author.timeout_ms = S_REPLY_MS;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_AUTHOR;
    request.author = &author;
    int sent = ld_control_request_send (control, &request);
    zframe_t *frame = sent == 0 ? s_recv (control, S_REPLY_MS + 2000) : NULL;
    ld_control_reply_t *reply = NULL;
    if (frame)
        ld_control_reply_decode (zframe_data (frame), zframe_size (frame), &reply, NULL, 0);
    zframe_destroy (&frame);
    bool authored = reply && reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_AUTHORED;
    bool acknowledged = authored && strcmp (reply->authored->status, "acknowledged") == 0;
    if (!acknowledged)
        ld_cli_error ("%s: %s on %s not acknowledged: %s%s%s", who, type, topic,
                      !reply     ? "no answer from the node"
                      : authored ? reply->authored->status
                                 : "an error reply",
                      authored && reply->authored->reason ? ": " : "",
                      authored && reply->authored->reason ? reply->authored->reason : "");
    ld_control_reply_free (&reply);
    if (acknowledged)
        self->acknowledged++;
    return acknowledged;
}

static zsock_t *
s_control (s_demo_t *self, size_t office)
{
    char endpoint[S_PATH_BYTES];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/%s.ipc", self->dir, s_offices[office].slug);
    return s_dealer (endpoint, NULL, NULL);
}

//  certifier certifies a key, through its node.
static bool
s_certify (s_demo_t *self, size_t certifier, const uint8_t key[LD_KEY_BYTES], const char *level,
           const char *path, const char *name)
{
    uint8_t *payload;
    size_t size;
    char topic[LD_TOPIC_MAX + 1];
    snprintf (topic, sizeof topic, "trust/%s", path);
    if (ld_payload_certify (key, level, path, name, &payload, &size) != LD_OK)
        return false;
    zsock_t *control = s_control (self, certifier);
    bool ok = control
              && s_author (self, control, s_offices[certifier].name, topic, "trust.certify",
                           payload, size);
    zsock_destroy (&control);
    free (payload);
    if (ok)
        self->certificates++;
    return ok;
}

//  The certificates first, each through its certifier's node (a parent
//  before its children); then each office publishes its notes through its
//  node and waits for the broker's acknowledgement of each.
static int
s_publish (s_demo_t *self)
{
    int rc = s_start_node (self, S_ROOT);
    if (rc != EX_OK)
        return rc;
    if (!s_certify (self, S_ROOT, self->broker_key, "broker", s_offices[S_ROOT].path,
                    S_BROKER_NAME))
        return EX_SOFTWARE;
    for (size_t i = 0; i < S_OFFICE_COUNT; i++) {
        if (s_offices[i].certifier < 0)
            continue;
        if (!s_certify (self, (size_t) s_offices[i].certifier, self->keys[i], s_offices[i].level,
                        s_offices[i].path, s_offices[i].name))
            return EX_SOFTWARE;
        if ((rc = s_start_node (self, i)) != EX_OK)
            return rc;
    }
    for (size_t i = 0; i < S_OFFICE_COUNT; i++) {
        zsock_t *control = s_control (self, i);
        if (!control)
            return EX_OSERR;
        for (size_t n = 0; n < S_NOTE_MAX && s_offices[i].notes[n]; n++) {
            uint8_t *payload;
            size_t size;
            if (ld_payload_note (s_offices[i].notes[n], &payload, &size) != LD_OK) {
                zsock_destroy (&control);
                return EX_OSERR;
            }
            bool ok = s_author (self, control, s_offices[i].name, s_offices[i].topic, "note",
                                payload, size);
            free (payload);
            if (!ok) {
                zsock_destroy (&control);
                return EX_SOFTWARE;
            }
        }
        zsock_destroy (&control);
    }
    return EX_OK;
}

static const char *
s_author_name (const s_demo_t *self, const uint8_t *author)
{
    for (size_t i = 0; i < S_OFFICE_COUNT; i++)
        if (memcmp (author, self->keys[i], LD_KEY_BYTES) == 0)
            return s_offices[i].name;
    if (memcmp (author, self->broker_key, LD_KEY_BYTES) == 0)
        return S_BROKER_NAME;
    return "?";
}

//  Adds one event read back to the table, after verifying it.
static int
s_add_row (s_demo_t *self, ld_table_t *table, const Liandong__Sync__Stored *stored)
{
    self->read++;
    ld_event_t *event = NULL;
    char err[256];
    ld_status_t rc =
        ld_event_decode (stored->envelope.data, stored->envelope.len, 0, &event, err, sizeof err);
    if (rc == LD_OK)
        rc = ld_event_verify (event);
    if (rc != LD_OK) {
        ld_cli_error ("store seq %llu does not verify: %s", (unsigned long long) stored->store_seq,
                      ld_status_text (rc));
        ld_event_destroy (&event);
        return -1;
    }
    self->verified++;
    const char *text = "";
    char summary[LD_NAME_MAX + 64] = "";
    ProtobufCMessage *message = NULL;
    size_t payload_size;
    const uint8_t *payload = ld_event_payload (event, &payload_size);
    if (strcmp (ld_event_type (event), "note") == 0
        && ld_payload_unpack ("note", payload, payload_size, &message, NULL, 0) == LD_OK)
        text = *(const char **) ((const char *) message + message->descriptor->fields[0].offset);
    else if (strcmp (ld_event_type (event), "trust.certify") == 0) {
        ld_certify_t certify;
        if (ld_payload_certify_decode (payload, payload_size, &certify, NULL, 0) == LD_OK)
            snprintf (summary, sizeof summary, "证书：%s（%s）", certify.name, certify.level);
        text = summary;
    }
    else if (strcmp (ld_event_type (event), "receipt") == 0) {
        self->receipts++;
        snprintf (summary, sizeof summary, "receipt of the commit before it");
        text = summary;
    }
    char store_seq[24], seq[24], receipt[24], id[LD_ID_TEXT_BYTES];
    snprintf (store_seq, sizeof store_seq, "%llu", (unsigned long long) stored->store_seq);
    snprintf (seq, sizeof seq, "%llu", (unsigned long long) ld_event_seq (event));
    snprintf (receipt, sizeof receipt, "%s",
              stored->has_receipt_seq && stored->receipt_seq ? "" : "-");
    if (stored->has_receipt_seq && stored->receipt_seq)
        snprintf (receipt, sizeof receipt, "%llu", (unsigned long long) stored->receipt_seq);
    ld_id_to_text (ld_event_id (event), id);
    id[8 + 12] = '\0'; //  "blake2b:" and 12 characters are plenty on screen
    const char *row[] = {store_seq, s_author_name (self, ld_event_author (event)),
                         seq,       ld_event_topic (event),
                         text,      receipt,
                         id};
    ld_table_add (table, row);
    if (message)
        protobuf_c_message_free_unpacked (message, NULL);
    ld_event_destroy (&event);
    return 0;
}

//  Reads everything back from the broker by catch-up, with credit.
static int
s_read_back (s_demo_t *self, ld_table_t *table)
{
    //  The district reads its broker back, as a CurveZMQ client with its key.
    char path[S_PATH_BYTES], err[512];
    snprintf (path, sizeof path, "%s/%s/%s", self->dir, s_offices[S_ROOT].slug, LD_IDENTITY_SECRET);
    ld_identity_t *identity = NULL;
    ld_status_t rc = ld_identity_load (path, &identity, err, sizeof err);
    ld_curve_t *curve = rc == LD_OK ? ld_curve_new (identity) : NULL;
    uint8_t server[LD_KEY_BYTES];
    bool ok = curve && ld_curve_public_from_key (self->broker_key, server) == LD_OK;
    zsock_t *broker = ok ? s_dealer (self->listen, curve, server) : NULL;
    ld_curve_destroy (&curve);
    ld_identity_destroy (&identity);
    if (!broker) {
        ld_cli_error ("cannot connect to the broker: %s", rc != LD_OK ? err : "no CurveZMQ key");
        return EX_OSERR;
    }
    Liandong__Sync__Hello hello = LIANDONG__SYNC__HELLO__INIT;
    Liandong__Sync__Catchup catchup = LIANDONG__SYNC__CATCHUP__INIT;
    catchup.after = 0;
    catchup.prefix = "";
    catchup.credit = 4;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_HELLO;
    request.hello = &hello;
    ld_request_send (broker, &request);
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CATCHUP;
    request.catchup = &catchup;
    ld_request_send (broker, &request);
    int exit_code = EX_UNAVAILABLE;
    while (true) {
        zframe_t *frame = s_recv (broker, S_REPLY_MS);
        if (!frame) {
            ld_cli_error ("the broker stopped answering catch-up");
            break;
        }
        ld_reply_t *reply = NULL;
        ld_reply_decode (zframe_data (frame), zframe_size (frame), &reply, NULL, 0);
        zframe_destroy (&frame);
        if (reply && reply->kind_case == LIANDONG__SYNC__REPLY__KIND_WELCOME
            && reply->welcome->broker_key.len == LD_KEY_BYTES)
            memcpy (self->broker_key, reply->welcome->broker_key.data, LD_KEY_BYTES);
        bool done = false;
        if (reply && reply->kind_case == LIANDONG__SYNC__REPLY__KIND_EVENTS) {
            for (size_t i = 0; i < reply->events->n_events && !done; i++)
                if (s_add_row (self, table, reply->events->events[i]) != 0) {
                    exit_code = EX_DATAERR;
                    done = true;
                }
            if (!done && reply->events->caught_up) {
                exit_code = EX_OK;
                done = true;
            }
            if (!done) {
                Liandong__Sync__Credit credit = LIANDONG__SYNC__CREDIT__INIT;
                credit.chunks = 1;
                request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CREDIT;
                request.credit = &credit;
                ld_request_send (broker, &request);
            }
        }
        else if (reply && reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR) {
            ld_cli_error ("catch-up refused: %s", reply->error->reason);
            done = true;
        }
        ld_reply_free (&reply);
        if (done)
            break;
    }
    zsock_destroy (&broker);
    return exit_code;
}

//  Stops every process started; a daemon that does not stop cleanly makes
//  the demo fail.
static int
s_stop (s_demo_t *self)
{
    int exit_code = EX_OK;
    for (size_t i = 0; i < S_OFFICE_COUNT; i++)
        if (self->nodes[i].pid > 0 && ld_spawn_stop (&self->nodes[i]) != 0) {
            ld_cli_error ("the node of %s did not stop cleanly", s_offices[i].name);
            exit_code = EX_SOFTWARE;
        }
    if (self->broker.pid > 0 && ld_spawn_stop (&self->broker) != 0) {
        ld_cli_error ("the broker did not stop cleanly");
        exit_code = EX_SOFTWARE;
    }
    return exit_code;
}

int
ld_cmd_demo (int argc, char **argv)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"keep", no_argument, NULL, 'k'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    s_demo_t self = {0};
    const char *dir_arg = NULL;
    bool keep = false;
    int opt;
    while ((opt = getopt_long (argc, argv, "d:kjh", options, NULL)) != -1) {
        switch (opt) {
            case 'd':
                dir_arg = optarg;
                break;
            case 'k':
                keep = true;
                break;
            case 'j':
                self.json = true;
                break;
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    if (dir_arg) {
        //  ipc paths are limited to about 100 bytes: keep the directory short
        if (strlen (dir_arg) > 64) {
            ld_cli_error ("--dir '%s' is too long for ipc endpoints (64 bytes at most)", dir_arg);
            return EX_USAGE;
        }
        snprintf (self.dir, sizeof self.dir, "%s", dir_arg);
        if (mkdir (self.dir, 0700) != 0 && errno != EEXIST) {
            ld_cli_error ("cannot create '%s': %s", self.dir, strerror (errno));
            return EX_CANTCREAT;
        }
        keep = true;
    }
    else {
        snprintf (self.dir, sizeof self.dir, "/tmp/liandong-demo-XXXXXX");
        if (!mkdtemp (self.dir)) {
            ld_cli_error ("cannot create a temporary directory: %s", strerror (errno));
            return EX_CANTCREAT;
        }
    }
    static const char *const columns[] = {"store", "author",  "seq", "topic",
                                          "text",  "receipt", "id"};
    ld_table_t *table = ld_table_new ("events", columns, 7);
    int exit_code = table ? s_make_identities (&self) : EX_OSERR;
    if (exit_code == EX_OK)
        exit_code = s_start (&self);
    if (exit_code == EX_OK)
        exit_code = s_publish (&self);
    if (exit_code == EX_OK)
        exit_code = s_read_back (&self, table);
    int stop_code = s_stop (&self);
    if (exit_code == EX_OK)
        exit_code = stop_code;
    if (exit_code == EX_OK) {
        ld_table_align_right (table, 0);
        ld_table_align_right (table, 2);
        ld_table_align_right (table, 5);
        ld_table_print (table, stdout, self.json);
        size_t notes = self.read - self.receipts;
        if (!self.json)
            printf ("\n%zu offices published %zu certificates and %zu notes through their nodes; "
                    "the broker\nadmitted each inside its author's org path, acknowledged %zu "
                    "after fsync and signed\n%zu receipts; %zu of %zu events read back by "
                    "catch-up verified.\n",
                    S_OFFICE_COUNT, self.certificates, self.published - self.certificates,
                    self.acknowledged, self.receipts, self.verified, self.read);
        if (notes != self.published || self.verified != self.read || self.receipts == 0) {
            ld_cli_error ("self-check failed: published %zu, read back %zu notes, verified %zu "
                          "of %zu, receipts %zu",
                          self.published, notes, self.verified, self.read, self.receipts);
            exit_code = EX_SOFTWARE;
        }
    }
    ld_table_destroy (&table);
    if (keep || exit_code != EX_OK)
        fprintf (stderr, "liandong: demo data and logs kept in '%s'\n", self.dir);
    else if (nftw (self.dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        ld_cli_error ("cannot remove '%s': %s", self.dir, strerror (errno));
    return exit_code;
}
