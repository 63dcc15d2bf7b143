/*  cmd_status.c -- `liandong status`: what a node, or a broker, knows of
    itself.

    --control: one NodeStatus round trip on the node's control socket: its
    key, the level and org paths its certificates give it (from the node's
    fold of the trust feeds), its own feed's head, how much of it the broker
    has acknowledged, and whether it stopped signing for good.

    --broker: one BrokerStatus round trip on the broker's --listen endpoint
    (CurveZMQ with --broker-key and --identity, as `tail` connects): what
    its store holds, the feeds it selects, optionally the digests another
    broker holding the same feeds must match, and its --follow links.

    Exit codes: 0 answered; 64 usage; 65 (or the code of the broker's
    status) the broker refused; 69 no node or broker answers; 76 an answer
    that is not a status.
*/
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_cli.h"
#include "ld_connect.h"
#include "ld_crypto.h"
#include "ld_table.h"

#define S_DIGEST_HEX_BYTES (LD_ID_BYTES * 2 + 1) //  lowercase hex and NUL
#define S_NUMBER_BYTES     24                    //  a uint64 in decimal, NUL
#define S_AGE_BYTES        32                    //  "123456d ago"
#define S_MS_PER_SECOND    1000
#define S_SECONDS_PER_MIN  60
#define S_SECONDS_PER_HOUR 3600
#define S_SECONDS_PER_DAY  86400

typedef struct {
    const char *control;    //  --control: a node
    const char *broker;     //  --broker: a broker's --listen endpoint
    const char *broker_key; //  --broker-key: a .pub file or "ed25519:..." text
    const char *identity;   //  --identity: our secret key file, for CurveZMQ
    bool json;
    bool digest; //  --digest: ask for the store digests
    int timeout_ms;
} s_options_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: liandong status --control ipc://PATH [--json] [--timeout MS]\n"
             "       liandong status --broker EP [--broker-key PUB --identity FILE]\n"
             "                       [--digest] [--json] [--timeout MS]\n"
             "\n"
             "Asks a node what it knows of itself: its key, its level and org paths (as\n"
             "its certificates give them), its own feed's head, the highest seq its\n"
             "broker acknowledged, and why it stopped signing, if it did.\n"
             "\n"
             "Or asks a broker: its key, the events, authors and frozen authors its store\n"
             "holds, its last store seq, the feeds it selects, and each --follow link\n"
             "(connected, last contact, events behind either way, rate, pulled, pushed,\n"
             "last error). Two brokers holding the same feeds and marks show the same\n"
             "digests.\n"
             "\n"
             "  --control EP     the node's control endpoint\n"
             "  --broker EP      or the broker's --listen endpoint\n"
             "  --broker-key PUB the broker's public key (its identity.pub, or ed25519:...):\n"
             "                   connect with CurveZMQ to that broker only; needs --identity\n"
             "  --identity FILE  our secret key (identity.secret), certified for a broker run\n"
             "                   with --trust (or one of its --allow-subscriber keys)\n"
             "  --digest         also the digests of the broker's heads and of every event\n"
             "                   id and invalid mark, and the number of invalid events (the\n"
             "                   broker reads every id: slow on a large store)\n"
             "  --json           one JSON object\n"
             "  --timeout MS     wait this long for the answer (default 5000)\n"
             "\n"
             "Exit codes: 0 answered; 64 usage; 65 the broker refused (or the code of its\n"
             "status); 69 no node or broker answers; 76 an answer that is not a status.\n");
}

//  ---- a node ----

