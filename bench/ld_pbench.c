/*  ld_pbench.c -- pre-signed events, a clock and percentiles for the
    pipeline benchmark. See ld_pbench.h.

    Signing is spread over one thread per core when there is more than one
    author (feeds are independent; one feed is a chain and is signed in
    order), only to keep the untimed set-up short.
*/
#include "ld_pbench.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"

#define S_SIGN_THREADS_MAX 8
#define S_TIME_BASE_MS     1764000000000LL //  authors' clock claim of event 0
#define S_SEED_LABEL       "liandong-pbench"
#define S_ERR_BYTES        256

struct _ld_pbench_events_t {
    size_t count;
    size_t authors;
    uint8_t (*keys)[LD_KEY_BYTES];
    uint8_t **envelopes; //  [count], each malloc'ed
    size_t *sizes;
    uint8_t **raws; //  [count] or NULL
    size_t *raw_sizes;
};

//  One signing thread: authors first, first + step, ...
typedef struct {
    ld_pbench_events_t *events;
    uint32_t run;
    bool raw;
    size_t first, step;
    char err[S_ERR_BYTES];
    int rc;
} s_signer_t;

//  The Note text of event i: a readable prefix, then letters, sized so that
//  the serialized Note is exactly LD_PBENCH_PAYLOAD_BYTES.
static int
s_payload (uint32_t run, size_t index, uint8_t **payload_p, size_t *size_p)
{
    //  tag (1 byte) + length varint (2 bytes for 128..16383) + text
    char text[LD_PBENCH_PAYLOAD_BYTES - 3 + 1];
    size_t length = sizeof text - 1;
    int head = snprintf (text, sizeof text, "pipeline bench run %u event %zu: ", run, index);
    for (size_t i = (size_t) head; i < length; i++)
        text[i] = (char) ('a' + (i * 7 + index) % 26);
    text[length] = '\0';
    if (ld_payload_note (text, payload_p, size_p) != LD_OK)
        return -1;
    return *size_p == LD_PBENCH_PAYLOAD_BYTES ? 0 : -1;
}

static void *
s_sign_feeds (void *arg)
{
    s_signer_t *signer = arg;
    ld_pbench_events_t *self = signer->events;
    signer->rc = -1;
    for (size_t author = signer->first; author < self->authors; author += signer->step) {
        uint8_t seed_input[sizeof S_SEED_LABEL + 2 * sizeof (uint32_t)];
        uint32_t author32 = (uint32_t) author;
        memcpy (seed_input, S_SEED_LABEL, sizeof S_SEED_LABEL);
        memcpy (seed_input + sizeof S_SEED_LABEL, &signer->run, sizeof signer->run);
        memcpy (seed_input + sizeof S_SEED_LABEL + sizeof signer->run, &author32, sizeof author32);
        uint8_t seed[LD_SEED_BYTES];
        ld_hash_id (seed_input, sizeof seed_input, seed);
        ld_identity_t *identity = ld_identity_new_from_seed (seed);
        if (!identity) {
            snprintf (signer->err, sizeof signer->err, "cannot make an identity");
            return NULL;
        }
        memcpy (self->keys[author], ld_identity_public_key (identity), LD_KEY_BYTES);
        uint8_t prev[LD_ID_BYTES];
        uint64_t seq = 1;
        for (size_t i = author; i < self->count; i += self->authors, seq++) {
            uint8_t *payload = NULL;
            size_t payload_size = 0;
            ld_event_t *event = NULL;
            if (s_payload (signer->run, i, &payload, &payload_size) != 0) {
                free (payload);
                snprintf (signer->err, sizeof signer->err, "cannot make a %d-byte note",
                          LD_PBENCH_PAYLOAD_BYTES);
                ld_identity_destroy (&identity);
                return NULL;
            }
            ld_status_t rc = ld_event_sign (
                identity, seq, seq > 1 ? prev : NULL, S_TIME_BASE_MS + (int64_t) i, LD_PBENCH_TOPIC,
                "note", payload, payload_size, &event, signer->err, sizeof signer->err);
            free (payload);
            if (rc != LD_OK) {
                ld_identity_destroy (&identity);
                return NULL;
            }
            memcpy (prev, ld_event_id (event), LD_ID_BYTES);
            size_t size;
            const uint8_t *envelope = ld_event_envelope (event, &size);
            self->envelopes[i] = malloc (size);
            if (self->envelopes[i]) {
                memcpy (self->envelopes[i], envelope, size);
                self->sizes[i] = size;
            }
            if (signer->raw && self->envelopes[i]) {
                size_t body_size;
                const uint8_t *body = ld_event_body (event, &body_size);
                self->raws[i] = malloc (LD_PBENCH_RAW_HEADER + body_size);
                if (self->raws[i]) {
                    memcpy (self->raws[i], ld_event_signature (event), LD_SIG_BYTES);
                    memcpy (self->raws[i] + LD_SIG_BYTES, ld_event_author (event), LD_KEY_BYTES);
                    memcpy (self->raws[i] + LD_PBENCH_RAW_HEADER, body, body_size);
                    self->raw_sizes[i] = LD_PBENCH_RAW_HEADER + body_size;
                }
            }
            ld_event_destroy (&event);
            if (!self->envelopes[i] || (signer->raw && !self->raws[i])) {
                snprintf (signer->err, sizeof signer->err, "out of memory");
                ld_identity_destroy (&identity);
                return NULL;
            }
        }
        ld_identity_destroy (&identity);
    }
    signer->rc = 0;
    return NULL;
}

