/*  test_tail_authority.c -- `liandong tail` and trust, against real
    brokers.

    --verify-authority runs against an --open broker, on purpose: it stores
    everything it is given without judging it, so the store holds what a
    --trust broker would refuse (an event outside its author's path, one
    after its author's cut, one by a key nobody certified), and the tail's
    own trust fold must say which events are valid. The district root is
    made with `liandong keygen`; a street key is certified by it
    (trust.certify signed here and published through the raw client,
    tests/ld_client.h), writes inside and outside its path, is revoked
    after its seq 3 once it has written seq 4 (a revocation that arrives
    after an event it cuts), and writes seq 5 after it. A key nobody
    certified writes too. Then tails read it all from the store.

    Who may tail at all is a --trust broker's question (CurveZMQ behind its
    ZAP handler): there, the root certifies a supervisor and a street, the
    street writes, and the supervisor's tail (--broker-key, --identity)
    prints the district's events; a key nobody certified cannot tail
    (69, with the hint), and a key given with --allow-subscriber can tail
    but may not publish.
*/
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ld_client.h"
#include "ld_proc.h"
#include "ld_test_util.h"

#define S_WAIT_MS   10000
#define S_OUT_BYTES (256 * 1024)
#define S_ERR_BYTES 16384
#define S_STREET    "wudang/guanxilu/"
#define S_CUT_SEQ   3 //  the street's events after this seq are revoked

typedef struct {
    char dir[PATH_MAX];
    char root_pub[PATH_MAX + 32];
    ld_proc_t broker;
    char listen[LD_CLIENT_ENDPOINT_MAX];
    ld_client_t *client;
    ld_client_author_t *root;     //  loaded from the keygen files
    ld_client_author_t *street;   //  certified at S_STREET, then revoked
    ld_client_author_t *stranger; //  never certified
    char root_key[LD_KEY_TEXT_BYTES], street_key[LD_KEY_TEXT_BYTES],
        stranger_key[LD_KEY_TEXT_BYTES];
    uint64_t certified_at; //  store seq after the certificate (and its receipt)
    char *out, *err;       //  the last tail's output
} fixture_t;

//  --------------------------------------------------------------------------
//  Signing and publishing

//  The author's next event of type with payload bytes under topic; stored
//  by the broker (one batch each, so store order is the order of calls).
static void
s_publish (fixture_t *fx, ld_client_author_t *author, const char *topic, const char *type,
           uint8_t *payload, size_t size)
{
    ld_event_t *event = NULL;
    char err[256];
    uint64_t seq = author->next_seq;
    assert_int_equal (ld_event_sign (author->identity, seq, seq > 1 ? author->prev : NULL,
                                     1764000000000 + (int64_t) seq, topic, type, payload, size,
                                     &event, err, sizeof err),
                      LD_OK);
    free (payload);
    memcpy (author->prev, ld_event_id (event), LD_ID_BYTES);
    author->next_seq++;
    assert_int_equal (ld_client_publish (fx->client, &event, 1, S_WAIT_MS, NULL, 0), 0);
    ld_event_destroy (&event);
}

static void
s_note (fixture_t *fx, ld_client_author_t *author, const char *topic, const char *text)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_note (text, &payload, &size), LD_OK);
    s_publish (fx, author, topic, "note", payload, size);
}

static void
s_certify (fixture_t *fx, const ld_client_author_t *subject, const char *level, const char *path,
           const char *name)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_certify (ld_identity_public_key (subject->identity), level, path,
                                          name, &payload, &size),
                      LD_OK);
    s_publish (fx, fx->root, "trust/", LD_TYPE_CERTIFY, payload, size);
}

static void
s_revoke (fixture_t *fx, const ld_client_author_t *subject, uint64_t after_seq)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (
        ld_payload_revoke (ld_identity_public_key (subject->identity), after_seq, &payload, &size),
        LD_OK);
    s_publish (fx, fx->root, "trust/", LD_TYPE_REVOKE, payload, size);
}

static uint64_t
s_last_seq (fixture_t *fx)
{
    assert_int_equal (ld_client_hello (fx->client, S_WAIT_MS), 0);
    return fx->client->last_seq;
}

