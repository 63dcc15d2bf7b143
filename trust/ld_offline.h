/*  ld_offline.h -- signing without a node (a district root kept off the
    network), and the envelope files that carry such events to a node or a
    broker (`liandong cert ... --offline --out FILE`, `liandong import`).

    Envelope file: protobuf's delimited form, as `liandong tail --raw`
    writes and `liandong inspect` reads: for each event a varint length,
    then that many bytes of its envelope. A file holding one bare envelope
    (no length) is read too.

    Feed position: a key that signs offline keeps the position of its feed
    beside it, DIR/identity.position for DIR/identity.secret, text:

        # liandong offline feed position; do not edit
        seq: 2
        head: blake2b:<id of event 2>
        pending: <base64url envelope>      (zero or more)

    `pending` lines hold events that are signed but not yet known to be in
    an output file. The order of one signing, under an exclusive flock of
    the position file:
      1. read seq N and head H (and any pending events);
      2. sign N+1 with prev H;
      3. write the position as N+1, its id, pending += the new event, and
         fsync it (file, then directory): seq N+1 is spent from here on;
      4. write FILE with every pending event, fsync it and its directory;
      5. write the position again without pending lines, fsync.
    A crash before 3 leaves nothing signed anywhere: N+1 is signed again
    later, which is safe because no copy of the first attempt exists. A
    crash between 3 and 5 leaves the event in the position file: the next
    signing puts it into its FILE before the new event (importing it twice
    is harmless). So no seq is ever signed twice with different events (a
    fork, which would freeze the root) and no signed event is lost. Writing
    FILE before the position (the other order) would let a crash between
    the two sign N+1 again with a different event: a fork.
    Every write is to a temporary name, fsync'ed and renamed; a reader that
    waited for the lock checks that it holds the file now at the path.
    Never forks the process.
*/
#ifndef LD_OFFLINE_H_INCLUDED
#define LD_OFFLINE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_event.h"
#include "ld_status.h"

#define LD_OFFLINE_POSITION    "identity.position"
#define LD_OFFLINE_EVENTS_MAX  1024 //  events in one envelope file (one Publish)
#define LD_OFFLINE_PENDING_MAX 16   //  unfinished signings kept in a position file

//  What ld_offline_sign did.
typedef struct {
    uint64_t seq;            //  the new event's seq
    uint8_t id[LD_ID_BYTES]; //  and id
    size_t recovered;        //  earlier events written to FILE before it
} ld_offline_result_t;

//  Signs one event as the next of the feed of the key in secret_path
//  (topic, type, payload as ld_event_sign takes them, time_ms the author's
//  clock) and writes it, after any pending events, to out_path, following
//  the order above. Refuses an existing out_path unless force. Errors:
//  ld_identity_load's, ld_event_sign's, LD_ERR_EXISTS (out_path exists),
//  LD_ERR_CORRUPT (a position file that does not parse or disagrees with
//  the key), LD_ERR_TOO_MANY (too many pending events), LD_ERR_IO,
//  LD_ERR_NOMEM. err says which step failed; after a failure at step 4
//  the event is spent and pending (the next signing writes it).
ld_status_t ld_offline_sign (const char *secret_path, const char *topic, const char *type,
                             const uint8_t *payload, size_t payload_size, int64_t time_ms,
                             const char *out_path, bool force, ld_offline_result_t *result,
                             char *err, size_t err_size);

//  Reads the position beside secret_path without changing it: *seq_p (0
//  if the key never signed offline) and *pending_p. Errors: LD_ERR_CORRUPT,
//  LD_ERR_IO.
ld_status_t ld_offline_position (const char *secret_path, uint64_t *seq_p, size_t *pending_p,
                                 char *err, size_t err_size);

//  Writes events[0..count) to path as an envelope file: temporary name,
//  fsync, then link (refusing an existing path, LD_ERR_EXISTS) or rename
//  (force), and fsync of the directory. LD_ERR_IO otherwise.
ld_status_t ld_offline_write (const char *path, ld_event_t *const *events, size_t count, bool force,
                              char *err, size_t err_size);

//  Reads an envelope file: every event is decoded (limits) and verified.
//  *events_p is a malloc'ed array of *count_p events, each owned by the
//  caller (free with ld_offline_events_free). Errors: LD_ERR_NOT_FOUND,
//  LD_ERR_IO, LD_ERR_TOO_MANY (past LD_OFFLINE_EVENTS_MAX), LD_ERR_MALFORMED
//  (cut short), the codec statuses and LD_ERR_BAD_SIGNATURE (err names the
//  record).
ld_status_t ld_offline_read (const char *path, ld_event_t ***events_p, size_t *count_p, char *err,
                             size_t err_size);

//  Destroys events[0..count) and the array; sets *events_p to NULL.
void ld_offline_events_free (ld_event_t ***events_p, size_t count);

#endif
