/*  ld_trust.h -- the trust state of a district: certificates, revocation
    cuts and rotations, folded from trust events, and the feed-level check.

    A trust object holds the configured roots (district keys) and every
    trust event it is given (trust.certify, trust.revoke, trust.rotate, see
    liandong.proto). From that set it decides, for every key: its level,
    its grants (org path and display name, one per valid certificate), the
    seq after which its events are invalid (its cut), its successor. The
    decisions are a function of the *set* of folded events and the roots:
    folding the same events in any order, interleaving feeds any way, gives
    the same answers (tests/unit/test_trust.c shuffles them). The rules,
    in full in docs/TRUST.md:

      - A root holds level district at its configured path ("" = anywhere).
      - A certificate is valid if its certifier holds a valid level that may
        certify the subject's level (ld_authority.h), the certifying event
        lies within the certifier's cut, its topic and the subject's path lie
        inside one of the certifier's paths, and no newer valid certificate
        from the same certifier names the same subject.
      - A key holds one level: the most senior its valid certificates give
        (lowest rank; then the first in LD_LEVEL_LIST); its grants are the
        valid certificates of that level. Others are ignored.
      - Revocation is a cut: a trust.revoke by a key above the subject on its
        chain (a certifier, its certifier, ..., or their successors) makes
        the subject's events after after_seq invalid. Several cuts: the
        lowest holds. Anything a key certified after its cut is invalid,
        and so is everything that rests on it.
      - Rotation: the first valid trust.rotate of a key ends its feed there
        (its cut) and hands its level and grants to the successor, which
        must hold no valid level of its own that is as senior or more and
        must be named by no other key.
      - A proven fork freezes a key at the seq before it (a cut).

    Time plays no part: validity is by sequence, never by clock.

    Not thread-safe: one object belongs to one thread (actor). Queries
    recompute the state after folds, so they are not const.
*/
#ifndef LD_TRUST_H_INCLUDED
#define LD_TRUST_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_authority.h"
#include "ld_crypto.h"
#include "ld_event.h"
#include "ld_limits.h"
#include "ld_status.h"

#define LD_TRUST_NO_CUT UINT64_MAX //  valid_through of a key with no cut

typedef struct _ld_trust_t ld_trust_t;

//  A new, empty trust state (no roots), or NULL if out of memory.
ld_trust_t *ld_trust_new (void);

//  Destroys the object; NULL-safe; sets *self_p to NULL.
void ld_trust_destroy (ld_trust_t **self_p);

//  Configures a trust root: key holds level district at path (an org path
//  such as "wudang/", or "" for a root that may certify anywhere) under a
//  display name (NULL: "district"). Both strings are copied. Errors:
//  LD_ERR_BAD_TOPIC / LD_ERR_TOPIC_TOO_LONG (path), LD_ERR_BAD_UTF8 /
//  LD_ERR_STRING_TOO_LONG (name), LD_ERR_EXISTS (already a root),
//  LD_ERR_NOMEM.
ld_status_t ld_trust_add_root (ld_trust_t *self, const uint8_t key[LD_KEY_BYTES], const char *path,
                               const char *name);

//  Folds one event that the caller decoded and verified (ld_event_verify).
//  Events whose type is not a trust type are ignored (LD_OK). A trust event
//  is kept whatever its validity now; it is judged again whenever the state
//  changes. Folding an event twice is a no-op. Errors (err says why):
//  LD_ERR_BAD_PAYLOAD and the codec statuses (the payload does not decode:
//  nothing kept), LD_ERR_FORK (another event with this author and seq was
//  folded: both are kept as evidence and the author is frozen at seq-1),
//  LD_ERR_NOMEM.
ld_status_t ld_trust_fold (ld_trust_t *self, const ld_event_t *event, char *err, size_t err_size);

//  Records that a store proved a fork of author at last_seq + 1: its events
//  after last_seq are invalid. LD_OK or LD_ERR_NOMEM.
ld_status_t ld_trust_freeze (ld_trust_t *self, const uint8_t author[LD_KEY_BYTES],
                             uint64_t last_seq);

