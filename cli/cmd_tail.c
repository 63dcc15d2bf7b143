/*  cmd_tail.c -- `liandong tail`: follow a broker's events with no gap and
    no duplicate, across catch-up, live delivery, dropped messages and broker
    restarts.

    The zguide "Clone" pattern, with the broker's store sequence numbers as
    the only source of truth (live delivery is a doorbell, never trusted to
    be complete):

      1. DEALER to --broker: Hello -> Welcome (live endpoint, last_seq);
      2. SUB to the live endpoint, subscribed to the prefix, before any
         catch-up, so that what is published from then on reaches us live or
         is already in the store when the catch-up reads it;
      3. Catchup from `pos`, then follow live.

    One number is the state that matters, pos: "every event with store seq
    <= pos whose topic starts with the prefix has been printed" (or lies
    before --from). pos only grows; an event is printed only if its store seq
    is above pos, and pos then becomes that seq. So whatever arrives twice
    (live and in a chunk, or twice in chunks) is printed once, and anything
    missing shows as a store seq above pos that catch-up fills.

    States
      HELLO    a Hello is out: first contact, a reconnection, or the probe
               of an idle LIVE. On Welcome: subscribe anew if the live
               endpoint changed; PRELUDE if --verify-authority has not read
               the trust feeds yet; CATCHUP if the broker (or a doorbell)
               holds more than pos, else LIVE.
      PRELUDE  (--verify-authority, once) a Catchup of trust/ from
               prelude_pos, folded only; live messages are doorbells. Its
               caught_up chunk leads on as a Welcome does.
      CATCHUP  one Catchup stream is open. Chunks are applied in order:
               events above pos printed, then pos = max (pos, cursor).
               Credit keeps S_WINDOW chunks in flight, granted as they are
               printed, so a slow terminal holds the broker to a few chunks.
               Live messages are doorbells only (the highest seq rung
               during the stream is kept). The chunk that says caught_up
               ends the stream: CATCHUP again if a doorbell rang above pos,
               else LIVE.
      LIVE     live message with seq s: s <= pos is a duplicate, dropped.
               With an empty prefix, s == pos + 1 is printed at once (table
               and raw output). Anything else -- a gap (dropped at the PUB's
               high-water mark, or while we were stopped), or any message
               under a prefix, where the seqs between matching events are
               not ours to see -- starts CATCHUP from pos. After S_PROBE_MS
               with no message at all, a Hello probes the broker: an answer
               proves it alive and tells last_seq, which reveals a last
               message dropped with nothing after it, and the live endpoint
               after a restart.
    A request unanswered within --timeout means the broker is gone or the
    connection was lost (a broker drops the stream of a peer that went away,
    e.g. a tail stopped with SIGSTOP past the heartbeat timeout): both
    sockets are made anew and HELLO starts over from pos. Only one Catchup is
    ever open on a socket and a new one is sent only after the previous one
    ended or on a new socket, so chunks of two streams never mix.

    --json prints every event from catch-up chunks, even with an empty
    prefix, because only chunks carry the receipt (when the broker stored
    the event, and the store seq of its receipt); live frames do not.

    Every event printed is decoded with limits and, unless --trust-broker,
    its signature verified; its topic must start with the prefix. A failure
    is a broker we cannot believe: exit 65.

    --verify-authority judges every event printed with a trust fold of our
    own (ld_trust, roots from --trust), so it must see the trust feeds
    whatever the user's prefix: it follows every topic (the prefix it
    subscribes to and catches up on, `follow`, is ""), folds every trust.*
    event and prints only the events under the user's prefix, each judged
    by ld_trust_check at that moment. pos and its invariant are unchanged,
    with follow in place of the prefix. Before the first catch-up, a
    PRELUDE stream reads trust/ from 0 (its own position, prelude_pos) and
    only folds what lies up to the start (print_after: --from, or the
    broker's last seq at first contact), so that the first events printed
    are judged with every certificate stored before them; the main stream
    folds the later ones in store order, and folds but never prints what
    lies up to print_after. Store order puts certificates before what
    they admit; a revocation can arrive after events it cuts were printed:
    after each fold, ld_trust_marks says whose standing changed, and a
    change that touches printed events is said as a notice (stderr, and a
    JSON line with --json). A refused event is printed with its status and
    does not stop the tail; the broker's own mark (Stored.invalid) is shown
    with or without --verify-authority.

    Exit codes: 0 after --count events or on SIGINT/SIGTERM; 64 usage; 65 an
    event failed decoding, verification or the prefix; 69 the broker did not
    answer the first Hello within --timeout, turned into another broker (its
    key changed) or refused a request; 74 standard output failed.
*/
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_cli.h"
#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_pbjson.h"
#include "ld_socket.h"
#include "ld_sync.h"
#include "ld_table.h"
#include "ld_roots.h"
#include "ld_trust.h"

#define S_TIMEOUT_DEFAULT_MS 5000 //  a request unanswered this long: reconnect
#define S_TIMEOUT_MIN_MS     100
#define S_TIMEOUT_MAX_MS     3600000
#define S_PROBE_MS           1000 //  LIVE this long without a message: Hello
#define S_WINDOW             4    //  catch-up chunks in flight
#define S_LIVE_DRAIN_MAX     1024 //  live messages read per turn of the loop
#define S_LIVE_RCVHWM        1000 //  live messages queued (up to 64 MiB) before drops
#define S_ENDPOINT_MAX       256
#define S_SHORT_CHARS        8  //  characters of a key or id in the table
#define S_TEXT_WIDTH         40 //  table TEXT column when not on a terminal
#define S_TEXT_WIDTH_MIN     16
#define S_VARINT_MAX         10 //  bytes of a 64-bit varint
#define S_ROOTS_MAX          16 //  --trust options
#define S_AUTHORITY_WIDTH    20 //  table AUTHORITY column: "awaiting-certificate"
#define S_REASON_MAX         512
#define S_TRUST_TOPIC        "trust/" //  where every trust event that counts lives

typedef enum { S_TABLE, S_JSON, S_RAW } s_format_t;

typedef enum { S_HELLO, S_PRELUDE, S_CATCHUP, S_LIVE } s_state_t;

typedef struct {
    const char *broker;
    const char *prefix;
    bool from_set;
    uint64_t from;
    uint64_t count; //  0: no limit
    s_format_t format;
    bool trust;
    int timeout_ms;
    const char *broker_key;         //  --broker-key: a .pub file or "ed25519:..." text
    const char *identity;           //  --identity: the path of a secret key file
    bool verify;                    //  --verify-authority
    const char *roots[S_ROOTS_MAX]; //  --trust: .pub files or "ed25519:..." texts
    size_t root_count;
} s_options_t;

//  The store seqs of one author's events printed so far (--verify-authority),
//  so that a change of its standing can say which printed lines it touches.
typedef struct {
    uint64_t first_seq;
    uint64_t last_seq;
    uint64_t last_ok_seq; //  the highest printed as "ok"; 0: none
} s_printed_t;

