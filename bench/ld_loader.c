/*  ld_loader.c -- the load side of the pipeline benchmark (bench/pipeline.sh).

    One process, pre-signed events (ld_pbench.h: signed before any clock
    starts), speaking ld_sync.proto straight to a broker's --listen endpoint
    over one DEALER, so that what is measured is the broker's own cost:

      ingest    Publish batches (--batch events each, --window batches in
                flight) of --events events from --authors authors; counts
                the events acknowledged from Ack.heads (the broker acks only
                after the commit is fsync'ed). Also fills a store.
      latency   one-event Publishes at a steady --rate; per event, the time
                from the send to its Ack, and to its arrival on a SUB to the
                broker's live endpoint (same process, same clock).
      node      the same through a node: Author requests (wait for the
                broker's verdict) on the node's control socket, timed from
                the send to the "acknowledged" answer.
      verify    the bound set by Ed25519: ld_event_decode + ld_event_verify
                of the same envelopes on --threads threads.
      fsync     fdatasync latency of 4 KiB appends to a file in --dir.

    Each mode prints one line of key=value pairs on stdout for the script;
    progress and errors go to stderr. Pinning is the script's business
    (taskset), so that the broker and the bound run on the same cores.
*/
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_event.h"
#include "ld_payload.h"
#include "ld_pbench.h"
#include "ld_pbench_sync.h"
#include "ld_socket.h"
#include "ld_sync.h"

#define S_BATCH_DEFAULT    1000
#define S_WINDOW_DEFAULT   8
#define S_WINDOW_MAX       64
#define S_RATE_DEFAULT     1000
#define S_RATE_MAX         100000
#define S_WARMUP_MAX       2000 //  latency: events sent before the SUB is proven live
#define S_THREADS_MAX      64
#define S_SAMPLES_DEFAULT  1000
#define S_FSYNC_BLOCK      4096
#define S_HELLO_TIMEOUT_MS 10000
#define S_REPLY_TIMEOUT_MS 60000 //  no reply at all this long: the run failed
#define S_DRAIN_TIMEOUT_MS 5000  //  latency: wait this long for the last answers
#define S_NODE_WAIT_MS     5000  //  Author.timeout_ms in node mode
#define S_ERR_BYTES        512
#define S_ENDPOINT_BYTES   300
#define S_PERCENT_MEDIAN   50.0
#define S_PERCENT_TAIL     99.0
#define S_PERCENT_MAX      100.0
#define S_LIVE_RCVHWM      100000

typedef struct {
    const char *mode;
    const char *broker;
    const char *control;
    const char *dir;
    const char *identity, *broker_key; //  CurveZMQ (a broker not --open)
    ld_pbench_curve_t curve;
    uint64_t events, authors, run, batch, window, rate, threads, samples;
} s_options_t;

//  --------------------------------------------------------------------------
//  Helpers

//  Reports a failure on stderr; returns EX_SOFTWARE.
static int s_fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static int
s_fail (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fprintf (stderr, "ld_loader: ");
    vfprintf (stderr, fmt, args);
    fprintf (stderr, "\n");
    va_end (args);
    return EX_SOFTWARE;
}

static double
s_seconds (int64_t from_ns, int64_t to_ns)
{
    return (double) (to_ns - from_ns) / (double) LD_PBENCH_NS_PER_S;
}

static zsock_t *
s_connect (int type, const char *endpoint, int rcvhwm, const ld_pbench_curve_t *curve)
{
    char spec_endpoint[S_ENDPOINT_BYTES + 2], err[S_ERR_BYTES];
    snprintf (spec_endpoint, sizeof spec_endpoint, ">%s", endpoint);
    ld_socket_spec_t spec = {
        .type = type,
        .endpoints = spec_endpoint,
        .max_message = LD_SYNC_FRAME_MAX,
        .rcvhwm = rcvhwm,
    };
    ld_pbench_curve_apply (curve, &spec);
    zsock_t *sock = ld_socket_new (&spec, err, sizeof err);
    if (!sock)
        fprintf (stderr, "ld_loader: %s\n", err);
    return sock;
}