//  --------------------------------------------------------------------------
//  Fixture: an --open broker, the root from keygen, and the district's
//  story above, stored

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    fx->out = malloc (S_OUT_BYTES);
    fx->err = malloc (S_ERR_BYTES);
    assert_non_null (fx->out);
    assert_non_null (fx->err);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);

    char data[PATH_MAX + 16], root_dir[PATH_MAX + 16], secret[PATH_MAX + 48];
    snprintf (data, sizeof data, "%s/broker", fx->dir);
    const char *broker[] = {"broker", "--data", data, "--listen", "tcp://127.0.0.1:*",
                            "--open", NULL};
    assert_int_equal (ld_proc_start (&fx->broker, broker, true, S_WAIT_MS), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
    fx->client = ld_client_new (fx->listen);
    assert_non_null (fx->client);

    snprintf (root_dir, sizeof root_dir, "%s/root", fx->dir);
    const char *keygen[] = {"keygen", "--out", root_dir, NULL};
    assert_int_equal (ld_test_run (keygen, NULL, 0, NULL, 0), 0);
    snprintf (fx->root_pub, sizeof fx->root_pub, "%s/%s", root_dir, LD_IDENTITY_PUBLIC);
    snprintf (secret, sizeof secret, "%s/%s", root_dir, LD_IDENTITY_SECRET);
    fx->root = calloc (1, sizeof *fx->root);
    assert_non_null (fx->root);
    assert_int_equal (ld_identity_load (secret, &fx->root->identity, NULL, 0), LD_OK);
    fx->root->next_seq = 1;
    fx->street = ld_client_author_new (0x51);
    fx->stranger = ld_client_author_new (0x52);
    assert_non_null (fx->street);
    assert_non_null (fx->stranger);
    ld_key_to_text (ld_identity_public_key (fx->root->identity), fx->root_key);
    ld_key_to_text (ld_identity_public_key (fx->street->identity), fx->street_key);
    ld_key_to_text (ld_identity_public_key (fx->stranger->identity), fx->stranger_key);

    s_certify (fx, fx->street, "street", S_STREET, "观溪路街道");
    fx->certified_at = s_last_seq (fx);
    s_note (fx, fx->street, "note/" S_STREET, "1 inside");
    s_note (fx, fx->street, "note/wudang/longguanglu/", "2 outside its path");
    s_note (fx, fx->street, "note/" S_STREET "jinjiangyuan/", "3 inside, deeper");
    s_note (fx, fx->street, "note/" S_STREET, "4 inside, cut later");
    s_note (fx, fx->stranger, "note/" S_STREET, "nobody certified me");
    s_revoke (fx, fx->street, S_CUT_SEQ);
    s_note (fx, fx->street, "note/" S_STREET, "5 after the revocation");
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_client_destroy (&fx->client);
    ld_proc_stop (&fx->broker);
    ld_proc_stop_all ();
    ld_client_author_destroy (&fx->root);
    ld_client_author_destroy (&fx->street);
    ld_client_author_destroy (&fx->stranger);
    ld_test_remove_tree (fx->dir);
    free (fx->out);
    free (fx->err);
    free (fx);
    return 0;
}

//  --------------------------------------------------------------------------
//  Reading what a tail printed

//  One line of --json output: an event or a notice.
typedef struct {
    bool notice;
    char author[LD_KEY_TEXT_BYTES]; //  event: author; notice: key
    uint64_t seq;                   //  event: the author's seq
    char type[32];
    char status[32];  //  authority.status, or the notice's status
    char change[16];  //  notice: "cut" or "recheck"
    uint64_t through; //  notice: validThrough
    uint64_t printed; //  notice: printedThrough
} s_line_t;

static void
s_string (json_t *object, const char *key, char *out, size_t size)
{
    json_t *value = json_object_get (object, key);
    if (!json_is_string (value))
        fail_msg ("no string member '%s'", key);
    assert_true (strlen (json_string_value (value)) < size);
    strcpy (out, json_string_value (value));
}

static uint64_t
s_u64 (json_t *object, const char *key)
{
    char text[24];
    s_string (object, key, text, sizeof text);
    return strtoull (text, NULL, 10);
}

