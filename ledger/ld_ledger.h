/*  ld_ledger.h -- the ledger: a deterministic fold of the event set into
    meetings, resolutions and their tasks, the double-reporting register,
    co-building agreements, wishes, incidents, refusals and statistics
    (DESIGN.md section 7, docs/LEDGER.md).

    A ledger keeps every event it is given (by id; duplicates are no-ops),
    folds trust.* events into its own ld_trust_t, and on the first query
    after a change recomputes everything from the set of events, so that
    the result depends only on the set (and the roots), never on the order
    events were added: two replicas holding the same events print the same
    ld_ledger_json, byte for byte.

    Time is judged by receipts: an event's ledger time is the earliest
    stored_ms of a receipt that names it (author, seq range), signed by a
    key holding level broker. Without one it is unconfirmed
    (LD_LEDGER_UNCONFIRMED). Author clocks are never read.

    Events are processed in the canonical order -- ledger time
    (unconfirmed last), then author key, then seq -- but never before the
    event they reference. Each type's ledger rule is the authority table's
    (ld_authority.h: convener-only, assignee-only, overdue-only-alters-
    nothing, both-signatures, named-party-only, checked-in-only,
    host-community-only, first-claim-only, claimant-only,
    enclosing-path-only, original-author-only); docs/LEDGER.md says how
    each is applied.

    Every event of a ledger type ends in one of three dispositions:
    applied (it changed the ledger), refused (kept, shown with the rule it
    broke and why; it changes nothing) or pending (its referenced event has
    not arrived, or its author's certificate has not; it waits).

    Ownership: everything a query returns is borrowed from the ledger and
    valid until the next call of any ld_ledger_* function on the same
    object except the pure helpers at the end (queries that take at_ms
    write the derived fields -- overdue, ... -- into the same records).
    Arrays of pointers a query returns (*list_p) are the caller's to free();
    the records they point to are not.

    Not thread-safe: one ledger belongs to one thread (actor).
*/
#ifndef LD_LEDGER_H_INCLUDED
#define LD_LEDGER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"
#include "ld_event.h"
#include "ld_status.h"

//  A ledger time that no receipt confirms yet.
#define LD_LEDGER_UNCONFIRMED INT64_MIN
//  Bytes of the RFC 3339 text ld_ledger_time_text writes, with its NUL
//  ("2025-01-01T00:00:00.000Z", or "unconfirmed").
#define LD_LEDGER_TIME_TEXT_BYTES 32

typedef struct _ld_ledger_t ld_ledger_t;

//  One correction of a field (an amend event).
typedef struct {
    const char *field; //  "deadline", "deliverable", "text", "title", ...
    const char *old_value;
    const char *new_value;
    int64_t ms;     //  the amend's ledger time
    const char *by; //  the amend's id, text form
} ld_ledger_change_t;

//  One task of a resolution.
typedef struct {
    uint32_t index;        //  position in the resolution
    const char *unit;      //  assignee key, text form
    const char *unit_name; //  its display name ("" if it holds no certificate)
    const char *deadline;  //  current value (after amendments)
    int64_t deadline_ms;   //  last instant inside the deadline; INT64_MAX if unparsable
    const char *deliverable;
    const char *state;    //  assigned, accepted, in-progress, completed, verified, reopened
    uint32_t percent;     //  last progress reported
    uint32_t urges;       //  urging notices that counted
    int64_t completed_ms; //  ledger time of the completion that stands, or unconfirmed
    const char *timing;   //  "" (not completed), on-time, late, unconfirmed
    bool overdue;         //  derived at the query's at_ms
    const ld_ledger_change_t *changes;
    size_t change_count;
} ld_task_t;

typedef struct {
    const char *id;       //  the meeting.convene, text form
    const char *convener; //  key, text form
    const char *convener_name;
    const char *path; //  org path from its topic
    const char *body;
    const char *date;
    const char *status; //  held, withdrawn
    int64_t ms;
} ld_meeting_t;

typedef struct {
    const char *id;      //  the resolution.adopt
    const char *meeting; //  the meeting.convene's id
    const char *convener;
    const char *convener_name;
    const char *path;
    const char *text;
    const char *category;
    const char *status; //  open, closed, withdrawn
    int64_t ms;         //  adopted at (ledger time)
    ld_task_t *tasks;
    size_t task_count;
    const ld_ledger_change_t *changes;
    size_t change_count;
} ld_resolution_t;

