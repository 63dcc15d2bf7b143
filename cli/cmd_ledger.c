/*  cmd_ledger.c -- `liandong ledger ...` and `liandong stats`: the ledger's
    queries (ledger/ld_ledger.h).

    The events come from a broker by catch-up (`--broker`, as a supervisor
    without a node reads them: CurveZMQ with `--broker-key` and a certified
    `--identity`); every event is verified and folded with the district's
    roots (`--trust`), so what is printed is judged here, not taken on the
    broker's word. Time-dependent answers ("overdue") are judged at `--at`
    (RFC 3339, or a date: the end of that day in Asia/Shanghai), default
    now; the ledger's own times come from broker receipts.

    Exit codes: 0; 64 usage; 66 a --trust file missing; 69 the broker did
    not answer.
*/
#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_cli.h"
#include "ld_connect.h"
#include "ld_crypto.h"
#include "ld_ledger.h"
#include "ld_roots.h"
#include "ld_table.h"

#define S_ROOTS_MAX 16
#define S_TEXT_COLS 24 //  characters of a resolution's text shown in a table

typedef struct {
    const char *query;
    const char *control;
    const char *broker;
    const char *broker_key;
    const char *identity;
    const char *roots[S_ROOTS_MAX];
    size_t root_count;
    const char *path;
    const char *unit;
    const char *community;
    bool overdue;
    bool members;
    bool json;
    int64_t at_ms;
} s_options_t;

typedef struct {
    const char *name;
    const char *summary;
} s_query_t;

static const s_query_t s_queries[] = {
    {"resolutions", "resolutions with their tasks: state, deadline, on time or late, overdue"},
    {"tasks", "the tasks, one per line (--unit U: one unit's)"},
    {"register", "the double-reporting register: check-ins, service, feedback, evaluations"},
    {"agreements", "co-building agreements: in force once both signed"},
    {"wishes", "residents' wishes: posted, claimed, fulfilled"},
    {"incidents", "grid incidents and how far up they climbed"},
    {"refusals", "events the ledger keeps but refused, with the rule they broke"},
};

#define S_QUERY_COUNT (sizeof s_queries / sizeof s_queries[0])

static void
s_usage (FILE *out, bool stats)
{
    if (stats)
        fprintf (out,
                 "usage: liandong stats (--control ipc://NODE | --broker EP [--broker-key PUB\n"
                 "                      --identity FILE]) --trust ROOT.pub [--path P] [--at TIME]\n"
                 "                      [--json]\n"
                 "\n"
                 "The figures the seed article reports, from the ledger: paired units,\n"
                 "volunteer teams, people served, practical matters done, problems solved,\n"
                 "opinions collected and resolved, grid and compound counts, tasks overdue.\n");
    else {
        fprintf (out,
                 "usage: liandong ledger QUERY (--control ipc://NODE | --broker EP\n"
                 "                       [--broker-key PUB --identity FILE]) --trust ROOT.pub\n"
                 "                       [--path P] [--at TIME] [--json]\n"
                 "\nqueries:\n");
        for (size_t i = 0; i < S_QUERY_COUNT; i++)
            fprintf (out, "  %-12s %s\n", s_queries[i].name, s_queries[i].summary);
    }
    fprintf (out,
             "\n"
             "  --control EP        your node, which reads its broker for you\n"
             "  --broker EP         or the broker itself (a supervisor without a node)\n"
             "  --broker-key PUB    pin the broker (CurveZMQ); needs --identity\n"
             "  --identity FILE     a certified key (a supervisor's, say) to read with\n"
             "  --trust ROOT.pub    the district's root (repeatable)\n"
             "  --path P            only records under org path P (e.g. wudang/longguanglu/)\n"
             "  --at TIME           judge \"overdue\" at TIME (RFC 3339 or YYYY-MM-DD, the end\n"
             "                      of that day in Asia/Shanghai); default now\n"
             "  --overdue           resolutions, tasks: only overdue tasks\n"
             "  --unit U            tasks: only the unit U (key, .pub file or display name)\n"
             "  --community C       register: only community C (org path or display name)\n"
             "  --members           register: one line per member (default: members are\n"
             "                      counted per community and role; units one line each)\n"
             "  --json              JSON instead of a table\n"
             "  --color WHEN        overdue rows in red: auto (on a terminal), always, never\n");
}

