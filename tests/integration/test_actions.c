/*  test_actions.c -- the action commands (`liandong meeting|task|report|
    agreement|wish|incident ...`, `amend`, `withdraw`) through real nodes
    of a trusted district on loopback.

    The district is built once, as `liandong demo` builds it: a broker that
    trusts the root 乌当区 (--trust root.pub), the root's node first, then
    each node once its certificate is acknowledged (`cert issue --control`
    through its certifier's node) and the node knows its own standing:

        乌当区        district    wudang/                 (the root)
        ├── 乌当区督办  supervisor  wudang/
        └── 龙广路街道  street      wudang/longguanglu/
            ├── 振华集团    unit       wudang/longguanglu/zhenhua/
            └── 金江苑社区  community  wudang/longguanglu/jinjiangyuan/

    (docs/TRUST.md files 金江苑社区 under 观溪路街道; one street is enough
    here, and the street's whistle then concerns its own community.)

    Each scenario runs the real CLI, expects exit 0 and `<id> <seq>`, then
    reads the event back from the broker (a CurveZMQ client as the root,
    catch-up, ld_event_decode, ld_payload_unpack) and checks its type, its
    topic and the fields given, in the payload's proto3 JSON form. The
    refusals go through the real CLI too: the node refuses before signing
    (65, the rule named) and the broker never sees the event.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_client.h"
#include "ld_identity.h"
#include "ld_pbjson.h"
#include "ld_proc.h"
#include "ld_test_util.h"

#define S_READY_MS  20000
#define S_STATUS_MS 100 //  between two questions to a node about its standing
#define S_READ_MS   10000
#define S_OUT_MAX   65536
#define S_PATH_MAX  512
#define S_FILE_MAX  (S_PATH_MAX * 2) //  a file under a directory of S_PATH_MAX

enum { S_ROOT, S_SUPERVISOR, S_STREET, S_UNIT, S_COMMUNITY, S_OFFICES };

typedef struct {
    const char *slug, *name, *level, *path;
    int certifier; //  -1: the root, on the broker's --trust
} s_office_t;

static const s_office_t s_offices[S_OFFICES] = {
    {"wudang", "乌当区", "district", "wudang/", -1},
    {"duban", "乌当区督办", "supervisor", "wudang/", S_ROOT},
    {"longguanglu", "龙广路街道", "street", "wudang/longguanglu/", S_ROOT},
    {"zhenhua", "振华集团", "unit", "wudang/longguanglu/zhenhua/", S_STREET},
    {"jinjiangyuan", "金江苑社区", "community", "wudang/longguanglu/jinjiangyuan/", S_STREET},
};

typedef struct {
    char dir[S_PATH_MAX / 2];
    char listen[128];
    char broker_pub[S_PATH_MAX];
    ld_proc_t broker;
    ld_proc_t nodes[S_OFFICES];
    char control[S_OFFICES][S_PATH_MAX];
    char pub[S_OFFICES][S_FILE_MAX];
    uint8_t keys[S_OFFICES][LD_KEY_BYTES];
    ld_client_t *reader; //  the root, reading the broker back
    char out[S_OUT_MAX], err[S_OUT_MAX];
} fixture_t;

//  ---------------------------------------------------------------------------
//  Running commands

static int
s_run (fixture_t *fx, const char *const *args)
{
    int code = ld_test_run (args, fx->out, sizeof fx->out, fx->err, sizeof fx->err);
    if (code != 0)
        fprintf (stderr, "# liandong %s %s -> %d: %s", args[0], args[1] ? args[1] : "", code,
                 fx->err);
    return code;
}

//  Runs an action that must be acknowledged; its id ("blake2b:...") into id.
static void
s_act (fixture_t *fx, const char *const *args, char id[LD_ID_TEXT_BYTES])
{
    assert_int_equal (s_run (fx, args), 0);
    unsigned long long seq = 0;
    char word[128];
    assert_int_equal (sscanf (fx->out, "%127s %llu", word, &seq), 2);
    assert_true (strlen (word) < LD_ID_TEXT_BYTES);
    snprintf (id, LD_ID_TEXT_BYTES, "%s", word);
    assert_true (seq >= 1);
}

//  ---------------------------------------------------------------------------
//  Reading back

//  The event with id text `id` as the broker serves it (the caller
//  destroys it), or NULL if the broker does not hold it.
static ld_event_t *
s_stored (fixture_t *fx, const char *id)
{
    uint8_t want[LD_ID_BYTES];
    assert_int_equal (ld_id_from_text (id, want), LD_OK);
    ld_client_stored_t *stored = NULL;
    size_t count = 0;
    assert_int_equal (ld_client_catchup_all (fx->reader, 0, "", S_READ_MS, &stored, &count, NULL),
                      0);
    ld_event_t *found = NULL;
    for (size_t i = 0; i < count && !found; i++) {
        ld_event_t *event = NULL;
        assert_int_equal (ld_event_decode (stored[i].envelope, stored[i].size, 0, &event, NULL, 0),
                          LD_OK);
        if (memcmp (ld_event_id (event), want, LD_ID_BYTES) == 0)
            found = event;
        else
            ld_event_destroy (&event);
    }
    ld_client_stored_free (&stored, count);
    return found;
}

//  Reads event id back: authored by office, of type, on topic; returns its
//  payload in the proto3 JSON form (the caller decrefs).
static json_t *
s_read_back (fixture_t *fx, const char *id, int office, const char *type, const char *topic)
{
    ld_event_t *event = s_stored (fx, id);
    assert_non_null (event);
    assert_int_equal (ld_event_verify (event), LD_OK);
    assert_memory_equal (ld_event_author (event), fx->keys[office], LD_KEY_BYTES);
    assert_string_equal (ld_event_type (event), type);
    assert_string_equal (ld_event_topic (event), topic);
    size_t size;
    const uint8_t *payload = ld_event_payload (event, &size);
    ProtobufCMessage *message = NULL;
    char err[256];
    assert_int_equal (ld_payload_unpack (type, payload, size, &message, err, sizeof err), LD_OK);
    json_t *json = ld_pbjson_from_message (message);
    assert_non_null (json);
    protobuf_c_message_free_unpacked (message, NULL);
    ld_event_destroy (&event);
    return json;
}

//  Bytes as the payload's JSON form prints them (base64).
static void
s_base64 (const uint8_t *data, size_t size, char *out, size_t out_size)
{
    char *text = ld_base64_encode (data, size);
    assert_non_null (text);
    snprintf (out, out_size, "%s", text);
    free (text);
}

static void
s_key64 (const fixture_t *fx, int office, char out[64])
{
    s_base64 (fx->keys[office], LD_KEY_BYTES, out, 64);
}

static void
s_id64 (const char *id, char out[64])
{
    uint8_t bytes[LD_ID_BYTES];
    assert_int_equal (ld_id_from_text (id, bytes), LD_OK);
    s_base64 (bytes, LD_ID_BYTES, out, 64);
}

static const char *
s_string (const json_t *object, const char *path)
{
    //  "a.b": member b of a; "a[1]": element 1 of array a (one level each)
    char head[64];
    const char *dot = strchr (path, '.');
    const char *bracket = strchr (path, '[');
    if (bracket && (!dot || bracket < dot)) {
        snprintf (head, sizeof head, "%.*s", (int) (bracket - path), path);
        const json_t *element = json_array_get (json_object_get (object, head), atoi (bracket + 1));
        const char *rest = strchr (bracket, ']') + 1;
        return *rest == '.' ? s_string (element, rest + 1) : json_string_value (element);
    }
    if (dot) {
        snprintf (head, sizeof head, "%.*s", (int) (dot - path), path);
        return s_string (json_object_get (object, head), dot + 1);
    }
    return json_string_value (json_object_get (object, path));
}

static json_int_t
s_integer (const json_t *object, const char *path)
{
    const char *dot = strchr (path, '.');
    if (dot) {
        char head[64];
        snprintf (head, sizeof head, "%.*s", (int) (dot - path), path);
        return s_integer (json_object_get (object, head), dot + 1);
    }
    const json_t *value = json_object_get (object, path);
    assert_true (json_is_integer (value));
    return json_integer_value (value);
}

//  ---------------------------------------------------------------------------
//  The district

//  True once the office's node answers its status with a level and a path:
//  connected, and its own certificate folded from the trust feeds.
static bool
s_node_certified (fixture_t *fx, int office)
{
    char endpoint[S_PATH_MAX + 1], err[256];
    snprintf (endpoint, sizeof endpoint, ">%s", fx->control[office]);
    ld_socket_spec_t spec = {.type = ZMQ_DEALER, .endpoints = endpoint};
    zsock_t *control = ld_socket_new (&spec, err, sizeof err);
    assert_non_null (control);
    Liandong__Sync__NodeStatusRequest status = LIANDONG__SYNC__NODE_STATUS_REQUEST__INIT;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_STATUS;
    request.status = &status;
    bool certified = false;
    int64_t deadline = ld_proc_now_ms () + S_READY_MS;
    while (!certified && ld_proc_now_ms () < deadline) {
        assert_int_equal (ld_control_request_send (control, &request), 0);
        zmq_pollitem_t item = {zsock_resolve (control), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, S_READY_MS) != 1)
            break;
        zframe_t *frame = zframe_recv (control);
        ld_control_reply_t *reply = NULL;
        if (frame)
            ld_control_reply_decode (zframe_data (frame), zframe_size (frame), &reply, NULL, 0);
        zframe_destroy (&frame);
        certified = reply && reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_STATUS
                    && reply->status->level && streq (reply->status->level, s_offices[office].level)
                    && reply->status->n_paths > 0;
        ld_control_reply_free (&reply);
        if (!certified)
            poll (NULL, 0, S_STATUS_MS); //  the node asks its broker every 2 s
    }
    zsock_destroy (&control);
    return certified;
}

static void
s_start_node (fixture_t *fx, int office)
{
    char data[S_PATH_MAX], secret[S_PATH_MAX];
    snprintf (data, sizeof data, "%s/%s-node", fx->dir, s_offices[office].slug);
    snprintf (secret, sizeof secret, "%s/%s/identity.secret", fx->dir, s_offices[office].slug);
    const char *node[] = {"node",
                          "--data",
                          data,
                          "--identity",
                          secret,
                          "--broker",
                          fx->listen,
                          "--broker-key",
                          fx->broker_pub,
                          "--control",
                          fx->control[office],
                          NULL};
    assert_int_equal (ld_proc_start (&fx->nodes[office], node, true, S_READY_MS), 0);
    assert_true (s_node_certified (fx, office));
}

static void
s_keygen (fixture_t *fx, int office)
{
    char dir[S_PATH_MAX / 2 + 32];
    snprintf (dir, sizeof dir, "%s/%s", fx->dir, s_offices[office].slug);
    const char *plain[] = {"keygen", "--out", dir, NULL};
    const char *root[] = {
        "keygen", "--out", dir, "--path", s_offices[office].path, "--name", s_offices[office].name,
        NULL};
    assert_int_equal (s_run (fx, office == S_ROOT ? root : plain), 0);
    snprintf (fx->pub[office], sizeof fx->pub[office], "%s/identity.pub", dir);
    char err[256];
    assert_int_equal (ld_public_key_load (fx->pub[office], fx->keys[office], err, sizeof err),
                      LD_OK);
    snprintf (fx->control[office], sizeof fx->control[office], "ipc://%s/%s.ipc", fx->dir,
              s_offices[office].slug);
}

static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    for (int i = 0; i < S_OFFICES; i++)
        s_keygen (fx, i);
    char broker_dir[S_PATH_MAX / 2 + 16];
    snprintf (broker_dir, sizeof broker_dir, "%s/broker", fx->dir);
    snprintf (fx->broker_pub, sizeof fx->broker_pub, "%s/identity.pub", broker_dir);
    const char *broker[] = {"broker",  "--data",        broker_dir, "--listen", "tcp://127.0.0.1:*",
                            "--trust", fx->pub[S_ROOT], NULL};
    assert_int_equal (ld_proc_start (&fx->broker, broker, true, S_READY_MS), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
    //  The root's node first; then each office once its certificate is
    //  acknowledged, a certifier before the offices it certifies.
    s_start_node (fx, S_ROOT);
    for (int i = 0; i < S_OFFICES; i++) {
        if (s_offices[i].certifier < 0)
            continue;
        const char *issue[] = {
            "cert",      "issue",           "--control", fx->control[s_offices[i].certifier],
            "--subject", fx->pub[i],        "--level",   s_offices[i].level,
            "--path",    s_offices[i].path, "--name",    s_offices[i].name,
            NULL};
        assert_int_equal (s_run (fx, issue), 0);
        s_start_node (fx, i);
    }
    //  The root reads the broker back over CurveZMQ.
    char secret[S_PATH_MAX], err[256];
    snprintf (secret, sizeof secret, "%s/%s/identity.secret", fx->dir, s_offices[S_ROOT].slug);
    ld_identity_t *identity = NULL;
    assert_int_equal (ld_identity_load (secret, &identity, err, sizeof err), LD_OK);
    uint8_t broker_key[LD_KEY_BYTES];
    assert_int_equal (ld_public_key_load (fx->broker_pub, broker_key, err, sizeof err), LD_OK);
    fx->reader = ld_client_new_curve (fx->listen, identity, broker_key);
    ld_identity_destroy (&identity);
    assert_non_null (fx->reader);
    assert_int_equal (ld_client_hello (fx->reader, S_READ_MS), 0);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    ld_client_destroy (&fx->reader);
    for (int i = S_OFFICES - 1; i >= 0; i--)
        if (fx->nodes[i].pid > 0)
            ld_proc_stop (&fx->nodes[i]);
    ld_proc_stop (&fx->broker);
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

//  ---------------------------------------------------------------------------
//  Scenarios

//  A meeting and its resolution, as the street convenes and adopts them:
//  ids into meeting and resolution.
static void
s_meeting_and_resolution (fixture_t *fx, char meeting[LD_ID_TEXT_BYTES],
                          char resolution[LD_ID_TEXT_BYTES])
{
    const char *convene[] = {"meeting",    "convene",
                             "--control",  fx->control[S_STREET],
                             "--body",     "龙广路街道大工委联席会议",
                             "--date",     "2025-03-12",
                             "--place",    "街道会议室",
                             "--attendee", fx->pub[S_UNIT],
                             "--agenda",   "摆摊设点、占道经营",
                             "--agenda",   "停车管理",
                             NULL};
    s_act (fx, convene, meeting);
    char task0[S_FILE_MAX + 128], task1[S_FILE_MAX];
    //  The deliverable keeps its own commas.
    snprintf (task0, sizeof task0, "%s,2025-04-30,清理占道摊点, 设置疏导点", fx->pub[S_UNIT]);
    char unit_key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (fx->keys[S_UNIT], unit_key);
    snprintf (task1, sizeof task1, "%s,2025-06-30T18:00:00+08:00,规划停车位", unit_key);
    const char *adopt[] = {"meeting",    "resolve",
                           "--control",  fx->control[S_STREET],
                           "--meeting",  meeting,
                           "--text",     "整治占道经营与停车乱象",
                           "--category", "lane-occupation",
                           "--task",     task0,
                           "--task",     task1,
                           NULL};
    s_act (fx, adopt, resolution);
}

static void
test_the_street_convenes_and_adopts_a_resolution_with_two_tasks (void **state)
{
    fixture_t *fx = *state;
    char meeting[LD_ID_TEXT_BYTES], resolution[LD_ID_TEXT_BYTES], b64[64];
    s_meeting_and_resolution (fx, meeting, resolution);

    json_t *convene =
        s_read_back (fx, meeting, S_STREET, "meeting.convene", "meeting/wudang/longguanglu/");
    assert_string_equal (s_string (convene, "body"), "龙广路街道大工委联席会议");
    assert_string_equal (s_string (convene, "date"), "2025-03-12");
    assert_string_equal (s_string (convene, "place"), "街道会议室");
    s_key64 (fx, S_UNIT, b64);
    assert_string_equal (s_string (convene, "attendees[0]"), b64);
    assert_string_equal (s_string (convene, "agenda[0]"), "摆摊设点、占道经营");
    assert_string_equal (s_string (convene, "agenda[1]"), "停车管理");
    json_decref (convene);

    json_t *adopt = s_read_back (fx, resolution, S_STREET, "resolution.adopt",
                                 "resolution/wudang/longguanglu/");
    s_id64 (meeting, b64);
    assert_string_equal (s_string (adopt, "meeting"), b64);
    assert_string_equal (s_string (adopt, "category"), "lane-occupation");
    assert_int_equal (json_array_size (json_object_get (adopt, "tasks")), 2);
    s_key64 (fx, S_UNIT, b64);
    assert_string_equal (s_string (adopt, "tasks[0].unit"), b64);
    assert_string_equal (s_string (adopt, "tasks[1].unit"), b64);
    assert_string_equal (s_string (adopt, "tasks[0].deadline"), "2025-04-30");
    assert_string_equal (s_string (adopt, "tasks[0].deliverable"), "清理占道摊点, 设置疏导点");
    assert_string_equal (s_string (adopt, "tasks[1].deadline"), "2025-06-30T18:00:00+08:00");
    json_decref (adopt);
}

static void
test_the_unit_works_its_task_and_the_street_verifies_it (void **state)
{
    fixture_t *fx = *state;
    char meeting[LD_ID_TEXT_BYTES], resolution[LD_ID_TEXT_BYTES], b64[64];
    s_meeting_and_resolution (fx, meeting, resolution);
    s_id64 (resolution, b64);
    static const struct {
        int office;
        const char *verb, *text, *percent, *topic;
    } steps[] = {
        {S_UNIT, "accept", "接受任务", NULL, "resolution/wudang/longguanglu/zhenhua/"},
        {S_UNIT, "progress", "已清理一半摊点", "60", "resolution/wudang/longguanglu/zhenhua/"},
        {S_UNIT, "complete", "摊点已全部清理", NULL, "resolution/wudang/longguanglu/zhenhua/"},
        {S_STREET, "verify", "现场核查通过", NULL, "resolution/wudang/longguanglu/"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const char *args[] = {"task",
                              steps[i].verb,
                              "--control",
                              fx->control[steps[i].office],
                              "--resolution",
                              resolution,
                              "--task",
                              "0",
                              "--text",
                              steps[i].text,
                              steps[i].percent ? "--percent" : NULL,
                              steps[i].percent,
                              NULL};
        char id[LD_ID_TEXT_BYTES], type[32];
        s_act (fx, args, id);
        snprintf (type, sizeof type, "task.%s", steps[i].verb);
        json_t *action = s_read_back (fx, id, steps[i].office, type, steps[i].topic);
        assert_string_equal (s_string (action, "task.resolution"), b64);
        //  index 0 is proto2 required, so it is present in the JSON form
        assert_int_equal (s_integer (action, "task.index"), 0);
        assert_string_equal (s_string (action, "text"), steps[i].text);
        if (steps[i].percent)
            assert_int_equal (s_integer (action, "percent"), 60);
        else
            assert_null (json_object_get (action, "percent"));
        json_decref (action);
    }
    //  The supervisor urges task 1; the street amends its deadline.
    const char *urge[] = {"task",         "urge",       "--control", fx->control[S_SUPERVISOR],
                          "--resolution", resolution,   "--task",    "1",
                          "--text",       "请加快进度", NULL};
    char id[LD_ID_TEXT_BYTES];
    s_act (fx, urge, id);
    json_t *action = s_read_back (fx, id, S_SUPERVISOR, "task.urge", "resolution/wudang/");
    assert_int_equal (s_integer (action, "task.index"), 1);
    json_decref (action);
    const char *amend[] = {
        "amend",    "--control", fx->control[S_STREET], "--kind",  "resolution", "--original",
        resolution, "--field",   "tasks.1.deadline",    "--value", "2025-07-31", "--reason",
        "雨季顺延", NULL};
    s_act (fx, amend, id);
    json_t *correction = s_read_back (fx, id, S_STREET, "amend", "resolution/wudang/longguanglu/");
    assert_string_equal (s_string (correction, "original"), b64);
    assert_string_equal (s_string (correction, "field"), "tasks.1.deadline");
    assert_string_equal (s_string (correction, "value"), "2025-07-31");
    assert_string_equal (s_string (correction, "reason"), "雨季顺延");
    json_decref (correction);
}

static void
test_a_wish_is_posted_claimed_and_fulfilled (void **state)
{
    fixture_t *fx = *state;
    const char *post[] = {"wish",       "post",
                          "--control",  fx->control[S_COMMUNITY],
                          "--text",     "为独居老人安装扶手",
                          "--category", "助老",
                          "--people",   "12",
                          NULL};
    char wish[LD_ID_TEXT_BYTES], id[LD_ID_TEXT_BYTES], b64[64];
    s_act (fx, post, wish);
    json_t *posted =
        s_read_back (fx, wish, S_COMMUNITY, "wish.post", "wish/wudang/longguanglu/jinjiangyuan/");
    assert_string_equal (s_string (posted, "text"), "为独居老人安装扶手");
    assert_string_equal (s_string (posted, "category"), "助老");
    assert_int_equal (s_integer (posted, "people"), 12);
    json_decref (posted);
    s_id64 (wish, b64);
    const char *verbs[] = {"claim", "fulfil"};
    for (size_t i = 0; i < 2; i++) {
        const char *args[] = {"wish",   verbs[i], "--control", fx->control[S_UNIT], "--wish", wish,
                              "--text", verbs[i], NULL};
        s_act (fx, args, id);
        char type[32];
        snprintf (type, sizeof type, "wish.%s", verbs[i]);
        json_t *action = s_read_back (fx, id, S_UNIT, type, "wish/wudang/longguanglu/zhenhua/");
        assert_string_equal (s_string (action, "wish"), b64);
        assert_string_equal (s_string (action, "text"), verbs[i]);
        json_decref (action);
    }
}

static void
test_the_unit_checks_in_at_the_community_and_records_service (void **state)
{
    fixture_t *fx = *state;
    const char *checkin[] = {"report",      "checkin",
                             "--control",   fx->control[S_UNIT],
                             "--community", s_offices[S_COMMUNITY].path,
                             "--unit",      fx->pub[S_UNIT],
                             "--offer",     "义诊",
                             "--offer",     "法律咨询",
                             "--year",      "2025",
                             NULL};
    char registered[LD_ID_TEXT_BYTES], id[LD_ID_TEXT_BYTES], b64[64];
    s_act (fx, checkin, registered);
    json_t *form = s_read_back (fx, registered, S_UNIT, "report.checkin",
                                "report/wudang/longguanglu/zhenhua/");
    assert_string_equal (s_string (form, "community"), "wudang/longguanglu/jinjiangyuan/");
    s_key64 (fx, S_UNIT, b64);
    assert_string_equal (s_string (form, "unit"), b64);
    assert_null (json_object_get (form, "member"));
    assert_string_equal (s_string (form, "offers[0]"), "义诊");
    assert_string_equal (s_string (form, "offers[1]"), "法律咨询");
    assert_int_equal (s_integer (form, "year"), 2025);
    json_decref (form);
    const char *service[] = {"report",
                             "service",
                             "--control",
                             fx->control[S_UNIT],
                             "--checkin",
                             registered,
                             "--date",
                             "2025-05-04",
                             "--activity",
                             "社区义诊",
                             "--minutes",
                             "180",
                             "--people",
                             "45",
                             "--volunteers",
                             "6",
                             "--team",
                             "振华志愿服务队",
                             NULL};
    s_act (fx, service, id);
    json_t *entry =
        s_read_back (fx, id, S_UNIT, "report.service", "report/wudang/longguanglu/zhenhua/");
    s_id64 (registered, b64);
    assert_string_equal (s_string (entry, "checkin"), b64);
    assert_string_equal (s_string (entry, "date"), "2025-05-04");
    assert_string_equal (s_string (entry, "activity"), "社区义诊");
    assert_int_equal (s_integer (entry, "minutes"), 180);
    assert_int_equal (s_integer (entry, "peopleServed"), 45);
    assert_int_equal (s_integer (entry, "volunteers"), 6);
    assert_string_equal (s_string (entry, "team"), "振华志愿服务队");
    json_decref (entry);
    //  The host community's feedback, printed as JSON.
    const char *feedback[] = {"report",    "feedback", "--control", fx->control[S_COMMUNITY],
                              "--checkin", registered, "--text",    "居民满意",
                              "--rating",  "5",        "--json",    NULL};
    assert_int_equal (s_run (fx, feedback), 0);
    json_t *line = json_loads (fx->out, 0, NULL);
    assert_non_null (line);
    assert_string_equal (s_string (line, "status"), "acknowledged");
    assert_string_equal (s_string (line, "type"), "report.feedback");
    assert_string_equal (s_string (line, "topic"), "report/wudang/longguanglu/jinjiangyuan/");
    snprintf (id, sizeof id, "%s", s_string (line, "id"));
    json_decref (line);
    json_t *given = s_read_back (fx, id, S_COMMUNITY, "report.feedback",
                                 "report/wudang/longguanglu/jinjiangyuan/");
    assert_int_equal (s_integer (given, "rating"), 5);
    json_decref (given);
}

static void
test_an_agreement_is_proposed_and_signed (void **state)
{
    fixture_t *fx = *state;
    const char *propose[] = {"agreement", "propose",
                             "--control", fx->control[S_COMMUNITY],
                             "--unit",    fx->pub[S_UNIT],
                             "--title",   "2025年度共建协议",
                             "--term",    "每季度开展一次义诊",
                             "--term",    "共建党员活动室",
                             "--until",   "2025-12-31",
                             NULL};
    char agreement[LD_ID_TEXT_BYTES], id[LD_ID_TEXT_BYTES], b64[64];
    s_act (fx, propose, agreement);
    json_t *proposed = s_read_back (fx, agreement, S_COMMUNITY, "agreement.propose",
                                    "agreement/wudang/longguanglu/jinjiangyuan/");
    s_key64 (fx, S_UNIT, b64);
    assert_string_equal (s_string (proposed, "unit"), b64);
    assert_string_equal (s_string (proposed, "title"), "2025年度共建协议");
    assert_string_equal (s_string (proposed, "terms[1]"), "共建党员活动室");
    assert_string_equal (s_string (proposed, "until"), "2025-12-31");
    json_decref (proposed);
    const char *sign[] = {"agreement",   "sign",    "--control", fx->control[S_UNIT],
                          "--agreement", agreement, NULL};
    s_act (fx, sign, id);
    json_t *signed_ =
        s_read_back (fx, id, S_UNIT, "agreement.sign", "agreement/wudang/longguanglu/zhenhua/");
    s_id64 (agreement, b64);
    assert_string_equal (s_string (signed_, "agreement"), b64);
    json_decref (signed_);
}

static void
test_an_incident_is_reported_and_whistled (void **state)
{
    fixture_t *fx = *state;
    const char *report[] = {"incident", "report",           "--control",  fx->control[S_COMMUNITY],
                            "--text",   "小区门口道路积水", "--category", "市政",
                            "--place",  "金江苑北门",       NULL};
    char incident[LD_ID_TEXT_BYTES], id[LD_ID_TEXT_BYTES], b64[64];
    s_act (fx, report, incident);
    json_t *reported = s_read_back (fx, incident, S_COMMUNITY, "incident.report",
                                    "incident/wudang/longguanglu/jinjiangyuan/");
    assert_string_equal (s_string (reported, "text"), "小区门口道路积水");
    assert_string_equal (s_string (reported, "category"), "市政");
    assert_string_equal (s_string (reported, "place"), "金江苑北门");
    json_decref (reported);
    const char *whistle[] = {"incident",   "whistle",
                             "--control",  fx->control[S_STREET],
                             "--incident", incident,
                             "--unit",     fx->pub[S_UNIT],
                             "--tier",     "4",
                             "--deadline", "2025-05-10",
                             "--text",     "请振华集团报到处置",
                             NULL};
    s_act (fx, whistle, id);
    json_t *called =
        s_read_back (fx, id, S_STREET, "incident.whistle", "incident/wudang/longguanglu/");
    s_id64 (incident, b64);
    assert_string_equal (s_string (called, "incident"), b64);
    s_key64 (fx, S_UNIT, b64);
    assert_string_equal (s_string (called, "units[0]"), b64);
    assert_int_equal (s_integer (called, "tier"), 4);
    assert_string_equal (s_string (called, "deadline"), "2025-05-10");
    json_decref (called);
}

//  Counts the events of type (NULL: any) that the broker holds from office.
static size_t
s_count (fixture_t *fx, int office, const char *type)
{
    ld_client_stored_t *stored = NULL;
    size_t count = 0, found = 0;
    assert_int_equal (ld_client_catchup_all (fx->reader, 0, "", S_READ_MS, &stored, &count, NULL),
                      0);
    for (size_t i = 0; i < count; i++) {
        ld_event_t *event = NULL;
        assert_int_equal (ld_event_decode (stored[i].envelope, stored[i].size, 0, &event, NULL, 0),
                          LD_OK);
        if (memcmp (ld_event_author (event), fx->keys[office], LD_KEY_BYTES) == 0
            && (!type || streq (ld_event_type (event), type)))
            found++;
        ld_event_destroy (&event);
    }
    ld_client_stored_free (&stored, count);
    return found;
}

static void
test_overreach_is_refused_by_the_node_before_signing (void **state)
{
    fixture_t *fx = *state;
    char meeting[LD_ID_TEXT_BYTES], resolution[LD_ID_TEXT_BYTES];
    s_meeting_and_resolution (fx, meeting, resolution);
    //  A unit may not adopt resolutions.
    const char *adopt[] = {"meeting",    "resolve", "--control", fx->control[S_UNIT],
                           "--meeting",  meeting,   "--text",    "自行议定",
                           "--category", "parking", NULL};
    assert_int_equal (s_run (fx, adopt), EX_DATAERR);
    assert_non_null (strstr (fx->err, "refused"));
    assert_non_null (strstr (fx->err, "forbidden-type"));
    assert_string_equal (fx->out, "");
    assert_int_equal (s_count (fx, S_UNIT, "resolution.adopt"), 0);
    //  A community may not post under the street's path.
    const char *outside[] = {"wish",      "post",
                             "--control", fx->control[S_COMMUNITY],
                             "--path",    "wudang/longguanglu/",
                             "--text",    "越界心愿",
                             NULL};
    assert_int_equal (s_run (fx, outside), EX_DATAERR);
    assert_non_null (strstr (fx->err, "outside-path"));
    //  The control: the same post inside its own path is acknowledged.
    const char *inside[] = {"wish",      "post",
                            "--control", fx->control[S_COMMUNITY],
                            "--path",    "wudang/longguanglu/jinjiangyuan/",
                            "--text",    "越界心愿",
                            NULL};
    assert_int_equal (s_run (fx, inside), 0);
}

static void
test_usage_errors_are_64_and_sign_nothing (void **state)
{
    fixture_t *fx = *state;
    const char *control = fx->control[S_STREET];
    const char *id = "blake2b:AAAA"; //  too short for 32 bytes
    char real_id[LD_ID_TEXT_BYTES], task[S_FILE_MAX + 64];
    //  a well-formed id, for the commands whose other flags are wrong
    const char *post[] = {"wish",   "post", "--control", fx->control[S_COMMUNITY],
                          "--text", "x",    NULL};
    s_act (fx, post, real_id);
    snprintf (task, sizeof task, "%s,2025-13-01,x", fx->pub[S_UNIT]);
    static const char *const expect[] = {
        "bad --date",     "bad --category", "bad --percent",     "bad --rating",   "bad --meeting",
        "missing --kind", "exactly one of", "unknown task verb", "missing --text", "deadline",
        "bad --grade",    "unknown option", "missing --control",
    };
    const char *cases[][16] = {
        {"meeting", "convene", "--control", control, "--body", "x", "--date", "2025-02-30", NULL},
        {"meeting", "resolve", "--control", control, "--meeting", real_id, "--text", "x",
         "--category", "traffic", NULL},
        {"task", "progress", "--control", control, "--resolution", real_id, "--task", "0",
         "--percent", "101", NULL},
        {"report", "feedback", "--control", control, "--checkin", real_id, "--text", "x",
         "--rating", "6", NULL},
        {"meeting", "resolve", "--control", control, "--meeting", id, "--text", "x", "--category",
         "parking", NULL},
        {"amend", "--control", control, "--original", real_id, "--field", "text", "--value", "y",
         NULL},
        {"report", "checkin", "--control", control, "--community", "wudang/x/", NULL},
        {"task", "finish", "--control", control, NULL},
        {"wish", "post", "--control", control, NULL},
        {"meeting", "resolve", "--control", control, "--meeting", real_id, "--text", "x",
         "--category", "parking", "--task", task, NULL},
        {"report", "evaluate", "--control", control, "--checkin", real_id, "--year", "2025",
         "--grade", "A", NULL},
        {"withdraw", "--control", control, "--kind", "wish", "--original", real_id, "--bogus",
         NULL},
        {"wish", "claim", "--wish", real_id, NULL},
    };
    size_t before = s_count (fx, S_STREET, NULL);
    size_t count = sizeof cases / sizeof cases[0];
    assert_int_equal (count, sizeof expect / sizeof expect[0]);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal (s_run (fx, cases[i]), EX_USAGE);
        if (!strstr (fx->err, expect[i]))
            fail_msg ("case %zu: '%s' not in: %s", i, expect[i], fx->err);
        assert_string_equal (fx->out, "");
    }
    //  Nothing was signed: the street's feed is where it was.
    assert_int_equal (s_count (fx, S_STREET, NULL), before);
    //  A key file that does not exist is 66; a node that is not there, 69.
    const char *no_key[] = {"agreement", "propose",
                            "--control", fx->control[S_COMMUNITY],
                            "--unit",    "/nonexistent/identity.pub",
                            "--title",   "x",
                            NULL};
    assert_int_equal (s_run (fx, no_key), EX_NOINPUT);
    char gone[S_PATH_MAX];
    snprintf (gone, sizeof gone, "ipc://%s/gone.ipc", fx->dir);
    const char *no_node[] = {"wish", "post", "--control", gone, "--text", "x", NULL};
    assert_int_equal (s_run (fx, no_node), EX_UNAVAILABLE);
}

static void
test_every_group_and_verb_has_help (void **state)
{
    fixture_t *fx = *state;
    static const char *const verbs[][7] = {
        {"meeting", "convene", "resolve", "close", NULL},
        {"task", "accept", "progress", "complete", "verify", "reopen", "urge"},
        {"report", "checkin", "service", "feedback", "evaluate", NULL},
        {"agreement", "propose", "sign", NULL},
        {"wish", "post", "claim", "fulfil", NULL},
        {"incident", "report", "collect", "whistle", "assign", "resolve"},
        {"amend", NULL},
        {"withdraw", NULL},
    };
    for (size_t g = 0; g < sizeof verbs / sizeof verbs[0]; g++) {
        const char *group[] = {verbs[g][0], "--help", NULL};
        assert_int_equal (s_run (fx, group), 0);
        assert_non_null (strstr (fx->out, "usage: liandong"));
        assert_non_null (strstr (fx->out, "--control"));
        for (size_t v = 1; v < 7 && verbs[g][v]; v++) {
            const char *verb[] = {verbs[g][0], verbs[g][v], "--help", NULL};
            assert_int_equal (s_run (fx, verb), 0);
            assert_non_null (strstr (fx->out, "--timeout"));
            assert_non_null (strstr (fx->out, "Signed by the node: type "));
        }
    }
    const char *bare[] = {"task", NULL};
    assert_int_equal (s_run (fx, bare), EX_USAGE);
}

int
main (void)
{
    setlocale (LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_the_street_convenes_and_adopts_a_resolution_with_two_tasks),
        cmocka_unit_test (test_the_unit_works_its_task_and_the_street_verifies_it),
        cmocka_unit_test (test_a_wish_is_posted_claimed_and_fulfilled),
        cmocka_unit_test (test_the_unit_checks_in_at_the_community_and_records_service),
        cmocka_unit_test (test_an_agreement_is_proposed_and_signed),
        cmocka_unit_test (test_an_incident_is_reported_and_whistled),
        cmocka_unit_test (test_overreach_is_refused_by_the_node_before_signing),
        cmocka_unit_test (test_usage_errors_are_64_and_sign_nothing),
        cmocka_unit_test (test_every_group_and_verb_has_help),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
