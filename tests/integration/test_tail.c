/*  test_tail.c -- `liandong tail` against a real broker: every event exactly
    once, verified, in order, across catch-up, live delivery and a tail
    stopped while events pass; prefixes by bytes; the table; and, against a
    fake broker, the refusal to print what does not verify, the broker's
    invalid mark shown without stopping, and CurveZMQ to a pinned key only.
    --verify-authority has its own file, test_tail_authority.c.

    Events go into the broker through the raw client (tests/ld_client.h),
    pre-signed, in batches of 1,000. What a tail printed is checked against
    the store as catch-up serves it from 0.

    Built twice: test_tail (label integration) and, with LD_TAIL_FAULT,
    test_tail_faults (label fault): the tail stopped with SIGSTOP while
    100,000 events pass (and the broker's memory meanwhile), and the broker
    killed with SIGKILL and restarted under a following tail, and a tail
    whose output is blocked past the broker's heartbeat timeout.
*/
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <wchar.h>

#include <cmocka.h>
#include <jansson.h>

#include "ld_client.h"
#include "ld_proc.h"
#include "ld_test_util.h"

#define S_AUTHORS_MAX  4
#define S_BATCH        1000
#define S_WAIT_MS      10000 //  readiness, one reply
#define S_CATCHUP_MS   60000 //  a tail reaching what the test expects
#define S_TOPIC_MAX    64
#define S_READ_CHUNK   65536
#define S_RSS_LIMIT_KB (300 * 1024)

//  Under AddressSanitizer the broker keeps freed memory in quarantine
//  (256 MB by default) and pads every allocation: its RSS says nothing of
//  ours, so the bound is checked in plain builds only (the figure is printed
//  in both).
#if defined(__SANITIZE_ADDRESS__)
#define S_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_SANITIZED 1
#endif
#endif
#ifndef S_SANITIZED
#define S_SANITIZED 0
#endif

//  One event as a tail printed it (--json), or as its envelope says (--raw).
typedef struct {
    uint64_t store_seq; //  0 in --raw output
    uint64_t seq;
    char author[LD_KEY_TEXT_BYTES];
    char id[LD_ID_TEXT_BYTES];
    char topic[S_TOPIC_MAX];
    bool receipt;
    char invalid[32]; //  the broker's mark, "" if none
} s_line_t;

//  A running tail and what it printed so far.
typedef struct {
    ld_proc_t proc;
    bool raw;
    bool text;        //  table output: kept as text in pending, not parsed
    uint8_t *pending; //  bytes not yet a whole record
    size_t pending_used, pending_size;
    s_line_t *lines;
    size_t count, capacity;
    bool eof;
} s_tail_t;

#define S_TAILS_MAX 2

typedef struct {
    char dir[PATH_MAX];
    ld_proc_t broker;
    //  in the fixture, not on a test's stack: the process registry points
    //  at them until teardown, even when an assertion ends the test early
    s_tail_t tails[S_TAILS_MAX];
    char listen[LD_CLIENT_ENDPOINT_MAX];
    ld_client_t *client;
    ld_client_author_t *authors[S_AUTHORS_MAX];
    char author_keys[S_AUTHORS_MAX][LD_KEY_TEXT_BYTES];
} fixture_t;

static void s_tail_free (s_tail_t *tail);

//  --------------------------------------------------------------------------
//  Fixture: one broker on an ephemeral port, a raw client, four authors

