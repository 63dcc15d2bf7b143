/*  ld_bench_crypto.c -- signs/s on one thread, verifies/s on one and two.

    Signing: ld_event_sign of a whole event (pack the body, sign it, pack the
    envelope, decode it back: what a node pays to publish), and
    ld_identity_sign of the same body bytes (the Ed25519 cost alone).

    Verifying: ld_event_decode + ld_event_verify from the envelope bytes
    (what a broker pays for each event it receives), and ld_verify of the
    body bytes alone. Each thread owns a distinct set of pre-signed events
    and shares nothing with the other while the clock runs; the rate is the
    sum of the threads' rates, read after pthread_join. Each thread starts
    its own clock: starting a thread takes tens of microseconds, noise beside
    seconds of overlap.
*/
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ld_bench.h"

#define S_VERIFY_SET  4096 //  pre-signed events owned by each verify thread
#define S_CLOCK_EVERY 64   //  operations between two clock readings

typedef struct {
    ld_event_t **events; //  this thread's own set of S_VERIFY_SET
    bool raw;            //  ld_verify of the body, not decode + ld_event_verify
    double seconds;
    uint64_t ops, failures; //  read by the caller after join
    double elapsed;
} s_verify_job_t;

static bool
s_verify_one (const ld_event_t *event, bool raw)
{
    size_t size;
    if (raw) {
        const uint8_t *body = ld_event_body (event, &size);
        return ld_verify (ld_event_author (event), body, size, ld_event_signature (event));
    }
    const uint8_t *envelope = ld_event_envelope (event, &size);
    ld_event_t *decoded = NULL;
    bool valid = ld_event_decode (envelope, size, 0, &decoded, NULL, 0) == LD_OK
                 && ld_event_verify (decoded) == LD_OK;
    ld_event_destroy (&decoded);
    return valid;
}

static void *
s_verify_thread (void *arg)
{
    s_verify_job_t *job = arg;
    double start = ld_bench_now (), now = start;
    size_t next = 0;
    while (now - start < job->seconds) {
        for (size_t i = 0; i < S_CLOCK_EVERY; i++) {
            if (!s_verify_one (job->events[next], job->raw))
                job->failures++;
            next = (next + 1) % S_VERIFY_SET;
        }
        job->ops += S_CLOCK_EVERY;
        now = ld_bench_now ();
    }
    job->elapsed = now - start;
    return NULL;
}

//  Verifies on `threads` threads for `seconds`, thread i on sets[i]; *rate
//  is the sum of the threads' verifies per second.
static int
s_verify_rate (ld_event_t **sets[], size_t threads, bool raw, double seconds, double *rate,
               char *err, size_t err_size)
{
    s_verify_job_t jobs[LD_BENCH_THREADS_MAX] = {0};
    pthread_t ids[LD_BENCH_THREADS_MAX];
    size_t started = 0;
    int rc = 0;
    for (; started < threads; started++) {
        jobs[started] = (s_verify_job_t){.events = sets[started], .raw = raw, .seconds = seconds};
        int error = pthread_create (&ids[started], NULL, s_verify_thread, &jobs[started]);
        if (error != 0) {
            rc =
                ld_bench_fail (err, err_size, "cannot start a verify thread: %s", strerror (error));
            break;
        }
    }
    *rate = 0;
    for (size_t i = 0; i < started; i++) {
        pthread_join (ids[i], NULL);
        if (jobs[i].failures && rc == 0)
            rc = ld_bench_fail (err, err_size, "%llu valid signatures failed to verify",
                                (unsigned long long) jobs[i].failures);
        if (jobs[i].elapsed > 0)
            *rate += (double) jobs[i].ops / jobs[i].elapsed;
    }
    return rc;
}

int
ld_bench_crypto (ld_bench_t *self, char *err, size_t err_size)
{
    int rc = -1;
    ld_event_t *event = NULL;
    ld_event_t **sets[LD_BENCH_THREADS_MAX] = {NULL};
    ld_feeds_t *feeds = ld_feeds_new ();
    if (!feeds)
        return ld_bench_fail (err, err_size, "cannot create identities");

    fprintf (stderr, "ld_bench: signing events (%.1f s)\n", self->seconds);
    uint64_t ops = 0;
    double start = ld_bench_now (), now = start;
    while (now - start < self->seconds) {
        for (size_t i = 0; i < S_CLOCK_EVERY; i++) {
            if (ld_feeds_sign (feeds, &event, err, err_size) != 0)
                goto done;
            ld_event_destroy (&event);
        }
        ops += S_CLOCK_EVERY;
        now = ld_bench_now ();
    }
    self->sign_event = (double) ops / (now - start);

    fprintf (stderr, "ld_bench: signing body bytes (%.1f s)\n", self->seconds);
    if (ld_feeds_sign (feeds, &event, err, err_size) != 0)
        goto done;
    size_t body_size;
    const uint8_t *body = ld_event_body (event, &body_size);
    ld_event_envelope (event, &self->envelope_bytes);
    uint8_t sig[LD_SIG_BYTES];
    ops = 0;
    start = now = ld_bench_now ();
    while (now - start < self->seconds) {
        for (size_t i = 0; i < S_CLOCK_EVERY; i++)
            ld_identity_sign (ld_feeds_identity (feeds, 0), body, body_size, sig);
        ops += S_CLOCK_EVERY;
        now = ld_bench_now ();
    }
    self->sign_raw = (double) ops / (now - start);

    fprintf (stderr, "ld_bench: verifying on 1 and 2 threads (%.1f s each)\n", self->seconds);
    for (size_t t = 0; t < LD_BENCH_THREADS_MAX; t++)
        if (!(sets[t] = ld_feeds_sign_set (feeds, S_VERIFY_SET, err, err_size)))
            goto done;
    for (size_t threads = 1; threads <= LD_BENCH_THREADS_MAX; threads++)
        if (ld_bench_interrupted (err, err_size)
            || s_verify_rate (sets, threads, false, self->seconds, &self->verify_event[threads - 1],
                              err, err_size)
                   != 0
            || s_verify_rate (sets, threads, true, self->seconds, &self->verify_raw[threads - 1],
                              err, err_size)
                   != 0)
            goto done;
    rc = 0;
done:
    for (size_t t = 0; t < LD_BENCH_THREADS_MAX; t++)
        ld_bench_events_destroy (&sets[t], S_VERIFY_SET);
    ld_event_destroy (&event);
    ld_feeds_destroy (&feeds);
    return rc;
}
