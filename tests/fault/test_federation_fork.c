/*  test_federation_fork.c -- a fork signed on both sides of a partition
    freezes its author at the same seq on all five brokers once it heals.

    The five brokers of tests/ld_fed.h (ld_fed_add_five), replicating
    everything. A community's key signs seqs 1..N-1, which reach all five;
    then the links S2 -> D and S1 -> S2 are cut (one relay killed, one
    stopped), splitting {D, S1, C1} from {S2, C2}, and the same key signs
    two different events at seq N, both on top of N-1: one is handed in at
    C1, the other at C2. Each side stores its own version (it cannot know
    better) and settles. The partition heals; within 30 s all five must
    report the author frozen at N-1 and the same digests, refuse a later
    event of the author, and, stopped, hold the same feeds with both
    versions of seq N in their fork evidence.

    Variants: the fork at seq 4; at seq 4 with one branch continued to seq
    6 before the heal (the continuation becomes evidence too, where it was
    stored); both branches continued; one side's branch forked again at
    seq 6 before the heal (frozen at 5 there, then at 3 everywhere: the
    lowest fork wins); at seq 1 (frozen at 0: the author has no feed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>

#include "ld_client.h"
#include "ld_fed.h"

#define S_CONVERGE_MS 30000

enum { D = LD_FED_D, S1 = LD_FED_S1, S2 = LD_FED_S2, C1 = LD_FED_C1, C2 = LD_FED_C2 };

typedef struct {
    ld_fed_t *fed;
    ld_client_author_t *street, *community;
} s_world_t;

static int
setup (void **state)
{
    s_world_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    w->street = ld_client_author_new (0x31);
    w->community = ld_client_author_new (0x32);
    w->fed = ld_fed_new ("wudang/");
    assert_non_null (w->fed);
    assert_int_equal (ld_fed_add_five (w->fed, ""), 0);
    assert_int_equal (ld_fed_certify (w->fed, NULL, ld_identity_public_key (w->street->identity),
                                      "street", "wudang/s1/", "一街道"),
                      0);
    assert_int_equal (ld_fed_certify (w->fed, w->street,
                                      ld_identity_public_key (w->community->identity), "community",
                                      "wudang/s1/c1/", "一社区"),
                      0);
    assert_int_equal (ld_fed_start (w->fed), 0);
    *state = w;
    return 0;
}

static int
teardown (void **state)
{
    s_world_t *w = *state;
    ld_fed_destroy (&w->fed);
    ld_client_author_destroy (&w->street);
    ld_client_author_destroy (&w->community);
    free (w);
    return 0;
}

static void
s_assert_stored (s_world_t *w, int b, ld_event_t *event)
{
    ld_client_refusal_t refusal = {0};
    int refused = ld_fed_publish (w->fed, b, &event, 1, &refusal, 1, LD_FED_TIMEOUT);
    if (refused != 0)
        fail_msg ("seq %" PRIu64 " not stored at %s: %s: %s", ld_event_seq (event),
                  ld_fed_broker_name (w->fed, b), refused < 0 ? "no Ack" : refusal.status,
                  refusal.reason);
}

//  One case: the seq signed twice, once on each side; how far each branch
//  goes on before the heal; whether side A also proves a fork of its own
//  branch one seq higher (two versions of at+1 handed in at C1).
typedef struct {
    uint64_t at;
    int more_a, more_b;
    bool fork_above_a;
} s_case_t;

static void
s_continue (s_world_t *w, int b, int count, const char *text)
{
    for (int k = 0; k < count; k++) {
        ld_event_t *next = ld_client_author_next (w->community, "note/wudang/s1/c1/", text);
        s_assert_stored (w, b, next);
        ld_event_destroy (&next);
    }
}

static void
s_fork (s_world_t *w, s_case_t fork)
{
    ld_fed_t *fed = w->fed;
    uint64_t at = fork.at;
    const char *topic = "note/wudang/s1/c1/";
    const uint8_t *author = ld_identity_public_key (w->community->identity);
    s_continue (w, C1, (int) at - 1, "分叉之前");
    assert_int_equal (ld_fed_converge (fed, S_CONVERGE_MS), 0);

    //  the partition: {D, S1, C1} | {S2, C2}
    assert_int_equal (ld_fed_link_cut (fed, LD_FED_S2_D, LD_FED_CUT_KILL), 0);
    assert_int_equal (ld_fed_link_cut (fed, LD_FED_S1_S2, LD_FED_CUT_STOP), 0);

    //  two versions of seq `at`, both on top of at-1; each branch goes on
    //  at its side (the author's state is saved and restored around them)
    ld_client_author_t before = *w->community;
    ld_event_t *mine = ld_client_author_next (w->community, topic, "甲");
    ld_client_author_t branch_a = *w->community;
    *w->community = before;
    ld_event_t *theirs = ld_client_author_next (w->community, topic, "乙");
    ld_client_author_t branch_b = *w->community;
    assert_non_null (mine);
    assert_non_null (theirs);
    assert_int_equal (ld_event_seq (mine), at);
    assert_int_equal (ld_event_seq (theirs), at);
    assert_memory_not_equal (ld_event_id (mine), ld_event_id (theirs), LD_ID_BYTES);
    s_assert_stored (w, C1, mine);
    s_assert_stored (w, C2, theirs);
    *w->community = branch_b;
    s_continue (w, C2, fork.more_b, "乙之后");
    *w->community = branch_a;
    s_continue (w, C1, fork.more_a, "甲之后");
    if (fork.fork_above_a) {
        before = *w->community;
        ld_event_t *one = ld_client_author_next (w->community, topic, "丙");
        *w->community = before;
        ld_event_t *other = ld_client_author_next (w->community, topic, "丁");
        s_assert_stored (w, C1, one);
        ld_client_refusal_t refusal = {0};
        assert_int_equal (ld_fed_publish (fed, C1, &other, 1, &refusal, 1, LD_FED_TIMEOUT), 1);
        assert_string_equal (refusal.status, "fork");
        ld_event_destroy (&one);
        ld_event_destroy (&other);
    }
    //  each side settles on its own branch; only a fork proven there freezes
    const int side_a[] = {D, S1, C1}, side_b[] = {S2, C2};
    assert_int_equal (ld_fed_converge_among (fed, side_a, 3, S_CONVERGE_MS), 0);
    assert_int_equal (ld_fed_converge_among (fed, side_b, 2, S_CONVERGE_MS), 0);
    ld_fed_status_t status;
    assert_int_equal (ld_fed_status (fed, D, &status, LD_FED_TIMEOUT), 0);
    assert_int_equal (status.frozen, fork.fork_above_a ? 1 : 0);
    assert_int_equal (ld_fed_status (fed, C2, &status, LD_FED_TIMEOUT), 0);
    assert_int_equal (status.frozen, 0);

    //  heal: frozen at at-1 everywhere (the lowest fork), the same digests
    int64_t healed = ld_client_now_ms ();
    assert_int_equal (ld_fed_repair_all (fed), 0);
    assert_int_equal (ld_fed_converge (fed, S_CONVERGE_MS), 0);
    fprintf (stderr, "fork at seq %" PRIu64 ": converged in %" PRId64 " ms\n", at,
             ld_client_now_ms () - healed);
    for (int b = 0; b < LD_FED_FIVE; b++) {
        assert_int_equal (ld_fed_status (fed, b, &status, LD_FED_TIMEOUT), 0);
        if (status.frozen != 1) {
            ld_fed_status_print (fed, b);
            fail_msg ("%s: %" PRIu64 " frozen authors", ld_fed_broker_name (fed, b), status.frozen);
        }
        ld_head_t *heads;
        size_t count;
        assert_int_equal (ld_fed_heads (fed, b, &heads, &count, LD_FED_TIMEOUT), 0);
        bool found = false;
        for (size_t h = 0; h < count; h++)
            if (memcmp (heads[h].author, author, LD_KEY_BYTES) == 0) {
                found = true;
                assert_true (heads[h].frozen);
                assert_int_equal (heads[h].seq, at - 1);
            }
        free (heads);
        assert_true (found);
    }
    //  the frozen author gets nothing more, anywhere
    ld_event_t *later = ld_client_author_next (w->community, topic, "冻结之后");
    for (int b = 0; b < LD_FED_FIVE; b++) {
        ld_client_refusal_t refusal = {0};
        assert_int_equal (ld_fed_publish (fed, b, &later, 1, &refusal, 1, LD_FED_TIMEOUT), 1);
        //  the store says "frozen"; the authority check before it folds a
        //  proven fork as a cut of the key ("revoked", naming the fork)
        if (strcmp (refusal.status, "frozen") != 0 && strcmp (refusal.status, "revoked") != 0)
            fail_msg ("%s: %s: %s", ld_fed_broker_name (fed, b), refusal.status, refusal.reason);
    }
    ld_event_destroy (&later);

    //  the stores agree, each with both versions as evidence
    assert_int_equal (ld_fed_stop_all (fed), 0);
    uint8_t reference[32];
    for (int b = 0; b < LD_FED_FIVE; b++) {
        ld_fed_store_t *store = ld_fed_store_open (fed, b);
        assert_non_null (store);
        char err[512];
        if (ld_fed_store_check (store, err, sizeof err) != 0)
            fail_msg ("%s: %s", ld_fed_broker_name (fed, b), err);
        uint8_t fingerprint[32];
        uint64_t frozen;
        assert_int_equal (ld_fed_store_fingerprint (store, fingerprint, NULL, NULL, &frozen), 0);
        assert_int_equal (frozen, 1);
        if (b == 0)
            memcpy (reference, fingerprint, 32);
        else if (memcmp (reference, fingerprint, 32) != 0)
            fail_msg ("%s's store differs from D's", ld_fed_broker_name (fed, b));
        uint64_t head;
        bool is_frozen;
        assert_int_equal (ld_fed_store_head (store, author, &head, &is_frozen), 0);
        assert_int_equal (head, at - 1);
        assert_true (is_frozen);
        if (!ld_fed_store_evidence_has (store, author, at, ld_event_id (mine))
            || !ld_fed_store_evidence_has (store, author, at, ld_event_id (theirs)))
            fail_msg ("%s lacks a version of seq %" PRIu64 " in its evidence",
                      ld_fed_broker_name (fed, b), at);
        ld_fed_store_close (&store);
    }
    ld_event_destroy (&mine);
    ld_event_destroy (&theirs);
    ld_fed_passed (fed);
}

static void
test_a_fork_across_a_partition_freezes_the_author_everywhere (void **state)
{
    s_fork (*state, (s_case_t){.at = 4});
}

static void
test_a_fork_whose_branch_went_on_freezes_the_author_everywhere (void **state)
{
    s_fork (*state, (s_case_t){.at = 4, .more_a = 2});
}

static void
test_a_fork_whose_branches_both_went_on_freezes_the_author_everywhere (void **state)
{
    s_fork (*state, (s_case_t){.at = 4, .more_a = 2, .more_b = 3});
}

static void
test_a_lower_fork_moves_a_freeze_down_everywhere (void **state)
{
    s_fork (*state, (s_case_t){.at = 4, .more_a = 1, .fork_above_a = true});
}

static void
test_a_fork_at_seq_1_freezes_the_author_at_0_everywhere (void **state)
{
    s_fork (*state, (s_case_t){.at = 1});
}

int
main (void)
{
    if (ld_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_a_fork_across_a_partition_freezes_the_author_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_a_fork_whose_branch_went_on_freezes_the_author_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_a_fork_whose_branches_both_went_on_freezes_the_author_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown (test_a_lower_fork_moves_a_freeze_down_everywhere, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_a_fork_at_seq_1_freezes_the_author_at_0_everywhere,
                                         setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