static void
s_broker_start (fixture_t *fx)
{
    char data[PATH_MAX + 16];
    snprintf (data, sizeof data, "%s/broker", fx->dir);
    const char *argv[] = {"broker", "--data", data, "--listen", "tcp://127.0.0.1:*",
                          "--open", NULL};
    assert_int_equal (ld_proc_start (&fx->broker, argv, true, S_WAIT_MS), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
}

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    s_broker_start (fx);
    fx->client = ld_client_new (fx->listen);
    assert_non_null (fx->client);
    assert_int_equal (ld_client_hello (fx->client, S_WAIT_MS), 0);
    for (int i = 0; i < S_AUTHORS_MAX; i++) {
        fx->authors[i] = ld_client_author_new ((uint8_t) (0x41 + i));
        assert_non_null (fx->authors[i]);
        ld_key_to_text (ld_identity_public_key (fx->authors[i]->identity), fx->author_keys[i]);
    }
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_client_destroy (&fx->client);
    ld_proc_stop (&fx->broker);
    ld_proc_stop_all ();
    for (int i = 0; i < S_TAILS_MAX; i++)
        s_tail_free (&fx->tails[i]);
    for (int i = 0; i < S_AUTHORS_MAX; i++)
        ld_client_author_destroy (&fx->authors[i]);
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

//  Publishes `batches` batches of `size` events from author a under topic;
//  every event must be stored.
static void
s_publish (fixture_t *fx, int a, const char *topic, size_t batches, size_t size)
{
    ld_event_t **events = calloc (size, sizeof *events);
    assert_non_null (events);
    for (size_t b = 0; b < batches; b++) {
        for (size_t i = 0; i < size; i++) {
            char text[64];
            snprintf (text, sizeof text, "第%" PRIu64 "条 from author %d", fx->authors[a]->next_seq,
                      a);
            events[i] = ld_client_author_next (fx->authors[a], topic, text);
            assert_non_null (events[i]);
        }
        assert_int_equal (ld_client_publish (fx->client, events, size, S_CATCHUP_MS, NULL, 0), 0);
        for (size_t i = 0; i < size; i++)
            ld_event_destroy (&events[i]);
    }
    free (events);
}

static int
s_author_index (fixture_t *fx, const char *key)
{
    for (int i = 0; i < S_AUTHORS_MAX; i++)
        if (strcmp (fx->author_keys[i], key) == 0)
            return i;
    return -1;
}

//  --------------------------------------------------------------------------
//  Tails and their output

static void
s_tail_start (s_tail_t *tail, const char *const *argv)
{
    memset (tail, 0, sizeof *tail);
    tail->text = true;
    for (size_t i = 0; argv[i]; i++) {
        if (strcmp (argv[i], "--raw") == 0)
            tail->raw = true;
        if (strcmp (argv[i], "--raw") == 0 || strcmp (argv[i], "--json") == 0)
            tail->text = false;
    }
    assert_int_equal (ld_proc_start (&tail->proc, argv, false, 0), 0);
}

static void
s_tail_free (s_tail_t *tail)
{
    free (tail->pending);
    free (tail->lines);
    memset (tail, 0, sizeof *tail);
}

static s_line_t *
s_tail_new_line (s_tail_t *tail)
{
    if (tail->count == tail->capacity) {
        tail->capacity = tail->capacity ? tail->capacity * 2 : 1024;
        tail->lines = realloc (tail->lines, tail->capacity * sizeof *tail->lines);
        assert_non_null (tail->lines);
    }
    s_line_t *line = &tail->lines[tail->count++];
    memset (line, 0, sizeof *line);
    return line;
}

static void
s_copy_string (char *out, size_t size, json_t *object, const char *key)
{
    json_t *value = json_object_get (object, key);
    assert_true (json_is_string (value));
    assert_true (strlen (json_string_value (value)) < size);
    strcpy (out, json_string_value (value));
}

static uint64_t
s_u64_member (json_t *object, const char *key)
{
    json_t *value = json_object_get (object, key);
    assert_true (json_is_string (value)); //  64-bit numbers are strings
    return strtoull (json_string_value (value), NULL, 10);
}

static void
s_parse_json_line (s_tail_t *tail, const char *text)
{
    json_error_t error;
    json_t *json = json_loads (text, 0, &error);
    if (!json)
        fail_msg ("tail printed a line that is not JSON: %s: %.200s", error.text, text);
    s_line_t *line = s_tail_new_line (tail);
    line->store_seq = s_u64_member (json, "storeSeq");
    line->seq = s_u64_member (json, "seq");
    s_copy_string (line->author, sizeof line->author, json, "author");
    s_copy_string (line->id, sizeof line->id, json, "id");
    s_copy_string (line->topic, sizeof line->topic, json, "topic");
    json_t *receipt = json_object_get (json, "receipt");
    line->receipt = json_is_object (receipt) && json_object_get (receipt, "storeSeq")
                    && json_object_get (receipt, "storedMs");
    assert_non_null (json_object_get (json, "type"));
    assert_non_null (json_object_get (json, "timeMs"));
    if (json_object_get (json, "invalid"))
        s_copy_string (line->invalid, sizeof line->invalid, json, "invalid");
    json_decref (json);
}

//  A record of --raw output: a varint length, then an envelope. Returns the
//  bytes it took from data, 0 if data holds no whole record yet.
static size_t
s_parse_raw_record (s_tail_t *tail, const uint8_t *data, size_t size)
{
    uint64_t length = 0;
    size_t used = 0;
    for (int shift = 0; used < size; shift += 7) {
        assert_true (shift < 64);
        uint8_t byte = data[used++];
        length |= (uint64_t) (byte & 0x7F) << shift;
        if (!(byte & 0x80))
            break;
        if (used == size)
            return 0;
    }
    if (used == 0 || (data[used - 1] & 0x80) || size - used < length)
        return 0;
    ld_event_t *event = NULL;
    assert_int_equal (ld_event_decode (data + used, length, 0, &event, NULL, 0), LD_OK);
    assert_int_equal (ld_event_verify (event), LD_OK);
    s_line_t *line = s_tail_new_line (tail);
    line->seq = ld_event_seq (event);
    ld_key_to_text (ld_event_author (event), line->author);
    ld_id_to_text (ld_event_id (event), line->id);
    snprintf (line->topic, sizeof line->topic, "%s", ld_event_topic (event));
    ld_event_destroy (&event);
    return used + length;
}

//  Parses every whole record in pending and keeps the rest.
static void
s_tail_parse (s_tail_t *tail)
{
    if (tail->text)
        return;
    size_t start = 0;
    while (start < tail->pending_used) {
        if (tail->raw) {
            size_t took =
                s_parse_raw_record (tail, tail->pending + start, tail->pending_used - start);
            if (!took)
                break;
            start += took;
        }
        else {
            uint8_t *newline = memchr (tail->pending + start, '\n', tail->pending_used - start);
            if (!newline)
                break;
            *newline = '\0';
            s_parse_json_line (tail, (const char *) tail->pending + start);
            start = (size_t) (newline - tail->pending) + 1;
        }
    }
    memmove (tail->pending, tail->pending + start, tail->pending_used - start);
    tail->pending_used -= start;
}

//  Reads what the tail printed within timeout_ms (at least one read if
//  anything is there). Returns false once its stdout is closed.
static bool
s_tail_read (s_tail_t *tail, int timeout_ms)
{
    if (tail->eof || tail->proc.out < 0)
        return false;
    struct pollfd pfd = {.fd = tail->proc.out, .events = POLLIN};
    if (poll (&pfd, 1, timeout_ms) <= 0)
        return true;
    if (tail->pending_size - tail->pending_used < S_READ_CHUNK) {
        tail->pending_size = tail->pending_used + 4 * S_READ_CHUNK;
        tail->pending = realloc (tail->pending, tail->pending_size);
        assert_non_null (tail->pending);
    }
    ssize_t got = read (tail->proc.out, tail->pending + tail->pending_used, S_READ_CHUNK);
    if (got <= 0) {
        tail->eof = true;
        return false;
    }
    tail->pending_used += (size_t) got;
    if (tail->text)
        tail->pending[tail->pending_used < tail->pending_size ? tail->pending_used
                                                              : tail->pending_size - 1] = '\0';
    s_tail_parse (tail);
    return true;
}

//  Reads everything the tail's stdout holds now, without waiting.
static void
s_tail_drain (s_tail_t *tail)
{
    struct pollfd pfd = {.fd = tail->proc.out, .events = POLLIN};
    while (!tail->eof && tail->proc.out >= 0 && poll (&pfd, 1, 0) > 0 && s_tail_read (tail, 0))
        ;
}

//  Reads until the tail has printed `count` events, within timeout_ms.
static void
s_tail_wait_count (s_tail_t *tail, size_t count, int timeout_ms)
{
    int64_t deadline = ld_proc_now_ms () + timeout_ms;
    while (tail->count < count && ld_proc_now_ms () < deadline)
        if (!s_tail_read (tail, 100))
            break;
    if (tail->count < count)
        fail_msg ("tail printed %zu events, expected %zu", tail->count, count);
}

//  Reads until the tail printed store seq `store_seq` (--json).
static void
s_tail_wait_store_seq (s_tail_t *tail, uint64_t store_seq, int timeout_ms)
{
    int64_t deadline = ld_proc_now_ms () + timeout_ms;
    while ((tail->count == 0 || tail->lines[tail->count - 1].store_seq < store_seq)
           && ld_proc_now_ms () < deadline)
        if (!s_tail_read (tail, 100))
            break;
    if (tail->count == 0 || tail->lines[tail->count - 1].store_seq < store_seq)
        fail_msg ("tail did not reach store seq %" PRIu64 " (printed %zu events, last %" PRIu64 ")",
                  store_seq, tail->count, tail->count ? tail->lines[tail->count - 1].store_seq : 0);
}

//  Reads to the end of the tail's output and waits for it to exit.
static int
s_tail_finish (s_tail_t *tail, int timeout_ms)
{
    int64_t deadline = ld_proc_now_ms () + timeout_ms;
    while (ld_proc_now_ms () < deadline && s_tail_read (tail, 100))
        ;
    assert_true (ld_proc_wait (&tail->proc, (int) (deadline - ld_proc_now_ms ()) + 1000));
    return ld_proc_exit_code (&tail->proc);
}

//  SIGTERM, the output to its end, and the exit code (0: clean).
static int
s_tail_stop (s_tail_t *tail)
{
    kill (tail->proc.pid, SIGTERM);
    return s_tail_finish (tail, S_WAIT_MS);
}

//  --------------------------------------------------------------------------
//  Checks against the store

typedef struct {
    ld_client_stored_t *events;
    size_t count;
    char (*ids)[LD_ID_TEXT_BYTES];
} s_store_t;

//  Everything the store serves after 0 under prefix.
static void
s_store_read (fixture_t *fx, const char *prefix, s_store_t *store)
{
    size_t repeats = 0;
    assert_int_equal (ld_client_catchup_all (fx->client, 0, prefix, S_WAIT_MS, &store->events,
                                             &store->count, &repeats),
                      0);
    assert_int_equal (repeats, 0);
    store->ids = calloc (store->count ? store->count : 1, sizeof *store->ids);
    assert_non_null (store->ids);
    for (size_t i = 0; i < store->count; i++) {
        ld_event_t *event = NULL;
        assert_int_equal (
            ld_event_decode (store->events[i].envelope, store->events[i].size, 0, &event, NULL, 0),
            LD_OK);
        ld_id_to_text (ld_event_id (event), store->ids[i]);
        ld_event_destroy (&event);
    }
}

static void
s_store_free (s_store_t *store)
{
    ld_client_stored_free (&store->events, store->count);
    free (store->ids);
    memset (store, 0, sizeof *store);
}

//  The tail printed exactly the store's events from index `first` on, in
//  store order, each once (--json: by store seq and id; --raw: by id).
static void
s_assert_matches_store (const s_tail_t *tail, const s_store_t *store, size_t first)
{
    assert_true (first <= store->count);
    if (tail->count != store->count - first)
        fail_msg ("tail printed %zu events, the store holds %zu after index %zu", tail->count,
                  store->count - first, first);
    for (size_t i = 0; i < tail->count; i++) {
        const s_line_t *line = &tail->lines[i];
        if (!tail->raw)
            assert_int_equal (line->store_seq, store->events[first + i].store_seq);
        assert_string_equal (line->id, store->ids[first + i]);
    }
}

//  Store seqs strictly increasing (so none twice), and each author's seqs
//  1, 2, 3, ... in the order printed.
static void
s_assert_ordered_once (fixture_t *fx, const s_tail_t *tail)
{
    uint64_t next[S_AUTHORS_MAX] = {0};
    for (size_t i = 0; i < tail->count; i++) {
        const s_line_t *line = &tail->lines[i];
        if (!tail->raw && i > 0)
            assert_true (line->store_seq > tail->lines[i - 1].store_seq);
        int a = s_author_index (fx, line->author);
        if (a < 0)
            continue; //  the broker's receipts
        if (next[a] == 0)
            next[a] = line->seq;
        if (line->seq != next[a])
            fail_msg ("author %d: seq %" PRIu64 " printed where %" PRIu64 " was due", a, line->seq,
                      next[a]);
        next[a]++;
    }
}

//  --------------------------------------------------------------------------
//  Tests

#ifndef LD_TAIL_FAULT

//  Index in the store of the event with this id (fails if absent).
static size_t
s_store_index (const s_store_t *store, const char *id)
{
    for (size_t i = 0; i < store->count; i++)
        if (strcmp (store->ids[i], id) == 0)
            return i;
    fail_msg ("event '%s' is not in the store", id);
    return 0;
}

static void
test_tail_from_zero_prints_every_event_once_verified (void **state)
{
    fixture_t *fx = *state;
    //  One tail follows from before the first event (catch-up, then live),
    //  the other starts when all are stored (catch-up only).
    s_tail_t *early = &fx->tails[0], *late = &fx->tails[1];
    const char *argv[] = {"tail",   "--broker", fx->listen, "--from",    "0",    "--count", "30000",
                          "--json", "--prefix", "note/",    "--timeout", "5000", NULL};
    s_tail_start (early, argv);
    for (size_t b = 0; b < 10; b++)
        for (int a = 0; a < 3; a++) {
            char topic[S_TOPIC_MAX];
            snprintf (topic, sizeof topic, "note/test/a%d/", a);
            s_publish (fx, a, topic, 1, S_BATCH);
            s_tail_read (early, 0);
        }
    s_tail_start (late, argv);
    assert_int_equal (s_tail_finish (early, S_CATCHUP_MS), 0);
    assert_int_equal (s_tail_finish (late, S_CATCHUP_MS), 0);

    s_store_t store;
    s_store_read (fx, "note/", &store);
    assert_int_equal (store.count, 30000);
    s_tail_t *tails[] = {early, late};
    for (size_t t = 0; t < 2; t++) {
        assert_int_equal (tails[t]->count, 30000);
        s_assert_matches_store (tails[t], &store, 0);
        s_assert_ordered_once (fx, tails[t]);
        for (size_t i = 0; i < tails[t]->count; i++)
            assert_true (tails[t]->lines[i].receipt);
    }
    s_store_free (&store);
}

static void
test_tail_started_mid_stream_misses_nothing_and_repeats_nothing (void **state)
{
    fixture_t *fx = *state;
    for (int a = 0; a < 3; a++)
        s_publish (fx, a, "note/mid/", 2, S_BATCH);
    //  `fresh` takes only new events, printed live where it can (--raw);
    //  `backlog` catches up from 0 while live events keep arriving (--json).
    s_tail_t *fresh = &fx->tails[0], *backlog = &fx->tails[1];
    const char *fresh_argv[] = {"tail", "--broker", fx->listen, "--raw", NULL};
    const char *backlog_argv[] = {"tail", "--broker", fx->listen, "--from", "0", "--json", NULL};
    s_tail_start (fresh, fresh_argv);
    s_tail_start (backlog, backlog_argv);
    //  Go on publishing until the fresh tail has printed something, then
    //  five rounds more, so that both switch from catch-up to live mid-stream.
    int rounds_after = -1;
    for (int round = 0; round < 200 && rounds_after < 5; round++) {
        for (int a = 0; a < 3; a++) {
            s_publish (fx, a, "note/mid/", 1, S_BATCH / 4);
            s_tail_drain (fresh);
            s_tail_drain (backlog);
        }
        if (rounds_after >= 0)
            rounds_after++;
        else if (fresh->count > 0)
            rounds_after = 0;
    }
    assert_int_equal (rounds_after, 5);
    assert_int_equal (ld_client_hello (fx->client, S_WAIT_MS), 0);
    uint64_t last = fx->client->last_seq;
    s_tail_wait_store_seq (backlog, last, S_CATCHUP_MS);

    s_store_t store;
    s_store_read (fx, "", &store); //  the broker's receipts too
    assert_int_equal (store.events[store.count - 1].store_seq, last);
    s_tail_wait_count (fresh, store.count - s_store_index (&store, fresh->lines[0].id),
                       S_CATCHUP_MS);
    //  SIGTERM ends a tail cleanly, and nothing more was printed.
    assert_int_equal (s_tail_stop (fresh), 0);
    assert_int_equal (s_tail_stop (backlog), 0);
    s_assert_matches_store (fresh, &store, s_store_index (&store, fresh->lines[0].id));
    s_assert_matches_store (backlog, &store, 0);
    s_assert_ordered_once (fx, backlog);
    s_store_free (&store);
}

static void
test_tail_with_a_prefix_prints_exactly_the_matching_events (void **state)
{
    fixture_t *fx = *state;
    //  street1/ must not match street10/; street1/grid2/ lies under street1/.
    const char *topics[] = {"note/street1/", "note/street10/", "note/street1/grid2/"};
    for (int a = 0; a < 3; a++)
        s_publish (fx, a, topics[a], 5, S_BATCH / 10);
    s_tail_t *tail = &fx->tails[0];
    const char *argv[] = {"tail",   "--broker", fx->listen,      "--from", "0",
                          "--json", "--prefix", "note/street1/", NULL};
    s_tail_start (tail, argv);
    //  half stored before the tail started, half while it follows live
    for (int round = 0; round < 5; round++)
        for (int a = 0; a < 3; a++) {
            s_publish (fx, a, topics[a], 1, S_BATCH / 10);
            s_tail_read (tail, 0);
        }
    s_tail_wait_count (tail, 2000, S_CATCHUP_MS);
    assert_int_equal (s_tail_stop (tail), 0);

    s_store_t store;
    s_store_read (fx, "note/street1/", &store);
    assert_int_equal (store.count, 2000);
    s_assert_matches_store (tail, &store, 0);
    s_assert_ordered_once (fx, tail);
    for (size_t i = 0; i < tail->count; i++) {
        assert_int_equal (strncmp (tail->lines[i].topic, "note/street1/", 13), 0);
        assert_int_not_equal (s_author_index (fx, tail->lines[i].author), 1);
    }
    s_store_free (&store);
}

//  Display columns of text (needs the UTF-8 locale main sets).
static size_t
s_display_width (const char *text)
{
    size_t n = mbstowcs (NULL, text, 0);
    assert_true (n != (size_t) -1);
    wchar_t *wide = calloc (n + 1, sizeof *wide);
    assert_non_null (wide);
    mbstowcs (wide, text, n + 1);
    int width = wcswidth (wide, n);
    free (wide);
    assert_true (width >= 0);
    return (size_t) width;
}

static void
test_tail_prints_an_aligned_table_of_chinese_notes (void **state)
{
    fixture_t *fx = *state;
    const char *texts[] = {"金江苑社区：把12个小区党支部建在楼栋上", "ok",
                           "龙广路街道大工委联席会议：摆摊设点、占道经营、停车管理"};
    const char *topics[] = {"note/wudang/guanxilu/jinjiangyuan/", "note/x/",
                            "note/wudang/longguanglu/"};
    for (int a = 0; a < 3; a++) {
        ld_event_t *event = ld_client_author_next (fx->authors[a], topics[a], texts[a]);
        assert_non_null (event);
        assert_int_equal (ld_client_publish (fx->client, &event, 1, S_WAIT_MS, NULL, 0), 0);
        ld_event_destroy (&event);
    }
    char out[8192], err[1024];
    const char *args[] = {"tail",    "--broker", fx->listen, "--from", "0",
                          "--count", "3",        "--prefix", "note/",  NULL};
    assert_int_equal (ld_test_run (args, out, sizeof out, err, sizeof err), 0);
    assert_non_null (strstr (out, "金江苑社区"));
    //  a header and three rows; the last column (ID, 8 characters) starts
    //  at the same terminal column in each row
    char *saveptr = NULL;
    char *header = strtok_r (out, "\n", &saveptr);
    assert_non_null (header);
    size_t header_width = s_display_width (header);
    for (int i = 0; i < 3; i++) {
        char *row = strtok_r (NULL, "\n", &saveptr);
        assert_non_null (row);
        assert_int_equal (s_display_width (row), header_width - strlen ("ID") + 8);
    }
    assert_null (strtok_r (NULL, "\n", &saveptr));
}

static void
test_tail_raw_output_reads_back_with_inspect (void **state)
{
    fixture_t *fx = *state;
    s_publish (fx, 0, "note/raw/", 1, 3);
    char path[PATH_MAX + 16], command[2 * PATH_MAX + 256];
    snprintf (path, sizeof path, "%s/events.bin", fx->dir);
    snprintf (command, sizeof command,
              "timeout 30 \"$LD_BIN\" tail --broker %s --from 0 --count 3 --raw "
              "--prefix note/raw/ > '%s'",
              fx->listen, path);
    assert_int_equal (system (command), 0);

    //  inspect prints one JSON document per envelope, in order
    char out[16384], err[1024];
    const char *args[] = {"inspect", path, NULL};
    assert_int_equal (ld_test_run (args, out, sizeof out, err, sizeof err), 0);
    s_store_t store;
    s_store_read (fx, "note/raw/", &store);
    assert_int_equal (store.count, 3);
    size_t offset = 0;
    for (size_t i = 0; i < 3; i++) {
        json_error_t error;
        json_t *json =
            json_loadb (out + offset, strlen (out + offset), JSON_DISABLE_EOF_CHECK, &error);
        if (!json)
            fail_msg ("inspect printed no JSON document %zu: %s", i, error.text);
        assert_string_equal (json_string_value (json_object_get (json, "id")), store.ids[i]);
        offset += error.position;
        json_decref (json);
    }
    assert_true (strspn (out + offset, " \n") == strlen (out + offset));

    //  cut short: the whole envelopes before the cut are printed, then 65
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (truncate (path, st.st_size - 1), 0);
    assert_int_equal (ld_test_run (args, out, sizeof out, err, sizeof err), 65);
    assert_non_null (strstr (err, "envelope 3 of"));
    assert_non_null (strstr (out, store.ids[1]));
    assert_null (strstr (out, store.ids[2]));
    s_store_free (&store);
}

//  A fake broker that answers Hello and one Catchup with a single event.
typedef struct {
    zsock_t *router;
    zsock_t *pub;
    char listen[LD_CLIENT_ENDPOINT_MAX];
    const uint8_t *envelope;
    size_t size;
    bool answer;         //  false: a broker that never answers
    const char *invalid; //  the mark on the event served, or NULL
    //  a CurveZMQ server with the Curve25519 form of key (no ZAP handler:
    //  any client key is let in), or NULL: plain tcp
    ld_curve_t *curve;
    uint8_t key[LD_KEY_BYTES]; //  the broker key its Welcome names
} s_fake_t;

static void
s_fake_start (s_fake_t *fake)
{
    char err[256];
    ld_socket_spec_t router = {.type = ZMQ_ROUTER, .endpoints = "@tcp://127.0.0.1:*"};
    ld_socket_spec_t pub = {.type = ZMQ_PUB, .endpoints = "@tcp://127.0.0.1:*"};
    if (fake->curve) {
        router.curve_secret = pub.curve_secret = ld_curve_secret (fake->curve);
        router.curve_public = pub.curve_public = ld_curve_public (fake->curve);
    }
    fake->router = ld_socket_new (&router, err, sizeof err);
    fake->pub = ld_socket_new (&pub, err, sizeof err);
    assert_non_null (fake->router);
    assert_non_null (fake->pub);
    snprintf (fake->listen, sizeof fake->listen, "%s", zsock_endpoint (fake->router));
}

static void
s_fake_stop (s_fake_t *fake)
{
    zsock_destroy (&fake->router);
    zsock_destroy (&fake->pub);
}

static void
s_fake_answer (s_fake_t *fake, zframe_t *routing_id, ld_request_t *request)
{
    ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
    Liandong__Sync__Endpoint live = LIANDONG__SYNC__ENDPOINT__INIT;
    live.name = "live";
    live.address = (char *) zsock_endpoint (fake->pub);
    Liandong__Sync__Endpoint *endpoints[] = {&live};
    Liandong__Sync__Welcome welcome = LIANDONG__SYNC__WELCOME__INIT;
    Liandong__Sync__Stored stored = LIANDONG__SYNC__STORED__INIT;
    Liandong__Sync__Stored *stored_list[] = {&stored};
    Liandong__Sync__Events events = LIANDONG__SYNC__EVENTS__INIT;
    if (request->kind_case == LIANDONG__SYNC__REQUEST__KIND_HELLO) {
        welcome.version = LD_SYNC_VERSION;
        welcome.broker_key = (ProtobufCBinaryData){LD_KEY_BYTES, fake->key};
        welcome.n_endpoints = 1;
        welcome.endpoints = endpoints;
        welcome.last_seq = 1;
        reply.kind_case = LIANDONG__SYNC__REPLY__KIND_WELCOME;
        reply.welcome = &welcome;
    }
    else if (request->kind_case == LIANDONG__SYNC__REQUEST__KIND_CATCHUP) {
        stored.store_seq = 1;
        stored.envelope = (ProtobufCBinaryData){fake->size, (uint8_t *) fake->envelope};
        stored.invalid = (char *) fake->invalid;
        events.cursor = 1;
        events.caught_up = true;
        events.n_events = request->catchup->after < 1 ? 1 : 0;
        events.events = stored_list;
        reply.kind_case = LIANDONG__SYNC__REPLY__KIND_EVENTS;
        reply.events = &events;
    }
    else
        return;
    assert_int_equal (ld_reply_send (fake->router, routing_id, &reply), 0);
}

//  Serves the tail until it exits; returns its exit code.
static int
s_fake_serve (s_fake_t *fake, s_tail_t *tail, int timeout_ms)
{
    int64_t deadline = ld_proc_now_ms () + timeout_ms;
    //  until its output ends (reaping it first would close the pipe)
    while (s_tail_read (tail, 0) && ld_proc_now_ms () < deadline) {
        zmq_pollitem_t item = {zsock_resolve (fake->router), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 20) <= 0)
            continue;
        zmsg_t *msg = zmsg_recv (fake->router);
        assert_non_null (msg);
        zframe_t *routing_id = zmsg_first (msg);
        zframe_t *frame = zmsg_next (msg);
        ld_request_t *request = NULL;
        if (fake->answer && frame
            && ld_request_decode (zframe_data (frame), zframe_size (frame), &request, NULL, 0)
                   == LD_OK)
            s_fake_answer (fake, routing_id, request);
        ld_request_free (&request);
        zmsg_destroy (&msg);
    }
    return s_tail_finish (tail, S_WAIT_MS);
}