ld_pbench_events_t *
ld_pbench_events_new (size_t count, size_t authors, uint32_t run, bool raw, char *err,
                      size_t err_size)
{
    if (count == 0 || count > LD_PBENCH_EVENTS_MAX || authors == 0
        || authors > LD_PBENCH_AUTHORS_MAX || authors > count) {
        snprintf (err, err_size, "events must be 1..%d and authors 1..min(events, %d)",
                  LD_PBENCH_EVENTS_MAX, LD_PBENCH_AUTHORS_MAX);
        return NULL;
    }
    if (ld_crypto_init () != 0) {
        snprintf (err, err_size, "cannot start libsodium");
        return NULL;
    }
    ld_pbench_events_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->count = count;
    self->authors = authors;
    self->keys = calloc (authors, sizeof *self->keys);
    self->envelopes = calloc (count, sizeof *self->envelopes);
    self->sizes = calloc (count, sizeof *self->sizes);
    if (raw) {
        self->raws = calloc (count, sizeof *self->raws);
        self->raw_sizes = calloc (count, sizeof *self->raw_sizes);
    }
    if (!self->keys || !self->envelopes || !self->sizes
        || (raw && (!self->raws || !self->raw_sizes))) {
        snprintf (err, err_size, "out of memory");
        ld_pbench_events_destroy (&self);
        return NULL;
    }
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    size_t threads = cores > 0 ? (size_t) cores : 1;
    if (threads > S_SIGN_THREADS_MAX)
        threads = S_SIGN_THREADS_MAX;
    if (threads > authors)
        threads = authors;
    s_signer_t signers[S_SIGN_THREADS_MAX];
    pthread_t ids[S_SIGN_THREADS_MAX];
    size_t started = 0;
    for (size_t t = 0; t < threads; t++) {
        signers[t] = (s_signer_t){
            .events = self, .run = run, .raw = raw, .first = t, .step = threads, .rc = -1};
        if (t > 0 && pthread_create (&ids[t], NULL, s_sign_feeds, &signers[t]) != 0)
            break;
        started = t + 1;
    }
    s_sign_feeds (&signers[0]);
    int rc = signers[0].rc;
    const char *reason = signers[0].err;
    for (size_t t = 1; t < started; t++) {
        pthread_join (ids[t], NULL);
        if (signers[t].rc != 0 && rc == 0) {
            rc = -1;
            reason = signers[t].err;
        }
    }
    if (started < threads && rc == 0) {
        rc = -1;
        reason = "cannot start a signing thread";
    }
    if (rc != 0) {
        snprintf (err, err_size, "cannot sign the events: %s", reason);
        ld_pbench_events_destroy (&self);
        return NULL;
    }
    return self;
}

void
ld_pbench_events_destroy (ld_pbench_events_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_pbench_events_t *self = *self_p;
    for (size_t i = 0; self->envelopes && i < self->count; i++)
        free (self->envelopes[i]);
    for (size_t i = 0; self->raws && i < self->count; i++)
        free (self->raws[i]);
    free (self->envelopes);
    free (self->sizes);
    free (self->raws);
    free (self->raw_sizes);
    free (self->keys);
    free (self);
    *self_p = NULL;
}

size_t
ld_pbench_events_count (const ld_pbench_events_t *self)
{
    return self->count;
}

size_t
ld_pbench_events_authors (const ld_pbench_events_t *self)
{
    return self->authors;
}

const uint8_t *
ld_pbench_events_envelope (const ld_pbench_events_t *self, size_t index, size_t *size)
{
    *size = self->sizes[index];
    return self->envelopes[index];
}

const uint8_t *
ld_pbench_events_raw (const ld_pbench_events_t *self, size_t index, size_t *size)
{
    if (!self->raws) {
        *size = 0;
        return NULL;
    }
    *size = self->raw_sizes[index];
    return self->raws[index];
}

const uint8_t *
ld_pbench_events_author (const ld_pbench_events_t *self, size_t author)
{
    return self->keys[author];
}

int
ld_pbench_events_author_index (const ld_pbench_events_t *self, const uint8_t *key)
{
    for (size_t a = 0; a < self->authors; a++)
        if (memcmp (self->keys[a], key, LD_KEY_BYTES) == 0)
            return (int) a;
    return -1;
}

int64_t
ld_pbench_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * LD_PBENCH_NS_PER_S + ts.tv_nsec;
}

static int
s_compare_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

int64_t
ld_pbench_percentile (int64_t *samples, size_t count, double p)
{
    if (count == 0)
        return 0;
    qsort (samples, count, sizeof *samples, s_compare_i64);
    //  nearest rank: the smallest sample with at least p% at or below it
    size_t rank = (size_t) (p / 100.0 * (double) count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > count)
        rank = count;
    return samples[rank - 1];
}

int
ld_pbench_parse_count (const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || parsed < min || parsed > max)
        return -1;
    *value = parsed;
    return 0;
}