//  --------------------------------------------------------------------------
//  Reading

static int
s_add (void *arg, const ld_event_t *event, uint64_t store_seq, const char *invalid)
{
    (void) store_seq;
    (void) invalid; //  the ledger judges authority itself
    return ld_ledger_add (arg, event) == LD_OK ? 0 : EX_OSERR;
}

static int
s_load (const s_options_t *options, ld_ledger_t *ledger)
{
    for (size_t i = 0; i < options->root_count; i++) {
        uint8_t key[LD_KEY_BYTES];
        char path[LD_TOPIC_MAX + 1], name[LD_NAME_MAX + 1], err[512];
        ld_status_t rc = ld_root_load (options->roots[i], key, path, name, err, sizeof err);
        if (rc == LD_OK)
            rc = ld_ledger_add_root (ledger, key, path, name);
        if (rc != LD_OK) {
            ld_cli_error ("--trust '%s': %s", options->roots[i],
                          rc == LD_ERR_EXISTS ? "given twice" : err);
            return rc == LD_ERR_NOT_FOUND ? EX_NOINPUT : EX_USAGE;
        }
    }
    if (options->control)
        return ld_connect_catchup_control (options->control, "", s_add, ledger);
    return ld_connect_catchup (options->broker, options->broker_key, options->identity, "", s_add,
                               ledger);
}

//  --------------------------------------------------------------------------
//  Printing

//  The first `cols` characters of text, with '…' if cut.
static void
s_short (const char *text, size_t cols, char *out, size_t size)
{
    size_t i = 0, chars = 0;
    while (text[i] && chars < cols) {
        unsigned char c = (unsigned char) text[i];
        size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        i += len;
        chars++;
    }
    if (i + 4 > size)
        i = size > 4 ? size - 4 : 0;
    memcpy (out, text, i);
    out[i] = '\0';
    if (text[i])
        strcat (out, "…");
}

static const char *
s_name (const char *name, const char *key)
{
    return name && *name ? name : key;
}

static bool
s_unit_matches (const char *filter, const ld_task_t *task)
{
    if (!filter)
        return true;
    if (strcmp (filter, task->unit) == 0 || strcmp (filter, task->unit_name) == 0)
        return true;
    uint8_t key[LD_KEY_BYTES];
    char err[256], text[LD_KEY_TEXT_BYTES];
    if (ld_public_key_load (filter, key, err, sizeof err) != LD_OK)
        return false;
    ld_key_to_text (key, text);
    return strcmp (text, task->unit) == 0;
}

//  Prints the JSON (--json) or the table, and frees both. EX_OSERR if
//  either could not be made.
static int
s_emit (const s_options_t *options, ld_table_t **table_p, json_t **json_p)
{
    int rc = *table_p && *json_p ? EX_OK : EX_OSERR;
    if (rc == EX_OK && options->json) {
        json_dumpf (*json_p, stdout, JSON_COMPACT);
        fputc ('\n', stdout);
    }
    else if (rc == EX_OK)
        ld_table_print (*table_p, stdout, false);
    json_decref (*json_p);
    *json_p = NULL;
    ld_table_destroy (table_p);
    return rc;
}

static json_t *
s_changes_json (const ld_ledger_change_t *changes, size_t count)
{
    json_t *array = json_array ();
    for (size_t i = 0; i < count; i++) {
        char when[LD_LEDGER_TIME_TEXT_BYTES];
        ld_ledger_time_text (changes[i].ms, when);
        json_array_append_new (array,
                               json_pack ("{s:s, s:s, s:s, s:s, s:s}", "field", changes[i].field,
                                          "old", changes[i].old_value, "new", changes[i].new_value,
                                          "at", when, "by", changes[i].by));
    }
    return array;
}

static json_t *
s_task_json (const ld_task_t *task)
{
    char done[LD_LEDGER_TIME_TEXT_BYTES];
    ld_ledger_time_text (task->completed_ms, done);
    return json_pack ("{s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:s?, s:b, s:o}", "index",
                      (int) task->index, "unit", task->unit, "unitName", task->unit_name,
                      "deadline", task->deadline, "deliverable", task->deliverable, "state",
                      task->state, "percent", (int) task->percent, "urges", (int) task->urges,
                      "timing", task->timing, "completedAt", *task->timing ? done : NULL, "overdue",
                      task->overdue, "changes", s_changes_json (task->changes, task->change_count));
}

