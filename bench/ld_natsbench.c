/*  ld_natsbench.c -- the NATS JetStream side of the pipeline benchmark
    (bench/pipeline.sh), with libnats against a local `nats-server -js`.

    The same pre-signed events as ld_loader (ld_pbench.h), each carried as
    one message in the raw form signature || author key || body, so that a
    consumer can check it with crypto_sign_verify_detached alone.

      publish  (c) a stream with file storage; js_PublishAsync of every
               event, at most --pending unacknowledged; the clock stops when
               js_PublishAsyncComplete returns (every PubAck received).
      fanout   (d) signed events delivered to --consumers consumers:
               --mode verify  every consumer verifies every signature;
               --mode relay   one consumer verifies and republishes each
                              valid event (js_PublishAsync) to a second
                              stream, which the consumers read without
                              verifying.
               Consumers are ordered push consumers (ephemeral, no acks,
               flow control: JetStream's fastest reader), each on its own
               connection and delivery thread, created before the publisher
               starts. The clock runs from the first publish until the last
               consumer has every event.

    JetStream 2.9 acknowledges a publish once the message is in the stream's
    write buffer; the file store fsyncs every 2 minutes (defaultSyncInterval;
    2.9 has no sync_interval option), not before acknowledging.

    Prints one line of key=value figures on stdout; errors on stderr.
*/
#include <getopt.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_pbench.h"

#define S_CONSUMERS_MAX    64
#define S_PENDING_DEFAULT  8000  //  = ld_loader's window of 8 batches of 1,000
#define S_STALL_WAIT_MS    60000 //  PublishAsync at MaxPending waits this long
#define S_API_WAIT_MS      10000
#define S_COMPLETE_MS      120000
#define S_TIMEOUT_S        600
#define S_POLL_US          1000
#define S_SUB_PENDING_MSGS 1000000 //  libnats also derives a byte limit (x 1 KiB) from it
#define S_STREAM           "BENCH"
#define S_SUBJECTS         "bench.>"
#define S_SUBJECT          "bench.events"
#define S_RELAY_STREAM     "RELAY"
#define S_RELAY_SUBJECTS   "relay.>"
#define S_RELAY_SUBJECT    "relay.events"

typedef struct {
    const char *url;
    const char *mode;
    uint64_t events, authors, run, consumers, pending, timeout_s;
} s_options_t;

//  A connection with its JetStream context.
typedef struct {
    natsConnection *nc;
    jsCtx *js;
    atomic_uint_fast64_t publish_errors;
} s_link_t;

//  One consumer: counts (and maybe verifies, maybe republishes) messages.
typedef struct {
    s_link_t link;
    natsSubscription *sub;
    bool verify;
    s_link_t *relay_to; //  republish valid events there (the relay)
    uint64_t target;
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t bad;
    atomic_int_fast64_t end_ns;
} s_consumer_t;

static int
s_nats_fail (const char *what, natsStatus status)
{
    const char *detail = nats_GetLastError (NULL);
    fprintf (stderr, "ld_natsbench: %s: %s%s%s\n", what, natsStatus_GetText (status),
             detail ? ": " : "", detail ? detail : "");
    return -1;
}

static void
s_on_publish_error (jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void) js;
    s_link_t *link = closure;
    if (atomic_fetch_add (&link->publish_errors, 1) == 0)
        fprintf (stderr, "ld_natsbench: publish failed: %s\n",
                 pae->ErrText ? pae->ErrText : natsStatus_GetText (pae->Err));
}

static int
s_link_open (s_link_t *link, const char *url, int64_t max_pending)
{
    natsOptions *options = NULL;
    natsStatus s = natsOptions_Create (&options);
    if (s == NATS_OK)
        s = natsOptions_SetURL (options, url);
    if (s == NATS_OK)
        s = natsOptions_SetMaxPendingMsgs (options, S_SUB_PENDING_MSGS);
    if (s == NATS_OK)
        s = natsConnection_Connect (&link->nc, options);
    natsOptions_Destroy (options);
    if (s != NATS_OK)
        return s_nats_fail ("cannot connect", s);
    jsOptions js_options;
    jsOptions_Init (&js_options);
    js_options.Wait = S_API_WAIT_MS;
    js_options.PublishAsync.MaxPending = max_pending;
    js_options.PublishAsync.StallWait = S_STALL_WAIT_MS;
    js_options.PublishAsync.ErrHandler = s_on_publish_error;
    js_options.PublishAsync.ErrHandlerClosure = link;
    s = natsConnection_JetStream (&link->js, link->nc, &js_options);
    if (s != NATS_OK)
        return s_nats_fail ("cannot open JetStream", s);
    return 0;
}

