/*  cmd_publish.c -- `liandong publish`: hand events to the local node.

    One Author request per event on the node's control socket; the node
    signs, commits and (unless --no-wait) answers once the broker has
    acknowledged, refused, or not answered in --timeout. For bulk input
    (--json with NDJSON, one event per line) up to S_WINDOW requests are in
    flight at once, so the node signs and commits them in groups; outcomes
    are printed in input order.

    Input (--json FILE or -): each line is either the payload object of
    --type, in the proto3 JSON mapping (ld_pbjson.h), or an object
    {"topic", "type", "payload"} whose members override the flags. A payload
    given as a JSON string is taken as base64 bytes, for types this build
    does not know. A FILE that holds a single JSON object or an array of
    them (pretty-printed, say) is read as such.

    Exit codes (sysexits, the worst outcome wins: 65 > 75 > 0): 0 all
    acknowledged (committed, with --no-wait); 64 usage; 65 refused (reason
    on stderr) or a bad input line; 69 node not reachable (aborts); 75
    queued or awaiting a certificate (committed; the outbox delivers later).
*/
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "ld_cli.h"
#include "ld_crypto.h"
#include "ld_event.h"
#include "ld_payload.h"
#include "ld_pbjson.h"
#include "ld_socket.h"
#include "ld_sync.h"

#define S_WINDOW           1000   //  Author requests in flight
#define S_TIMEOUT_DEFAULT  5000   //  ms, --timeout
#define S_TIMEOUT_MAX      600000 //  ms
#define S_GRACE_MS         2000   //  beyond --timeout before the node is unreachable
#define S_LINE_MAX         (4 * LD_ENVELOPE_MAX_DEFAULT) //  bytes of one input line
#define S_FRAME_MAX        (LD_ENVELOPE_MAX_DEFAULT + 4096)
#define S_REFUSALS_SHOWN   10 //  refusal reasons printed on stderr, then a count
#define S_STATUS_MAX       32
#define S_IPC_PREFIX       "ipc://"
#define S_NOTE_TYPE        "note"
#define S_ENVELOPE_TOPIC   "topic"
#define S_ENVELOPE_TYPE    "type"
#define S_ENVELOPE_PAYLOAD "payload"

typedef struct {
    const char *control;
    const char *topic;
    const char *type;
    const char *text;
    const char *json; //  FILE or "-"
    bool wait;
    uint32_t timeout_ms;
} s_options_t;

//  What became of one event.
typedef struct {
    bool done;
    int code; //  the exit code this outcome stands for
    char status[S_STATUS_MAX];
    bool has_id;
    uint8_t id[LD_ID_BYTES];
    uint64_t seq;
    char *reason; //  heap, or NULL
    size_t line;  //  input line, 0 for --text
} s_outcome_t;

typedef struct {
    const s_options_t *options;
    bool json_out;
    zsock_t *sock;
    s_outcome_t ring[S_WINDOW]; //  outcomes of tags printed+1 .. next_tag-1
    uint64_t next_tag;
    uint64_t printed;
    int worst;
    size_t refusals;
    int64_t last_progress; //  last reply (or first request after a lull)
    bool unreachable;
} s_client_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: liandong publish --control ipc://PATH --topic TOPIC --type TYPE\n"
             "                        (--text S | --json FILE|-) [--no-wait] [--timeout MS]\n"
             "\n"
             "Hands events to the local node, which signs and commits them to its feed\n"
             "and delivers them to the broker. Prints '<id> <seq>' per event, or with\n"
             "--json one JSON line per event: {\"id\", \"seq\", \"status\"} (+ \"reason\").\n"
             "\n"
             "  --text S        a note with text S (--type note, or no --type)\n"
             "  --json FILE|-   NDJSON, one event per line: the payload object of --type,\n"
             "                  or {\"topic\", \"type\", \"payload\"} overriding the flags\n"
             "  --no-wait       answer once committed to the node's feed\n"
             "  --timeout MS    how long to wait for the broker (default %d)\n"
             "\n"
             "Exit codes: 0 acknowledged (committed with --no-wait), 64 usage, 65 refused,\n"
             "69 node not reachable, 75 queued or awaiting certificate. In bulk the worst\n"
             "code wins.\n",
             S_TIMEOUT_DEFAULT);
}