static int
s_print_node (const Liandong__Sync__NodeStatus *status, bool json)
{
    char key[LD_KEY_TEXT_BYTES] = "?";
    if (status->key.len == LD_KEY_BYTES)
        ld_key_to_text (status->key.data, key);
    if (json) {
        json_t *paths = json_array ();
        for (size_t i = 0; i < status->n_paths; i++)
            json_array_append_new (paths, json_string (status->paths[i]));
        json_t *object =
            json_pack ("{s:s, s:s?, s:o, s:I, s:I, s:s?, s:b, s:s}", "key", key, "level",
                       status->level, "paths", paths, "headSeq", (json_int_t) status->head_seq,
                       "ackedSeq", (json_int_t) status->acked_seq, "dead", status->dead,
                       "restoring", status->restoring, "broker", status->broker);
        if (!object)
            return EX_SOFTWARE;
        json_dumpf (object, stdout, JSON_COMPACT);
        fputc ('\n', stdout);
        json_decref (object);
        return EX_OK;
    }
    char head[S_NUMBER_BYTES], acked[S_NUMBER_BYTES], paths[1024] = "";
    snprintf (head, sizeof head, "%" PRIu64, status->head_seq);
    snprintf (acked, sizeof acked, "%" PRIu64, status->acked_seq);
    size_t used = 0;
    for (size_t i = 0; i < status->n_paths && used < sizeof paths; i++)
        used += (size_t) snprintf (paths + used, sizeof paths - used, "%s%s", i ? " " : "",
                                   status->paths[i]);
    static const char *const columns[] = {"field", "value"};
    ld_table_t *table = ld_table_new ("status", columns, 2);
    if (!table)
        return EX_SOFTWARE;
    const char *rows[][2] = {
        {"key", key},
        {"level", status->level ? status->level : "(no certificate known)"},
        {"paths", *paths ? paths : "-"},
        {"head seq", head},
        {"acked seq", acked},
        {"broker", status->broker},
        {"restoring", status->restoring ? "yes" : "no"},
        {"dead", status->dead ? status->dead : "no"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ld_table_add (table, rows[i]);
    ld_table_print (table, stdout, false);
    ld_table_destroy (&table);
    return EX_OK;
}

static int
s_node_status (const s_options_t *options)
{
    char err[512];
    zsock_t *sock = NULL;
    ld_status_t rc = ld_connect_control (options->control, &sock, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return rc == LD_ERR_USAGE ? EX_USAGE : EX_UNAVAILABLE;
    }
    Liandong__Sync__NodeStatusRequest status = LIANDONG__SYNC__NODE_STATUS_REQUEST__INIT;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_STATUS;
    request.status = &status;
    ld_control_reply_t *reply =
        ld_connect_control_call (sock, &request, options->timeout_ms, err, sizeof err);
    zsock_destroy (&sock);
    if (!reply) {
        ld_cli_error ("%s", err);
        return EX_UNAVAILABLE;
    }
    int code = EX_PROTOCOL;
    if (reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_STATUS)
        code = s_print_node (reply->status, options->json);
    else
        ld_cli_error ("the node did not answer with its status");
    ld_control_reply_free (&reply);
    return code;
}

//  ---- a broker ----

//  The broker's selection as one line: "all", the paths separated by
//  spaces, or what an empty selection still holds. A heap string the
//  caller frees, or NULL.
static char *
s_selection_text (const Liandong__Sync__BrokerStatus *status)
{
    if (status->has_select_all && status->select_all)
        return strdup ("all");
    if (status->n_select == 0)
        return strdup ("trust feeds only");
    size_t size = 1;
    for (size_t i = 0; i < status->n_select; i++)
        size += strlen (status->select[i]) + 1;
    char *text = malloc (size);
    if (!text)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < status->n_select; i++)
        used +=
            (size_t) snprintf (text + used, size - used, "%s%s", i ? " " : "", status->select[i]);
    return text;
}

//  How long ago the wall-clock time ms was, as "2s ago", "5m ago", "3h ago",
//  "4d ago"; "never" for 0. A time ahead of our clock (the broker's runs
//  ahead) counts as now.
static void
s_age_text (int64_t ms, int64_t now_ms, char out[S_AGE_BYTES])
{
    if (ms <= 0) {
        snprintf (out, S_AGE_BYTES, "never");
        return;
    }
    int64_t seconds = now_ms > ms ? (now_ms - ms) / S_MS_PER_SECOND : 0;
    if (seconds < S_SECONDS_PER_MIN)
        snprintf (out, S_AGE_BYTES, "%" PRId64 "s ago", seconds);
    else if (seconds < S_SECONDS_PER_HOUR)
        snprintf (out, S_AGE_BYTES, "%" PRId64 "m ago", seconds / S_SECONDS_PER_MIN);
    else if (seconds < S_SECONDS_PER_DAY)
        snprintf (out, S_AGE_BYTES, "%" PRId64 "h ago", seconds / S_SECONDS_PER_HOUR);
    else
        snprintf (out, S_AGE_BYTES, "%" PRId64 "d ago", seconds / S_SECONDS_PER_DAY);
}

//  A peer's key as text, or NULL if the link names none (or not 32 bytes).
static const char *
s_peer_key (const Liandong__Sync__PeerStatus *peer, char text[LD_KEY_TEXT_BYTES])
{
    if (!peer->has_key || peer->key.len != LD_KEY_BYTES)
        return NULL;
    ld_key_to_text (peer->key.data, text);
    return text;
}

static json_t *
s_peer_json (const Liandong__Sync__PeerStatus *peer)
{
    char key[LD_KEY_TEXT_BYTES];
    return json_pack (
        "{s:s, s:s?, s:b, s:I, s:I, s:I, s:f, s:I, s:I, s:s, s:s?, s:I}", "endpoint",
        peer->endpoint, "key", s_peer_key (peer, key), "connected", peer->connected,
        "last_contact_ms", (json_int_t) (peer->has_last_contact_ms ? peer->last_contact_ms : 0),
        "behind_in", (json_int_t) peer->behind_in, "behind_out", (json_int_t) peer->behind_out,
        "rate", peer->rate, "pulled", (json_int_t) peer->pulled, "pushed",
        (json_int_t) peer->pushed, "state", peer->state, "error", peer->error, "last_sync_ms",
        (json_int_t) (peer->has_last_sync_ms ? peer->last_sync_ms : 0));
}

static int
s_print_broker_json (const Liandong__Sync__BrokerStatus *status, const char *key,
                     const char *heads_hex, const char *events_hex)
{
    json_t *select = json_array ();
    for (size_t i = 0; select && i < status->n_select; i++)
        json_array_append_new (select, json_string (status->select[i]));
    json_t *object =
        json_pack ("{s:s, s:I, s:I, s:I, s:I, s:o, s:b}", "key", key, "last_seq",
                   (json_int_t) status->last_seq, "authors", (json_int_t) status->authors, "events",
                   (json_int_t) status->events, "frozen", (json_int_t) status->frozen, "select",
                   select, "select_all", status->has_select_all && status->select_all);
    json_t *peers = json_array ();
    bool ok = object && peers;
    if (ok && heads_hex)
        ok = json_object_set_new (object, "heads_digest", json_string (heads_hex)) == 0
             && json_object_set_new (object, "events_digest", json_string (events_hex)) == 0
             && json_object_set_new (object, "invalid", json_integer ((json_int_t) status->invalid))
                    == 0;
    for (size_t i = 0; ok && i < status->n_peers; i++)
        ok = json_array_append_new (peers, s_peer_json (status->peers[i])) == 0;
    if (ok)
        ok = json_object_set_new (object, "peers", peers) == 0;
    else
        json_decref (peers);
    if (ok)
        ok = json_dumpf (object, stdout, JSON_COMPACT) == 0 && fputc ('\n', stdout) != EOF;
    json_decref (object);
    return ok ? EX_OK : EX_SOFTWARE;
}

static int
s_print_peers (const Liandong__Sync__BrokerStatus *status)
{
    if (status->n_peers == 0) {
        printf ("no --follow links\n");
        return EX_OK;
    }
    static const char *const columns[] = {"endpoint",  "state",      "last contact",
                                          "behind in", "behind out", "rate",
                                          "pulled",    "pushed",     "error"};
    enum { S_COLUMNS = sizeof columns / sizeof columns[0] };
    ld_table_t *table = ld_table_new ("peers", columns, S_COLUMNS);
    if (!table)
        return EX_SOFTWARE;
    for (size_t c = 3; c <= 7; c++) //  the numbers
        ld_table_align_right (table, c);
    int64_t now_ms = zclock_time ();
    int code = EX_OK;
    for (size_t i = 0; code == EX_OK && i < status->n_peers; i++) {
        const Liandong__Sync__PeerStatus *peer = status->peers[i];
        char state[256], age[S_AGE_BYTES], behind_in[S_NUMBER_BYTES], behind_out[S_NUMBER_BYTES],
            rate[S_NUMBER_BYTES], pulled[S_NUMBER_BYTES], pushed[S_NUMBER_BYTES];
        snprintf (state, sizeof state, "%s, %s", peer->connected ? "connected" : "disconnected",
                  peer->state);
        s_age_text (peer->has_last_contact_ms ? peer->last_contact_ms : 0, now_ms, age);
        snprintf (behind_in, sizeof behind_in, "%" PRIu64, peer->behind_in);
        snprintf (behind_out, sizeof behind_out, "%" PRIu64, peer->behind_out);
        snprintf (rate, sizeof rate, "%.1f/s", peer->rate);
        snprintf (pulled, sizeof pulled, "%" PRIu64, peer->pulled);
        snprintf (pushed, sizeof pushed, "%" PRIu64, peer->pushed);
        const char *cells[S_COLUMNS] = {
            peer->endpoint, state,      age,
            behind_in,      behind_out, rate,
            pulled,         pushed,     peer->error ? peer->error : "-"};
        if (ld_table_add_marked (table, cells, peer->connected ? NULL : "red") != 0)
            code = EX_SOFTWARE;
    }
    if (code == EX_OK && ld_table_print (table, stdout, false) != 0)
        code = EX_IOERR;
    ld_table_destroy (&table);
    return code;
}

static int
s_print_broker_text (const Liandong__Sync__BrokerStatus *status, const char *key,
                     const char *heads_hex, const char *events_hex)
{
    char events[S_NUMBER_BYTES], authors[S_NUMBER_BYTES], frozen[S_NUMBER_BYTES],
        last_seq[S_NUMBER_BYTES], invalid[S_NUMBER_BYTES];
    snprintf (events, sizeof events, "%" PRIu64, status->events);
    snprintf (authors, sizeof authors, "%" PRIu64, status->authors);
    snprintf (frozen, sizeof frozen, "%" PRIu64, status->frozen);
    snprintf (last_seq, sizeof last_seq, "%" PRIu64, status->last_seq);
    snprintf (invalid, sizeof invalid, "%" PRIu64, status->invalid);
    char *selection = s_selection_text (status);
    static const char *const columns[] = {"field", "value"};
    ld_table_t *table = ld_table_new ("broker", columns, 2);
    if (!table || !selection) {
        free (selection);
        ld_table_destroy (&table);
        return EX_SOFTWARE;
    }
    const char *rows[][2] = {
        {"key", key},
        {"events", events},
        {"authors", authors},
        {"frozen", frozen},
        {"last store seq", last_seq},
        {"selection", selection},
        {"heads digest", heads_hex},
        {"events digest", events_hex},
        {"invalid", invalid},
    };
    //  the last three only with --digest
    size_t count = sizeof rows / sizeof rows[0] - (heads_hex ? 0 : 3);
    int code = EX_OK;
    for (size_t i = 0; code == EX_OK && i < count; i++)
        if (ld_table_add (table, rows[i]) != 0)
            code = EX_SOFTWARE;
    if (code == EX_OK && ld_table_print (table, stdout, false) != 0)
        code = EX_IOERR;
    ld_table_destroy (&table);
    free (selection);
    if (code == EX_OK) {
        putchar ('\n');
        code = s_print_peers (status);
    }
    return code;
}

//  Checks what the output relies on, then prints. Returns the exit code.
static int
s_print_broker (const Liandong__Sync__BrokerStatus *status, const s_options_t *options)
{
    if (status->key.len != LD_KEY_BYTES) {
        ld_cli_error ("the broker's status names a key of %zu bytes", status->key.len);
        return EX_PROTOCOL;
    }
    char key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (status->key.data, key);
    char heads_hex[S_DIGEST_HEX_BYTES], events_hex[S_DIGEST_HEX_BYTES];
    bool digests = options->digest;
    if (digests) {
        if (!status->has_heads_digest || status->heads_digest.len != LD_ID_BYTES
            || !status->has_events_digest || status->events_digest.len != LD_ID_BYTES) {
            ld_cli_error ("the broker's status holds no digests (does it know --digest?)");
            return EX_PROTOCOL;
        }
        sodium_bin2hex (heads_hex, sizeof heads_hex, status->heads_digest.data, LD_ID_BYTES);
        sodium_bin2hex (events_hex, sizeof events_hex, status->events_digest.data, LD_ID_BYTES);
    }
    if (options->json)
        return s_print_broker_json (status, key, digests ? heads_hex : NULL,
                                    digests ? events_hex : NULL);
    return s_print_broker_text (status, key, digests ? heads_hex : NULL,
                                digests ? events_hex : NULL);
}

static int
s_broker_status (const s_options_t *options)
{
    char err[512];
    zsock_t *sock = NULL;
    ld_status_t rc = ld_connect_broker (options->broker, options->broker_key, options->identity,
                                        &sock, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return rc == LD_ERR_USAGE ? EX_USAGE : ld_cli_exit_code (rc);
    }
    Liandong__Sync__BrokerStatusRequest status = LIANDONG__SYNC__BROKER_STATUS_REQUEST__INIT;
    status.has_digest = options->digest;
    status.digest = options->digest;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_BROKER_STATUS;
    request.broker_status = &status;
    ld_reply_t *reply = NULL;
    if (ld_request_send (sock, &request) != 0)
        snprintf (err, sizeof err, "cannot send to broker '%s'", options->broker);
    else
        reply = ld_connect_broker_recv (sock, options->timeout_ms, err, sizeof err);
    zsock_destroy (&sock);
    if (!reply) {
        //  A CurveZMQ handshake the broker refuses looks exactly like silence.
        ld_cli_error ("%s (%s)", err,
                      options->broker_key
                          ? "is --broker-key the broker's key, and is --identity admitted there?"
                          : "a broker run with --trust needs --broker-key and --identity");
        return EX_UNAVAILABLE;
    }
    int code = EX_PROTOCOL;
    if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_BROKER_STATUS)
        code = s_print_broker (reply->broker_status, options);
    else if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR) {
        ld_cli_error ("%s: %s", reply->error->status, reply->error->reason);
        code = ld_cli_exit_code (ld_status_from_name (reply->error->status));
    }
    else
        ld_cli_error ("the broker did not answer with its status");
    ld_reply_free (&reply);
    return code;
}