#define S_EXTRA_MAX 8

//  Runs `tail --from 0 --count 1 --timeout 500 [extra...]` (extra ends with
//  NULL) against the fake broker; returns the exit code and what it
//  printed in *tail (--json is parsed; give it in extra).
static int
s_tail_against (s_fake_t *fake, const char *const *extra, s_tail_t *tail)
{
    s_fake_start (fake);
    const char *argv[8 + S_EXTRA_MAX + 1] = {"tail",    "--broker", fake->listen, "--from", "0",
                                             "--count", "1",        "--timeout",  "500"};
    size_t argc = 9;
    for (size_t i = 0; extra && extra[i]; i++) {
        assert_true (i < S_EXTRA_MAX);
        argv[argc++] = extra[i];
    }
    argv[argc] = NULL;
    s_tail_start (tail, argv);
    int rc = s_fake_serve (fake, tail, S_WAIT_MS);
    s_fake_stop (fake);
    return rc;
}

//  Runs `tail --from 0 --count 1 --json [extra]` against a fake broker
//  serving envelope; returns the exit code and what it printed in *tail.
static int
s_tail_against_fake (const uint8_t *envelope, size_t size, bool answer, const char *extra,
                     s_tail_t *tail)
{
    s_fake_t fake = {.envelope = envelope, .size = size, .answer = answer};
    const char *args[] = {"--json", extra, NULL};
    return s_tail_against (&fake, args, tail);
}