//  The feed-level check of a decoded, verified event (DESIGN.md section 4),
//  judged by its author's standing now. Returns:
//      LD_OK                  the author may emit it
//      LD_ERR_AWAITING_CERT   no valid certificate yet, but one may come
//                             (none folded, or its chain is incomplete):
//                             hold the event back and retry; not a refusal
//      LD_ERR_NOT_CERTIFIED   every certificate of the author is invalid
//      LD_ERR_REVOKED         seq lies after the author's cut, or the
//                             author's certificate after its certifier's
//      LD_ERR_FROZEN          seq lies after a proven fork of the author
//      LD_ERR_FORBIDDEN_TYPE  the author's level may not emit the type
//      LD_ERR_WRONG_KIND      the topic does not start with the type's kind
//      LD_ERR_OUTSIDE_PATH    topic (or a certificate's path) outside the
//                             author's org path
//      LD_ERR_FORBIDDEN_LEVEL a certificate for a level the author's level
//                             may not certify (or for itself)
//      LD_ERR_BAD_PAYLOAD, codec statuses: a trust payload does not decode
//      LD_ERR_NOMEM
//  err names the rule. *row_p (if row_p) gets the table row that admitted
//  the event (its ledger rule is for the ledger) or refused it, and NULL
//  when the author's standing decided.
ld_status_t ld_trust_check (ld_trust_t *self, const ld_event_t *event, const ld_authority_t **row_p,
                            char *err, size_t err_size);

//  The author's standing alone: whether its event at seq can be valid now
//  (LD_OK, LD_ERR_AWAITING_CERT, LD_ERR_NOT_CERTIFIED, LD_ERR_REVOKED,
//  LD_ERR_FROZEN), for
//  a store that marks events already stored. Type and topic are
//  ld_trust_check's.
ld_status_t ld_trust_valid (ld_trust_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t seq,
                            char *err, size_t err_size);

//  The level a key holds now (the ledger's input): LD_LEVEL_COUNT if none,
//  or if recomputing the state ran out of memory.
ld_level_t ld_trust_level (ld_trust_t *self, const uint8_t key[LD_KEY_BYTES]);

//  The level a key holds now and the org paths of its grants (at most max,
//  borrowed: valid until the next fold), for a broker choosing which feeds
//  it holds. LD_LEVEL_COUNT (and *count_p 0) if the key holds no level.
ld_level_t ld_trust_grants (ld_trust_t *self, const uint8_t key[LD_KEY_BYTES], const char **paths,
                            size_t max, size_t *count_p);

//  What changed for one key since the last ld_trust_marks call.
typedef struct {
    uint8_t author[LD_KEY_BYTES];
    uint64_t valid_through; //  events with a higher seq are invalid now;
                            //  0: none is valid; LD_TRUST_NO_CUT: no cut
    bool recheck;           //  grants changed or valid_through grew: events
                            //  up to valid_through may have changed either
                            //  way; run ld_trust_check on them
} ld_trust_mark_t;

//  The keys whose standing changed since the previous call (the first call:
//  every key), sorted by key, so that a store can mark events it already
//  holds (nothing is ever deleted). *marks_p is a malloc'ed array of
//  *count_p marks (NULL if none) the caller frees. LD_OK or LD_ERR_NOMEM.
ld_status_t ld_trust_marks (ld_trust_t *self, ld_trust_mark_t **marks_p, size_t *count_p);

//  Why a key's feed ends.
typedef enum {
    LD_CUT_NONE,
    LD_CUT_REVOKED, //  a trust.revoke
    LD_CUT_ROTATED, //  its own trust.rotate
    LD_CUT_FROZEN,  //  a proven fork
} ld_cut_t;

//  One certificate in the hierarchy, as `liandong cert tree` prints it.
typedef struct {
    size_t depth;  //  0 for a root
    size_t parent; //  index of the certifier's node; SIZE_MAX for a root
    uint8_t key[LD_KEY_BYTES];
    ld_level_t level;
    char path[LD_TOPIC_MAX + 1];
    char name[LD_NAME_MAX + 1];
    uint64_t cert_seq;      //  seq of the certificate in the certifier's feed; 0 for a root
    uint64_t valid_through; //  the key's cut; LD_TRUST_NO_CUT if none
    ld_cut_t cut;
    bool has_successor;
    uint8_t successor[LD_KEY_BYTES];
    bool inherited; //  held through rotation from predecessor
    uint8_t predecessor[LD_KEY_BYTES];
} ld_trust_node_t;

//  The hierarchy of valid certificates, depth-first: each node is followed
//  by its children (the certificates the key issued), siblings sorted by
//  path, then name, then key. A key certified twice appears twice; a
//  successor appears beside its predecessor. *nodes_p is a malloc'ed array
//  of *count_p nodes (NULL if none) the caller frees. LD_OK or
//  LD_ERR_NOMEM.
ld_status_t ld_trust_tree (ld_trust_t *self, ld_trust_node_t **nodes_p, size_t *count_p);

#endif