//  What is said of one printed event besides the event itself.
typedef struct {
    const char *status;        //  --verify-authority: "ok" or a status name; else NULL
    char reason[S_REASON_MAX]; //  why (the rule that admitted or refused it)
    const char *invalid;       //  the broker's mark (Stored.invalid), or NULL
} s_verdict_t;

typedef struct {
    s_options_t opt;
    int signal_fd;
    zsock_t *dealer;
    zsock_t *sub;
    char live[S_ENDPOINT_MAX]; //  endpoint sub is connected to
    s_state_t state;
    bool have_pos;
    uint64_t pos;      //  see the comment at the top
    uint64_t doorbell; //  highest live seq seen since the last Catchup
    uint32_t credit;   //  chunks the broker may still send us
    int64_t deadline;  //  HELLO, CATCHUP: reply due; LIVE: probe
    bool contacted;    //  a Welcome has come at least once
    bool outage;       //  a lost connection was reported, not yet its end
    bool have_key;
    uint8_t broker_key[LD_KEY_BYTES];
    //  CurveZMQ (--broker-key): our pair and the broker's Curve25519 key,
    //  for both sockets; NULL curve: plain tcp
    ld_curve_t *curve;
    uint8_t pinned_key[LD_KEY_BYTES]; //  --broker-key, Ed25519
    uint8_t server_curve[LD_KEY_BYTES];
    //  --verify-authority: our own trust fold; everything is followed
    //  (follow is "", see the comment at the top) and printed only under
    //  the user's prefix and after print_after
    ld_trust_t *trust;
    const char *follow;     //  the prefix subscribed to and caught up on
    uint64_t print_after;   //  events up to here are folded, never printed
    bool prelude_done;      //  the trust feeds were read up to the start
    uint64_t prelude_pos;   //  the prelude's own pos (prefix "trust/")
    uint64_t last_seq;      //  from the last Welcome
    zhashx_t *printed_keys; //  key text -> s_printed_t
    uint64_t printed;
    bool malformed_reported;
    ld_table_stream_t *table;
    bool done;
    int exit_code;
} s_tail_t;

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: liandong tail --broker tcp://HOST:PORT [--prefix P] [--from N]\n"
        "                     [--count N] [--json|--raw] [--trust-broker] [--timeout MS]\n"
        "                     [--broker-key PUB --identity SECRET]\n"
        "                     [--verify-authority --trust ROOT.pub [--trust ...]]\n"
        "\n"
        "Prints a broker's events as they are stored, each once and in store order:\n"
        "first those already stored after --from, then new ones as they come.\n"
        "\n"
        "  --broker EP      the broker's --listen endpoint\n"
        "  --prefix P       only events whose topic starts with P (bytes: end segments\n"
        "                   with '/', as in note/wudang/)\n"
        "  --from N         start after store seq N (0: everything stored); default:\n"
        "                   only events stored from now on\n"
        "  --count N        exit after printing N events\n"
        "  --json           one JSON object per line (NDJSON), with receipt\n"
        "  --raw            the envelopes, each as a varint length and its bytes\n"
        "                   (protobuf's delimited form, read by 'liandong inspect')\n"
        "  --trust-broker   do not verify signatures (the broker verified them)\n"
        "  --timeout MS     a broker silent this long is reconnected; at first contact,\n"
        "                   an error (default %d)\n"
        "  --broker-key PUB the broker's public key (its identity.pub, or ed25519:...):\n"
        "                   connect with CurveZMQ to that broker only; needs --identity\n"
        "  --identity FILE  this tail's secret key (identity.secret), certified for a\n"
        "                   broker run with --trust\n"
        "  --verify-authority  judge every event printed by its author's certificates,\n"
        "                   folded here from the trust feeds (read whatever the prefix):\n"
        "                   an AUTHORITY column, or \"authority\":{\"status\",\"reason\"};\n"
        "                   a revocation that cuts events printed before is said on\n"
        "                   stderr (and as a {\"notice\":\"authority\",...} line with --json)\n"
        "  --trust ROOT     a district root key (.pub file or ed25519:...); repeatable\n"
        "\n"
        "An event the broker marked invalid shows it (\"invalid\":\"revoked\" in JSON, the\n"
        "mark in the table); it does not stop the tail.\n"
        "\n"
        "Exit codes: 0 done or stopped by SIGINT/SIGTERM; 64 usage; 65 an event\n"
        "failed verification; 69 the broker cannot be reached or refused; 74 output.\n",
        S_TIMEOUT_DEFAULT_MS);
}

//  A decimal number in 0..max, the whole text.
static int
s_parse_u64 (const char *text, uint64_t max, uint64_t *value)
{
    char *end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || text[0] == '+' || parsed > max)
        return -1;
    *value = (uint64_t) parsed;
    return 0;
}

static void
s_finish (s_tail_t *self, int exit_code)
{
    if (!self->done) {
        self->done = true;
        self->exit_code = exit_code;
    }
}

//  --------------------------------------------------------------------------
//  Output

//  The base64 part of a key or id text form, cut to S_SHORT_CHARS.
static void
s_short (const char *text, char out[S_SHORT_CHARS + 1])
{
    const char *colon = strchr (text, ':');
    snprintf (out, S_SHORT_CHARS + 1, "%.*s", S_SHORT_CHARS, colon ? colon + 1 : text);
}

//  What the TEXT column shows: a note's text, another known payload as
//  compact JSON, an unknown one by its size. A new string, or NULL.
static char *
s_summary (const ld_event_t *event, json_t *body)
{
    json_t *payload = json_object_get (body, "payload");
    if (!payload)
        return strdup ("");
    if (json_is_string (payload)) {
        //  the mapping printed the bytes: a type this build does not know
        size_t size = 0;
        ld_event_payload (event, &size);
        char *text = NULL;
        return asprintf (&text, "(%zu bytes)", size) < 0 ? NULL : text;
    }
    json_t *text = json_object_get (payload, "text");
    if (json_is_string (text))
        return strdup (json_string_value (text));
    return json_dumps (payload, JSON_COMPACT);
}