static void
test_tail_refuses_an_event_that_fails_verification (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *event = ld_client_author_next (fx->authors[0], "note/fake/", "签名");
    assert_non_null (event);
    size_t size;
    const uint8_t *envelope = ld_event_envelope (event, &size);
    uint8_t *tampered = malloc (size);
    assert_non_null (tampered);
    memcpy (tampered, envelope, size);
    tampered[size - 1] ^= 0x01; //  the signature is the envelope's last field
    char id[LD_ID_TEXT_BYTES];
    ld_id_to_text (ld_event_id (event), id);

    //  control: the intact event is printed
    s_tail_t *tail = &fx->tails[0];
    assert_int_equal (s_tail_against_fake (envelope, size, true, NULL, tail), 0);
    assert_int_equal (tail->count, 1);
    assert_string_equal (tail->lines[0].id, id);
    s_tail_free (tail);
    //  the tampered one is refused, and nothing is printed
    assert_int_equal (s_tail_against_fake (tampered, size, true, NULL, tail), 65);
    assert_int_equal (tail->count, 0);
    s_tail_free (tail);
    //  control: trusting the broker, the same bytes are printed, so the
    //  refusal above was the signature check's
    assert_int_equal (s_tail_against_fake (tampered, size, true, "--trust-broker", tail), 0);
    assert_int_equal (tail->count, 1);
    s_tail_free (tail);
    free (tampered);
    ld_event_destroy (&event);
}

