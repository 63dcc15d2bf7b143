/*  ld_pbench.h -- what the pipeline benchmark's programs share (see
    bench/pipeline.sh): pre-signed events, a clock and percentiles.

    ld_loader, ld_subbench and ld_natsbench must measure the same events, so
    they are made here and nowhere else: `count` notes whose payload is
    LD_PBENCH_PAYLOAD_BYTES, from `authors` authors interleaved (event i is
    author i % authors, seq i / authors + 1, chained by prev), under
    LD_PBENCH_TOPIC. Author keys derive from (run, author index), so every
    run of a benchmark against a store that already holds events uses fresh
    feeds by choosing a fresh `run`.

    Everything is signed when ld_pbench_events_new returns: the programs
    start their clocks after that, so signing never counts.
*/
#ifndef LD_PBENCH_H_INCLUDED
#define LD_PBENCH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"

#define LD_PBENCH_PAYLOAD_BYTES 512               //  serialized Note of every event
#define LD_PBENCH_TOPIC         "bench/pipeline/" //  topic of every event
#define LD_PBENCH_AUTHORS_MAX   1024
#define LD_PBENCH_EVENTS_MAX    10000000
#define LD_PBENCH_NS_PER_S      1000000000LL
#define LD_PBENCH_NS_PER_MS     1000000LL
#define LD_PBENCH_NS_PER_US     1000LL

//  The raw form NATS carries: signature || author key || body, verified
//  with crypto_sign_verify_detached (signature, body, key).
#define LD_PBENCH_RAW_HEADER (LD_SIG_BYTES + LD_KEY_BYTES)

typedef struct _ld_pbench_events_t ld_pbench_events_t;

//  Signs count events of `authors` authors for run number `run` (see
//  above); with raw, also keeps each event in the raw form. NULL with a
//  reason in err if the arguments are out of range or memory runs out.
ld_pbench_events_t *ld_pbench_events_new (size_t count, size_t authors, uint32_t run, bool raw,
                                          char *err, size_t err_size);

//  NULL-safe; sets *self_p to NULL.
void ld_pbench_events_destroy (ld_pbench_events_t **self_p);

size_t ld_pbench_events_count (const ld_pbench_events_t *self);
size_t ld_pbench_events_authors (const ld_pbench_events_t *self);

//  Event i's envelope; borrowed, valid until the events are destroyed.
const uint8_t *ld_pbench_events_envelope (const ld_pbench_events_t *self, size_t index,
                                          size_t *size);

//  Event i in the raw form (NULL unless made with raw); borrowed likewise.
const uint8_t *ld_pbench_events_raw (const ld_pbench_events_t *self, size_t index, size_t *size);

//  Author a's public key (a < authors); borrowed likewise.
const uint8_t *ld_pbench_events_author (const ld_pbench_events_t *self, size_t author);

//  The author index of a public key, or -1 if it is none of ours.
int ld_pbench_events_author_index (const ld_pbench_events_t *self, const uint8_t *key);

//  CLOCK_MONOTONIC in ns: one clock for every process on the machine, so
//  that a time taken in one program can be compared with another's.
int64_t ld_pbench_now_ns (void);

//  The p-th percentile (0..100) of samples[0..count), nearest rank; sorts
//  the samples in place. 0 if count is 0.
int64_t ld_pbench_percentile (int64_t *samples, size_t count, double p);

//  Parses a decimal count in [min, max]; 0 or -1.
int ld_pbench_parse_count (const char *text, uint64_t min, uint64_t max, uint64_t *value);

#endif
