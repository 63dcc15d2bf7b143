/*  test_cert.c -- `liandong cert` and `liandong import` against real
    processes: a broker run with --trust (CurveZMQ, our ZAP handler), a
    node per certifier, temp dirs.

    The district of docs/TRUST.md is built as a real district must be: the
    root 乌当区 (wudang/) signs offline and is the only key the broker
    admits at first; its certificate for 龙广路街道 is imported straight
    into the broker (the root's own key for CurveZMQ), and only then does
    龙广路's node start, so that its first handshake is admitted. The
    certificate for 观溪路街道 goes through that node (Relay), and 观溪路's
    node starts after it is stored. 观溪路 certifies 金江苑社区 and 龙广路
    four units with `cert issue --control`. Then `cert tree` prints exactly
    that hierarchy with the name column aligned in terminal columns, `cert
    show` gives the levels, a revocation shows its cut (with --path, and
    without: the node knows its certified path), the offline feed continues
    (seq 1, 2, prev chained), import is idempotent, --out is never
    overwritten, and usage errors are 64.

    One test runs on an --open broker, because what it checks exists only
    there: a node of an --open broker learns no trust roots, so it knows no
    certified path of its own.
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
#include <wchar.h>

#include "ld_proc.h"
#include "ld_socket.h"
#include "ld_sync.h"
#include "ld_test_util.h"

#define S_READY_MS  20000
#define S_STATUS_MS 100 //  between two questions to a node about its standing
#define S_OUT_MAX   65536
#define S_PATH_MAX  512
#define S_STREETS   2
#define S_NODES     2 //  the two streets certify through nodes

typedef struct {
    char dir[S_PATH_MAX / 2];
    char listen[128];
    char broker_pub[S_PATH_MAX]; //  DATA/identity.pub, made on the broker's first start
    ld_proc_t broker;
    ld_proc_t nodes[S_NODES];
    char control[S_NODES][S_PATH_MAX];
    char root_pub[S_PATH_MAX], root_secret[S_PATH_MAX];
    char out[S_OUT_MAX], err[S_OUT_MAX];
} fixture_t;

//  The street nodes: 0 龙广路街道, 1 观溪路街道.
static const char *const s_streets[S_STREETS] = {"longguanglu", "guanxilu"};

static void
s_path (const fixture_t *fx, char *out, const char *name, const char *file)
{
    snprintf (out, S_PATH_MAX, "%s/%s%s%s", fx->dir, name, file ? "/" : "", file ? file : "");
}

static int
s_run (fixture_t *fx, const char *const *args)
{
    return ld_test_run (args, fx->out, sizeof fx->out, fx->err, sizeof fx->err);
}

static void
s_keygen (fixture_t *fx, const char *name)
{
    char dir[S_PATH_MAX];
    s_path (fx, dir, name, NULL);
    const char *args[] = {"keygen", "--out", dir, NULL};
    assert_int_equal (s_run (fx, args), 0);
}

//  True once the node of street answers its status with a level: it has
//  had a Welcome from its broker (so it is connected) and folded its own
//  certificate from the trust feeds (so it knows its org path). A node says
//  "ready" when its control socket serves, before either.
static bool
s_node_certified (fixture_t *fx, int street)
{
    char endpoint[S_PATH_MAX + 1], err[256];
    snprintf (endpoint, sizeof endpoint, ">%s", fx->control[street]);
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
                    && reply->status->level && *reply->status->level && reply->status->n_paths > 0;
        ld_control_reply_free (&reply);
        if (!certified)
            poll (NULL, 0, S_STATUS_MS); //  the node asks its broker every 2 s
    }
    zsock_destroy (&control);
    return certified;
}

//  Starts the node of a street; on a trusted broker, only once the street's
//  certificate is stored, so that its first CurveZMQ handshake is admitted,
//  and waits until the node knows it is certified.
static void
s_start_node (fixture_t *fx, int street, bool trusted)
{
    char data[S_PATH_MAX], secret[S_PATH_MAX], name[64];
    snprintf (name, sizeof name, "%s-node", s_streets[street]);
    s_path (fx, data, name, NULL);
    s_path (fx, secret, s_streets[street], "identity.secret");
    //  untrusted: the list ends before --broker-key (a node of an --open broker)
    const char *node[] = {"node",
                          "--data",
                          data,
                          "--identity",
                          secret,
                          "--broker",
                          fx->listen,
                          "--control",
                          fx->control[street],
                          trusted ? "--broker-key" : NULL,
                          fx->broker_pub,
                          NULL};
    assert_int_equal (ld_proc_start (&fx->nodes[street], node, true, S_READY_MS), 0);
    if (trusted)
        assert_true (s_node_certified (fx, street));
}

//  The keys of the root and the streets; a broker trusting the root
//  (trusted), or an --open one. No node runs yet.
static int
s_setup_broker (void **state, bool trusted)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    char root[S_PATH_MAX];
    s_path (fx, root, "root", NULL);
    const char *keygen[] = {"keygen", "--out", root, "--path", "wudang/", "--name", "乌当区", NULL};
    assert_int_equal (s_run (fx, keygen), 0);
    s_path (fx, fx->root_pub, "root", "identity.pub");
    s_path (fx, fx->root_secret, "root", "identity.secret");
    for (int i = 0; i < S_NODES; i++) {
        s_keygen (fx, s_streets[i]);
        snprintf (fx->control[i], sizeof fx->control[i], "ipc://%s/%s.ipc", fx->dir, s_streets[i]);
    }
    char broker_dir[S_PATH_MAX];
    s_path (fx, broker_dir, "broker", NULL);
    s_path (fx, fx->broker_pub, "broker", "identity.pub");
    //  --open: the list ends after it
    const char *broker[] = {"broker",
                            "--data",
                            broker_dir,
                            "--listen",
                            "tcp://127.0.0.1:*",
                            trusted ? "--trust" : "--open",
                            trusted ? fx->root_pub : NULL,
                            NULL};
    assert_int_equal (ld_proc_start (&fx->broker, broker, true, S_READY_MS), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
    *state = fx;
    return 0;
}

static int
s_setup (void **state)
{
    return s_setup_broker (state, true);
}

static int
s_setup_open (void **state)
{
    return s_setup_broker (state, false);
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    //  a node that never started has no pid: kill (0, ...) would hit us
    for (int i = 0; i < S_NODES; i++)
        if (fx->nodes[i].pid > 0)
            ld_proc_stop (&fx->nodes[i]);
    ld_proc_stop (&fx->broker);
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

//  `import FILE` straight into the broker, as the root over CurveZMQ.
static int
s_import_direct (fixture_t *fx, const char *file)
{
    const char *args[] = {"import",       file,         "--broker",      fx->listen, "--broker-key",
                          fx->broker_pub, "--identity", fx->root_secret, NULL};
    return s_run (fx, args);
}

//  Root certifies a street offline into FILE.
static int
s_offline_street (fixture_t *fx, int street, const char *name, const char *file)
{
    char subject[S_PATH_MAX], path[128];
    s_path (fx, subject, s_streets[street], "identity.pub");
    snprintf (path, sizeof path, "wudang/%s/", s_streets[street]);
    const char *args[] = {"cert",      "issue",  "--offline", "--identity", fx->root_secret,
                          "--subject", subject,  "--level",   "street",     "--path",
                          path,        "--name", name,        "--out",      file,
                          NULL};
    return s_run (fx, args);
}

//  A street certifies a new key (named key) through its node.
static int
s_issue (fixture_t *fx, int street, const char *key, const char *level, const char *slug,
         const char *name)
{
    s_keygen (fx, key);
    char subject[S_PATH_MAX], path[128];
    s_path (fx, subject, key, "identity.pub");
    snprintf (path, sizeof path, "wudang/%s/%s/", s_streets[street], slug);
    const char *args[] = {"cert",      "issue", "--control", fx->control[street],
                          "--subject", subject, "--level",   level,
                          "--path",    path,    "--name",    name,
                          NULL};
    return s_run (fx, args);
}

static void
s_build_district (fixture_t *fx)
{
    char file1[S_PATH_MAX], file2[S_PATH_MAX];
    s_path (fx, file1, "longguanglu.cert", NULL);
    s_path (fx, file2, "guanxilu.cert", NULL);
    assert_int_equal (s_offline_street (fx, 0, "龙广路街道", file1), 0);
    assert_int_equal (s_offline_street (fx, 1, "观溪路街道", file2), 0);
    assert_int_equal (s_import_direct (fx, file1), 0);
    assert_non_null (strstr (fx->out, " 1 stored"));
    s_start_node (fx, 0, true);
    //  观溪路's node cannot connect yet: 龙广路's relays its certificate.
    const char *relayed[] = {"import", file2, "--control", fx->control[0], NULL};
    assert_int_equal (s_run (fx, relayed), 0);
    assert_non_null (strstr (fx->out, " 2 stored"));
    s_start_node (fx, 1, true);
    assert_int_equal (s_issue (fx, 1, "jinjiangyuan", "community", "jinjiangyuan", "金江苑社区"),
                      0);
    assert_int_equal (s_issue (fx, 0, "zhenhua", "unit", "zhenhua", "振华集团"), 0);
    assert_int_equal (s_issue (fx, 0, "wanjiang", "unit", "wanjiang", "万江厂"), 0);
    assert_int_equal (s_issue (fx, 0, "wukan", "unit", "wukan", "物勘院"), 0);
    assert_int_equal (s_issue (fx, 0, "cehui", "unit", "cehui", "测绘院"), 0);
}

//  Terminal columns of the first n bytes of a UTF-8 line.
static int
s_columns (const char *line, size_t n)
{
    wchar_t wide[512];
    char copy[1024];
    snprintf (copy, sizeof copy, "%.*s", (int) n, line);
    size_t count = mbstowcs (wide, copy, 512);
    assert_true (count != (size_t) -1);
    return wcswidth (wide, count);
}

static void
test_cert_tree_prints_the_district_hierarchy_aligned (void **state)
{
    fixture_t *fx = *state;
    s_build_district (fx);
    const char *tree[] = {"cert",         "tree",         "--broker",   fx->listen,
                          "--broker-key", fx->broker_pub, "--identity", fx->root_secret,
                          "--trust",      fx->root_pub,   NULL};
    assert_int_equal (s_run (fx, tree), 0);
    //  Depth-first, siblings by path: exactly the block of docs/TRUST.md.
    static const char *const expected[][3] = {
        {"乌当区", "district", "wudang/"},
        {"├── 观溪路街道", "street", "wudang/guanxilu/"},
        {"│   └── 金江苑社区", "community", "wudang/guanxilu/jinjiangyuan/"},
        {"└── 龙广路街道", "street", "wudang/longguanglu/"},
        {"    ├── 测绘院", "unit", "wudang/longguanglu/cehui/"},
        {"    ├── 万江厂", "unit", "wudang/longguanglu/wanjiang/"},
        {"    ├── 物勘院", "unit", "wudang/longguanglu/wukan/"},
        {"    └── 振华集团", "unit", "wudang/longguanglu/zhenhua/"},
    };
    size_t lines = sizeof expected / sizeof expected[0];
    char *save = NULL;
    char *line = strtok_r (fx->out, "\n", &save);
    int level_column = -1;
    for (size_t i = 0; i < lines; i++) {
        assert_non_null (line);
        assert_true (strncmp (line, expected[i][0], strlen (expected[i][0])) == 0);
        char level[32];
        snprintf (level, sizeof level, "  %s ", expected[i][1]);
        const char *at = strstr (line, level);
        assert_non_null (at);
        assert_non_null (strstr (line, expected[i][2]));
        //  The name column has the same display width on every line.
        int columns = s_columns (line, (size_t) (at - line));
        if (level_column < 0)
            level_column = columns;
        assert_int_equal (columns, level_column);
        line = strtok_r (NULL, "\n", &save);
    }
    assert_null (line);
}

//  The level `cert show --json` gives key NAME.
static void
s_show_level (fixture_t *fx, const char *name, const char *level, json_int_t cut)
{
    char subject[S_PATH_MAX];
    s_path (fx, subject, name, "identity.pub");
    const char *show[] = {"cert",         "show",       "--broker",      fx->listen, "--broker-key",
                          fx->broker_pub, "--identity", fx->root_secret, "--trust",  fx->root_pub,
                          "--json",       "--subject",  subject,         NULL};
    assert_int_equal (s_run (fx, show), 0);
    json_t *array = json_loads (fx->out, 0, NULL);
    assert_non_null (array);
    assert_int_equal (json_array_size (array), 1);
    json_t *row = json_array_get (array, 0);
    assert_string_equal (json_string_value (json_object_get (row, "level")), level);
    json_t *valid = json_object_get (row, "valid_through");
    if (cut < 0)
        assert_null (valid);
    else {
        assert_int_equal (json_integer_value (valid), cut);
        assert_string_equal (json_string_value (json_object_get (row, "cut")), "revoked");
    }
    json_decref (array);
}

static void
test_cert_show_gives_levels_and_a_revocation_cut (void **state)
{
    fixture_t *fx = *state;
    s_build_district (fx);
    s_show_level (fx, "root", "district", -1);
    s_show_level (fx, "guanxilu", "street", -1);
    s_show_level (fx, "jinjiangyuan", "community", -1);
    s_show_level (fx, "zhenhua", "unit", -1);
    const char *table[] = {"cert",         "show",         "--broker",   fx->listen,
                           "--broker-key", fx->broker_pub, "--identity", fx->root_secret,
                           "--trust",      fx->root_pub,   NULL};
    assert_int_equal (s_run (fx, table), 0);
    assert_non_null (strstr (fx->out, "观溪路街道"));
    char subject[S_PATH_MAX];
    s_path (fx, subject, "wukan", "identity.pub");
    const char *revoke[] = {
        "cert",  "revoke",      "--control", fx->control[0], "--subject",
        subject, "--after-seq", "5",         "--path",       "wudang/longguanglu/wukan/",
        NULL};
    assert_int_equal (s_run (fx, revoke), 0);
    s_show_level (fx, "wukan", "unit", 5);
    //  Without --path: the node folds the trust feeds of its broker and
    //  knows its certified path, wudang/longguanglu/.
    s_path (fx, subject, "cehui", "identity.pub");
    const char *own_path[] = {"cert",         "revoke",    "--control",
                              fx->control[0], "--subject", subject,
                              "--after-seq",  "0",         NULL};
    assert_int_equal (s_run (fx, own_path), 0);
    s_show_level (fx, "cehui", "unit", 0);
}

static void
test_offline_signing_continues_the_feed_and_import_is_idempotent (void **state)
{
    fixture_t *fx = *state;
    char file1[S_PATH_MAX], file2[S_PATH_MAX];
    s_path (fx, file1, "one.cert", NULL);
    s_path (fx, file2, "two.cert", NULL);
    assert_int_equal (s_offline_street (fx, 0, "龙广路街道", file1), 0);
    char id1[128];
    assert_int_equal (sscanf (fx->out, "%127s", id1), 1);
    assert_non_null (strstr (fx->out, " 1\n"));
    assert_int_equal (s_offline_street (fx, 1, "观溪路街道", file2), 0);
    assert_non_null (strstr (fx->out, " 2\n"));
    //  The second event's prev is the first's id.
    const char *inspect[] = {"inspect", file2, NULL};
    assert_int_equal (s_run (fx, inspect), 0);
    json_t *event = json_loads (fx->out, 0, NULL);
    assert_non_null (event);
    json_t *body = json_object_get (event, "body");
    assert_int_equal (atoi (json_string_value (json_object_get (body, "seq"))), 2);
    const char *prev = json_string_value (json_object_get (body, "prev"));
    assert_non_null (prev);
    assert_string_equal (prev, id1);
    json_decref (event);
    //  Refuses to overwrite its output.
    assert_int_equal (s_offline_street (fx, 1, "观溪路街道", file2), EX_CANTCREAT);
    assert_non_null (strstr (fx->err, "exists"));
    //  Out of order: seq 2 before seq 1 is a gap, refused (65).
    assert_int_equal (s_import_direct (fx, file2), EX_DATAERR);
    assert_non_null (strstr (fx->err, "needs seq 1"));
    for (int round = 0; round < 2; round++) {
        assert_int_equal (s_import_direct (fx, file1), 0);
        if (round == 0)
            s_start_node (fx, 0, true); //  its certificate is stored
        const char *import2[] = {"import", file2, "--control", fx->control[0], NULL};
        assert_int_equal (s_run (fx, import2), 0);
        assert_non_null (strstr (fx->out, " 2 stored"));
    }
}

static void
test_cert_usage_errors_are_64 (void **state)
{
    fixture_t *fx = *state;
    char file[S_PATH_MAX], subject[S_PATH_MAX];
    s_path (fx, file, "bad.cert", NULL);
    s_path (fx, subject, "longguanglu", "identity.pub");
    const char *bad_level[] = {"cert",      "issue",  "--offline", "--identity", fx->root_secret,
                               "--subject", subject,  "--level",   "mayor",      "--path",
                               "wudang/x/", "--name", "x",         "--out",      file,
                               NULL};
    assert_int_equal (s_run (fx, bad_level), EX_USAGE);
    assert_non_null (strstr (fx->err, "bad --level 'mayor'"));
    const char *outside[] = {"cert",      "issue",  "--offline", "--identity", fx->root_secret,
                             "--subject", subject,  "--level",   "street",     "--path",
                             "baiyun/x/", "--name", "x",         "--out",      file,
                             NULL};
    assert_int_equal (s_run (fx, outside), EX_USAGE);
    assert_non_null (strstr (fx->err, "outside"));
    const char *bad_path[] = {"cert",   "issue",   "--control", fx->control[0], "--subject",
                              subject,  "--level", "unit",      "--path",       "Wudang",
                              "--name", "x",       NULL};
    assert_int_equal (s_run (fx, bad_path), EX_USAGE);
    assert_non_null (strstr (fx->err, "bad --path"));
    //  Nothing was signed: the root's feed has not moved.
    assert_int_equal (access (file, F_OK), -1);
    const char *help[] = {"cert", "issue", "--help", NULL};
    assert_int_equal (s_run (fx, help), 0);
    const char *import_help[] = {"import", "--help", NULL};
    assert_int_equal (s_run (fx, import_help), 0);
}

//  An --open broker sends no trust roots, so its nodes fold no certificates
//  and know no certified path: revoke without --path cannot name a topic.
static void
test_cert_revoke_without_path_on_an_open_broker_is_64 (void **state)
{
    fixture_t *fx = *state;
    s_start_node (fx, 0, false);
    s_keygen (fx, "wukan");
    char subject[S_PATH_MAX];
    s_path (fx, subject, "wukan", "identity.pub");
    const char *no_path[] = {"cert",         "revoke",    "--control",
                             fx->control[0], "--subject", subject,
                             "--after-seq",  "5",         NULL};
    assert_int_equal (s_run (fx, no_path), EX_USAGE);
    assert_non_null (strstr (fx->err, "--path"));
    //  The control: with --path the same node signs and the broker stores.
    const char *with_path[] = {
        "cert",  "revoke",      "--control", fx->control[0], "--subject",
        subject, "--after-seq", "5",         "--path",       "wudang/longguanglu/wukan/",
        NULL};
    assert_int_equal (s_run (fx, with_path), 0);
}

int
main (void)
{
    setlocale (LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_cert_tree_prints_the_district_hierarchy_aligned,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cert_show_gives_levels_and_a_revocation_cut, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (
            test_offline_signing_continues_the_feed_and_import_is_idempotent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cert_usage_errors_are_64, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cert_revoke_without_path_on_an_open_broker_is_64,
                                         s_setup_open, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
