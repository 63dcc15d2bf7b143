/*  test_outbox.c -- the node outbox's delivery decisions (nodes/ld_outbox.h),
    with a clock the test holds: what goes out, what an Ack frees, when a
    silent window is resent, how "gap" and retry refusals rewind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ld_outbox.h"

typedef struct {
    ld_outbox_t *outbox;
    int64_t now;
} fixture_t;

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    fx->outbox = ld_outbox_new (0);
    assert_non_null (fx->outbox);
    fx->now = 1000;
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_destroy (&fx->outbox);
    assert_null (fx->outbox);
    free (fx);
    return 0;
}

//  Takes the next batch the outbox offers and reports it sent whole.
//  Returns its id; asserts what it carries.
static uint64_t
s_send (fixture_t *fx, uint64_t expect_first, uint64_t expect_count)
{
    uint64_t batch, first, count;
    assert_true (ld_outbox_next (fx->outbox, fx->now, &batch, &first, &count));
    assert_int_equal (first, expect_first);
    assert_int_equal (count, expect_count);
    ld_outbox_sent (fx->outbox, batch, first, first + count - 1, fx->now);
    return batch;
}

static bool
s_offers (fixture_t *fx)
{
    uint64_t batch, first, count;
    return ld_outbox_next (fx->outbox, fx->now, &batch, &first, &count);
}

static void
test_outbox_sends_up_to_the_limit_in_batches (void **state)
{
    fixture_t *fx = *state;
    assert_false (s_offers (fx)); //  empty feed
    ld_outbox_set_limit (fx->outbox, LD_OUTBOX_BATCH_MAX + 10);
    s_send (fx, 1, LD_OUTBOX_BATCH_MAX);
    s_send (fx, LD_OUTBOX_BATCH_MAX + 1, 10);
    assert_false (s_offers (fx)); //  all in flight
    assert_int_equal (ld_outbox_in_flight (fx->outbox), 2);
}

static void
test_outbox_window_is_bounded (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_set_limit (fx->outbox, 100);
    for (uint64_t seq = 1; seq <= LD_OUTBOX_WINDOW; seq++) {
        uint64_t batch, first, count;
        assert_true (ld_outbox_next (fx->outbox, fx->now, &batch, &first, &count));
        ld_outbox_sent (fx->outbox, batch, first, first, fx->now); //  one event each
    }
    assert_false (s_offers (fx));
    assert_int_equal (ld_outbox_in_flight (fx->outbox), LD_OUTBOX_WINDOW);
}

static void
test_outbox_ack_frees_the_window_and_advances (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_set_limit (fx->outbox, 10);
    uint64_t batch = s_send (fx, 1, 10);
    uint64_t first, last;
    assert_true (ld_outbox_answered (fx->outbox, batch, fx->now, &first, &last));
    assert_int_equal (first, 1);
    assert_int_equal (last, 10);
    assert_true (ld_outbox_acked (fx->outbox, 10, fx->now));
    assert_false (ld_outbox_acked (fx->outbox, 7, fx->now)); //  never backwards
    assert_int_equal (ld_outbox_acked_seq (fx->outbox), 10);
    assert_int_equal (ld_outbox_in_flight (fx->outbox), 0);
    assert_false (s_offers (fx));
    assert_int_equal (ld_outbox_deadline (fx->outbox, fx->now), INT64_MAX);
}

static void
test_outbox_ack_of_a_superseded_batch_still_counts (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_set_limit (fx->outbox, 5);
    uint64_t old = s_send (fx, 1, 5);
    fx->now += LD_OUTBOX_RESEND_MS;
    assert_true (ld_outbox_tick (fx->outbox, fx->now)); //  taken as lost
    s_send (fx, 1, 5);
    uint64_t first, last;
    assert_false (ld_outbox_answered (fx->outbox, old, fx->now, &first, &last));
    assert_true (ld_outbox_acked (fx->outbox, 5, fx->now));
    assert_int_equal (ld_outbox_in_flight (fx->outbox), 0);
}

static void
test_outbox_resends_a_silent_window_with_backoff (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_set_limit (fx->outbox, 3);
    s_send (fx, 1, 3);
    assert_int_equal (ld_outbox_deadline (fx->outbox, fx->now), fx->now + LD_OUTBOX_RESEND_MS);
    fx->now += LD_OUTBOX_RESEND_MS - 1;
    assert_false (ld_outbox_tick (fx->outbox, fx->now));
    fx->now += 1;
    assert_true (ld_outbox_tick (fx->outbox, fx->now));
    s_send (fx, 1, 3); //  again, from acked + 1
    //  The next timeout is twice as long, and so on up to the maximum.
    assert_int_equal (ld_outbox_deadline (fx->outbox, fx->now), fx->now + 2 * LD_OUTBOX_RESEND_MS);
    for (int i = 0; i < 10; i++) {
        fx->now = ld_outbox_deadline (fx->outbox, fx->now);
        assert_true (ld_outbox_tick (fx->outbox, fx->now));
        s_send (fx, 1, 3);
    }
    assert_int_equal (ld_outbox_deadline (fx->outbox, fx->now), fx->now + LD_OUTBOX_RESEND_MAX_MS);
    //  Progress resets it.
    ld_outbox_set_limit (fx->outbox, 4);
    assert_true (ld_outbox_acked (fx->outbox, 3, fx->now));
    s_send (fx, 4, 1);
    assert_int_equal (ld_outbox_deadline (fx->outbox, fx->now), fx->now + LD_OUTBOX_RESEND_MS);
}

static void
test_outbox_an_answer_refreshes_the_timeout (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_set_limit (fx->outbox, 1);
    uint64_t first_batch = s_send (fx, 1, 1);
    ld_outbox_set_limit (fx->outbox, 2);
    s_send (fx, 2, 1);
    fx->now += LD_OUTBOX_RESEND_MS - 10;
    uint64_t first, last;
    assert_true (ld_outbox_answered (fx->outbox, first_batch, fx->now, &first, &last));
    assert_true (ld_outbox_acked (fx->outbox, 1, fx->now));
    fx->now += 20; //  past the first deadline, not the refreshed one
    assert_false (ld_outbox_tick (fx->outbox, fx->now));
    assert_int_equal (ld_outbox_in_flight (fx->outbox), 1);
}

static void
test_outbox_gap_rewinds_to_the_needed_seq (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_set_limit (fx->outbox, 30);
    for (uint64_t first = 1; first <= 30; first += 10) {
        uint64_t batch, offered, count;
        assert_true (ld_outbox_next (fx->outbox, fx->now, &batch, &offered, &count));
        ld_outbox_sent (fx->outbox, batch, first, first + 9, fx->now);
    }
    assert_true (ld_outbox_acked (fx->outbox, 5, fx->now));
    //  The broker lacks 11: everything from there goes again.
    assert_false (ld_outbox_rewind (fx->outbox, 11));
    assert_int_equal (ld_outbox_in_flight (fx->outbox), 0);
    s_send (fx, 6, 25); //  an empty window resends from acked + 1
}

static void
test_outbox_gap_below_acked_refills_a_broker_that_lost_its_store (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_set_limit (fx->outbox, 8);
    s_send (fx, 1, 8);
    assert_true (ld_outbox_acked (fx->outbox, 8, fx->now));
    assert_true (ld_outbox_rewind (fx->outbox, 1)); //  it had acknowledged them
    assert_int_equal (ld_outbox_acked_seq (fx->outbox), 0);
    s_send (fx, 1, 8);
}

static void
test_outbox_pause_holds_sending_then_backs_off (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_set_limit (fx->outbox, 4);
    s_send (fx, 1, 4);
    ld_outbox_pause (fx->outbox, 1, fx->now); //  "disk-full", retry later
    assert_false (s_offers (fx));
    assert_int_equal (ld_outbox_deadline (fx->outbox, fx->now), fx->now + LD_OUTBOX_RESEND_MS);
    fx->now += LD_OUTBOX_RESEND_MS;
    s_send (fx, 1, 4);
    ld_outbox_pause (fx->outbox, 1, fx->now);
    assert_int_equal (ld_outbox_deadline (fx->outbox, fx->now), fx->now + 2 * LD_OUTBOX_RESEND_MS);
}

static void
test_outbox_limit_below_sent_stops_sending (void **state)
{
    fixture_t *fx = *state;
    ld_outbox_set_limit (fx->outbox, 10);
    s_send (fx, 1, 10);
    //  The broker refused seq 6 for good: 1..5 still go, 6.. never.
    ld_outbox_set_limit (fx->outbox, 5);
    ld_outbox_rewind (fx->outbox, 6);
    s_send (fx, 1, 5);
    assert_false (s_offers (fx));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_outbox_sends_up_to_the_limit_in_batches, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_outbox_window_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown (test_outbox_ack_frees_the_window_and_advances, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_outbox_ack_of_a_superseded_batch_still_counts, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_outbox_resends_a_silent_window_with_backoff, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_outbox_an_answer_refreshes_the_timeout, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_outbox_gap_rewinds_to_the_needed_seq, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (
            test_outbox_gap_below_acked_refills_a_broker_that_lost_its_store, setup, teardown),
        cmocka_unit_test_setup_teardown (test_outbox_pause_holds_sending_then_backs_off, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_outbox_limit_below_sent_stops_sending, setup,
                                         teardown),
    };
    return cmocka_run_group_tests_name ("outbox", tests, NULL, NULL);
}