//  One Publish frame of events [first, first + count), packed once.
typedef struct {
    uint8_t *data;
    size_t size;
} s_frame_t;

static int
s_pack_publish (const ld_pbench_events_t *events, size_t first, size_t count, uint64_t batch,
                s_frame_t *frame)
{
    ProtobufCBinaryData *envelopes = calloc (count, sizeof *envelopes);
    if (!envelopes)
        return -1;
    for (size_t i = 0; i < count; i++) {
        size_t size;
        envelopes[i].data = (uint8_t *) ld_pbench_events_envelope (events, first + i, &size);
        envelopes[i].len = size;
    }
    Liandong__Sync__Publish publish = LIANDONG__SYNC__PUBLISH__INIT;
    publish.batch = batch;
    publish.n_events = count;
    publish.events = envelopes;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_PUBLISH;
    request.publish = &publish;
    frame->size = liandong__sync__request__get_packed_size (&request);
    frame->data = malloc (frame->size);
    if (frame->data)
        liandong__sync__request__pack (&request, frame->data);
    free (envelopes);
    return frame->data ? 0 : -1;
}

static s_frame_t *
s_pack_batches (const ld_pbench_events_t *events, size_t batch, size_t *count_p)
{
    size_t total = ld_pbench_events_count (events);
    size_t count = (total + batch - 1) / batch;
    s_frame_t *frames = calloc (count, sizeof *frames);
    for (size_t b = 0; frames && b < count; b++) {
        size_t first = b * batch;
        size_t n = total - first < batch ? total - first : batch;
        if (s_pack_publish (events, first, n, b + 1, &frames[b]) != 0) {
            for (size_t k = 0; k < b; k++)
                free (frames[k].data);
            free (frames);
            return NULL;
        }
    }
    *count_p = count;
    return frames;
}

static void
s_frames_free (s_frame_t **frames_p, size_t count)
{
    for (size_t i = 0; *frames_p && i < count; i++)
        free ((*frames_p)[i].data);
    free (*frames_p);
    *frames_p = NULL;
}

static int
s_send_frame (zsock_t *sock, const s_frame_t *frame)
{
    return zmq_send (zsock_resolve (sock), frame->data, frame->size, 0) == (int) frame->size ? 0
                                                                                             : -1;
}

//  Takes an Ack's heads into acked[author]; returns how many events this
//  Ack newly acknowledged.
static uint64_t
s_take_heads (const ld_pbench_events_t *events, const Liandong__Sync__Ack *ack, uint64_t *acked)
{
    uint64_t fresh = 0;
    for (size_t h = 0; h < ack->n_heads; h++) {
        const Liandong__Sync__Head *head = ack->heads[h];
        if (head->author.len != LD_KEY_BYTES)
            continue;
        int a = ld_pbench_events_author_index (events, head->author.data);
        if (a >= 0 && head->seq > acked[a]) {
            fresh += head->seq - acked[a];
            acked[a] = head->seq;
        }
    }
    return fresh;
}

//  --------------------------------------------------------------------------
//  ingest