static int
s_print_table (s_tail_t *self, uint64_t store_seq, const ld_event_t *event, json_t *json,
               const s_verdict_t *verdict)
{
    json_t *body = json_object_get (json, "body");
    char store_seq_text[24], seq_text[24], author[S_SHORT_CHARS + 1], id[S_SHORT_CHARS + 1];
    snprintf (store_seq_text, sizeof store_seq_text, "%" PRIu64, store_seq);
    snprintf (seq_text, sizeof seq_text, "%" PRIu64, ld_event_seq (event));
    char text_form[LD_ID_TEXT_BYTES];
    ld_key_to_text (ld_event_author (event), text_form);
    s_short (text_form, author);
    ld_id_to_text (ld_event_id (event), text_form);
    s_short (text_form, id);
    char *summary = s_summary (event, body);
    if (!summary)
        return -1;
    //  Our own judgement in its column; the broker's mark beside it when it
    //  says otherwise, or, without --verify-authority, before the text.
    char authority[S_REASON_MAX], *marked = NULL;
    if (verdict->status && verdict->invalid && strcmp (verdict->status, verdict->invalid) != 0)
        snprintf (authority, sizeof authority, "%s (broker: %s)", verdict->status,
                  verdict->invalid);
    else
        snprintf (authority, sizeof authority, "%s", verdict->status ? verdict->status : "");
    if (!verdict->status && verdict->invalid
        && asprintf (&marked, "[invalid: %s] %s", verdict->invalid, summary) < 0) {
        free (summary);
        return -1;
    }
    const char *text = marked ? marked : summary;
    const char *cells[] = {store_seq_text,        author,    seq_text, ld_event_topic (event),
                           ld_event_type (event), authority, text,     id};
    const char *plain[] = {store_seq_text,        author, seq_text, ld_event_topic (event),
                           ld_event_type (event), text,   id};
    int rc = ld_table_stream_row (self->table, stdout, self->trust ? cells : plain);
    free (marked);
    free (summary);
    return rc;
}

//  Sets key in line to a copy of member key of from, if present.
static int
s_copy_member (json_t *line, json_t *from, const char *key)
{
    json_t *value = json_object_get (from, key);
    return value ? json_object_set (line, key, value) : 0;
}

static int
s_set_u64 (json_t *object, const char *key, uint64_t value)
{
    char text[24];
    snprintf (text, sizeof text, "%" PRIu64, value);
    return json_object_set_new (object, key, json_string (text));
}

//  Prints one JSON object as a line. 0 or -1.
static int
s_print_line (json_t *line)
{
    //  no JSON_ENSURE_ASCII: Chinese prints as itself
    char *text = json_dumps (line, JSON_COMPACT);
    if (!text)
        return -1;
    int rc = fputs (text, stdout) == EOF || fputc ('\n', stdout) == EOF ? -1 : 0;
    free (text);
    return rc;
}

//  One NDJSON line: {"storeSeq","id","author","seq","topic","type","timeMs",
//  "receipt":{"storeSeq","storedMs"},"invalid","authority":{"status",
//  "reason"},"payload"}, 64-bit numbers as strings (the canonical mapping),
//  keys and ids in their text forms; invalid only when the broker marked
//  the event, authority only with --verify-authority.
static int
s_print_json (uint64_t store_seq, json_t *json, const Liandong__Sync__Stored *stored,
              const s_verdict_t *verdict)
{
    json_t *body = json_object_get (json, "body");
    json_t *line = json_object ();
    int rc = line ? 0 : -1;
    rc = rc ? rc : s_set_u64 (line, "storeSeq", store_seq);
    rc = rc ? rc : s_copy_member (line, json, "id");
    const char *body_keys[] = {"author", "seq", "topic", "type", "timeMs"};
    for (size_t i = 0; i < sizeof body_keys / sizeof body_keys[0]; i++)
        rc = rc ? rc : s_copy_member (line, body, body_keys[i]);
    if (rc == 0 && stored && (stored->has_receipt_seq || stored->has_stored_ms)) {
        json_t *receipt = json_object ();
        if (!receipt || json_object_set_new (line, "receipt", receipt) != 0)
            rc = -1;
        if (rc == 0 && stored->has_receipt_seq)
            rc = s_set_u64 (receipt, "storeSeq", stored->receipt_seq);
        if (rc == 0 && stored->has_stored_ms)
            rc = s_set_u64 (receipt, "storedMs", (uint64_t) stored->stored_ms);
    }
    if (rc == 0 && verdict->invalid)
        rc = json_object_set_new (line, "invalid", json_string (verdict->invalid));
    if (rc == 0 && verdict->status)
        rc = json_object_set_new (
            line, "authority",
            json_pack ("{s:s, s:s}", "status", verdict->status, "reason", verdict->reason));
    rc = rc ? rc : s_copy_member (line, body, "payload");
    rc = rc ? rc : s_print_line (line);
    json_decref (line);
    return rc;
}

//  The envelope in protobuf's delimited form: varint length, then bytes.
static int
s_print_raw (const uint8_t *envelope, size_t size)
{
    uint8_t varint[S_VARINT_MAX];
    size_t used = 0;
    uint64_t value = size;
    do {
        varint[used++] = (uint8_t) ((value & 0x7F) | (value > 0x7F ? 0x80 : 0));
        value >>= 7;
    } while (value);
    if (fwrite (varint, 1, used, stdout) != used || fwrite (envelope, 1, size, stdout) != size)
        return -1;
    return 0;
}

//  --------------------------------------------------------------------------
//  Authority (--verify-authority)

//  Says on stderr, and with --json as a line on stdout, that the standing
//  of key changed when the trust event at store_seq was folded, in a way
//  that touches events of it printed before. 0 or -1 (output failed).
static int
s_notice (s_tail_t *self, uint64_t store_seq, const ld_trust_mark_t *mark,
          const s_printed_t *printed, bool cut)
{
    char key[LD_KEY_TEXT_BYTES], reason[S_REASON_MAX] = "";
    ld_key_to_text (mark->author, key);
    //  how the last event it touches stands now: for a cut, the last one
    //  printed as "ok"
    uint64_t through = cut ? printed->last_ok_seq : printed->last_seq;
    ld_status_t rc = ld_trust_valid (self->trust, mark->author, through, reason, sizeof reason);
    const char *status = rc == LD_OK ? "ok" : ld_status_name (rc);
    bool bounded = mark->valid_through != LD_TRUST_NO_CUT;
    if (cut)
        ld_cli_error (
            "authority: at store seq %" PRIu64 ", key '%s' is valid through its seq %" PRIu64
            " only (%s: %s); its events printed above seq %" PRIu64 " (up to seq %" PRIu64
            ") are invalid",
            store_seq, key, mark->valid_through, status, reason, mark->valid_through, through);
    else
        ld_cli_error ("authority: at store seq %" PRIu64 ", the standing of key '%s' changed (now "
                      "%s%s%s); its events printed up to seq %" PRIu64 " may be judged "
                      "differently now",
                      store_seq, key, status, *reason ? ": " : "", reason, through);
    if (self->opt.format != S_JSON)
        return 0;
    json_t *line = json_object ();
    int failed = !line;
    failed = failed || json_object_set_new (line, "notice", json_string ("authority"));
    failed = failed || s_set_u64 (line, "storeSeq", store_seq);
    failed = failed || json_object_set_new (line, "key", json_string (key));
    failed = failed || json_object_set_new (line, "change", json_string (cut ? "cut" : "recheck"));
    failed = failed
             || (bounded ? s_set_u64 (line, "validThrough", mark->valid_through)
                         : json_object_set_new (line, "validThrough", json_null ()));
    failed = failed || s_set_u64 (line, "printedThrough", through);
    failed = failed || json_object_set_new (line, "status", json_string (status));
    failed = failed || json_object_set_new (line, "reason", json_string (reason));
    failed = failed || s_print_line (line);
    json_decref (line);
    return failed ? -1 : 0;
}