static void
s_link_close (s_link_t *link)
{
    jsCtx_Destroy (link->js);
    link->js = NULL;
    if (link->nc)
        natsConnection_Close (link->nc);
    natsConnection_Destroy (link->nc);
    link->nc = NULL;
}

static int
s_add_stream (s_link_t *link, const char *name, const char *subjects)
{
    jsStreamConfig config;
    jsStreamConfig_Init (&config);
    config.Name = name;
    config.Subjects = &subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    jsStreamInfo *info = NULL;
    jsErrCode code = 0;
    natsStatus s = js_AddStream (&info, link->js, &config, NULL, &code);
    jsStreamInfo_Destroy (info);
    return s == NATS_OK ? 0 : s_nats_fail ("cannot add the stream", s);
}

static uint64_t
s_stream_messages (s_link_t *link, const char *name)
{
    jsStreamInfo *info = NULL;
    uint64_t messages = 0;
    if (js_GetStreamInfo (&info, link->js, name, NULL, NULL) == NATS_OK && info)
        messages = info->State.Msgs;
    jsStreamInfo_Destroy (info);
    return messages;
}

//  Publishes every event in the raw form; returns the seconds it took until
//  the last PubAck, or a negative number on failure.
static double
s_publish_all (s_link_t *link, const ld_pbench_events_t *events, const char *subject,
               int64_t *start_ns)
{
    size_t count = ld_pbench_events_count (events);
    *start_ns = ld_pbench_now_ns ();
    for (size_t i = 0; i < count; i++) {
        size_t size;
        const uint8_t *raw = ld_pbench_events_raw (events, i, &size);
        natsStatus s = js_PublishAsync (link->js, subject, raw, (int) size, NULL);
        if (s != NATS_OK)
            return s_nats_fail ("cannot publish", s);
    }
    jsPubOptions options;
    jsPubOptions_Init (&options);
    options.MaxWait = S_COMPLETE_MS;
    natsStatus s = js_PublishAsyncComplete (link->js, &options);
    if (s != NATS_OK)
        return s_nats_fail ("publishes not acknowledged in time", s);
    return (double) (ld_pbench_now_ns () - *start_ns) / LD_PBENCH_NS_PER_S;
}

//  --------------------------------------------------------------------------
//  publish (c)

static int
s_publish (const s_options_t *options)
{
    char err[256];
    ld_pbench_events_t *events = ld_pbench_events_new (
        options->events, options->authors, (uint32_t) options->run, true, err, sizeof err);
    if (!events) {
        fprintf (stderr, "ld_natsbench: %s\n", err);
        return EX_SOFTWARE;
    }
    s_link_t link = {0};
    int rc = EX_SOFTWARE;
    if (s_link_open (&link, options->url, (int64_t) options->pending) != 0
        || s_add_stream (&link, S_STREAM, S_SUBJECTS) != 0)
        goto done;
    int64_t start_ns;
    double seconds = s_publish_all (&link, events, S_SUBJECT, &start_ns);
    if (seconds < 0)
        goto done;
    uint64_t stored = s_stream_messages (&link, S_STREAM);
    uint64_t errors = atomic_load (&link.publish_errors);
    size_t raw_bytes;
    ld_pbench_events_raw (events, 0, &raw_bytes);
    printf ("nats_publish events=%" PRIu64 " pending=%" PRIu64 " message_bytes=%zu"
            " seconds=%.3f rate=%.0f stored=%" PRIu64 " errors=%" PRIu64 "\n",
            options->events, options->pending, raw_bytes, seconds,
            (double) options->events / seconds, stored, errors);
    rc = stored == options->events && errors == 0 ? EX_OK : EX_SOFTWARE;
done:
    s_link_close (&link);
    ld_pbench_events_destroy (&events);
    return rc;
}

//  --------------------------------------------------------------------------
//  fanout (d)

