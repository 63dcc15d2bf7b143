/*  ld_authority.c -- the authority table. See ld_authority.h.

    To add an event type: one row below (and docs/TRUST.md, which the unit
    test compares with ld_authority_markdown and prints when they differ).
    Rows of one type are adjacent; trust.certify has one row per certifying
    level because what may be certified depends on who certifies.
*/
#include "ld_authority.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DISTRICT   LD_LEVEL_BIT (LD_LEVEL_DISTRICT)
#define S_STREET     LD_LEVEL_BIT (LD_LEVEL_STREET)
#define S_SUPERVISOR LD_LEVEL_BIT (LD_LEVEL_SUPERVISOR)
#define S_BROKER     LD_LEVEL_BIT (LD_LEVEL_BROKER)
#define S_COMMUNITY  LD_LEVEL_BIT (LD_LEVEL_COMMUNITY)
#define S_COMPOUND   LD_LEVEL_BIT (LD_LEVEL_COMPOUND)
#define S_GRID       LD_LEVEL_BIT (LD_LEVEL_GRID)
#define S_UNIT       LD_LEVEL_BIT (LD_LEVEL_UNIT)
#define S_NOBODY     0u
#define S_ALL        ((1u << LD_LEVEL_COUNT) - 1)
//  The levels that do the hierarchy's work (not the root, supervisors or
//  brokers).
#define S_WORKERS (S_STREET | S_COMMUNITY | S_COMPOUND | S_GRID | S_UNIT)
//  Whoever may be the assignee of a task or an incident response.
#define S_ASSIGNEES (S_COMMUNITY | S_COMPOUND | S_GRID | S_UNIT)
//  Whoever hosts a joint meeting (a street's big committee, a community's
//  party-building consortium).
#define S_HOSTS (S_STREET | S_COMMUNITY)

#define S_ANY_TYPE   "*"
#define S_WILDCARD   ".*"
#define S_NO_KIND    NULL
#define S_TRUST      "trust/"
#define S_RECEIPT    "receipt/"
#define S_MEETING    "meeting/"
#define S_RESOLUTION "resolution/"
#define S_REPORT     "report/"
#define S_AGREEMENT  "agreement/"
#define S_WISH       "wish/"
#define S_INCIDENT   "incident/"