//  --------------------------------------------------------------------------
//  Outcomes

//  65 (refused) beats 75 (not yet acknowledged) beats 0.
static int
s_worse (int a, int b)
{
    if (a == EX_DATAERR || b == EX_DATAERR)
        return EX_DATAERR;
    if (a == EX_TEMPFAIL || b == EX_TEMPFAIL)
        return EX_TEMPFAIL;
    return a != EX_OK ? a : b;
}

static int
s_code_of (const char *status)
{
    if (streq (status, "acknowledged") || streq (status, "committed"))
        return EX_OK;
    if (streq (status, "queued") || streq (status, "awaiting-certificate"))
        return EX_TEMPFAIL;
    return EX_DATAERR; //  "refused", or a status this build does not know
}

static void
s_print_json (const s_outcome_t *outcome)
{
    json_t *line = json_object ();
    if (!line)
        return;
    if (outcome->has_id) {
        char id[LD_ID_TEXT_BYTES];
        ld_id_to_text (outcome->id, id);
        json_object_set_new (line, "id", json_string (id));
        json_object_set_new (line, "seq", json_integer ((json_int_t) outcome->seq));
    }
    json_object_set_new (line, "status", json_string (outcome->status));
    if (outcome->reason && outcome->code == EX_DATAERR)
        json_object_set_new (line, "reason", json_string (outcome->reason));
    if (outcome->line && !outcome->has_id)
        json_object_set_new (line, "line", json_integer ((json_int_t) outcome->line));
    char *text = json_dumps (line, JSON_COMPACT);
    if (text)
        printf ("%s\n", text);
    free (text);
    json_decref (line);
}

static void
s_print (s_client_t *self, const s_outcome_t *outcome)
{
    if (self->json_out)
        s_print_json (outcome);
    else if (outcome->has_id && outcome->code != EX_DATAERR) {
        char id[LD_ID_TEXT_BYTES];
        ld_id_to_text (outcome->id, id);
        printf ("%s %" PRIu64 "\n", id, outcome->seq);
        if (outcome->code == EX_TEMPFAIL)
            ld_cli_error ("%s: %s", outcome->status,
                          outcome->reason ? outcome->reason : "not acknowledged yet");
    }
    if (outcome->code == EX_DATAERR && self->refusals++ < S_REFUSALS_SHOWN) {
        char where[64] = "";
        if (outcome->has_id)
            snprintf (where, sizeof where, " (seq %" PRIu64 ")", outcome->seq);
        else if (outcome->line)
            snprintf (where, sizeof where, " (line %zu)", outcome->line);
        ld_cli_error ("refused%s: %s", where, outcome->reason ? outcome->reason : outcome->status);
    }
    self->worst = s_worse (self->worst, outcome->code);
}

//  Prints the outcomes that are complete, in input order.
static void
s_flush (s_client_t *self)
{
    while (self->printed + 1 < self->next_tag) {
        s_outcome_t *outcome = &self->ring[(self->printed + 1) % S_WINDOW];
        if (!outcome->done)
            break;
        s_print (self, outcome);
        free (outcome->reason);
        memset (outcome, 0, sizeof *outcome);
        self->printed++;
    }
}

static void
s_outcome_refused (s_outcome_t *outcome, const char *reason)
{
    outcome->done = true;
    outcome->code = EX_DATAERR;
    snprintf (outcome->status, sizeof outcome->status, "refused");
    outcome->reason = strdup (reason);
}

//  --------------------------------------------------------------------------
//  Talking to the node

static void
s_on_reply (s_client_t *self, const Liandong__Sync__Authored *authored)
{
    if (authored->tag <= self->printed || authored->tag >= self->next_tag)
        return; //  not one of ours (a stale reply)
    s_outcome_t *outcome = &self->ring[authored->tag % S_WINDOW];
    if (outcome->done)
        return;
    outcome->done = true;
    snprintf (outcome->status, sizeof outcome->status, "%s", authored->status);
    outcome->code = s_code_of (authored->status);
    if (authored->has_id && authored->id.len == LD_ID_BYTES && authored->has_seq) {
        outcome->has_id = true;
        memcpy (outcome->id, authored->id.data, LD_ID_BYTES);
        outcome->seq = authored->seq;
    }
    if (authored->reason)
        outcome->reason = strdup (authored->reason);
}