static void
test_tail_gives_up_when_the_broker_never_answers (void **state)
{
    fixture_t *fx = *state;
    s_tail_t *tail = &fx->tails[0];
    int64_t start = ld_proc_now_ms ();
    assert_int_equal (s_tail_against_fake (NULL, 0, false, NULL, tail), 69);
    assert_true (ld_proc_now_ms () - start < 5000); //  --timeout 500
    assert_int_equal (tail->count, 0);
}

static void
test_tail_shows_the_brokers_invalid_mark_and_goes_on (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *event = ld_client_author_next (fx->authors[0], "note/fake/", "撤销之后");
    assert_non_null (event);
    size_t size;
    const uint8_t *envelope = ld_event_envelope (event, &size);
    s_tail_t *tail = &fx->tails[0];
    const char *json[] = {"--json", NULL};
    const char *table[] = {NULL};

    //  control: no mark, none shown
    s_fake_t fake = {.envelope = envelope, .size = size, .answer = true};
    assert_int_equal (s_tail_against (&fake, json, tail), 0);
    assert_int_equal (tail->count, 1);
    assert_string_equal (tail->lines[0].invalid, "");
    s_tail_free (tail);
    //  marked: printed with the mark, and the exit code is unchanged
    fake = (s_fake_t){.envelope = envelope, .size = size, .answer = true, .invalid = "revoked"};
    assert_int_equal (s_tail_against (&fake, json, tail), 0);
    assert_int_equal (tail->count, 1);
    assert_string_equal (tail->lines[0].invalid, "revoked");
    s_tail_free (tail);
    assert_int_equal (s_tail_against (&fake, table, tail), 0);
    assert_non_null (tail->pending);
    assert_non_null (strstr ((const char *) tail->pending, "[invalid: revoked] 撤销之后"));
    s_tail_free (tail);
    ld_event_destroy (&event);
}

