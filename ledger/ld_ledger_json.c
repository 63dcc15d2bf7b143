/*  ld_ledger_json.c -- the whole ledger as canonical JSON (ld_ledger_json).

    Built only from the public queries of ld_ledger.h, so that the JSON
    shows exactly what a CLI table shows. Canonical: object keys sorted
    (JSON_SORT_KEYS), arrays in the ledger's canonical order, times as
    RFC 3339 UTC text or "unconfirmed", no whitespace. Two ledgers holding
    the same events print the same bytes (test_ledger checks it).
*/
#include <jansson.h>
#include <stdlib.h>

#include "ld_ledger.h"

//  Adds value under name, taking the reference; false if anything failed.
static bool
s_set (json_t *object, const char *name, json_t *value)
{
    return value && json_object_set_new (object, name, value) == 0;
}

static json_t *
s_time (int64_t ms)
{
    char text[LD_LEDGER_TIME_TEXT_BYTES];
    ld_ledger_time_text (ms, text);
    return json_string (text);
}

static json_t *
s_changes (const ld_ledger_change_t *changes, size_t count)
{
    json_t *array = json_array ();
    for (size_t i = 0; array && i < count; i++) {
        json_t *item = json_object ();
        bool ok = item && s_set (item, "field", json_string (changes[i].field))
                  && s_set (item, "old", json_string (changes[i].old_value))
                  && s_set (item, "new", json_string (changes[i].new_value))
                  && s_set (item, "at", s_time (changes[i].ms))
                  && s_set (item, "by", json_string (changes[i].by));
        if (!ok || json_array_append_new (array, item) != 0) {
            json_decref (array);
            return NULL;
        }
    }
    return array;
}

static json_t *
s_task (const ld_task_t *task)
{
    json_t *item = json_object ();
    bool ok = item && s_set (item, "index", json_integer (task->index))
              && s_set (item, "unit", json_string (task->unit))
              && s_set (item, "unitName", json_string (task->unit_name))
              && s_set (item, "deadline", json_string (task->deadline))
              && s_set (item, "deliverable", json_string (task->deliverable))
              && s_set (item, "state", json_string (task->state))
              && s_set (item, "percent", json_integer (task->percent))
              && s_set (item, "urges", json_integer (task->urges))
              && s_set (item, "overdue", json_boolean (task->overdue))
              && s_set (item, "timing", json_string (task->timing))
              && s_set (item, "completedAt", s_time (task->completed_ms))
              && s_set (item, "changes", s_changes (task->changes, task->change_count));
    if (!ok) {
        json_decref (item);
        return NULL;
    }
    return item;
}

static json_t *
s_resolution (const ld_resolution_t *r)
{
    json_t *item = json_object ();
    json_t *tasks = json_array ();
    bool ok = item && tasks;
    for (size_t t = 0; ok && t < r->task_count; t++)
        ok = json_array_append_new (tasks, s_task (&r->tasks[t])) == 0;
    ok = ok && s_set (item, "tasks", tasks);
    if (!ok)
        json_decref (tasks);
    ok = ok && s_set (item, "id", json_string (r->id))
         && s_set (item, "meeting", json_string (r->meeting))
         && s_set (item, "convener", json_string (r->convener))
         && s_set (item, "convenerName", json_string (r->convener_name))
         && s_set (item, "path", json_string (r->path))
         && s_set (item, "text", json_string (r->text))
         && s_set (item, "category", json_string (r->category))
         && s_set (item, "status", json_string (r->status))
         && s_set (item, "adoptedAt", s_time (r->ms))
         && s_set (item, "changes", s_changes (r->changes, r->change_count));
    if (!ok) {
        json_decref (item);
        return NULL;
    }
    return item;
}

static json_t *
s_meeting (const ld_meeting_t *m)
{
    json_t *item = json_object ();
    bool ok = item && s_set (item, "id", json_string (m->id))
              && s_set (item, "convener", json_string (m->convener))
              && s_set (item, "convenerName", json_string (m->convener_name))
              && s_set (item, "path", json_string (m->path))
              && s_set (item, "body", json_string (m->body))
              && s_set (item, "date", json_string (m->date))
              && s_set (item, "status", json_string (m->status))
              && s_set (item, "at", s_time (m->ms));
    if (!ok) {
        json_decref (item);
        return NULL;
    }
    return item;
}

