/*  test_federation_cycle.c -- two brokers that follow each other (issue 6:
    "peers that follow each other: cycles must be safe").

    A --follow B and B --follow A, each link through a relay. Two streets
    publish, one at each broker. Both must end with the same digests, and
    then stay still: a relayed event gets no receipt, so nothing echoes
    around the cycle (a receipt for a relayed receipt would be relayed back,
    receipted again, and so on for ever). The events either broker holds are
    exactly the notes, the trust events and the receipts the two brokers
    signed for their own clients' batches.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_client.h"
#include "ld_fed.h"
#include "ld_store.h"
#include "ld_test_util.h"

#define S_NOTES    120
#define S_QUIET_MS 6500 //  more than a link's round period (LD_PEER_PERIOD_MS, 5 s)

enum { A, B };

static void
s_publish (ld_fed_t *fed, int broker, ld_client_author_t *author, const char *path)
{
    char topic[LD_TOPIC_MAX + 8];
    snprintf (topic, sizeof topic, "note/%s", path);
    for (int n = 0; n < S_NOTES; n++) {
        ld_event_t *event = ld_client_author_next (author, topic, "结对共建");
        assert_non_null (event);
        ld_client_refusal_t refusal = {0};
        if (ld_fed_publish (fed, broker, &event, 1, &refusal, 1, LD_FED_TIMEOUT) != 0)
            fail_msg ("note refused at %s: %s: %s", ld_fed_broker_name (fed, broker),
                      refusal.status, refusal.reason);
        ld_event_destroy (&event);
    }
}

//  The seq broker b holds of author's feed (0 if none).
static uint64_t
s_head_seq (ld_fed_t *fed, int b, const uint8_t author[LD_KEY_BYTES])
{
    ld_head_t *heads = NULL;
    size_t count = 0;
    assert_int_equal (ld_fed_heads (fed, b, &heads, &count, LD_FED_TIMEOUT), 0);
    uint64_t seq = 0;
    for (size_t h = 0; h < count; h++)
        if (memcmp (heads[h].author, author, LD_KEY_BYTES) == 0)
            seq = heads[h].seq;
    free (heads);
    return seq;
}

static void
test_two_brokers_that_follow_each_other_agree_and_stay_still (void **state)
{
    (void) state;
    ld_fed_t *fed = ld_fed_new ("wudang/");
    assert_non_null (fed);
    ld_client_author_t *one = ld_client_author_new (0x31), *two = ld_client_author_new (0x32);
    assert_non_null (one);
    assert_non_null (two);
    assert_int_equal (ld_fed_add_broker (fed, "A", "wudang/", ""), A);
    assert_int_equal (ld_fed_add_broker (fed, "B", "wudang/", ""), B);
    assert_true (ld_fed_add_link (fed, A, B) >= 0);
    assert_true (ld_fed_add_link (fed, B, A) >= 0);
    assert_int_equal (ld_fed_certify (fed, NULL, ld_identity_public_key (one->identity), "street",
                                      "wudang/s1/", "s1"),
                      0);
    assert_int_equal (ld_fed_certify (fed, NULL, ld_identity_public_key (two->identity), "street",
                                      "wudang/s2/", "s2"),
                      0);
    assert_int_equal (ld_fed_start (fed), 0);
    s_publish (fed, A, one, "wudang/s1/");
    s_publish (fed, B, two, "wudang/s2/");
    assert_int_equal (ld_fed_converge (fed, 30000), 0);

    ld_fed_status_t first[2], later[2];
    for (int b = A; b <= B; b++)
        assert_int_equal (ld_fed_status (fed, b, &first[b], LD_FED_TIMEOUT), 0);
    //  rounds go on (every 5 s at least); nothing may grow meanwhile
    zclock_sleep (S_QUIET_MS);
    for (int b = A; b <= B; b++) {
        assert_int_equal (ld_fed_status (fed, b, &later[b], LD_FED_TIMEOUT), 0);
        if (later[b].events != first[b].events)
            fail_msg ("%s went from %" PRIu64 " to %" PRIu64 " events with nobody publishing",
                      ld_fed_broker_name (fed, b), first[b].events, later[b].events);
        assert_memory_equal (later[b].events_digest, later[A].events_digest, 32);
        assert_int_equal (later[b].peer_count, 1);
        assert_true (later[b].peers[0].connected);
        assert_int_equal (later[b].peers[0].behind_in, 0);
        assert_int_equal (later[b].peers[0].behind_out, 0);
    }
    //  what they hold: 2 x S_NOTES notes, the trust events, and the
    //  receipts each broker signed for its own clients (the root's trust
    //  publishing and the notes), never for what it relayed
    uint64_t receipts = s_head_seq (fed, A, ld_fed_broker_key (fed, A))
                        + s_head_seq (fed, A, ld_fed_broker_key (fed, B));
    uint64_t trust = s_head_seq (fed, A, ld_identity_public_key (ld_fed_root (fed)));
    assert_int_equal (later[A].events, 2 * S_NOTES + trust + receipts);
    //  each receipt names a batch its broker took from a client: at most
    //  one per note and trust event published there, at least one
    assert_true (receipts >= 2);
    assert_true (receipts <= 2 * S_NOTES + 2 * trust);
    assert_int_equal (ld_fed_stop_all (fed), 0);
    ld_fed_passed (fed);
    ld_client_author_destroy (&one);
    ld_client_author_destroy (&two);
    ld_fed_destroy (&fed);
}

int
main (void)
{
    if (ld_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_two_brokers_that_follow_each_other_agree_and_stay_still),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
