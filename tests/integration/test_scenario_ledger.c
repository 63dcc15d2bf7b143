/*  test_scenario_ledger.c -- the ledger of the seed scenario is a function
    of the event set: `liandong demo` plays the scenario, then the broker's
    store is read back and its feeds are interleaved at random 1,000 times
    (each feed's own order kept, as replication delivers them); every
    interleaving, folded into a fresh ledger, must give byte-identical
    ld_ledger_json. The comparison is against a fold in store order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ld_ledger.h"
#include "ld_roots.h"
#include "ld_store.h"
#include "ld_test_util.h"

#define S_ROUNDS       1000
#define S_FEEDS_MAX    256
#define S_OUT_MAX      (1024 * 1024)
#define S_AT_MS_OFFSET (30LL * 24 * 3600 * 1000) //  judged a month after the play

typedef struct {
    ld_event_t **events;
    size_t count, capacity;
} s_list_t;

typedef struct {
    s_list_t all;                //  store order
    s_list_t feeds[S_FEEDS_MAX]; //  one per author, seq order
    uint8_t authors[S_FEEDS_MAX][LD_KEY_BYTES];
    size_t feed_count;
} s_events_t;

static void
s_push (s_list_t *list, ld_event_t *event)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 256;
        list->events = realloc (list->events, list->capacity * sizeof *list->events);
        assert_non_null (list->events);
    }
    list->events[list->count++] = event;
}

static int
s_collect (void *arg, const ld_stored_t *stored)
{
    s_events_t *events = arg;
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_decode (stored->envelope, stored->size, 0, &event, NULL, 0), LD_OK);
    assert_int_equal (ld_event_verify (event), LD_OK);
    s_push (&events->all, event);
    size_t f = 0;
    while (f < events->feed_count
           && memcmp (events->authors[f], ld_event_author (event), LD_KEY_BYTES) != 0)
        f++;
    if (f == events->feed_count) {
        assert_true (f < S_FEEDS_MAX);
        memcpy (events->authors[f], ld_event_author (event), LD_KEY_BYTES);
        events->feed_count++;
    }
    //  store order within one author is seq order (feeds are stored whole)
    s_push (&events->feeds[f], event);
    return 0;
}

static ld_ledger_t *
s_ledger (const char *root_pub)
{
    ld_ledger_t *ledger = ld_ledger_new ();
    assert_non_null (ledger);
    uint8_t key[LD_KEY_BYTES];
    char path[LD_TOPIC_MAX + 1], name[LD_NAME_MAX + 1], err[256];
    assert_int_equal (ld_root_load (root_pub, key, path, name, err, sizeof err), LD_OK);
    assert_int_equal (ld_ledger_add_root (ledger, key, path, name), LD_OK);
    return ledger;
}

static void
test_any_interleaving_of_the_scenario_s_feeds_gives_the_same_ledger (void **state)
{
    (void) state;
    char dir[256], demo_dir[300], db[400], root_pub[400];
    assert_int_equal (ld_test_tempdir (dir, sizeof dir), 0);
    snprintf (demo_dir, sizeof demo_dir, "%s/d", dir);
    char *out = malloc (S_OUT_MAX), *err = malloc (S_OUT_MAX);
    const char *argv[] = {"demo", "--dir", demo_dir, NULL};
    int code = ld_test_run (argv, out, S_OUT_MAX, err, S_OUT_MAX);
    if (code != 0)
        fprintf (stderr, "%s", err);
    assert_int_equal (code, 0);

    snprintf (db, sizeof db, "%s/broker.data/%s", demo_dir, LD_STORE_FILE);
    snprintf (root_pub, sizeof root_pub, "%s/wudang/%s", demo_dir, LD_IDENTITY_PUBLIC);
    ld_store_t *store = NULL;
    assert_int_equal (ld_store_open (db, &store, NULL, 0), LD_OK);
    s_events_t events = {0};
    assert_int_equal (ld_store_read_after (store, 0, "", 0, s_collect, &events), LD_OK);
    ld_store_destroy (&store);
    assert_true (events.all.count > 1000);
    assert_true (events.feed_count >= 8);

    //  the reference: store order
    ld_ledger_t *reference = s_ledger (root_pub);
    for (size_t i = 0; i < events.all.count; i++)
        assert_int_equal (ld_ledger_add (reference, events.all.events[i]), LD_OK);
    ld_ledger_stats_t stats;
    int64_t at_ms = 0;
    //  a fixed moment: the last event's author time plus a month
    at_ms = ld_event_time_ms (events.all.events[events.all.count - 1]) + S_AT_MS_OFFSET;
    assert_int_equal (ld_ledger_stats (reference, at_ms, &stats), LD_OK);
    assert_int_equal (stats.paired_units, 75);
    assert_int_equal (stats.matters_done, 357);
    assert_int_equal (stats.refused, 0);
    assert_int_equal (stats.pending, 0);
    char *expected = ld_ledger_json (reference, at_ms);
    assert_non_null (expected);
    ld_ledger_destroy (&reference);

    unsigned seed = 20261126;
    size_t cursor[S_FEEDS_MAX];
    for (int round = 0; round < S_ROUNDS; round++) {
        ld_ledger_t *ledger = s_ledger (root_pub);
        memset (cursor, 0, sizeof cursor);
        size_t left = events.all.count;
        while (left > 0) {
            //  a random feed that still has events, its next one
            size_t f = (size_t) rand_r (&seed) % events.feed_count;
            while (cursor[f] == events.feeds[f].count)
                f = (f + 1) % events.feed_count;
            assert_int_equal (ld_ledger_add (ledger, events.feeds[f].events[cursor[f]++]), LD_OK);
            left--;
        }
        char *json = ld_ledger_json (ledger, at_ms);
        assert_non_null (json);
        if (strcmp (json, expected) != 0)
            fail_msg ("interleaving %d gave another ledger", round);
        free (json);
        ld_ledger_destroy (&ledger);
    }
    free (expected);
    for (size_t i = 0; i < events.all.count; i++)
        ld_event_destroy (&events.all.events[i]);
    free (events.all.events);
    for (size_t f = 0; f < events.feed_count; f++)
        free (events.feeds[f].events);
    free (out);
    free (err);
    assert_int_equal (ld_test_remove_tree (dir), 0);
}

int
main (void)
{
    if (ld_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_any_interleaving_of_the_scenario_s_feeds_gives_the_same_ledger),
    };
    return cmocka_run_group_tests_name ("scenario ledger", tests, NULL, NULL);
}
