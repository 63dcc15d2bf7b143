/*  test_federation_revoke.c -- a revocation learned on one side of a
    partition while the revoked key goes on publishing on the other ends
    with the same invalid marks on all five brokers.

    The five brokers of tests/ld_fed.h (ld_fed_add_five), replicating
    everything. Street K (wudang/s2/) certified community C2 at its seq 1
    and publishes notes up to seq 4, which reach all five. Then {D, S1, C1}
    is split from {S2, C2}. On the first side the root cuts K after seq 4,
    offline, with the real CLI: `liandong cert revoke --offline` and
    `liandong import --broker D`. On the other side, not knowing, S2 and C2
    take K's seqs 5..10 -- among them a certificate for a new community X
    (K's seq 8, after the cut) -- X's notes, and notes of C2 (certified
    before the cut). The partition heals; within 30 s all five must report
    the same digests and the same number of invalid events; stopped, their
    stores must agree, with K's seqs 5..10 marked "revoked", X's notes
    too (its only certificate lies after its certifier's cut), K's seqs
    1..4 and C2's notes unmarked. K's next event is refused everywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>

#include "ld_client.h"
#include "ld_fed.h"
#include "ld_payload.h"
#include "ld_test_util.h"

#define S_CONVERGE_MS 30000
#define S_CUT_AFTER   4  //  K's last valid seq
#define S_K_LAST      10 //  K's last seq, signed on the far side
#define S_X_NOTES     3
#define S_C2_NOTES    2

enum { D = LD_FED_D, S1 = LD_FED_S1, S2 = LD_FED_S2, C1 = LD_FED_C1, C2 = LD_FED_C2 };

typedef struct {
    ld_fed_t *fed;
    ld_client_author_t *street, *community, *newcomer;
} s_world_t;

static int
setup (void **state)
{
    s_world_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    w->street = ld_client_author_new (0x41);
    w->community = ld_client_author_new (0x42);
    w->newcomer = ld_client_author_new (0x43);
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
    ld_client_author_destroy (&w->newcomer);
    free (w);
    return 0;
}

//  Stores event at broker b, waiting while b lacks what it rests on (a
//  "gap" until the seq before arrives from its peer, "awaiting-certificate"
//  until the author's certificate does).
static void
s_store (s_world_t *w, int b, ld_event_t *event)
{
    ld_client_refusal_t refusal = {0};
    int refused;
    int64_t deadline = ld_client_now_ms () + LD_FED_TIMEOUT;
    while ((refused = ld_fed_publish (w->fed, b, &event, 1, &refusal, 1, LD_FED_TIMEOUT)) == 1
           && (refusal.retry || strcmp (refusal.status, "gap") == 0)
           && ld_client_now_ms () < deadline)
        poll (NULL, 0, 50); //  a retry interval: the broker's state is the condition
    if (refused != 0)
        fail_msg ("seq %" PRIu64 " not stored at %s: %s: %s", ld_event_seq (event),
                  ld_fed_broker_name (w->fed, b), refused < 0 ? "no Ack" : refusal.status,
                  refusal.reason);
    ld_event_destroy (&event);
}

static void
s_note (s_world_t *w, int b, ld_client_author_t *author, const char *topic)
{
    ld_event_t *event = ld_client_author_next (author, topic, "通知");
    assert_non_null (event);
    s_store (w, b, event);
}

static void
test_a_revocation_across_a_partition_marks_the_same_events_everywhere (void **state)
{
    s_world_t *w = *state;
    w->fed = ld_fed_new ("wudang/");
    ld_fed_t *fed = w->fed;
    assert_non_null (fed);
    assert_int_equal (ld_fed_add_five (fed, ""), 0);
    const uint8_t *k = ld_identity_public_key (w->street->identity);
    const uint8_t *c2 = ld_identity_public_key (w->community->identity);
    const uint8_t *x = ld_identity_public_key (w->newcomer->identity);
    assert_int_equal (ld_fed_certify (fed, NULL, k, "street", "wudang/s2/", "二街道"), 0);
    assert_int_equal (ld_fed_certify (fed, w->street, c2, "community", "wudang/s2/c2/", "二社区"),
                      0);
    assert_int_equal (ld_fed_start (fed), 0);
    while (w->street->next_seq <= S_CUT_AFTER)
        s_note (w, S2, w->street, "note/wudang/s2/");
    assert_int_equal (ld_fed_converge (fed, S_CONVERGE_MS), 0);

    //  the partition: {D, S1, C1} | {S2, C2}
    assert_int_equal (ld_fed_link_cut (fed, LD_FED_S2_D, LD_FED_CUT_STOP), 0);
    assert_int_equal (ld_fed_link_cut (fed, LD_FED_S1_S2, LD_FED_CUT_KILL), 0);

    //  the root cuts K after seq 4, offline, imported at D
    char key[LD_KEY_TEXT_BYTES], file[600], after[16], out[8192], err[8192];
    ld_key_to_text (k, key);
    snprintf (file, sizeof file, "%s/revoke.env", ld_fed_dir (fed));
    snprintf (after, sizeof after, "%d", S_CUT_AFTER);
    const char *revoke[] = {"cert",  "revoke", "--offline", "--identity", ld_fed_root_secret (fed),
                            "--out", file,     "--subject", key,          "--after-seq",
                            after,   NULL};
    if (ld_test_run (revoke, out, sizeof out, err, sizeof err) != 0)
        fail_msg ("cert revoke: %s", err);
    const char *import[] = {"import",
                            file,
                            "--broker",
                            ld_fed_broker_endpoint (fed, D),
                            "--broker-key",
                            ld_fed_broker_pub (fed, D),
                            "--identity",
                            ld_fed_root_secret (fed),
                            NULL};
    if (ld_test_run (import, out, sizeof out, err, sizeof err) != 0)
        fail_msg ("import: %s%s", out, err);

    //  meanwhile, on the other side, K goes on: notes, a certificate for a
    //  new community X, more notes; X and C2 publish too
    while (w->street->next_seq < 8)
        s_note (w, S2, w->street, "note/wudang/s2/");
    uint8_t *payload;
    size_t size;
    assert_int_equal (
        ld_payload_certify (x, "community", "wudang/s2/x/", "新社区", &payload, &size), LD_OK);
    ld_event_t *certificate = ld_client_author_event (
        w->street, "trust/wudang/s2/x/", "trust.certify", payload, size, ld_client_now_ms ());
    free (payload);
    assert_non_null (certificate);
    assert_int_equal (ld_event_seq (certificate), 8);
    s_store (w, C2, certificate);
    while (w->street->next_seq <= S_K_LAST)
        s_note (w, C2, w->street, "note/wudang/s2/");
    for (int n = 0; n < S_X_NOTES; n++)
        s_note (w, C2, w->newcomer, "note/wudang/s2/x/");
    for (int n = 0; n < S_C2_NOTES; n++)
        s_note (w, S2, w->community, "note/wudang/s2/c2/");

    const int side_a[] = {D, S1, C1}, side_b[] = {S2, C2};
    assert_int_equal (ld_fed_converge_among (fed, side_a, 3, S_CONVERGE_MS), 0);
    assert_int_equal (ld_fed_converge_among (fed, side_b, 2, S_CONVERGE_MS), 0);
    ld_fed_status_t status;
    assert_int_equal (ld_fed_status (fed, S2, &status, LD_FED_TIMEOUT), 0);
    assert_int_equal (status.invalid, 0); //  it does not know yet

    //  heal: the same marks everywhere
    int64_t healed = ld_client_now_ms ();
    assert_int_equal (ld_fed_repair_all (fed), 0);
    assert_int_equal (ld_fed_converge (fed, S_CONVERGE_MS), 0);
    fprintf (stderr, "revocation: converged in %" PRId64 " ms\n", ld_client_now_ms () - healed);
    uint64_t invalid = 0;
    for (int b = 0; b < LD_FED_FIVE; b++) {
        assert_int_equal (ld_fed_status (fed, b, &status, LD_FED_TIMEOUT), 0);
        if (b == 0)
            invalid = status.invalid;
        if (status.invalid != invalid || status.frozen != 0) {
            ld_fed_status_print (fed, b);
            fail_msg ("%s: %" PRIu64 " invalid, D %" PRIu64, ld_fed_broker_name (fed, b),
                      status.invalid, invalid);
        }
    }
    //  K's seqs 5..10 and X's notes
    assert_int_equal (invalid, (S_K_LAST - S_CUT_AFTER) + S_X_NOTES);
    //  K's next event is refused everywhere
    ld_event_t *later = ld_client_author_next (w->street, "note/wudang/s2/", "撤销之后");
    for (int b = 0; b < LD_FED_FIVE; b++) {
        ld_client_refusal_t refusal = {0};
        assert_int_equal (ld_fed_publish (fed, b, &later, 1, &refusal, 1, LD_FED_TIMEOUT), 1);
        assert_string_equal (refusal.status, "revoked");
    }
    ld_event_destroy (&later);

    //  the stores: the same feeds and marks, as the cut says
    assert_int_equal (ld_fed_stop_all (fed), 0);
    uint8_t reference[32];
    for (int b = 0; b < LD_FED_FIVE; b++) {
        const char *name = ld_fed_broker_name (fed, b);
        ld_fed_store_t *store = ld_fed_store_open (fed, b);
        assert_non_null (store);
        char problem[512];
        if (ld_fed_store_check (store, problem, sizeof problem) != 0)
            fail_msg ("%s: %s", name, problem);
        uint8_t fingerprint[32];
        uint64_t marked;
        assert_int_equal (ld_fed_store_fingerprint (store, fingerprint, NULL, &marked, NULL), 0);
        assert_int_equal (marked, invalid);
        if (b == 0)
            memcpy (reference, fingerprint, 32);
        else if (memcmp (reference, fingerprint, 32) != 0)
            fail_msg ("%s's store differs from D's", name);
        char mark[64];
        for (uint64_t seq = 1; seq <= S_K_LAST; seq++) {
            assert_int_equal (ld_fed_store_event (store, k, seq, NULL, mark, sizeof mark), 1);
            const char *expected = seq <= S_CUT_AFTER ? "" : "revoked";
            if (strcmp (mark, expected) != 0)
                fail_msg ("%s: K's seq %" PRIu64 " marked '%s', not '%s'", name, seq, mark,
                          expected);
        }
        for (uint64_t seq = 1; seq <= S_X_NOTES; seq++) {
            assert_int_equal (ld_fed_store_event (store, x, seq, NULL, mark, sizeof mark), 1);
            //  its certificate lies after its certifier's cut (docs/TRUST.md)
            if (strcmp (mark, "revoked") != 0)
                fail_msg ("%s: X's seq %" PRIu64 " marked '%s', not 'revoked'", name, seq, mark);
        }
        for (uint64_t seq = 1; seq <= S_C2_NOTES; seq++) {
            assert_int_equal (ld_fed_store_event (store, c2, seq, NULL, mark, sizeof mark), 1);
            assert_string_equal (mark, "");
        }
        ld_fed_store_close (&store);
    }
    ld_fed_passed (fed);
}

int
main (void)
{
    if (ld_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_a_revocation_across_a_partition_marks_the_same_events_everywhere, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
