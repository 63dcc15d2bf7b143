/*  ld_authority.h -- who may say what, where: the one authority table.

    Every event is judged twice (DESIGN.md section 4). The feed level
    decides what is stored and replicated, from the event and its author's
    certificate alone: the author's level may emit the event type, under the
    type's topic kind, inside the author's org path. The ledger level decides
    what a stored event *does*, with rules that need other feeds (only the
    assignee reports progress on its task, ...). Both read the table below,
    so that the broker, the node's check before signing, `liandong tail
    --verify-authority` and the ledger can never disagree about a rule.

    A row names an event type and the levels that may emit it (a set), the
    levels it may certify (trust.certify only: one row per certifying level),
    the topic kind the type lives under ("trust/", or any kind), how the rest
    of the topic is scoped (inside the author's org path, or anywhere), the
    ledger-level rule, and the rule in words. A type matches its exact row,
    else a "prefix.*" row, else the "*" row that covers types this build
    does not know (forward compatibility: an older broker never blocks a
    newer node). Rows whose level set is empty forbid the type to everyone.

    docs/TRUST.md shows the same table; tests/unit/test_authority.c checks
    that it is the text ld_authority_markdown () prints.

    Everything here is static and immutable: safe from any thread.
*/
#ifndef LD_AUTHORITY_H_INCLUDED
#define LD_AUTHORITY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "ld_status.h"

//  Levels of the hierarchy (DESIGN.md section 2). A district is a configured
//  trust root, never certified. The rank orders certification: a level may
//  only certify levels of a higher rank (a test checks every row).
#define LD_LEVEL_LIST(X)                                                                           \
    X (LD_LEVEL_DISTRICT, "district", 0)                                                           \
    X (LD_LEVEL_STREET, "street", 1)                                                               \
    X (LD_LEVEL_SUPERVISOR, "supervisor", 1)                                                       \
    X (LD_LEVEL_BROKER, "broker", 1)                                                               \
    X (LD_LEVEL_COMMUNITY, "community", 2)                                                         \
    X (LD_LEVEL_COMPOUND, "compound", 3)                                                           \
    X (LD_LEVEL_GRID, "grid", 3)                                                                   \
    X (LD_LEVEL_UNIT, "unit", 3)

typedef enum {
#define LD_LEVEL_ENUM(code, name, rank) code,
    LD_LEVEL_LIST (LD_LEVEL_ENUM)
#undef LD_LEVEL_ENUM
        LD_LEVEL_COUNT //  also "no level"
} ld_level_t;

#define LD_LEVEL_BIT(level) (1u << (level))
#define LD_LEVEL_RANK_MAX   3

//  Ledger-level rules: enforced by the ledger (or, for trust rows, by
//  ld_trust's fold), never at feed level. Names are stable (shown to
//  supervisors beside a refused event).
#define LD_LEDGER_RULE_LIST(X)                                                                     \
    X (LD_LEDGER_NONE, "none", "nothing beyond the feed level")                                    \
    X (LD_LEDGER_CERTIFICATE_CHAIN, "certificate-chain",                                           \
       "ld_trust: valid while the certifier's own chain is, and only if issued within the "        \
       "certifier's cut; the newest certificate from one certifier replaces its older ones; a "    \
       "key holds the most senior level it is validly certified for")                              \
    X (LD_LEDGER_ANCESTOR_ONLY, "ancestor-only",                                                   \
       "ld_trust: only a key above the subject on its certificate chain cuts it")                  \
    X (LD_LEDGER_SOLE_SUCCESSOR, "sole-successor",                                                 \
       "ld_trust: the successor must hold no certificate of its own at that level or above and "   \
       "be named by no other key; the old key's feed ends at the rotation")                        \
    X (LD_LEDGER_CONVENER_ONLY, "convener-only",                                                   \
       "only the convener of the referenced meeting or resolution")                                \
    X (LD_LEDGER_ASSIGNEE_ONLY, "assignee-only", "only the assignee the referenced event names")   \
    X (LD_LEDGER_OVERDUE_ONLY, "overdue-only-alters-nothing",                                      \
       "counts only once the task is overdue, judged by receipts; changes no state")               \
    X (LD_LEDGER_BOTH_SIGNATURES, "both-signatures",                                               \
       "in force only once the unit it names has countersigned")                                   \
    X (LD_LEDGER_NAMED_PARTY, "named-party-only", "only the unit the agreement names")             \
    X (LD_LEDGER_CHECKED_IN, "checked-in-only",                                                    \
       "counts only for a unit or member checked in at that community")                            \
    X (LD_LEDGER_HOST_ONLY, "host-community-only",                                                 \
       "only the community where the unit or member checked in")                                   \
    X (LD_LEDGER_FIRST_CLAIM, "first-claim-only", "a wish is claimed once; later claims refused")  \
    X (LD_LEDGER_CLAIMANT_ONLY, "claimant-only", "only the unit that claimed the wish")            \
    X (LD_LEDGER_ENCLOSING_ONLY, "enclosing-path-only",                                            \
       "only a level whose org path encloses the incident's")                                      \
    X (LD_LEDGER_AUTHOR_ONLY, "original-author-only", "only the author of the referenced event")