//  resolutions and tasks: one row per task.
static int
s_print_tasks (const s_options_t *options, ld_ledger_t *ledger, bool by_resolution)
{
    const ld_resolution_t **list = NULL;
    size_t count = 0;
    if (ld_ledger_resolutions (ledger, options->at_ms, options->path, &list, &count) != LD_OK)
        return EX_OSERR;
    json_t *json = json_array ();
    static const char *const columns[] = {"resolution", "category", "status", "task",   "unit",
                                          "deadline",   "state",    "timing", "overdue"};
    ld_table_t *table = ld_table_new (by_resolution ? "resolutions" : "tasks", columns, 9);
    if (!json || !table) {
        free (list);
        json_decref (json);
        ld_table_destroy (&table);
        return EX_OSERR;
    }
    ld_table_align_right (table, 3);
    for (size_t r = 0; r < count; r++) {
        const ld_resolution_t *res = list[r];
        json_t *tasks = json_array ();
        char text[S_TEXT_COLS * 4 + 8];
        s_short (res->text, S_TEXT_COLS, text, sizeof text);
        for (size_t t = 0; t < res->task_count; t++) {
            const ld_task_t *task = &res->tasks[t];
            if ((options->overdue && !task->overdue) || !s_unit_matches (options->unit, task))
                continue;
            json_array_append_new (tasks, s_task_json (task));
            char index[16], deadline[64], state[48];
            snprintf (index, sizeof index, "%u", task->index);
            snprintf (deadline, sizeof deadline, "%s%s", task->deadline,
                      task->change_count ? " (amended)" : "");
            if (strcmp (task->state, "in-progress") == 0 && task->percent)
                snprintf (state, sizeof state, "%s %u%%", task->state, task->percent);
            else
                snprintf (state, sizeof state, "%s", task->state);
            const char *row[] = {text,
                                 res->category,
                                 res->status,
                                 index,
                                 s_name (task->unit_name, task->unit),
                                 deadline,
                                 state,
                                 *task->timing ? task->timing : "-",
                                 task->overdue ? "OVERDUE" : ""};
            ld_table_add_marked (table, row, task->overdue ? "red" : NULL);
        }
        if (json_array_size (tasks) == 0 && (options->overdue || options->unit)) {
            json_decref (tasks);
            continue;
        }
        char adopted[LD_LEDGER_TIME_TEXT_BYTES];
        ld_ledger_time_text (res->ms, adopted);
        json_array_append_new (
            json, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", res->id,
                             "meeting", res->meeting, "convener",
                             s_name (res->convener_name, res->convener), "path", res->path, "text",
                             res->text, "category", res->category, "status", res->status,
                             "adoptedAt", adopted, "tasks", tasks, "changes",
                             s_changes_json (res->changes, res->change_count)));
    }
    free (list);
    return s_emit (options, &table, &json);
}

//  Members checked in at one community with the same offers, as one row.
typedef struct {
    char community[LD_NAME_MAX + 1];
    char offers[256];
    size_t count, services;
    uint64_t minutes, served;
} s_group_t;

static void
s_group_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_member_group (zhashx_t *groups, const ld_checkin_t *c, uint64_t minutes, uint64_t served)
{
    char key[LD_NAME_MAX + 300];
    const char *community = s_name (c->community_name, c->community);
    snprintf (key, sizeof key, "%s|%s", community, c->offers);
    s_group_t *group = zhashx_lookup (groups, key);
    if (!group) {
        group = calloc (1, sizeof *group);
        if (!group)
            return;
        snprintf (group->community, sizeof group->community, "%s", community);
        snprintf (group->offers, sizeof group->offers, "%s", *c->offers ? c->offers : "-");
        zhashx_insert (groups, key, group);
    }
    group->count++;
    group->services += c->service_count;
    group->minutes += minutes;
    group->served += served;
}