//  Takes the replies that arrive within timeout_ms (0: only those already
//  here). Returns -1 once the node is taken as unreachable.
static int
s_receive (s_client_t *self, long timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve (self->sock), 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, timeout_ms) < 0)
        return errno == EINTR ? 0 : -1;
    while (zsock_events (self->sock) & ZMQ_POLLIN) {
        zframe_t *frame = zframe_recv (self->sock);
        if (!frame)
            break;
        ld_control_reply_t *reply = NULL;
        char err[256];
        ld_status_t rc = ld_control_reply_decode (zframe_data (frame), zframe_size (frame), &reply,
                                                  err, sizeof err);
        zframe_destroy (&frame);
        if (rc != LD_OK) {
            ld_cli_error ("ignored a bad reply from the node: %s", err);
            continue;
        }
        self->last_progress = zclock_mono ();
        if (reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_AUTHORED)
            s_on_reply (self, reply->authored);
        else if (reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_ERROR) {
            //  Requests are checked here first, so this is a version mismatch
            //  or a bug; the request it answers cannot be told.
            ld_cli_error ("the node could not read a request: %s: %s", reply->error->status,
                          reply->error->reason);
            self->worst = s_worse (self->worst, EX_DATAERR);
        }
        ld_control_reply_free (&reply);
    }
    s_flush (self);
    return 0;
}

static uint64_t
s_in_flight (const s_client_t *self)
{
    return self->next_tag - 1 - self->printed;
}

//  Waits for replies for at most the idle bound (--timeout + grace since
//  the last reply). Returns -1 if the node is unreachable.
static int
s_wait (s_client_t *self)
{
    int64_t limit = (int64_t) self->options->timeout_ms + S_GRACE_MS;
    int64_t left = self->last_progress + limit - zclock_mono ();
    if (left <= 0) {
        self->unreachable = true;
        return -1;
    }
    return s_receive (self, (long) left);
}

//  A slot for the next event, once the window has room; *tag_p is its
//  tag. NULL if the node became unreachable meanwhile.
static s_outcome_t *
s_outcome_new (s_client_t *self, size_t line, uint64_t *tag_p)
{
    while (s_in_flight (self) >= S_WINDOW)
        if (s_wait (self) != 0)
            return NULL;
    if (s_in_flight (self) == 0)
        self->last_progress = zclock_mono ();
    *tag_p = self->next_tag++;
    s_outcome_t *outcome = &self->ring[*tag_p % S_WINDOW];
    memset (outcome, 0, sizeof *outcome);
    outcome->line = line;
    return outcome;
}

//  Sends one Author request (blocking while the window is full).
static int
s_submit (s_client_t *self, const char *topic, const char *type, const uint8_t *payload,
          size_t payload_size, size_t line)
{
    uint64_t tag;
    if (!s_outcome_new (self, line, &tag))
        return -1;
    Liandong__Sync__Author author = LIANDONG__SYNC__AUTHOR__INIT;
    author.tag = tag;
    author.topic = (char *) topic;
    author.type = (char *) type;
    if (payload) {
        author.has_payload = 1;
        author.payload.data = (uint8_t *) payload;
        author.payload.len = payload_size;
    }
    author.has_wait = 1;
    author.wait = self->options->wait;
    author.has_timeout_ms = 1;
    author.timeout_ms = self->options->timeout_ms;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_AUTHOR;
    request.author = &author;
    //  The queue holds twice the window, so a full queue means the node
    //  reads nothing: wait for it as for a reply.
    while (ld_control_request_send (self->sock, &request) != 0)
        if (s_wait (self) != 0)
            return -1;
    return s_receive (self, 0);
}

//  Records an event refused before it was sent (a bad input line).
//  Returns -1 if the node became unreachable while waiting for room.
static int
s_refuse_locally (s_client_t *self, size_t line, const char *reason)
{
    uint64_t tag;
    s_outcome_t *outcome = s_outcome_new (self, line, &tag);
    if (!outcome)
        return -1;
    s_outcome_refused (outcome, reason);
    s_flush (self);
    return 0;
}