static void
test_tail_speaks_curvezmq_to_the_pinned_broker_only (void **state)
{
    fixture_t *fx = *state;
    ld_event_t *event = ld_client_author_next (fx->authors[0], "note/curve/", "加密");
    assert_non_null (event);
    size_t size;
    const uint8_t *envelope = ld_event_envelope (event, &size);
    //  the broker is author 3, the tail author 2, a stranger author 1
    ld_identity_t *broker = fx->authors[3]->identity;
    char tail_dir[PATH_MAX + 16], secret[PATH_MAX + 48], broker_key[LD_KEY_TEXT_BYTES],
        other_key[LD_KEY_TEXT_BYTES];
    snprintf (tail_dir, sizeof tail_dir, "%s/tail", fx->dir);
    snprintf (secret, sizeof secret, "%s/%s", tail_dir, LD_IDENTITY_SECRET);
    assert_int_equal (ld_identity_save (fx->authors[2]->identity, tail_dir, false, NULL, 0), LD_OK);
    ld_key_to_text (ld_identity_public_key (broker), broker_key);
    ld_key_to_text (ld_identity_public_key (fx->authors[1]->identity), other_key);
    s_fake_t fake = {.envelope = envelope, .size = size, .answer = true};
    fake.curve = ld_curve_new (broker);
    assert_non_null (fake.curve);
    memcpy (fake.key, ld_identity_public_key (broker), LD_KEY_BYTES);

    //  pinned to the broker's key: the handshake succeeds and the event comes
    s_tail_t *tail = &fx->tails[0];
    const char *pinned[] = {"--json", "--broker-key", broker_key, "--identity", secret, NULL};
    assert_int_equal (s_tail_against (&fake, pinned, tail), 0);
    assert_int_equal (tail->count, 1);
    s_tail_free (tail);

    //  a plain tail, or one pinned to another key, never completes the
    //  handshake: the broker seems silent, and the error says why it may be
    s_fake_start (&fake);
    char err[2048];
    const char *plain[] = {"tail", "--broker", fake.listen, "--timeout", "300", NULL};
    const char *wrong[] = {"tail",         "--broker", fake.listen,  "--timeout", "300",
                           "--broker-key", other_key,  "--identity", secret,      NULL};
    assert_int_equal (ld_test_run (plain, NULL, 0, err, sizeof err), 69);
    assert_non_null (strstr (err, "needs --broker-key and a certified --identity"));
    assert_int_equal (ld_test_run (wrong, NULL, 0, err, sizeof err), 69);
    assert_non_null (strstr (err, "is --broker-key the broker's key"));
    assert_null (strstr (err, "ed25519-secret:")); //  no secret in what it says
    s_fake_stop (&fake);
    ld_curve_destroy (&fake.curve);
    ld_event_destroy (&event);
}