static const ld_authority_t s_table[] = {
    //  trust: certificates are events in the certifier's feed
    {"trust.certify", S_DISTRICT, S_STREET | S_SUPERVISOR | S_BROKER, S_TRUST, LD_SCOPE_PATH,
     LD_LEDGER_CERTIFICATE_CHAIN,
     "the district root certifies streets, supervisors and brokers inside its path"},
    {"trust.certify", S_STREET, S_COMMUNITY | S_UNIT, S_TRUST, LD_SCOPE_PATH,
     LD_LEDGER_CERTIFICATE_CHAIN,
     "a street certifies its communities and the units of its big committee inside its path"},
    {"trust.certify", S_COMMUNITY, S_COMPOUND | S_GRID | S_UNIT, S_TRUST, LD_SCOPE_PATH,
     LD_LEDGER_CERTIFICATE_CHAIN,
     "a community certifies its compounds, grids and consortium partners inside its path"},
    {"trust.revoke", S_DISTRICT | S_STREET | S_COMMUNITY, 0, S_TRUST, LD_SCOPE_PATH,
     LD_LEDGER_ANCESTOR_ONLY,
     "a certifier cuts a key below it: the key's events after the cut are never valid"},
    {"trust.rotate", S_ALL, 0, S_TRUST, LD_SCOPE_PATH, LD_LEDGER_SOLE_SUCCESSOR,
     "a key names its successor, which continues with its level, path and name"},
    {"trust.*", S_NOBODY, 0, S_TRUST, LD_SCOPE_PATH, LD_LEDGER_NONE,
     "no other trust type exists; nobody may emit one"},
    //  the broker's own record of time
    {"receipt", S_BROKER, 0, S_RECEIPT, LD_SCOPE_ANY, LD_LEDGER_NONE,
     "only a broker records when it first stored events"},
    {"note", S_ALL & ~S_BROKER, 0, S_NO_KIND, LD_SCOPE_PATH, LD_LEDGER_NONE,
     "free text, inside the author's path"},
    //  joint meetings and supervised resolutions
    {"meeting.convene", S_HOSTS, 0, S_MEETING, LD_SCOPE_PATH, LD_LEDGER_NONE,
     "a street convenes its big committee, a community its consortium"},
    {"resolution.adopt", S_HOSTS, 0, S_RESOLUTION, LD_SCOPE_PATH, LD_LEDGER_CONVENER_ONLY,
     "the meeting's host adopts its resolutions; never a unit or a supervisor"},
    {"task.accept", S_ASSIGNEES, 0, S_RESOLUTION, LD_SCOPE_PATH, LD_LEDGER_ASSIGNEE_ONLY,
     "the assignee accepts its task"},
    {"task.progress", S_ASSIGNEES, 0, S_RESOLUTION, LD_SCOPE_PATH, LD_LEDGER_ASSIGNEE_ONLY,
     "the assignee reports progress on its task"},
    {"task.complete", S_ASSIGNEES, 0, S_RESOLUTION, LD_SCOPE_PATH, LD_LEDGER_ASSIGNEE_ONLY,
     "the assignee reports its task done"},
    {"task.verify", S_HOSTS, 0, S_RESOLUTION, LD_SCOPE_PATH, LD_LEDGER_CONVENER_ONLY,
     "the convener verifies a completed task"},
    {"task.reopen", S_HOSTS, 0, S_RESOLUTION, LD_SCOPE_PATH, LD_LEDGER_CONVENER_ONLY,
     "the convener reopens a task"},
    {"task.urge", S_SUPERVISOR | S_STREET, 0, S_RESOLUTION, LD_SCOPE_PATH, LD_LEDGER_OVERDUE_ONLY,
     "a supervisor (or the street's secretariat) urges an overdue task"},
    {"resolution.close", S_HOSTS, 0, S_RESOLUTION, LD_SCOPE_PATH, LD_LEDGER_CONVENER_ONLY,
     "the convener closes a resolution"},
    //  double reporting
    {"report.checkin", S_UNIT | S_COMMUNITY, 0, S_REPORT, LD_SCOPE_PATH, LD_LEDGER_NONE,
     "a unit checks in at a community; a community records its members' check-ins"},
    {"report.service", S_UNIT | S_COMMUNITY, 0, S_REPORT, LD_SCOPE_PATH, LD_LEDGER_CHECKED_IN,
     "a checked-in unit (or the community, for a member) records service"},
    {"report.feedback", S_COMMUNITY, 0, S_REPORT, LD_SCOPE_PATH, LD_LEDGER_HOST_ONLY,
     "the host community gives feedback"},
    {"report.evaluate", S_COMMUNITY, 0, S_REPORT, LD_SCOPE_PATH, LD_LEDGER_HOST_ONLY,
     "the host community gives the annual evaluation"},
    //  co-building
    {"agreement.propose", S_COMMUNITY, 0, S_AGREEMENT, LD_SCOPE_PATH, LD_LEDGER_BOTH_SIGNATURES,
     "a community proposes a co-building agreement"},
    {"agreement.sign", S_UNIT, 0, S_AGREEMENT, LD_SCOPE_PATH, LD_LEDGER_NAMED_PARTY,
     "the unit named countersigns"},
    {"wish.post", S_COMMUNITY | S_COMPOUND | S_GRID, 0, S_WISH, LD_SCOPE_PATH, LD_LEDGER_NONE,
     "a community, compound or grid posts a residents' wish"},
    {"wish.claim", S_UNIT, 0, S_WISH, LD_SCOPE_PATH, LD_LEDGER_FIRST_CLAIM, "a unit claims a wish"},
    {"wish.fulfil", S_UNIT, 0, S_WISH, LD_SCOPE_PATH, LD_LEDGER_CLAIMANT_ONLY,
     "the claimant fulfils the wish"},
    //  grid incidents, climbing the ladder
    {"incident.report", S_GRID | S_COMPOUND | S_COMMUNITY, 0, S_INCIDENT, LD_SCOPE_PATH,
     LD_LEDGER_NONE, "a grid (or compound, or community) reports an incident"},
    {"incident.collect", S_COMMUNITY, 0, S_INCIDENT, LD_SCOPE_PATH, LD_LEDGER_ENCLOSING_ONLY,
     "the community collects its grids' incidents"},
    {"incident.whistle", S_STREET, 0, S_INCIDENT, LD_SCOPE_PATH, LD_LEDGER_ENCLOSING_ONLY,
     "the street blows the whistle: escalates to the units"},
    {"incident.assign", S_HOSTS, 0, S_INCIDENT, LD_SCOPE_PATH, LD_LEDGER_ENCLOSING_ONLY,
     "a street or community assigns the response, in tiers"},
    {"incident.resolve", S_ASSIGNEES, 0, S_INCIDENT, LD_SCOPE_PATH, LD_LEDGER_ASSIGNEE_ONLY,
     "the assigned responder resolves the incident"},
    //  corrections: on the original's topic kind, inside the author's path
    {"amend", S_WORKERS, 0, S_NO_KIND, LD_SCOPE_PATH, LD_LEDGER_AUTHOR_ONLY,
     "the original's author amends it"},
    {"withdraw", S_WORKERS, 0, S_NO_KIND, LD_SCOPE_PATH, LD_LEDGER_AUTHOR_ONLY,
     "the original's author withdraws it"},
    //  types this build does not know: stored and relayed (forward
    //  compatibility), from the levels that do the work, inside their path
    {S_ANY_TYPE, S_WORKERS, 0, S_NO_KIND, LD_SCOPE_PATH, LD_LEDGER_NONE,
     "a type this build does not know: any working level, inside its path"},
};

