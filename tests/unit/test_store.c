/*  test_store.c -- the event store: chains, duplicates, forks, reads, heads,
    durability across close and reopen, invalid marks, the digests two
    stores compare; per-person secrets and their erasure from the files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_person.h"
#include "ld_store.h"

#define AUTHORS 10

typedef struct {
    char dir[64];
    char path[128];
    ld_store_t *store;
    ld_store_t *other; //  a second store, for the digest tests (DIR/other.db)
    ld_identity_t *authors[AUTHORS];
    //  the last event each author signed: next seq and prev
    uint64_t next_seq[AUTHORS];
    uint8_t prev[AUTHORS][LD_ID_BYTES];
} fixture_t;

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    snprintf (fx->dir, sizeof fx->dir, "/tmp/ld-test-store-XXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    snprintf (fx->path, sizeof fx->path, "%s/%s", fx->dir, LD_STORE_FILE);
    assert_int_equal (ld_store_open (fx->path, &fx->store, NULL, 0), LD_OK);
    for (int i = 0; i < AUTHORS; i++) {
        uint8_t seed[LD_SEED_BYTES];
        memset (seed, i + 1, sizeof seed);
        fx->authors[i] = ld_identity_new_from_seed (seed);
        assert_non_null (fx->authors[i]);
        fx->next_seq[i] = 1;
    }
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_store_destroy (&fx->store);
    ld_store_destroy (&fx->other);
    for (int i = 0; i < AUTHORS; i++)
        ld_identity_destroy (&fx->authors[i]);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    assert_int_equal (system (cmd), 0);
    free (fx);
    return 0;
}

//  Signs author's next event (advancing its chain) with the given topic.
static ld_event_t *
s_next_event (fixture_t *fx, int author, const char *topic, const char *text)
{
    uint8_t *payload;
    size_t size;
    assert_int_equal (ld_payload_note (text, &payload, &size), LD_OK);
    uint64_t seq = fx->next_seq[author];
    ld_event_t *event = NULL;
    char err[256];
    ld_status_t rc = ld_event_sign (fx->authors[author], seq, seq > 1 ? fx->prev[author] : NULL,
                                    1764000000000 + (int64_t) seq, topic, "note", payload, size,
                                    &event, err, sizeof err);
    free (payload);
    assert_int_equal (rc, LD_OK);
    memcpy (fx->prev[author], ld_event_id (event), LD_ID_BYTES);
    fx->next_seq[author]++;
    return event;
}

//  Appends one event, returns its result.
static ld_append_result_t
s_append (fixture_t *fx, ld_event_t *event)
{
    ld_append_result_t result;
    char err[256];
    assert_int_equal (ld_store_append (fx->store, &event, 1, 1, &result, err, sizeof err), LD_OK);
    return result;
}

typedef struct {
    size_t count;
    uint64_t seqs[64];
    uint64_t store_seqs[64];
} collected_t;

static int
s_collect (void *arg, const ld_stored_t *stored)
{
    collected_t *c = arg;
    uint64_t store_seq = stored->store_seq;
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_decode (stored->envelope, stored->size, 0, &event, NULL, 0), LD_OK);
    assert_int_equal (ld_event_verify (event), LD_OK);
    if (c->count < 64) {
        c->seqs[c->count] = ld_event_seq (event);
        c->store_seqs[c->count] = store_seq;
    }
    c->count++;
    ld_event_destroy (&event);
    return 0;
}

static void
test_store_appends_and_reads_a_feed (void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < 5; i++) {
        ld_event_t *event = s_next_event (fx, 0, "note/wudang/", "一");
        ld_append_result_t r = s_append (fx, event);
        assert_int_equal (r.status, LD_OK);
        assert_false (r.duplicate);
        assert_int_equal (r.store_seq, (uint64_t) i + 1);
        ld_event_destroy (&event);
    }
    collected_t c = {0};
    assert_int_equal (ld_store_read_feed (fx->store, ld_identity_public_key (fx->authors[0]), 3, 0,
                                          s_collect, &c),
                      LD_OK);
    assert_int_equal (c.count, 3);
    assert_int_equal (c.seqs[0], 3);
    assert_int_equal (c.seqs[2], 5);
    assert_int_equal (ld_store_last_seq (fx->store), 5);
}

static void
test_store_refuses_an_event_ahead_with_the_needed_seq (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *first = s_next_event (fx, 0, "note/wudang/", "1");
    ld_event_t *second = s_next_event (fx, 0, "note/wudang/", "2");
    ld_event_t *third = s_next_event (fx, 0, "note/wudang/", "3");
    assert_int_equal (s_append (fx, first).status, LD_OK);
    ld_append_result_t r = s_append (fx, third);
    assert_int_equal (r.status, LD_ERR_GAP);
    assert_int_equal (r.needed_seq, 2);
    //  nothing of the refused event was stored
    ld_head_t head;
    assert_int_equal (ld_store_head (fx->store, ld_event_author (first), &head), LD_OK);
    assert_int_equal (head.seq, 1);
    //  the sender resends from the needed seq and the feed is whole again
    assert_int_equal (s_append (fx, second).status, LD_OK);
    assert_int_equal (s_append (fx, third).status, LD_OK);
    ld_event_destroy (&first);
    ld_event_destroy (&second);
    ld_event_destroy (&third);
}

static void
test_store_refuses_a_first_event_that_is_not_seq_1 (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *first = s_next_event (fx, 1, "note/wudang/", "1");
    ld_event_t *second = s_next_event (fx, 1, "note/wudang/", "2");
    ld_append_result_t r = s_append (fx, second);
    assert_int_equal (r.status, LD_ERR_GAP);
    assert_int_equal (r.needed_seq, 1);
    ld_head_t head;
    assert_int_equal (ld_store_head (fx->store, ld_event_author (second), &head), LD_ERR_NOT_FOUND);
    ld_event_destroy (&first);
    ld_event_destroy (&second);
}

static void
test_store_refuses_a_broken_chain (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *first = s_next_event (fx, 0, "note/wudang/", "1");
    assert_int_equal (s_append (fx, first).status, LD_OK);
    //  seq 2 whose prev is not the id of the stored seq 1
    memset (fx->prev[0], 0xAB, LD_ID_BYTES);
    ld_event_t *second = s_next_event (fx, 0, "note/wudang/", "2");
    ld_append_result_t r = s_append (fx, second);
    assert_int_equal (r.status, LD_ERR_CHAIN);
    ld_head_t head;
    assert_int_equal (ld_store_head (fx->store, ld_event_author (first), &head), LD_OK);
    assert_int_equal (head.seq, 1);
    assert_memory_equal (head.id, ld_event_id (first), LD_ID_BYTES);
    ld_event_destroy (&first);
    ld_event_destroy (&second);
}

static void
test_store_duplicate_append_is_a_no_op (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *first = s_next_event (fx, 0, "note/wudang/", "1");
    ld_append_result_t r1 = s_append (fx, first);
    ld_append_result_t r2 = s_append (fx, first);
    assert_int_equal (r2.status, LD_OK);
    assert_true (r2.duplicate);
    assert_int_equal (ld_store_last_seq (fx->store), r1.store_seq);
    //  the same event twice in one batch: stored once
    ld_event_t *second = s_next_event (fx, 0, "note/wudang/", "2");
    ld_event_t *batch[2] = {second, second};
    ld_append_result_t results[2];
    assert_int_equal (ld_store_append (fx->store, batch, 2, 1, results, NULL, 0), LD_OK);
    assert_false (results[0].duplicate);
    assert_true (results[1].duplicate);
    collected_t c = {0};
    assert_int_equal (ld_store_read_after (fx->store, 0, NULL, 0, s_collect, &c), LD_OK);
    assert_int_equal (c.count, 2);
    ld_event_destroy (&first);
    ld_event_destroy (&second);
}

static void
test_store_fork_freezes_the_author_and_keeps_both_versions (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *events[4];
    for (int i = 0; i < 4; i++) {
        events[i] = s_next_event (fx, 2, "note/wudang/", "original");
        assert_int_equal (s_append (fx, events[i]).status, LD_OK);
    }
    //  a second version of seq 3, chained on the same seq 2
    memcpy (fx->prev[2], ld_event_id (events[1]), LD_ID_BYTES);
    fx->next_seq[2] = 3;
    ld_event_t *forked = s_next_event (fx, 2, "note/wudang/", "another history");
    assert_int_equal (ld_event_seq (forked), 3);
    ld_append_result_t r = s_append (fx, forked);
    assert_int_equal (r.status, LD_ERR_FORK);

    ld_head_t head;
    assert_int_equal (ld_store_head (fx->store, ld_event_author (forked), &head), LD_OK);
    assert_true (head.frozen);
    assert_int_equal (head.seq, 2);
    assert_memory_equal (head.id, ld_event_id (events[1]), LD_ID_BYTES);
    //  the feed ends at 2; both versions of 3 and the 4 after it are evidence
    collected_t feed = {0};
    assert_int_equal (ld_store_read_feed (fx->store, head.author, 1, 0, s_collect, &feed), LD_OK);
    assert_int_equal (feed.count, 2);
    collected_t evidence = {0};
    assert_int_equal (ld_store_read_evidence (fx->store, head.author, s_collect, &evidence), LD_OK);
    assert_int_equal (evidence.count, 3);
    assert_int_equal (evidence.seqs[0], 3);
    assert_int_equal (evidence.seqs[1], 3);
    assert_int_equal (evidence.seqs[2], 4);
    //  later events of the author are refused; earlier ones still dedup
    ld_event_t *later = s_next_event (fx, 2, "note/wudang/", "later");
    assert_int_equal (s_append (fx, later).status, LD_ERR_FROZEN);
    ld_append_result_t again = s_append (fx, events[0]);
    assert_int_equal (again.status, LD_OK);
    assert_true (again.duplicate);
    //  the frozen state survives a reopen, and store seqs are never reused
    uint64_t last = ld_store_last_seq (fx->store);
    ld_store_destroy (&fx->store);
    assert_int_equal (ld_store_open (fx->path, &fx->store, NULL, 0), LD_OK);
    assert_int_equal (ld_store_head (fx->store, head.author, &head), LD_OK);
    assert_true (head.frozen);
    assert_int_equal (head.seq, 2);
    assert_int_equal (ld_store_last_seq (fx->store), last);
    assert_int_equal (s_append (fx, later).status, LD_ERR_FROZEN);
    ld_event_t *other = s_next_event (fx, 3, "note/wudang/", "someone else");
    ld_append_result_t r3 = s_append (fx, other);
    assert_int_equal (r3.status, LD_OK);
    assert_true (r3.store_seq > last);
    for (int i = 0; i < 4; i++)
        ld_event_destroy (&events[i]);
    ld_event_destroy (&forked);
    ld_event_destroy (&later);
    ld_event_destroy (&other);
}

static void
test_store_reads_after_a_store_seq_by_topic_prefix (void **state)
{
    fixture_t *fx = *state;
    const char *topics[] = {"resolution/wudang/longguanglu/", "resolution/wudang/guanxilu/",
                            "note/wudang/", "resolution/wudang/longguanglu10/",
                            "resolution/wudang/longguanglu/"};
    for (int i = 0; i < 5; i++) {
        ld_event_t *event = s_next_event (fx, i % 2, topics[i], "x");
        assert_int_equal (s_append (fx, event).status, LD_OK);
        ld_event_destroy (&event);
    }
    collected_t c = {0};
    assert_int_equal (
        ld_store_read_after (fx->store, 0, "resolution/wudang/longguanglu/", 0, s_collect, &c),
        LD_OK);
    //  the prefix ends with '/', so longguanglu10/ does not match
    assert_int_equal (c.count, 2);
    assert_int_equal (c.store_seqs[0], 1);
    assert_int_equal (c.store_seqs[1], 5);
    collected_t after = {0};
    assert_int_equal (ld_store_read_after (fx->store, 1, "resolution/", 2, s_collect, &after),
                      LD_OK);
    assert_int_equal (after.count, 2);
    assert_int_equal (after.store_seqs[0], 2);
    assert_int_equal (after.store_seqs[1], 4);
    //  a range bounds the scan by store seq, however few events match
    collected_t range = {0};
    assert_int_equal (ld_store_read_range (fx->store, 1, 3, "resolution/", 0, s_collect, &range),
                      LD_OK);
    assert_int_equal (range.count, 1);
    assert_int_equal (range.store_seqs[0], 2);
}

static void
test_store_survives_close_and_reopen (void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < 3; i++) {
        ld_event_t *event = s_next_event (fx, 4, "note/wudang/", "持久");
        assert_int_equal (s_append (fx, event).status, LD_OK);
        ld_event_destroy (&event);
    }
    ld_store_destroy (&fx->store);
    assert_null (fx->store);
    assert_int_equal (ld_store_open (fx->path, &fx->store, NULL, 0), LD_OK);
    assert_int_equal (ld_store_last_seq (fx->store), 3);
    ld_head_t head;
    assert_int_equal (ld_store_head (fx->store, ld_identity_public_key (fx->authors[4]), &head),
                      LD_OK);
    assert_int_equal (head.seq, 3);
    assert_memory_equal (head.id, fx->prev[4], LD_ID_BYTES);
    //  the chain continues after the reopen
    ld_event_t *event = s_next_event (fx, 4, "note/wudang/", "4");
    ld_append_result_t r = s_append (fx, event);
    assert_int_equal (r.status, LD_OK);
    assert_int_equal (r.store_seq, 4);
    ld_event_destroy (&event);
}

static void
test_store_refuses_a_schema_from_the_future (void **state)
{
    fixture_t *fx = *state;
    ld_store_destroy (&fx->store);
    sqlite3 *db;
    assert_int_equal (sqlite3_open (fx->path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);
    char err[256] = "";
    assert_int_equal (ld_store_open (fx->path, &fx->store, err, sizeof err), LD_ERR_SCHEMA);
    assert_non_null (strstr (err, "99"));
    assert_null (fx->store);
}

static void
test_store_uses_wal_and_full_sync (void **state)
{
    fixture_t *fx = *state;
    sqlite3 *db;
    assert_int_equal (sqlite3_open (fx->path, &db), SQLITE_OK);
    sqlite3_stmt *stmt;
    assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    assert_string_equal ((const char *) sqlite3_column_text (stmt, 0), "wal");
    sqlite3_finalize (stmt);
    assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    assert_int_equal (sqlite3_column_int (stmt, 0), 4);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
}

//  10,000 events from 10 authors, interleaved in random order (each
//  author's own events in order), appended in random batch sizes: the head
//  vector names each author's last event.
static void
test_store_head_vector_after_interleaved_appends (void **state)
{
    fixture_t *fx = *state;
    enum { PER_AUTHOR = 1000, TOTAL = AUTHORS * PER_AUTHOR };
    ld_event_t **events = calloc (TOTAL, sizeof *events);
    assert_non_null (events);
    //  pick the author of each position at random, keeping per-author order
    int remaining[AUTHORS];
    for (int a = 0; a < AUTHORS; a++)
        remaining[a] = PER_AUTHOR;
    srand (20261126);
    for (int i = 0; i < TOTAL; i++) {
        int a;
        do
            a = rand () % AUTHORS;
        while (remaining[a] == 0);
        remaining[a]--;
        char text[32];
        snprintf (text, sizeof text, "event %d", i);
        events[i] = s_next_event (fx, a, "note/wudang/", text);
    }
    ld_append_result_t *results = calloc (TOTAL, sizeof *results);
    assert_non_null (results);
    for (int i = 0; i < TOTAL;) {
        int n = 1 + rand () % 500;
        if (n > TOTAL - i)
            n = TOTAL - i;
        assert_int_equal (
            ld_store_append (fx->store, events + i, (size_t) n, 1, results + i, NULL, 0), LD_OK);
        for (int k = i; k < i + n; k++) {
            assert_int_equal (results[k].status, LD_OK);
            assert_false (results[k].duplicate);
        }
        i += n;
    }
    ld_head_t *heads;
    size_t count;
    assert_int_equal (ld_store_heads (fx->store, &heads, &count), LD_OK);
    assert_int_equal (count, AUTHORS);
    for (size_t h = 0; h < count; h++) {
        if (h > 0)
            assert_true (memcmp (heads[h - 1].author, heads[h].author, LD_KEY_BYTES) < 0);
        int a = -1;
        for (int k = 0; k < AUTHORS; k++)
            if (memcmp (heads[h].author, ld_identity_public_key (fx->authors[k]), LD_KEY_BYTES)
                == 0)
                a = k;
        assert_true (a >= 0);
        assert_int_equal (heads[h].seq, PER_AUTHOR);
        assert_memory_equal (heads[h].id, fx->prev[a], LD_ID_BYTES);
        assert_false (heads[h].frozen);
    }
    assert_int_equal (ld_store_last_seq (fx->store), TOTAL);
    free (heads);
    for (int i = 0; i < TOTAL; i++)
        ld_event_destroy (&events[i]);
    free (events);
    free (results);
}

static int
s_receipt_of (void *arg, const ld_stored_t *stored)
{
    uint64_t *receipts = arg;
    receipts[stored->store_seq] = stored->receipt_seq;
    return 0;
}

static void
test_store_names_each_event_s_receipt (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *events[3];
    for (int i = 0; i < 3; i++)
        events[i] = s_next_event (fx, i, "note/wudang/", "x");
    ld_event_t *receipt = s_next_event (fx, 9, "receipt/broker/", "receipt");
    ld_append_result_t results[3], receipt_result;
    assert_int_equal (ld_store_begin (fx->store, NULL, 0), LD_OK);
    assert_int_equal (ld_store_add (fx->store, events, 3, 7, results, NULL, 0), LD_OK);
    assert_int_equal (ld_store_add (fx->store, &receipt, 1, 7, &receipt_result, NULL, 0), LD_OK);
    assert_int_equal (receipt_result.store_seq, 4);
    assert_int_equal (ld_store_mark_receipt (fx->store, receipt_result.store_seq, NULL, 0), LD_OK);
    assert_int_equal (ld_store_commit (fx->store, NULL, 0), LD_OK);
    //  a later commit without a receipt names none
    ld_event_t *later = s_next_event (fx, 0, "note/wudang/", "later");
    assert_int_equal (s_append (fx, later).status, LD_OK);
    uint64_t receipts[8] = {0};
    assert_int_equal (ld_store_read_after (fx->store, 0, NULL, 0, s_receipt_of, receipts), LD_OK);
    assert_int_equal (receipts[1], 4);
    assert_int_equal (receipts[2], 4);
    assert_int_equal (receipts[3], 4);
    assert_int_equal (receipts[4], 0);
    assert_int_equal (receipts[5], 0);
    for (int i = 0; i < 3; i++)
        ld_event_destroy (&events[i]);
    ld_event_destroy (&receipt);
    ld_event_destroy (&later);
}

static void
test_store_rollback_forgets_the_batch (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *first = s_next_event (fx, 5, "note/wudang/", "1");
    ld_append_result_t result;
    assert_int_equal (ld_store_begin (fx->store, NULL, 0), LD_OK);
    assert_int_equal (ld_store_add (fx->store, &first, 1, 1, &result, NULL, 0), LD_OK);
    assert_int_equal (result.status, LD_OK);
    ld_store_rollback (fx->store);
    ld_head_t head;
    assert_int_equal (ld_store_head (fx->store, ld_event_author (first), &head), LD_ERR_NOT_FOUND);
    assert_int_equal (ld_store_last_seq (fx->store), 0);
    //  the same event is stored normally afterwards
    ld_append_result_t again = s_append (fx, first);
    assert_int_equal (again.status, LD_OK);
    assert_false (again.duplicate);
    assert_int_equal (again.store_seq, 1);
    ld_event_destroy (&first);
}

static void
test_store_keeps_meta_values (void **state)
{
    fixture_t *fx = *state;
    int64_t value = 0;
    assert_int_equal (ld_store_meta_get (fx->store, "outbox.acked", &value), LD_ERR_NOT_FOUND);
    assert_int_equal (ld_store_meta_set (fx->store, "outbox.acked", 41), LD_OK);
    assert_int_equal (ld_store_meta_set (fx->store, "outbox.acked", 42), LD_OK);
    ld_store_destroy (&fx->store);
    assert_int_equal (ld_store_open (fx->path, &fx->store, NULL, 0), LD_OK);
    assert_int_equal (ld_store_meta_get (fx->store, "outbox.acked", &value), LD_OK);
    assert_int_equal (value, 42);
    assert_int_equal (ld_store_meta_set_text (fx->store, "dead", "revoked: 金江苑"), LD_OK);
    char *text = ld_store_meta_get_text (fx->store, "dead");
    assert_string_equal (text, "revoked: 金江苑");
    free (text);
    assert_null (ld_store_meta_get_text (fx->store, "outbox.acked"));
}

//  A store written by schema version 1 opens, migrates to 2, keeps its data.
static void
test_store_migrates_a_version_1_store (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *first = s_next_event (fx, 6, "note/wudang/", "v1");
    assert_int_equal (s_append (fx, first).status, LD_OK);
    ld_store_destroy (&fx->store);
    sqlite3 *db;
    assert_int_equal (sqlite3_open (fx->path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db,
                                    "DROP TABLE receipts; DROP TABLE meta;"
                                    " DROP TABLE persons; DROP INDEX events_invalid;"
                                    " ALTER TABLE events DROP COLUMN invalid;"
                                    " PRAGMA user_version = 1",
                                    NULL, NULL, NULL),
                      SQLITE_OK);
    sqlite3_close (db);
    assert_int_equal (ld_store_open (fx->path, &fx->store, NULL, 0), LD_OK);
    ld_head_t head;
    assert_int_equal (ld_store_head (fx->store, ld_event_author (first), &head), LD_OK);
    assert_int_equal (head.seq, 1);
    assert_int_equal (ld_store_meta_set (fx->store, "migrated", 1), LD_OK);
    ld_event_destroy (&first);
}

typedef struct {
    size_t count;
    const char *marks[16]; //  by seq - 1; "" for none
    char text[16][32];
} marks_t;

static int
s_marks_of (void *arg, const ld_stored_t *stored)
{
    marks_t *m = arg;
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_decode (stored->envelope, stored->size, 0, &event, NULL, 0), LD_OK);
    uint64_t seq = ld_event_seq (event);
    ld_event_destroy (&event);
    assert_true (seq >= 1 && seq <= 16);
    snprintf (m->text[seq - 1], sizeof m->text[0], "%s", stored->invalid ? stored->invalid : "");
    m->count++;
    return 0;
}

//  A revocation learned late marks events invalid, keeps them, and survives
//  a reopen; clearing a mark makes the event read as valid again.
static void
test_store_marks_events_invalid_and_deletes_nothing (void **state)
{
    fixture_t *fx = *state;
    for (int i = 0; i < 6; i++) {
        ld_event_t *event = s_next_event (fx, 1, "note/wudang/", "x");
        assert_int_equal (s_append (fx, event).status, LD_OK);
        ld_event_destroy (&event);
    }
    ld_event_t *other = s_next_event (fx, 2, "note/wudang/", "y");
    assert_int_equal (s_append (fx, other).status, LD_OK);
    const uint8_t *key = ld_identity_public_key (fx->authors[1]);
    size_t changed = 0;
    assert_int_equal (ld_store_mark_invalid (fx->store, key, 3, UINT64_MAX, "revoked", &changed),
                      LD_OK);
    assert_int_equal (changed, 3);
    //  marking again changes nothing
    assert_int_equal (ld_store_mark_invalid (fx->store, key, 3, UINT64_MAX, "revoked", &changed),
                      LD_OK);
    assert_int_equal (changed, 0);
    ld_store_destroy (&fx->store);
    assert_int_equal (ld_store_open (fx->path, &fx->store, NULL, 0), LD_OK);
    marks_t m = {0};
    assert_int_equal (ld_store_read_feed (fx->store, key, 1, 0, s_marks_of, &m), LD_OK);
    assert_int_equal (m.count, 6);
    assert_string_equal (m.text[2], "");
    assert_string_equal (m.text[3], "revoked");
    assert_string_equal (m.text[5], "revoked");
    //  another author is untouched; catch-up reads carry the mark too
    marks_t all = {0};
    assert_int_equal (ld_store_read_after (fx->store, 0, "note/", 0, s_marks_of, &all), LD_OK);
    assert_int_equal (all.count, 7);
    //  clearing seq 5 only
    assert_int_equal (ld_store_mark_invalid (fx->store, key, 4, 5, NULL, &changed), LD_OK);
    assert_int_equal (changed, 1);
    marks_t after = {0};
    assert_int_equal (ld_store_read_feed (fx->store, key, 1, 0, s_marks_of, &after), LD_OK);
    assert_string_equal (after.text[3], "revoked");
    assert_string_equal (after.text[4], "");
    assert_string_equal (after.text[5], "revoked");
    //  an unknown author is nothing to mark
    assert_int_equal (ld_store_mark_invalid (fx->store, ld_identity_public_key (fx->authors[7]), 0,
                                             UINT64_MAX, "revoked", &changed),
                      LD_OK);
    assert_int_equal (changed, 0);
    ld_event_destroy (&other);
}

//  --------------------------------------------------------------------------
//  Digests

#define S_DIGEST_AUTHORS    3
#define S_DIGEST_PER_AUTHOR 4

typedef struct {
    uint8_t heads[LD_ID_BYTES];
    uint8_t events[LD_ID_BYTES];
    uint64_t count, invalid;
} s_digest_t;

static s_digest_t
s_digest (ld_store_t *store)
{
    s_digest_t digest;
    assert_int_equal (
        ld_store_digest (store, digest.heads, digest.events, &digest.count, &digest.invalid),
        LD_OK);
    return digest;
}

static bool
s_digests_equal (const s_digest_t *a, const s_digest_t *b)
{
    return memcmp (a->heads, b->heads, LD_ID_BYTES) == 0
           && memcmp (a->events, b->events, LD_ID_BYTES) == 0;
}

//  The heads digest as ld_store.h spells it, from the head vector.
static void
s_heads_digest_by_hand (ld_store_t *store, uint8_t digest[LD_ID_BYTES])
{
    ld_head_t *heads;
    size_t count;
    assert_int_equal (ld_store_heads (store, &heads, &count), LD_OK);
    crypto_generichash_state hash;
    crypto_generichash_init (&hash, NULL, 0, LD_ID_BYTES);
    for (size_t i = 0; i < count; i++) {
        uint8_t seq[8], frozen = heads[i].frozen;
        for (int b = 0; b < 8; b++)
            seq[b] = (uint8_t) (heads[i].seq >> (56 - 8 * b));
        crypto_generichash_update (&hash, heads[i].author, LD_KEY_BYTES);
        crypto_generichash_update (&hash, seq, sizeof seq);
        crypto_generichash_update (&hash, heads[i].id, LD_ID_BYTES);
        crypto_generichash_update (&hash, &frozen, 1);
    }
    crypto_generichash_final (&hash, digest, LD_ID_BYTES);
    free (heads);
}

static void
s_append_to (ld_store_t *store, ld_event_t *event, ld_status_t expected)
{
    ld_append_result_t result;
    assert_int_equal (ld_store_append (store, &event, 1, 1, &result, NULL, 0), LD_OK);
    assert_int_equal (result.status, expected);
}

//  Opens fx->other and fills both stores with the same events of three
//  authors in two arrival orders: fx->store author by author, fx->other
//  round-robin from the last author, so every store seq names another
//  event. events[a][s] keeps author a's seq s+1; the caller destroys them.
static void
s_fill_two_stores (fixture_t *fx, ld_event_t *events[S_DIGEST_AUTHORS][S_DIGEST_PER_AUTHOR])
{
    char path[160];
    snprintf (path, sizeof path, "%s/other.db", fx->dir);
    assert_int_equal (ld_store_open (path, &fx->other, NULL, 0), LD_OK);
    for (int a = 0; a < S_DIGEST_AUTHORS; a++)
        for (int s = 0; s < S_DIGEST_PER_AUTHOR; s++) {
            events[a][s] = s_next_event (fx, a, "note/wudang/", "digest");
            s_append_to (fx->store, events[a][s], LD_OK);
        }
    for (int s = 0; s < S_DIGEST_PER_AUTHOR; s++)
        for (int a = S_DIGEST_AUTHORS - 1; a >= 0; a--)
            s_append_to (fx->other, events[a][s], LD_OK);
}

static void
s_destroy_events (ld_event_t *events[S_DIGEST_AUTHORS][S_DIGEST_PER_AUTHOR])
{
    for (int a = 0; a < S_DIGEST_AUTHORS; a++)
        for (int s = 0; s < S_DIGEST_PER_AUTHOR; s++)
            ld_event_destroy (&events[a][s]);
}

static void
test_store_digests_agree_whatever_the_arrival_order (void **state)
{
    fixture_t *fx = *state;
    s_digest_t empty = s_digest (fx->store);
    assert_int_equal (empty.count, 0);
    ld_event_t *events[S_DIGEST_AUTHORS][S_DIGEST_PER_AUTHOR];
    s_fill_two_stores (fx, events);
    //  store seq 2 is author 0's seq 2 in one, author 1's seq 1 in the other
    collected_t first = {0}, other_first = {0};
    assert_int_equal (ld_store_read_after (fx->store, 0, "", 2, s_collect, &first), LD_OK);
    assert_int_equal (ld_store_read_after (fx->other, 0, "", 2, s_collect, &other_first), LD_OK);
    assert_int_equal (first.store_seqs[1], other_first.store_seqs[1]);
    assert_int_equal (first.seqs[1], 2);
    assert_int_equal (other_first.seqs[1], 1);

    s_digest_t one = s_digest (fx->store), two = s_digest (fx->other);
    assert_true (s_digests_equal (&one, &two));
    assert_false (s_digests_equal (&one, &empty));
    assert_int_equal (one.count, S_DIGEST_AUTHORS * S_DIGEST_PER_AUTHOR);
    assert_int_equal (two.count, one.count);
    assert_int_equal (one.invalid, 0);
    uint8_t by_hand[LD_ID_BYTES];
    s_heads_digest_by_hand (fx->store, by_hand);
    assert_memory_equal (one.heads, by_hand, LD_ID_BYTES);
    //  a reopen reads the same from the files
    ld_store_destroy (&fx->other);
    char path[160];
    snprintf (path, sizeof path, "%s/other.db", fx->dir);
    assert_int_equal (ld_store_open (path, &fx->other, NULL, 0), LD_OK);
    two = s_digest (fx->other);
    assert_true (s_digests_equal (&one, &two));
    s_destroy_events (events);
}

static void
test_store_digests_change_with_one_more_event (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *events[S_DIGEST_AUTHORS][S_DIGEST_PER_AUTHOR];
    s_fill_two_stores (fx, events);
    ld_event_t *more = s_next_event (fx, 1, "note/wudang/", "one more");
    s_append_to (fx->other, more, LD_OK);
    s_digest_t one = s_digest (fx->store), two = s_digest (fx->other);
    assert_memory_not_equal (one.heads, two.heads, LD_ID_BYTES);
    assert_memory_not_equal (one.events, two.events, LD_ID_BYTES);
    assert_int_equal (two.count, one.count + 1);
    //  once both hold it they agree again
    s_append_to (fx->store, more, LD_OK);
    one = s_digest (fx->store);
    assert_true (s_digests_equal (&one, &two));
    ld_event_destroy (&more);
    s_destroy_events (events);
}

static void
test_store_events_digest_changes_with_an_invalid_mark (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *events[S_DIGEST_AUTHORS][S_DIGEST_PER_AUTHOR];
    s_fill_two_stores (fx, events);
    const uint8_t *key = ld_identity_public_key (fx->authors[1]);
    assert_int_equal (ld_store_mark_invalid (fx->other, key, 1, UINT64_MAX, "revoked", NULL),
                      LD_OK);
    s_digest_t one = s_digest (fx->store), two = s_digest (fx->other);
    //  the heads are the same; the marks are not
    assert_memory_equal (one.heads, two.heads, LD_ID_BYTES);
    assert_memory_not_equal (one.events, two.events, LD_ID_BYTES);
    assert_int_equal (two.invalid, S_DIGEST_PER_AUTHOR - 1);
    assert_int_equal (two.count, one.count);
    //  another mark on the same events differs too
    assert_int_equal (ld_store_mark_invalid (fx->store, key, 1, UINT64_MAX, "not-certified", NULL),
                      LD_OK);
    one = s_digest (fx->store);
    assert_int_equal (one.invalid, two.invalid);
    assert_memory_not_equal (one.events, two.events, LD_ID_BYTES);
    //  the same mark agrees
    assert_int_equal (ld_store_mark_invalid (fx->store, key, 1, UINT64_MAX, "revoked", NULL),
                      LD_OK);
    one = s_digest (fx->store);
    assert_true (s_digests_equal (&one, &two));
    s_destroy_events (events);
}

//  A fork at seq 3 (the feed ends at 2) and one at seq 1 (nothing left of
//  the feed, only the frozen head).
static void
test_store_digests_change_with_a_fork_freeze (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *events[S_DIGEST_AUTHORS][S_DIGEST_PER_AUTHOR];
    s_fill_two_stores (fx, events);
    memcpy (fx->prev[0], ld_event_id (events[0][1]), LD_ID_BYTES);
    fx->next_seq[0] = 3;
    ld_event_t *fork3 = s_next_event (fx, 0, "note/wudang/", "another seq 3");
    fx->next_seq[2] = 1;
    ld_event_t *fork1 = s_next_event (fx, 2, "note/wudang/", "another seq 1");
    s_digest_t before = s_digest (fx->other);

    s_append_to (fx->other, fork3, LD_ERR_FORK);
    s_digest_t one = s_digest (fx->store), two = s_digest (fx->other);
    assert_memory_not_equal (one.heads, two.heads, LD_ID_BYTES);
    assert_memory_not_equal (one.events, two.events, LD_ID_BYTES);
    assert_int_equal (two.count, one.count - 2);
    s_append_to (fx->other, fork1, LD_ERR_FORK);
    s_digest_t three = s_digest (fx->other);
    assert_memory_not_equal (three.heads, two.heads, LD_ID_BYTES);
    assert_int_equal (three.count, two.count - S_DIGEST_PER_AUTHOR);
    uint8_t by_hand[LD_ID_BYTES]; //  frozen heads, one of them at seq 0
    s_heads_digest_by_hand (fx->other, by_hand);
    assert_memory_equal (three.heads, by_hand, LD_ID_BYTES);
    assert_false (s_digests_equal (&three, &before));
    //  the same proofs in the other store: they agree again
    s_append_to (fx->store, fork1, LD_ERR_FORK);
    s_append_to (fx->store, fork3, LD_ERR_FORK);
    one = s_digest (fx->store);
    assert_true (s_digests_equal (&one, &three));
    ld_event_destroy (&fork3);
    ld_event_destroy (&fork1);
    s_destroy_events (events);
}

//  --------------------------------------------------------------------------
//  Per-person secrets

//  True if needle occurs in the file at path (a missing file holds nothing).
static bool
s_file_holds (const char *path, const uint8_t *needle, size_t size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return false;
    fseek (file, 0, SEEK_END);
    long length = ftell (file);
    fseek (file, 0, SEEK_SET);
    uint8_t *data = malloc (length > 0 ? (size_t) length : 1);
    assert_non_null (data);
    size_t got = fread (data, 1, (size_t) length, file);
    fclose (file);
    bool found = false;
    for (size_t i = 0; !found && size <= got && i <= got - size; i++)
        found = memcmp (data + i, needle, size) == 0;
    free (data);
    return found;
}

//  True if needle is in the store's database, WAL or shared-memory file.
static bool
s_store_files_hold (fixture_t *fx, const uint8_t *needle, size_t size)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char path[160];
        snprintf (path, sizeof path, "%s%s", fx->path, suffixes[i]);
        if (s_file_holds (path, needle, size))
            return true;
    }
    return false;
}

//  Stores a person sealed with a fresh secret; returns the secret.
static ld_person_secret_t *
s_put_person (fixture_t *fx, const char *name, uint8_t commitment[LD_COMMITMENT_BYTES])
{
    ld_person_t person = {0};
    snprintf (person.name, sizeof person.name, "%s", name);
    snprintf (person.phone, sizeof person.phone, "13800000000");
    uint8_t *bytes, *sealed;
    size_t size, sealed_size;
    assert_int_equal (ld_person_pack (&person, &bytes, &size, NULL, 0), LD_OK);
    ld_person_secret_t *secret = ld_person_secret_new ();
    assert_non_null (secret);
    assert_int_equal (
        ld_person_seal (bytes, size, secret, commitment, &sealed, &sealed_size, NULL, 0), LD_OK);
    assert_int_equal (ld_store_person_put (fx->store, commitment, secret, sealed, sealed_size,
                                           1764000000000, NULL, 0),
                      LD_OK);
    free (bytes);
    free (sealed);
    return secret;
}

static void
test_store_keeps_a_person_s_secret_across_reopen (void **state)
{
    fixture_t *fx = *state;
    uint8_t commitment[LD_COMMITMENT_BYTES];
    ld_person_secret_t *secret = s_put_person (fx, "张三", commitment);
    ld_store_destroy (&fx->store);
    assert_int_equal (ld_store_open (fx->path, &fx->store, NULL, 0), LD_OK);
    ld_person_secret_t *got = ld_person_secret_new ();
    uint8_t sealed[LD_SEALED_PERSON_MAX];
    size_t sealed_size;
    int64_t erased_ms;
    assert_int_equal (
        ld_store_person_get (fx->store, commitment, got, sealed, &sealed_size, &erased_ms), LD_OK);
    assert_memory_equal (got->key, secret->key, LD_PERSON_KEY_BYTES);
    assert_memory_equal (got->salt, secret->salt, LD_PERSON_SALT_BYTES);
    assert_int_equal (erased_ms, 0);
    ld_sealed_person_t decoded;
    assert_int_equal (ld_sealed_person_decode (sealed, sealed_size, &decoded, NULL, 0), LD_OK);
    assert_memory_equal (decoded.commitment, commitment, LD_COMMITMENT_BYTES);
    //  a second put of the same commitment is refused
    assert_int_equal (
        ld_store_person_put (fx->store, commitment, secret, sealed, sealed_size, 1, NULL, 0),
        LD_ERR_EXISTS);
    ld_person_secret_destroy (&got);
    ld_person_secret_destroy (&secret);
}

static void
test_store_erases_a_person_idempotently_and_knows_who_it_never_held (void **state)
{
    fixture_t *fx = *state;
    uint8_t commitment[LD_COMMITMENT_BYTES], unknown[LD_COMMITMENT_BYTES] = {7};
    ld_person_secret_t *secret = s_put_person (fx, "李四", commitment);
    bool already = true;
    assert_int_equal (ld_store_person_erase (fx->store, commitment, 42, &already, NULL, 0), LD_OK);
    assert_false (already);
    assert_int_equal (ld_store_person_erase (fx->store, commitment, 43, &already, NULL, 0), LD_OK);
    assert_true (already);
    assert_int_equal (ld_store_person_erase (fx->store, unknown, 44, &already, NULL, 0),
                      LD_ERR_NOT_FOUND);
    uint8_t sealed[LD_SEALED_PERSON_MAX];
    size_t sealed_size;
    int64_t erased_ms;
    assert_int_equal (
        ld_store_person_get (fx->store, commitment, secret, sealed, &sealed_size, &erased_ms),
        LD_ERR_NOT_FOUND);
    assert_int_equal (erased_ms, 42); //  the first erasure's time
    assert_int_equal (
        ld_store_person_get (fx->store, unknown, secret, sealed, &sealed_size, &erased_ms),
        LD_ERR_NOT_FOUND);
    assert_int_equal (erased_ms, 0); //  never held
    ld_person_secret_destroy (&secret);
}

//  The key and salt are in the files before the erasure (the control: the
//  scan sees them) and nowhere in the database, WAL or -shm after it, with
//  other writes before and after so that pages move and the WAL holds
//  several versions of the person's page.
static void
test_store_erasure_leaves_no_key_or_salt_in_the_files (void **state)
{
    fixture_t *fx = *state;
    uint8_t commitment[LD_COMMITMENT_BYTES], other[LD_COMMITMENT_BYTES];
    ld_person_secret_t *secret = s_put_person (fx, "王五", commitment);
    ld_person_secret_t *kept = s_put_person (fx, "赵六", other);
    for (int i = 0; i < 20; i++) {
        ld_event_t *event = s_next_event (fx, 0, "note/wudang/", "pages move");
        assert_int_equal (s_append (fx, event).status, LD_OK);
        ld_event_destroy (&event);
    }
    assert_true (s_store_files_hold (fx, secret->key, LD_PERSON_KEY_BYTES));
    assert_true (s_store_files_hold (fx, secret->salt, LD_PERSON_SALT_BYTES));
    bool already;
    assert_int_equal (ld_store_person_erase (fx->store, commitment, 1, &already, NULL, 0), LD_OK);
    assert_false (s_store_files_hold (fx, secret->key, LD_PERSON_KEY_BYTES));
    assert_false (s_store_files_hold (fx, secret->salt, LD_PERSON_SALT_BYTES));
    //  the other person is untouched
    assert_true (s_store_files_hold (fx, kept->key, LD_PERSON_KEY_BYTES));
    //  and nothing comes back after a close, a reopen and more writes
    ld_store_destroy (&fx->store);
    assert_int_equal (ld_store_open (fx->path, &fx->store, NULL, 0), LD_OK);
    ld_event_t *event = s_next_event (fx, 0, "note/wudang/", "after");
    assert_int_equal (s_append (fx, event).status, LD_OK);
    ld_event_destroy (&event);
    assert_false (s_store_files_hold (fx, secret->key, LD_PERSON_KEY_BYTES));
    assert_false (s_store_files_hold (fx, secret->salt, LD_PERSON_SALT_BYTES));
    ld_person_secret_destroy (&kept);
    ld_person_secret_destroy (&secret);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_store_appends_and_reads_a_feed, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_refuses_an_event_ahead_with_the_needed_seq,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_refuses_a_first_event_that_is_not_seq_1, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_refuses_a_broken_chain, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_duplicate_append_is_a_no_op, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_fork_freezes_the_author_and_keeps_both_versions,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_reads_after_a_store_seq_by_topic_prefix, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_survives_close_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_refuses_a_schema_from_the_future, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_uses_wal_and_full_sync, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_head_vector_after_interleaved_appends, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_names_each_event_s_receipt, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_rollback_forgets_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_keeps_meta_values, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_migrates_a_version_1_store, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_marks_events_invalid_and_deletes_nothing, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_digests_agree_whatever_the_arrival_order, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_digests_change_with_one_more_event, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_events_digest_changes_with_an_invalid_mark,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_digests_change_with_a_fork_freeze, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_store_keeps_a_person_s_secret_across_reopen, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (
            test_store_erases_a_person_idempotently_and_knows_who_it_never_held, setup, teardown),
        cmocka_unit_test_setup_teardown (test_store_erasure_leaves_no_key_or_salt_in_the_files,
                                         setup, teardown),
    };
    return cmocka_run_group_tests_name ("store", tests, NULL, NULL);
}