static bool
s_community_matches (const char *filter, const ld_checkin_t *checkin)
{
    return !filter || strcmp (filter, checkin->community) == 0
           || strcmp (filter, checkin->community_name) == 0;
}

static int
s_print_register (const s_options_t *options, ld_ledger_t *ledger)
{
    const ld_checkin_t **list = NULL;
    size_t count = 0;
    if (ld_ledger_register (ledger, options->path, &list, &count) != LD_OK)
        return EX_OSERR;
    static const char *const columns[] = {"community", "who",         "offers",
                                          "status",    "services",    "hours",
                                          "served",    "assessments", "checked in"};
    ld_table_t *table = ld_table_new ("register", columns, 9);
    zhashx_t *groups = zhashx_new ();
    zhashx_set_destructor (groups, s_group_destroy);
    json_t *json = json_array ();
    for (size_t i = 0; table && json && i < count; i++) {
        const ld_checkin_t *c = list[i];
        if (!s_community_matches (options->community, c))
            continue;
        uint64_t minutes = 0, served = 0;
        json_t *services = json_array ();
        for (size_t s = 0; s < c->service_count; s++) {
            minutes += c->services[s].minutes;
            served += c->services[s].people_served;
            json_array_append_new (
                services,
                json_pack ("{s:s, s:s, s:i, s:i, s:s}", "date", c->services[s].date, "activity",
                           c->services[s].activity, "minutes", (int) c->services[s].minutes,
                           "peopleServed", (int) c->services[s].people_served, "team",
                           c->services[s].team));
        }
        json_t *assessments = json_array ();
        for (size_t a = 0; a < c->assessment_count; a++)
            json_array_append_new (
                assessments, json_pack ("{s:s, s:s, s:s}", "kind", c->assessments[a].kind, "grade",
                                        c->assessments[a].grade, "text", c->assessments[a].text));
        char when[LD_LEDGER_TIME_TEXT_BYTES], n_services[24], hours[32], n_served[24], n_assess[24];
        ld_ledger_time_text (c->ms, when);
        snprintf (n_services, sizeof n_services, "%zu", c->service_count);
        snprintf (hours, sizeof hours, "%.1f", (double) minutes / 60.0);
        snprintf (n_served, sizeof n_served, "%" PRIu64, served);
        snprintf (n_assess, sizeof n_assess, "%zu", c->assessment_count);
        //  Members are people: in the table, one line per community and role
        //  (--members lists each, sealed); units one line each.
        if (*c->unit || options->members) {
            const char *who = *c->unit ? s_name (c->unit_name, c->unit) : "党员 (sealed)";
            const char *row[] = {s_name (c->community_name, c->community),
                                 who,
                                 *c->offers ? c->offers : "-",
                                 c->status,
                                 n_services,
                                 hours,
                                 n_served,
                                 n_assess,
                                 when};
            ld_table_add (table, row);
        }
        else
            s_member_group (groups, c, minutes, served);
        json_array_append_new (
            json,
            json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", c->id,
                       "community", c->community, "communityName", c->community_name, "unit",
                       c->unit, "unitName", c->unit_name, "member", c->member, "offers", c->offers,
                       "status", c->status, "services", services, "assessments", assessments));
    }
    free (list);
    //  the member groups, after the units, in a stable order
    zlistx_t *keys = zhashx_keys (groups);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *) strcmp);
    zlistx_sort (keys);
    for (const char *key = zlistx_first (keys); table && key; key = zlistx_next (keys)) {
        s_group_t *group = zhashx_lookup (groups, key);
        char who[64], n_services[24], hours[32], n_served[24];
        snprintf (who, sizeof who, "党员 ×%zu (sealed)", group->count);
        snprintf (n_services, sizeof n_services, "%zu", group->services);
        snprintf (hours, sizeof hours, "%.1f", (double) group->minutes / 60.0);
        snprintf (n_served, sizeof n_served, "%" PRIu64, group->served);
        const char *row[] = {group->community, who,        group->offers,
                             "checked-in",     n_services, hours,
                             n_served,         "-",        "-"};
        ld_table_add (table, row);
    }
    zlistx_destroy (&keys);
    zhashx_destroy (&groups);
    for (size_t col = 4; table && col <= 7; col++)
        ld_table_align_right (table, col);
    return s_emit (options, &table, &json);
}

