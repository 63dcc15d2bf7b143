/*  test_member.c -- erasable personal data end to end: `liandong member`
    against a real node and an --open broker.

    A member 张三 / 13800000000 is sealed by the node; a report.checkin
    carrying the SealedPerson is published through the node (the raw
    publish path, proto3 JSON) and read back from the broker, where its
    signature verifies; `member show` gives the details. Then `member
    erase`, and: the event still verifies at the broker and in the node's
    own feed, `member show` says erased (by commitment and by sealed
    bytes), a second erase is "already erased" (0), an unknown commitment
    is 66, and neither the name, the phone, the key nor the salt is in any
    file of the node's or the broker's data dir (raw bytes, -wal and -shm
    included; the key is found there before the erasure, the scan's
    control).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_client.h"
#include "ld_crypto.h"
#include "ld_event.h"
#include "ld_payload.h"
#include "ld_pbjson.h"
#include "ld_proc.h"
#include "ld_store.h"
#include "ld_test_util.h"

#define S_READY_MS 20000
#define S_WAIT_MS  10000
#define S_OUT_MAX  65536
#define S_PATH     512
#define S_NAME     "张三"
#define S_PHONE    "13800000000"
#define S_TOPIC    "report/wudang/longguanglu/jinjiangyuan/"

typedef struct {
    char dir[S_PATH / 4];
    char broker_dir[S_PATH / 2];
    char node_dir[S_PATH / 2];
    char keys[S_PATH / 2];
    char secret[S_PATH];
    char control[S_PATH];
    char listen[128];
    ld_proc_t broker;
    ld_proc_t node;
    char out[S_OUT_MAX];
    char err[S_OUT_MAX];
} fixture_t;

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    snprintf (fx->broker_dir, sizeof fx->broker_dir, "%s/broker", fx->dir);
    snprintf (fx->node_dir, sizeof fx->node_dir, "%s/node", fx->dir);
    snprintf (fx->keys, sizeof fx->keys, "%s/keys", fx->dir);
    snprintf (fx->secret, sizeof fx->secret, "%s/identity.secret", fx->keys);
    snprintf (fx->control, sizeof fx->control, "ipc://%s/control", fx->dir);
    const char *keygen[] = {"keygen", "--out", fx->keys, NULL};
    assert_int_equal (ld_test_run (keygen, NULL, 0, NULL, 0), 0);
    const char *broker[] = {"broker", "--data", fx->broker_dir, "--listen", "tcp://127.0.0.1:*",
                            "--open", NULL};
    assert_int_equal (ld_proc_start (&fx->broker, broker, true, S_READY_MS), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
    const char *node[] = {"node",     "--data",   fx->node_dir, "--identity", fx->secret,
                          "--broker", fx->listen, "--control",  fx->control,  NULL};
    assert_int_equal (ld_proc_start (&fx->node, node, true, S_READY_MS), 0);
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_proc_stop_all ();
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

//  `liandong member VERB --control C ARGS...`: exit code; out and err kept.
static int
s_member (fixture_t *fx, const char *verb, const char *const *extra)
{
    const char *args[LD_TEST_ARGS_MAX + 1] = {"member", verb, "--control", fx->control};
    size_t n = 4;
    for (size_t k = 0; extra[k] && n < LD_TEST_ARGS_MAX; k++)
        args[n++] = extra[k];
    args[n] = NULL;
    return ld_test_run (args, fx->out, sizeof fx->out, fx->err, sizeof fx->err);
}

//  True if needle occurs in any regular file under dir (not recursing:
//  data dirs are flat).
static bool
s_dir_holds (const char *dir, const void *needle, size_t size)
{
    DIR *d = opendir (dir);
    assert_non_null (d);
    bool found = false;
    static char data[64 * 1024 * 1024];
    for (struct dirent *entry; !found && (entry = readdir (d));) {
        if (entry->d_name[0] == '.')
            continue;
        char path[S_PATH * 2];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        FILE *file = fopen (path, "rb");
        if (!file)
            continue;
        size_t got = fread (data, 1, sizeof data, file);
        fclose (file);
        found = memmem (data, got, needle, size) != NULL;
    }
    closedir (d);
    return found;
}

//  The node's stored key and salt for the one person it holds, read
//  through a second connection that is closed again at once.
static void
s_read_secret (fixture_t *fx, uint8_t key[LD_PERSON_KEY_BYTES], uint8_t salt[LD_PERSON_SALT_BYTES])
{
    char path[S_PATH * 2];
    snprintf (path, sizeof path, "%s/%s", fx->node_dir, LD_STORE_FILE);
    sqlite3 *db;
    assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt;
    assert_int_equal (sqlite3_prepare_v2 (db, "SELECT key, salt FROM persons", -1, &stmt, NULL),
                      SQLITE_OK);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    assert_int_equal (sqlite3_column_bytes (stmt, 0), LD_PERSON_KEY_BYTES);
    assert_int_equal (sqlite3_column_bytes (stmt, 1), LD_PERSON_SALT_BYTES);
    memcpy (key, sqlite3_column_blob (stmt, 0), LD_PERSON_KEY_BYTES);
    memcpy (salt, sqlite3_column_blob (stmt, 1), LD_PERSON_SALT_BYTES);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
}

//  Reads the broker's report/ events: exactly one, which verifies; returns
//  its decoded form (the caller destroys it).
static ld_event_t *
s_broker_checkin (fixture_t *fx)
{
    ld_client_t *client = ld_client_new (fx->listen);
    assert_non_null (client);
    assert_int_equal (ld_client_hello (client, S_WAIT_MS), 0);
    ld_client_stored_t *stored = NULL;
    size_t count = 0;
    assert_int_equal (
        ld_client_catchup_all (client, 0, "report/", S_WAIT_MS, &stored, &count, NULL), 0);
    assert_int_equal (count, 1);
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_decode (stored[0].envelope, stored[0].size, 0, &event, NULL, 0),
                      LD_OK);
    assert_int_equal (ld_event_verify (event), LD_OK);
    ld_client_stored_free (&stored, count);
    ld_client_destroy (&client);
    return event;
}

static int
s_collect (void *arg, const ld_stored_t *stored)
{
    ld_event_t **event_p = arg;
    ld_event_t *event = NULL;
    if (ld_event_decode (stored->envelope, stored->size, 0, &event, NULL, 0) == LD_OK
        && strcmp (ld_event_type (event), "report.checkin") == 0) {
        ld_event_destroy (event_p);
        *event_p = event;
    }
    else
        ld_event_destroy (&event);
    return 0;
}

//  The Checkin's member commitment, as the proto3 mapping prints it.
static char *
s_member_commitment (const ld_event_t *event)
{
    size_t size = 0;
    const uint8_t *payload = ld_event_payload (event, &size);
    ProtobufCMessage *message = NULL;
    assert_int_equal (ld_payload_unpack ("report.checkin", payload, size, &message, NULL, 0),
                      LD_OK);
    json_t *json = ld_pbjson_from_message (message);
    protobuf_c_message_free_unpacked (message, NULL);
    const char *text =
        json_string_value (json_object_get (json_object_get (json, "member"), "commitment"));
    assert_non_null (text);
    char *copy = strdup (text);
    json_decref (json);
    return copy;
}

static void
test_member_erasure_keeps_signatures_and_leaves_no_trace (void **state)
{
    fixture_t *fx = *state;

    //  seal
    const char *seal[] = {"--name", S_NAME, "--phone", S_PHONE, "--json", NULL};
    assert_int_equal (s_member (fx, "seal", seal), 0);
    json_t *sealed = json_loads (fx->out, 0, NULL);
    assert_non_null (sealed);
    char commitment[LD_ID_TEXT_BYTES], sealed_text[4096];
    snprintf (commitment, sizeof commitment, "%s",
              json_string_value (json_object_get (sealed, "commitment")));
    snprintf (sealed_text, sizeof sealed_text, "%s",
              json_string_value (json_object_get (sealed, "sealedPerson")));
    uint8_t commitment_bytes[LD_COMMITMENT_BYTES];
    assert_int_equal (ld_id_from_text (commitment, commitment_bytes), LD_OK);
    assert_null (strstr (fx->out, S_PHONE));

    //  publish a check-in carrying it, through the node
    json_t *checkin =
        json_pack ("{s:s, s:O, s:[s], s:i}", "community", "wudang/longguanglu/", "member",
                   json_object_get (sealed, "member"), "offers", "义诊", "year", 2026);
    char json_path[S_PATH * 2];
    snprintf (json_path, sizeof json_path, "%s/checkin.json", fx->dir);
    assert_int_equal (json_dump_file (checkin, json_path, JSON_COMPACT), 0);
    json_decref (checkin);
    const char *publish[] = {"publish", "--control",      fx->control, "--topic", S_TOPIC,
                             "--type",  "report.checkin", "--json",    json_path, NULL};
    assert_int_equal (ld_test_run (publish, fx->out, sizeof fx->out, fx->err, sizeof fx->err), 0);
    //  --json input answers with one JSON line per event
    json_t *outcome = json_loads (fx->out, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null (outcome);
    assert_string_equal (json_string_value (json_object_get (outcome, "status")), "acknowledged");
    uint8_t id[LD_ID_BYTES];
    assert_int_equal (ld_id_from_text (json_string_value (json_object_get (outcome, "id")), id),
                      LD_OK);
    json_decref (outcome);
    unlink (json_path);

    //  at the broker: stored, verifies, carries the commitment
    ld_event_t *event = s_broker_checkin (fx);
    assert_memory_equal (ld_event_id (event), id, LD_ID_BYTES);
    char *carried = s_member_commitment (event);
    char *expected = ld_base64_encode (commitment_bytes, LD_COMMITMENT_BYTES);
    assert_string_equal (carried, expected);
    free (carried);
    free (expected);
    ld_event_destroy (&event);

    //  show, by commitment and by the sealed bytes
    const char *by_commitment[] = {"--commitment", commitment, "--json", NULL};
    assert_int_equal (s_member (fx, "show", by_commitment), 0);
    json_t *shown = json_loads (fx->out, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (shown, "name")), S_NAME);
    assert_string_equal (json_string_value (json_object_get (shown, "phone")), S_PHONE);
    json_decref (shown);
    const char *by_sealed[] = {"--sealed", sealed_text, NULL};
    assert_int_equal (s_member (fx, "show", by_sealed), 0);
    assert_non_null (strstr (fx->out, S_PHONE));

    //  the control: before the erasure the scan finds the key and the salt
    uint8_t key[LD_PERSON_KEY_BYTES], salt[LD_PERSON_SALT_BYTES];
    s_read_secret (fx, key, salt);
    assert_true (s_dir_holds (fx->node_dir, key, sizeof key));
    assert_true (s_dir_holds (fx->node_dir, salt, sizeof salt));

    //  erase; again; an unknown commitment
    const char *erase[] = {"--commitment", commitment, NULL};
    assert_int_equal (s_member (fx, "erase", erase), 0);
    assert_string_equal (fx->out, "erased\n");
    assert_int_equal (s_member (fx, "erase", erase), 0);
    assert_string_equal (fx->out, "already erased\n");
    const char *unknown[] = {"--commitment", "blake2b:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                             NULL};
    assert_int_equal (s_member (fx, "erase", unknown), EX_NOINPUT);

    //  the person cannot be opened, by commitment or by sealed bytes
    assert_int_equal (s_member (fx, "show", by_commitment), 0);
    shown = json_loads (fx->out, 0, NULL);
    assert_true (json_is_true (json_object_get (shown, "erased")));
    assert_null (json_object_get (shown, "name"));
    json_decref (shown);
    assert_int_equal (s_member (fx, "show", by_sealed), 0);
    assert_string_equal (fx->out, "erased\n");

    //  nothing of the person in any file, the node running (WAL live)
    const char *dirs[] = {fx->node_dir, fx->broker_dir};
    for (size_t i = 0; i < 2; i++) {
        assert_false (s_dir_holds (dirs[i], S_NAME, strlen (S_NAME)));
        assert_false (s_dir_holds (dirs[i], S_PHONE, strlen (S_PHONE)));
        assert_false (s_dir_holds (dirs[i], key, sizeof key));
        assert_false (s_dir_holds (dirs[i], salt, sizeof salt));
    }

    //  the event still verifies at the broker
    event = s_broker_checkin (fx);
    assert_memory_equal (ld_event_id (event), id, LD_ID_BYTES);
    ld_event_destroy (&event);

    //  and in the node's own feed, read from its store once it stopped
    assert_int_equal (ld_proc_stop (&fx->node), 0);
    char path[S_PATH * 2];
    snprintf (path, sizeof path, "%s/%s", fx->node_dir, LD_STORE_FILE);
    ld_store_t *store = NULL;
    assert_int_equal (ld_store_open (path, &store, NULL, 0), LD_OK);
    uint8_t author[LD_KEY_BYTES];
    char pub_path[S_PATH * 2], pub_text[128];
    snprintf (pub_path, sizeof pub_path, "%s/identity.pub", fx->keys);
    assert_true (ld_test_read_file (pub_path, pub_text, sizeof pub_text) > 0);
    assert_int_equal (ld_key_from_text (pub_text, author), LD_OK);
    ld_event_t *own = NULL;
    assert_int_equal (ld_store_read_feed (store, author, 1, 0, s_collect, &own), LD_OK);
    assert_non_null (own);
    assert_int_equal (ld_event_verify (own), LD_OK);
    assert_memory_equal (ld_event_id (own), id, LD_ID_BYTES);
    ld_event_destroy (&own);
    ld_store_destroy (&store);
    for (size_t i = 0; i < 2; i++) {
        assert_false (s_dir_holds (dirs[i], S_PHONE, strlen (S_PHONE)));
        assert_false (s_dir_holds (dirs[i], key, sizeof key));
        assert_false (s_dir_holds (dirs[i], salt, sizeof salt));
    }
    json_decref (sealed);
}

static void
test_member_usage_and_help (void **state)
{
    fixture_t *fx = *state;
    const char *help[] = {"member", "--help", NULL};
    assert_int_equal (ld_test_run (help, fx->out, sizeof fx->out, NULL, 0), 0);
    assert_non_null (strstr (fx->out, "member seal"));
    const char *verbs[] = {"seal", "show", "erase"};
    for (size_t i = 0; i < 3; i++) {
        const char *verb_help[] = {"member", verbs[i], "--help", NULL};
        assert_int_equal (ld_test_run (verb_help, NULL, 0, NULL, 0), 0);
    }
    const char *no_name[] = {NULL};
    assert_int_equal (s_member (fx, "seal", no_name), EX_USAGE);
    const char *both[] = {"--commitment", "x", "--sealed", "y", NULL};
    assert_int_equal (s_member (fx, "show", both), EX_USAGE);
    const char *garbage[] = {"--sealed", "AAAA", NULL};
    assert_int_equal (s_member (fx, "show", garbage), EX_DATAERR);
    const char *nobody[] = {"member", "seal", "--control", "ipc:///nonexistent/control",
                            "--name", S_NAME, NULL};
    assert_int_equal (ld_test_run (nobody, NULL, 0, NULL, 0), EX_UNAVAILABLE);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_member_erasure_keeps_signatures_and_leaves_no_trace,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_member_usage_and_help, setup, teardown),
    };
    return cmocka_run_group_tests_name ("member", tests, NULL, NULL);
}