static int
s_ingest (const s_options_t *options)
{
    char err[S_ERR_BYTES], live[S_ENDPOINT_BYTES] = "";
    ld_pbench_events_t *events = ld_pbench_events_new (
        options->events, options->authors, (uint32_t) options->run, false, err, sizeof err);
    if (!events)
        return s_fail ("%s", err);
    size_t n_frames = 0;
    s_frame_t *frames = s_pack_batches (events, options->batch, &n_frames);
    uint64_t *acked = calloc (options->authors, sizeof *acked);
    zsock_t *dealer = s_connect (ZMQ_DEALER, options->broker, 0, &options->curve);
    int rc = EX_SOFTWARE;
    if (!frames || !acked || !dealer)
        goto done;
    uint64_t stored_before = 0;
    if (ld_pbench_hello (dealer, S_HELLO_TIMEOUT_MS, live, sizeof live, &stored_before) != 0) {
        rc = s_fail ("no Welcome from '%s'", options->broker);
        goto done;
    }
    size_t sent = 0, answered = 0;
    uint64_t acknowledged = 0, refused = 0;
    char first_refusal[S_ERR_BYTES] = "";
    int64_t start = ld_pbench_now_ns ();
    while (answered < n_frames) {
        while (sent < n_frames && sent - answered < options->window)
            if (s_send_frame (dealer, &frames[sent++]) != 0) {
                rc = s_fail ("cannot send to '%s'", options->broker);
                goto done;
            }
        ld_reply_t *reply = ld_pbench_recv_reply (dealer, S_REPLY_TIMEOUT_MS);
        if (!reply) {
            rc = s_fail ("no Ack from '%s' in time", options->broker);
            goto done;
        }
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR) {
            fprintf (stderr, "ld_loader: broker error: %s [%s]\n", reply->error->reason,
                     reply->error->status);
            ld_reply_free (&reply);
            goto done;
        }
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ACK) {
            answered++;
            acknowledged += s_take_heads (events, reply->ack, acked);
            refused += reply->ack->n_refusals;
            if (reply->ack->n_refusals && !*first_refusal)
                snprintf (first_refusal, sizeof first_refusal, "%s: %s",
                          reply->ack->refusals[0]->status, reply->ack->refusals[0]->reason);
        }
        ld_reply_free (&reply);
    }
    int64_t end = ld_pbench_now_ns ();
    size_t envelope_bytes;
    ld_pbench_events_envelope (events, 0, &envelope_bytes);
    printf ("ingest events=%" PRIu64 " authors=%" PRIu64 " batch=%" PRIu64 " window=%" PRIu64
            " acknowledged=%" PRIu64 " refused=%" PRIu64 " seconds=%.3f rate=%.0f"
            " envelope_bytes=%zu stored_before=%" PRIu64 " start_ns=%" PRId64 " end_ns=%" PRId64
            "\n",
            options->events, options->authors, options->batch, options->window, acknowledged,
            refused, s_seconds (start, end), (double) acknowledged / s_seconds (start, end),
            envelope_bytes, stored_before, start, end);
    if (refused)
        fprintf (stderr, "ld_loader: %" PRIu64 " events refused, first: %s\n", refused,
                 first_refusal);
    rc = acknowledged == options->events && refused == 0 ? EX_OK : EX_SOFTWARE;
done:
    zsock_destroy (&dealer);
    free (acked);
    s_frames_free (&frames, n_frames);
    ld_pbench_events_destroy (&events);
    return rc;
}

//  --------------------------------------------------------------------------
//  latency

typedef struct {
    int64_t *sent, *acked, *live; //  ns, per event; 0 = not yet
} s_times_t;

//  Takes one live message [topic][store seq][envelope]; the event's index
//  is its seq - 1 (one author).
static void
s_take_live (zsock_t *sub, s_times_t *times, size_t total, int64_t now)
{
    zmsg_t *msg = zmsg_recv (sub);
    if (!msg)
        return;
    zframe_t *envelope = zmsg_size (msg) == 3 ? zmsg_last (msg) : NULL;
    ld_event_t *event = NULL;
    char err[S_ERR_BYTES];
    if (envelope
        && ld_event_decode (zframe_data (envelope), zframe_size (envelope), 0, &event, err,
                            sizeof err)
               == LD_OK) {
        uint64_t index = ld_event_seq (event) - 1;
        if (index < total && times->sent[index] && !times->live[index])
            times->live[index] = now;
    }
    ld_event_destroy (&event);
    zmsg_destroy (&msg);
}