#define S_ROWS (sizeof s_table / sizeof s_table[0])

typedef struct {
    const char *name;
    unsigned rank;
} s_level_t;

static const s_level_t s_levels[] = {
#define LD_LEVEL_ROW(code, name, rank) [code] = {name, rank},
    LD_LEVEL_LIST (LD_LEVEL_ROW)
#undef LD_LEVEL_ROW
};

_Static_assert(sizeof s_levels / sizeof s_levels[0] == LD_LEVEL_COUNT,
               "every ld_level_t needs a row in the level table");
_Static_assert(LD_LEVEL_COUNT <= 8 * sizeof (unsigned), "levels are bits of an unsigned");

typedef struct {
    const char *name;
    const char *text;
} s_rule_t;

static const s_rule_t s_rules[] = {
#define LD_LEDGER_RULE_ROW(code, name, text) [code] = {name, text},
    LD_LEDGER_RULE_LIST (LD_LEDGER_RULE_ROW)
#undef LD_LEDGER_RULE_ROW
};

_Static_assert(sizeof s_rules / sizeof s_rules[0] == LD_LEDGER_RULE_COUNT,
               "every ld_ledger_rule_t needs a row in the rule table");

//  ---- levels and rules ----

const char *
ld_level_name (ld_level_t level)
{
    return (unsigned) level < LD_LEVEL_COUNT ? s_levels[level].name : "none";
}

ld_level_t
ld_level_from_name (const char *name)
{
    for (int i = 0; i < LD_LEVEL_COUNT; i++)
        if (strcmp (s_levels[i].name, name) == 0)
            return (ld_level_t) i;
    return LD_LEVEL_COUNT;
}