//  After a fold: the keys whose standing changed, each said once if it
//  touches what we printed. A cut below the last seq printed as "ok" makes
//  those lines invalid; a recheck (a certificate arrived, grants changed)
//  may change the verdict on any line up to valid_through. 0, or an exit
//  code.
static int
s_notices (s_tail_t *self, uint64_t store_seq)
{
    ld_trust_mark_t *marks = NULL;
    size_t count = 0;
    if (ld_trust_marks (self->trust, &marks, &count) != LD_OK) {
        ld_cli_error ("cannot fold the trust feeds: %s", ld_status_text (LD_ERR_NOMEM));
        return EX_OSERR;
    }
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        char key[LD_KEY_TEXT_BYTES];
        ld_key_to_text (marks[i].author, key);
        const s_printed_t *printed = zhashx_lookup (self->printed_keys, key);
        if (!printed)
            continue;
        bool cut = marks[i].valid_through < printed->last_ok_seq;
        bool recheck = marks[i].recheck && printed->first_seq <= marks[i].valid_through;
        if ((cut || recheck) && s_notice (self, store_seq, &marks[i], printed, cut) != 0) {
            ld_cli_error ("cannot write to standard output: %s", strerror (errno));
            rc = EX_IOERR;
        }
    }
    free (marks);
    return rc;
}

//  Folds a verified trust event. 0, or an exit code. A payload that does
//  not decode is kept out of the fold and judged so when printed; a fork
//  freezes its author (the marks say what that cuts).
static int
s_fold (s_tail_t *self, uint64_t store_seq, const ld_event_t *event)
{
    char err[S_REASON_MAX];
    ld_status_t rc = ld_trust_fold (self->trust, event, err, sizeof err);
    if (rc == LD_ERR_NOMEM) {
        ld_cli_error ("cannot fold the trust feeds: %s", ld_status_text (rc));
        return EX_OSERR;
    }
    if (rc == LD_ERR_FORK)
        ld_cli_error ("authority: at store seq %" PRIu64 ", %s [%s]: its feed ends before them",
                      store_seq, err, ld_status_name (rc));
    return 0;
}

//  Our judgement of event, now, into verdict; remembers that its author
//  was printed. 0, or an exit code.
static int
s_judge (s_tail_t *self, const ld_event_t *event, s_verdict_t *verdict)
{
    const ld_authority_t *row = NULL;
    ld_status_t rc =
        ld_trust_check (self->trust, event, &row, verdict->reason, sizeof verdict->reason);
    if (rc == LD_ERR_NOMEM) {
        ld_cli_error ("cannot judge authority: %s", ld_status_text (rc));
        return EX_OSERR;
    }
    verdict->status = rc == LD_OK ? "ok" : ld_status_name (rc);
    if (rc == LD_OK)
        snprintf (verdict->reason, sizeof verdict->reason, "%s", row ? row->text : "");
    char key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (ld_event_author (event), key);
    s_printed_t *printed = zhashx_lookup (self->printed_keys, key);
    uint64_t seq = ld_event_seq (event);
    if (!printed) {
        printed = malloc (sizeof *printed);
        if (!printed || zhashx_insert (self->printed_keys, key, printed) != 0) {
            free (printed);
            ld_cli_error ("cannot judge authority: %s", ld_status_text (LD_ERR_NOMEM));
            return EX_OSERR;
        }
        *printed = (s_printed_t){seq, seq, 0};
    }
    if (rc == LD_OK && seq > printed->last_ok_seq)
        printed->last_ok_seq = seq;
    if (seq < printed->first_seq)
        printed->first_seq = seq;
    if (seq > printed->last_seq)
        printed->last_seq = seq;
    return 0;
}

//  Decodes, checks and prints one event; stored is NULL for a live one.
//  With --verify-authority a trust event is folded first, an event is
//  printed only under the user's prefix and after print_after, and the
//  prelude (reading the trust feeds up to the start) only folds. Ends the
//  tail on a failure or when --count is reached.
static void
s_emit (s_tail_t *self, uint64_t store_seq, const uint8_t *envelope, size_t size,
        const Liandong__Sync__Stored *stored)
{
    char err[256];
    ld_event_t *event = NULL;
    ld_status_t rc = ld_event_decode (envelope, size, 0, &event, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("broker sent an event that does not decode at store seq %" PRIu64 ": %s [%s]",
                      store_seq, err, ld_status_name (rc));
        s_finish (self, EX_DATAERR);
        return;
    }
    char id[LD_ID_TEXT_BYTES];
    ld_id_to_text (ld_event_id (event), id);
    if (!self->opt.trust && (rc = ld_event_verify (event)) != LD_OK) {
        ld_cli_error ("event '%s' at store seq %" PRIu64 " fails verification: %s [%s]", id,
                      store_seq, ld_status_text (rc), ld_status_name (rc));
        s_finish (self, EX_DATAERR);
        goto done;
    }
    const char *topic = ld_event_topic (event);
    bool prelude = self->state == S_PRELUDE;
    const char *asked = prelude ? S_TRUST_TOPIC : self->follow;
    if (strncmp (topic, asked, strlen (asked)) != 0) {
        ld_cli_error ("broker sent event '%s' at store seq %" PRIu64
                      " under topic '%s', outside prefix '%s'",
                      id, store_seq, topic, asked);
        s_finish (self, EX_DATAERR);
        goto done;
    }
    bool trust_event =
        self->trust && strncmp (ld_event_type (event), LD_TYPE_TRUST, strlen (LD_TYPE_TRUST)) == 0;
    int code = trust_event ? s_fold (self, store_seq, event) : 0;
    s_verdict_t verdict = {.invalid = stored ? stored->invalid : NULL};
    bool shown = !prelude && store_seq > self->print_after
                 && strncmp (topic, self->opt.prefix, strlen (self->opt.prefix)) == 0;
    if (code == 0 && shown && self->trust)
        code = s_judge (self, event, &verdict);
    if (code == 0 && shown) {
        int written;
        if (self->opt.format == S_RAW)
            written = s_print_raw (envelope, size);
        else {
            json_t *json = ld_event_to_json (event);
            if (!json)
                written = -1;
            else if (self->opt.format == S_JSON)
                written = s_print_json (store_seq, json, stored, &verdict);
            else
                written = s_print_table (self, store_seq, event, json, &verdict);
            json_decref (json);
        }
        if (written != 0 || ferror (stdout)) {
            ld_cli_error ("cannot write to standard output: %s",
                          ferror (stdout) ? strerror (errno) : ld_status_text (LD_ERR_NOMEM));
            code = EX_IOERR;
        }
        else
            self->printed++;
    }
    //  After the line that caused them, so that a reader sees the cause.
    if (code == 0 && trust_event)
        code = s_notices (self, store_seq);
    if (code != 0)
        s_finish (self, code);
    else if (self->opt.count && self->printed >= self->opt.count)
        s_finish (self, EX_OK);
done:
    ld_event_destroy (&event);
}