//  Prints p50/p99/max in us of to[i] - from[i] over [first, end), and how
//  many took over 1 ms; returns how many are missing.
static size_t
s_print_latency (const char *name, const int64_t *from, const int64_t *to, size_t first, size_t end)
{
    int64_t *samples = calloc (end - first + 1, sizeof *samples);
    size_t n = 0, missing = 0, over_1ms = 0;
    for (size_t i = first; samples && i < end; i++) {
        if (to[i]) {
            samples[n++] = to[i] - from[i];
            over_1ms += to[i] - from[i] > LD_PBENCH_NS_PER_MS;
        }
        else
            missing++;
    }
    double p50 = 0, p99 = 0, max = 0;
    if (samples && n) {
        p50 = (double) ld_pbench_percentile (samples, n, S_PERCENT_MEDIAN) / LD_PBENCH_NS_PER_US;
        p99 = (double) ld_pbench_percentile (samples, n, S_PERCENT_TAIL) / LD_PBENCH_NS_PER_US;
        max = (double) ld_pbench_percentile (samples, n, S_PERCENT_MAX) / LD_PBENCH_NS_PER_US;
    }
    printf (" %s_p50_us=%.0f %s_p99_us=%.0f %s_max_us=%.0f %s_over_1ms=%zu %s_missing=%zu", name,
            p50, name, p99, name, max, name, over_1ms, name, missing);
    free (samples);
    return missing;
}

//  ms to wait in zmq_poll until deadline_ns, rounded up (zmq_poll counts ms).
static long
s_wait_ms (int64_t deadline_ns, int64_t now)
{
    if (deadline_ns <= now)
        return 0;
    return (long) ((deadline_ns - now + LD_PBENCH_NS_PER_MS - 1) / LD_PBENCH_NS_PER_MS);
}

