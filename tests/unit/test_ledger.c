/*  test_ledger.c -- the ledger fold (ledger/ld_ledger.h).

    A small district signed for real, as in test_trust: the root certifies
    the streets 龙广路街道 and 观溪路街道, a supervisor and a broker; 观溪路
    certifies 金江苑社区; 龙广路 certifies the units of its big committee,
    振华集团, 万江厂, 物勘院 and 测绘院. Every event is signed in its
    author's feed; the broker's receipts give ledger times, and author
    clocks are set to say something else wherever it matters.
*/
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ld_event.h"
#include "ld_identity.h"
#include "ld_ledger.h"
#include "ld_payload.h"
#include "ld_pbjson.h"

#define S_T0         INT64_C (1740787200000) //  2025-03-01T00:00:00Z
#define S_HOUR       INT64_C (3600000)
#define S_DAY        (24 * S_HOUR)
#define S_DEADLINE   "2025-03-10"        //  ends 2025-03-10T16:00:00Z
#define S_BEFORE     (S_T0 + 5 * S_DAY)  //  2025-03-06
#define S_AFTER      (S_T0 + 12 * S_DAY) //  2025-03-13
#define S_EVENTS_MAX 512
#define S_ERR_MAX    512
#define S_SHUFFLES   1000

typedef enum {
    S_ROOT,
    S_LONGGUANGLU,
    S_GUANXILU,
    S_JINJIANGYUAN,
    S_ZHENHUA,
    S_WANJIANG,
    S_WUKAN,
    S_CEHUI,
    S_SUPERVISOR,
    S_BROKER,
    S_FEEDS
} s_who_t;

typedef struct {
    s_who_t certifier;
    const char *level;
    const char *path;
    const char *name;
} s_org_t;

static const s_org_t s_orgs[] = {
    [S_ROOT] = {S_ROOT, "district", "wudang/", "乌当区"},
    [S_LONGGUANGLU] = {S_ROOT, "street", "wudang/longguanglu/", "龙广路街道"},
    [S_GUANXILU] = {S_ROOT, "street", "wudang/guanxilu/", "观溪路街道"},
    [S_JINJIANGYUAN] = {S_GUANXILU, "community", "wudang/guanxilu/jinjiangyuan/", "金江苑社区"},
    [S_ZHENHUA] = {S_LONGGUANGLU, "unit", "wudang/longguanglu/zhenhua/", "振华集团"},
    [S_WANJIANG] = {S_LONGGUANGLU, "unit", "wudang/longguanglu/wanjiang/", "万江厂"},
    [S_WUKAN] = {S_LONGGUANGLU, "unit", "wudang/longguanglu/wukan/", "物勘院"},
    [S_CEHUI] = {S_LONGGUANGLU, "unit", "wudang/longguanglu/cehui/", "测绘院"},
    [S_SUPERVISOR] = {S_ROOT, "supervisor", "wudang/", "乌当区督办"},
    [S_BROKER] = {S_ROOT, "broker", "wudang/", "乌当区代理"},
};

typedef struct {
    ld_identity_t *identity;
    uint64_t seq;
    uint8_t prev[LD_ID_BYTES];
} s_feed_t;

typedef struct {
    ld_ledger_t *ledger;
    s_feed_t feeds[S_FEEDS];
    ld_event_t *events[S_EVENTS_MAX]; //  every event signed, in signing order
    s_who_t authors[S_EVENTS_MAX];
    size_t event_count;
} s_fixture_t;

static int
s_setup (void **state)
{
    if (ld_crypto_init () != 0)
        return -1;
    s_fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    for (int who = 0; who < S_FEEDS; who++) {
        uint8_t seed[LD_SEED_BYTES];
        memset (seed, 0x60 + who, sizeof seed);
        self->feeds[who].identity = ld_identity_new_from_seed (seed);
        if (!self->feeds[who].identity)
            return -1;
    }
    self->ledger = ld_ledger_new ();
    if (!self->ledger)
        return -1;
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = *state;
    for (size_t i = 0; i < self->event_count; i++)
        ld_event_destroy (&self->events[i]);
    for (int who = 0; who < S_FEEDS; who++)
        ld_identity_destroy (&self->feeds[who].identity);
    ld_ledger_destroy (&self->ledger);
    free (self);
    return 0;
}

//  ---- signing ----

static const uint8_t *
s_key (s_fixture_t *self, s_who_t who)
{
    return ld_identity_public_key (self->feeds[who].identity);
}

//  Base64 of 32 bytes (a key or an id), as the JSON mapping writes bytes.
static json_t *
s_b64 (const uint8_t *bytes)
{
    char *text = ld_base64_encode (bytes, 32);
    assert_non_null (text);
    json_t *json = json_string (text);
    free (text);
    return json;
}

//  Signs the next event of who's feed with the author's clock at time_ms;
//  the fixture owns it and the payload bytes are taken.
static const ld_event_t *
s_sign_raw (s_fixture_t *self, s_who_t who, int64_t time_ms, const char *topic, const char *type,
            uint8_t *payload, size_t size)
{
    assert_true (self->event_count < S_EVENTS_MAX);
    s_feed_t *feed = &self->feeds[who];
    ld_event_t *event = NULL;
    char err[S_ERR_MAX] = "";
    ld_status_t rc = ld_event_sign (feed->identity, feed->seq + 1, feed->seq ? feed->prev : NULL,
                                    time_ms, topic, type, payload, size, &event, err, sizeof err);
    free (payload);
    if (rc != LD_OK)
        fail_msg ("cannot sign %s: %s", type, err);
    feed->seq++;
    memcpy (feed->prev, ld_event_id (event), LD_ID_BYTES);
    self->authors[self->event_count] = who;
    self->events[self->event_count++] = event;
    return event;
}