static int
s_print_agreements (const s_options_t *options, ld_ledger_t *ledger)
{
    const ld_agreement_t **list = NULL;
    size_t count = 0;
    if (ld_ledger_agreements (ledger, options->path, &list, &count) != LD_OK)
        return EX_OSERR;
    static const char *const columns[] = {"title", "community", "unit", "status", "until"};
    ld_table_t *table = ld_table_new ("agreements", columns, 5);
    json_t *json = json_array ();
    for (size_t i = 0; table && json && i < count; i++) {
        const ld_agreement_t *a = list[i];
        const char *row[] = {a->title, s_name (a->community_name, a->community),
                             s_name (a->unit_name, a->unit), a->status, a->until};
        ld_table_add (table, row);
        json_array_append_new (json,
                               json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", a->id, "title",
                                          a->title, "community", a->community_name, "unit",
                                          a->unit_name, "status", a->status, "until", a->until));
    }
    free (list);
    return s_emit (options, &table, &json);
}

static int
s_print_wishes (const s_options_t *options, ld_ledger_t *ledger)
{
    const ld_wish_t **list = NULL;
    size_t count = 0;
    if (ld_ledger_wishes (ledger, options->path, &list, &count) != LD_OK)
        return EX_OSERR;
    static const char *const columns[] = {"wish", "poster", "status", "claimant"};
    ld_table_t *table = ld_table_new ("wishes", columns, 4);
    json_t *json = json_array ();
    for (size_t i = 0; table && json && i < count; i++) {
        const ld_wish_t *w = list[i];
        char text[S_TEXT_COLS * 4 + 8];
        s_short (w->text, S_TEXT_COLS, text, sizeof text);
        const char *row[] = {text, s_name (w->poster_name, w->poster), w->status,
                             *w->claimant ? s_name (w->claimant_name, w->claimant) : "-"};
        ld_table_add (table, row);
        json_array_append_new (json, json_pack ("{s:s, s:s, s:s, s:s, s:s}", "id", w->id, "text",
                                                w->text, "poster", w->poster_name, "status",
                                                w->status, "claimant", w->claimant_name));
    }
    free (list);
    return s_emit (options, &table, &json);
}

static int
s_print_incidents (const s_options_t *options, ld_ledger_t *ledger)
{
    const ld_incident_t **list = NULL;
    size_t count = 0;
    if (ld_ledger_incidents (ledger, options->path, &list, &count) != LD_OK)
        return EX_OSERR;
    static const char *const columns[] = {"incident", "reporter", "status", "tier", "assignee"};
    ld_table_t *table = ld_table_new ("incidents", columns, 5);
    json_t *json = json_array ();
    for (size_t i = 0; table && json && i < count; i++) {
        const ld_incident_t *n = list[i];
        char text[S_TEXT_COLS * 4 + 8], tier[16];
        s_short (n->text, S_TEXT_COLS, text, sizeof text);
        snprintf (tier, sizeof tier, "%u", n->tier);
        const char *row[] = {text, s_name (n->reporter_name, n->reporter), n->status,
                             n->tier ? tier : "-",
                             *n->assignee ? s_name (n->assignee_name, n->assignee) : "-"};
        ld_table_add (table, row);
        json_array_append_new (json, json_pack ("{s:s, s:s, s:s, s:s, s:i, s:s}", "id", n->id,
                                                "text", n->text, "reporter", n->reporter_name,
                                                "status", n->status, "tier", (int) n->tier,
                                                "assignee", n->assignee_name));
    }
    free (list);
    return s_emit (options, &table, &json);
}

static int
s_print_refusals (const s_options_t *options, ld_ledger_t *ledger)
{
    const ld_refusal_t **list = NULL;
    size_t count = 0;
    if (ld_ledger_refusals (ledger, options->path, &list, &count) != LD_OK)
        return EX_OSERR;
    static const char *const columns[] = {"type", "author", "seq", "rule", "reason"};
    ld_table_t *table = ld_table_new ("refusals", columns, 5);
    json_t *json = json_array ();
    for (size_t i = 0; table && json && i < count; i++) {
        const ld_refusal_t *f = list[i];
        char seq[24];
        snprintf (seq, sizeof seq, "%" PRIu64, f->seq);
        const char *row[] = {f->type, s_name (f->author_name, f->author), seq, f->rule, f->reason};
        ld_table_add (table, row);
        json_array_append_new (json,
                               json_pack ("{s:s, s:s, s:s, s:I, s:s, s:s}", "id", f->id, "type",
                                          f->type, "author", f->author, "seq", (json_int_t) f->seq,
                                          "rule", f->rule, "reason", f->reason));
    }
    free (list);
    return s_emit (options, &table, &json);
}

