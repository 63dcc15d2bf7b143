/*  ld_bench_feeds.c -- the signed feeds every part of ld_bench appends, and
    the small helpers the parts share. See ld_bench.h.
*/
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_bench.h"
#include "ld_payload.h"

#define S_TOPIC     "bench/notes/"
#define S_TYPE      "note"
#define S_NS_PER_S  1e9
#define S_MS_PER_S  1000
#define S_NS_PER_MS 1000000

struct _ld_feeds_t {
    ld_identity_t *identity[LD_BENCH_AUTHORS];
    uint64_t seq[LD_BENCH_AUTHORS]; //  last seq signed
    uint8_t prev[LD_BENCH_AUTHORS][LD_ID_BYTES];
    size_t next; //  author of the next event
    uint8_t *payload;
    size_t payload_size;
    int64_t time_ms;
};

int
ld_bench_fail (char *err, size_t err_size, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, err_size, fmt, args);
    va_end (args);
    return -1;
}

double
ld_bench_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / S_NS_PER_S;
}

int64_t
ld_bench_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * S_MS_PER_S + ts.tv_nsec / S_NS_PER_MS;
}

bool
ld_bench_interrupted (char *err, size_t err_size)
{
    sigset_t pending;
    if (sigpending (&pending) != 0)
        return false;
    if (!sigismember (&pending, SIGINT) && !sigismember (&pending, SIGTERM))
        return false;
    ld_bench_fail (err, err_size, "interrupted");
    return true;
}

void
ld_feeds_destroy (ld_feeds_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_feeds_t *self = *self_p;
    for (size_t i = 0; i < LD_BENCH_AUTHORS; i++)
        ld_identity_destroy (&self->identity[i]);
    free (self->payload);
    free (self);
    *self_p = NULL;
}

ld_feeds_t *
ld_feeds_new (void)
{
    ld_feeds_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    for (size_t i = 0; i < LD_BENCH_AUTHORS; i++)
        if (!(self->identity[i] = ld_identity_new ()))
            goto failed;
    //  A note of exactly LD_BENCH_TEXT_BYTES of text.
    static const char words[] = "the street lamp at longguang road 7 is out again; ";
    char text[LD_BENCH_TEXT_BYTES + 1];
    for (size_t i = 0; i < LD_BENCH_TEXT_BYTES; i++)
        text[i] = words[i % (sizeof words - 1)];
    text[LD_BENCH_TEXT_BYTES] = '\0';
    if (ld_payload_note (text, &self->payload, &self->payload_size) != LD_OK)
        goto failed;
    self->time_ms = ld_bench_wall_ms ();
    return self;
failed:
    ld_feeds_destroy (&self);
    return NULL;
}

ld_identity_t *
ld_feeds_identity (ld_feeds_t *self, size_t author)
{
    return self->identity[author % LD_BENCH_AUTHORS];
}

int
ld_feeds_sign (ld_feeds_t *self, ld_event_t **event_p, char *err, size_t err_size)
{
    size_t author = self->next;
    uint64_t seq = self->seq[author] + 1;
    if (ld_event_sign (self->identity[author], seq, seq > 1 ? self->prev[author] : NULL,
                       self->time_ms++, S_TOPIC, S_TYPE, self->payload, self->payload_size, event_p,
                       err, err_size)
        != LD_OK)
        return -1;
    self->seq[author] = seq;
    memcpy (self->prev[author], ld_event_id (*event_p), LD_ID_BYTES);
    self->next = (author + 1) % LD_BENCH_AUTHORS;
    return 0;
}

void
ld_bench_events_free (ld_event_t **events, size_t count)
{
    for (size_t i = 0; i < count; i++)
        ld_event_destroy (&events[i]);
}

int
ld_feeds_sign_many (ld_feeds_t *self, ld_event_t **events, size_t count, char *err, size_t err_size)
{
    for (size_t i = 0; i < count; i++)
        if (ld_feeds_sign (self, &events[i], err, err_size) != 0) {
            ld_bench_events_free (events, i);
            return -1;
        }
    return 0;
}

ld_event_t **
ld_feeds_sign_set (ld_feeds_t *self, size_t count, char *err, size_t err_size)
{
    ld_event_t **events = calloc (count, sizeof *events);
    if (!events) {
        ld_bench_fail (err, err_size, "out of memory for %zu events", count);
        return NULL;
    }
    if (ld_feeds_sign_many (self, events, count, err, err_size) != 0) {
        free (events);
        return NULL;
    }
    return events;
}

void
ld_bench_events_destroy (ld_event_t ***events_p, size_t count)
{
    if (!events_p || !*events_p)
        return;
    ld_bench_events_free (*events_p, count);
    free (*events_p);
    *events_p = NULL;
}