//  --------------------------------------------------------------------------
//  Input

//  Payload bytes from JSON: an object in the mapping of type, a base64
//  string, or null / absent (no payload). *data_p is the caller's.
static ld_status_t
s_payload_from_json (const char *type, const json_t *json, uint8_t **data_p, size_t *size_p,
                     char *err, size_t err_size)
{
    *data_p = NULL;
    *size_p = 0;
    if (!json || json_is_null (json))
        return LD_OK;
    if (json_is_string (json)) {
        const char *text = json_string_value (json);
        size_t length = json_string_length (json);
        size_t max = length / 4 * 3 + 3;
        uint8_t *data = malloc (max ? max : 1);
        if (!data)
            return LD_ERR_NOMEM;
        size_t size = 0;
        if (sodium_base642bin (data, max, text, length, NULL, &size, NULL,
                               sodium_base64_VARIANT_ORIGINAL)
                != 0
            && sodium_base642bin (data, max, text, length, NULL, &size, NULL,
                                  sodium_base64_VARIANT_ORIGINAL_NO_PADDING)
                   != 0) {
            free (data);
            return ld_fail (err, err_size, LD_ERR_BAD_FORMAT, "payload string is not base64");
        }
        *data_p = data;
        *size_p = size;
        return LD_OK;
    }
    if (!json_is_object (json))
        return ld_fail (err, err_size, LD_ERR_BAD_FORMAT,
                        "payload must be an object (or base64 bytes in a string)");
    const ProtobufCMessageDescriptor *desc = ld_payload_descriptor (type);
    if (!desc)
        return ld_fail (err, err_size, LD_ERR_BAD_FORMAT,
                        "type '%s' is unknown to this build: give the payload as base64 bytes",
                        type);
    ProtobufCMessage *message = NULL;
    ld_status_t rc = ld_pbjson_to_message (desc, json, &message, err, err_size);
    if (rc != LD_OK)
        return rc;
    rc = ld_payload_pack (message, data_p, size_p);
    ld_pbjson_message_free (message);
    return rc;
}

//  True if obj is the {"topic", "type", "payload"} form.
static bool
s_is_envelope_form (const json_t *obj)
{
    if (!json_object_get (obj, S_ENVELOPE_PAYLOAD))
        return false;
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) obj, key, value)
    {
        if (!streq (key, S_ENVELOPE_TOPIC) && !streq (key, S_ENVELOPE_TYPE)
            && !streq (key, S_ENVELOPE_PAYLOAD))
            return false;
    }
    return true;
}

//  Checks a topic and a type before anything is sent.
static ld_status_t
s_check_names (const char *topic, const char *type, char *err, size_t err_size)
{
    if (!topic)
        return ld_fail (err, err_size, LD_ERR_USAGE, "no topic (give --topic or \"topic\")");
    if (!type)
        return ld_fail (err, err_size, LD_ERR_USAGE, "no type (give --type or \"type\")");
    ld_status_t rc = ld_topic_check (topic, strlen (topic));
    if (rc != LD_OK)
        return ld_fail (err, err_size, rc, "topic '%s'", topic);
    rc = ld_type_check (type, strlen (type));
    if (rc != LD_OK)
        return ld_fail (err, err_size, rc, "type '%s'", type);
    return LD_OK;
}

//  Publishes one event given as a JSON value.
static int
s_publish_json (s_client_t *self, const json_t *value, size_t line)
{
    char err[512];
    if (!json_is_object (value))
        return s_refuse_locally (self, line, "bad-format: an event is a JSON object");
    const char *topic = self->options->topic;
    const char *type = self->options->type;
    const json_t *payload_json = value;
    if (s_is_envelope_form (value)) {
        const json_t *topic_json = json_object_get (value, S_ENVELOPE_TOPIC);
        const json_t *type_json = json_object_get (value, S_ENVELOPE_TYPE);
        if ((topic_json && !json_is_string (topic_json))
            || (type_json && !json_is_string (type_json)))
            return s_refuse_locally (self, line,
                                     "bad-format: \"topic\" and \"type\" must be strings");
        if (topic_json)
            topic = json_string_value (topic_json);
        if (type_json)
            type = json_string_value (type_json);
        payload_json = json_object_get (value, S_ENVELOPE_PAYLOAD);
    }
    uint8_t *payload = NULL;
    size_t size = 0;
    ld_status_t rc = s_check_names (topic, type, err, sizeof err);
    if (rc == LD_OK)
        rc = s_payload_from_json (type, payload_json, &payload, &size, err, sizeof err);
    if (rc == LD_OK && size > LD_ENVELOPE_MAX_DEFAULT)
        rc = ld_fail (err, sizeof err, LD_ERR_TOO_BIG, "payload of %zu bytes", size);
    int result = 0;
    if (rc != LD_OK) {
        char reason[600];
        snprintf (reason, sizeof reason, "%s: %s", ld_status_name (rc), err);
        result = s_refuse_locally (self, line, reason);
    }
    else
        result = s_submit (self, topic, type, payload, size, line);
    free (payload);
    return result;
}

