/*  test_broker_storage.c -- a running broker under injected storage faults
    (store/ld_faultvfs.c, through LD_FAULT_FILE): a failed fsync or write
    stops it (exit 74) without acknowledging the batch, and a restart
    recovers with everything acknowledged still there; a full disk refuses
    new events with "disk-full" while catch-up keeps serving, and ingest
    resumes by itself when space returns. The control run shows the same
    steps succeed without the fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ld_client.h"
#include "ld_faultvfs.h"
#include "ld_proc.h"
#include "ld_test_util.h"

#define S_TIMEOUT 10000
#define S_BATCH   50

typedef struct {
    char dir[256];
    char data[300];
    char control[300];
    char listen[256];
    ld_proc_t broker;
    ld_client_author_t *author;
    ld_event_t *first[S_BATCH];
    ld_event_t *second[S_BATCH];
} fixture_t;

static void
s_set_fault (fixture_t *fx, const char *word)
{
    assert_int_equal (ld_test_write_file (fx->control, word, strlen (word), 0600), 0);
}

static void
s_start_broker (fixture_t *fx, const char *listen)
{
    const char *argv[] = {"broker", "--data", fx->data, "--listen", listen, "--open", NULL};
    assert_int_equal (ld_proc_start (&fx->broker, argv, true, S_TIMEOUT), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
}

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    snprintf (fx->data, sizeof fx->data, "%s/broker", fx->dir);
    snprintf (fx->control, sizeof fx->control, "%s/fault", fx->dir);
    s_set_fault (fx, "");
    setenv (LD_FAULT_FILE_ENV, fx->control, 1);
    //  a port outside the ephemeral range, so that the restarts find it free
    char listen[256];
    assert_int_equal (ld_proc_free_endpoint (listen, sizeof listen), 0);
    s_start_broker (fx, listen);
    fx->author = ld_client_author_new (11);
    for (int i = 0; i < S_BATCH; i++)
        fx->first[i] = ld_client_author_next (fx->author, "note/wudang/", "先");
    for (int i = 0; i < S_BATCH; i++)
        fx->second[i] = ld_client_author_next (fx->author, "note/wudang/", "后");
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_proc_stop (&fx->broker);
    unsetenv (LD_FAULT_FILE_ENV);
    for (int i = 0; i < S_BATCH; i++) {
        ld_event_destroy (&fx->first[i]);
        ld_event_destroy (&fx->second[i]);
    }
    ld_client_author_destroy (&fx->author);
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

static size_t
s_stored (fixture_t *fx)
{
    ld_client_t *client = ld_client_new (fx->listen);
    ld_client_stored_t *stored = NULL;
    size_t count = 0;
    int rc = ld_client_catchup_all (client, 0, "note/", S_TIMEOUT, &stored, &count, NULL);
    ld_client_stored_free (&stored, count);
    ld_client_destroy (&client);
    assert_int_equal (rc, 0);
    return count;
}

//  Publishes the first batch (acknowledged), then the second under the
//  fault; returns what the second publish returned (-1: no Ack).
static int
s_second_batch_under (fixture_t *fx, const char *fault, ld_client_refusal_t *refusal)
{
    ld_client_t *client = ld_client_new (fx->listen);
    assert_int_equal (ld_client_publish (client, fx->first, S_BATCH, S_TIMEOUT, NULL, 0), 0);
    s_set_fault (fx, fault);
    int rc = ld_client_publish (client, fx->second, S_BATCH, 3000, refusal, 1);
    ld_client_destroy (&client);
    return rc;
}

static void
test_broker_control_run_acknowledges_both_batches (void **state)
{
    fixture_t *fx = *state;
    assert_int_equal (s_second_batch_under (fx, "", NULL), 0);
    assert_int_equal (s_stored (fx), 2 * S_BATCH);
}

//  The fault stops the broker unacknowledged; a restart recovers.
static void
s_assert_stops_and_recovers (fixture_t *fx, const char *fault)
{
    assert_int_equal (s_second_batch_under (fx, fault, NULL), -1);
    assert_true (ld_proc_wait (&fx->broker, S_TIMEOUT));
    assert_int_equal (ld_proc_exit_code (&fx->broker), 74);
    s_set_fault (fx, "");
    char listen[256];
    snprintf (listen, sizeof listen, "%s", fx->listen);
    s_start_broker (fx, listen);
    //  everything acknowledged is there; the unacknowledged batch may or
    //  may not be, and resending it completes the feed either way
    assert_true (s_stored (fx) >= S_BATCH);
    ld_client_t *client = ld_client_new (fx->listen);
    assert_int_equal (ld_client_publish (client, fx->second, S_BATCH, S_TIMEOUT, NULL, 0), 0);
    ld_client_destroy (&client);
    assert_int_equal (s_stored (fx), 2 * S_BATCH);
}

static void
test_broker_stops_on_a_failed_fsync_without_acknowledging (void **state)
{
    s_assert_stops_and_recovers (*state, "fsync");
}

static void
test_broker_stops_on_a_failed_write_without_acknowledging (void **state)
{
    s_assert_stops_and_recovers (*state, "write");
}

static void
test_broker_refuses_on_a_full_disk_serves_reads_and_resumes (void **state)
{
    fixture_t *fx = *state;
    ld_client_refusal_t refusal = {0};
    assert_int_equal (s_second_batch_under (fx, "full", &refusal), S_BATCH);
    assert_string_equal (refusal.status, "disk-full");
    assert_true (refusal.retry);
    //  still serving: reads go on while the disk is full
    assert_int_equal (s_stored (fx), S_BATCH);
    assert_int_equal (ld_proc_exit_code (&fx->broker), -1); //  still running
    //  space returns: the same broker process takes the batch
    s_set_fault (fx, "");
    ld_client_t *client = ld_client_new (fx->listen);
    assert_int_equal (ld_client_publish (client, fx->second, S_BATCH, S_TIMEOUT, NULL, 0), 0);
    ld_client_destroy (&client);
    assert_int_equal (s_stored (fx), 2 * S_BATCH);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_broker_control_run_acknowledges_both_batches, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_broker_stops_on_a_failed_fsync_without_acknowledging,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_broker_stops_on_a_failed_write_without_acknowledging,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_broker_refuses_on_a_full_disk_serves_reads_and_resumes, setup, teardown),
    };
    return cmocka_run_group_tests_name ("broker storage faults", tests, NULL, NULL);
}