//  Parses fx->out into lines (the caller frees *lines_p).
static size_t
s_parse (fixture_t *fx, s_line_t **lines_p)
{
    size_t count = 0, capacity = 64;
    s_line_t *lines = calloc (capacity, sizeof *lines);
    assert_non_null (lines);
    char *saveptr = NULL;
    for (char *text = strtok_r (fx->out, "\n", &saveptr); text;
         text = strtok_r (NULL, "\n", &saveptr)) {
        json_error_t error;
        json_t *json = json_loads (text, 0, &error);
        if (!json)
            fail_msg ("tail printed a line that is not JSON: %s: %.200s", error.text, text);
        assert_true (count < capacity);
        s_line_t *line = &lines[count++];
        if (json_object_get (json, "notice")) {
            line->notice = true;
            s_string (json, "key", line->author, sizeof line->author);
            s_string (json, "change", line->change, sizeof line->change);
            s_string (json, "status", line->status, sizeof line->status);
            line->through = s_u64 (json, "validThrough");
            line->printed = s_u64 (json, "printedThrough");
        }
        else {
            s_string (json, "author", line->author, sizeof line->author);
            s_string (json, "type", line->type, sizeof line->type);
            line->seq = s_u64 (json, "seq");
            json_t *authority = json_object_get (json, "authority");
            assert_true (json_is_object (authority));
            s_string (authority, "status", line->status, sizeof line->status);
            assert_true (json_is_string (json_object_get (authority, "reason")));
        }
        json_decref (json);
    }
    *lines_p = lines;
    return count;
}

//  Index of the event line of author at seq, or -1.
static int
s_find (const s_line_t *lines, size_t count, const char *author, uint64_t seq)
{
    for (size_t i = 0; i < count; i++)
        if (!lines[i].notice && strcmp (lines[i].author, author) == 0 && lines[i].seq == seq)
            return (int) i;
    return -1;
}

static void
s_assert_status (const s_line_t *lines, size_t count, const char *author, uint64_t seq,
                 const char *status)
{
    int i = s_find (lines, count, author, seq);
    if (i < 0)
        fail_msg ("no line for %s seq %" PRIu64, author, seq);
    if (strcmp (lines[i].status, status) != 0)
        fail_msg ("%s seq %" PRIu64 ": authority '%s', expected '%s'", author, seq, lines[i].status,
                  status);
}

//  The one cut notice for the street: after the revocation's line (if it
//  was printed, revoke_at >= 0), before the street's seq 5.
static void
s_assert_cut_notice (fixture_t *fx, const s_line_t *lines, size_t count, int revoke_at)
{
    int notice = -1;
    for (size_t i = 0; i < count; i++)
        if (lines[i].notice) {
            assert_int_equal (notice, -1); //  only one
            notice = (int) i;
        }
    assert_true (notice >= 0);
    const s_line_t *line = &lines[notice];
    assert_string_equal (line->author, fx->street_key);
    assert_string_equal (line->change, "cut");
    assert_int_equal (line->through, S_CUT_SEQ);
    assert_int_equal (line->printed, 4);
    assert_string_equal (line->status, "revoked");
    assert_true (notice > revoke_at);
    assert_true (notice < s_find (lines, count, fx->street_key, 5));
    assert_non_null (strstr (fx->err, "valid through its seq 3"));
    assert_non_null (strstr (fx->err, fx->street_key));
}

//  --------------------------------------------------------------------------
//  Tests

static void
test_tail_verify_authority_marks_each_event_and_a_late_revocation (void **state)
{
    fixture_t *fx = *state;
    //  Everything stored, the broker's receipts too: K events.
    ld_client_stored_t *stored = NULL;
    size_t k = 0;
    assert_int_equal (ld_client_catchup_all (fx->client, 0, "", S_WAIT_MS, &stored, &k, NULL), 0);
    ld_client_stored_free (&stored, k);
    char count[24];
    snprintf (count, sizeof count, "%zu", k);
    const char *args[] = {"tail",    "--broker",   fx->listen, "--from",
                          "0",       "--count",    count,      "--verify-authority",
                          "--trust", fx->root_pub, "--json",   NULL};
    assert_int_equal (ld_test_run (args, fx->out, S_OUT_BYTES, fx->err, S_ERR_BYTES), 0);

    s_line_t *lines = NULL;
    size_t n = s_parse (fx, &lines);
    assert_int_equal (n, k + 1);                       //  every event once, and one notice
    s_assert_status (lines, n, fx->root_key, 1, "ok"); //  the certificate
    s_assert_status (lines, n, fx->root_key, 2, "ok"); //  the revocation
    s_assert_status (lines, n, fx->street_key, 1, "ok");
    s_assert_status (lines, n, fx->street_key, 2, "outside-path");
    s_assert_status (lines, n, fx->street_key, 3, "ok");
    s_assert_status (lines, n, fx->street_key, 4, "ok"); //  judged before the revocation came
    s_assert_status (lines, n, fx->street_key, 5, "revoked");
    s_assert_status (lines, n, fx->stranger_key, 1, "awaiting-certificate");
    //  the broker's receipts: its key is certified by nobody here
    for (size_t i = 0; i < n; i++)
        if (!lines[i].notice && strcmp (lines[i].type, "receipt") == 0)
            assert_string_equal (lines[i].status, "awaiting-certificate");
    s_assert_cut_notice (fx, lines, n, s_find (lines, n, fx->root_key, 2));
    free (lines);
}