//  --------------------------------------------------------------------------
//  Connection

//  The live address to connect to, from the Welcome: tcp:// or ipc:// only,
//  one endpoint (no ','); a wildcard host ("*", "0.0.0.0") is the host of
//  --broker. Returns 0, or -1 if the address is unusable.
static int
s_live_address (const char *broker, const char *address, char *out, size_t size)
{
    if (!address || strchr (address, ',') || strpbrk (address, " \t\r\n")
        || (strncmp (address, "tcp://", 6) != 0 && strncmp (address, "ipc://", 6) != 0))
        return -1;
    const char *host = address + 6;
    bool wildcard = strncmp (address, "tcp://", 6) == 0
                    && (strncmp (host, "*:", 2) == 0 || strncmp (host, "0.0.0.0:", 8) == 0);
    int n;
    if (wildcard && strncmp (broker, "tcp://", 6) == 0 && strrchr (broker, ':') > broker + 6) {
        const char *broker_host = broker + 6;
        int host_len = (int) (strrchr (broker, ':') - broker_host);
        n = snprintf (out, size, "tcp://%.*s%s", host_len, broker_host, strchr (host, ':'));
    }
    else
        n = snprintf (out, size, "%s", address);
    return n > 0 && (size_t) n < size ? 0 : -1;
}

//  With --broker-key, a socket is a CurveZMQ client of that broker only
//  (the keys are copied into the socket when it is made).
static void
s_curve_spec (s_tail_t *self, ld_socket_spec_t *spec)
{
    if (!self->curve)
        return;
    spec->curve_secret = ld_curve_secret (self->curve);
    spec->curve_public = ld_curve_public (self->curve);
    spec->curve_server_key = self->server_curve;
}

static void
s_close (s_tail_t *self)
{
    zsock_destroy (&self->dealer);
    zsock_destroy (&self->sub);
    self->live[0] = '\0';
}

//  Connects the SUB to address and subscribes to the prefix. 0 or -1.
static int
s_subscribe (s_tail_t *self, const char *address)
{
    zsock_destroy (&self->sub);
    self->live[0] = '\0';
    char endpoint[S_ENDPOINT_MAX + 1], err[256];
    snprintf (endpoint, sizeof endpoint, ">%s", address);
    ld_socket_spec_t spec = {
        .type = ZMQ_SUB,
        .endpoints = endpoint,
        .max_message = LD_ENVELOPE_MAX_DEFAULT,
        .rcvhwm = S_LIVE_RCVHWM,
        //  Its queue fills whenever we print slower than events come (or
        //  are stopped), and libzmq 4.3.4 aborts if a heartbeat then fires
        //  (see ld_socket.h). Liveness is the DEALER's and the probe's job.
        .no_heartbeat = true,
    };
    s_curve_spec (self, &spec);
    self->sub = ld_socket_new (&spec, err, sizeof err);
    if (!self->sub) {
        ld_cli_error ("cannot follow the live endpoint '%s': %s", address, err);
        return -1;
    }
    zsock_set_subscribe (self->sub, self->follow);
    snprintf (self->live, sizeof self->live, "%s", address);
    return 0;
}

static void s_reconnect (s_tail_t *self);

//  Sends a request; a message that cannot be queued means the connection
//  is not usable: start over.
static void
s_send (s_tail_t *self, const ld_request_t *request)
{
    if (ld_request_send (self->dealer, request) != 0)
        s_reconnect (self);
}

static void
s_hello (s_tail_t *self)
{
    self->state = S_HELLO;
    self->deadline = zclock_mono () + self->opt.timeout_ms;
    Liandong__Sync__Hello hello = LIANDONG__SYNC__HELLO__INIT;
    hello.has_version = 1;
    hello.version = LD_SYNC_VERSION;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_HELLO;
    request.hello = &hello;
    //  If it cannot be queued, the deadline brings the next attempt.
    ld_request_send (self->dealer, &request);
}

//  New sockets, then Hello. The SUB is made once the Welcome names it.
static void
s_reconnect (s_tail_t *self)
{
    s_close (self);
    char endpoint[S_ENDPOINT_MAX + 1], err[256];
    snprintf (endpoint, sizeof endpoint, ">%s", self->opt.broker);
    ld_socket_spec_t spec = {
        .type = ZMQ_DEALER,
        .endpoints = endpoint,
        .max_message = LD_SYNC_FRAME_MAX,
    };
    s_curve_spec (self, &spec);
    self->dealer = ld_socket_new (&spec, err, sizeof err);
    if (!self->dealer) {
        ld_cli_error ("cannot connect to broker '%s': %s", self->opt.broker, err);
        s_finish (self, EX_UNAVAILABLE);
        return;
    }
    s_hello (self);
}

static void
s_live (s_tail_t *self)
{
    self->state = S_LIVE;
    self->deadline = zclock_mono () + S_PROBE_MS;
}

//  Opens a Catchup stream after `after` under prefix: the main one
//  (S_CATCHUP, from pos) or the prelude (S_PRELUDE, the trust feeds).
static void
s_stream (s_tail_t *self, s_state_t state, uint64_t after, const char *prefix)
{
    self->state = state;
    self->credit = S_WINDOW;
    self->deadline = zclock_mono () + self->opt.timeout_ms;
    //  Only a doorbell rung during this stream calls for another: one from
    //  before is answered by it, and a bogus one (a seq the store never
    //  reaches) then costs one empty round, not a loop. The prelude answers
    //  none (it reads trust/ only): they wait for the main stream.
    if (state == S_CATCHUP)
        self->doorbell = 0;
    Liandong__Sync__Catchup catchup = LIANDONG__SYNC__CATCHUP__INIT;
    catchup.after = after;
    catchup.prefix = (char *) prefix;
    catchup.credit = S_WINDOW;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CATCHUP;
    request.catchup = &catchup;
    s_send (self, &request);
}

static void
s_catchup (s_tail_t *self)
{
    s_stream (self, S_CATCHUP, self->pos, self->follow);
}

//  What follows a Welcome, or the end of the prelude: the trust feeds
//  first if they are not read yet, then catch-up if the broker (or a
//  doorbell) holds more than pos, else live.
static void
s_next (s_tail_t *self)
{
    if (self->trust && !self->prelude_done)
        s_stream (self, S_PRELUDE, self->prelude_pos, S_TRUST_TOPIC);
    else if (self->last_seq > self->pos || self->doorbell > self->pos)
        s_catchup (self);
    else
        s_live (self);
}