unsigned
ld_level_rank (ld_level_t level)
{
    return (unsigned) level < LD_LEVEL_COUNT ? s_levels[level].rank : LD_LEVEL_RANK_MAX + 1;
}

const char *
ld_ledger_rule_name (ld_ledger_rule_t rule)
{
    return (unsigned) rule < LD_LEDGER_RULE_COUNT ? s_rules[rule].name : "unknown";
}

const char *
ld_ledger_rule_text (ld_ledger_rule_t rule)
{
    return (unsigned) rule < LD_LEDGER_RULE_COUNT ? s_rules[rule].text : "unknown rule";
}

//  ---- the table ----

const ld_authority_t *
ld_authority_at (size_t index)
{
    return index < S_ROWS ? &s_table[index] : NULL;
}

//  True if a "prefix.*" row covers type.
static bool
s_wildcard_matches (const char *pattern, const char *type)
{
    size_t len = strlen (pattern);
    size_t suffix = strlen (S_WILDCARD);
    if (len <= suffix || strcmp (pattern + len - suffix, S_WILDCARD) != 0)
        return false;
    //  "trust.*" covers "trust.x": compare up to and including the dot.
    return strncmp (pattern, type, len - 1) == 0;
}

const ld_authority_t *
ld_authority_find (const char *type, ld_level_t level)
{
    const ld_authority_t *first_exact = NULL;
    for (size_t i = 0; i < S_ROWS; i++) {
        if (strcmp (s_table[i].type, type) != 0)
            continue;
        if (ld_authority_allows (&s_table[i], level))
            return &s_table[i];
        if (!first_exact)
            first_exact = &s_table[i];
    }
    if (first_exact)
        return first_exact;
    for (size_t i = 0; i < S_ROWS; i++)
        if (s_wildcard_matches (s_table[i].type, type))
            return &s_table[i];
    for (size_t i = 0; i < S_ROWS; i++)
        if (strcmp (s_table[i].type, S_ANY_TYPE) == 0)
            return &s_table[i];
    //  The table ends with the "*" row; a test checks it.
    return &s_table[S_ROWS - 1];
}

bool
ld_authority_allows (const ld_authority_t *row, ld_level_t level)
{
    return (unsigned) level < LD_LEVEL_COUNT && (row->levels & LD_LEVEL_BIT (level));
}

bool
ld_path_within (const char *path, const char *scope)
{
    //  Both end in '/', so a prefix match is a segment match.
    return strncmp (path, scope, strlen (scope)) == 0;
}

void
ld_levels_text (unsigned levels, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < LD_LEVEL_COUNT; i++) {
        if (!(levels & LD_LEVEL_BIT (i)))
            continue;
        int n = snprintf (out + used, size - used, "%s%s", used ? ", " : "", s_levels[i].name);
        if (n < 0 || (size_t) n >= size - used)
            return;
        used += (size_t) n;
    }
    if (used == 0)
        snprintf (out, size, "nobody");
}

//  Every level that some row of type lets emit it.
static unsigned
s_levels_of_type (const char *type)
{
    unsigned levels = 0;
    for (size_t i = 0; i < S_ROWS; i++)
        if (strcmp (s_table[i].type, type) == 0)
            levels |= s_table[i].levels;
    return levels;
}

//  The topic a row expects, as the docs show it: "trust/<path>...".
static void
s_topic_text (const ld_authority_t *row, char *out, size_t size)
{
    const char *kind = row->kind ? row->kind : "<kind>/";
    snprintf (out, size, "%s%s", kind, row->scope == LD_SCOPE_PATH ? "<path>..." : "...");
}

//  The rest of topic after the row's kind, or NULL if the kind differs.
static const char *
s_after_kind (const ld_authority_t *row, const char *topic)
{
    if (row->kind) {
        size_t len = strlen (row->kind);
        return strncmp (topic, row->kind, len) == 0 ? topic + len : NULL;
    }
    const char *slash = strchr (topic, '/');
    return slash ? slash + 1 : NULL;
}

