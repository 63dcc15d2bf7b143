/*  ld_store.h -- the durable event store: contiguous, verified feeds in SQLite.

    One SQLite database per node or broker data dir, WAL mode,
    synchronous=FULL: when ld_store_append returns LD_OK the batch is on disk
    (fsync'ed) and may be acknowledged.

    Invariants the store keeps (see the design comment in ld_store.c):
      - feeds are whole: an author's event N is stored only after N-1, and
        only if its prev is N-1's id;
      - (author, seq) is stored at most once; a resend is a no-op;
      - a fork (same author and seq, another id) freezes the author at N-1:
        both versions, and anything stored after N-1, move to the evidence
        table; no later event of that author is accepted;
      - every stored event gets a store sequence number (1, 2, ...), never
        reused, in commit order.
    The store does not verify signatures: callers hand it events they have
    decoded and verified (ld_event_verify).

    Not thread-safe: one store object belongs to one thread (actor).
*/
#ifndef LD_STORE_H_INCLUDED
#define LD_STORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"
#include "ld_event.h"
#include "ld_person.h"
#include "ld_status.h"

#define LD_STORE_FILE "liandong.db" //  name of the database inside a data dir

typedef struct _ld_store_t ld_store_t;

//  Outcome of one event in an appended batch.
typedef struct {
    ld_status_t status;  //  LD_OK (stored or duplicate), LD_ERR_GAP, LD_ERR_CHAIN,
                         //  LD_ERR_FORK, LD_ERR_FROZEN
    bool duplicate;      //  LD_OK: already stored, nothing written
    uint64_t store_seq;  //  LD_OK: the event's store sequence number
    uint64_t needed_seq; //  LD_ERR_GAP: the seq the store needs next
} ld_append_result_t;

//  An author's head: highest stored seq and its id (seq 0: nothing stored).
typedef struct {
    uint8_t author[LD_KEY_BYTES];
    uint64_t seq;
    uint8_t id[LD_ID_BYTES];
    bool frozen; //  a fork was proven; the feed ends at seq forever
} ld_head_t;

//  One stored event as handed to a reader. Pointers are borrowed and valid
//  during the callback only.
typedef struct {
    uint64_t store_seq;
    const uint8_t *envelope;
    size_t size;
    int64_t stored_ms;    //  the storer's clock when it first stored the event
    uint64_t receipt_seq; //  store seq of the receipt naming it; 0 if none
    const char *invalid;  //  NULL, or why the event is known invalid ("revoked")
} ld_stored_t;

//  Called for each event read. Return 0 to go on, non-zero to stop early.
typedef int (ld_store_read_fn) (void *arg, const ld_stored_t *stored);

//  Opens (creating if needed) the store at path (a file; data dirs use
//  DIR/LD_STORE_FILE), migrating an older schema. Errors: LD_ERR_IO,
//  LD_ERR_CORRUPT, LD_ERR_SCHEMA (written by a newer Liandong).
ld_status_t ld_store_open (const char *path, ld_store_t **store_p, char *err, size_t err_size);

//  Closes the store; NULL-safe; sets *self_p to NULL.
void ld_store_destroy (ld_store_t **self_p);

//  Appends a batch in one transaction (group commit), in order; events of
//  one author may follow each other in the batch. results[i] tells what
//  happened to events[i]. Returns LD_OK once the transaction is durable;
//  LD_ERR_FULL (disk full: nothing stored, try later) or LD_ERR_IO /
//  LD_ERR_CORRUPT (nothing stored; a daemon must stop, see DESIGN.md 8).
//  stored_ms stamps the batch with the storer's clock.
//  Same as ld_store_begin, ld_store_add, ld_store_commit.
ld_status_t ld_store_append (ld_store_t *self, ld_event_t *const *events, size_t count,
                             int64_t stored_ms, ld_append_result_t *results, char *err,
                             size_t err_size);

//  A transaction in steps, for callers that add to a batch what depends on
//  its outcome (a broker's receipt). Only one transaction at a time. If any
//  step fails the transaction is rolled back (the head cache with it) and
//  the status returned as ld_store_append does; nothing is stored.
ld_status_t ld_store_begin (ld_store_t *self, char *err, size_t err_size);
ld_status_t ld_store_add (ld_store_t *self, ld_event_t *const *events, size_t count,
                          int64_t stored_ms, ld_append_result_t *results, char *err,
                          size_t err_size);
ld_status_t ld_store_commit (ld_store_t *self, char *err, size_t err_size);
//  Abandons the open transaction, if any.
void ld_store_rollback (ld_store_t *self);

//  Within a transaction: records that the event stored as receipt_seq is the
//  receipt for every event this transaction stored before it. Readers then
//  see receipt_seq beside each of them.
ld_status_t ld_store_mark_receipt (ld_store_t *self, uint64_t receipt_seq, char *err,
                                   size_t err_size);

//  Small named values beside the events (a node's outbox position, its
//  dead flag). Set joins the open transaction if there is one, else
//  commits durably on its own. Get returns LD_ERR_NOT_FOUND if unset.
ld_status_t ld_store_meta_set (ld_store_t *self, const char *name, int64_t value);
ld_status_t ld_store_meta_get (ld_store_t *self, const char *name, int64_t *value);
//  Text values: get returns a heap string the caller frees, or NULL if unset
//  or not text.
ld_status_t ld_store_meta_set_text (ld_store_t *self, const char *name, const char *value);
char *ld_store_meta_get_text (ld_store_t *self, const char *name);

//  Reads author's feed from seq `from`, at most `limit` events (0: all),
//  in seq order.
ld_status_t ld_store_read_feed (ld_store_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t from,
                                size_t limit, ld_store_read_fn *fn, void *arg);