//  ---- options ----

//  Fills options from argv. Returns 0, -1 after --help, or EX_USAGE after
//  printing why.
static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option table[] = {
        {"control", required_argument, NULL, 'c'},
        {"broker", required_argument, NULL, 'b'},
        {"broker-key", required_argument, NULL, 'k'},
        {"identity", required_argument, NULL, 'i'},
        {"digest", no_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t timeout = LD_CONNECT_TIMEOUT_MS;
    int opt;
    while ((opt = getopt_long (argc, argv, "c:b:k:i:djt:h", table, NULL)) != -1) {
        switch (opt) {
            case 'c':
                options->control = optarg;
                break;
            case 'b':
                options->broker = optarg;
                break;
            case 'k':
                options->broker_key = optarg;
                break;
            case 'i':
                options->identity = optarg;
                break;
            case 'd':
                options->digest = true;
                break;
            case 'j':
                options->json = true;
                break;
            case 't':
                if (!ld_connect_number ("--timeout", optarg, 1, 600000, &timeout))
                    return EX_USAGE;
                break;
            case 'h':
                s_usage (stdout);
                return -1;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    options->timeout_ms = (int) timeout;
    if (!options->control == !options->broker || optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    if (options->control && (options->broker_key || options->identity || options->digest)) {
        ld_cli_error ("--broker-key, --identity and --digest are for --broker");
        return EX_USAGE;
    }
    if (!options->broker_key != !options->identity) {
        ld_cli_error (options->broker_key ? "--broker-key needs --identity (our own key)"
                                          : "--identity needs --broker-key (the broker to trust)");
        return EX_USAGE;
    }
    return 0;
}

int
ld_cmd_status (int argc, char **argv)
{
    s_options_t options = {0};
    int code = s_parse (argc, argv, &options);
    if (code != 0)
        return code < 0 ? EX_OK : code;
    return options.control ? s_node_status (&options) : s_broker_status (&options);
}
