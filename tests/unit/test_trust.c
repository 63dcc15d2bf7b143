/*  test_trust.c -- the trust fold (trust/ld_trust.h) and the trust
    payloads (proto/ld_payload.h).

    Every event here is really signed, by identities with fixed seeds, in
    real feeds (seq and prev chained), and handed to the trust object the
    way a broker would: decoded, verified, folded. The hierarchy is the
    seed article's: the Wudang district root certifies the streets 龙广路街道
    and 观溪路街道 (and a supervisor and a broker); 观溪路 certifies 金江苑社区;
    龙广路 certifies the units of its big committee, 振华集团, 万江厂, 物勘院
    and 测绘院.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ld_authority.h"
#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_pbjson.h"
#include "ld_trust.h"

#define S_TIME_MS    INT64_C (1735689600000) //  2025-01-01T00:00:00Z
#define S_EVENTS_MAX 256
#define S_ERR_MAX    512
#define S_SHUFFLES   200
#define S_SEED       UINT64_C (0x9e3779b97f4a7c15)

//  The feeds of the scenario. The spares are keys a test certifies in
//  some role of its own (a successor, a late community, ...).
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
    S_SPARE_A,
    S_SPARE_B,
    S_SPARE_C,
    S_SPARE_D,
    S_SPARE_E,
    S_FEEDS
} s_who_t;

//  Who each certified feed is, and who certifies it.
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
    uint64_t seq; //  of the last event signed
    uint8_t prev[LD_ID_BYTES];
} s_feed_t;

typedef struct {
    ld_trust_t *trust;
    s_feed_t feeds[S_FEEDS];
    const char *paths[S_FEEDS];       //  where each feed writes its trust events
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
        memset (seed, 0x40 + who, sizeof seed);
        self->feeds[who].identity = ld_identity_new_from_seed (seed);
        if (!self->feeds[who].identity)
            return -1;
        if ((size_t) who < sizeof s_orgs / sizeof s_orgs[0])
            self->paths[who] = s_orgs[who].path;
    }
    self->trust = ld_trust_new ();
    if (!self->trust)
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
    ld_trust_destroy (&self->trust);
    free (self);
    return 0;
}

//  ---- signing feeds ----

static const uint8_t *
s_key (s_fixture_t *self, s_who_t who)
{
    return ld_identity_public_key (self->feeds[who].identity);
}

//  Signs the next event of who's feed, at time_ms; the fixture owns it.
static ld_event_t *
s_sign_at (s_fixture_t *self, s_who_t who, int64_t time_ms, const char *topic, const char *type,
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
        fail_msg ("cannot sign: %s", err);
    feed->seq++;
    memcpy (feed->prev, ld_event_id (event), LD_ID_BYTES);
    self->authors[self->event_count] = who;
    self->events[self->event_count++] = event;
    return event;
}

static ld_event_t *
s_sign (s_fixture_t *self, s_who_t who, const char *topic, const char *type, uint8_t *payload,
        size_t size)
{
    return s_sign_at (self, who, S_TIME_MS + (int64_t) self->feeds[who].seq * 1000, topic, type,
                      payload, size);
}

static ld_event_t *
s_note (s_fixture_t *self, s_who_t who, const char *topic)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_note ("路灯不亮", &payload, &size), LD_OK);
    return s_sign (self, who, topic, "note", payload, size);
}

//  An event of a ledger type; its payload is the trust layer's business
//  only through its type and topic.
static ld_event_t *
s_act (s_fixture_t *self, s_who_t who, const char *type, const char *topic)
{
    //  The smallest valid payload of each ledger type the tests act with
    //  (the feed-level check reads only type and topic).
    static const struct {
        const char *type;
        const char *json;
    } minimal[] = {
        {"meeting.convene", "{\"body\":\"联席会议\",\"date\":\"2025-03-01\"}"},
        {"resolution.adopt",
         "{\"meeting\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"text\":\"x\","
         "\"category\":\"other\"}"},
        {"task.", "{\"task\":{\"resolution\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
                  "\"index\":0}}"},
        {"agreement.propose",
         "{\"unit\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"title\":\"共建\"}"},
        {"report.checkin", "{\"community\":\"wudang/guanxilu/jinjiangyuan/\"}"},
    };
    const char *text = NULL;
    for (size_t i = 0; i < sizeof minimal / sizeof minimal[0] && !text; i++)
        if (strncmp (type, minimal[i].type, strlen (minimal[i].type)) == 0)
            text = minimal[i].json;
    assert_non_null (text);
    json_t *json = json_loads (text, 0, NULL);
    assert_non_null (json);
    ProtobufCMessage *message = NULL;
    char err[256];
    assert_int_equal (
        ld_pbjson_to_message (ld_payload_descriptor (type), json, &message, err, sizeof err),
        LD_OK);
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_pack (message, &payload, &size), LD_OK);
    ld_pbjson_message_free (message);
    json_decref (json);
    return s_sign (self, who, topic, type, payload, size);
}

//  The trust topic of who's feed: "trust/<its path>".
static void
s_trust_topic (s_fixture_t *self, s_who_t who, char *topic, size_t size)
{
    assert_non_null (self->paths[who]);
    snprintf (topic, size, "trust/%s", self->paths[who]);
}

static ld_event_t *
s_certify_as (s_fixture_t *self, s_who_t certifier, const uint8_t *subject, const char *level,
              const char *path, const char *name)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_certify (subject, level, path, name, &payload, &size), LD_OK);
    char topic[LD_TOPIC_MAX + 1];
    s_trust_topic (self, certifier, topic, sizeof topic);
    return s_sign (self, certifier, topic, LD_TYPE_CERTIFY, payload, size);
}

//  The certificate of who as the scenario has it.
static ld_event_t *
s_certify (s_fixture_t *self, s_who_t who)
{
    const s_org_t *org = &s_orgs[who];
    return s_certify_as (self, org->certifier, s_key (self, who), org->level, org->path, org->name);
}

static ld_event_t *
s_revoke (s_fixture_t *self, s_who_t revoker, const uint8_t *subject, uint64_t after_seq)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_revoke (subject, after_seq, &payload, &size), LD_OK);
    char topic[LD_TOPIC_MAX + 1];
    s_trust_topic (self, revoker, topic, sizeof topic);
    return s_sign (self, revoker, topic, LD_TYPE_REVOKE, payload, size);
}

static ld_event_t *
s_rotate (s_fixture_t *self, s_who_t who, s_who_t successor)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_rotate (s_key (self, successor), &payload, &size), LD_OK);
    char topic[LD_TOPIC_MAX + 1];
    s_trust_topic (self, who, topic, sizeof topic);
    return s_sign (self, who, topic, LD_TYPE_ROTATE, payload, size);
}

static void
s_configure_root (s_fixture_t *self, ld_trust_t *trust)
{
    assert_int_equal (
        ld_trust_add_root (trust, s_key (self, S_ROOT), s_orgs[S_ROOT].path, s_orgs[S_ROOT].name),
        LD_OK);
}

//  Signs the seed hierarchy's certificates (the root's, then the streets').
static void
s_sign_wudang (s_fixture_t *self)
{
    s_certify (self, S_LONGGUANGLU);
    s_certify (self, S_GUANXILU);
    s_certify (self, S_SUPERVISOR);
    s_certify (self, S_BROKER);
    s_certify (self, S_JINJIANGYUAN);
    s_certify (self, S_ZHENHUA);
    s_certify (self, S_WANJIANG);
    s_certify (self, S_WUKAN);
    s_certify (self, S_CEHUI);
}

static void
s_fold (s_fixture_t *self, const ld_event_t *event)
{
    char err[S_ERR_MAX] = "";
    ld_status_t rc = ld_trust_fold (self->trust, event, err, sizeof err);
    if (rc != LD_OK)
        fail_msg ("fold: %s", err);
}

//  Folds every event signed so far that is not folded yet.
static void
s_fold_all (s_fixture_t *self)
{
    for (size_t i = 0; i < self->event_count; i++)
        s_fold (self, self->events[i]);
}

//  Configures the root, signs and folds the seed hierarchy.
static void
s_wudang (s_fixture_t *self)
{
    s_configure_root (self, self->trust);
    s_sign_wudang (self);
    s_fold_all (self);
}

//  Asserts the feed-level decision on event, and that a refusal's message
//  starts with the status text and holds `mention`.
static void
s_expect (s_fixture_t *self, const ld_event_t *event, ld_status_t expected, const char *mention)
{
    char err[S_ERR_MAX] = "";
    ld_status_t rc = ld_trust_check (self->trust, event, NULL, err, sizeof err);
    if (rc != expected)
        fail_msg ("expected %s, got %s: %s", ld_status_name (expected), ld_status_name (rc), err);
    if (rc == LD_OK)
        return;
    const char *text = ld_status_text (rc);
    assert_int_equal (strncmp (err, text, strlen (text)), 0);
    if (mention && !strstr (err, mention))
        fail_msg ("'%s' does not mention '%s'", err, mention);
}

//  ---- trust payloads ----

static void
test_certify_payload_round_trips (void **state)
{
    s_fixture_t *self = *state;
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_certify (s_key (self, S_JINJIANGYUAN), "community",
                                          "wudang/guanxilu/jinjiangyuan/", "金江苑社区", &payload,
                                          &size),
                      LD_OK);
    ld_certify_t certify;
    assert_int_equal (ld_payload_certify_decode (payload, size, &certify, NULL, 0), LD_OK);
    free (payload);
    assert_memory_equal (certify.subject, s_key (self, S_JINJIANGYUAN), LD_KEY_BYTES);
    assert_string_equal (certify.level, "community");
    assert_string_equal (certify.path, "wudang/guanxilu/jinjiangyuan/");
    assert_string_equal (certify.name, "金江苑社区");

    assert_int_equal (ld_payload_revoke (s_key (self, S_ZHENHUA), 12, &payload, &size), LD_OK);
    ld_revoke_t revoke;
    assert_int_equal (ld_payload_revoke_decode (payload, size, &revoke, NULL, 0), LD_OK);
    free (payload);
    assert_memory_equal (revoke.subject, s_key (self, S_ZHENHUA), LD_KEY_BYTES);
    assert_int_equal (revoke.after_seq, 12);

    assert_int_equal (ld_payload_rotate (s_key (self, S_SPARE_A), &payload, &size), LD_OK);
    ld_rotate_t rotate;
    assert_int_equal (ld_payload_rotate_decode (payload, size, &rotate, NULL, 0), LD_OK);
    free (payload);
    assert_memory_equal (rotate.successor, s_key (self, S_SPARE_A), LD_KEY_BYTES);
}

static void
test_certify_builder_refuses_what_receivers_refuse (void **state)
{
    s_fixture_t *self = *state;
    const uint8_t *key = s_key (self, S_ZHENHUA);
    uint8_t *payload = NULL;
    size_t size = 0;
    char long_name[LD_NAME_MAX + 2];
    memset (long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal (ld_payload_certify (key, "Unit", "wudang/", "x", &payload, &size),
                      LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_payload_certify (key, "", "wudang/", "x", &payload, &size),
                      LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_payload_certify (key, "unit", "wudang", "x", &payload, &size),
                      LD_ERR_BAD_TOPIC);
    assert_int_equal (ld_payload_certify (key, "unit", "Wudang/", "x", &payload, &size),
                      LD_ERR_BAD_TOPIC);
    assert_int_equal (ld_payload_certify (key, "unit", "wudang/", "", &payload, &size),
                      LD_ERR_BAD_PAYLOAD);
    assert_int_equal (ld_payload_certify (key, "unit", "wudang/", long_name, &payload, &size),
                      LD_ERR_STRING_TOO_LONG);
    assert_int_equal (ld_payload_certify (key, "unit", "wudang/", "\xe9\x87", &payload, &size),
                      LD_ERR_BAD_UTF8);
}

//  Certify{subject: 31 bytes, level: "unit", path: "a/", name: "x"} as raw
//  wire bytes, as a stranger could send it: within the codec's limits (so
//  ld_event_sign lets it pass), refused by the decoder. Returns the size
//  written into wire.
#define S_SHORT_KEY_WIRE 46
static size_t
s_short_key_certify (uint8_t wire[S_SHORT_KEY_WIRE])
{
    size_t size = 0;
    wire[size++] = 0x0a; //  field 1, length-delimited
    wire[size++] = 31;
    memset (wire + size, 0x11, 31);
    size += 31;
    const uint8_t rest[] = {0x12, 4, 'u', 'n', 'i', 't', 0x1a, 2, 'a', '/', 0x22, 1, 'x'};
    memcpy (wire + size, rest, sizeof rest);
    size += sizeof rest;
    assert_int_equal (size, S_SHORT_KEY_WIRE);
    return size;
}

static void
test_certify_decoder_refuses_a_key_that_is_not_32_bytes (void **state)
{
    (void) state;
    uint8_t wire[S_SHORT_KEY_WIRE];
    size_t size = s_short_key_certify (wire);
    ld_certify_t certify;
    char err[S_ERR_MAX] = "";
    assert_int_equal (ld_payload_certify_decode (wire, size, &certify, err, sizeof err),
                      LD_ERR_BAD_KEY);
    assert_non_null (strstr (err, "Certify.subject"));
    //  33 bytes: past the codec's limit for the field, refused before unpacking
    wire[1] = 33;
    assert_int_equal (ld_payload_certify_decode (wire, size, &certify, NULL, 0), LD_ERR_BAD_KEY);
}

//  ---- the seed hierarchy ----

static void
test_seed_hierarchy_is_certified_from_real_signed_events (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    for (int who = S_ROOT; who <= S_BROKER; who++)
        assert_int_equal (ld_trust_level (self->trust, s_key (self, (s_who_t) who)),
                          ld_level_from_name (s_orgs[who].level));
    assert_int_equal (ld_trust_level (self->trust, s_key (self, S_SPARE_A)), LD_LEVEL_COUNT);
    //  every one may write inside its own path
    s_expect (self, s_act (self, S_LONGGUANGLU, "meeting.convene", "meeting/wudang/longguanglu/"),
              LD_OK, NULL);
    s_expect (
        self,
        s_act (self, S_LONGGUANGLU, "resolution.adopt", "resolution/wudang/longguanglu/2025-03/"),
        LD_OK, NULL);
    s_expect (self,
              s_act (self, S_ZHENHUA, "task.accept", "resolution/wudang/longguanglu/zhenhua/"),
              LD_OK, NULL);
    s_expect (self,
              s_act (self, S_JINJIANGYUAN, "agreement.propose",
                     "agreement/wudang/guanxilu/jinjiangyuan/"),
              LD_OK, NULL);
    s_expect (self, s_note (self, S_ROOT, "note/wudang/"), LD_OK, NULL);
}

static void
test_admitted_event_carries_its_ledger_rule (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    ld_event_t *progress =
        s_act (self, S_WANJIANG, "task.progress", "resolution/wudang/longguanglu/wanjiang/");
    const ld_authority_t *row = NULL;
    assert_int_equal (ld_trust_check (self->trust, progress, &row, NULL, 0), LD_OK);
    assert_string_equal (row->type, "task.progress");
    assert_int_equal (row->ledger, LD_LEDGER_ASSIGNEE_ONLY);
}

static void
test_community_writing_into_a_neighbours_topics_is_refused_naming_the_rule (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_expect (self,
              s_act (self, S_JINJIANGYUAN, "resolution.adopt", "resolution/wudang/longguanglu/"),
              LD_ERR_OUTSIDE_PATH, "rule resolution.adopt");
    s_expect (self, s_note (self, S_JINJIANGYUAN, "note/wudang/longguanglu/zhenhua/"),
              LD_ERR_OUTSIDE_PATH, "outside the community's path 'wudang/guanxilu/jinjiangyuan/'");
    //  inside its own path it still may
    s_expect (self, s_note (self, S_JINJIANGYUAN, "note/wudang/guanxilu/jinjiangyuan/lift/"), LD_OK,
              NULL);
}

static void
test_community_certifying_a_street_is_refused (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    ld_event_t *certify = s_certify_as (self, S_JINJIANGYUAN, s_key (self, S_SPARE_A), "street",
                                        "wudang/guanxilu/jinjiangyuan/", "假街道");
    s_expect (self, certify, LD_ERR_FORBIDDEN_LEVEL, "a community may not certify a street");
    s_expect (self, certify, LD_ERR_FORBIDDEN_LEVEL, "certifies compound, grid, unit only");
    //  Folded anyway (a store that holds it from before), it certifies nobody.
    s_fold (self, certify);
    s_expect (self, s_note (self, S_SPARE_A, "note/wudang/guanxilu/jinjiangyuan/"),
              LD_ERR_NOT_CERTIFIED, "may not certify a street");
}

static void
test_certificate_outside_the_certifiers_path_is_refused (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    ld_event_t *certify = s_certify_as (self, S_GUANXILU, s_key (self, S_SPARE_A), "community",
                                        "wudang/longguanglu/xinguang/", "新光社区");
    s_expect (self, certify, LD_ERR_OUTSIDE_PATH,
              "certificate path 'wudang/longguanglu/xinguang/' lies outside the street's path");
}

static void
test_supervisor_certifying_anything_is_refused (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    for (int level = 0; level < LD_LEVEL_COUNT; level++) {
        ld_event_t *certify = s_certify_as (self, S_SUPERVISOR, s_key (self, S_SPARE_A),
                                            ld_level_name ((ld_level_t) level), "wudang/x/", "x");
        s_expect (self, certify, LD_ERR_FORBIDDEN_TYPE,
                  "a supervisor may not emit 'trust.certify'");
    }
    //  A supervisor may urge, inside its path; adopt, never.
    s_expect (self,
              s_act (self, S_SUPERVISOR, "task.urge", "resolution/wudang/longguanglu/zhenhua/"),
              LD_OK, NULL);
    s_expect (self,
              s_act (self, S_SUPERVISOR, "resolution.adopt", "resolution/wudang/longguanglu/"),
              LD_ERR_FORBIDDEN_TYPE, "rule resolution.adopt");
}

static void
test_unit_adopting_a_resolution_or_certifying_is_refused (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_expect (self,
              s_act (self, S_ZHENHUA, "resolution.adopt", "resolution/wudang/longguanglu/zhenhua/"),
              LD_ERR_FORBIDDEN_TYPE, "a unit may not emit 'resolution.adopt'");
    s_expect (self,
              s_certify_as (self, S_ZHENHUA, s_key (self, S_SPARE_A), "unit",
                            "wudang/longguanglu/zhenhua/a/", "x"),
              LD_ERR_FORBIDDEN_TYPE, "rule trust.certify");
}

static void
test_key_certifying_itself_is_refused (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_expect (self,
              s_certify_as (self, S_LONGGUANGLU, s_key (self, S_LONGGUANGLU), "community",
                            "wudang/longguanglu/self/", "x"),
              LD_ERR_FORBIDDEN_LEVEL, "may not certify itself");
}

static void
test_broker_receipts_pass_and_its_notes_do_not (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    uint8_t digest[LD_ID_BYTES] = {0};
    ld_receipt_range_t range = {s_key (self, S_ZHENHUA), 1, 3};
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_receipt (S_TIME_MS, 1, 3, &range, 1, digest, &payload, &size),
                      LD_OK);
    s_expect (self, s_sign (self, S_BROKER, "receipt/0a1b2c3d4e5f6071/", "receipt", payload, size),
              LD_OK, NULL);
    s_expect (self, s_note (self, S_BROKER, "note/wudang/"), LD_ERR_FORBIDDEN_TYPE,
              "a broker may not emit 'note'");
}

static void
test_trust_event_with_a_bad_payload_is_refused (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    uint8_t *payload = malloc (S_SHORT_KEY_WIRE);
    assert_non_null (payload);
    size_t size = s_short_key_certify (payload);
    ld_event_t *event =
        s_sign (self, S_LONGGUANGLU, "trust/wudang/longguanglu/", LD_TYPE_CERTIFY, payload, size);
    s_expect (self, event, LD_ERR_BAD_KEY, "Certify.subject");
    assert_int_equal (ld_trust_fold (self->trust, event, NULL, 0), LD_ERR_BAD_KEY);
}

//  ---- awaiting a certificate ----

static void
test_event_before_its_authors_certificate_awaits_then_passes (void **state)
{
    s_fixture_t *self = *state;
    s_configure_root (self, self->trust);
    ld_event_t *street = s_certify (self, S_LONGGUANGLU);
    ld_event_t *unit = s_certify (self, S_ZHENHUA);
    ld_event_t *early =
        s_act (self, S_ZHENHUA, "task.accept", "resolution/wudang/longguanglu/zhenhua/");
    //  nothing folded: no certificate names the unit yet
    s_expect (self, early, LD_ERR_AWAITING_CERT, "no certificate names");
    //  the unit's certificate, but not its street's: still awaiting
    s_fold (self, unit);
    s_expect (self, early, LD_ERR_AWAITING_CERT, "a key with no valid level");
    s_fold (self, street);
    s_expect (self, early, LD_OK, NULL);
}

static void
test_unknown_key_awaits (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    char err[S_ERR_MAX] = "";
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_SPARE_D), 1, err, sizeof err),
                      LD_ERR_AWAITING_CERT);
}

//  ---- revocation ----

static void
test_revocation_cut_keeps_events_up_to_n_and_refuses_later_ones (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    ld_event_t *notes[5];
    for (int i = 0; i < 5; i++)
        notes[i] = s_note (self, S_ZHENHUA, "note/wudang/longguanglu/zhenhua/");
    s_fold (self, s_revoke (self, S_LONGGUANGLU, s_key (self, S_ZHENHUA), 3));
    for (int i = 0; i < 3; i++)
        s_expect (self, notes[i], LD_OK, NULL);
    s_expect (self, notes[3], LD_ERR_REVOKED, "after its seq 3; this is seq 4");
    s_expect (self, notes[4], LD_ERR_REVOKED, "revoked by");
    //  Author time is a claim: an event dated before the revocation, even
    //  before the unit's certificate, is still after the cut.
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_note ("补记", &payload, &size), LD_OK);
    ld_event_t *backdated = s_sign_at (self, S_ZHENHUA, S_TIME_MS - 86400000,
                                       "note/wudang/longguanglu/zhenhua/", "note", payload, size);
    s_expect (self, backdated, LD_ERR_REVOKED, "this is seq 6");
    char err[S_ERR_MAX];
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_ZHENHUA), 3, err, sizeof err),
                      LD_OK);
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_ZHENHUA), 4, err, sizeof err),
                      LD_ERR_REVOKED);
}

static void
test_lowest_of_several_cuts_holds (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_fold (self, s_revoke (self, S_LONGGUANGLU, s_key (self, S_ZHENHUA), 7));
    s_fold (self, s_revoke (self, S_ROOT, s_key (self, S_ZHENHUA), 2));
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_ZHENHUA), 2, NULL, 0), LD_OK);
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_ZHENHUA), 3, NULL, 0),
                      LD_ERR_REVOKED);
}

static void
test_revocation_arriving_later_marks_stored_events (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    ld_trust_mark_t *marks = NULL;
    size_t count = 0;
    assert_int_equal (ld_trust_marks (self->trust, &marks, &count), LD_OK);
    assert_int_equal (count, 10); //  the root and nine certified keys: all new
    for (size_t i = 0; i < count; i++) {
        assert_int_equal (marks[i].valid_through, LD_TRUST_NO_CUT);
        assert_true (marks[i].recheck);
        if (i)
            assert_true (memcmp (marks[i - 1].author, marks[i].author, LD_KEY_BYTES) < 0);
    }
    free (marks);
    assert_int_equal (ld_trust_marks (self->trust, &marks, &count), LD_OK);
    assert_int_equal (count, 0); //  nothing changed
    assert_null (marks);

    s_fold (self, s_revoke (self, S_LONGGUANGLU, s_key (self, S_WUKAN), 4));
    assert_int_equal (ld_trust_marks (self->trust, &marks, &count), LD_OK);
    assert_int_equal (count, 1);
    assert_memory_equal (marks[0].author, s_key (self, S_WUKAN), LD_KEY_BYTES);
    assert_int_equal (marks[0].valid_through, 4);
    assert_false (marks[0].recheck); //  a cut only: events after 4 are invalid
    free (marks);
}

static void
test_certificate_issued_after_the_certifiers_cut_is_invalid_and_its_subjects_with_it (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self); //  观溪路 certified 金江苑 at its seq 1
    s_fold (self, s_revoke (self, S_ROOT, s_key (self, S_GUANXILU), 1));
    ld_event_t *late = s_certify_as (self, S_GUANXILU, s_key (self, S_SPARE_A), "community",
                                     "wudang/guanxilu/xinguang/", "新光社区");
    s_expect (self, late, LD_ERR_REVOKED, "after its seq 1");
    s_fold (self, late); //  a broker stored it before it learned of the cut
    self->paths[S_SPARE_A] = "wudang/guanxilu/xinguang/";
    ld_event_t *below = s_certify_as (self, S_SPARE_A, s_key (self, S_SPARE_B), "unit",
                                      "wudang/guanxilu/xinguang/wuye/", "物业公司");
    s_fold (self, below);
    s_expect (self, s_note (self, S_SPARE_A, "note/wudang/guanxilu/xinguang/"), LD_ERR_REVOKED,
              "lies after its cut at 1");
    s_expect (self, s_note (self, S_SPARE_B, "note/wudang/guanxilu/xinguang/wuye/"), LD_ERR_REVOKED,
              NULL);
    //  what it certified before its cut stands
    s_expect (self, s_note (self, S_JINJIANGYUAN, "note/wudang/guanxilu/jinjiangyuan/"), LD_OK,
              NULL);
}

static void
test_revocation_by_a_key_not_above_the_subject_is_ignored (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    //  金江苑 may emit revocations (feed level) but is not above 振华.
    ld_event_t *revoke = s_revoke (self, S_JINJIANGYUAN, s_key (self, S_ZHENHUA), 0);
    s_expect (self, revoke, LD_OK, NULL);
    s_fold (self, revoke);
    //  nor is a street above its sibling street
    s_fold (self, s_revoke (self, S_GUANXILU, s_key (self, S_LONGGUANGLU), 0));
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_ZHENHUA), 1, NULL, 0), LD_OK);
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_LONGGUANGLU), 1, NULL, 0), LD_OK);
    //  the root is above everyone
    s_fold (self, s_revoke (self, S_ROOT, s_key (self, S_ZHENHUA), 0));
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_ZHENHUA), 1, NULL, 0),
                      LD_ERR_REVOKED);
}

static void
test_root_cannot_be_revoked (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_fold (self, s_revoke (self, S_LONGGUANGLU, s_key (self, S_ROOT), 0));
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_ROOT), 5, NULL, 0), LD_OK);
}

//  ---- rotation ----

static void
test_rotation_hands_level_and_path_to_the_successor (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    ld_event_t *before = s_note (self, S_JINJIANGYUAN, "note/wudang/guanxilu/jinjiangyuan/");
    s_fold (self, s_rotate (self, S_JINJIANGYUAN, S_SPARE_A)); //  its seq 2
    ld_event_t *after = s_note (self, S_JINJIANGYUAN, "note/wudang/guanxilu/jinjiangyuan/");
    s_expect (self, before, LD_OK, NULL);
    s_expect (self, after, LD_ERR_REVOKED, "was rotated to");

    assert_int_equal (ld_trust_level (self->trust, s_key (self, S_SPARE_A)), LD_LEVEL_COMMUNITY);
    self->paths[S_SPARE_A] = s_orgs[S_JINJIANGYUAN].path;
    s_expect (
        self,
        s_act (self, S_SPARE_A, "agreement.propose", "agreement/wudang/guanxilu/jinjiangyuan/"),
        LD_OK, NULL);
    s_expect (self, s_note (self, S_SPARE_A, "note/wudang/guanxilu/"), LD_ERR_OUTSIDE_PATH, NULL);
    //  the successor certifies like a community
    ld_event_t *compound = s_certify_as (self, S_SPARE_A, s_key (self, S_SPARE_B), "compound",
                                         "wudang/guanxilu/jinjiangyuan/jiangyuan1/", "江苑一区");
    s_expect (self, compound, LD_OK, NULL);
    s_fold (self, compound);
    s_expect (self, s_note (self, S_SPARE_B, "note/wudang/guanxilu/jinjiangyuan/jiangyuan1/"),
              LD_OK, NULL);
    //  and whoever could cut the old key can cut the new one
    s_fold (self, s_revoke (self, S_GUANXILU, s_key (self, S_SPARE_A), 1));
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_SPARE_A), 2, NULL, 0),
                      LD_ERR_REVOKED);
    //  the compound was certified at the successor's seq 3, after that cut
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_SPARE_B), 1, NULL, 0),
                      LD_ERR_REVOKED);
}

static void
test_rotation_after_the_revocation_cut_hands_nothing_on (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_note (self, S_CEHUI, "note/wudang/longguanglu/cehui/");
    s_fold (self, s_revoke (self, S_LONGGUANGLU, s_key (self, S_CEHUI), 1));
    //  a thief with the revoked key tries to escape into a new one
    s_fold (self, s_rotate (self, S_CEHUI, S_SPARE_C));
    s_expect (self, s_note (self, S_SPARE_C, "note/wudang/longguanglu/cehui/"), LD_ERR_REVOKED,
              "lies after its cut at 1");
}

static void
test_successor_named_by_two_keys_inherits_from_neither (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_fold (self, s_rotate (self, S_WUKAN, S_SPARE_D));
    assert_int_equal (ld_trust_level (self->trust, s_key (self, S_SPARE_D)), LD_LEVEL_UNIT);
    s_fold (self, s_rotate (self, S_WANJIANG, S_SPARE_D));
    assert_int_equal (ld_trust_level (self->trust, s_key (self, S_SPARE_D)), LD_LEVEL_COUNT);
    s_expect (self, s_note (self, S_SPARE_D, "note/wudang/longguanglu/wukan/"),
              LD_ERR_NOT_CERTIFIED, "more than one key names it successor");
}

//  ---- levels, replacement, forks ----

static void
test_newer_certificate_from_the_same_certifier_replaces_the_older (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_fold (self, s_certify_as (self, S_LONGGUANGLU, s_key (self, S_ZHENHUA), "unit",
                                "wudang/longguanglu/zhenhua-group/", "振华集团有限公司"));
    s_expect (self, s_note (self, S_ZHENHUA, "note/wudang/longguanglu/zhenhua-group/"), LD_OK,
              NULL);
    s_expect (self, s_note (self, S_ZHENHUA, "note/wudang/longguanglu/zhenhua/"),
              LD_ERR_OUTSIDE_PATH, NULL);
}

static void
test_unit_of_a_street_may_also_partner_a_community (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_fold (self, s_certify_as (self, S_JINJIANGYUAN, s_key (self, S_ZHENHUA), "unit",
                                "wudang/guanxilu/jinjiangyuan/zhenhua/", "振华集团"));
    s_expect (
        self,
        s_act (self, S_ZHENHUA, "report.checkin", "report/wudang/guanxilu/jinjiangyuan/zhenhua/"),
        LD_OK, NULL);
    s_expect (self,
              s_act (self, S_ZHENHUA, "task.accept", "resolution/wudang/longguanglu/zhenhua/"),
              LD_OK, NULL);
    //  the community is above it now, and may cut it
    s_fold (self, s_revoke (self, S_JINJIANGYUAN, s_key (self, S_ZHENHUA), 2));
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_ZHENHUA), 3, NULL, 0),
                      LD_ERR_REVOKED);
}

static void
test_key_holds_its_most_senior_level_only (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    //  龙广路 also certifies 观溪路's key as a unit: it stays a street, and
    //  龙广路 (not above it) cannot cut it.
    s_fold (self, s_certify_as (self, S_LONGGUANGLU, s_key (self, S_GUANXILU), "unit",
                                "wudang/longguanglu/guanxilu/", "观溪路"));
    assert_int_equal (ld_trust_level (self->trust, s_key (self, S_GUANXILU)), LD_LEVEL_STREET);
    s_fold (self, s_revoke (self, S_LONGGUANGLU, s_key (self, S_GUANXILU), 0));
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_GUANXILU), 1, NULL, 0), LD_OK);
}

static void
test_fork_in_a_trust_feed_freezes_its_author (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self); //  龙广路 wrote seqs 1-4
    ld_event_t *one = s_certify_as (self, S_LONGGUANGLU, s_key (self, S_SPARE_A), "unit",
                                    "wudang/longguanglu/a/", "甲");
    //  the same seq 5 again, another event: rewind the feed
    self->feeds[S_LONGGUANGLU].seq = 4;
    memcpy (self->feeds[S_LONGGUANGLU].prev, ld_event_prev (one), LD_ID_BYTES);
    ld_event_t *two = s_certify_as (self, S_LONGGUANGLU, s_key (self, S_SPARE_B), "unit",
                                    "wudang/longguanglu/b/", "乙");
    s_fold (self, one);
    char err[S_ERR_MAX] = "";
    assert_int_equal (ld_trust_fold (self->trust, two, err, sizeof err), LD_ERR_FORK);
    assert_int_equal (ld_trust_fold (self->trust, one, NULL, 0), LD_OK); //  a resend
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_LONGGUANGLU), 4, NULL, 0), LD_OK);
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_LONGGUANGLU), 5, NULL, 0),
                      LD_ERR_FROZEN);
    assert_int_equal (ld_trust_level (self->trust, s_key (self, S_SPARE_A)), LD_LEVEL_COUNT);
    assert_int_equal (ld_trust_level (self->trust, s_key (self, S_SPARE_B)), LD_LEVEL_COUNT);
    assert_int_equal (ld_trust_level (self->trust, s_key (self, S_ZHENHUA)), LD_LEVEL_UNIT);
}

static void
test_store_proven_fork_freezes_a_key (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    assert_int_equal (ld_trust_freeze (self->trust, s_key (self, S_WANJIANG), 9), LD_OK);
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_WANJIANG), 9, NULL, 0), LD_OK);
    char err[S_ERR_MAX] = "";
    assert_int_equal (ld_trust_valid (self->trust, s_key (self, S_WANJIANG), 10, err, sizeof err),
                      LD_ERR_FROZEN);
    assert_non_null (strstr (err, "proven fork"));
}

static void
test_roots_are_configured_once_with_a_valid_path (void **state)
{
    s_fixture_t *self = *state;
    s_configure_root (self, self->trust);
    assert_int_equal (ld_trust_add_root (self->trust, s_key (self, S_ROOT), "wudang/", NULL),
                      LD_ERR_EXISTS);
    assert_int_equal (ld_trust_add_root (self->trust, s_key (self, S_SPARE_A), "baiyun", NULL),
                      LD_ERR_BAD_TOPIC);
    //  an unscoped root ("") may certify anywhere
    self->paths[S_SPARE_B] = "";
    assert_int_equal (ld_trust_add_root (self->trust, s_key (self, S_SPARE_B), "", "贵阳市"),
                      LD_OK);
    ld_event_t *street = s_certify_as (self, S_SPARE_B, s_key (self, S_SPARE_C), "street",
                                       "baiyun/dalong/", "大龙街道");
    s_expect (self, street, LD_OK, NULL);
}

//  ---- the tree ----

static void
test_tree_shows_the_seed_hierarchy (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    ld_trust_node_t *nodes = NULL;
    size_t count = 0;
    assert_int_equal (ld_trust_tree (self->trust, &nodes, &count), LD_OK);
    struct {
        size_t depth;
        const char *name;
        ld_level_t level;
        s_who_t who;
    } expected[] = {
        {0, "乌当区", LD_LEVEL_DISTRICT, S_ROOT},
        {1, "乌当区代理", LD_LEVEL_BROKER, S_BROKER},
        {1, "乌当区督办", LD_LEVEL_SUPERVISOR, S_SUPERVISOR},
        {1, "观溪路街道", LD_LEVEL_STREET, S_GUANXILU},
        {2, "金江苑社区", LD_LEVEL_COMMUNITY, S_JINJIANGYUAN},
        {1, "龙广路街道", LD_LEVEL_STREET, S_LONGGUANGLU},
        {2, "测绘院", LD_LEVEL_UNIT, S_CEHUI},
        {2, "万江厂", LD_LEVEL_UNIT, S_WANJIANG},
        {2, "物勘院", LD_LEVEL_UNIT, S_WUKAN},
        {2, "振华集团", LD_LEVEL_UNIT, S_ZHENHUA},
    };
    assert_int_equal (count, sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal (nodes[i].depth, expected[i].depth);
        assert_string_equal (nodes[i].name, expected[i].name);
        assert_int_equal (nodes[i].level, expected[i].level);
        assert_memory_equal (nodes[i].key, s_key (self, expected[i].who), LD_KEY_BYTES);
        assert_string_equal (nodes[i].path, s_orgs[expected[i].who].path);
        assert_int_equal (nodes[i].cut, LD_CUT_NONE);
        if (nodes[i].depth == 0)
            assert_int_equal (nodes[i].parent, SIZE_MAX);
        else
            assert_int_equal (nodes[nodes[i].parent].depth, nodes[i].depth - 1);
    }
    //  the units hang under 龙广路, 金江苑 under 观溪路
    assert_int_equal (nodes[9].parent, 5);
    assert_int_equal (nodes[4].parent, 3);
    free (nodes);
}

static void
test_tree_shows_cuts_and_successors (void **state)
{
    s_fixture_t *self = *state;
    s_wudang (self);
    s_fold (self, s_revoke (self, S_LONGGUANGLU, s_key (self, S_ZHENHUA), 0));
    s_fold (self, s_rotate (self, S_JINJIANGYUAN, S_SPARE_A));
    ld_trust_node_t *nodes = NULL;
    size_t count = 0;
    assert_int_equal (ld_trust_tree (self->trust, &nodes, &count), LD_OK);
    bool saw_revoked = false, saw_successor = false;
    for (size_t i = 0; i < count; i++) {
        if (memcmp (nodes[i].key, s_key (self, S_ZHENHUA), LD_KEY_BYTES) == 0) {
            assert_int_equal (nodes[i].cut, LD_CUT_REVOKED);
            assert_int_equal (nodes[i].valid_through, 0);
            saw_revoked = true;
        }
        if (memcmp (nodes[i].key, s_key (self, S_JINJIANGYUAN), LD_KEY_BYTES) == 0) {
            assert_int_equal (nodes[i].cut, LD_CUT_ROTATED);
            assert_true (nodes[i].has_successor);
            assert_memory_equal (nodes[i].successor, s_key (self, S_SPARE_A), LD_KEY_BYTES);
        }
        if (memcmp (nodes[i].key, s_key (self, S_SPARE_A), LD_KEY_BYTES) == 0) {
            assert_true (nodes[i].inherited);
            assert_memory_equal (nodes[i].predecessor, s_key (self, S_JINJIANGYUAN), LD_KEY_BYTES);
            assert_string_equal (nodes[i].name, "金江苑社区");
            assert_int_equal (nodes[i].depth, 2);
            saw_successor = true;
        }
    }
    assert_true (saw_revoked && saw_successor);
    free (nodes);
}

//  ---- order independence ----

//  The scenario for the interleaving test: every rule above at once.
static void
s_sign_scenario (s_fixture_t *self)
{
    self->paths[S_SPARE_A] = s_orgs[S_JINJIANGYUAN].path; //  the successor
    self->paths[S_SPARE_B] = "wudang/guanxilu/xinguang/";
    s_sign_wudang (self);
    //  ordinary work, some of it before the certificates that allow it
    for (int i = 0; i < 4; i++)
        s_note (self, S_ZHENHUA, "note/wudang/longguanglu/zhenhua/");
    s_act (self, S_LONGGUANGLU, "resolution.adopt", "resolution/wudang/longguanglu/");
    s_act (self, S_JINJIANGYUAN, "resolution.adopt", "resolution/wudang/longguanglu/");
    s_act (self, S_SUPERVISOR, "task.urge", "resolution/wudang/longguanglu/zhenhua/");
    s_act (self, S_SUPERVISOR, "resolution.adopt", "resolution/wudang/");
    //  a revocation cut at 2
    s_revoke (self, S_LONGGUANGLU, s_key (self, S_ZHENHUA), 2);
    //  a street cut at 1, certifying after it, and what rests on that
    s_revoke (self, S_ROOT, s_key (self, S_GUANXILU), 1);
    s_certify_as (self, S_GUANXILU, s_key (self, S_SPARE_B), "community",
                  "wudang/guanxilu/xinguang/", "新光社区");
    s_certify_as (self, S_SPARE_B, s_key (self, S_SPARE_C), "unit",
                  "wudang/guanxilu/xinguang/wuye/", "物业公司");
    s_note (self, S_SPARE_B, "note/wudang/guanxilu/xinguang/");
    s_note (self, S_SPARE_C, "note/wudang/guanxilu/xinguang/wuye/");
    //  a community certifying a street; its subject stands nowhere
    s_certify_as (self, S_JINJIANGYUAN, s_key (self, S_SPARE_E), "street",
                  "wudang/guanxilu/jinjiangyuan/", "假街道");
    s_note (self, S_SPARE_E, "note/wudang/guanxilu/jinjiangyuan/");
    //  a rotation, and the successor's work
    s_note (self, S_JINJIANGYUAN, "note/wudang/guanxilu/jinjiangyuan/");
    s_rotate (self, S_JINJIANGYUAN, S_SPARE_A);
    s_note (self, S_JINJIANGYUAN, "note/wudang/guanxilu/jinjiangyuan/");
    s_act (self, S_SPARE_A, "agreement.propose", "agreement/wudang/guanxilu/jinjiangyuan/");
    s_certify_as (self, S_SPARE_A, s_key (self, S_SPARE_D), "compound",
                  "wudang/guanxilu/jinjiangyuan/jiangyuan1/", "江苑一区");
    s_note (self, S_SPARE_D, "note/wudang/guanxilu/jinjiangyuan/jiangyuan1/");
    //  refusals that a store may hold from before
    s_certify_as (self, S_WANJIANG, s_key (self, S_SPARE_D), "street", "wudang/x/", "假");
    s_revoke (self, S_JINJIANGYUAN, s_key (self, S_WUKAN), 0);
    s_note (self, S_CEHUI, "note/wudang/longguanglu/cehui/");
    s_revoke (self, S_LONGGUANGLU, s_key (self, S_CEHUI), 1);
    s_rotate (self, S_CEHUI, S_SPARE_C);
}

//  Appends to a growing text; fails the test when out of memory.
static void s_append (char **text, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_append (char **text, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char line[2 * S_ERR_MAX];
    vsnprintf (line, sizeof line, format, args);
    va_end (args);
    size_t used = *text ? strlen (*text) : 0;
    char *grown = realloc (*text, used + strlen (line) + 1);
    assert_non_null (grown);
    memcpy (grown + used, line, strlen (line) + 1);
    *text = grown;
}

//  Every decision the trust object can give, as text: each event's check,
//  the tree, and the marks.
static char *
s_decisions (s_fixture_t *self, ld_trust_t *trust)
{
    char *text = NULL;
    for (size_t i = 0; i < self->event_count; i++) {
        char err[S_ERR_MAX] = "";
        const ld_authority_t *row = NULL;
        ld_status_t rc = ld_trust_check (trust, self->events[i], &row, err, sizeof err);
        s_append (&text, "%zu %s %s %s\n", i, ld_status_name (rc), row ? row->type : "-", err);
    }
    ld_trust_node_t *nodes = NULL;
    size_t count = 0;
    assert_int_equal (ld_trust_tree (trust, &nodes, &count), LD_OK);
    for (size_t i = 0; i < count; i++) {
        char key[LD_KEY_TEXT_BYTES];
        ld_key_to_text (nodes[i].key, key);
        s_append (&text, "tree %zu %zu %s %s %s %s %llu %d %d\n", nodes[i].depth, nodes[i].parent,
                  key, ld_level_name (nodes[i].level), nodes[i].path, nodes[i].name,
                  (unsigned long long) nodes[i].valid_through, nodes[i].cut, nodes[i].inherited);
    }
    free (nodes);
    ld_trust_mark_t *marks = NULL;
    assert_int_equal (ld_trust_marks (trust, &marks, &count), LD_OK);
    for (size_t i = 0; i < count; i++) {
        char key[LD_KEY_TEXT_BYTES];
        ld_key_to_text (marks[i].author, key);
        s_append (&text, "mark %s %llu\n", key, (unsigned long long) marks[i].valid_through);
    }
    free (marks);
    return text;
}

static uint64_t
s_random (uint64_t *state)
{
    //  xorshift64: reproducible from the seed, no global state
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

//  Folds every event into a fresh trust object in a random interleaving of
//  the feeds (each feed in its own order, as replication delivers them).
static ld_trust_t *
s_fold_interleaved (s_fixture_t *self, uint64_t *random)
{
    ld_trust_t *trust = ld_trust_new ();
    assert_non_null (trust);
    s_configure_root (self, trust);
    size_t next[S_FEEDS] = {0}; //  per feed: the index to look from
    size_t left = self->event_count;
    while (left) {
        s_who_t who = (s_who_t) (s_random (random) % S_FEEDS);
        size_t i = next[who];
        while (i < self->event_count && self->authors[i] != who)
            i++;
        next[who] = i + 1;
        if (i >= self->event_count)
            continue;
        //  an event of a type the fold ignores, or a refused payload, is
        //  still "folded": the broker would have handed it over
        ld_trust_fold (trust, self->events[i], NULL, 0);
        left--;
    }
    return trust;
}

//  Folds every event into a fresh trust object in a random order, feeds
//  shuffled too: the fold must depend on the set of events only.
static ld_trust_t *
s_fold_shuffled (s_fixture_t *self, uint64_t *random)
{
    ld_trust_t *trust = ld_trust_new ();
    assert_non_null (trust);
    s_configure_root (self, trust);
    size_t order[S_EVENTS_MAX];
    for (size_t i = 0; i < self->event_count; i++)
        order[i] = i;
    for (size_t i = self->event_count; i > 1; i--) { //  Fisher-Yates
        size_t j = (size_t) (s_random (random) % i);
        size_t swap = order[i - 1];
        order[i - 1] = order[j];
        order[j] = swap;
    }
    for (size_t i = 0; i < self->event_count; i++)
        ld_trust_fold (trust, self->events[order[i]], NULL, 0);
    return trust;
}

typedef ld_trust_t *(s_folder_fn) (s_fixture_t *self, uint64_t *random);

//  Folds the scenario S_SHUFFLES times with fold, comparing every decision
//  with those of folding it in signing order.
static void
s_expect_same_decisions (s_fixture_t *self, s_folder_fn *fold)
{
    s_configure_root (self, self->trust);
    s_sign_scenario (self);
    s_fold_all (self);
    char *expected = s_decisions (self, self->trust);
    //  the scenario exercises every kind of decision
    const char *kinds[] = {" ok ",           " revoked ",       " forbidden-type ",
                           " outside-path ", " not-certified ", " forbidden-level "};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strstr (expected, kinds[i]))
            fail_msg ("the scenario gives no '%s'", kinds[i]);
    uint64_t random = S_SEED;
    bool differs = false;
    for (int shuffle = 0; shuffle < S_SHUFFLES; shuffle++) {
        ld_trust_t *trust = fold (self, &random);
        char *got = s_decisions (self, trust);
        ld_trust_destroy (&trust);
        //  fail () returns as far as the compiler knows: leave the loop
        //  first, and free once (gcc -O3 warns of a use after free otherwise)
        bool same = strcmp (got, expected) == 0;
        if (!same)
            print_error ("order %d differs.\nexpected:\n%s\ngot:\n%s", shuffle, expected, got);
        free (got);
        if (!same) {
            differs = true;
            break;
        }
    }
    free (expected);
    if (differs)
        fail ();
}

static void
test_any_interleaving_of_the_feeds_gives_the_same_decisions (void **state)
{
    s_expect_same_decisions (*state, s_fold_interleaved);
}

static void
test_fold_depends_on_the_set_of_events_only (void **state)
{
    s_expect_same_decisions (*state, s_fold_shuffled);
}

static void
test_marks_after_a_late_revocation_match_a_fresh_fold (void **state)
{
    s_fixture_t *self = *state;
    s_configure_root (self, self->trust);
    s_sign_scenario (self);
    //  fold all but the revocations, take the marks, then the revocations
    for (size_t i = 0; i < self->event_count; i++)
        if (strcmp (ld_event_type (self->events[i]), LD_TYPE_REVOKE) != 0)
            ld_trust_fold (self->trust, self->events[i], NULL, 0);
    ld_trust_mark_t *marks = NULL;
    size_t count = 0;
    assert_int_equal (ld_trust_marks (self->trust, &marks, &count), LD_OK);
    free (marks);
    for (size_t i = 0; i < self->event_count; i++)
        if (strcmp (ld_event_type (self->events[i]), LD_TYPE_REVOKE) == 0)
            s_fold (self, self->events[i]);
    assert_int_equal (ld_trust_marks (self->trust, &marks, &count), LD_OK);
    //  振华 (cut at 2), 观溪路 (cut at 1), 测绘院 (cut at 1) and what rested on
    //  them: every mark agrees with the standing of each seq
    assert_true (count >= 3);
    for (size_t i = 0; i < count; i++) {
        uint64_t through = marks[i].valid_through;
        if (through != LD_TRUST_NO_CUT)
            assert_int_not_equal (
                ld_trust_valid (self->trust, marks[i].author, through + 1, NULL, 0), LD_OK);
        if (through > 0)
            assert_int_equal (ld_trust_valid (self->trust, marks[i].author, 1, NULL, 0), LD_OK);
    }
    free (marks);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
#define S_TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        S_TEST (test_certify_payload_round_trips),
        S_TEST (test_certify_builder_refuses_what_receivers_refuse),
        S_TEST (test_certify_decoder_refuses_a_key_that_is_not_32_bytes),
        S_TEST (test_seed_hierarchy_is_certified_from_real_signed_events),
        S_TEST (test_admitted_event_carries_its_ledger_rule),
        S_TEST (test_community_writing_into_a_neighbours_topics_is_refused_naming_the_rule),
        S_TEST (test_community_certifying_a_street_is_refused),
        S_TEST (test_certificate_outside_the_certifiers_path_is_refused),
        S_TEST (test_supervisor_certifying_anything_is_refused),
        S_TEST (test_unit_adopting_a_resolution_or_certifying_is_refused),
        S_TEST (test_key_certifying_itself_is_refused),
        S_TEST (test_broker_receipts_pass_and_its_notes_do_not),
        S_TEST (test_trust_event_with_a_bad_payload_is_refused),
        S_TEST (test_event_before_its_authors_certificate_awaits_then_passes),
        S_TEST (test_unknown_key_awaits),
        S_TEST (test_revocation_cut_keeps_events_up_to_n_and_refuses_later_ones),
        S_TEST (test_lowest_of_several_cuts_holds),
        S_TEST (test_revocation_arriving_later_marks_stored_events),
        S_TEST (
            test_certificate_issued_after_the_certifiers_cut_is_invalid_and_its_subjects_with_it),
        S_TEST (test_revocation_by_a_key_not_above_the_subject_is_ignored),
        S_TEST (test_root_cannot_be_revoked),
        S_TEST (test_rotation_hands_level_and_path_to_the_successor),
        S_TEST (test_rotation_after_the_revocation_cut_hands_nothing_on),
        S_TEST (test_successor_named_by_two_keys_inherits_from_neither),
        S_TEST (test_newer_certificate_from_the_same_certifier_replaces_the_older),
        S_TEST (test_unit_of_a_street_may_also_partner_a_community),
        S_TEST (test_key_holds_its_most_senior_level_only),
        S_TEST (test_fork_in_a_trust_feed_freezes_its_author),
        S_TEST (test_store_proven_fork_freezes_a_key),
        S_TEST (test_roots_are_configured_once_with_a_valid_path),
        S_TEST (test_tree_shows_the_seed_hierarchy),
        S_TEST (test_tree_shows_cuts_and_successors),
        S_TEST (test_any_interleaving_of_the_feeds_gives_the_same_decisions),
        S_TEST (test_fold_depends_on_the_set_of_events_only),
        S_TEST (test_marks_after_a_late_revocation_match_a_fresh_fold),
#undef S_TEST
    };
    return cmocka_run_group_tests_name ("trust", tests, NULL, NULL);
}