//  Signs a ledger event whose payload is given as JSON (the canonical
//  mapping; taken), on "<kind>/<who's path>".
static const ld_event_t *
s_sign (s_fixture_t *self, s_who_t who, int64_t time_ms, const char *kind, const char *type,
        json_t *json)
{
    assert_non_null (json);
    char err[S_ERR_MAX] = "";
    ProtobufCMessage *message = NULL;
    if (ld_pbjson_to_message (ld_payload_descriptor (type), json, &message, err, sizeof err)
        != LD_OK)
        fail_msg ("payload of %s: %s", type, err);
    json_decref (json);
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_pack (message, &payload, &size), LD_OK);
    ld_pbjson_message_free (message);
    char topic[LD_TOPIC_MAX + 1];
    snprintf (topic, sizeof topic, "%s/%s", kind, s_orgs[who].path);
    return s_sign_raw (self, who, time_ms, topic, type, payload, size);
}

//  Adds an event to the ledger.
static void
s_add (s_fixture_t *self, const ld_event_t *event)
{
    assert_int_equal (ld_ledger_add (self->ledger, event), LD_OK);
}

//  The broker's receipt: event was first stored at stored_ms.
static const ld_event_t *
s_receipt (s_fixture_t *self, const ld_event_t *event, int64_t stored_ms)
{
    ld_receipt_range_t range = {ld_event_author (event), ld_event_seq (event),
                                ld_event_seq (event)};
    uint8_t digest[LD_ID_BYTES] = {0};
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_receipt (stored_ms, 1, 1, &range, 1, digest, &payload, &size),
                      LD_OK);
    return s_sign_raw (self, S_BROKER, stored_ms, "receipt/wudang/", "receipt", payload, size);
}

//  Signs, adds, and stamps with a receipt at stored_ms (0: no receipt).
static const ld_event_t *
s_post (s_fixture_t *self, s_who_t who, int64_t stored_ms, const char *kind, const char *type,
        json_t *json)
{
    const ld_event_t *event = s_sign (self, who, stored_ms ? stored_ms : S_T0, kind, type, json);
    s_add (self, event);
    if (stored_ms)
        s_add (self, s_receipt (self, event, stored_ms));
    return event;
}

//  The root and every certificate of the district, added to the ledger.
static void
s_wudang (s_fixture_t *self)
{
    assert_int_equal (ld_ledger_add_root (self->ledger, s_key (self, S_ROOT), "wudang/", "乌当区"),
                      LD_OK);
    for (int who = S_LONGGUANGLU; who < S_FEEDS; who++) {
        const s_org_t *org = &s_orgs[who];
        uint8_t *payload = NULL;
        size_t size = 0;
        assert_int_equal (ld_payload_certify (s_key (self, (s_who_t) who), org->level, org->path,
                                              org->name, &payload, &size),
                          LD_OK);
        char topic[LD_TOPIC_MAX + 1];
        snprintf (topic, sizeof topic, "trust/%s", s_orgs[org->certifier].path);
        s_add (self,
               s_sign_raw (self, org->certifier, S_T0, topic, LD_TYPE_CERTIFY, payload, size));
    }
}

//  ---- the events of the scenario ----

static const ld_event_t *
s_meeting (s_fixture_t *self, int64_t stored_ms)
{
    return s_post (self, S_LONGGUANGLU, stored_ms, "meeting", "meeting.convene",
                   json_pack ("{s:s, s:s, s:[s]}", "body", "龙广路街道大工委联席会议", "date",
                              "2025-03-01", "agenda", "占道经营"));
}

//  A resolution of the meeting: task 0 for 振华集团, task 1 for 万江厂.
static const ld_event_t *
s_adopt (s_fixture_t *self, s_who_t who, const ld_event_t *meeting, int64_t stored_ms)
{
    json_t *tasks = json_pack (
        "[{s:o, s:s, s:s}, {s:o, s:s, s:s}]", "unit", s_b64 (s_key (self, S_ZHENHUA)), "deadline",
        S_DEADLINE, "deliverable", "清理占道摊点", "unit", s_b64 (s_key (self, S_WANJIANG)),
        "deadline", S_DEADLINE, "deliverable", "规范停车");
    return s_post (self, who, stored_ms, "resolution", "resolution.adopt",
                   json_pack ("{s:o, s:s, s:s, s:o}", "meeting", s_b64 (ld_event_id (meeting)),
                              "text", "整治占道经营和停车", "category", "lane-occupation", "tasks",
                              tasks));
}

static const ld_event_t *
s_task (s_fixture_t *self, s_who_t who, const char *type, const ld_event_t *resolution,
        unsigned index, int64_t stored_ms)
{
    return s_post (self, who, stored_ms, "resolution", type,
                   json_pack ("{s:{s:o, s:i}, s:i}", "task", "resolution",
                              s_b64 (ld_event_id (resolution)), "index", (int) index, "percent",
                              50));
}