static void
test_tail_with_a_prefix_still_folds_the_trust_feeds (void **state)
{
    fixture_t *fx = *state;
    //  From after the certificate: the tail reads it in its prelude. Under
    //  the street's prefix: street 1, 3, 4, the stranger, street 5.
    char from[24];
    snprintf (from, sizeof from, "%" PRIu64, fx->certified_at);
    const char *args[] = {"tail",
                          "--broker",
                          fx->listen,
                          "--from",
                          from,
                          "--count",
                          "5",
                          "--prefix",
                          "note/" S_STREET,
                          "--json",
                          "--verify-authority",
                          "--trust",
                          fx->root_pub,
                          NULL};
    assert_int_equal (ld_test_run (args, fx->out, S_OUT_BYTES, fx->err, S_ERR_BYTES), 0);

    s_line_t *lines = NULL;
    size_t n = s_parse (fx, &lines);
    assert_int_equal (n, 6);
    s_assert_status (lines, n, fx->street_key, 1, "ok");
    assert_int_equal (s_find (lines, n, fx->street_key, 2), -1); //  outside the prefix
    s_assert_status (lines, n, fx->street_key, 3, "ok");
    s_assert_status (lines, n, fx->street_key, 4, "ok");
    s_assert_status (lines, n, fx->street_key, 5, "revoked");
    s_assert_status (lines, n, fx->stranger_key, 1, "awaiting-certificate");
    assert_int_equal (s_find (lines, n, fx->root_key, 1), -1); //  trust/ is not printed
    s_assert_cut_notice (fx, lines, n, -1);
    free (lines);
}

static void
test_tail_verify_authority_prints_an_authority_column (void **state)
{
    fixture_t *fx = *state;
    const char *args[] = {
        "tail",     "--broker",       fx->listen,           "--from",  "0",          "--count", "5",
        "--prefix", "note/" S_STREET, "--verify-authority", "--trust", fx->root_pub, NULL};
    assert_int_equal (ld_test_run (args, fx->out, S_OUT_BYTES, fx->err, S_ERR_BYTES), 0);
    char *saveptr = NULL;
    char *header = strtok_r (fx->out, "\n", &saveptr);
    assert_non_null (header);
    assert_non_null (strstr (header, "AUTHORITY"));
    const char *expected[] = {"ok", "ok", "ok", "awaiting-certificate", "revoked"};
    for (int i = 0; i < 5; i++) {
        char *row = strtok_r (NULL, "\n", &saveptr);
        assert_non_null (row);
        char cell[64];
        snprintf (cell, sizeof cell, "  %s  ", expected[i]);
        if (!strstr (row, cell))
            fail_msg ("row %d has no authority '%s': %s", i, expected[i], row);
    }
    assert_non_null (strstr (fx->err, "valid through its seq 3"));
}

