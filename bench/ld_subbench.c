/*  ld_subbench.c -- subscribers of the pipeline benchmark (bench/pipeline.sh).

    --subscribers threads in one process, each with its own sockets, each
    counting the benchmark's events (topic LD_PBENCH_TOPIC) until it has
    --events of them. They trust the broker, which verified every event
    once: nothing is decoded or verified here, only store seqs are checked.

      live     the zguide Clone pattern, as `liandong tail` follows a
               broker: Hello (last store seq = pos), SUB to the live
               endpoint with every topic (so that store seqs are
               contiguous), and only seq == pos + 1 is taken live. A gap
               (dropped at the high-water mark, or published before the
               subscription reached the broker) or a quiet S_PROBE_MS starts
               a Catchup from pos with the benchmark's prefix, whose chunks
               fill in what was missed; live messages meanwhile are only
               doorbells. So every subscriber gets every event exactly once
               however the PUB behaves.
      catchup  readers of the store: one Catchup from --after with the
               prefix, chunks under credit, to the end.

    Prints "ready" on stdout once every subscriber is connected and
    subscribed, then one line of key=value figures when all are done: the
    CLOCK_MONOTONIC times (ld_pbench_now_ns) at which the first and the last
    subscriber had all their events, comparable with ld_loader's start_ns.
*/
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_pbench.h"
#include "ld_pbench_sync.h"
#include "ld_socket.h"
#include "ld_sync.h"

#define S_SUBSCRIBERS_MAX  64
#define S_CREDIT           8     //  catch-up chunks in flight
#define S_PROBE_MS         200   //  live: this quiet and not done: catch up
#define S_SETTLE_MS        300   //  after connecting, for subscriptions to reach the PUB
#define S_REPLY_TIMEOUT_MS 30000 //  a catch-up chunk later than this: failed
#define S_TIMEOUT_S        600   //  the whole run
#define S_LIVE_RCVHWM      100000
#define S_ERR_BYTES        512
#define S_ENDPOINT_BYTES   300
#define S_SEQ_BYTES        8

typedef struct {
    const char *broker;
    const char *identity, *broker_key; //  CurveZMQ (a broker not --open)
    ld_pbench_curve_t curve;           //  shared read-only by the subscriber threads
    bool catchup_only;
    uint64_t events, subscribers, after, timeout_s;
} s_options_t;

typedef struct {
    const s_options_t *options;
    pthread_mutex_t *lock;
    pthread_cond_t *changed;
    size_t *ready; //  shared count, under lock
    bool *go;      //  under lock
    //  results
    uint64_t live_events, caught_up_events;
    uint64_t catchups;     //  Catchup streams opened, for any reason
    uint64_t gap_catchups; //  ... because a live seq skipped (not a quiet probe)
    int64_t start_ns, end_ns;
    atomic_bool failed;
    char err[S_ERR_BYTES];
} s_subscriber_t;

static zsock_t *
s_connect (int type, const char *endpoint, const ld_pbench_curve_t *curve, char *err,
           size_t err_size)
{
    char spec_endpoint[S_ENDPOINT_BYTES + 2];
    snprintf (spec_endpoint, sizeof spec_endpoint, ">%s", endpoint);
    ld_socket_spec_t spec = {
        .type = type,
        .endpoints = spec_endpoint,
        .max_message = LD_SYNC_FRAME_MAX,
        .rcvhwm = type == ZMQ_SUB ? S_LIVE_RCVHWM : 0,
    };
    ld_pbench_curve_apply (curve, &spec);
    return ld_socket_new (&spec, err, err_size);
}

static int
s_send_catchup (zsock_t *dealer, uint64_t after)
{
    Liandong__Sync__Catchup catchup = LIANDONG__SYNC__CATCHUP__INIT;
    catchup.after = after;
    catchup.prefix = LD_PBENCH_TOPIC;
    catchup.credit = S_CREDIT;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CATCHUP;
    request.catchup = &catchup;
    return ld_request_send (dealer, &request);
}