static json_t *
s_checkin (const ld_checkin_t *c)
{
    json_t *item = json_object ();
    json_t *services = json_array (), *cards = json_array ();
    bool ok = item && services && cards;
    for (size_t i = 0; ok && i < c->service_count; i++) {
        const ld_service_t *s = &c->services[i];
        json_t *entry = json_object ();
        ok = entry && s_set (entry, "id", json_string (s->id))
             && s_set (entry, "date", json_string (s->date))
             && s_set (entry, "activity", json_string (s->activity))
             && s_set (entry, "minutes", json_integer (s->minutes))
             && s_set (entry, "peopleServed", json_integer (s->people_served))
             && s_set (entry, "volunteers", json_integer (s->volunteers))
             && s_set (entry, "team", json_string (s->team)) && s_set (entry, "at", s_time (s->ms));
        ok = ok && json_array_append_new (services, entry) == 0;
    }
    for (size_t i = 0; ok && i < c->assessment_count; i++) {
        const ld_assessment_t *a = &c->assessments[i];
        json_t *entry = json_object ();
        ok = entry && s_set (entry, "id", json_string (a->id))
             && s_set (entry, "kind", json_string (a->kind))
             && s_set (entry, "year", json_integer (a->year))
             && s_set (entry, "grade", json_string (a->grade))
             && s_set (entry, "rating", json_integer (a->rating))
             && s_set (entry, "text", json_string (a->text)) && s_set (entry, "at", s_time (a->ms));
        ok = ok && json_array_append_new (cards, entry) == 0;
    }
    if (ok) {
        ok = s_set (item, "services", services);
        services = NULL;
        ok = ok && s_set (item, "assessments", cards);
        cards = NULL;
    }
    json_decref (services);
    json_decref (cards);
    ok = ok && s_set (item, "id", json_string (c->id))
         && s_set (item, "community", json_string (c->community))
         && s_set (item, "communityName", json_string (c->community_name))
         && s_set (item, "unit", json_string (c->unit))
         && s_set (item, "unitName", json_string (c->unit_name))
         && s_set (item, "member", json_string (c->member))
         && s_set (item, "offers", json_string (c->offers))
         && s_set (item, "author", json_string (c->author))
         && s_set (item, "year", json_integer (c->year))
         && s_set (item, "status", json_string (c->status)) && s_set (item, "at", s_time (c->ms));
    if (!ok) {
        json_decref (item);
        return NULL;
    }
    return item;
}

static json_t *
s_agreement (const ld_agreement_t *a)
{
    json_t *item = json_object ();
    bool ok = item && s_set (item, "id", json_string (a->id))
              && s_set (item, "community", json_string (a->community))
              && s_set (item, "communityName", json_string (a->community_name))
              && s_set (item, "path", json_string (a->path))
              && s_set (item, "unit", json_string (a->unit))
              && s_set (item, "unitName", json_string (a->unit_name))
              && s_set (item, "title", json_string (a->title))
              && s_set (item, "until", json_string (a->until))
              && s_set (item, "status", json_string (a->status))
              && s_set (item, "proposedAt", s_time (a->ms))
              && s_set (item, "signedAt", s_time (a->signed_ms))
              && s_set (item, "changes", s_changes (a->changes, a->change_count));
    if (!ok) {
        json_decref (item);
        return NULL;
    }
    return item;
}

static json_t *
s_wish (const ld_wish_t *w)
{
    json_t *item = json_object ();
    bool ok = item && s_set (item, "id", json_string (w->id))
              && s_set (item, "poster", json_string (w->poster))
              && s_set (item, "posterName", json_string (w->poster_name))
              && s_set (item, "path", json_string (w->path))
              && s_set (item, "text", json_string (w->text))
              && s_set (item, "category", json_string (w->category))
              && s_set (item, "people", json_integer (w->people))
              && s_set (item, "status", json_string (w->status))
              && s_set (item, "claimant", json_string (w->claimant))
              && s_set (item, "claimantName", json_string (w->claimant_name))
              && s_set (item, "postedAt", s_time (w->ms))
              && s_set (item, "fulfilledAt", s_time (w->fulfilled_ms))
              && s_set (item, "changes", s_changes (w->changes, w->change_count));
    if (!ok) {
        json_decref (item);
        return NULL;
    }
    return item;
}

static json_t *
s_incident (const ld_incident_t *n)
{
    json_t *item = json_object ();
    bool ok = item && s_set (item, "id", json_string (n->id))
              && s_set (item, "reporter", json_string (n->reporter))
              && s_set (item, "reporterName", json_string (n->reporter_name))
              && s_set (item, "path", json_string (n->path))
              && s_set (item, "text", json_string (n->text))
              && s_set (item, "category", json_string (n->category))
              && s_set (item, "place", json_string (n->place))
              && s_set (item, "status", json_string (n->status))
              && s_set (item, "tier", json_integer (n->tier))
              && s_set (item, "assignee", json_string (n->assignee))
              && s_set (item, "assigneeName", json_string (n->assignee_name))
              && s_set (item, "reportedAt", s_time (n->ms))
              && s_set (item, "resolvedAt", s_time (n->resolved_ms))
              && s_set (item, "changes", s_changes (n->changes, n->change_count));
    if (!ok) {
        json_decref (item);
        return NULL;
    }
    return item;
}

static json_t *
s_refusal (const ld_refusal_t *r)
{
    json_t *item = json_object ();
    bool ok = item && s_set (item, "id", json_string (r->id))
              && s_set (item, "type", json_string (r->type))
              && s_set (item, "author", json_string (r->author))
              && s_set (item, "authorName", json_string (r->author_name))
              && s_set (item, "seq", json_integer ((json_int_t) r->seq))
              && s_set (item, "rule", json_string (r->rule))
              && s_set (item, "reason", json_string (r->reason))
              && s_set (item, "at", s_time (r->ms));
    if (!ok) {
        json_decref (item);
        return NULL;
    }
    return item;
}