//  A reference to event as JSON field name.
static json_t *
s_ref (const char *name, const ld_event_t *event)
{
    return json_pack ("{s:o}", name, s_b64 (ld_event_id (event)));
}

//  ---- reading the ledger ----

static const ld_resolution_t *
s_resolution (s_fixture_t *self, int64_t at_ms)
{
    const ld_resolution_t **list = NULL;
    size_t count = 0;
    assert_int_equal (ld_ledger_resolutions (self->ledger, at_ms, NULL, &list, &count), LD_OK);
    assert_int_equal (count, 1);
    const ld_resolution_t *resolution = list[0];
    free (list);
    return resolution;
}

//  The refusal of event, or NULL.
static const ld_refusal_t *
s_refusal (s_fixture_t *self, const ld_event_t *event)
{
    const ld_refusal_t **list = NULL;
    size_t count = 0;
    assert_int_equal (ld_ledger_refusals (self->ledger, NULL, &list, &count), LD_OK);
    char id[LD_ID_TEXT_BYTES];
    ld_id_to_text (ld_event_id (event), id);
    const ld_refusal_t *found = NULL;
    for (size_t i = 0; i < count; i++)
        if (strcmp (list[i]->id, id) == 0)
            found = list[i];
    free (list);
    return found;
}

static void
s_expect_refused (s_fixture_t *self, const ld_event_t *event, const char *rule)
{
    const ld_refusal_t *refusal = s_refusal (self, event);
    if (!refusal)
        fail_msg ("%s was not refused", ld_event_type (event));
    if (strcmp (refusal->rule, rule) != 0)
        fail_msg ("%s refused by %s (%s), not %s", ld_event_type (event), refusal->rule,
                  refusal->reason, rule);
}

static size_t
s_pending_count (s_fixture_t *self)
{
    const ld_refusal_t **list = NULL;
    size_t count = 0;
    assert_int_equal (ld_ledger_pending (self->ledger, NULL, &list, &count), LD_OK);
    free (list);
    return count;
}

//  ---- time ----

static void
test_ledger_reads_dates_as_the_end_of_a_shanghai_day (void **state)
{
    (void) state;
    int64_t ms = 0;
    assert_int_equal (ld_ledger_parse_time ("2025-03-10", &ms), LD_OK);
    //  2025-03-10T16:00:00Z is midnight in Shanghai; the day ends just before.
    assert_int_equal (ms, S_T0 + 9 * S_DAY + 16 * S_HOUR - 1);
    assert_int_equal (ld_ledger_parse_time ("2025-03-01T08:00:00+08:00", &ms), LD_OK);
    assert_int_equal (ms, S_T0);
    assert_int_equal (ld_ledger_parse_time ("2025-03-01T00:00:00.250Z", &ms), LD_OK);
    assert_int_equal (ms, S_T0 + 250);
    assert_int_equal (ld_ledger_parse_time ("2024-02-29", &ms), LD_OK);
    assert_int_equal (ld_ledger_parse_time ("2025-02-29", &ms), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_ledger_parse_time ("2025-03-01T00:00:00", &ms), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_ledger_parse_time ("next tuesday", &ms), LD_ERR_BAD_FORMAT);
    char text[LD_LEDGER_TIME_TEXT_BYTES];
    ld_ledger_time_text (S_T0 + 250, text);
    assert_string_equal (text, "2025-03-01T00:00:00.250Z");
    ld_ledger_time_text (LD_LEDGER_UNCONFIRMED, text);
    assert_string_equal (text, "unconfirmed");
}

//  ---- tasks ----

static void
test_ledger_task_goes_through_its_states (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *meeting = s_meeting (self, S_T0 + S_HOUR);
    const ld_event_t *resolution = s_adopt (self, S_LONGGUANGLU, meeting, S_T0 + 2 * S_HOUR);
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "assigned");
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].unit_name, "振华集团");
    assert_string_equal (s_resolution (self, S_T0)->convener_name, "龙广路街道");
    s_task (self, S_ZHENHUA, "task.accept", resolution, 0, S_T0 + 1 * S_DAY);
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "accepted");
    s_task (self, S_ZHENHUA, "task.progress", resolution, 0, S_T0 + 2 * S_DAY);
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "in-progress");
    assert_int_equal (s_resolution (self, S_T0)->tasks[0].percent, 50);
    s_task (self, S_ZHENHUA, "task.complete", resolution, 0, S_T0 + 3 * S_DAY);
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "completed");
    assert_string_equal (s_resolution (self, S_AFTER)->tasks[0].timing, "on-time");
    s_task (self, S_LONGGUANGLU, "task.verify", resolution, 0, S_T0 + 4 * S_DAY);
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "verified");
    s_task (self, S_LONGGUANGLU, "task.reopen", resolution, 0, S_T0 + 5 * S_DAY);
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "reopened");
    s_task (self, S_ZHENHUA, "task.progress", resolution, 0, S_T0 + 6 * S_DAY);
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "in-progress");
    //  Reopened and not done again: overdue once the deadline passed.
    assert_false (s_resolution (self, S_BEFORE)->tasks[0].overdue);
    assert_true (s_resolution (self, S_AFTER)->tasks[0].overdue);
    //  A transition the state does not allow is refused, and changes nothing.
    const ld_event_t *verify =
        s_task (self, S_LONGGUANGLU, "task.verify", resolution, 0, S_T0 + 7 * S_DAY);
    s_expect_refused (self, verify, "state");
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "in-progress");
    const ld_event_t *close = s_post (self, S_LONGGUANGLU, S_T0 + 8 * S_DAY, "resolution",
                                      "resolution.close", s_ref ("resolution", resolution));
    assert_null (s_refusal (self, close));
    assert_string_equal (s_resolution (self, S_T0)->status, "closed");
}

