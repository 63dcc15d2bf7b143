/*  ld_outbox.h -- what a node sends to its broker, and when.

    The delivery state machine of a node's outbox, without sockets or
    storage: the node reads the events from its store, sends them, and
    tells the outbox what happened; the outbox decides what goes next.

    The own feed is seqs 1..limit. The outbox tracks
        acked   the highest seq the broker acknowledged;
        sent    the highest seq sent and not known lost;
        window  at most LD_OUTBOX_WINDOW batches in flight (sent, no Ack).
    Invariant: acked <= sent, and with an empty window sent == acked:
    whatever is neither in flight nor acknowledged goes out again. Resends
    are harmless (the broker stores each (author, seq) once and
    acknowledges a resend again), so the outbox errs on the side of
    sending twice:
      - a window without any Ack for the resend timeout is taken as lost
        (a broker restart drops what was queued toward it); the timeout
        doubles up to LD_OUTBOX_RESEND_MAX_MS and resets on progress;
      - a "gap" refusal sends again from the seq the broker needs, even
        below acked (a broker that lost its store is refilled);
      - a refusal to retry later (disk full, awaiting a certificate) sends
        again from that seq after a pause that backs off the same way.
    Batch ids are a counter; an Ack for a batch no longer in the window
    (superseded by a resend) still counts for acked.

    Times are milliseconds of one monotonic clock (zclock_mono), passed in
    so that tests control them. Not thread-safe: one outbox, one thread.
*/
#ifndef LD_OUTBOX_H_INCLUDED
#define LD_OUTBOX_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LD_OUTBOX_WINDOW        8    //  batches in flight
#define LD_OUTBOX_BATCH_MAX     1024 //  events in one batch (LD_SYNC_BATCH_MAX)
#define LD_OUTBOX_RESEND_MS     500  //  no Ack this long: the window is lost
#define LD_OUTBOX_RESEND_MAX_MS 5000 //  ... doubling up to this; also the longest pause

typedef struct _ld_outbox_t ld_outbox_t;

//  A new outbox whose broker has acknowledged the own feed up to acked
//  (0: nothing, or not known: resends are harmless). Limit starts at acked.
//  NULL if out of memory.
ld_outbox_t *ld_outbox_new (uint64_t acked);

//  Destroys the outbox; NULL-safe; sets *self_p to NULL.
void ld_outbox_destroy (ld_outbox_t **self_p);

//  Sets the highest seq that may be sent: the head of the own feed, or
//  the seq before one the broker refused for good.
void ld_outbox_set_limit (ld_outbox_t *self, uint64_t limit);

//  True if a batch may go out at now: it starts at seq *first and holds at
//  most *count events; send it with batch id *batch and then report it
//  with ld_outbox_sent. False if the window is full, everything up to the
//  limit is in flight or acknowledged, or a pause is on.
bool ld_outbox_next (ld_outbox_t *self, int64_t now, uint64_t *batch, uint64_t *first,
                     uint64_t *count);

//  The batch from ld_outbox_next went out at now, carrying first..last
//  (last - first + 1 <= the count offered).
void ld_outbox_sent (ld_outbox_t *self, uint64_t batch, uint64_t first, uint64_t last, int64_t now);

//  An Ack for batch arrived at now: the batch leaves the window. Returns
//  true, with the seqs it carried in *first and *last, if it was in the
//  window (its refusals are to be acted on); false for an Ack of a batch
//  superseded by a resend.
bool ld_outbox_answered (ld_outbox_t *self, uint64_t batch, int64_t now, uint64_t *first,
                         uint64_t *last);

//  The broker holds the own feed up to seq (the caller has checked that
//  seq is within the own feed). Returns true if acked advanced.
bool ld_outbox_acked (ld_outbox_t *self, uint64_t seq, int64_t now);

//  Forgets the window and sends again from seq `from` ("gap"). If from is
//  at or below acked, the broker lost what it acknowledged: acked drops to
//  from - 1. Returns true in that case.
bool ld_outbox_rewind (ld_outbox_t *self, uint64_t from);

//  As ld_outbox_rewind, and nothing goes out before a pause (a refusal to
//  retry later).
void ld_outbox_pause (ld_outbox_t *self, uint64_t from, int64_t now);

//  Runs the resend timer: a window without an Ack since its deadline is
//  taken as lost. Call whenever now may have passed ld_outbox_deadline.
//  Returns true if the window was given up.
bool ld_outbox_tick (ld_outbox_t *self, int64_t now);

//  When ld_outbox_tick or ld_outbox_next next has something to do because
//  of time alone; INT64_MAX if nothing waits for time.
int64_t ld_outbox_deadline (const ld_outbox_t *self, int64_t now);

//  Highest seq the broker acknowledged.
uint64_t ld_outbox_acked_seq (const ld_outbox_t *self);

//  Batches in flight.
size_t ld_outbox_in_flight (const ld_outbox_t *self);

#endif