static void
test_tail_refuses_authority_options_that_cannot_work (void **state)
{
    fixture_t *fx = *state;
    const char *no_trust[] = {"tail", "--broker", fx->listen, "--verify-authority", NULL};
    const char *no_verify[] = {"tail", "--broker", fx->listen, "--trust", fx->root_pub, NULL};
    const char *raw[] = {"tail",    "--broker",   fx->listen, "--verify-authority",
                         "--trust", fx->root_pub, "--raw",    NULL};
    const char *trusting[] = {"tail",    "--broker",   fx->listen,       "--verify-authority",
                              "--trust", fx->root_pub, "--trust-broker", NULL};
    const char *missing[] = {"tail",    "--broker",         fx->listen, "--verify-authority",
                             "--trust", "/nonexistent.pub", NULL};
    assert_int_equal (ld_test_run (no_trust, NULL, 0, fx->err, S_ERR_BYTES), 64);
    assert_non_null (strstr (fx->err, "--verify-authority needs --trust"));
    assert_int_equal (ld_test_run (no_verify, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (raw, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (trusting, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (missing, NULL, 0, fx->err, S_ERR_BYTES), 66);
    assert_non_null (strstr (fx->err, "/nonexistent.pub"));
}

//  --------------------------------------------------------------------------
//  A --trust broker: who may subscribe

#define S_SUPERVISOR "wudang/"

typedef struct {
    char dir[PATH_MAX];
    ld_proc_t broker; //  --trust root --allow-subscriber reader
    char listen[LD_CLIENT_ENDPOINT_MAX];
    char broker_pub[PATH_MAX + 32]; //  DATA/identity.pub, made on its first start
    uint8_t broker_key[LD_KEY_BYTES];
    ld_client_author_t *root, *street;
    uint64_t stored; //  events in the store once the district has written
    char *out, *err;
} trusted_t;

//  `liandong keygen --out DIR/name [more...]`; the secret's path into secret.
static void
s_keygen (const char *dir, const char *name, const char *path, const char *display, char *secret,
          size_t size)
{
    char out[PATH_MAX + 16];
    snprintf (out, sizeof out, "%s/%s", dir, name);
    const char *plain[] = {"keygen", "--out", out, NULL};
    const char *root[] = {"keygen", "--out", out, "--path", path, "--name", display, NULL};
    assert_int_equal (ld_test_run (path ? root : plain, NULL, 0, NULL, 0), 0);
    snprintf (secret, size, "%s/%s", out, LD_IDENTITY_SECRET);
}

static void
s_file (const trusted_t *tx, const char *name, const char *file, char *out, size_t size)
{
    snprintf (out, size, "%s/%s/%s", tx->dir, name, file);
}

//  author's next event, published as its own CurveZMQ client of the broker
//  (its key is the one the ZAP handler admits); stored, none refused.
static void
s_trusted_publish (trusted_t *tx, ld_client_author_t *author, const char *topic, const char *type,
                   uint8_t *payload, size_t size)
{
    ld_event_t *event = ld_client_author_event (author, topic, type, payload, size,
                                                1764000000000 + (int64_t) author->next_seq);
    free (payload);
    assert_non_null (event);
    ld_client_t *client = ld_client_new_curve (tx->listen, author->identity, tx->broker_key);
    assert_non_null (client);
    assert_int_equal (ld_client_publish (client, &event, 1, S_WAIT_MS, NULL, 0), 0);
    ld_client_destroy (&client);
    ld_event_destroy (&event);
}

static void
s_trusted_certify (trusted_t *tx, const uint8_t subject[LD_KEY_BYTES], const char *level,
                   const char *path, const char *name)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_certify (subject, level, path, name, &payload, &size), LD_OK);
    char topic[LD_TOPIC_MAX + 1];
    snprintf (topic, sizeof topic, "trust/%s", path);
    s_trusted_publish (tx, tx->root, topic, LD_TYPE_CERTIFY, payload, size);
}

static void
s_trusted_note (trusted_t *tx, ld_client_author_t *author, const char *topic, const char *text)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    assert_int_equal (ld_payload_note (text, &payload, &size), LD_OK);
    s_trusted_publish (tx, author, topic, "note", payload, size);
}

