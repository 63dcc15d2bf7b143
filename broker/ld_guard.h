/*  ld_guard.h -- the broker's authority: its trust roots, the fold of the
    trust feeds it stores, the feed-level check before anything is stored,
    and the invalid marks a late revocation leaves in the store.

    A guard wraps one ld_trust_t (trust/ld_trust.h) around one store. It is
    built at start-up from the --trust roots and every trust event already
    stored (so a restart decides exactly as before), then kept current:

      ld_guard_check   before ld_store_add: the event's author may write it
                       (awaiting-certificate is a retry, not a refusal);
      ld_guard_note    after the commit, for every event it stored;
      ld_guard_settle  after the notes of a commit: folds what changed into
                       marks in the store (events after a cut are marked
                       "revoked"; nothing is deleted) and tells the caller
                       which keys lost their standing, so their sessions
                       end at once.

    The check runs against the state after the previous commit: a
    certificate and the first event of its subject that arrive in the same
    group are admitted on the event's retry, never by a fold of something
    that might still be rolled back.

    Not thread-safe: it belongs to the broker actor.
*/
#ifndef LD_GUARD_H_INCLUDED
#define LD_GUARD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_authority.h"
#include "ld_event.h"
#include "ld_limits.h"
#include "ld_status.h"
#include "ld_store.h"

typedef struct _ld_guard_t ld_guard_t;

//  A configured root, as the Welcome message names it.
typedef struct {
    uint8_t key[LD_KEY_BYTES];
    char path[LD_TOPIC_MAX + 1];
    char name[LD_NAME_MAX + 1];
} ld_guard_root_t;

//  Loads the roots (paths or key texts, as --trust takes them), folds the
//  trust events in store and marks what their cuts invalidate. NULL with
//  err on failure (a root file that cannot be read, a store error).
ld_guard_t *ld_guard_new (ld_store_t *store, const char *const *roots, size_t root_count, char *err,
                          size_t err_size);

//  NULL-safe; sets *self_p to NULL.
void ld_guard_destroy (ld_guard_t **self_p);

//  The roots, for the Welcome message; borrowed.
const ld_guard_root_t *ld_guard_roots (ld_guard_t *self, size_t *count_p);

//  The feed-level check of a verified event (ld_trust_check): LD_OK, or the
//  refusal with reason naming the rule. LD_ERR_AWAITING_CERT is a retry.
ld_status_t ld_guard_check (ld_guard_t *self, const ld_event_t *event, char *reason,
                            size_t reason_size);

//  After a commit: an event it stored. Trust events are folded.
void ld_guard_note (ld_guard_t *self, const ld_event_t *event);

//  After a commit: the store proved a fork of author after last_seq.
void ld_guard_fork (ld_guard_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t last_seq);

//  Called by ld_guard_settle for every key whose standing was cut.
typedef void (ld_guard_cut_fn) (void *arg, const uint8_t key[LD_KEY_BYTES]);

//  Applies what the notes since the last settle changed: marks events in
//  the store (a late revocation), calls cut_fn for each key that may no
//  longer publish, and sets *changed_p if any key's standing changed (the
//  caller refreshes its ZAP table). Cheap when nothing was noted.
ld_status_t ld_guard_settle (ld_guard_t *self, ld_guard_cut_fn *cut_fn, void *arg, bool *changed_p,
                             char *err, size_t err_size);

//  Whether key may publish now: a root, or certified and not cut.
bool ld_guard_admits (ld_guard_t *self, const uint8_t key[LD_KEY_BYTES]);

//  Every key that may publish now (roots and keys with a valid, uncut
//  certificate), for the ZAP table: a malloc'ed array the caller frees.
ld_status_t ld_guard_keys (ld_guard_t *self, uint8_t (**keys_p)[LD_KEY_BYTES], size_t *count_p);

//  Whether a broker that holds the feeds under `paths` (count of them;
//  DESIGN.md section 5) holds author's feed: yes if the author's org path
//  lies under or above one of them, or its level may certify (a trust
//  feed); unknown while the author holds no level here (its certificate
//  has not arrived: ask again later).
typedef enum { LD_SELECT_NO, LD_SELECT_YES, LD_SELECT_UNKNOWN } ld_select_t;
ld_select_t ld_guard_selects (ld_guard_t *self, const uint8_t author[LD_KEY_BYTES],
                              const char *const *paths, size_t count);

//  The org paths key holds (at most max, borrowed until the next fold);
//  returns their number.
size_t ld_guard_paths (ld_guard_t *self, const uint8_t key[LD_KEY_BYTES], const char **paths,
                       size_t max);

//  The level key holds now; LD_LEVEL_COUNT if none.
ld_level_t ld_guard_level (ld_guard_t *self, const uint8_t key[LD_KEY_BYTES]);

//  Rank of author for replication order, trust feeds first: 0 a root, 1 a
//  level that may certify, 2 any other level, 3 no level yet.
unsigned ld_guard_rank (ld_guard_t *self, const uint8_t author[LD_KEY_BYTES]);

#endif