static int
s_latency (const s_options_t *options)
{
    char err[S_ERR_BYTES], live[S_ENDPOINT_BYTES] = "";
    size_t total = options->events + S_WARMUP_MAX;
    ld_pbench_events_t *events =
        ld_pbench_events_new (total, 1, (uint32_t) options->run, false, err, sizeof err);
    if (!events)
        return s_fail ("%s", err);
    size_t n_frames = 0;
    s_frame_t *frames = s_pack_batches (events, 1, &n_frames);
    s_times_t times = {calloc (total, sizeof (int64_t)), calloc (total, sizeof (int64_t)),
                       calloc (total, sizeof (int64_t))};
    zsock_t *dealer = s_connect (ZMQ_DEALER, options->broker, 0, &options->curve);
    zsock_t *sub = NULL;
    int rc = EX_SOFTWARE;
    if (!frames || !times.sent || !times.acked || !times.live || !dealer)
        goto done;
    uint64_t stored_before = 0;
    if (ld_pbench_hello (dealer, S_HELLO_TIMEOUT_MS, live, sizeof live, &stored_before) != 0
        || !*live) {
        rc = s_fail ("no Welcome with a live endpoint from '%s'", options->broker);
        goto done;
    }
    sub = s_connect (ZMQ_SUB, live, S_LIVE_RCVHWM, &options->curve);
    if (!sub)
        goto done;
    zsock_set_subscribe (sub, LD_PBENCH_TOPIC);
    //  Open loop: event i goes out at start + i / rate whatever came back.
    //  The first events are a warm-up, until one of them arrives live (the
    //  subscription has reached the broker); the measured ones follow.
    int64_t interval = LD_PBENCH_NS_PER_S / (int64_t) options->rate;
    int64_t start = ld_pbench_now_ns ();
    size_t next = 0, first_measured = total, end = total;
    zmq_pollitem_t items[] = {{zsock_resolve (dealer), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve (sub), 0, ZMQ_POLLIN, 0}};
    int64_t drain_deadline = 0;
    while (true) {
        int64_t now = ld_pbench_now_ns ();
        if (first_measured == total) {
            for (size_t i = 0; i < next; i++)
                if (times.live[i]) {
                    first_measured = next;
                    end = next + options->events;
                    break;
                }
            if (first_measured == total && next == S_WARMUP_MAX) {
                rc = s_fail ("nothing arrived on the live endpoint '%s'", live);
                goto done;
            }
        }
        if (next < end && now >= start + (int64_t) next * interval) {
            times.sent[next] = ld_pbench_now_ns ();
            if (s_send_frame (dealer, &frames[next]) != 0) {
                rc = s_fail ("cannot send to '%s'", options->broker);
                goto done;
            }
            next++;
            continue;
        }
        if (next == end && first_measured < total) {
            bool all = true;
            for (size_t i = first_measured; i < end && all; i++)
                all = times.acked[i] && times.live[i];
            if (!drain_deadline)
                drain_deadline = now + S_DRAIN_TIMEOUT_MS * LD_PBENCH_NS_PER_MS;
            if (all || now >= drain_deadline)
                break;
        }
        int64_t wake = next < end ? start + (int64_t) next * interval : drain_deadline;
        if (zmq_poll (items, 2, s_wait_ms (wake, now)) < 0)
            goto done;
        now = ld_pbench_now_ns ();
        while (zsock_events (dealer) & ZMQ_POLLIN) {
            ld_reply_t *reply = ld_reply_recv (dealer, err, sizeof err);
            if (reply && reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ACK) {
                uint64_t index = reply->ack->batch - 1;
                if (reply->ack->n_refusals)
                    fprintf (stderr, "ld_loader: event %" PRIu64 " refused: %s\n", index,
                             reply->ack->refusals[0]->reason);
                else if (index < total && !times.acked[index])
                    times.acked[index] = now;
            }
            ld_reply_free (&reply);
        }
        while (zsock_events (sub) & ZMQ_POLLIN)
            s_take_live (sub, &times, total, now);
    }
    printf ("latency events=%" PRIu64 " rate=%" PRIu64 " warmup=%zu stored_before=%" PRIu64,
            options->events, options->rate, first_measured, stored_before);
    size_t missing = s_print_latency ("ack", times.sent, times.acked, first_measured, end);
    missing += s_print_latency ("live", times.sent, times.live, first_measured, end);
    printf (" seconds=%.3f\n", s_seconds (start, ld_pbench_now_ns ()));
    rc = missing ? EX_SOFTWARE : EX_OK;
done:
    zsock_destroy (&sub);
    zsock_destroy (&dealer);
    free (times.sent);
    free (times.acked);
    free (times.live);
    s_frames_free (&frames, n_frames);
    ld_pbench_events_destroy (&events);
    return rc;
}

//  --------------------------------------------------------------------------
//  node: Author requests on a node's control socket