//  A FILE holding one JSON object or an array of them. Returns 1 if the
//  file was taken that way, 0 if it is not one JSON value (read it as
//  NDJSON), -1 if the node became unreachable.
static int
s_publish_document (s_client_t *self, const char *path)
{
    json_t *document = json_load_file (path, JSON_REJECT_DUPLICATES, NULL);
    if (!document || !(json_is_object (document) || json_is_array (document))) {
        json_decref (document);
        return 0;
    }
    int result = 1;
    if (json_is_object (document))
        result = s_publish_json (self, document, 1) == 0 ? 1 : -1;
    else
        for (size_t i = 0; i < json_array_size (document) && result == 1; i++)
            result = s_publish_json (self, json_array_get (document, i), i + 1) == 0 ? 1 : -1;
    json_decref (document);
    return result;
}

//  Publishes every line of input (NDJSON). Returns -1 if the node became
//  unreachable.
static int
s_publish_lines (s_client_t *self, FILE *input)
{
    char *buffer = NULL;
    size_t capacity = 0;
    ssize_t length;
    size_t line = 0;
    int result = 0;
    while (result == 0 && (length = getline (&buffer, &capacity, input)) >= 0) {
        line++;
        while (length > 0 && (buffer[length - 1] == '\n' || buffer[length - 1] == '\r'))
            buffer[--length] = '\0';
        if (strspn (buffer, " \t") == (size_t) length)
            continue; //  blank
        if (length > S_LINE_MAX) {
            result = s_refuse_locally (self, line, "too-big: line is too long");
            continue;
        }
        json_error_t jerr;
        json_t *value = json_loadb (buffer, (size_t) length, JSON_REJECT_DUPLICATES, &jerr);
        if (!value) {
            char reason[300];
            snprintf (reason, sizeof reason, "bad-format: not JSON: %s", jerr.text);
            result = s_refuse_locally (self, line, reason);
            continue;
        }
        result = s_publish_json (self, value, line);
        json_decref (value);
    }
    free (buffer);
    return result;
}

//  --------------------------------------------------------------------------
//  The command