static int
s_print_stats (const s_options_t *options, ld_ledger_t *ledger)
{
    ld_ledger_stats_t stats;
    if (ld_ledger_stats_under (ledger, options->at_ms, options->path, &stats) != LD_OK)
        return EX_OSERR;
    struct {
        const char *key;
        const char *label;
        uint64_t value;
    } rows[] = {
        {"pairedUnits", "paired units (结对共建单位)", stats.paired_units},
        {"volunteerTeams", "volunteer teams (党员志愿服务队)", stats.volunteer_teams},
        {"peopleServed", "people served (服务群众)", stats.people_served},
        {"mattersDone", "practical matters done (办实事)", stats.matters_done},
        {"problemsSolved", "problems solved (解决突出问题)", stats.problems_solved},
        {"opinionsCollected", "opinions collected (收集民情民意)", stats.opinions_collected},
        {"opinionsResolved", "opinions resolved (解决烦心事)", stats.opinions_resolved},
        {"grids", "grid party groups (网格党小组)", stats.grids},
        {"gridWorkers", "grid workers (网格员)", stats.grid_workers},
        {"buildingCaptains", "party building captains (党员楼栋长)", stats.building_captains},
        {"members", "party members checked in (在职党员报到)", stats.members},
        {"compounds", "compounds (小区)", stats.compounds},
        {"communities", "communities (社区)", stats.communities},
        {"units", "certified units (单位)", stats.units},
        {"tasks", "tasks (议定事项任务)", stats.tasks},
        {"tasksOverdue", "tasks overdue (逾期)", stats.tasks_overdue},
        {"tasksLate", "tasks completed late (逾期办结)", stats.tasks_late},
        {"refused", "events refused (拒收)", stats.refused},
        {"pending", "events waiting (待定)", stats.pending},
    };
    size_t count = sizeof rows / sizeof rows[0];
    if (options->json) {
        json_t *json = json_object ();
        for (size_t i = 0; i < count; i++)
            json_object_set_new (json, rows[i].key, json_integer ((json_int_t) rows[i].value));
        json_dumpf (json, stdout, JSON_COMPACT | JSON_SORT_KEYS);
        fputc ('\n', stdout);
        json_decref (json);
        return EX_OK;
    }
    static const char *const columns[] = {"figure", "value"};
    ld_table_t *table = ld_table_new ("stats", columns, 2);
    if (!table)
        return EX_OSERR;
    ld_table_align_right (table, 1);
    for (size_t i = 0; i < count; i++) {
        char value[24];
        snprintf (value, sizeof value, "%" PRIu64, rows[i].value);
        const char *row[] = {rows[i].label, value};
        ld_table_add (table, row);
    }
    ld_table_print (table, stdout, false);
    ld_table_destroy (&table);
    return EX_OK;
}

//  --------------------------------------------------------------------------
//  Options