typedef struct {
    const char *id;
    const char *date;
    const char *activity;
    uint32_t minutes;
    uint32_t people_served;
    uint32_t volunteers;
    const char *team; //  "" if none
    int64_t ms;
} ld_service_t;

typedef struct {
    const char *id;
    const char *kind;  //  feedback, evaluation
    uint32_t year;     //  evaluation
    const char *grade; //  evaluation ("" for feedback)
    uint32_t rating;   //  feedback, 0 if none
    const char *text;
    int64_t ms;
} ld_assessment_t;

//  One check-in (double reporting) with its service register and cards.
typedef struct {
    const char *id;
    const char *community; //  org path of the host community
    const char *community_name;
    const char *unit;      //  the unit's key, or "" for a member
    const char *unit_name; //  display name, or "member"
    const char *member;    //  a member's commitment (base64), or ""
    const char *offers;    //  what it offers, joined with "," ("" if nothing)
    const char *author;
    uint32_t year;
    const char *status; //  checked-in, withdrawn
    int64_t ms;
    const ld_service_t *services;
    size_t service_count;
    const ld_assessment_t *assessments;
    size_t assessment_count;
} ld_checkin_t;

typedef struct {
    const char *id;
    const char *community; //  proposer's key
    const char *community_name;
    const char *path;
    const char *unit;
    const char *unit_name;
    const char *title;
    const char *until;
    const char *status; //  proposed, in-force, withdrawn
    int64_t ms;         //  proposed at
    int64_t signed_ms;  //  countersigned at (unconfirmed if not, or no receipt)
    const ld_ledger_change_t *changes;
    size_t change_count;
} ld_agreement_t;

typedef struct {
    const char *id;
    const char *poster;
    const char *poster_name;
    const char *path;
    const char *text;
    const char *category;
    uint32_t people;
    const char *status;   //  posted, claimed, fulfilled, withdrawn
    const char *claimant; //  "" until claimed
    const char *claimant_name;
    int64_t ms;
    int64_t fulfilled_ms;
    const ld_ledger_change_t *changes;
    size_t change_count;
} ld_wish_t;

typedef struct {
    const char *id;
    const char *reporter;
    const char *reporter_name;
    const char *path;
    const char *text;
    const char *category;
    const char *place;
    const char *status;   //  reported, collected, whistled, assigned, resolved, withdrawn
    uint32_t tier;        //  of the last assignment, 0 if none
    const char *assignee; //  first unit of the last assignment, "" if none
    const char *assignee_name;
    int64_t ms;
    int64_t resolved_ms;
    const ld_ledger_change_t *changes;
    size_t change_count;
} ld_incident_t;

//  An event that the ledger keeps but that changes nothing (refused), or
//  that waits (pending).
typedef struct {
    const char *id;
    const char *type;
    const char *author;
    const char *author_name;
    uint64_t seq;
    const char *rule; //  refused: a ledger rule name (ld_authority.h), "state",
                      //  "reference", or a feed-level status name; pending: "pending"
    const char *reason;
    int64_t ms;
} ld_refusal_t;

//  The article's figures (docs/LEDGER.md says what each counts).
typedef struct {
    size_t paired_units;       //  distinct units checked in or in an agreement in force
    size_t volunteer_teams;    //  distinct non-empty Service.team
    uint64_t people_served;    //  sum of Service.people_served
    size_t matters_done;       //  wishes fulfilled + tasks verified
    size_t problems_solved;    //  incidents resolved
    size_t opinions_collected; //  wishes posted + incidents reported
    size_t opinions_resolved;  //  wishes fulfilled + incidents resolved
    size_t tasks;              //  tasks of resolutions not withdrawn
    size_t tasks_overdue;      //  at at_ms
    size_t tasks_late;
    size_t members;           //  in-service party members checked in (sealed)
    size_t grid_workers;      //  members checked in offering "网格员"
    size_t building_captains; //  members checked in offering "楼栋长"
    size_t grids;             //  keys holding level grid
    size_t compounds;         //  keys holding level compound
    size_t communities;
    size_t units;
    size_t refused;
    size_t pending;
} ld_ledger_stats_t;

//  A new, empty ledger, or NULL if out of memory.
ld_ledger_t *ld_ledger_new (void);