static int
s_send_credit (zsock_t *dealer)
{
    Liandong__Sync__Credit credit = LIANDONG__SYNC__CREDIT__INIT;
    credit.chunks = 1;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CREDIT;
    request.credit = &credit;
    return ld_request_send (dealer, &request);
}

//  Drops what waits on the SUB; returns the highest store seq seen (a
//  doorbell), or 0.
static uint64_t
s_drain_live (zsock_t *sub)
{
    uint64_t highest = 0;
    while (sub && (zsock_events (sub) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            break;
        zmsg_first (msg);
        zframe_t *seq = zmsg_size (msg) == 3 ? zmsg_next (msg) : NULL;
        if (seq && zframe_size (seq) == S_SEQ_BYTES
            && ld_sync_get_u64 (zframe_data (seq)) > highest)
            highest = ld_sync_get_u64 (zframe_data (seq));
        zmsg_destroy (&msg);
    }
    return highest;
}

//  One Catchup stream from *pos to caught_up: counts the events it brings
//  (all under the prefix) and moves *pos to the last cursor. Live messages
//  meanwhile are dropped; *doorbell keeps the highest seq among them.
//  0, or -1 with self->err filled.
static int
s_catch_up (s_subscriber_t *self, zsock_t *dealer, zsock_t *sub, uint64_t *pos, uint64_t *counted,
            uint64_t *doorbell)
{
    self->catchups++;
    if (s_send_catchup (dealer, *pos) != 0) {
        snprintf (self->err, sizeof self->err, "cannot send a Catchup");
        return -1;
    }
    zmq_pollitem_t items[] = {{zsock_resolve (dealer), 0, ZMQ_POLLIN, 0},
                              {sub ? zsock_resolve (sub) : NULL, 0, ZMQ_POLLIN, 0}};
    while (true) {
        if (zmq_poll (items, sub ? 2 : 1, S_REPLY_TIMEOUT_MS) <= 0) {
            snprintf (self->err, sizeof self->err, "no catch-up chunk in time");
            return -1;
        }
        uint64_t rung = s_drain_live (sub);
        if (rung > *doorbell)
            *doorbell = rung;
        if (!(zsock_events (dealer) & ZMQ_POLLIN))
            continue;
        ld_reply_t *reply = ld_reply_recv (dealer, self->err, sizeof self->err);
        if (!reply)
            return -1; //  malformed: err says why
        if (reply->kind_case != LIANDONG__SYNC__REPLY__KIND_EVENTS) {
            if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR)
                snprintf (self->err, sizeof self->err, "broker error: %s", reply->error->reason);
            bool error = reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR;
            ld_reply_free (&reply);
            if (error)
                return -1;
            continue;
        }
        Liandong__Sync__Events *chunk = reply->events;
        for (size_t i = 0; i < chunk->n_events; i++)
            if (chunk->events[i]->store_seq > *pos) {
                *pos = chunk->events[i]->store_seq;
                (*counted)++;
            }
        if (chunk->cursor > *pos)
            *pos = chunk->cursor;
        bool caught_up = chunk->caught_up;
        ld_reply_free (&reply);
        if (caught_up)
            return 0;
        if (s_send_credit (dealer) != 0) {
            snprintf (self->err, sizeof self->err, "cannot send Credit");
            return -1;
        }
    }
}

static void
s_mark_ready (s_subscriber_t *self)
{
    pthread_mutex_lock (self->lock);
    (*self->ready)++;
    pthread_cond_broadcast (self->changed);
    while (!*self->go)
        pthread_cond_wait (self->changed, self->lock);
    pthread_mutex_unlock (self->lock);
}