static void
s_on_message (natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void) nc;
    (void) sub;
    s_consumer_t *self = closure;
    const uint8_t *data = (const uint8_t *) natsMsg_GetData (msg);
    int size = natsMsg_GetDataLength (msg);
    bool valid = true;
    if (self->verify)
        valid = size > LD_PBENCH_RAW_HEADER
                && crypto_sign_verify_detached (data, data + LD_PBENCH_RAW_HEADER,
                                                (unsigned long long) size - LD_PBENCH_RAW_HEADER,
                                                data + LD_SIG_BYTES)
                       == 0;
    if (!valid)
        atomic_fetch_add (&self->bad, 1);
    else if (self->relay_to) {
        natsStatus s = js_PublishAsync (self->relay_to->js, S_RELAY_SUBJECT, data, size, NULL);
        if (s != NATS_OK)
            atomic_fetch_add (&self->relay_to->publish_errors, 1);
    }
    if (atomic_fetch_add (&self->count, 1) + 1 == self->target)
        atomic_store (&self->end_ns, ld_pbench_now_ns ());
    natsMsg_Destroy (msg);
}

static int
s_consumer_start (s_consumer_t *self, const char *url, const char *subject)
{
    if (s_link_open (&self->link, url, S_PENDING_DEFAULT) != 0)
        return -1;
    jsSubOptions options;
    jsSubOptions_Init (&options);
    options.Ordered = true;
    jsErrCode code = 0;
    natsStatus s = js_Subscribe (&self->sub, self->link.js, subject, s_on_message, self, NULL,
                                 &options, &code);
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits (self->sub, -1, -1);
    return s == NATS_OK ? 0 : s_nats_fail ("cannot subscribe", s);
}

static void
s_consumer_stop (s_consumer_t *self)
{
    if (self->sub)
        natsSubscription_Unsubscribe (self->sub);
    natsSubscription_Destroy (self->sub);
    self->sub = NULL;
    s_link_close (&self->link);
}

static int
s_fanout (const s_options_t *options)
{
    bool relay = strcmp (options->mode, "relay") == 0;
    if (!relay && strcmp (options->mode, "verify") != 0) {
        fprintf (stderr, "ld_natsbench: --mode is verify or relay\n");
        return EX_USAGE;
    }
    char err[256];
    ld_pbench_events_t *events = ld_pbench_events_new (
        options->events, options->authors, (uint32_t) options->run, true, err, sizeof err);
    if (!events) {
        fprintf (stderr, "ld_natsbench: %s\n", err);
        return EX_SOFTWARE;
    }
    size_t n = options->consumers;
    s_consumer_t *consumers = calloc (n + 1, sizeof *consumers); //  [n]: the relay
    s_link_t publisher = {0}, relay_out = {0};
    int rc = EX_SOFTWARE;
    if (!consumers)
        goto done;
    if (s_link_open (&publisher, options->url, (int64_t) options->pending) != 0
        || s_add_stream (&publisher, S_STREAM, S_SUBJECTS) != 0)
        goto done;
    if (relay) {
        if (s_add_stream (&publisher, S_RELAY_STREAM, S_RELAY_SUBJECTS) != 0
            || s_link_open (&relay_out, options->url, (int64_t) options->pending) != 0)
            goto done;
        consumers[n].verify = true;
        consumers[n].relay_to = &relay_out;
        consumers[n].target = options->events;
        if (s_consumer_start (&consumers[n], options->url, S_SUBJECT) != 0)
            goto done;
    }
    for (size_t c = 0; c < n; c++) {
        consumers[c].verify = !relay;
        consumers[c].target = options->events;
        if (s_consumer_start (&consumers[c], options->url, relay ? S_RELAY_SUBJECT : S_SUBJECT)
            != 0)
            goto done;
    }
    int64_t start_ns;
    double publish_seconds = s_publish_all (&publisher, events, S_SUBJECT, &start_ns);
    if (publish_seconds < 0)
        goto done;
    int64_t deadline = start_ns + (int64_t) options->timeout_s * LD_PBENCH_NS_PER_S;
    size_t finished = 0;
    while (finished < n && ld_pbench_now_ns () < deadline) {
        usleep (S_POLL_US);
        finished = 0;
        for (size_t c = 0; c < n; c++)
            finished += atomic_load (&consumers[c].count) >= options->events;
    }
    int64_t first_end = 0, last_end = 0;
    uint64_t bad = 0, least = UINT64_MAX;
    for (size_t c = 0; c < n + relay; c++) {
        int64_t end = atomic_load (&consumers[c].end_ns);
        uint64_t count = atomic_load (&consumers[c].count);
        bad += atomic_load (&consumers[c].bad);
        if (c == n)
            continue; //  the relay is not one of the ten
        if (count < least)
            least = count;
        if (end && (!first_end || end < first_end))
            first_end = end;
        if (end > last_end)
            last_end = end;
    }
    uint64_t errors =
        atomic_load (&publisher.publish_errors) + atomic_load (&relay_out.publish_errors);
    if (finished < n) {
        fprintf (stderr,
                 "ld_natsbench: after %" PRIu64 " s a consumer had only %" PRIu64 " of %" PRIu64
                 " events\n",
                 options->timeout_s, least, options->events);
        goto done;
    }
    double seconds = (double) (last_end - start_ns) / LD_PBENCH_NS_PER_S;
    printf ("nats_fanout mode=%s consumers=%zu events=%" PRIu64 " publish_seconds=%.3f"
            " first_seconds=%.3f seconds=%.3f rate=%.0f bad=%" PRIu64 " errors=%" PRIu64 "\n",
            options->mode, n, options->events, publish_seconds,
            (double) (first_end - start_ns) / LD_PBENCH_NS_PER_S, seconds,
            (double) options->events / seconds, bad, errors);
    rc = bad == 0 && errors == 0 ? EX_OK : EX_SOFTWARE;
done:
    for (size_t c = 0; consumers && c <= n; c++)
        s_consumer_stop (&consumers[c]);
    free (consumers);
    s_link_close (&relay_out);
    s_link_close (&publisher);
    ld_pbench_events_destroy (&events);
    return rc;
}