//  The broker trusts the root and allows `reader` to subscribe; the root
//  certifies a supervisor and a street (keys of their own, from keygen),
//  the street and the root write. `stranger` is a key nobody certified.
static int
trusted_setup (void **state)
{
    trusted_t *tx = calloc (1, sizeof *tx);
    assert_non_null (tx);
    tx->out = malloc (S_OUT_BYTES);
    tx->err = malloc (S_ERR_BYTES);
    assert_non_null (tx->out);
    assert_non_null (tx->err);
    assert_int_equal (ld_test_tempdir (tx->dir, sizeof tx->dir), 0);

    char secret[PATH_MAX + 48], root_pub[PATH_MAX + 32], reader_pub[PATH_MAX + 32];
    char data[PATH_MAX + 16];
    s_keygen (tx->dir, "root", "wudang/", "乌当区", secret, sizeof secret);
    tx->root = calloc (1, sizeof *tx->root);
    assert_non_null (tx->root);
    assert_int_equal (ld_identity_load (secret, &tx->root->identity, NULL, 0), LD_OK);
    tx->root->next_seq = 1;
    s_keygen (tx->dir, "supervisor", NULL, NULL, secret, sizeof secret);
    s_keygen (tx->dir, "stranger", NULL, NULL, secret, sizeof secret);
    s_keygen (tx->dir, "reader", NULL, NULL, secret, sizeof secret);
    s_file (tx, "root", LD_IDENTITY_PUBLIC, root_pub, sizeof root_pub);
    s_file (tx, "reader", LD_IDENTITY_PUBLIC, reader_pub, sizeof reader_pub);

    snprintf (data, sizeof data, "%s/broker", tx->dir);
    const char *broker[] = {"broker",
                            "--data",
                            data,
                            "--listen",
                            "tcp://127.0.0.1:*",
                            "--trust",
                            root_pub,
                            "--allow-subscriber",
                            reader_pub,
                            NULL};
    assert_int_equal (ld_proc_start (&tx->broker, broker, true, S_WAIT_MS), 0);
    assert_int_equal (ld_proc_endpoint (&tx->broker, "listen", tx->listen, sizeof tx->listen), 0);
    s_file (tx, "broker", LD_IDENTITY_PUBLIC, tx->broker_pub, sizeof tx->broker_pub);
    assert_int_equal (ld_public_key_load (tx->broker_pub, tx->broker_key, NULL, 0), LD_OK);

    uint8_t supervisor[LD_KEY_BYTES];
    char supervisor_pub[PATH_MAX + 32];
    s_file (tx, "supervisor", LD_IDENTITY_PUBLIC, supervisor_pub, sizeof supervisor_pub);
    assert_int_equal (ld_public_key_load (supervisor_pub, supervisor, NULL, 0), LD_OK);
    tx->street = ld_client_author_new (0x51);
    assert_non_null (tx->street);
    s_trusted_certify (tx, supervisor, "supervisor", S_SUPERVISOR, "乌当区督办");
    s_trusted_certify (tx, ld_identity_public_key (tx->street->identity), "street", S_STREET,
                       "观溪路街道");
    s_trusted_note (tx, tx->root, "note/wudang/", "构建五级联动体系");
    s_trusted_note (tx, tx->street, "note/" S_STREET, "街道大工委统筹");
    s_trusted_note (tx, tx->street, "note/" S_STREET "jinjiangyuan/", "把小区党支部建在楼栋上");

    //  What is stored, receipts too, as the root reads it.
    ld_client_t *client = ld_client_new_curve (tx->listen, tx->root->identity, tx->broker_key);
    assert_non_null (client);
    ld_client_stored_t *stored = NULL;
    size_t count = 0;
    assert_int_equal (ld_client_catchup_all (client, 0, "", S_WAIT_MS, &stored, &count, NULL), 0);
    ld_client_stored_free (&stored, count);
    ld_client_destroy (&client);
    tx->stored = count;
    assert_true (tx->stored >= 5);
    *state = tx;
    return 0;
}

static int
trusted_teardown (void **state)
{
    trusted_t *tx = *state;
    ld_proc_stop (&tx->broker);
    ld_proc_stop_all ();
    ld_client_author_destroy (&tx->root);
    ld_client_author_destroy (&tx->street);
    ld_test_remove_tree (tx->dir);
    free (tx->out);
    free (tx->err);
    free (tx);
    return 0;
}

//  `tail --from 0 --count <everything> --json` as key (a keygen directory
//  name). Returns its exit code; what it printed is in tx->out, tx->err.
static int
s_trusted_tail (trusted_t *tx, const char *key, const char *timeout_ms)
{
    char secret[PATH_MAX + 48], count[24];
    s_file (tx, key, LD_IDENTITY_SECRET, secret, sizeof secret);
    snprintf (count, sizeof count, "%" PRIu64, tx->stored);
    const char *args[] = {
        "tail",      "--broker", tx->listen, "--broker-key", tx->broker_pub, "--identity",
        secret,      "--from",   "0",        "--count",      count,          "--json",
        "--timeout", timeout_ms, NULL};
    return ld_test_run (args, tx->out, S_OUT_BYTES, tx->err, S_ERR_BYTES);
}