static void
s_grant_credit (s_tail_t *self)
{
    Liandong__Sync__Credit credit = LIANDONG__SYNC__CREDIT__INIT;
    credit.chunks = S_WINDOW - self->credit;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CREDIT;
    request.credit = &credit;
    self->credit = S_WINDOW;
    s_send (self, &request);
}

//  --------------------------------------------------------------------------
//  Replies and live messages

static void
s_on_welcome (s_tail_t *self, const Liandong__Sync__Welcome *welcome)
{
    if (welcome->broker_key.len != LD_KEY_BYTES)
        return; //  not a Welcome we can use; the deadline retries
    char key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (welcome->broker_key.data, key);
    if (self->have_key && memcmp (self->broker_key, welcome->broker_key.data, LD_KEY_BYTES) != 0) {
        ld_cli_error ("broker '%s' is another broker now (key '%s'): its store sequence "
                      "numbers do not continue this tail's",
                      self->opt.broker, key);
        s_finish (self, EX_UNAVAILABLE);
        return;
    }
    //  CurveZMQ proved the transport key; the Welcome must name the same
    //  identity, or store seqs and receipts come from another key's store.
    if (self->curve && memcmp (self->pinned_key, welcome->broker_key.data, LD_KEY_BYTES) != 0) {
        ld_cli_error ("broker '%s' presents key '%s', not the one of --broker-key '%s'",
                      self->opt.broker, key, self->opt.broker_key);
        s_finish (self, EX_UNAVAILABLE);
        return;
    }
    memcpy (self->broker_key, welcome->broker_key.data, LD_KEY_BYTES);
    self->have_key = true;
    const char *offered = NULL;
    for (size_t i = 0; i < welcome->n_endpoints; i++)
        if (strcmp (welcome->endpoints[i]->name, "live") == 0)
            offered = welcome->endpoints[i]->address;
    char address[S_ENDPOINT_MAX];
    if (s_live_address (self->opt.broker, offered, address, sizeof address) != 0) {
        ld_cli_error ("broker '%s' offers no usable live endpoint ('%s')", self->opt.broker,
                      offered ? offered : "");
        s_finish (self, EX_UNAVAILABLE);
        return;
    }
    //  Subscribe before catching up (the Clone pattern).
    if ((!self->sub || strcmp (self->live, address) != 0) && s_subscribe (self, address) != 0) {
        s_finish (self, EX_UNAVAILABLE);
        return;
    }
    if (!self->have_pos) {
        self->pos = welcome->last_seq;
        self->have_pos = true;
    }
    if (!self->contacted)
        self->print_after = self->pos; //  what lies before the start is not printed
    self->last_seq = welcome->last_seq;
    if (self->outage)
        ld_cli_error ("broker '%s' answers again; resuming after store seq %" PRIu64,
                      self->opt.broker, self->pos);
    self->contacted = true;
    self->outage = false;
    s_next (self);
}

//  The trust feeds are folded up to prelude_pos, which may lie below pos
//  (--from beyond the store's end): nothing is printed yet, so pos may go
//  back; what lies up to print_after is folded but not printed.
static void
s_prelude_done (s_tail_t *self)
{
    self->prelude_done = true;
    if (self->prelude_pos < self->pos)
        self->pos = self->prelude_pos;
    s_next (self);
}

static void
s_on_events (s_tail_t *self, const Liandong__Sync__Events *events)
{
    //  The prelude keeps its own position; pos is the main stream's.
    bool prelude = self->state == S_PRELUDE;
    uint64_t *pos = prelude ? &self->prelude_pos : &self->pos;
    for (size_t i = 0; i < events->n_events && !self->done; i++) {
        const Liandong__Sync__Stored *stored = events->events[i];
        if (stored->store_seq <= *pos)
            continue; //  printed already
        //  The prelude folds what lies before the start only: later trust
        //  events are folded in store order by the main stream, so that
        //  each event is judged as things stood when it was stored, and a
        //  later revocation is a notice.
        if (prelude && stored->store_seq > self->print_after) {
            *pos = stored->store_seq;
            continue;
        }
        s_emit (self, stored->store_seq, stored->envelope.data, stored->envelope.len, stored);
        *pos = stored->store_seq;
    }
    if (self->done)
        return;
    //  The broker scanned everything up to the cursor.
    if (events->cursor > *pos)
        *pos = events->cursor;
    self->deadline = zclock_mono () + self->opt.timeout_ms;
    if (events->caught_up) {
        if (prelude)
            s_prelude_done (self);
        else if (self->doorbell > self->pos)
            s_catchup (self);
        else
            s_live (self);
        return;
    }
    if (self->credit > 0)
        self->credit--;
    if (self->credit <= S_WINDOW / 2)
        s_grant_credit (self);
}

static void
s_on_error (s_tail_t *self, const Liandong__Sync__Error *error)
{
    ld_status_t status = ld_status_from_name (error->status);
    ld_cli_error ("broker '%s' refused: %s [%s]", self->opt.broker, error->reason, error->status);
    s_finish (self, status == LD_STATUS_COUNT ? EX_UNAVAILABLE : ld_cli_exit_code (status));
}

static void
s_on_reply (s_tail_t *self)
{
    char err[256];
    ld_reply_t *reply = ld_reply_recv (self->dealer, err, sizeof err);
    if (!reply) {
        //  Ignored: the deadline recovers if it was the reply we wait for.
        if (!self->malformed_reported)
            ld_cli_error ("ignoring a malformed reply from broker '%s': %s", self->opt.broker, err);
        self->malformed_reported = true;
        return;
    }
    switch (reply->kind_case) {
        case LIANDONG__SYNC__REPLY__KIND_WELCOME:
            if (self->state == S_HELLO)
                s_on_welcome (self, reply->welcome);
            break;
        case LIANDONG__SYNC__REPLY__KIND_EVENTS:
            if (self->state == S_CATCHUP || self->state == S_PRELUDE)
                s_on_events (self, reply->events);
            break;
        case LIANDONG__SYNC__REPLY__KIND_ERROR:
            s_on_error (self, reply->error);
            break;
        default:
            break; //  not an answer to anything we ask
    }
    ld_reply_free (&reply);
}

