/*  ld_outbox.c -- the outbox's delivery state machine. See ld_outbox.h. */
#include "ld_outbox.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t id;
    uint64_t first, last; //  seqs it carries
} s_batch_t;

struct _ld_outbox_t {
    uint64_t limit; //  highest seq that may be sent
    uint64_t acked;
    uint64_t sent;
    s_batch_t window[LD_OUTBOX_WINDOW]; //  in the order sent
    size_t window_count;
    uint64_t last_batch; //  ids are a counter
    int resend_ms;       //  current resend timeout
    int pause_ms;        //  current pause after a refusal to retry later
    int64_t resend_at;   //  the window is lost if no Ack comes before; 0: empty
    int64_t pause_until; //  nothing goes out before
};

static int
s_backoff (int ms)
{
    return ms * 2 > LD_OUTBOX_RESEND_MAX_MS ? LD_OUTBOX_RESEND_MAX_MS : ms * 2;
}

ld_outbox_t *
ld_outbox_new (uint64_t acked)
{
    ld_outbox_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->acked = self->sent = self->limit = acked;
    self->resend_ms = self->pause_ms = LD_OUTBOX_RESEND_MS;
    return self;
}

void
ld_outbox_destroy (ld_outbox_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
ld_outbox_set_limit (ld_outbox_t *self, uint64_t limit)
{
    self->limit = limit;
}

bool
ld_outbox_next (ld_outbox_t *self, int64_t now, uint64_t *batch, uint64_t *first, uint64_t *count)
{
    if (now < self->pause_until)
        return false;
    if (self->window_count == 0)
        self->sent = self->acked; //  nothing in flight: what is not acked goes again
    if (self->window_count == LD_OUTBOX_WINDOW || self->sent >= self->limit)
        return false;
    uint64_t left = self->limit - self->sent;
    *batch = self->last_batch + 1;
    *first = self->sent + 1;
    *count = left < LD_OUTBOX_BATCH_MAX ? left : LD_OUTBOX_BATCH_MAX;
    return true;
}

void
ld_outbox_sent (ld_outbox_t *self, uint64_t batch, uint64_t first, uint64_t last, int64_t now)
{
    if (self->window_count == LD_OUTBOX_WINDOW || last < first)
        return; //  not what ld_outbox_next offered: our caller's mistake
    self->window[self->window_count++] = (s_batch_t){batch, first, last};
    self->last_batch = batch;
    if (last > self->sent)
        self->sent = last;
    if (!self->resend_at)
        self->resend_at = now + self->resend_ms;
}

bool
ld_outbox_answered (ld_outbox_t *self, uint64_t batch, int64_t now, uint64_t *first, uint64_t *last)
{
    bool found = false;
    for (size_t i = 0; i < self->window_count; i++)
        if (self->window[i].id == batch) {
            *first = self->window[i].first;
            *last = self->window[i].last;
            memmove (&self->window[i], &self->window[i + 1],
                     (self->window_count - i - 1) * sizeof self->window[0]);
            self->window_count--;
            found = true;
            break;
        }
    //  The broker answers: what is still in flight gets a fresh timeout.
    self->resend_at = self->window_count ? now + self->resend_ms : 0;
    return found;
}

bool
ld_outbox_acked (ld_outbox_t *self, uint64_t seq, int64_t now)
{
    if (seq <= self->acked)
        return false;
    self->acked = seq;
    if (self->sent < seq)
        self->sent = seq;
    self->resend_ms = self->pause_ms = LD_OUTBOX_RESEND_MS;
    size_t kept = 0;
    for (size_t i = 0; i < self->window_count; i++)
        if (self->window[i].last > seq)
            self->window[kept++] = self->window[i];
    self->window_count = kept;
    self->resend_at = self->window_count ? now + self->resend_ms : 0;
    return true;
}

bool
ld_outbox_rewind (ld_outbox_t *self, uint64_t from)
{
    if (from == 0)
        from = 1;
    bool lost = from - 1 < self->acked;
    if (lost)
        self->acked = from - 1;
    if (from - 1 < self->sent)
        self->sent = from - 1;
    self->window_count = 0;
    self->resend_at = 0;
    return lost;
}

void
ld_outbox_pause (ld_outbox_t *self, uint64_t from, int64_t now)
{
    ld_outbox_rewind (self, from);
    self->pause_until = now + self->pause_ms;
    self->pause_ms = s_backoff (self->pause_ms);
}

bool
ld_outbox_tick (ld_outbox_t *self, int64_t now)
{
    if (!self->window_count || !self->resend_at || now < self->resend_at)
        return false;
    self->resend_ms = s_backoff (self->resend_ms);
    ld_outbox_rewind (self, self->acked + 1);
    return true;
}

int64_t
ld_outbox_deadline (const ld_outbox_t *self, int64_t now)
{
    int64_t next = INT64_MAX;
    if (self->window_count && self->resend_at)
        next = self->resend_at;
    if (self->pause_until > now && self->sent < self->limit && self->pause_until < next)
        next = self->pause_until;
    return next;
}

uint64_t
ld_outbox_acked_seq (const ld_outbox_t *self)
{
    return self->acked;
}

size_t
ld_outbox_in_flight (const ld_outbox_t *self)
{
    return self->window_count;
}
