/*  ld_bench.h -- the parts of ld_bench, private to bench/ (see ld_bench.c).

    ld_bench.c        options, main, machine facts and the printed table
    ld_bench_feeds.c  signed feeds of 16 interleaved authors; small helpers
    ld_bench_crypto.c signs/s and verifies/s on 1 and 2 threads
    ld_bench_store.c  appends/s on an empty and a pre-filled store, and on
                      the variant tables keyed by the random event id

    Every part fills its figures into one ld_bench_t and returns 0, or -1
    with the caller's err buffer filled; only main prints.
*/
#ifndef LD_BENCH_H_INCLUDED
#define LD_BENCH_H_INCLUDED

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ld_event.h"
#include "ld_identity.h"

#define LD_BENCH_AUTHORS        16   //  feeds interleaved in every store run
#define LD_BENCH_TEXT_BYTES     512  //  Note.text of every event
#define LD_BENCH_THREADS_MAX    2    //  verify is measured on 1 .. this many threads
#define LD_BENCH_GROUP_COUNT    3    //  group commit sizes: ld_bench_groups
#define LD_BENCH_VARIANTS       2    //  tables keyed by the random id: ld_bench_variant_name
#define LD_BENCH_CHUNK          1000 //  events per fill batch and per untimed batch
#define LD_BENCH_SINGLE_EVENTS  2000 //  group size 1 stops after this many events
#define LD_BENCH_SINGLE_SECONDS 3.0  //  ... or after this long

enum { LD_BENCH_EMPTY, LD_BENCH_FULL, LD_BENCH_STORE_STATES };

//  Group commit sizes measured, smallest first; the last is also the batch
//  size of the variant tables and of the fill.
extern const size_t ld_bench_groups[LD_BENCH_GROUP_COUNT];

//  Appends measured in one cell of the table.
typedef struct {
    uint64_t events; //  appended while the clock ran
    uint64_t commits;
    double seconds;
} ld_bench_rate_t;

//  Options, then every figure the report prints.
typedef struct {
    uint64_t rows;      //  events in the pre-filled store
    size_t events;      //  working set of each timed store run
    double seconds;     //  length of each crypto measurement
    const char *parent; //  where the temporary directory goes
    char dir[PATH_MAX]; //  the temporary directory; "" until it exists
    time_t started;

    size_t envelope_bytes;
    double sign_event, sign_raw;               //  per second, one thread
    double verify_event[LD_BENCH_THREADS_MAX]; //  per second, [threads - 1]
    double verify_raw[LD_BENCH_THREADS_MAX];
    ld_bench_rate_t append[LD_BENCH_STORE_STATES][LD_BENCH_GROUP_COUNT];
    ld_bench_rate_t variant[LD_BENCH_VARIANTS]; //  last group size, pre-filled
    double fill_seconds, fill_sign, fill_store, fill_variant[LD_BENCH_VARIANTS];
    uint64_t store_bytes, variant_bytes[LD_BENCH_VARIANTS]; //  right after the fill
    double others_crypto, others_store; //  share of the CPUs others took meanwhile
} ld_bench_t;

//  The parts, in the order main runs them.
int ld_bench_crypto (ld_bench_t *self, char *err, size_t err_size);
int ld_bench_store_empty (ld_bench_t *self, char *err, size_t err_size);
int ld_bench_store_full (ld_bench_t *self, char *err, size_t err_size);

//  How a variant table is printed; static storage.
const char *ld_bench_variant_name (size_t variant);

//  --------------------------------------------------------------------------
//  Helpers (ld_bench_feeds.c)

//  Writes into err; returns -1.
int ld_bench_fail (char *err, size_t err_size, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Seconds on the monotonic clock.
double ld_bench_now (void);

//  Milliseconds since the epoch, as the store stamps a batch.
int64_t ld_bench_wall_ms (void);

//  True, with err filled, once SIGINT or SIGTERM is pending (main blocks
//  both, so that a Ctrl-C stops the run between batches and the temporary
//  directory is still removed).
bool ld_bench_interrupted (char *err, size_t err_size);

//  --------------------------------------------------------------------------
//  Feeds: LD_BENCH_AUTHORS identities, each signing its own chain (seq from
//  1, prev linked), interleaved round-robin as a broker receives them. Every
//  event is a note of LD_BENCH_TEXT_BYTES of text on one topic.

typedef struct _ld_feeds_t ld_feeds_t;

//  New identities and empty feeds, or NULL if secure memory is exhausted.
ld_feeds_t *ld_feeds_new (void);

//  NULL-safe; sets *self_p to NULL.
void ld_feeds_destroy (ld_feeds_t **self_p);

//  One author's identity; borrowed, valid while the feeds live.
ld_identity_t *ld_feeds_identity (ld_feeds_t *self, size_t author);

//  Signs the next event of the next author into *event_p (the caller's).
int ld_feeds_sign (ld_feeds_t *self, ld_event_t **event_p, char *err, size_t err_size);

//  Signs count events into events[]; on failure none is left allocated.
int ld_feeds_sign_many (ld_feeds_t *self, ld_event_t **events, size_t count, char *err,
                        size_t err_size);

//  A malloc'ed array of count new events (the caller's: free it with
//  ld_bench_events_destroy), or NULL with err filled.
ld_event_t **ld_feeds_sign_set (ld_feeds_t *self, size_t count, char *err, size_t err_size);

//  Destroys events[0..count), setting each to NULL; the array stays.
void ld_bench_events_free (ld_event_t **events, size_t count);

//  Destroys count events and the array; NULL-safe; sets *events_p to NULL.
void ld_bench_events_destroy (ld_event_t ***events_p, size_t count);

#endif