static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option long_options[] = {
        {"control", required_argument, NULL, 'c'},
        {"topic", required_argument, NULL, 't'},
        {"type", required_argument, NULL, 'y'},
        {"text", required_argument, NULL, 'm'},
        {"json", required_argument, NULL, 'j'},
        {"no-wait", no_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *options = (s_options_t){.wait = true, .timeout_ms = S_TIMEOUT_DEFAULT};
    int opt;
    while ((opt = getopt_long (argc, argv, "c:t:y:m:j:nw:h", long_options, NULL)) != -1) {
        switch (opt) {
            case 'c':
                options->control = optarg;
                break;
            case 't':
                options->topic = optarg;
                break;
            case 'y':
                options->type = optarg;
                break;
            case 'm':
                options->text = optarg;
                break;
            case 'j':
                options->json = optarg;
                break;
            case 'n':
                options->wait = false;
                break;
            case 'w': {
                char *end;
                errno = 0;
                long value = strtol (optarg, &end, 10);
                if (errno || *end || end == optarg || value < 1 || value > S_TIMEOUT_MAX) {
                    ld_cli_error ("--timeout must be 1..%d ms, not '%s'", S_TIMEOUT_MAX, optarg);
                    return EX_USAGE;
                }
                options->timeout_ms = (uint32_t) value;
                break;
            }
            case 'h':
                s_usage (stdout);
                return -1;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (!options->control || optind != argc || !options->text == !options->json) {
        s_usage (stderr);
        return EX_USAGE;
    }
    if (options->text) {
        if (options->type && !streq (options->type, S_NOTE_TYPE)) {
            ld_cli_error ("--text makes a note: --type must be '%s', not '%s'", S_NOTE_TYPE,
                          options->type);
            return EX_USAGE;
        }
        options->type = S_NOTE_TYPE;
        if (!options->topic) {
            ld_cli_error ("--text needs --topic");
            return EX_USAGE;
        }
    }
    ld_status_t rc;
    if (options->topic
        && (rc = ld_topic_check (options->topic, strlen (options->topic))) != LD_OK) {
        ld_cli_error ("bad --topic '%s': %s", options->topic, ld_status_text (rc));
        return EX_USAGE;
    }
    if (options->type && (rc = ld_type_check (options->type, strlen (options->type))) != LD_OK) {
        ld_cli_error ("bad --type '%s': %s", options->type, ld_status_text (rc));
        return EX_USAGE;
    }
    return EX_OK;
}

//  The node cannot be there if its socket file is not: say so at once.
static bool
s_control_missing (const char *control)
{
    struct stat st;
    return strncmp (control, S_IPC_PREFIX, strlen (S_IPC_PREFIX)) == 0
           && stat (control + strlen (S_IPC_PREFIX), &st) != 0;
}

static int
s_run (s_client_t *self)
{
    const s_options_t *options = self->options;
    int result = 0;
    if (options->text) {
        uint8_t *payload = NULL;
        size_t size = 0;
        if (ld_payload_note (options->text, &payload, &size) != LD_OK)
            return EX_OSERR;
        result = s_submit (self, options->topic, options->type, payload, size, 0);
        free (payload);
    }
    else {
        bool from_stdin = streq (options->json, "-");
        if (!from_stdin)
            result = s_publish_document (self, options->json);
        if (result == 0) {
            FILE *input = from_stdin ? stdin : fopen (options->json, "r");
            if (!input) {
                ld_cli_error ("cannot read '%s': %s", options->json, strerror (errno));
                return EX_NOINPUT;
            }
            result = s_publish_lines (self, input);
            if (!from_stdin)
                fclose (input);
        }
        else if (result == 1)
            result = 0;
    }
    while (result == 0 && s_in_flight (self) > 0)
        result = s_wait (self);
    if (self->refusals > S_REFUSALS_SHOWN)
        ld_cli_error ("%zu refused in all", self->refusals);
    if (self->unreachable || result != 0) {
        ld_cli_error ("node not reachable at '%s': no reply within %u ms", options->control,
                      options->timeout_ms + S_GRACE_MS);
        return EX_UNAVAILABLE;
    }
    return self->worst;
}

int
ld_cmd_publish (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    s_options_t options;
    int code = s_parse (argc, argv, &options);
    if (code != EX_OK)
        return code < 0 ? EX_OK : code;
    if (s_control_missing (options.control)) {
        ld_cli_error ("node not reachable: no control socket at '%s'", options.control);
        return EX_UNAVAILABLE;
    }
    char endpoint[PATH_MAX + 16];
    snprintf (endpoint, sizeof endpoint, ">%s", options.control);
    ld_socket_spec_t spec = {
        .type = ZMQ_DEALER,
        .endpoints = endpoint,
        .max_message = S_FRAME_MAX,
        .sndhwm = 2 * S_WINDOW,
        .rcvhwm = 2 * S_WINDOW,
    };
    char err[512];
    s_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return EX_OSERR;
    self->options = &options;
    self->json_out = options.json != NULL;
    self->next_tag = 1;
    self->sock = ld_socket_new (&spec, err, sizeof err);
    if (!self->sock) {
        ld_cli_error ("%s", err);
        free (self);
        return EX_USAGE;
    }
    code = s_run (self);
    fflush (stdout);
    for (size_t i = 0; i < S_WINDOW; i++)
        free (self->ring[i].reason);
    zsock_destroy (&self->sock);
    free (self);
    return code;
}