static int
s_node (const s_options_t *options)
{
    uint8_t *payload = NULL;
    size_t payload_size = 0;
    char text[LD_PBENCH_PAYLOAD_BYTES - 3 + 1];
    memset (text, 'n', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    if (ld_payload_note (text, &payload, &payload_size) != LD_OK)
        return s_fail ("cannot make a note");
    size_t total = options->events + 1; //  event 0 proves the node is there
    int64_t *sent = calloc (total, sizeof *sent);
    int64_t *answered = calloc (total, sizeof *answered);
    zsock_t *control = s_connect (ZMQ_DEALER, options->control, 0, NULL);
    int rc = EX_SOFTWARE;
    size_t refused = 0;
    char first_refusal[S_ERR_BYTES] = "";
    if (!sent || !answered || !control)
        goto done;
    int64_t interval = LD_PBENCH_NS_PER_S / (int64_t) options->rate;
    int64_t start = 0;
    size_t next = 0, done_count = 0;
    while (done_count < total) {
        int64_t now = ld_pbench_now_ns ();
        //  event 0 alone first; the steady rate starts once it is answered
        bool may_send =
            next == 0
            || (done_count > 0 && next < total && now >= start + (int64_t) (next - 1) * interval);
        if (may_send) {
            Liandong__Sync__Author author = LIANDONG__SYNC__AUTHOR__INIT;
            author.tag = next;
            author.topic = LD_PBENCH_TOPIC;
            author.type = "note";
            author.has_payload = 1;
            author.payload.data = payload;
            author.payload.len = payload_size;
            author.has_wait = 1;
            author.wait = 1;
            author.has_timeout_ms = 1;
            author.timeout_ms = S_NODE_WAIT_MS;
            ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
            request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_AUTHOR;
            request.author = &author;
            sent[next] = ld_pbench_now_ns ();
            if (ld_control_request_send (control, &request) != 0) {
                rc = s_fail ("cannot send to '%s'", options->control);
                goto done;
            }
            next++;
            continue;
        }
        int64_t wake = next < total && done_count > 0
                           ? start + (int64_t) (next - 1) * interval
                           : now + S_REPLY_TIMEOUT_MS * LD_PBENCH_NS_PER_MS;
        zmq_pollitem_t item = {zsock_resolve (control), 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll (&item, 1, s_wait_ms (wake, now));
        if (ready < 0)
            goto done;
        if (ready == 0 && (next == total || done_count == 0)) {
            rc = s_fail ("no answer from the node at '%s' in time", options->control);
            goto done;
        }
        now = ld_pbench_now_ns ();
        while (zsock_events (control) & ZMQ_POLLIN) {
            zframe_t *frame = zframe_recv (control);
            ld_control_reply_t *reply = NULL;
            char err[S_ERR_BYTES];
            if (frame
                && ld_control_reply_decode (zframe_data (frame), zframe_size (frame), &reply, err,
                                            sizeof err)
                       == LD_OK
                && reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_AUTHORED
                && reply->authored->tag < total && !answered[reply->authored->tag]) {
                Liandong__Sync__Authored *authored = reply->authored;
                answered[authored->tag] = now;
                done_count++;
                if (done_count == 1)
                    start = now;
                if (strcmp (authored->status, "acknowledged") != 0) {
                    refused++;
                    if (!*first_refusal)
                        snprintf (first_refusal, sizeof first_refusal, "%s: %s", authored->status,
                                  authored->reason ? authored->reason : "");
                }
            }
            ld_control_reply_free (&reply);
            zframe_destroy (&frame);
        }
    }
    printf ("node events=%" PRIu64 " rate=%" PRIu64 " not_acknowledged=%zu", options->events,
            options->rate, refused);
    s_print_latency ("ack", sent, answered, 1, total);
    printf ("\n");
    if (refused)
        fprintf (stderr, "ld_loader: %zu events not acknowledged, first: %s\n", refused,
                 first_refusal);
    rc = refused ? EX_SOFTWARE : EX_OK;
done:
    zsock_destroy (&control);
    free (sent);
    free (answered);
    free (payload);
    return rc;
}

//  --------------------------------------------------------------------------
//  verify: the Ed25519 bound

typedef struct {
    const ld_pbench_events_t *events;
    size_t first, end;
    size_t failed;
} s_verifier_t;

static void *
s_verify_slice (void *arg)
{
    s_verifier_t *verifier = arg;
    char err[S_ERR_BYTES];
    for (size_t i = verifier->first; i < verifier->end; i++) {
        size_t size;
        const uint8_t *envelope = ld_pbench_events_envelope (verifier->events, i, &size);
        ld_event_t *event = NULL;
        if (ld_event_decode (envelope, size, 0, &event, err, sizeof err) != LD_OK
            || ld_event_verify (event) != LD_OK)
            verifier->failed++;
        ld_event_destroy (&event);
    }
    return NULL;
}

static int
s_verify (const s_options_t *options)
{
    char err[S_ERR_BYTES];
    ld_pbench_events_t *events = ld_pbench_events_new (
        options->events, options->authors, (uint32_t) options->run, false, err, sizeof err);
    if (!events)
        return s_fail ("%s", err);
    size_t threads = options->threads;
    s_verifier_t verifiers[S_THREADS_MAX];
    pthread_t ids[S_THREADS_MAX];
    size_t per = options->events / threads, started = 0;
    int64_t start = ld_pbench_now_ns ();
    for (size_t t = 0; t < threads; t++) {
        verifiers[t] =
            (s_verifier_t){events, t * per, t + 1 == threads ? options->events : (t + 1) * per, 0};
        if (t > 0 && pthread_create (&ids[t], NULL, s_verify_slice, &verifiers[t]) != 0)
            break;
        started = t + 1;
    }
    s_verify_slice (&verifiers[0]);
    size_t failed = verifiers[0].failed;
    for (size_t t = 1; t < started; t++) {
        pthread_join (ids[t], NULL);
        failed += verifiers[t].failed;
    }
    int64_t end = ld_pbench_now_ns ();
    ld_pbench_events_destroy (&events);
    if (started < threads || failed)
        return s_fail ("%s", started < threads ? "cannot start the threads" : "a verify failed");
    printf ("verify threads=%zu events=%" PRIu64 " seconds=%.3f rate=%.0f\n", threads,
            options->events, s_seconds (start, end),
            (double) options->events / s_seconds (start, end));
    return EX_OK;
}

//  --------------------------------------------------------------------------
//  fsync: what one durable commit costs on this file system

static int
s_fsync (const s_options_t *options)
{
    char path[S_ENDPOINT_BYTES];
    snprintf (path, sizeof path, "%s/fsync.probe", options->dir);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return s_fail ("cannot open '%s'", path);
    uint8_t block[S_FSYNC_BLOCK];
    memset (block, 'f', sizeof block);
    int64_t *samples = calloc (options->samples, sizeof *samples);
    int rc = EX_OK;
    for (size_t i = 0; samples && i < options->samples && rc == EX_OK; i++) {
        if (write (fd, block, sizeof block) != (ssize_t) sizeof block)
            rc = s_fail ("cannot write '%s'", path);
        int64_t before = ld_pbench_now_ns ();
        if (fdatasync (fd) != 0)
            rc = s_fail ("cannot fdatasync '%s'", path);
        samples[i] = ld_pbench_now_ns () - before;
    }
    close (fd);
    unlink (path);
    if (!samples)
        return s_fail ("out of memory");
    if (rc == EX_OK) {
        size_t n = options->samples;
        printf ("fsync samples=%zu p50_us=%.0f p99_us=%.0f max_us=%.0f\n", n,
                (double) ld_pbench_percentile (samples, n, S_PERCENT_MEDIAN) / LD_PBENCH_NS_PER_US,
                (double) ld_pbench_percentile (samples, n, S_PERCENT_TAIL) / LD_PBENCH_NS_PER_US,
                (double) ld_pbench_percentile (samples, n, S_PERCENT_MAX) / LD_PBENCH_NS_PER_US);
    }
    free (samples);
    return rc;
}

//  --------------------------------------------------------------------------
//  keys: the authors of a run, for certificates

static int
s_keys (const s_options_t *options)
{
    char err[256];
    ld_pbench_events_t *events = ld_pbench_events_new (
        options->authors, options->authors, (uint32_t) options->run, false, err, sizeof err);
    if (!events) {
        fprintf (stderr, "ld_loader: %s\n", err);
        return EX_SOFTWARE;
    }
    for (size_t i = 0; i < ld_pbench_events_authors (events); i++) {
        char text[LD_KEY_TEXT_BYTES];
        ld_key_to_text (ld_pbench_events_author (events, i), text);
        printf ("%s\n", text);
    }
    ld_pbench_events_destroy (&events);
    return EX_OK;
}

//  --------------------------------------------------------------------------
//  main

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: ld_loader ingest  --broker EP [--events N] [--authors A] [--run R]\n"
                  "                         [--batch B] [--window W] [CURVE]\n"
                  "       ld_loader latency --broker EP [--events N] [--rate R] [--run R] [CURVE]\n"
                  "       ld_loader node    --control EP [--events N] [--rate R]\n"
                  "       ld_loader verify  [--events N] [--authors A] [--threads T]\n"
                  "       ld_loader fsync   --dir DIR [--samples N]\n"
                  "       ld_loader keys    [--authors A] [--run R]\n"
                  "\n"
                  "The load side of bench/pipeline.sh: pre-signed 512-byte notes sent to a\n"
                  "broker as Publish batches; prints one line of key=value figures.\n"
                  "CURVE, for a broker not started --open: --identity FILE (the loader's\n"
                  "secret key; the broker must let that key publish) --broker-key PUB|KEY.\n"
                  "keys prints the public keys of a run's authors, one per line, so that a\n"
                  "trusted broker's root can certify them before the run.\n");
}