static void
test_ledger_only_the_assignee_acts_on_its_task (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *meeting = s_meeting (self, S_T0 + S_HOUR);
    const ld_event_t *resolution = s_adopt (self, S_LONGGUANGLU, meeting, S_T0 + 2 * S_HOUR);
    //  万江厂 accepts and completes 振华集团's task 0: refused, nothing changes.
    const ld_event_t *accept =
        s_task (self, S_WANJIANG, "task.accept", resolution, 0, S_T0 + S_DAY);
    const ld_event_t *complete =
        s_task (self, S_WANJIANG, "task.complete", resolution, 0, S_T0 + S_DAY);
    s_expect_refused (self, accept, "assignee-only");
    s_expect_refused (self, complete, "assignee-only");
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "assigned");
    //  Its own task 1 it may accept.
    const ld_event_t *own = s_task (self, S_WANJIANG, "task.accept", resolution, 1, S_T0 + S_DAY);
    assert_null (s_refusal (self, own));
    assert_string_equal (s_resolution (self, S_T0)->tasks[1].state, "accepted");
    const ld_event_t *missing =
        s_task (self, S_WANJIANG, "task.accept", resolution, 7, S_T0 + S_DAY);
    s_expect_refused (self, missing, "reference");
}

static void
test_ledger_only_the_convener_verifies_and_adopts (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *meeting = s_meeting (self, S_T0 + S_HOUR);
    //  观溪路街道 adopts a resolution of 龙广路街道's meeting: refused.
    const ld_event_t *foreign = s_adopt (self, S_GUANXILU, meeting, S_T0 + 2 * S_HOUR);
    s_expect_refused (self, foreign, "convener-only");
    const ld_event_t *resolution = s_adopt (self, S_LONGGUANGLU, meeting, S_T0 + 2 * S_HOUR);
    s_task (self, S_ZHENHUA, "task.accept", resolution, 0, S_T0 + S_DAY);
    s_task (self, S_ZHENHUA, "task.complete", resolution, 0, S_T0 + 2 * S_DAY);
    const ld_event_t *verify =
        s_task (self, S_GUANXILU, "task.verify", resolution, 0, S_T0 + 3 * S_DAY);
    s_expect_refused (self, verify, "convener-only");
    const ld_event_t *close = s_post (self, S_GUANXILU, S_T0 + 3 * S_DAY, "resolution",
                                      "resolution.close", s_ref ("resolution", resolution));
    s_expect_refused (self, close, "convener-only");
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "completed");
    assert_string_equal (s_resolution (self, S_T0)->status, "open");
    s_task (self, S_LONGGUANGLU, "task.verify", resolution, 0, S_T0 + 4 * S_DAY);
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "verified");
}

static void
test_ledger_urge_counts_only_once_overdue_by_receipt (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *meeting = s_meeting (self, S_T0 + S_HOUR);
    const ld_event_t *resolution = s_adopt (self, S_LONGGUANGLU, meeting, S_T0 + 2 * S_HOUR);
    //  The supervisor's clock says after the deadline; the receipt says before.
    const ld_event_t *early = s_sign (self, S_SUPERVISOR, S_AFTER, "resolution", "task.urge",
                                      json_pack ("{s:{s:o, s:i}}", "task", "resolution",
                                                 s_b64 (ld_event_id (resolution)), "index", 0));
    s_add (self, early);
    s_add (self, s_receipt (self, early, S_BEFORE));
    s_expect_refused (self, early, "overdue-only-alters-nothing");
    assert_int_equal (s_resolution (self, S_AFTER)->tasks[0].urges, 0);
    //  Without a receipt an urge cannot be judged: it waits.
    const ld_event_t *unconfirmed =
        s_sign (self, S_SUPERVISOR, S_AFTER, "resolution", "task.urge",
                json_pack ("{s:{s:o, s:i}}", "task", "resolution", s_b64 (ld_event_id (resolution)),
                           "index", 0));
    s_add (self, unconfirmed);
    assert_int_equal (s_pending_count (self), 1);
    //  Its receipt after the deadline: it counts, and alters nothing else.
    s_add (self, s_receipt (self, unconfirmed, S_AFTER));
    assert_int_equal (s_pending_count (self), 0);
    assert_null (s_refusal (self, unconfirmed));
    const ld_task_t *task = &s_resolution (self, S_AFTER)->tasks[0];
    assert_int_equal (task->urges, 1);
    assert_string_equal (task->state, "assigned");
    assert_true (task->overdue);
}

