/*  ld_chunk.h -- envelopes read from a store into one reply-sized chunk.

    What a FeedReply (the broker answering a feed or evidence request) and
    a relay Publish (a --follow link pushing) carry: copies of stored
    envelopes, at most `max` of them and LD_SYNC_CHUNK_BYTES of envelope
    bytes (always at least one), in read order. Pass ld_chunk_collect as
    the ld_store_read_fn of ld_store_read_feed or ld_store_read_evidence.
*/
#ifndef LD_CHUNK_H_INCLUDED
#define LD_CHUNK_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "ld_store.h"
#include "ld_sync.h"

#define LD_EVIDENCE_MAX 16 //  versions of one forked seq sent as its proof

typedef struct {
    ProtobufCBinaryData *events; //  max slots; each data a malloc'ed copy
    size_t count;
    size_t bytes;
    size_t max;
    uint64_t only_seq; //  evidence: keep only this seq (evidence rows carry
                       //  it in store_seq); 0: every event read
} ld_chunk_t;

//  An empty chunk of at most max events. 0, or -1 if out of memory.
int ld_chunk_init (ld_chunk_t *self, size_t max);

//  ld_store_read_fn: copies one stored envelope in; stops the read (1) when
//  the chunk is full or a copy cannot be made.
int ld_chunk_collect (void *arg, const ld_stored_t *stored);

//  Frees the copies and the slots.
void ld_chunk_clear (ld_chunk_t *self);

#endif
