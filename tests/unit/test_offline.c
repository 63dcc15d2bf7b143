/*  test_offline.c -- offline signing with the feed position beside the key,
    and envelope files (trust/ld_offline.h).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

#include <cmocka.h>

#include "ld_identity.h"
#include "ld_offline.h"
#include "ld_payload.h"
#include "ld_test_util.h"

#define S_TOPIC "trust/wudang/"
#define S_TIME  1700000000000

typedef struct {
    char dir[PATH_MAX / 2];
    char keys[PATH_MAX / 2 + 16];
    char secret[PATH_MAX];
    char position[PATH_MAX];
    uint8_t *payload;
    size_t payload_size;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    snprintf (fx->keys, sizeof fx->keys, "%s/root", fx->dir);
    snprintf (fx->secret, sizeof fx->secret, "%s/identity.secret", fx->keys);
    snprintf (fx->position, sizeof fx->position, "%s/%s", fx->keys, LD_OFFLINE_POSITION);
    ld_identity_t *identity = ld_identity_new ();
    char err[256];
    assert_int_equal (ld_identity_save (identity, fx->keys, false, err, sizeof err), LD_OK);
    uint8_t subject[LD_KEY_BYTES] = {1};
    assert_int_equal (ld_payload_certify (subject, "street", "wudang/x/", "街道", &fx->payload,
                                          &fx->payload_size),
                      LD_OK);
    ld_identity_destroy (&identity);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *fx = *state;
    ld_test_remove_tree (fx->dir);
    free (fx->payload);
    free (fx);
    return 0;
}

static ld_status_t
s_sign (s_fixture_t *fx, const char *name, bool force, ld_offline_result_t *result)
{
    char out[PATH_MAX], err[512];
    snprintf (out, sizeof out, "%s/%s", fx->dir, name);
    return ld_offline_sign (fx->secret, S_TOPIC, LD_TYPE_CERTIFY, fx->payload, fx->payload_size,
                            S_TIME, out, force, result, err, sizeof err);
}

static void
s_read (s_fixture_t *fx, const char *name, ld_event_t ***events_p, size_t *count_p)
{
    char path[PATH_MAX], err[512];
    snprintf (path, sizeof path, "%s/%s", fx->dir, name);
    assert_int_equal (ld_offline_read (path, events_p, count_p, err, sizeof err), LD_OK);
}

static void
test_offline_signing_continues_the_feed (void **state)
{
    s_fixture_t *fx = *state;
    ld_offline_result_t one, two;
    assert_int_equal (s_sign (fx, "one", false, &one), LD_OK);
    assert_int_equal (s_sign (fx, "two", false, &two), LD_OK);
    assert_int_equal (one.seq, 1);
    assert_int_equal (two.seq, 2);
    ld_event_t **events;
    size_t count;
    s_read (fx, "two", &events, &count);
    assert_int_equal (count, 1);
    assert_int_equal (ld_event_seq (events[0]), 2);
    assert_memory_equal (ld_event_prev (events[0]), one.id, LD_ID_BYTES);
    ld_offline_events_free (&events, count);
    uint64_t seq;
    size_t pending;
    char err[256];
    assert_int_equal (ld_offline_position (fx->secret, &seq, &pending, err, sizeof err), LD_OK);
    assert_int_equal (seq, 2);
    assert_int_equal (pending, 0);
}

static void
test_offline_refuses_to_overwrite_unless_forced (void **state)
{
    s_fixture_t *fx = *state;
    ld_offline_result_t result;
    assert_int_equal (s_sign (fx, "out", false, &result), LD_OK);
    assert_int_equal (s_sign (fx, "out", false, &result), LD_ERR_EXISTS);
    uint64_t seq;
    size_t pending;
    char err[256];
    assert_int_equal (ld_offline_position (fx->secret, &seq, &pending, err, sizeof err), LD_OK);
    assert_int_equal (seq, 1); //  nothing was signed
    assert_int_equal (s_sign (fx, "out", true, &result), LD_OK);
    assert_int_equal (result.seq, 2);
}

//  A crash after the position was advanced and before FILE was written
//  (step 3 done, 4 not): simulated by a position file that still holds its
//  event as pending. The next signing writes it first, under a new seq.
static void
test_offline_recovers_an_event_a_crash_left_pending (void **state)
{
    s_fixture_t *fx = *state;
    ld_offline_result_t first;
    assert_int_equal (s_sign (fx, "first", false, &first), LD_OK);
    ld_event_t **events;
    size_t count;
    s_read (fx, "first", &events, &count);
    //  Rewrite the position as step 3 left it.
    char text[2 * LD_ENVELOPE_MAX_DEFAULT], id[LD_ID_TEXT_BYTES], b64[LD_ENVELOPE_MAX_DEFAULT];
    size_t size;
    const uint8_t *envelope = ld_event_envelope (events[0], &size);
    sodium_bin2base64 (b64, sizeof b64, envelope, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    ld_id_to_text (first.id, id);
    snprintf (text, sizeof text, "seq: 1\nhead: %s\npending: %s\n", id, b64);
    assert_int_equal (ld_test_write_file (fx->position, text, strlen (text), 0600), 0);
    ld_offline_events_free (&events, count);
    ld_offline_result_t second;
    assert_int_equal (s_sign (fx, "second", false, &second), LD_OK);
    assert_int_equal (second.seq, 2);
    assert_int_equal (second.recovered, 1);
    s_read (fx, "second", &events, &count);
    assert_int_equal (count, 2);
    assert_memory_equal (ld_event_id (events[0]), first.id, LD_ID_BYTES);
    assert_int_equal (ld_event_seq (events[1]), 2);
    ld_offline_events_free (&events, count);
}

static void
test_offline_refuses_a_position_that_does_not_parse (void **state)
{
    s_fixture_t *fx = *state;
    const char *text = "seq: 7\n"; //  no head: which event would seq 8 follow?
    assert_int_equal (ld_test_write_file (fx->position, text, strlen (text), 0600), 0);
    ld_offline_result_t result;
    assert_int_equal (s_sign (fx, "out", false, &result), LD_ERR_CORRUPT);
    char out[PATH_MAX];
    snprintf (out, sizeof out, "%s/out", fx->dir);
    assert_int_equal (access (out, F_OK), -1);
}

static void
test_envelope_file_refuses_a_cut_short_record (void **state)
{
    s_fixture_t *fx = *state;
    ld_offline_result_t result;
    assert_int_equal (s_sign (fx, "out", false, &result), LD_OK);
    char path[PATH_MAX], data[LD_ENVELOPE_MAX_DEFAULT], err[256];
    snprintf (path, sizeof path, "%s/out", fx->dir);
    ssize_t size = ld_test_read_file (path, data, sizeof data);
    assert_true (size > 10);
    assert_int_equal (ld_test_write_file (path, data, (size_t) size - 5, 0644), 0);
    ld_event_t **events;
    size_t count;
    assert_int_not_equal (ld_offline_read (path, &events, &count, err, sizeof err), LD_OK);
    assert_null (events);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_offline_signing_continues_the_feed, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_offline_refuses_to_overwrite_unless_forced, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_offline_recovers_an_event_a_crash_left_pending,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_offline_refuses_a_position_that_does_not_parse,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_envelope_file_refuses_a_cut_short_record, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