static void
test_ledger_amended_deadline_keeps_its_history (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *meeting = s_meeting (self, S_T0 + S_HOUR);
    const ld_event_t *resolution = s_adopt (self, S_LONGGUANGLU, meeting, S_T0 + 2 * S_HOUR);
    //  Only the original's author amends.
    const ld_event_t *forged =
        s_post (self, S_ZHENHUA, S_T0 + S_DAY, "resolution", "amend",
                json_pack ("{s:o, s:s, s:s}", "original", s_b64 (ld_event_id (resolution)), "field",
                           "tasks.0.deadline", "value", "2025-12-31"));
    s_expect_refused (self, forged, "original-author-only");
    s_post (self, S_LONGGUANGLU, S_T0 + S_DAY, "resolution", "amend",
            json_pack ("{s:o, s:s, s:s, s:s}", "original", s_b64 (ld_event_id (resolution)),
                       "field", "tasks.0.deadline", "value", "2025-03-20", "reason", "雨季"));
    const ld_task_t *task = &s_resolution (self, S_AFTER)->tasks[0];
    assert_string_equal (task->deadline, "2025-03-20");
    assert_false (task->overdue); //  by the new deadline
    assert_int_equal (task->change_count, 1);
    assert_string_equal (task->changes[0].field, "deadline");
    assert_string_equal (task->changes[0].old_value, S_DEADLINE);
    assert_string_equal (task->changes[0].new_value, "2025-03-20");
    assert_int_equal (task->changes[0].ms, S_T0 + S_DAY);
    //  The other task keeps the old one.
    assert_true (s_resolution (self, S_AFTER)->tasks[1].overdue);
    //  Withdrawn: shown as such, and its tasks take no more actions.
    s_post (self, S_LONGGUANGLU, S_T0 + 2 * S_DAY, "resolution", "withdraw",
            s_ref ("original", resolution));
    assert_string_equal (s_resolution (self, S_AFTER)->status, "withdrawn");
    const ld_event_t *accept =
        s_task (self, S_ZHENHUA, "task.accept", resolution, 0, S_T0 + 3 * S_DAY);
    s_expect_refused (self, accept, "state");
}

static void
test_ledger_judges_lateness_by_receipt_not_author_clock (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *meeting = s_meeting (self, S_T0 + S_HOUR);
    const ld_event_t *resolution = s_adopt (self, S_LONGGUANGLU, meeting, S_T0 + 2 * S_HOUR);
    s_task (self, S_ZHENHUA, "task.accept", resolution, 0, S_T0 + S_DAY);
    s_task (self, S_WANJIANG, "task.accept", resolution, 1, S_T0 + S_DAY);
    //  振华集团's clock says 3 March; the broker first stored it on 13 March.
    const ld_event_t *late =
        s_sign (self, S_ZHENHUA, S_T0 + 2 * S_DAY, "resolution", "task.complete",
                json_pack ("{s:{s:o, s:i}}", "task", "resolution", s_b64 (ld_event_id (resolution)),
                           "index", 0));
    s_add (self, late);
    assert_string_equal (s_resolution (self, S_AFTER)->tasks[0].timing, "unconfirmed");
    s_add (self, s_receipt (self, late, S_AFTER));
    //  万江厂 completes in time (control).
    s_task (self, S_WANJIANG, "task.complete", resolution, 1, S_BEFORE);
    const ld_resolution_t *r = s_resolution (self, S_AFTER);
    assert_string_equal (r->tasks[0].timing, "late");
    assert_int_equal (r->tasks[0].completed_ms, S_AFTER);
    assert_string_equal (r->tasks[1].timing, "on-time");
    assert_false (r->tasks[0].overdue);
    //  Before its receipt's time, the late task was still overdue.
    assert_true (s_resolution (self, S_AFTER - S_HOUR)->tasks[0].overdue);
    ld_ledger_stats_t stats;
    assert_int_equal (ld_ledger_stats (self->ledger, S_AFTER, &stats), LD_OK);
    assert_int_equal (stats.tasks_late, 1);
}

//  ---- co-building ----

static void
test_ledger_agreement_needs_the_named_units_signature (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *proposal =
        s_post (self, S_JINJIANGYUAN, S_T0 + S_HOUR, "agreement", "agreement.propose",
                json_pack ("{s:o, s:s, s:[s]}", "unit", s_b64 (s_key (self, S_ZHENHUA)), "title",
                           "2025年度共建协议", "terms", "每月一次义诊"));
    const ld_agreement_t **list = NULL;
    size_t count = 0;
    assert_int_equal (ld_ledger_agreements (self->ledger, "wudang/guanxilu/", &list, &count),
                      LD_OK);
    assert_int_equal (count, 1);
    assert_string_equal (list[0]->status, "proposed");
    free (list);
    ld_ledger_stats_t stats;
    assert_int_equal (ld_ledger_stats (self->ledger, S_AFTER, &stats), LD_OK);
    assert_int_equal (stats.paired_units, 0);
    const ld_event_t *wrong = s_post (self, S_WUKAN, S_T0 + S_DAY, "agreement", "agreement.sign",
                                      s_ref ("agreement", proposal));
    s_expect_refused (self, wrong, "named-party-only");
    s_post (self, S_ZHENHUA, S_T0 + 2 * S_DAY, "agreement", "agreement.sign",
            s_ref ("agreement", proposal));
    assert_int_equal (ld_ledger_agreements (self->ledger, NULL, &list, &count), LD_OK);
    assert_int_equal (count, 1);
    assert_string_equal (list[0]->status, "in-force");
    assert_string_equal (list[0]->unit_name, "振华集团");
    assert_int_equal (list[0]->signed_ms, S_T0 + 2 * S_DAY);
    free (list);
    assert_int_equal (ld_ledger_stats (self->ledger, S_AFTER, &stats), LD_OK);
    assert_int_equal (stats.paired_units, 1);
    //  Another prefix shows none.
    assert_int_equal (ld_ledger_agreements (self->ledger, "wudang/longguanglu/", &list, &count),
                      LD_OK);
    assert_int_equal (count, 0);
    assert_null (list);
}