int
main (int argc, char **argv)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    s_options_t options = {.events = 200000,
                           .authors = 1,
                           .run = 1,
                           .batch = S_BATCH_DEFAULT,
                           .window = S_WINDOW_DEFAULT,
                           .rate = S_RATE_DEFAULT,
                           .threads = 1,
                           .samples = S_SAMPLES_DEFAULT};
    if (argc < 2) {
        s_usage (stderr);
        return EX_USAGE;
    }
    options.mode = argv[1];
    static const struct option table[] = {
        {"broker", required_argument, NULL, 'b'},
        {"control", required_argument, NULL, 'c'},
        {"dir", required_argument, NULL, 'd'},
        {"events", required_argument, NULL, 'n'},
        {"authors", required_argument, NULL, 'a'},
        {"run", required_argument, NULL, 'r'},
        {"batch", required_argument, NULL, 'B'},
        {"window", required_argument, NULL, 'w'},
        {"rate", required_argument, NULL, 'R'},
        {"threads", required_argument, NULL, 't'},
        {"samples", required_argument, NULL, 's'},
        {"identity", required_argument, NULL, 'i'},
        {"broker-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 2;
    while ((opt = getopt_long (argc, argv, "", table, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
            case 'b':
                options.broker = optarg;
                break;
            case 'c':
                options.control = optarg;
                break;
            case 'd':
                options.dir = optarg;
                break;
            case 'i':
                options.identity = optarg;
                break;
            case 'k':
                options.broker_key = optarg;
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
            case 'B':
                bad = ld_pbench_parse_count (optarg, 1, LD_SYNC_BATCH_MAX, &options.batch);
                break;
            case 'w':
                bad = ld_pbench_parse_count (optarg, 1, S_WINDOW_MAX, &options.window);
                break;
            case 'R':
                bad = ld_pbench_parse_count (optarg, 1, S_RATE_MAX, &options.rate);
                break;
            case 't':
                bad = ld_pbench_parse_count (optarg, 1, S_THREADS_MAX, &options.threads);
                break;
            case 's':
                bad = ld_pbench_parse_count (optarg, 1, LD_PBENCH_EVENTS_MAX, &options.samples);
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
    if (optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    if (ld_pbench_curve_load (options.identity, options.broker_key, &options.curve) != 0)
        return EX_USAGE;
    int rc = EX_USAGE;
    if (streq (options.mode, "ingest") && options.broker)
        rc = s_ingest (&options);
    else if (streq (options.mode, "latency") && options.broker)
        rc = s_latency (&options);
    else if (streq (options.mode, "node") && options.control)
        rc = s_node (&options);
    else if (streq (options.mode, "verify"))
        rc = s_verify (&options);
    else if (streq (options.mode, "fsync") && options.dir)
        rc = s_fsync (&options);
    else if (streq (options.mode, "keys"))
        rc = s_keys (&options);
    else
        s_usage (stderr);
    ld_pbench_curve_free (&options.curve);
    return rc;
}