ld_status_t
ld_authority_check (ld_level_t level, const char *path, const char *type, const char *topic,
                    const ld_authority_t **row_p, char *err, size_t err_size)
{
    const ld_authority_t *row = ld_authority_find (type, level);
    if (row_p)
        *row_p = row;
    if (!ld_authority_allows (row, level)) {
        //  A type of several rows (trust.certify) has no one text to quote.
        char allowed[128];
        unsigned levels = s_levels_of_type (row->type);
        ld_levels_text (levels, allowed, sizeof allowed);
        bool several = levels != row->levels;
        return ld_fail (err, err_size, LD_ERR_FORBIDDEN_TYPE,
                        "a %s may not emit '%s' (rule %s: emitted by %s only%s%s)",
                        ld_level_name (level), type, row->type, allowed, several ? "" : "; ",
                        several ? "" : row->text);
    }
    char expected[64];
    s_topic_text (row, expected, sizeof expected);
    const char *rest = s_after_kind (row, topic);
    if (!rest)
        return ld_fail (err, err_size, LD_ERR_WRONG_KIND,
                        "'%s' belongs under '%s', not topic '%s' (rule %s: topic %s)", type,
                        row->kind, topic, row->type, expected);
    if (row->scope == LD_SCOPE_PATH && !ld_path_within (rest, path))
        return ld_fail (err, err_size, LD_ERR_OUTSIDE_PATH,
                        "topic '%s' lies outside the %s's path '%s' (rule %s: topic %s, %s)", topic,
                        ld_level_name (level), path, row->type, expected, row->text);
    return LD_OK;
}

//  ---- the table as markdown ----

typedef struct {
    char *data;
    size_t used;
    size_t size;
    bool failed;
} s_text_t;

static void s_append (s_text_t *text, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_append (s_text_t *text, const char *format, ...)
{
    if (text->failed)
        return;
    va_list args;
    va_start (args, format);
    int n = vsnprintf (text->data + text->used, text->size - text->used, format, args);
    va_end (args);
    if (n >= 0 && (size_t) n >= text->size - text->used) {
        size_t size = (text->used + (size_t) n + 1) * 2;
        char *data = realloc (text->data, size);
        if (!data) {
            text->failed = true;
            return;
        }
        text->data = data;
        text->size = size;
        va_start (args, format);
        n = vsnprintf (text->data + text->used, text->size - text->used, format, args);
        va_end (args);
    }
    if (n < 0) {
        text->failed = true;
        return;
    }
    text->used += (size_t) n;
}

char *
ld_authority_markdown (void)
{
    s_text_t text = {malloc (4096), 0, 4096, false};
    if (!text.data)
        return NULL;
    text.data[0] = '\0';
    s_append (&text, "| type | emitted by | certifies | topic | ledger rule | rule |\n");
    s_append (&text, "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < S_ROWS; i++) {
        const ld_authority_t *row = &s_table[i];
        char levels[128], certifies[128], topic[64];
        ld_levels_text (row->levels, levels, sizeof levels);
        if (row->certifies)
            ld_levels_text (row->certifies, certifies, sizeof certifies);
        else
            snprintf (certifies, sizeof certifies, "-");
        s_topic_text (row, topic, sizeof topic);
        s_append (&text, "| `%s` | %s | %s | `%s` | `%s` | %s |\n", row->type, levels, certifies,
                  topic, ld_ledger_rule_name (row->ledger), row->text);
    }
    s_append (&text, "\n| ledger rule | enforced |\n");
    s_append (&text, "|---|---|\n");
    for (int i = 0; i < LD_LEDGER_RULE_COUNT; i++)
        s_append (&text, "| `%s` | %s |\n", s_rules[i].name, s_rules[i].text);
    if (text.failed) {
        free (text.data);
        return NULL;
    }
    return text.data;
}