static void
test_ledger_wish_is_claimed_once (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *wish = s_post (self, S_JINJIANGYUAN, S_T0 + S_HOUR, "wish", "wish.post",
                                     json_pack ("{s:s, s:i}", "text", "楼道灯坏了", "people", 12));
    //  The later claim arrives first; ledger time decides.
    const ld_event_t *second =
        s_post (self, S_WANJIANG, S_T0 + 2 * S_DAY, "wish", "wish.claim", s_ref ("wish", wish));
    const ld_event_t *first =
        s_post (self, S_ZHENHUA, S_T0 + S_DAY, "wish", "wish.claim", s_ref ("wish", wish));
    s_expect_refused (self, second, "first-claim-only");
    assert_null (s_refusal (self, first));
    const ld_event_t *stolen =
        s_post (self, S_WANJIANG, S_T0 + 3 * S_DAY, "wish", "wish.fulfil", s_ref ("wish", wish));
    s_expect_refused (self, stolen, "claimant-only");
    s_post (self, S_ZHENHUA, S_T0 + 4 * S_DAY, "wish", "wish.fulfil", s_ref ("wish", wish));
    const ld_wish_t **list = NULL;
    size_t count = 0;
    assert_int_equal (ld_ledger_wishes (self->ledger, NULL, &list, &count), LD_OK);
    assert_int_equal (count, 1);
    assert_string_equal (list[0]->status, "fulfilled");
    assert_string_equal (list[0]->claimant_name, "振华集团");
    free (list);
    ld_ledger_stats_t stats;
    assert_int_equal (ld_ledger_stats (self->ledger, S_AFTER, &stats), LD_OK);
    assert_int_equal (stats.matters_done, 1);
    assert_int_equal (stats.opinions_collected, 1);
    assert_int_equal (stats.opinions_resolved, 1);
}

//  ---- double reporting and incidents ----

static void
test_ledger_register_keeps_service_of_checked_in_units (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *checkin = s_post (
        self, S_ZHENHUA, S_T0 + S_HOUR, "report", "report.checkin",
        json_pack ("{s:s, s:o, s:[s], s:i}", "community", "wudang/guanxilu/jinjiangyuan/", "unit",
                   s_b64 (s_key (self, S_ZHENHUA)), "offers", "义诊", "year", 2025));
    json_t *service = json_pack ("{s:o, s:s, s:s, s:i, s:i, s:s}", "checkin",
                                 s_b64 (ld_event_id (checkin)), "date", "2025-03-05", "activity",
                                 "义诊", "minutes", 120, "peopleServed", 40, "team", "振华志愿队");
    s_post (self, S_ZHENHUA, S_T0 + S_DAY, "report", "report.service", service);
    const ld_event_t *foreign = s_post (
        self, S_WANJIANG, S_T0 + S_DAY, "report", "report.service",
        json_pack ("{s:o, s:s, s:s, s:i, s:i}", "checkin", s_b64 (ld_event_id (checkin)), "date",
                   "2025-03-05", "activity", "义诊", "minutes", 60, "peopleServed", 400));
    s_expect_refused (self, foreign, "checked-in-only");
    s_post (self, S_JINJIANGYUAN, S_T0 + 2 * S_DAY, "report", "report.evaluate",
            json_pack ("{s:o, s:i, s:s}", "checkin", s_b64 (ld_event_id (checkin)), "year", 2025,
                       "grade", "优秀"));
    //  A street may not give feedback at all: refused at feed level.
    const ld_event_t *street =
        s_post (self, S_LONGGUANGLU, S_T0 + 2 * S_DAY, "report", "report.feedback",
                json_pack ("{s:o, s:s}", "checkin", s_b64 (ld_event_id (checkin)), "text", "好"));
    s_expect_refused (self, street, "forbidden-type");
    const ld_checkin_t **list = NULL;
    size_t count = 0;
    assert_int_equal (ld_ledger_register (self->ledger, "wudang/guanxilu/", &list, &count), LD_OK);
    assert_int_equal (count, 1);
    assert_string_equal (list[0]->community_name, "金江苑社区");
    assert_string_equal (list[0]->unit_name, "振华集团");
    assert_int_equal (list[0]->service_count, 1);
    assert_int_equal (list[0]->assessment_count, 1);
    assert_string_equal (list[0]->assessments[0].grade, "优秀");
    free (list);
    ld_ledger_stats_t stats;
    assert_int_equal (ld_ledger_stats (self->ledger, S_AFTER, &stats), LD_OK);
    assert_int_equal (stats.people_served, 40);
    assert_int_equal (stats.volunteer_teams, 1);
    assert_int_equal (stats.paired_units, 1);
    assert_int_equal (stats.units, 4);
    assert_int_equal (stats.communities, 1);
}