static void
s_on_live (s_tail_t *self)
{
    zmsg_t *msg = zmsg_recv (self->sub);
    if (!msg)
        return;
    zframe_t *topic = zmsg_first (msg);
    zframe_t *seq_frame = zmsg_next (msg);
    zframe_t *envelope = zmsg_next (msg);
    if (zmsg_size (msg) != 3 || !topic || zframe_size (seq_frame) != 8) {
        zmsg_destroy (&msg);
        return; //  not a live message; only catch-up is trusted anyway
    }
    uint64_t seq = ld_sync_get_u64 (zframe_data (seq_frame));
    if (seq > self->pos) {
        if (self->state != S_LIVE) {
            if (seq > self->doorbell)
                self->doorbell = seq;
        }
        else if (!*self->follow && seq == self->pos + 1 && self->opt.format != S_JSON) {
            s_emit (self, seq, zframe_data (envelope), zframe_size (envelope), NULL);
            self->pos = seq;
            self->deadline = zclock_mono () + S_PROBE_MS;
        }
        else
            s_catchup (self);
    }
    else if (self->state == S_LIVE)
        self->deadline = zclock_mono () + S_PROBE_MS;
    zmsg_destroy (&msg);
}

static void
s_on_deadline (s_tail_t *self)
{
    if (self->state == S_LIVE) {
        s_hello (self); //  the probe
        return;
    }
    if (!self->contacted) {
        //  A CurveZMQ handshake the broker refuses (or a plain tail at a
        //  broker that requires one) looks exactly like silence.
        if (self->curve)
            ld_cli_error ("cannot reach broker '%s': no answer within %d ms (is --broker-key the "
                          "broker's key, and is --identity certified for it?)",
                          self->opt.broker, self->opt.timeout_ms);
        else
            ld_cli_error ("cannot reach broker '%s': no answer within %d ms (a broker run with "
                          "--trust needs --broker-key and a certified --identity)",
                          self->opt.broker, self->opt.timeout_ms);
        s_finish (self, EX_UNAVAILABLE);
        return;
    }
    if (!self->outage)
        ld_cli_error ("broker '%s' does not answer; reconnecting", self->opt.broker);
    self->outage = true;
    s_reconnect (self);
}

//  --------------------------------------------------------------------------
//  The loop

static bool
s_readable (zsock_t *sock)
{
    return sock && (zsock_events (sock) & ZMQ_POLLIN);
}

static int
s_run (s_tail_t *self)
{
    s_reconnect (self);
    while (!self->done) {
        //  Output goes out before we wait: a terminal sees each event as it
        //  comes, a pipe gets it in blocks.
        if (fflush (stdout) != 0) {
            ld_cli_error ("cannot write to standard output: %s", strerror (errno));
            return EX_IOERR;
        }
        int64_t now = zclock_mono ();
        zmq_pollitem_t items[3] = {
            {NULL, self->signal_fd, ZMQ_POLLIN, 0},
            {zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0},
            {self->sub ? zsock_resolve (self->sub) : NULL, 0, ZMQ_POLLIN, 0},
        };
        long wait = self->deadline > now ? (long) (self->deadline - now) : 0;
        if (zmq_poll (items, self->sub ? 3 : 2, wait) < 0) {
            if (errno == EINTR)
                continue; //  e.g. resumed by SIGCONT
            ld_cli_error ("cannot poll: %s", zmq_strerror (errno));
            return EX_SOFTWARE;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo info;
            if (read (self->signal_fd, &info, sizeof info) == (ssize_t) sizeof info)
                s_finish (self, EX_OK);
        }
        //  Replies first: they are what moves pos.
        while (!self->done && s_readable (self->dealer))
            s_on_reply (self);
        for (int i = 0; i < S_LIVE_DRAIN_MAX && !self->done && s_readable (self->sub); i++)
            s_on_live (self);
        if (!self->done && zclock_mono () >= self->deadline)
            s_on_deadline (self);
    }
    if (fflush (stdout) != 0) {
        ld_cli_error ("cannot write to standard output: %s", strerror (errno));
        return EX_IOERR;
    }
    return self->exit_code;
}

//  The table's columns (AUTHORITY with --verify-authority); TEXT takes
//  what the terminal has left.
static ld_table_stream_t *
s_table_new (bool authority)
{
    ld_table_column_t columns[] = {
        {"SEQ", 7, true, true},
        {"AUTHOR", S_SHORT_CHARS, false, false},
        {"#", 6, true, true},
        {"TOPIC", 30, false, false},
        {"TYPE", 8, false, false},
        {"AUTHORITY", S_AUTHORITY_WIDTH, false, false},
        {"TEXT", S_TEXT_WIDTH, false, false},
        {"ID", 0, false, false},
    };
    size_t count = sizeof columns / sizeof columns[0];
    const size_t authority_at = 5;
    if (!authority) {
        memmove (&columns[authority_at], &columns[authority_at + 1],
                 (count - authority_at - 1) * sizeof columns[0]);
        count--;
    }
    size_t text_at = count - 2;
    struct winsize size;
    if (isatty (STDOUT_FILENO) && ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) == 0) {
        int others = 0;
        for (size_t i = 0; i < count; i++)
            others += (i == text_at ? 0 : columns[i].width) + (i + 1 < count ? 2 : 0);
        others += S_SHORT_CHARS;
        int left = (int) size.ws_col - others;
        columns[text_at].width = left > S_TEXT_WIDTH_MIN ? left : S_TEXT_WIDTH_MIN;
    }
    return ld_table_stream_new (columns, count);
}