//  The tail printed every stored event once, the district's notes among
//  them, by their authors.
static void
s_assert_tailed_the_district (trusted_t *tx)
{
    char root_key[LD_KEY_TEXT_BYTES], street_key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (ld_identity_public_key (tx->root->identity), root_key);
    ld_key_to_text (ld_identity_public_key (tx->street->identity), street_key);
    uint64_t lines = 0, street_notes = 0, root_notes = 0, certificates = 0;
    char *saveptr = NULL;
    for (char *text = strtok_r (tx->out, "\n", &saveptr); text;
         text = strtok_r (NULL, "\n", &saveptr)) {
        json_t *json = json_loads (text, 0, NULL);
        if (!json)
            fail_msg ("tail printed a line that is not JSON: %.200s", text);
        lines++;
        const char *author = json_string_value (json_object_get (json, "author"));
        const char *type = json_string_value (json_object_get (json, "type"));
        assert_non_null (author);
        assert_non_null (type);
        if (strcmp (type, "note") == 0 && strcmp (author, street_key) == 0)
            street_notes++;
        if (strcmp (type, "note") == 0 && strcmp (author, root_key) == 0)
            root_notes++;
        if (strcmp (type, LD_TYPE_CERTIFY) == 0 && strcmp (author, root_key) == 0)
            certificates++;
        json_decref (json);
    }
    assert_int_equal (lines, tx->stored);
    assert_int_equal (street_notes, 2);
    assert_int_equal (root_notes, 1);
    assert_int_equal (certificates, 2);
}

static void
test_certified_supervisor_tails_a_trusted_broker (void **state)
{
    trusted_t *tx = *state;
    assert_int_equal (s_trusted_tail (tx, "supervisor", "10000"), 0);
    s_assert_tailed_the_district (tx);
}

static void
test_uncertified_key_cannot_tail_a_trusted_broker (void **state)
{
    trusted_t *tx = *state;
    //  The refused handshake looks like silence: the first contact times out.
    assert_int_equal (s_trusted_tail (tx, "stranger", "1000"), 69);
    assert_non_null (strstr (tx->err, "cannot reach broker"));
    assert_non_null (strstr (tx->err, "is --identity certified for it?"));
    assert_int_equal (strlen (tx->out), 0);
    //  The control: the same tail with a certified key is answered.
    assert_int_equal (s_trusted_tail (tx, "supervisor", "10000"), 0);
}

static void
test_allowed_subscriber_tails_but_may_not_publish (void **state)
{
    trusted_t *tx = *state;
    assert_int_equal (s_trusted_tail (tx, "reader", "10000"), 0);
    s_assert_tailed_the_district (tx);
    //  Its own note, signed with its key, on its own admitted connection.
    char secret[PATH_MAX + 48];
    s_file (tx, "reader", LD_IDENTITY_SECRET, secret, sizeof secret);
    ld_client_author_t reader = {.next_seq = 1};
    assert_int_equal (ld_identity_load (secret, &reader.identity, NULL, 0), LD_OK);
    ld_client_t *client = ld_client_new_curve (tx->listen, reader.identity, tx->broker_key);
    assert_non_null (client);
    assert_int_equal (ld_client_hello (client, S_WAIT_MS), 0); //  admitted
    ld_event_t *event = ld_client_author_next (&reader, "note/" S_STREET, "a reader's note");
    assert_non_null (event);
    assert_int_equal (ld_client_publish (client, &event, 1, S_WAIT_MS, NULL, 0), -1);
    assert_string_equal (client->error_status, "unauthorized");
    //  Nothing of it was stored: the store still holds what it held.
    ld_client_stored_t *stored = NULL;
    size_t count = 0;
    assert_int_equal (ld_client_catchup_all (client, 0, "", S_WAIT_MS, &stored, &count, NULL), 0);
    ld_client_stored_free (&stored, count);
    assert_int_equal (count, tx->stored);
    ld_event_destroy (&event);
    ld_client_destroy (&client);
    ld_identity_destroy (&reader.identity);
}

int
main (void)
{
    setlocale (LC_ALL, "C.UTF-8");
    if (ld_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_tail_verify_authority_marks_each_event_and_a_late_revocation, setup, teardown),
        cmocka_unit_test_setup_teardown (test_tail_with_a_prefix_still_folds_the_trust_feeds, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_tail_verify_authority_prints_an_authority_column,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_tail_refuses_authority_options_that_cannot_work,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_certified_supervisor_tails_a_trusted_broker,
                                         trusted_setup, trusted_teardown),
        cmocka_unit_test_setup_teardown (test_uncertified_key_cannot_tail_a_trusted_broker,
                                         trusted_setup, trusted_teardown),
        cmocka_unit_test_setup_teardown (test_allowed_subscriber_tails_but_may_not_publish,
                                         trusted_setup, trusted_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