static void
test_ledger_incident_climbs_and_is_resolved_by_its_assignee (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    const ld_event_t *incident =
        s_post (self, S_JINJIANGYUAN, S_T0 + S_HOUR, "incident", "incident.report",
                json_pack ("{s:s, s:s}", "text", "路灯不亮", "category", "lighting"));
    s_post (self, S_JINJIANGYUAN, S_T0 + 2 * S_HOUR, "incident", "incident.collect",
            s_ref ("incident", incident));
    const ld_event_t *outside = s_post (self, S_LONGGUANGLU, S_T0 + 3 * S_HOUR, "incident",
                                        "incident.whistle", s_ref ("incident", incident));
    s_expect_refused (self, outside, "enclosing-path-only");
    s_post (self, S_GUANXILU, S_T0 + 3 * S_HOUR, "incident", "incident.whistle",
            s_ref ("incident", incident));
    s_post (self, S_GUANXILU, S_T0 + 4 * S_HOUR, "incident", "incident.assign",
            json_pack ("{s:o, s:[o], s:i}", "incident", s_b64 (ld_event_id (incident)), "units",
                       s_b64 (s_key (self, S_ZHENHUA)), "tier", 4));
    const ld_event_t *wrong = s_post (self, S_WANJIANG, S_T0 + S_DAY, "incident",
                                      "incident.resolve", s_ref ("incident", incident));
    s_expect_refused (self, wrong, "assignee-only");
    s_post (self, S_ZHENHUA, S_T0 + S_DAY, "incident", "incident.resolve",
            s_ref ("incident", incident));
    const ld_incident_t **list = NULL;
    size_t count = 0;
    assert_int_equal (ld_ledger_incidents (self->ledger, NULL, &list, &count), LD_OK);
    assert_int_equal (count, 1);
    assert_string_equal (list[0]->status, "resolved");
    assert_string_equal (list[0]->assignee_name, "振华集团");
    assert_int_equal (list[0]->tier, 4);
    free (list);
    ld_ledger_stats_t stats;
    assert_int_equal (ld_ledger_stats (self->ledger, S_AFTER, &stats), LD_OK);
    assert_int_equal (stats.problems_solved, 1);
}

//  ---- waiting ----

static void
test_ledger_event_waits_for_its_reference (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    //  Signed in order, but the accept arrives before the meeting and the resolution.
    const ld_event_t *meeting =
        s_sign (self, S_LONGGUANGLU, S_T0, "meeting", "meeting.convene",
                json_pack ("{s:s, s:s}", "body", "联席会议", "date", "2025-03-01"));
    const ld_event_t *resolution = s_sign (
        self, S_LONGGUANGLU, S_T0, "resolution", "resolution.adopt",
        json_pack ("{s:o, s:s, s:s, s:[{s:o, s:s, s:s}]}", "meeting", s_b64 (ld_event_id (meeting)),
                   "text", "停车管理", "category", "parking", "tasks", "unit",
                   s_b64 (s_key (self, S_ZHENHUA)), "deadline", S_DEADLINE, "deliverable", "划线"));
    const ld_event_t *accept = s_task (self, S_ZHENHUA, "task.accept", resolution, 0, S_T0 + S_DAY);
    assert_null (s_refusal (self, accept));
    assert_int_equal (s_pending_count (self), 1);
    const ld_resolution_t **list = NULL;
    size_t count = 0;
    assert_int_equal (ld_ledger_resolutions (self->ledger, S_T0, NULL, &list, &count), LD_OK);
    assert_int_equal (count, 0);
    s_add (self, resolution);
    assert_int_equal (s_pending_count (self), 2); //  the resolution waits for its meeting
    s_add (self, meeting);
    assert_int_equal (s_pending_count (self), 0);
    assert_string_equal (s_resolution (self, S_T0)->tasks[0].state, "accepted");
    //  Unconfirmed events are applied, and say so.
    assert_int_equal (s_resolution (self, S_T0)->ms, LD_LEDGER_UNCONFIRMED);
    char *json = ld_ledger_json (self->ledger, S_T0);
    assert_non_null (json);
    assert_non_null (strstr (json, "\"adoptedAt\":\"unconfirmed\""));
    free (json);
}

//  ---- order independence ----