static json_t *
s_stats (const ld_ledger_stats_t *s)
{
    json_t *item = json_object ();
    bool ok =
        item && s_set (item, "pairedUnits", json_integer ((json_int_t) s->paired_units))
        && s_set (item, "volunteerTeams", json_integer ((json_int_t) s->volunteer_teams))
        && s_set (item, "peopleServed", json_integer ((json_int_t) s->people_served))
        && s_set (item, "mattersDone", json_integer ((json_int_t) s->matters_done))
        && s_set (item, "problemsSolved", json_integer ((json_int_t) s->problems_solved))
        && s_set (item, "opinionsCollected", json_integer ((json_int_t) s->opinions_collected))
        && s_set (item, "opinionsResolved", json_integer ((json_int_t) s->opinions_resolved))
        && s_set (item, "tasks", json_integer ((json_int_t) s->tasks))
        && s_set (item, "tasksOverdue", json_integer ((json_int_t) s->tasks_overdue))
        && s_set (item, "tasksLate", json_integer ((json_int_t) s->tasks_late))
        && s_set (item, "grids", json_integer ((json_int_t) s->grids))
        && s_set (item, "members", json_integer ((json_int_t) s->members))
        && s_set (item, "gridWorkers", json_integer ((json_int_t) s->grid_workers))
        && s_set (item, "buildingCaptains", json_integer ((json_int_t) s->building_captains))
        && s_set (item, "compounds", json_integer ((json_int_t) s->compounds))
        && s_set (item, "communities", json_integer ((json_int_t) s->communities))
        && s_set (item, "units", json_integer ((json_int_t) s->units))
        && s_set (item, "refused", json_integer ((json_int_t) s->refused))
        && s_set (item, "pending", json_integer ((json_int_t) s->pending));
    if (!ok) {
        json_decref (item);
        return NULL;
    }
    return item;
}

//  One array of records from a query's pointer list (freed here).
#define S_ARRAY(root, name, list, count, convert)                                                  \
    do {                                                                                           \
        json_t *array_ = json_array ();                                                            \
        for (size_t i_ = 0; ok && array_ && i_ < (count); i_++)                                    \
            ok = json_array_append_new (array_, convert ((list)[i_])) == 0;                        \
        free ((void *) (list));                                                                    \
        ok = ok && s_set (root, name, array_);                                                     \
        if (!ok)                                                                                   \
            json_decref (array_);                                                                  \
    } while (0)

char *
ld_ledger_json (ld_ledger_t *self, int64_t at_ms)
{
    json_t *root = json_object ();
    if (!root)
        return NULL;
    bool ok = true;
    const ld_meeting_t **meetings;
    const ld_resolution_t **resolutions;
    const ld_checkin_t **checkins;
    const ld_agreement_t **agreements;
    const ld_wish_t **wishes;
    const ld_incident_t **incidents;
    const ld_refusal_t **refusals, **pending;
    ld_ledger_stats_t stats;
    size_t count;
    //  Each query lends records until the next call: convert at once.
    ok = ok && ld_ledger_meetings (self, NULL, &meetings, &count) == LD_OK;
    if (ok)
        S_ARRAY (root, "meetings", meetings, count, s_meeting);
    ok = ok && ld_ledger_resolutions (self, at_ms, NULL, &resolutions, &count) == LD_OK;
    if (ok)
        S_ARRAY (root, "resolutions", resolutions, count, s_resolution);
    ok = ok && ld_ledger_register (self, NULL, &checkins, &count) == LD_OK;
    if (ok)
        S_ARRAY (root, "register", checkins, count, s_checkin);
    ok = ok && ld_ledger_agreements (self, NULL, &agreements, &count) == LD_OK;
    if (ok)
        S_ARRAY (root, "agreements", agreements, count, s_agreement);
    ok = ok && ld_ledger_wishes (self, NULL, &wishes, &count) == LD_OK;
    if (ok)
        S_ARRAY (root, "wishes", wishes, count, s_wish);
    ok = ok && ld_ledger_incidents (self, NULL, &incidents, &count) == LD_OK;
    if (ok)
        S_ARRAY (root, "incidents", incidents, count, s_incident);
    ok = ok && ld_ledger_refusals (self, NULL, &refusals, &count) == LD_OK;
    if (ok)
        S_ARRAY (root, "refused", refusals, count, s_refusal);
    ok = ok && ld_ledger_pending (self, NULL, &pending, &count) == LD_OK;
    if (ok)
        S_ARRAY (root, "pending", pending, count, s_refusal);
    ok = ok && ld_ledger_stats (self, at_ms, &stats) == LD_OK
         && s_set (root, "stats", s_stats (&stats)) && s_set (root, "at", s_time (at_ms));
    char *text = ok ? json_dumps (root, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref (root);
    return text;
}