static void
test_tail_refuses_bad_usage (void **state)
{
    fixture_t *fx = *state;
    const char *both[] = {"tail", "--broker", fx->listen, "--json", "--raw", NULL};
    const char *no_broker[] = {"tail", "--from", "0", NULL};
    const char *bad_from[] = {"tail", "--broker", fx->listen, "--from", "-1", NULL};
    const char *bad_count[] = {"tail", "--broker", fx->listen, "--count", "0", NULL};
    const char *bad_broker[] = {"tail", "--broker", "tcp://a:1,tcp://b:2", NULL};
    //  CurveZMQ needs both halves; authority needs its roots
    const char *key_alone[] = {"tail", "--broker", fx->listen, "--broker-key", "ed25519:x", NULL};
    const char *identity_alone[] = {"tail", "--broker", fx->listen, "--identity", "x.secret", NULL};
    const char *verify_alone[] = {"tail", "--broker", fx->listen, "--verify-authority", NULL};
    assert_int_equal (ld_test_run (both, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (no_broker, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (bad_from, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (bad_count, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (bad_broker, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (key_alone, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (identity_alone, NULL, 0, NULL, 0), 64);
    assert_int_equal (ld_test_run (verify_alone, NULL, 0, NULL, 0), 64);
}

#else //  LD_TAIL_FAULT

//  VmRSS of a process in kB, or 0 if it cannot be read.
static long
s_rss_kb (pid_t pid)
{
    char path[64], status[8192];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    if (ld_test_read_file (path, status, sizeof status) < 0)
        return 0;
    const char *line = strstr (status, "VmRSS:");
    return line ? strtol (line + 6, NULL, 10) : 0;
}

//  The state letter of a process (R, S, T for stopped, ...).
static char
s_proc_state (pid_t pid)
{
    char path[64], status[8192];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    if (ld_test_read_file (path, status, sizeof status) < 0)
        return '?';
    const char *line = strstr (status, "State:");
    return line ? line[strspn (line + 6, " \t") + 6] : '?';
}

static void
test_tail_stopped_while_100000_events_pass_recovers_every_event (void **state)
{
    fixture_t *fx = *state;
    s_tail_t *tail = &fx->tails[0];
    const char *argv[] = {"tail", "--broker", fx->listen, "--from", "0", "--json", NULL};
    s_tail_start (tail, argv);
    //  the tail follows: it printed the first batch and its receipt
    s_publish (fx, 0, "note/stop/", 1, S_BATCH);
    assert_int_equal (ld_client_hello (fx->client, S_WAIT_MS), 0);
    s_tail_wait_store_seq (tail, fx->client->last_seq, S_CATCHUP_MS);
    long rss_start = s_rss_kb (fx->broker.pid);

    assert_int_equal (kill (tail->proc.pid, SIGSTOP), 0);
    int64_t stopped_at = ld_proc_now_ms ();
    while (s_proc_state (tail->proc.pid) != 'T' && ld_proc_now_ms () - stopped_at < S_WAIT_MS)
        poll (NULL, 0, 5);
    assert_int_equal (s_proc_state (tail->proc.pid), 'T');
    //  what it wrote before it stopped
    s_tail_drain (tail);
    size_t printed_before = tail->count;
    long rss_max = rss_start;
    for (int b = 0; b < 100; b++) {
        s_publish (fx, b % S_AUTHORS_MAX, "note/stop/", 1, S_BATCH);
        long rss = s_rss_kb (fx->broker.pid);
        if (rss > rss_max)
            rss_max = rss;
    }
    int64_t stopped_ms = ld_proc_now_ms () - stopped_at;
    //  control: while stopped it printed nothing, so every event after the
    //  first batch came after SIGCONT, through whatever live dropped
    s_tail_drain (tail);
    assert_int_equal (tail->count, printed_before);
    assert_int_equal (kill (tail->proc.pid, SIGCONT), 0);
    int64_t resumed_at = ld_proc_now_ms ();

    assert_int_equal (ld_client_hello (fx->client, S_WAIT_MS), 0);
    s_tail_wait_store_seq (tail, fx->client->last_seq, S_CATCHUP_MS);
    int64_t recovered_ms = ld_proc_now_ms () - resumed_at;
    long rss_end = s_rss_kb (fx->broker.pid);
    assert_int_equal (s_tail_stop (tail), 0);

    s_store_t store;
    s_store_read (fx, "", &store);
    s_assert_matches_store (tail, &store, 0);
    s_assert_ordered_once (fx, tail);
    print_message ("tail stopped %" PRId64 " ms while 100000 events passed; recovered %zu events "
                   "in %" PRId64 " ms after SIGCONT; broker VmRSS: %ld kB before, %ld kB max, "
                   "%ld kB after\n",
                   stopped_ms, store.count, recovered_ms, rss_start, rss_max, rss_end);
    s_store_free (&store);
#if !S_SANITIZED
    assert_true (rss_max < S_RSS_LIMIT_KB);
#endif
}

static void
test_tail_survives_its_output_blocked_past_the_heartbeat_timeout (void **state)
{
    fixture_t *fx = *state;
    s_tail_t *tail = &fx->tails[0];
    const char *argv[] = {"tail", "--broker", fx->listen, "--from", "0", "--raw", NULL};
    s_tail_start (tail, argv);
    //  Nobody reads its stdout: it blocks on a full pipe while the events
    //  fill its live queue, and the broker drops it after the heartbeat
    //  timeout. libzmq 4.3.4 aborted here when the live socket had
    //  heartbeats (see ld_socket.h); the wait is the timeout under test.
    for (int b = 0; b < 20; b++)
        s_publish (fx, b % S_AUTHORS_MAX, "note/blocked/", 1, S_BATCH);
    poll (NULL, 0, LD_SOCKET_HEARTBEAT_TIMEOUT_MS + 2000);
    //  control: its output was blocked (the pipe is full)
    int queued = 0;
    assert_int_equal (ioctl (tail->proc.out, FIONREAD, &queued), 0);
    assert_true (queued >= 4096);
    assert_int_equal (s_proc_state (tail->proc.pid) == 'Z', false);

    assert_int_equal (ld_client_hello (fx->client, S_WAIT_MS), 0);
    s_store_t store;
    s_store_read (fx, "", &store);
    s_tail_wait_count (tail, store.count, S_CATCHUP_MS);
    assert_int_equal (s_tail_stop (tail), 0);
    s_assert_matches_store (tail, &store, 0);
    s_assert_ordered_once (fx, tail);
    s_store_free (&store);
}

//  A listening TCP socket on endpoint's port ("tcp://127.0.0.1:PORT") that
//  never accepts: a broker that hangs. close() frees the port at once.
static int
s_squat (const char *endpoint)
{
    const char *colon = strrchr (endpoint, ':');
    assert_non_null (colon);
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true (fd >= 0);
    int on = 1;
    assert_int_equal (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons ((uint16_t) atoi (colon + 1)),
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    if (bind (fd, (struct sockaddr *) &address, sizeof address) != 0 || listen (fd, 16) != 0)
        fail_msg ("cannot hold '%s': %s", endpoint, strerror (errno));
    return fd;
}

static void
test_tail_follows_the_broker_across_a_kill_and_restart (void **state)
{
    fixture_t *fx = *state;
    //  A broker on fixed ports below the ephemeral range, so that no other
    //  program takes them while it is down (a port from "*" can be).
    char data[PATH_MAX + 16], live[LD_CLIENT_ENDPOINT_MAX], new_live[LD_CLIENT_ENDPOINT_MAX];
    snprintf (data, sizeof data, "%s/broker", fx->dir);
    ld_client_destroy (&fx->client);
    assert_int_equal (ld_proc_stop (&fx->broker), 0);
    assert_int_equal (ld_proc_free_endpoint (fx->listen, sizeof fx->listen), 0);
    assert_int_equal (ld_proc_free_endpoint (live, sizeof live), 0);
    const char *first_argv[] = {"broker", "--data", data,     "--listen", fx->listen,
                                "--live", live,     "--open", NULL};
    assert_int_equal (ld_proc_start (&fx->broker, first_argv, true, S_WAIT_MS), 0);
    fx->client = ld_client_new (fx->listen);
    assert_non_null (fx->client);

    s_tail_t *tail = &fx->tails[0];
    const char *argv[] = {"tail",   "--broker",  fx->listen, "--from", "0",
                          "--json", "--timeout", "1000",     NULL};
    s_tail_start (tail, argv);
    s_publish (fx, 0, "note/restart/", 3, S_BATCH);
    assert_int_equal (ld_client_hello (fx->client, S_WAIT_MS), 0);
    s_tail_wait_store_seq (tail, fx->client->last_seq, S_CATCHUP_MS);

    //  A crash. Its listen port is held by a socket that accepts nothing (a
    //  hung broker) past the tail's probe (1 s) and its --timeout: the tail
    //  must give up its connection and start over. It prints nothing
    //  meanwhile.
    ld_proc_kill (&fx->broker);
    int squatter = s_squat (fx->listen);
    size_t printed = tail->count;
    s_tail_read (tail, 2500);
    assert_int_equal (tail->count, printed);
    //  Back on the same listen endpoint and store, with a new live
    //  endpoint, which the tail can only learn from a new Welcome.
    close (squatter);
    assert_int_equal (ld_proc_free_endpoint (new_live, sizeof new_live), 0);
    assert_string_not_equal (new_live, live);
    const char *again_argv[] = {"broker", "--data", data,     "--listen", fx->listen,
                                "--live", new_live, "--open", NULL};
    assert_int_equal (ld_proc_start (&fx->broker, again_argv, true, S_WAIT_MS), 0);
    ld_client_destroy (&fx->client);
    fx->client = ld_client_new (fx->listen);
    assert_non_null (fx->client);
    s_publish (fx, 0, "note/restart/", 3, S_BATCH);
    assert_int_equal (ld_client_hello (fx->client, S_WAIT_MS), 0);
    s_tail_wait_store_seq (tail, fx->client->last_seq, S_CATCHUP_MS);
    assert_int_equal (s_tail_stop (tail), 0);

    s_store_t store;
    s_store_read (fx, "", &store);
    s_assert_matches_store (tail, &store, 0);
    s_assert_ordered_once (fx, tail);
    assert_int_equal (fx->authors[0]->next_seq, 6 * S_BATCH + 1);
    s_store_free (&store);
}

#endif

int
main (void)
{
    setlocale (LC_ALL, "C.UTF-8");
    if (ld_crypto_init () != 0)
        return 1;
    const struct CMUnitTest tests[] = {
#ifndef LD_TAIL_FAULT
        cmocka_unit_test_setup_teardown (test_tail_from_zero_prints_every_event_once_verified,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_tail_started_mid_stream_misses_nothing_and_repeats_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown (test_tail_with_a_prefix_prints_exactly_the_matching_events,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_tail_prints_an_aligned_table_of_chinese_notes, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_tail_raw_output_reads_back_with_inspect, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_tail_refuses_an_event_that_fails_verification, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_tail_gives_up_when_the_broker_never_answers, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_tail_shows_the_brokers_invalid_mark_and_goes_on,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_tail_speaks_curvezmq_to_the_pinned_broker_only, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_tail_refuses_bad_usage, setup, teardown),
#else
        cmocka_unit_test_setup_teardown (
            test_tail_stopped_while_100000_events_pass_recovers_every_event, setup, teardown),
        cmocka_unit_test_setup_teardown (test_tail_follows_the_broker_across_a_kill_and_restart,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (
            test_tail_survives_its_output_blocked_past_the_heartbeat_timeout, setup, teardown),
#endif
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