static void *
s_subscriber (void *arg)
{
    s_subscriber_t *self = arg;
    const s_options_t *options = self->options;
    char live[S_ENDPOINT_BYTES] = "";
    uint64_t pos = 0, counted = 0, doorbell = 0;
    bool marked = false; //  s_mark_ready done
    zsock_t *sub = NULL;
    zsock_t *dealer =
        s_connect (ZMQ_DEALER, options->broker, &options->curve, self->err, sizeof self->err);
    if (!dealer || ld_pbench_hello (dealer, S_REPLY_TIMEOUT_MS, live, sizeof live, &pos) != 0
        || !*live) {
        if (!*self->err)
            snprintf (self->err, sizeof self->err, "no Welcome from '%s'", options->broker);
        goto failed;
    }
    if (options->catchup_only) {
        pos = options->after;
        s_mark_ready (self);
        marked = true;
        self->start_ns = ld_pbench_now_ns ();
        if (s_catch_up (self, dealer, NULL, &pos, &counted, &doorbell) != 0)
            goto failed;
        self->end_ns = ld_pbench_now_ns ();
        self->caught_up_events = counted;
        if (counted != options->events) {
            snprintf (self->err, sizeof self->err,
                      "caught up with %" PRIu64 " events, not %" PRIu64, counted, options->events);
            goto failed;
        }
        zsock_destroy (&dealer);
        return NULL;
    }
    sub = s_connect (ZMQ_SUB, live, &options->curve, self->err, sizeof self->err);
    if (!sub)
        goto failed;
    zsock_set_subscribe (sub, "");
    s_mark_ready (self);
    marked = true;
    self->start_ns = ld_pbench_now_ns ();
    const size_t prefix_size = strlen (LD_PBENCH_TOPIC);
    int64_t deadline = self->start_ns + (int64_t) options->timeout_s * LD_PBENCH_NS_PER_S;
    while (counted < options->events) {
        if (ld_pbench_now_ns () > deadline) {
            snprintf (self->err, sizeof self->err, "only %" PRIu64 " events after %" PRIu64 " s",
                      counted, options->timeout_s);
            goto failed;
        }
        zmq_pollitem_t item = {zsock_resolve (sub), 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll (&item, 1, S_PROBE_MS);
        if (ready < 0)
            goto failed;
        bool quiet = ready == 0;
        bool gap = quiet || doorbell > pos;
        while (!gap && (zsock_events (sub) & ZMQ_POLLIN)) {
            zmsg_t *msg = zmsg_recv (sub);
            if (!msg)
                break;
            zframe_t *topic = zmsg_first (msg);
            zframe_t *seq_frame = zmsg_next (msg);
            if (zmsg_size (msg) == 3 && zframe_size (seq_frame) == S_SEQ_BYTES) {
                uint64_t seq = ld_sync_get_u64 (zframe_data (seq_frame));
                if (seq == pos + 1) {
                    pos = seq;
                    if (zframe_size (topic) >= prefix_size
                        && memcmp (zframe_data (topic), LD_PBENCH_TOPIC, prefix_size) == 0) {
                        counted++;
                        self->live_events++;
                    }
                }
                else if (seq > pos + 1) {
                    gap = true;
                    doorbell = seq;
                }
            }
            zmsg_destroy (&msg);
        }
        if (gap && counted < options->events) {
            uint64_t before = counted;
            self->gap_catchups += !quiet;
            doorbell = 0;
            if (s_catch_up (self, dealer, sub, &pos, &counted, &doorbell) != 0)
                goto failed;
            self->caught_up_events += counted - before;
        }
    }
    self->end_ns = ld_pbench_now_ns ();
    zsock_destroy (&sub);
    zsock_destroy (&dealer);
    return NULL;
failed:
    self->failed = true;
    if (!marked)
        s_mark_ready (self); //  never leave main waiting for us
    zsock_destroy (&sub);
    zsock_destroy (&dealer);
    return NULL;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: ld_subbench --broker EP [--events N] [--subscribers S]\n"
                  "                   [--catchup [--after SEQ]] [--timeout SECONDS]\n"
                  "                   [--identity FILE --broker-key PUB|KEY]\n"
                  "\n"
                  "S subscribers counting N benchmark events each, live (with catch-up for\n"
                  "gaps) or, with --catchup, from the store; prints 'ready', then figures.\n"
                  "--identity and --broker-key: CurveZMQ, for a broker not started --open\n"
                  "(the identity must be one the broker lets read).\n");
}

