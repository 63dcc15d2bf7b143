/*  test_federation_select.c -- a street broker holds its street, the
    district above it and every trust feed, and nothing of the other street.

        D  (district broker, wudang/, --replicate "": everything)
        ├── S1 (street broker, wudang/s1/, default selection) --follow--> D
        └── S2 (street broker, wudang/s2/, default selection) --follow--> D

    Authors in both streets and at the district publish at all three
    brokers: a supervisor (wudang/), the streets, a community, a unit and a
    grid in each street. Once everything has spread, each street broker
    must hold exactly: its own subtree's feeds (street, community, unit,
    grid, its own receipts), its ancestors' (the root, the supervisor, the
    district broker) and every trust feed (the other street and its
    community, which may certify) -- and none of the other street's unit,
    grid or broker. Heads are compared with the district broker's, which
    holds every feed, and read from the stopped stores with ld_store_heads.
    The status (raw and through `liandong status --broker --json`) names
    each broker's selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>

#include "ld_client.h"
#include "ld_fed.h"
#include "ld_store.h"
#include "ld_test_util.h"

#define S_WAIT_MS 30000
#define S_NOTES   5

enum { D, S1, S2, S_BROKERS };

//  Who is who: an author (or a broker's own feed), its org path, whether
//  its level may certify (a trust feed), and whether S1 and S2 hold it.
typedef struct {
    const char *name;
    uint8_t seed;
    const char *level, *path;
    int certifier; //  index of the certifying author, -1: the root
    int home;      //  the broker its notes go to
    ld_client_author_t *author;
} s_author_t;

enum { SUPER, STREET1, STREET2, COMM1, COMM2, UNIT1, UNIT2, GRID1, GRID2, S_AUTHORS };

static s_author_t s_authors_init[S_AUTHORS] = {
    [SUPER] = {"supervisor", 0x21, "supervisor", "wudang/", -1, D, NULL},
    [STREET1] = {"street1", 0x22, "street", "wudang/s1/", -1, S1, NULL},
    [STREET2] = {"street2", 0x23, "street", "wudang/s2/", -1, S2, NULL},
    [COMM1] = {"community1", 0x24, "community", "wudang/s1/c1/", STREET1, D, NULL},
    [COMM2] = {"community2", 0x25, "community", "wudang/s2/c2/", STREET2, D, NULL},
    [UNIT1] = {"unit1", 0x26, "unit", "wudang/s1/u1/", STREET1, S1, NULL},
    [UNIT2] = {"unit2", 0x27, "unit", "wudang/s2/u2/", STREET2, D, NULL},
    [GRID1] = {"grid1", 0x28, "grid", "wudang/s1/c1/g1/", COMM1, D, NULL},
    [GRID2] = {"grid2", 0x29, "grid", "wudang/s2/c2/g2/", COMM2, S2, NULL},
};

typedef struct {
    ld_fed_t *fed;
    s_author_t authors[S_AUTHORS];
} s_world_t;

static int
setup (void **state)
{
    s_world_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    memcpy (w->authors, s_authors_init, sizeof w->authors);
    for (int a = 0; a < S_AUTHORS; a++) {
        w->authors[a].author = ld_client_author_new (w->authors[a].seed);
        assert_non_null (w->authors[a].author);
    }
    *state = w;
    return 0;
}

static int
teardown (void **state)
{
    s_world_t *w = *state;
    ld_fed_destroy (&w->fed);
    for (int a = 0; a < S_AUTHORS; a++)
        ld_client_author_destroy (&w->authors[a].author);
    free (w);
    return 0;
}

static const uint8_t *
s_key (s_world_t *w, int a)
{
    return ld_identity_public_key (w->authors[a].author->identity);
}

//  The name of the feed whose author is key, for messages.
static const char *
s_feed_name (s_world_t *w, const uint8_t key[LD_KEY_BYTES])
{
    for (int a = 0; a < S_AUTHORS; a++)
        if (memcmp (s_key (w, a), key, LD_KEY_BYTES) == 0)
            return w->authors[a].name;
    for (int b = 0; b < S_BROKERS; b++)
        if (memcmp (ld_fed_broker_key (w->fed, b), key, LD_KEY_BYTES) == 0)
            return ld_fed_broker_name (w->fed, b);
    if (memcmp (ld_identity_public_key (ld_fed_root (w->fed)), key, LD_KEY_BYTES) == 0)
        return "root";
    return "an unknown author";
}

//  Whether street broker `street` (S1 or S2) must hold the feed of key.
static bool
s_selected (s_world_t *w, int street, const uint8_t key[LD_KEY_BYTES])
{
    const char *own = street == S1 ? "wudang/s1/" : "wudang/s2/";
    if (memcmp (ld_identity_public_key (ld_fed_root (w->fed)), key, LD_KEY_BYTES) == 0)
        return true; //  the district root: an ancestor, and a trust feed
    for (int b = 0; b < S_BROKERS; b++)
        if (memcmp (ld_fed_broker_key (w->fed, b), key, LD_KEY_BYTES) == 0)
            return b == D || b == street; //  above, or itself
    for (int a = 0; a < S_AUTHORS; a++) {
        if (memcmp (s_key (w, a), key, LD_KEY_BYTES) != 0)
            continue;
        const s_author_t *author = &w->authors[a];
        bool trust =
            strcmp (author->level, "street") == 0 || strcmp (author->level, "community") == 0;
        bool under = strncmp (author->path, own, strlen (own)) == 0;
        bool above = strncmp (own, author->path, strlen (author->path)) == 0;
        return trust || under || above;
    }
    fail_msg ("a feed nobody in this test writes");
    return false;
}

static const ld_head_t *
s_find (const ld_head_t *heads, size_t count, const uint8_t key[LD_KEY_BYTES])
{
    for (size_t h = 0; h < count; h++)
        if (memcmp (heads[h].author, key, LD_KEY_BYTES) == 0)
            return &heads[h];
    return NULL;
}

//  Whether every street broker holds, for every feed it selects, what D
//  holds, and D holds every note and each street broker's own feed as far
//  as that broker has it. Prints what is missing when verbose.
static bool
s_spread (s_world_t *w, bool verbose)
{
    ld_head_t *heads[S_BROKERS] = {NULL};
    size_t counts[S_BROKERS] = {0};
    bool done = true;
    for (int b = 0; b < S_BROKERS; b++)
        if (ld_fed_heads (w->fed, b, &heads[b], &counts[b], 5000) != 0)
            done = false;
    for (int a = 0; done && a < S_AUTHORS; a++) {
        const ld_head_t *head = s_find (heads[D], counts[D], s_key (w, a));
        if (!head || head->seq != w->authors[a].author->next_seq - 1) {
            if (verbose)
                fprintf (stderr, "D holds %s up to %" PRIu64 " of %" PRIu64 "\n",
                         w->authors[a].name, head ? head->seq : 0,
                         w->authors[a].author->next_seq - 1);
            done = false;
        }
    }
    for (int street = S1; done && street <= S2; street++) {
        const ld_head_t *own =
            s_find (heads[street], counts[street], ld_fed_broker_key (w->fed, street));
        const ld_head_t *at_d = s_find (heads[D], counts[D], ld_fed_broker_key (w->fed, street));
        if (!own || !at_d || own->seq != at_d->seq)
            done = false;
        for (size_t h = 0; h < counts[D]; h++) {
            if (!s_selected (w, street, heads[D][h].author))
                continue;
            const ld_head_t *there = s_find (heads[street], counts[street], heads[D][h].author);
            if (!there || there->seq < heads[D][h].seq) {
                if (verbose)
                    fprintf (stderr, "%s holds %s up to %" PRIu64 ", D up to %" PRIu64 "\n",
                             ld_fed_broker_name (w->fed, street),
                             s_feed_name (w, heads[D][h].author), there ? there->seq : 0,
                             heads[D][h].seq);
                done = false;
            }
        }
    }
    for (int b = 0; b < S_BROKERS; b++)
        free (heads[b]);
    return done;
}

static void
s_publish_notes (s_world_t *w, int a, size_t count)
{
    s_author_t *author = &w->authors[a];
    char topic[LD_TOPIC_MAX + 8];
    snprintf (topic, sizeof topic, "note/%s", author->path);
    for (size_t n = 0; n < count; n++) {
        ld_event_t *event = ld_client_author_next (author->author, topic, "通知");
        assert_non_null (event);
        ld_client_refusal_t refusal = {0};
        int refused = ld_fed_publish (w->fed, author->home, &event, 1, &refusal, 1, LD_FED_TIMEOUT);
        if (refused != 0)
            fail_msg ("%s's note refused at %s: %s: %s", author->name,
                      ld_fed_broker_name (w->fed, author->home), refusal.status, refusal.reason);
        ld_event_destroy (&event);
    }
}

//  `liandong status --broker` of broker b as JSON.
static json_t *
s_status_json (s_world_t *w, int b)
{
    const char *argv[] = {"status",
                          "--broker",
                          ld_fed_broker_endpoint (w->fed, b),
                          "--broker-key",
                          ld_fed_broker_pub (w->fed, b),
                          "--identity",
                          ld_fed_root_secret (w->fed),
                          "--json",
                          "--digest",
                          NULL};
    static char out[64 * 1024], err[4096];
    int code = ld_test_run (argv, out, sizeof out, err, sizeof err);
    if (code != 0)
        fail_msg ("status --broker exited %d: %s", code, err);
    json_error_t error;
    json_t *json = json_loads (out, 0, &error);
    if (!json)
        fail_msg ("status --json is not JSON: %s: %s", error.text, out);
    return json;
}

static void
test_a_street_broker_holds_its_street_its_ancestors_and_the_trust_feeds (void **state)
{
    s_world_t *w = *state;
    w->fed = ld_fed_new ("wudang/");
    ld_fed_t *fed = w->fed;
    assert_non_null (fed);
    assert_int_equal (ld_fed_add_broker (fed, "D", "wudang/", ""), D);
    assert_int_equal (ld_fed_add_broker (fed, "S1", "wudang/s1/", NULL), S1);
    assert_int_equal (ld_fed_add_broker (fed, "S2", "wudang/s2/", NULL), S2);
    assert_true (ld_fed_add_link (fed, S1, D) >= 0);
    assert_true (ld_fed_add_link (fed, S2, D) >= 0);
    for (int a = 0; a < S_AUTHORS; a++) {
        s_author_t *author = &w->authors[a];
        ld_client_author_t *certifier =
            author->certifier < 0 ? NULL : w->authors[author->certifier].author;
        assert_int_equal (ld_fed_certify (fed, certifier, s_key (w, a), author->level, author->path,
                                          author->name),
                          0);
    }
    assert_int_equal (ld_fed_start (fed), 0);
    for (int a = 0; a < S_AUTHORS; a++)
        s_publish_notes (w, a, S_NOTES);

    int64_t deadline = ld_client_now_ms () + S_WAIT_MS;
    while (!s_spread (w, false)) {
        if (ld_client_now_ms () > deadline) {
            s_spread (w, true);
            for (int b = 0; b < S_BROKERS; b++)
                ld_fed_status_print (fed, b);
            fail_msg ("the feeds did not spread within %d ms", S_WAIT_MS);
        }
        poll (NULL, 0, 200); //  a poll interval: the brokers' heads are the condition
    }

    //  each broker names its selection
    ld_fed_status_t status;
    assert_int_equal (ld_fed_status (fed, D, &status, LD_FED_TIMEOUT), 0);
    assert_true (status.select_all);
    for (int street = S1; street <= S2; street++) {
        assert_int_equal (ld_fed_status (fed, street, &status, LD_FED_TIMEOUT), 0);
        assert_false (status.select_all);
        assert_int_equal (status.select_count, 1);
        assert_string_equal (status.select[0], street == S1 ? "wudang/s1/" : "wudang/s2/");
        assert_int_equal (status.peer_count, 1);
        assert_true (status.peers[0].connected);
        assert_memory_equal (status.peers[0].key, ld_fed_broker_key (fed, D), LD_KEY_BYTES);
        //  the CLI shows the same
        json_t *json = s_status_json (w, street);
        char hex[65];
        sodium_bin2hex (hex, sizeof hex, status.heads_digest, 32);
        assert_string_equal (json_string_value (json_object_get (json, "heads_digest")), hex);
        json_t *select = json_object_get (json, "select");
        assert_int_equal (json_array_size (select), 1);
        assert_string_equal (json_string_value (json_array_get (select, 0)), status.select[0]);
        assert_true (json_is_false (json_object_get (json, "select_all")));
        json_t *peers = json_object_get (json, "peers");
        assert_int_equal (json_array_size (peers), 1);
        assert_true (json_is_true (json_object_get (json_array_get (peers, 0), "connected")));
        json_decref (json);
    }

    //  the stores: exactly the selected feeds, as far as D holds them
    assert_int_equal (ld_fed_stop_all (fed), 0);
    ld_head_t *heads[S_BROKERS];
    size_t counts[S_BROKERS];
    for (int b = 0; b < S_BROKERS; b++) {
        char path[600], err[256];
        snprintf (path, sizeof path, "%s/%s", ld_fed_broker_data (fed, b), LD_STORE_FILE);
        ld_store_t *store = NULL;
        assert_int_equal (ld_store_open (path, &store, err, sizeof err), LD_OK);
        assert_int_equal (ld_store_heads (store, &heads[b], &counts[b]), LD_OK);
        ld_store_destroy (&store);
    }
    //  D: the root, three brokers and every author
    assert_int_equal (counts[D], 1 + S_BROKERS + S_AUTHORS);
    for (int street = S1; street <= S2; street++) {
        size_t expected = 0;
        for (size_t h = 0; h < counts[D]; h++) {
            const ld_head_t *there = s_find (heads[street], counts[street], heads[D][h].author);
            if (s_selected (w, street, heads[D][h].author)) {
                expected++;
                if (!there || there->seq != heads[D][h].seq)
                    fail_msg ("%s holds %s up to %" PRIu64 ", D up to %" PRIu64,
                              ld_fed_broker_name (fed, street), s_feed_name (w, heads[D][h].author),
                              there ? there->seq : 0, heads[D][h].seq);
                assert_memory_equal (there->id, heads[D][h].id, LD_ID_BYTES);
            }
            else if (there)
                fail_msg ("%s holds %s, outside its selection", ld_fed_broker_name (fed, street),
                          s_feed_name (w, heads[D][h].author));
        }
        //  and nothing D does not hold
        assert_int_equal (counts[street], expected);
        //  root, D, itself, supervisor, both streets, both communities, own unit and grid
        assert_int_equal (expected, 10);
    }
    for (int b = 0; b < S_BROKERS; b++)
        free (heads[b]);
    ld_fed_passed (fed);
}

int
main (void)
{
    if (ld_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (
            test_a_street_broker_holds_its_street_its_ancestors_and_the_trust_feeds, setup,
            teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
