/*  test_store_faults.c -- the store under injected storage faults (the VFS
    shim of store/ld_faultvfs.c): a failed fsync or write is reported as an
    I/O error and nothing of the batch counts as stored; a full disk is
    refused while reads go on, and appends resume when space returns. Each
    fault has a control: the same steps without the fault succeed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ld_event.h"
#include "ld_faultvfs.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_store.h"
#include "ld_test_util.h"

typedef struct {
    char dir[256];
    char db[300];
    char control[300];
    ld_store_t *store;
    ld_identity_t *author;
    uint64_t next_seq;
    uint8_t prev[LD_ID_BYTES];
} fixture_t;

static void
s_set_fault (fixture_t *fx, const char *word)
{
    assert_int_equal (ld_test_write_file (fx->control, word, strlen (word), 0600), 0);
}

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    snprintf (fx->db, sizeof fx->db, "%s/%s", fx->dir, LD_STORE_FILE);
    //  The control file lives beside the store; the shim is installed once
    //  per process, so every test of this file points it at a stable path.
    snprintf (fx->control, sizeof fx->control, "%s", getenv (LD_FAULT_FILE_ENV));
    s_set_fault (fx, "");
    assert_int_equal (ld_store_open (fx->db, &fx->store, NULL, 0), LD_OK);
    uint8_t seed[LD_SEED_BYTES] = {7};
    fx->author = ld_identity_new_from_seed (seed);
    fx->next_seq = 1;
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    s_set_fault (fx, "");
    ld_store_destroy (&fx->store);
    ld_identity_destroy (&fx->author);
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

//  A batch of n chained events, continuing the author's feed.
static void
s_batch (fixture_t *fx, ld_event_t **events, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *payload;
        size_t size;
        assert_int_equal (ld_payload_note ("故障注入", &payload, &size), LD_OK);
        uint64_t seq = fx->next_seq++;
        assert_int_equal (ld_event_sign (fx->author, seq, seq > 1 ? fx->prev : NULL, 1, "note/x/",
                                         "note", payload, size, &events[i], NULL, 0),
                          LD_OK);
        memcpy (fx->prev, ld_event_id (events[i]), LD_ID_BYTES);
        free (payload);
    }
}

static void
s_free_batch (ld_event_t **events, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ld_event_destroy (&events[i]);
}

static uint64_t
s_head_seq (fixture_t *fx)
{
    ld_head_t head;
    if (ld_store_head (fx->store, ld_identity_public_key (fx->author), &head) != LD_OK)
        return 0;
    return head.seq;
}

//  Runs one batch of 10 under `fault` and returns the append status; then
//  reopens the store without the fault (as a restarted daemon would).
static ld_status_t
s_append_under (fixture_t *fx, const char *fault)
{
    ld_event_t *first[10], *second[10];
    ld_append_result_t results[10];
    s_batch (fx, first, 10);
    assert_int_equal (ld_store_append (fx->store, first, 10, 1, results, NULL, 0), LD_OK);
    s_batch (fx, second, 10);
    s_set_fault (fx, fault);
    char err[512] = "";
    ld_status_t rc = ld_store_append (fx->store, second, 10, 1, results, err, sizeof err);
    s_set_fault (fx, "");
    ld_store_destroy (&fx->store);
    assert_int_equal (ld_store_open (fx->db, &fx->store, NULL, 0), LD_OK);
    s_free_batch (first, 10);
    s_free_batch (second, 10);
    return rc;
}

static void
test_store_control_run_without_fault_stores_both_batches (void **state)
{
    fixture_t *fx = *state;
    assert_int_equal (s_append_under (fx, ""), LD_OK);
    assert_int_equal (s_head_seq (fx), 20);
}

static void
test_store_reports_a_failed_fsync_as_io_error (void **state)
{
    fixture_t *fx = *state;
    assert_int_equal (s_append_under (fx, "fsync"), LD_ERR_IO);
    //  The first, acknowledged batch survived the failure and the reopen.
    //  The failed one was never acknowledged; it may or may not have
    //  reached the WAL, and a resend of it is a no-op either way.
    assert_true (s_head_seq (fx) >= 10);
}

static void
test_store_reports_a_failed_write_as_io_error (void **state)
{
    fixture_t *fx = *state;
    assert_int_equal (s_append_under (fx, "write"), LD_ERR_IO);
    assert_int_equal (s_head_seq (fx), 10);
}

static int
s_count (void *arg, const ld_stored_t *stored)
{
    (void) stored;
    (*(size_t *) arg)++;
    return 0;
}

static void
test_store_refuses_on_a_full_disk_reads_on_and_resumes (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *first[5], *second[5];
    ld_append_result_t results[5];
    s_batch (fx, first, 5);
    assert_int_equal (ld_store_append (fx->store, first, 5, 1, results, NULL, 0), LD_OK);
    s_batch (fx, second, 5);
    s_set_fault (fx, "full");
    assert_int_equal (ld_store_append (fx->store, second, 5, 1, results, NULL, 0), LD_ERR_FULL);
    //  reads go on while the disk is full
    size_t count = 0;
    assert_int_equal (ld_store_read_after (fx->store, 0, NULL, 0, s_count, &count), LD_OK);
    assert_int_equal (count, 5);
    assert_int_equal (s_head_seq (fx), 5);
    //  space returns: the same store object appends again, nothing reopened
    s_set_fault (fx, "");
    assert_int_equal (ld_store_append (fx->store, second, 5, 1, results, NULL, 0), LD_OK);
    assert_int_equal (s_head_seq (fx), 10);
    s_free_batch (first, 5);
    s_free_batch (second, 5);
}

int
main (void)
{
    //  The shim reads LD_FAULT_FILE once, at the first store open.
    char control[256];
    assert_int_equal (ld_test_tempdir (control, sizeof control - 16), 0);
    char path[300];
    snprintf (path, sizeof path, "%s/fault", control);
    setenv (LD_FAULT_FILE_ENV, path, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_store_control_run_without_fault_stores_both_batches,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_reports_a_failed_fsync_as_io_error, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_reports_a_failed_write_as_io_error, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_refuses_on_a_full_disk_reads_on_and_resumes,
                                         setup, teardown),
    };
    int failed = cmocka_run_group_tests_name ("store faults", tests, NULL, NULL);
    ld_test_remove_tree (control);
    return failed;
}