typedef enum {
#define LD_LEDGER_RULE_ENUM(code, name, text) code,
    LD_LEDGER_RULE_LIST (LD_LEDGER_RULE_ENUM)
#undef LD_LEDGER_RULE_ENUM
        LD_LEDGER_RULE_COUNT
} ld_ledger_rule_t;

//  How the topic after its kind segment is scoped.
typedef enum {
    LD_SCOPE_PATH, //  must start with the author's org path
    LD_SCOPE_ANY,  //  anything (a broker's receipts)
} ld_scope_t;

//  One row of the table. All strings are static.
typedef struct {
    const char *type;        //  "trust.certify", "trust.*" or "*"
    unsigned levels;         //  LD_LEVEL_BIT set of levels that may emit it
    unsigned certifies;      //  trust.certify: LD_LEVEL_BIT set it may certify
    const char *kind;        //  first topic segment ("trust/"), NULL: any kind
    ld_scope_t scope;        //  the rest of the topic
    ld_ledger_rule_t ledger; //  what the ledger (or ld_trust) enforces later
    const char *text;        //  the rule in words, for error messages and docs
} ld_authority_t;

//  ---- levels and rules ----

//  Stable name of a level ("street"); "none" for LD_LEVEL_COUNT. Static.
const char *ld_level_name (ld_level_t level);

//  Level from its name, or LD_LEVEL_COUNT if unknown.
ld_level_t ld_level_from_name (const char *name);

//  Rank of a level (0 for the district); LD_LEVEL_RANK_MAX + 1 for none.
unsigned ld_level_rank (ld_level_t level);

//  Stable name and words of a ledger rule. Static.
const char *ld_ledger_rule_name (ld_ledger_rule_t rule);
const char *ld_ledger_rule_text (ld_ledger_rule_t rule);

//  Writes the names of a set of LD_LEVEL_BIT levels as "a, b, c" ("nobody"
//  if empty) into out, truncating to size.
void ld_levels_text (unsigned levels, char *out, size_t size);

//  ---- the table ----

//  The i-th row, NULL past the end: for documentation and tests.
const ld_authority_t *ld_authority_at (size_t index);

//  The row that governs type for an author of level: the exact type's row
//  whose level set holds level, else the exact type's first row, else the
//  first matching "prefix.*" row, else the "*" row. Never NULL.
const ld_authority_t *ld_authority_find (const char *type, ld_level_t level);

//  True if the row lets level emit its type.
bool ld_authority_allows (const ld_authority_t *row, ld_level_t level);

//  True if path (an org path ending in '/', "" for everything) lies inside
//  scope (the same). Paths are compared segment-wise: "a/b1/" is not inside
//  "a/b/".
bool ld_path_within (const char *path, const char *scope);

//  The feed-level check of one event for an author holding a certificate of
//  level at org path (path "" for an unscoped root): the row lets the level
//  emit type, the topic starts with the row's kind, and the rest of the
//  topic is inside path when the row is scoped. Certification rules that
//  need the payload (the subject's level and path) are ld_trust's.
//  *row_p (if row_p) gets the row consulted. Returns LD_OK,
//  LD_ERR_FORBIDDEN_TYPE, LD_ERR_WRONG_KIND or LD_ERR_OUTSIDE_PATH; err names
//  the rule.
ld_status_t ld_authority_check (ld_level_t level, const char *path, const char *type,
                                const char *topic, const ld_authority_t **row_p, char *err,
                                size_t err_size);

//  The table as docs/TRUST.md shows it (markdown, the ledger rules' legend
//  after it). A heap string the caller frees, or NULL if out of memory.
char *ld_authority_markdown (void);

#endif