//  The whole scenario: every kind of record, refusals and waits included.
static const ld_event_t *
s_scenario (s_fixture_t *self)
{
    s_wudang (self);
    const ld_event_t *meeting = s_meeting (self, S_T0 + S_HOUR);
    const ld_event_t *resolution = s_adopt (self, S_LONGGUANGLU, meeting, S_T0 + 2 * S_HOUR);
    s_task (self, S_ZHENHUA, "task.accept", resolution, 0, S_T0 + S_DAY);
    s_task (self, S_WANJIANG, "task.accept", resolution, 0, S_T0 + S_DAY);
    s_task (self, S_ZHENHUA, "task.complete", resolution, 0, S_AFTER);
    s_task (self, S_LONGGUANGLU, "task.verify", resolution, 0, S_AFTER + S_HOUR);
    s_task (self, S_SUPERVISOR, "task.urge", resolution, 1, S_BEFORE);
    s_task (self, S_SUPERVISOR, "task.urge", resolution, 1, S_AFTER);
    s_post (self, S_LONGGUANGLU, S_T0 + S_DAY, "resolution", "amend",
            json_pack ("{s:o, s:s, s:s}", "original", s_b64 (ld_event_id (resolution)), "field",
                       "tasks.1.deadline", "value", "2025-03-11"));
    const ld_event_t *wish = s_post (self, S_JINJIANGYUAN, S_T0 + S_HOUR, "wish", "wish.post",
                                     json_pack ("{s:s}", "text", "修剪树枝"));
    s_post (self, S_WANJIANG, S_T0 + S_DAY, "wish", "wish.claim", s_ref ("wish", wish));
    s_post (self, S_ZHENHUA, S_T0 + S_DAY, "wish", "wish.claim", s_ref ("wish", wish));
    s_post (self, S_CEHUI, S_T0 + S_DAY, "wish", "wish.claim", s_ref ("wish", wish));
    const ld_event_t *proposal =
        s_post (self, S_JINJIANGYUAN, S_T0 + S_HOUR, "agreement", "agreement.propose",
                json_pack ("{s:o, s:s}", "unit", s_b64 (s_key (self, S_WUKAN)), "title", "共建"));
    s_post (self, S_WUKAN, S_T0 + S_DAY, "agreement", "agreement.sign",
            s_ref ("agreement", proposal));
    const ld_event_t *checkin =
        s_post (self, S_CEHUI, S_T0 + S_HOUR, "report", "report.checkin",
                json_pack ("{s:s, s:o}", "community", "wudang/guanxilu/jinjiangyuan/", "unit",
                           s_b64 (s_key (self, S_CEHUI))));
    s_post (self, S_CEHUI, 0, "report", "report.service",
            json_pack ("{s:o, s:s, s:s, s:i, s:i, s:s}", "checkin", s_b64 (ld_event_id (checkin)),
                       "date", "2025-03-02", "activity", "测绘", "minutes", 30, "peopleServed", 9,
                       "team", "测绘先锋队"));
    //  A reference that never arrives.
    const ld_event_t *lost = s_sign (self, S_JINJIANGYUAN, S_T0, "wish", "wish.post",
                                     json_pack ("{s:s}", "text", "从未送达"));
    s_post (self, S_ZHENHUA, S_T0 + 2 * S_DAY, "wish", "wish.claim", s_ref ("wish", lost));
    return lost;
}

static void
test_ledger_is_the_same_for_any_interleaving_of_the_feeds (void **state)
{
    s_fixture_t *self = *state;
    //  The lost wish was signed but never added; it stays out of every shuffle.
    const ld_event_t *lost = s_scenario (self);
    char *expected = ld_ledger_json (self->ledger, S_AFTER);
    assert_non_null (expected);
    if (getenv ("LD_LEDGER_DUMP"))
        printf ("%s\n", expected);
    size_t count = 0;
    const ld_event_t *events[S_EVENTS_MAX];
    s_who_t authors[S_EVENTS_MAX];
    for (size_t i = 0; i < self->event_count; i++) {
        if (self->events[i] == lost)
            continue;
        events[count] = self->events[i];
        authors[count++] = self->authors[i];
    }
    uint64_t random = UINT64_C (0x9e3779b97f4a7c15);
    for (int round = 0; round < S_SHUFFLES; round++) {
        //  An interleaving that keeps each feed's order: repeatedly take the
        //  next event of a random feed that has one left.
        size_t next[S_FEEDS] = {0};
        ld_ledger_t *ledger = ld_ledger_new ();
        assert_non_null (ledger);
        assert_int_equal (ld_ledger_add_root (ledger, s_key (self, S_ROOT), "wudang/", "乌当区"),
                          LD_OK);
        for (size_t added = 0; added < count;) {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            s_who_t who = (s_who_t) (random % S_FEEDS);
            while (next[who] < count && authors[next[who]] != who)
                next[who]++;
            if (next[who] >= count)
                continue;
            assert_int_equal (ld_ledger_add (ledger, events[next[who]++]), LD_OK);
            added++;
            if (round % 100 == 0 && added % 7 == 0) {
                //  Queries in between must not change the end result.
                char *partial = ld_ledger_json (ledger, S_AFTER);
                assert_non_null (partial);
                free (partial);
            }
        }
        //  A duplicate changes nothing.
        assert_int_equal (ld_ledger_add (ledger, events[round % count]), LD_OK);
        assert_int_equal (ld_ledger_size (ledger), count);
        char *json = ld_ledger_json (ledger, S_AFTER);
        assert_non_null (json);
        if (strcmp (json, expected) != 0)
            fail_msg ("interleaving %d differs:\n%s\n%s", round, expected, json);
        free (json);
        ld_ledger_destroy (&ledger);
    }
    //  The scenario is not trivially empty.
    assert_non_null (strstr (expected, "\"first-claim-only\""));
    assert_non_null (strstr (expected, "\"overdue-only-alters-nothing\""));
    assert_non_null (strstr (expected, "\"assignee-only\""));
    assert_non_null (strstr (expected, "which has not arrived"));
    assert_non_null (strstr (expected, "\"state\":\"verified\""));
    free (expected);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ledger_reads_dates_as_the_end_of_a_shanghai_day),
        cmocka_unit_test_setup_teardown (test_ledger_task_goes_through_its_states, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_only_the_assignee_acts_on_its_task, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_only_the_convener_verifies_and_adopts, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_urge_counts_only_once_overdue_by_receipt,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_amended_deadline_keeps_its_history, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_judges_lateness_by_receipt_not_author_clock,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_agreement_needs_the_named_units_signature,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_wish_is_claimed_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_register_keeps_service_of_checked_in_units,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            test_ledger_incident_climbs_and_is_resolved_by_its_assignee, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_event_waits_for_its_reference, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_ledger_is_the_same_for_any_interleaving_of_the_feeds,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