//  Reads events with store sequence > after whose topic starts with prefix
//  ("" or NULL: all), at most `limit` (0: all), in store sequence order.
ld_status_t ld_store_read_after (ld_store_t *self, uint64_t after, const char *prefix, size_t limit,
                                 ld_store_read_fn *fn, void *arg);

//  As ld_store_read_after, but only store seqs in (after, until]: the scan
//  is bounded by the range, however few events match the prefix.
ld_status_t ld_store_read_range (ld_store_t *self, uint64_t after, uint64_t until,
                                 const char *prefix, size_t limit, ld_store_read_fn *fn, void *arg);

//  The head of one author; LD_ERR_NOT_FOUND if none of its events is stored.
ld_status_t ld_store_head (ld_store_t *self, const uint8_t author[LD_KEY_BYTES], ld_head_t *head);

//  The head vector: *heads_p is a malloc'ed array of *count_p heads, sorted
//  by author key; the caller frees it.
ld_status_t ld_store_heads (ld_store_t *self, ld_head_t **heads_p, size_t *count_p);

//  Digests of what the store holds, identical on two stores exactly when they hold the same
//  feeds, heads, fork freezes and invalid marks: heads_digest is BLAKE2b-256 (ld_hash_id or
//  crypto_generichash) over the head vector sorted by author key, each head as author (32) ||
//  seq (8 bytes big-endian) || head id (32, zeros if seq 0) || frozen (1 byte);
//  events_digest over every stored event in (author key, seq) order, each as id (32) ||
//  the invalid mark's text || a NUL byte ("" when valid). *events_p and *invalid_p (if not NULL)
//  get the number of events and of events marked invalid. Reads every event id: O(events).
//  Store seqs, arrival order and receipts' positions play no part. Inside an open transaction
//  the digests include its uncommitted writes. Errors: LD_ERR_CORRUPT (a stored key or id of
//  the wrong size), LD_ERR_IO, LD_ERR_NOMEM; the outputs are then unset.
ld_status_t ld_store_digest (ld_store_t *self, uint8_t heads_digest[LD_ID_BYTES],
                             uint8_t events_digest[LD_ID_BYTES], uint64_t *events_p,
                             uint64_t *invalid_p);

//  Marks author's events with after_seq < seq <= until_seq invalid for
//  `why` (a status name such as "revoked"), or clears their marks when why
//  is NULL. Events are never deleted: a revocation learned after the
//  events it cuts leaves them stored and marked. Joins the open
//  transaction if there is one, else commits on its own. *changed_p (if
//  not NULL) gets the number of events whose mark changed.
ld_status_t ld_store_mark_invalid (ld_store_t *self, const uint8_t author[LD_KEY_BYTES],
                                   uint64_t after_seq, uint64_t until_seq, const char *why,
                                   size_t *changed_p);

//  ---- per-person secrets (erasable personal data, ld_person.h) ----
//
//  A node keeps, for each person it sealed, the secret (key and salt) and
//  the serialized SealedPerson, under the commitment. None of these may be
//  called inside an open transaction (ld_store_begin): each commits
//  durably on its own.

//  Stores a new person's secret and sealed details (sealed: a serialized
//  SealedPerson, at most LD_SEALED_PERSON_MAX bytes). Errors:
//  LD_ERR_EXISTS (the commitment is held, or was erased), LD_ERR_USAGE
//  (inside a transaction, or sealed too long), LD_ERR_FULL, LD_ERR_IO.
ld_status_t ld_store_person_put (ld_store_t *self, const uint8_t commitment[LD_COMMITMENT_BYTES],
                                 const ld_person_secret_t *secret, const uint8_t *sealed,
                                 size_t sealed_size, int64_t created_ms, char *err,
                                 size_t err_size);

//  Reads a person's secret into *secret (the caller's guarded memory) and
//  the sealed details into sealed[0..*sealed_size_p) (a buffer of
//  LD_SEALED_PERSON_MAX bytes). Returns LD_OK; LD_ERR_NOT_FOUND if the
//  store never held the commitment (*erased_ms_p 0) or the person was
//  erased (*erased_ms_p the time of the erasure); LD_ERR_CORRUPT (a stored
//  value of the wrong size), LD_ERR_IO.
ld_status_t ld_store_person_get (ld_store_t *self, const uint8_t commitment[LD_COMMITMENT_BYTES],
                                 ld_person_secret_t *secret, uint8_t *sealed, size_t *sealed_size_p,
                                 int64_t *erased_ms_p);

//  Erases a person: the secret and the sealed details are overwritten in
//  the table, and a TRUNCATE checkpoint leaves no older copy in the
//  database file or its WAL (see the design comment in ld_store.c). The
//  commitment stays as a tombstone. Idempotent: erasing again answers
//  LD_OK with *already_p true (and checkpoints again). Errors:
//  LD_ERR_NOT_FOUND (never held), LD_ERR_USAGE (inside a transaction),
//  LD_ERR_FULL, LD_ERR_IO (also when another connection's reader kept the
//  checkpoint from finishing: the key may still be in the WAL; erase
//  again once it is gone).
ld_status_t ld_store_person_erase (ld_store_t *self, const uint8_t commitment[LD_COMMITMENT_BYTES],
                                   int64_t erased_ms, bool *already_p, char *err, size_t err_size);

//  Highest store sequence number given out (0 if empty).
uint64_t ld_store_last_seq (ld_store_t *self);

//  Reads the fork evidence kept for an author (both versions of the forked
//  seq and everything that was stored after it), in seq order. Evidence has
//  no store sequence: stored->store_seq holds the event's seq instead.
ld_status_t ld_store_read_evidence (ld_store_t *self, const uint8_t author[LD_KEY_BYTES],
                                    ld_store_read_fn *fn, void *arg);

#endif