int
main (int argc, char **argv)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    s_options_t options = {.events = 200000, .subscribers = 10, .timeout_s = S_TIMEOUT_S};
    static const struct option table[] = {
        {"broker", required_argument, NULL, 'b'},
        {"identity", required_argument, NULL, 'i'},
        {"broker-key", required_argument, NULL, 'k'},
        {"events", required_argument, NULL, 'n'},
        {"subscribers", required_argument, NULL, 's'},
        {"catchup", no_argument, NULL, 'c'},
        {"after", required_argument, NULL, 'a'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", table, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
            case 'b':
                options.broker = optarg;
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
            case 's':
                bad = ld_pbench_parse_count (optarg, 1, S_SUBSCRIBERS_MAX, &options.subscribers);
                break;
            case 'c':
                options.catchup_only = true;
                break;
            case 'a':
                bad = ld_pbench_parse_count (optarg, 0, UINT64_MAX, &options.after);
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
    if (!options.broker || optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    if (ld_pbench_curve_load (options.identity, options.broker_key, &options.curve) != 0)
        return EX_USAGE;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
    size_t ready = 0;
    bool go = false;
    s_subscriber_t subscribers[S_SUBSCRIBERS_MAX];
    pthread_t ids[S_SUBSCRIBERS_MAX];
    size_t started = 0;
    for (size_t s = 0; s < options.subscribers; s++) {
        subscribers[s] = (s_subscriber_t){
            .options = &options, .lock = &lock, .changed = &changed, .ready = &ready, .go = &go};
        if (pthread_create (&ids[s], NULL, s_subscriber, &subscribers[s]) != 0)
            break;
        started++;
    }
    pthread_mutex_lock (&lock);
    while (ready < started)
        pthread_cond_wait (&changed, &lock);
    pthread_mutex_unlock (&lock);
    //  SUB subscriptions travel to the PUB asynchronously; give them a
    //  moment. (Correctness does not depend on it: a subscriber that
    //  misses the first events gets them from catch-up.)
    if (!options.catchup_only)
        usleep (S_SETTLE_MS * 1000);
    int64_t ready_ns = ld_pbench_now_ns ();
    printf ("ready\n");
    fflush (stdout);
    pthread_mutex_lock (&lock);
    go = true;
    pthread_cond_broadcast (&changed);
    pthread_mutex_unlock (&lock);
    for (size_t s = 0; s < started; s++)
        pthread_join (ids[s], NULL);

    int64_t first_end = 0, last_end = 0, first_start = 0;
    uint64_t live_events = 0, caught_up_events = 0, catchups = 0, gap_catchups = 0;
    size_t failed = started < options.subscribers ? 1 : 0;
    for (size_t s = 0; s < started; s++) {
        s_subscriber_t *self = &subscribers[s];
        if (self->failed) {
            fprintf (stderr, "ld_subbench: subscriber %zu: %s\n", s, self->err);
            failed++;
            continue;
        }
        if (!first_end || self->end_ns < first_end)
            first_end = self->end_ns;
        if (self->end_ns > last_end)
            last_end = self->end_ns;
        if (!first_start || self->start_ns < first_start)
            first_start = self->start_ns;
        live_events += self->live_events;
        caught_up_events += self->caught_up_events;
        catchups += self->catchups;
        gap_catchups += self->gap_catchups;
    }
    printf ("subscribe mode=%s subscribers=%" PRIu64 " events=%" PRIu64 " failed=%zu"
            " ready_ns=%" PRId64 " start_ns=%" PRId64 " first_end_ns=%" PRId64
            " last_end_ns=%" PRId64 " live_events=%" PRIu64 " caught_up_events=%" PRIu64
            " catchups=%" PRIu64 " gap_catchups=%" PRIu64 "\n",
            options.catchup_only ? "catchup" : "live", options.subscribers, options.events, failed,
            ready_ns, first_start, first_end, last_end, live_events, caught_up_events, catchups,
            gap_catchups);
    ld_pbench_curve_free (&options.curve);
    return failed ? EX_SOFTWARE : EX_OK;
}