static int
s_parse (int argc, char **argv, s_options_t *opt)
{
    static const struct option options[] = {
        {"broker", required_argument, NULL, 'b'},
        {"prefix", required_argument, NULL, 'p'},
        {"from", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"raw", no_argument, NULL, 'r'},
        {"trust-broker", no_argument, NULL, 'T'},
        {"timeout", required_argument, NULL, 't'},
        {"broker-key", required_argument, NULL, 'K'},
        {"identity", required_argument, NULL, 'i'},
        {"verify-authority", no_argument, NULL, 'V'},
        {"trust", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *opt = (s_options_t){.prefix = "", .format = S_TABLE, .timeout_ms = S_TIMEOUT_DEFAULT_MS};
    bool json = false, raw = false;
    uint64_t value;
    int c;
    while ((c = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
            case 'b':
                opt->broker = optarg;
                break;
            case 'p':
                if (strlen (optarg) > LD_TOPIC_MAX) {
                    ld_cli_error ("invalid --prefix: longer than %d bytes", LD_TOPIC_MAX);
                    return EX_USAGE;
                }
                opt->prefix = optarg;
                break;
            case 'f':
                if (s_parse_u64 (optarg, UINT64_MAX, &opt->from) != 0) {
                    ld_cli_error ("invalid --from '%s': expected a store seq", optarg);
                    return EX_USAGE;
                }
                opt->from_set = true;
                break;
            case 'n':
                if (s_parse_u64 (optarg, UINT64_MAX, &opt->count) != 0 || opt->count == 0) {
                    ld_cli_error ("invalid --count '%s': expected a number of events >= 1", optarg);
                    return EX_USAGE;
                }
                break;
            case 'j':
                json = true;
                break;
            case 'r':
                raw = true;
                break;
            case 'T':
                opt->trust = true;
                break;
            case 't':
                if (s_parse_u64 (optarg, S_TIMEOUT_MAX_MS, &value) != 0
                    || value < S_TIMEOUT_MIN_MS) {
                    ld_cli_error ("invalid --timeout '%s': expected ms in %d..%d", optarg,
                                  S_TIMEOUT_MIN_MS, S_TIMEOUT_MAX_MS);
                    return EX_USAGE;
                }
                opt->timeout_ms = (int) value;
                break;
            case 'K':
                opt->broker_key = optarg;
                break;
            case 'i':
                opt->identity = optarg;
                break;
            case 'V':
                opt->verify = true;
                break;
            case 'R':
                if (opt->root_count == S_ROOTS_MAX) {
                    ld_cli_error ("too many --trust roots (at most %d)", S_ROOTS_MAX);
                    return EX_USAGE;
                }
                opt->roots[opt->root_count++] = optarg;
                break;
            case 'h':
                s_usage (stdout);
                return -1;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (optind != argc || !opt->broker) {
        if (!opt->broker)
            ld_cli_error ("--broker is required");
        s_usage (stderr);
        return EX_USAGE;
    }
    if (json && raw) {
        ld_cli_error ("--json and --raw exclude each other");
        return EX_USAGE;
    }
    if (!opt->broker_key != !opt->identity) {
        ld_cli_error (opt->broker_key ? "--broker-key needs --identity (the tail's own key)"
                                      : "--identity needs --broker-key (the broker to trust)");
        return EX_USAGE;
    }
    if (opt->verify != (opt->root_count > 0)) {
        ld_cli_error (opt->verify ? "--verify-authority needs --trust ROOT.pub (the district's key)"
                                  : "--trust is for --verify-authority");
        return EX_USAGE;
    }
    //  Authority rests on signatures, and a raw envelope has no place for
    //  a verdict.
    if (opt->verify && (opt->trust || raw)) {
        ld_cli_error ("--verify-authority excludes %s", opt->trust ? "--trust-broker" : "--raw");
        return EX_USAGE;
    }
    if (strchr (opt->broker, ',')
        || (strncmp (opt->broker, "tcp://", 6) != 0 && strncmp (opt->broker, "ipc://", 6) != 0)
        || strlen (opt->broker) >= S_ENDPOINT_MAX) {
        ld_cli_error ("invalid --broker '%s': expected one tcp://HOST:PORT", opt->broker);
        return EX_USAGE;
    }
    opt->format = json ? S_JSON : raw ? S_RAW : S_TABLE;
    return 0;
}

//  The CurveZMQ keys of --broker-key and --identity. 0, or an exit code
//  (the error reported). The secret only ever lives in secure memory.
static int
s_load_curve (s_tail_t *self)
{
    if (!self->opt.broker_key)
        return 0;
    char err[256];
    ld_status_t rc = ld_public_key_load (self->opt.broker_key, self->pinned_key, err, sizeof err);
    if (rc == LD_OK
        && (rc = ld_curve_public_from_key (self->pinned_key, self->server_curve)) != LD_OK)
        snprintf (err, sizeof err, "'%s' is not a usable key", self->opt.broker_key);
    if (rc != LD_OK) {
        ld_cli_error ("invalid --broker-key: %s [%s]", err, ld_status_name (rc));
        return ld_cli_exit_code (rc);
    }
    ld_identity_t *identity = NULL;
    rc = ld_identity_load (self->opt.identity, &identity, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("invalid --identity: %s [%s]", err, ld_status_name (rc));
        return ld_cli_exit_code (rc);
    }
    self->curve = ld_curve_new (identity);
    ld_identity_destroy (&identity);
    if (!self->curve) {
        ld_cli_error ("cannot convert --identity '%s' for CurveZMQ", self->opt.identity);
        return EX_SOFTWARE;
    }
    return 0;
}

static void
s_printed_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

//  The trust fold of --verify-authority, with its roots. 0, or an exit
//  code (the error reported).
static int
s_load_trust (s_tail_t *self)
{
    self->follow = self->opt.prefix;
    if (!self->opt.verify)
        return 0;
    self->follow = ""; //  the trust feeds lie outside any prefix of the user's
    self->trust = ld_trust_new ();
    self->printed_keys = zhashx_new ();
    if (!self->trust || !self->printed_keys) {
        ld_cli_error ("cannot fold the trust feeds: %s", ld_status_text (LD_ERR_NOMEM));
        return EX_OSERR;
    }
    zhashx_set_destructor (self->printed_keys, s_printed_destroy);
    for (size_t i = 0; i < self->opt.root_count; i++) {
        char err[512];
        ld_status_t rc = ld_trust_add_root_file (self->trust, self->opt.roots[i], err, sizeof err);
        if (rc != LD_OK) {
            ld_cli_error ("invalid --trust '%s': %s [%s]", self->opt.roots[i], err,
                          ld_status_name (rc));
            return ld_cli_exit_code (rc);
        }
    }
    //  The first marks report every key (the roots): standing from here on
    //  is what later marks compare with.
    ld_trust_mark_t *marks = NULL;
    size_t count = 0;
    if (ld_trust_marks (self->trust, &marks, &count) != LD_OK) {
        ld_cli_error ("cannot fold the trust feeds: %s", ld_status_text (LD_ERR_NOMEM));
        return EX_OSERR;
    }
    free (marks);
    return 0;
}

int
ld_cmd_tail (int argc, char **argv)
{
    s_tail_t self = {.signal_fd = -1};
    int rc = s_parse (argc, argv, &self.opt);
    if (rc != 0)
        return rc < 0 ? EX_OK : rc;
    self.have_pos = self.opt.from_set;
    self.pos = self.opt.from;
    if ((rc = s_load_trust (&self)) != 0 || (rc = s_load_curve (&self)) != 0)
        goto done;

    //  czmq must not take our signals (main already sent its logs to
    //  stderr): SIGINT and SIGTERM are blocked in every thread (libzmq's
    //  are started after this) and read from a signalfd in the loop.
    zsys_handler_set (NULL);
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    if (sigprocmask (SIG_BLOCK, &signals, NULL) != 0
        || (self.signal_fd = signalfd (-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        ld_cli_error ("cannot take signals: %s", strerror (errno));
        rc = EX_OSERR;
        goto done;
    }
    if (self.opt.format == S_TABLE) {
        self.table = s_table_new (self.opt.verify);
        if (!self.table || ld_table_stream_header (self.table, stdout) != 0) {
            ld_cli_error ("cannot print the table: %s", ld_status_text (LD_ERR_NOMEM));
            rc = EX_OSERR;
            goto done;
        }
    }
    rc = s_run (&self);
    s_close (&self);
done:
    ld_table_stream_destroy (&self.table);
    if (self.signal_fd >= 0)
        close (self.signal_fd);
    ld_curve_destroy (&self.curve);
    zhashx_destroy (&self.printed_keys);
    ld_trust_destroy (&self.trust);
    return rc;
}