static int
s_parse (int argc, char **argv, s_options_t *options, bool stats)
{
    static const struct option table[] = {
        {"broker", required_argument, NULL, 'b'},
        {"control", required_argument, NULL, 'n'},
        {"broker-key", required_argument, NULL, 'k'},
        {"identity", required_argument, NULL, 'i'},
        {"trust", required_argument, NULL, 't'},
        {"path", required_argument, NULL, 'p'},
        {"unit", required_argument, NULL, 'u'},
        {"community", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, 'a'},
        {"overdue", no_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"color", required_argument, NULL, 'C'},
        {"members", no_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    options->at_ms = zclock_time ();
    int opt;
    while ((opt = getopt_long (argc, argv, "b:n:k:i:t:p:u:c:a:ojC:mh", table, NULL)) != -1) {
        switch (opt) {
            case 'b':
                options->broker = optarg;
                break;
            case 'n':
                options->control = optarg;
                break;
            case 'k':
                options->broker_key = optarg;
                break;
            case 'i':
                options->identity = optarg;
                break;
            case 't':
                if (options->root_count == S_ROOTS_MAX) {
                    ld_cli_error ("at most %d --trust roots", S_ROOTS_MAX);
                    return EX_USAGE;
                }
                options->roots[options->root_count++] = optarg;
                break;
            case 'p':
                options->path = optarg;
                break;
            case 'u':
                options->unit = optarg;
                break;
            case 'c':
                options->community = optarg;
                break;
            case 'a':
                if (ld_ledger_parse_time (optarg, &options->at_ms) != LD_OK) {
                    ld_cli_error ("--at '%s' is neither RFC 3339 nor YYYY-MM-DD", optarg);
                    return EX_USAGE;
                }
                break;
            case 'o':
                options->overdue = true;
                break;
            case 'j':
                options->json = true;
                break;
            case 'm':
                options->members = true;
                break;
            case 'C':
                if (strcmp (optarg, "always") != 0 && strcmp (optarg, "never") != 0
                    && strcmp (optarg, "auto") != 0) {
                    ld_cli_error ("--color is auto, always or never");
                    return EX_USAGE;
                }
                ld_table_set_colors (strcmp (optarg, "always") == 0  ? 1
                                     : strcmp (optarg, "never") == 0 ? 0
                                                                     : -1);
                break;
            case 'h':
                s_usage (stdout, stats);
                return -1;
            default:
                s_usage (stderr, stats);
                return EX_USAGE;
        }
    }
    if (optind != argc) {
        s_usage (stderr, stats);
        return EX_USAGE;
    }
    if (!options->broker == !options->control) {
        ld_cli_error ("give --control ipc://NODE (your node reads for you) or --broker EP (a "
                      "supervisor without a node)");
        return EX_USAGE;
    }
    if (options->root_count == 0) {
        ld_cli_error ("--trust ROOT.pub is required: the ledger judges authority itself");
        return EX_USAGE;
    }
    return EX_OK;
}

static int
s_run (const s_options_t *options)
{
    ld_ledger_t *ledger = ld_ledger_new ();
    if (!ledger)
        return EX_OSERR;
    int rc = s_load (options, ledger);
    if (rc == EX_OK) {
        const char *q = options->query;
        if (strcmp (q, "stats") == 0)
            rc = s_print_stats (options, ledger);
        else if (strcmp (q, "resolutions") == 0)
            rc = s_print_tasks (options, ledger, true);
        else if (strcmp (q, "tasks") == 0)
            rc = s_print_tasks (options, ledger, false);
        else if (strcmp (q, "register") == 0)
            rc = s_print_register (options, ledger);
        else if (strcmp (q, "agreements") == 0)
            rc = s_print_agreements (options, ledger);
        else if (strcmp (q, "wishes") == 0)
            rc = s_print_wishes (options, ledger);
        else if (strcmp (q, "incidents") == 0)
            rc = s_print_incidents (options, ledger);
        else
            rc = s_print_refusals (options, ledger);
    }
    ld_ledger_destroy (&ledger);
    return rc;
}

int
ld_cmd_ledger (int argc, char **argv)
{
    if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
        s_usage (argc < 2 ? stderr : stdout, false);
        return argc < 2 ? EX_USAGE : EX_OK;
    }
    s_options_t options = {.query = argv[1]};
    bool known = false;
    for (size_t i = 0; i < S_QUERY_COUNT; i++)
        known = known || strcmp (argv[1], s_queries[i].name) == 0;
    if (!known) {
        ld_cli_error ("unknown ledger query '%s'; see 'liandong ledger --help'", argv[1]);
        return EX_USAGE;
    }
    int rc = s_parse (argc - 1, argv + 1, &options, false);
    return rc == -1 ? EX_OK : rc != EX_OK ? rc : s_run (&options);
}

int
ld_cmd_stats (int argc, char **argv)
{
    s_options_t options = {.query = "stats"};
    int rc = s_parse (argc, argv, &options, true);
    return rc == -1 ? EX_OK : rc != EX_OK ? rc : s_run (&options);
}