//  Destroys the ledger and everything it lent; NULL-safe; nulls *self_p.
void ld_ledger_destroy (ld_ledger_t **self_p);

//  Configures a trust root, as ld_trust_add_root (same errors).
ld_status_t ld_ledger_add_root (ld_ledger_t *self, const uint8_t key[LD_KEY_BYTES],
                                const char *path, const char *name);

//  Adds one decoded, verified event (ld_event_verify is the caller's): the
//  ledger keeps its own copy. Trust events are folded into the ledger's
//  trust state, receipts give ledger times, ledger types are interpreted;
//  other types are kept and ignored. Adding an event twice is a no-op.
//  Errors: LD_ERR_NOMEM. A payload that does not decode is not an error
//  here: the event is kept and shown as refused.
ld_status_t ld_ledger_add (ld_ledger_t *self, const ld_event_t *event);

//  The number of distinct events added.
size_t ld_ledger_size (const ld_ledger_t *self);

//  Queries. Each recomputes the fold if events were added since the last
//  one, derives time-dependent fields at at_ms (ms since the epoch), and
//  returns through *list_p a malloc'ed array of *count_p borrowed pointers
//  (NULL if none) in canonical order. path_prefix (NULL or "" for all)
//  keeps records whose org path starts with it. LD_OK or LD_ERR_NOMEM.
ld_status_t ld_ledger_meetings (ld_ledger_t *self, const char *path_prefix,
                                const ld_meeting_t ***list_p, size_t *count_p);
ld_status_t ld_ledger_resolutions (ld_ledger_t *self, int64_t at_ms, const char *path_prefix,
                                   const ld_resolution_t ***list_p, size_t *count_p);
//  The register: check-ins at communities whose path starts with prefix.
ld_status_t ld_ledger_register (ld_ledger_t *self, const char *path_prefix,
                                const ld_checkin_t ***list_p, size_t *count_p);
ld_status_t ld_ledger_agreements (ld_ledger_t *self, const char *path_prefix,
                                  const ld_agreement_t ***list_p, size_t *count_p);
ld_status_t ld_ledger_wishes (ld_ledger_t *self, const char *path_prefix, const ld_wish_t ***list_p,
                              size_t *count_p);
ld_status_t ld_ledger_incidents (ld_ledger_t *self, const char *path_prefix,
                                 const ld_incident_t ***list_p, size_t *count_p);
//  Refused events (rule and reason), in canonical order; the prefix
//  applies to the event's topic after its kind.
ld_status_t ld_ledger_refusals (ld_ledger_t *self, const char *path_prefix,
                                const ld_refusal_t ***list_p, size_t *count_p);
//  Events that wait (for a referenced event, or a certificate).
ld_status_t ld_ledger_pending (ld_ledger_t *self, const char *path_prefix,
                               const ld_refusal_t ***list_p, size_t *count_p);
ld_status_t ld_ledger_stats (ld_ledger_t *self, int64_t at_ms, ld_ledger_stats_t *stats);
//  The same, counting only records (and certified keys) whose org path
//  starts with prefix; refused and pending are counted everywhere.
ld_status_t ld_ledger_stats_under (ld_ledger_t *self, int64_t at_ms, const char *prefix,
                                   ld_ledger_stats_t *stats);

//  The whole ledger at at_ms as canonical JSON: keys sorted, arrays in
//  canonical order, no whitespace, UTF-8. A heap string the caller frees,
//  or NULL if out of memory.
char *ld_ledger_json (ld_ledger_t *self, int64_t at_ms);

//  ---- time, as the ledger reads it (pure, thread-safe) ----

//  Parses an RFC 3339 time ("2025-03-01T08:00:00+08:00", fraction
//  optional, "Z" or an offset) or a date "YYYY-MM-DD", which means the end
//  of that day in Asia/Shanghai (UTC+8, no DST): *ms gets the last
//  millisecond inside it. LD_OK or LD_ERR_BAD_FORMAT.
ld_status_t ld_ledger_parse_time (const char *text, int64_t *ms);

//  Writes ms as RFC 3339 UTC with milliseconds, or "unconfirmed" for
//  LD_LEDGER_UNCONFIRMED.
void ld_ledger_time_text (int64_t ms, char out[LD_LEDGER_TIME_TEXT_BYTES]);

#endif