//  --------------------------------------------------------------------------
//  main

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: ld_natsbench publish --url nats://HOST:PORT [--events N] [--authors A]\n"
                  "                            [--run R] [--pending P]\n"
                  "       ld_natsbench fanout  --url nats://HOST:PORT --mode verify|relay\n"
                  "                            [--consumers C] [--events N] [--authors A]\n"
                  "\n"
                  "The NATS JetStream side of bench/pipeline.sh; prints key=value figures.\n");
}

int
main (int argc, char **argv)
{
    s_options_t options = {.mode = "verify",
                           .events = 200000,
                           .authors = 1,
                           .run = 1,
                           .consumers = 10,
                           .pending = S_PENDING_DEFAULT,
                           .timeout_s = S_TIMEOUT_S};
    if (argc < 2) {
        s_usage (stderr);
        return EX_USAGE;
    }
    const char *command = argv[1];
    static const struct option table[] = {
        {"url", required_argument, NULL, 'u'},     {"mode", required_argument, NULL, 'm'},
        {"events", required_argument, NULL, 'n'},  {"authors", required_argument, NULL, 'a'},
        {"run", required_argument, NULL, 'r'},     {"consumers", required_argument, NULL, 'c'},
        {"pending", required_argument, NULL, 'p'}, {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 2;
    while ((opt = getopt_long (argc, argv, "", table, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
            case 'u':
                options.url = optarg;
                break;
            case 'm':
                options.mode = optarg;
                break;
            case 'n':
                bad = ld_pbench_parse_count (optarg, 1, LD_PBENCH_EVENTS_MAX, &options.events);
                break;
            case 'a':
                bad = ld_pbench_parse_count (optarg, 1, LD_PBENCH_AUTHORS_MAX, &options.authors);
                break;
            case 'r':
                bad = ld_pbench_parse_count (optarg, 0, UINT32_MAX, &options.run);
                break;
            case 'c':
                bad = ld_pbench_parse_count (optarg, 1, S_CONSUMERS_MAX, &options.consumers);
                break;
            case 'p':
                bad = ld_pbench_parse_count (optarg, 1, INT32_MAX, &options.pending);
                break;
            case 't':
                bad = ld_pbench_parse_count (optarg, 1, 24 * 3600, &options.timeout_s);
                break;
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                bad = -1;
                break;
        }
        if (bad) {
            s_usage (stderr);
            return EX_USAGE;
        }
    }
    if (!options.url || optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    if (nats_Open (-1) != NATS_OK) {
        fprintf (stderr, "ld_natsbench: cannot start libnats\n");
        return EX_SOFTWARE;
    }
    int rc = EX_USAGE;
    if (strcmp (command, "publish") == 0)
        rc = s_publish (&options);
    else if (strcmp (command, "fanout") == 0)
        rc = s_fanout (&options);
    else
        s_usage (stderr);
    nats_Close ();
    return rc;
}
