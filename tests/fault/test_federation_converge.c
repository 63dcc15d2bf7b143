/*  test_federation_converge.c -- five brokers converge whatever happens to
    their links and to themselves.

        D (district, wudang/)
        ├── S1 (wudang/s1/) ── C1 (wudang/s1/c1/)
        └── S2 (wudang/s2/) ── C2 (wudang/s2/c2/)
        plus S1 -> S2

    Every broker replicates everything (--replicate ""); each link runs
    through a relay (tests/ld_fed.h). One publisher per broker (a raw
    client signing the feed of a supervisor, a street or a community) hands
    in events throughout, mostly at its home broker, sometimes at another;
    it keeps every event it signed and resends the same bytes, from the
    head the broker names, until acknowledged, so no seq is ever signed
    twice. Meanwhile a seeded schedule cuts links (relay killed, or stopped:
    a silent partition), repairs them, kills brokers with SIGKILL and
    restarts them on their data. Then everything is repaired and, within
    30 s, all five must report the same heads and events digests; stopped,
    their stores must hold the same feeds (a fingerprint over every
    author, seq, id and mark), every event any broker acknowledged, no
    (author, seq) or id twice, and whole feeds.

    The seed is printed (LD_FED_SEED replays a run). The chaos lasts 45 s
    (15 s in the sanitizer build); with --slow (label slow) it lasts
    LD_FED_SOAK_S seconds, 300 by default.

    The first test is the control for the fault injection itself: a client
    through a relay reaches its broker, and does not once the relay is
    killed or stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>

#include "ld_client.h"
#include "ld_fed.h"
#include "ld_payload.h"

#ifdef LD_SANITIZE_BUILD
#define S_CHAOS_MS 15000
#else
#define S_CHAOS_MS 45000
#endif
#define S_SOAK_S_DEFAULT 300
#define S_CONVERGE_MS    30000
#define S_BROKERS        5
#define S_WINDOW         48   //  signed and not yet acknowledged, per publisher
#define S_BATCH_MAX      64   //  events per Publish
#define S_ACK_WAIT_MS    2000 //  a Publish without Ack this long is given up
#define S_SIGN_EVERY_MS  100  //  a publisher signs 1..3 events this often
#define S_TICK_MS        20
#define S_DOWN_MAX       2 //  brokers down at once

enum { D = LD_FED_D, S1 = LD_FED_S1, S2 = LD_FED_S2, C1 = LD_FED_C1, C2 = LD_FED_C2 };

//  Set once by main: the slow variant (--slow) soaks instead of 45 s.
static bool s_slow = false;

typedef struct {
    ld_client_author_t *author;
    char topic[64];
    int home;
    uint64_t base;       //  seqs up to base were published by the harness (certificates)
    ld_event_t **events; //  events[k] is seq base + 1 + k
    size_t count, capacity;
    uint64_t acked;            //  highest seq any broker acknowledged
    uint64_t known[S_BROKERS]; //  the head each broker last named
    ld_client_t *clients[S_BROKERS];
    bool in_flight;
    int target;
    uint64_t batch;
    int64_t sent_ms, next_sign_ms;
    size_t acks, resends;
} s_publisher_t;

typedef struct {
    ld_fed_t *fed;
    ld_fed_rng_t rng;
    s_publisher_t publishers[S_BROKERS];
    ld_client_author_t *super, *street1, *street2, *community1, *community2;
    char failure[512]; //  the first unexpected refusal or Ack
} s_world_t;

//  --------------------------------------------------------------------------
//  Publishers

static void
s_publisher_init (s_world_t *w, s_publisher_t *p, ld_client_author_t *author, const char *topic,
                  int home)
{
    memset (p, 0, sizeof *p);
    p->author = author;
    snprintf (p->topic, sizeof p->topic, "%s", topic);
    p->home = home;
    p->base = author->next_seq - 1;
    p->acked = p->base;
    for (int b = 0; b < S_BROKERS; b++) {
        p->known[b] = p->base; //  every broker got the certificates at the start
        p->clients[b] = ld_fed_client (w->fed, b, author->identity);
        assert_non_null (p->clients[b]);
    }
}

static void
s_publisher_close (s_publisher_t *p)
{
    for (int b = 0; b < S_BROKERS; b++)
        ld_client_destroy (&p->clients[b]);
    p->in_flight = false;
}

static void
s_publisher_free (s_publisher_t *p)
{
    s_publisher_close (p);
    for (size_t k = 0; k < p->count; k++)
        ld_event_destroy (&p->events[k]);
    free (p->events);
    p->events = NULL;
}

static void
s_sign (s_publisher_t *p, size_t n)
{
    for (size_t k = 0; k < n && p->count + p->base - p->acked < S_WINDOW; k++) {
        if (p->count == p->capacity) {
            p->capacity = p->capacity ? p->capacity * 2 : 256;
            p->events = realloc (p->events, p->capacity * sizeof *p->events);
            assert_non_null (p->events);
        }
        char text[64];
        snprintf (text, sizeof text, "第%" PRIu64 "条", p->author->next_seq);
        ld_event_t *event = ld_client_author_next (p->author, p->topic, text);
        assert_non_null (event);
        p->events[p->count++] = event;
    }
}

//  Sends the next batch to target: from the head it last named.
static void
s_send (s_publisher_t *p, int target)
{
    uint64_t from = p->known[target] + 1; //  a seq
    uint64_t last = p->base + p->count;
    if (from <= p->base || from > last)
        return;
    size_t n = (size_t) (last - from + 1);
    if (n > S_BATCH_MAX)
        n = S_BATCH_MAX;
    ProtobufCBinaryData envelopes[S_BATCH_MAX];
    for (size_t k = 0; k < n; k++) {
        size_t size;
        const uint8_t *bytes = ld_event_envelope (p->events[from - p->base - 1 + k], &size);
        envelopes[k].data = (uint8_t *) bytes;
        envelopes[k].len = size;
    }
    ld_client_t *client = p->clients[target];
    Liandong__Sync__Publish publish = LIANDONG__SYNC__PUBLISH__INIT;
    publish.batch = client->next_batch++;
    publish.n_events = n;
    publish.events = envelopes;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_PUBLISH;
    request.publish = &publish;
    if (ld_client_send (client, &request) != 0)
        return;
    if (from <= p->acked)
        p->resends++;
    p->in_flight = true;
    p->target = target;
    p->batch = publish.batch;
    p->sent_ms = ld_client_now_ms ();
}

//  An Ack for p's batch at target: heads and refusals.
static void
s_on_ack (s_world_t *w, s_publisher_t *p, const Liandong__Sync__Ack *ack)
{
    const uint8_t *me = ld_identity_public_key (p->author->identity);
    for (size_t h = 0; h < ack->n_heads; h++) {
        const Liandong__Sync__Head *head = ack->heads[h];
        if (head->author.len != LD_KEY_BYTES || memcmp (head->author.data, me, LD_KEY_BYTES) != 0)
            continue;
        if (head->seq > p->base + p->count || head->seq < p->base) {
            snprintf (w->failure, sizeof w->failure,
                      "%s acknowledged seq %" PRIu64 " of a feed signed up to %" PRIu64,
                      ld_fed_broker_name (w->fed, p->target), head->seq, p->base + p->count);
            continue;
        }
        if (head->seq > p->base && head->has_head_id && head->head_id.len == LD_ID_BYTES
            && memcmp (head->head_id.data, ld_event_id (p->events[head->seq - p->base - 1]),
                       LD_ID_BYTES)
                   != 0)
            snprintf (w->failure, sizeof w->failure, "%s names another head at seq %" PRIu64,
                      ld_fed_broker_name (w->fed, p->target), head->seq);
        if (head->has_frozen && head->frozen)
            snprintf (w->failure, sizeof w->failure, "%s froze an honest author",
                      ld_fed_broker_name (w->fed, p->target));
        p->known[p->target] = head->seq;
        if (head->seq > p->acked)
            p->acked = head->seq;
    }
    for (size_t r = 0; r < ack->n_refusals; r++) {
        const Liandong__Sync__Refusal *refusal = ack->refusals[r];
        if (strcmp (refusal->status, "gap") == 0 && refusal->has_needed_seq) {
            p->known[p->target] = refusal->needed_seq - 1;
            break;
        }
        if (refusal->has_retry && refusal->retry)
            continue;
        snprintf (w->failure, sizeof w->failure, "%s refused seq %" PRIu64 ": %s: %s",
                  ld_fed_broker_name (w->fed, p->target), p->known[p->target] + 1 + refusal->index,
                  refusal->status, refusal->reason);
    }
    p->acks++;
}

//  Reads every reply that has arrived within ms, matching Acks to batches.
static void
s_poll (s_world_t *w, int ms)
{
    zmq_pollitem_t items[S_BROKERS * S_BROKERS];
    s_publisher_t *owner[S_BROKERS * S_BROKERS];
    int broker_of[S_BROKERS * S_BROKERS];
    int n = 0;
    for (int i = 0; i < S_BROKERS; i++)
        for (int b = 0; b < S_BROKERS; b++) {
            s_publisher_t *p = &w->publishers[i];
            if (!p->clients[b])
                continue;
            items[n] = (zmq_pollitem_t){zsock_resolve (p->clients[b]->dealer), 0, ZMQ_POLLIN, 0};
            owner[n] = p;
            broker_of[n++] = b;
        }
    if (zmq_poll (items, n, ms) <= 0)
        return;
    for (int k = 0; k < n; k++) {
        if (!(items[k].revents & ZMQ_POLLIN))
            continue;
        s_publisher_t *p = owner[k];
        char err[256];
        ld_reply_t *reply = ld_reply_recv (p->clients[broker_of[k]]->dealer, err, sizeof err);
        if (!reply)
            continue;
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ACK && p->in_flight
            && broker_of[k] == p->target && reply->ack->batch == p->batch) {
            s_on_ack (w, p, reply->ack);
            p->in_flight = false;
        }
        else if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR)
            fprintf (stderr, "publisher at %s: error %s: %s\n",
                     ld_fed_broker_name (w->fed, broker_of[k]), reply->error->status,
                     reply->error->reason);
        ld_reply_free (&reply);
    }
}

//  One round of every publisher: give up a lost batch, sign, send.
static void
s_publish_round (s_world_t *w, bool sign)
{
    int64_t now = ld_client_now_ms ();
    for (int i = 0; i < S_BROKERS; i++) {
        s_publisher_t *p = &w->publishers[i];
        if (p->in_flight && now - p->sent_ms > S_ACK_WAIT_MS)
            p->in_flight = false; //  its broker died or its link is cut: resend
        if (sign && now >= p->next_sign_ms) {
            s_sign (p, 1 + ld_fed_rng_below (&w->rng, 3));
            p->next_sign_ms = now + S_SIGN_EVERY_MS;
        }
        if (p->in_flight)
            continue;
        int target = p->home;
        if (ld_fed_rng_below (&w->rng, 10) < 3)
            target = (int) ld_fed_rng_below (&w->rng, S_BROKERS);
        if (!ld_fed_broker_running (w->fed, target))
            continue;
        s_send (p, target);
    }
}

//  --------------------------------------------------------------------------
//  The federation

static void
s_world_start (s_world_t *w)
{
    w->fed = ld_fed_new ("wudang/");
    assert_non_null (w->fed);
    ld_fed_t *fed = w->fed;
    assert_int_equal (ld_fed_add_five (fed, ""), 0);
    w->super = ld_client_author_new (0x11);
    w->street1 = ld_client_author_new (0x12);
    w->street2 = ld_client_author_new (0x13);
    w->community1 = ld_client_author_new (0x14);
    w->community2 = ld_client_author_new (0x15);
    assert_int_equal (ld_fed_certify (fed, NULL, ld_identity_public_key (w->super->identity),
                                      "supervisor", "wudang/", "乌当区督办"),
                      0);
    assert_int_equal (ld_fed_certify (fed, NULL, ld_identity_public_key (w->street1->identity),
                                      "street", "wudang/s1/", "一街道"),
                      0);
    assert_int_equal (ld_fed_certify (fed, NULL, ld_identity_public_key (w->street2->identity),
                                      "street", "wudang/s2/", "二街道"),
                      0);
    assert_int_equal (ld_fed_certify (fed, w->street1,
                                      ld_identity_public_key (w->community1->identity), "community",
                                      "wudang/s1/c1/", "一社区"),
                      0);
    assert_int_equal (ld_fed_certify (fed, w->street2,
                                      ld_identity_public_key (w->community2->identity), "community",
                                      "wudang/s2/c2/", "二社区"),
                      0);
    assert_int_equal (ld_fed_start (fed), 0);
    s_publisher_init (w, &w->publishers[D], w->super, "note/wudang/", D);
    s_publisher_init (w, &w->publishers[S1], w->street1, "note/wudang/s1/", S1);
    s_publisher_init (w, &w->publishers[S2], w->street2, "note/wudang/s2/", S2);
    s_publisher_init (w, &w->publishers[C1], w->community1, "note/wudang/s1/c1/", C1);
    s_publisher_init (w, &w->publishers[C2], w->community2, "note/wudang/s2/c2/", C2);
}

static int
setup (void **state)
{
    s_world_t *w = calloc (1, sizeof *w);
    assert_non_null (w);
    *state = w;
    return 0;
}

static int
teardown (void **state)
{
    s_world_t *w = *state;
    for (int i = 0; i < S_BROKERS; i++)
        s_publisher_free (&w->publishers[i]);
    ld_fed_destroy (&w->fed);
    ld_client_author_destroy (&w->super);
    ld_client_author_destroy (&w->street1);
    ld_client_author_destroy (&w->street2);
    ld_client_author_destroy (&w->community1);
    ld_client_author_destroy (&w->community2);
    free (w);
    return 0;
}

//  One random fault or repair, among those that apply now: cut a link
//  (kill or stop its relay), repair one, kill a broker (at most S_DOWN_MAX
//  down at once), restart one.
static void
s_chaos_step (s_world_t *w, size_t *faults)
{
    ld_fed_t *fed = w->fed;
    int links = (int) ld_fed_link_count (fed);
    int up[LD_FED_LINKS_MAX], cut[LD_FED_LINKS_MAX], running[S_BROKERS], dead[S_BROKERS];
    int n_up = 0, n_cut = 0, n_running = 0, n_dead = 0;
    for (int l = 0; l < links; l++) {
        if (ld_fed_link_up (fed, l))
            up[n_up++] = l;
        else
            cut[n_cut++] = l;
    }
    for (int b = 0; b < S_BROKERS; b++) {
        if (ld_fed_broker_running (fed, b))
            running[n_running++] = b;
        else
            dead[n_dead++] = b;
    }
    //  weights: cut 4, repair 2, kill 2, restart 2; a kind that does not
    //  apply now gives its turn to the next
    uint32_t roll = ld_fed_rng_below (&w->rng, 10);
    int kind = roll < 4 ? 0 : roll < 6 ? 1 : roll < 8 ? 2 : 3;
    for (int tries = 0; tries < 4; tries++, kind = (kind + 1) % 4) {
        if (kind == 0 && n_up > 0) {
            int l = up[ld_fed_rng_below (&w->rng, (uint32_t) n_up)];
            bool stop = ld_fed_rng_below (&w->rng, 2) == 0;
            fprintf (stderr, "chaos: link %d %s\n", l, stop ? "stopped" : "killed");
            assert_int_equal (ld_fed_link_cut (fed, l, stop ? LD_FED_CUT_STOP : LD_FED_CUT_KILL),
                              0);
            (*faults)++;
            return;
        }
        if (kind == 1 && n_cut > 0) {
            int l = cut[ld_fed_rng_below (&w->rng, (uint32_t) n_cut)];
            fprintf (stderr, "chaos: link %d repaired\n", l);
            assert_int_equal (ld_fed_link_repair (fed, l), 0);
            return;
        }
        if (kind == 2 && n_running > 0 && n_dead < S_DOWN_MAX) {
            int b = running[ld_fed_rng_below (&w->rng, (uint32_t) n_running)];
            fprintf (stderr, "chaos: broker %s killed\n", ld_fed_broker_name (fed, b));
            ld_fed_broker_kill (fed, b);
            (*faults)++;
            return;
        }
        if (kind == 3 && n_dead > 0) {
            int b = dead[ld_fed_rng_below (&w->rng, (uint32_t) n_dead)];
            fprintf (stderr, "chaos: broker %s restarted\n", ld_fed_broker_name (fed, b));
            assert_int_equal (ld_fed_broker_start (fed, b), 0);
            return;
        }
    }
}

//  Whether a new client through endpoint gets broker b's Welcome within ms.
static bool
s_reaches (ld_fed_t *fed, const char *endpoint, int b, int ms)
{
    ld_client_t *client =
        ld_client_new_curve (endpoint, ld_fed_root (fed), ld_fed_broker_key (fed, b));
    assert_non_null (client);
    bool reached = ld_client_hello (client, ms) == 0;
    ld_client_destroy (&client);
    return reached;
}

//  The control of the fault injection: a relay carries a connection to
//  its broker; killed or stopped, it carries nothing; repaired, it does
//  again, on the same port. (A client stands for the follower: the
//  broker at the end of a link sees only bytes.)
static void
test_a_relay_carries_a_link_until_it_is_cut (void **state)
{
    s_world_t *w = *state;
    w->fed = ld_fed_new ("wudang/");
    ld_fed_t *fed = w->fed;
    assert_non_null (fed);
    int a = ld_fed_add_broker (fed, "A", "wudang/", NULL);
    int b = ld_fed_add_broker (fed, "B", "wudang/", NULL);
    assert_true (a >= 0 && b >= 0);
    int link = ld_fed_add_link (fed, a, b);
    assert_true (link >= 0);
    assert_int_equal (ld_fed_broker_start (fed, b), 0);
    assert_int_equal (ld_fed_trust_publish (fed, b), 0);
    assert_int_equal (ld_fed_link_repair (fed, link), 0);
    const char *relay = ld_fed_link_endpoint (fed, link);
    assert_true (s_reaches (fed, relay, b, LD_FED_TIMEOUT));

    //  a connection open through the relay while it is stopped: its
    //  request waits, and is answered once the relay continues
    ld_client_t *open = ld_client_new_curve (relay, ld_fed_root (fed), ld_fed_broker_key (fed, b));
    assert_int_equal (ld_client_hello (open, LD_FED_TIMEOUT), 0);
    assert_int_equal (ld_fed_link_cut (fed, link, LD_FED_CUT_STOP), 0);
    assert_false (ld_fed_link_up (fed, link));
    assert_int_equal (ld_client_hello (open, 1000), -1);
    assert_false (s_reaches (fed, relay, b, 1000));
    assert_int_equal (ld_fed_link_repair (fed, link), 0);
    assert_int_equal (ld_client_hello (open, LD_FED_TIMEOUT), 0);
    ld_client_destroy (&open);

    //  killed: nothing reaches the broker; a new relay on the port heals
    assert_int_equal (ld_fed_link_cut (fed, link, LD_FED_CUT_KILL), 0);
    assert_false (s_reaches (fed, relay, b, 1000));
    assert_true (s_reaches (fed, ld_fed_broker_endpoint (fed, b), b, LD_FED_TIMEOUT));
    assert_int_equal (ld_fed_link_repair (fed, link), 0);
    assert_true (ld_fed_link_up (fed, link));
    assert_true (s_reaches (fed, relay, b, LD_FED_TIMEOUT));
    assert_int_equal (ld_fed_stop_all (fed), 0);
    ld_fed_passed (fed);
}

static void
test_five_brokers_converge_after_cuts_and_crashes (void **state)
{
    s_world_t *w = *state;
    uint64_t seed = ld_fed_seed ("LD_FED_SEED");
    ld_fed_rng_init (&w->rng, seed);
    int64_t chaos_ms = S_CHAOS_MS;
    if (s_slow) {
        const char *soak = getenv ("LD_FED_SOAK_S");
        chaos_ms = 1000LL * (soak ? atoll (soak) : S_SOAK_S_DEFAULT);
    }
    int64_t started = ld_client_now_ms ();
    s_world_start (w);
    fprintf (stderr, "federation up in %" PRId64 " ms; chaos for %" PRId64 " ms\n",
             ld_client_now_ms () - started, chaos_ms);

    //  chaos, while everyone publishes
    size_t faults = 0;
    int64_t end = ld_client_now_ms () + chaos_ms;
    int64_t next_fault = ld_client_now_ms () + 1000;
    while (ld_client_now_ms () < end) {
        s_publish_round (w, true);
        s_poll (w, S_TICK_MS);
        if (ld_client_now_ms () >= next_fault) {
            s_chaos_step (w, &faults);
            next_fault = ld_client_now_ms () + 500 + ld_fed_rng_below (&w->rng, 1500);
        }
        if (*w->failure)
            fail_msg ("%s", w->failure);
        assert_int_equal (ld_fed_check_alive (w->fed), 0);
    }
    //  the Acks still on their way count; then the publishers hang up
    int64_t drain = ld_client_now_ms () + S_ACK_WAIT_MS;
    while (ld_client_now_ms () < drain)
        s_poll (w, S_TICK_MS);
    for (int i = 0; i < S_BROKERS; i++)
        s_publisher_close (&w->publishers[i]);

    //  repair everything; all five must agree within 30 s
    int64_t repaired = ld_client_now_ms ();
    assert_int_equal (ld_fed_repair_all (w->fed), 0);
    for (int b = 0; b < S_BROKERS; b++)
        assert_int_equal (ld_fed_broker_start (w->fed, b), 0);
    int converged = ld_fed_converge (w->fed, S_CONVERGE_MS);
    int64_t took = ld_client_now_ms () - repaired;
    size_t signed_count = 0, acked = 0;
    for (int i = 0; i < S_BROKERS; i++) {
        signed_count += w->publishers[i].count;
        acked += (size_t) (w->publishers[i].acked - w->publishers[i].base);
    }
    fprintf (stderr,
             "%zu faults; %zu events signed, %zu acknowledged; converged %s in %" PRId64 " ms\n",
             faults, signed_count, acked, converged == 0 ? "" : "NOT", took);
    for (int b = 0; b < S_BROKERS; b++)
        ld_fed_status_print (w->fed, b);
    assert_int_equal (converged, 0);
    ld_fed_status_t status[S_BROKERS];
    for (int b = 0; b < S_BROKERS; b++) {
        assert_int_equal (ld_fed_status (w->fed, b, &status[b], LD_FED_TIMEOUT), 0);
        assert_int_equal (status[b].frozen, 0);
        assert_int_equal (status[b].invalid, 0);
    }
    assert_true (acked > 0);

    //  the stores, read with the brokers stopped
    assert_int_equal (ld_fed_stop_all (w->fed), 0);
    uint8_t reference[32];
    for (int b = 0; b < S_BROKERS; b++) {
        ld_fed_store_t *store = ld_fed_store_open (w->fed, b);
        assert_non_null (store);
        char err[512];
        if (ld_fed_store_check (store, err, sizeof err) != 0)
            fail_msg ("%s: %s", ld_fed_broker_name (w->fed, b), err);
        uint8_t fingerprint[32];
        uint64_t events, invalid, frozen;
        assert_int_equal (ld_fed_store_fingerprint (store, fingerprint, &events, &invalid, &frozen),
                          0);
        assert_int_equal (events, status[b].events);
        assert_int_equal (invalid, 0);
        assert_int_equal (frozen, 0);
        if (b == 0)
            memcpy (reference, fingerprint, 32);
        else if (memcmp (reference, fingerprint, 32) != 0)
            fail_msg ("%s's store differs from %s's", ld_fed_broker_name (w->fed, b),
                      ld_fed_broker_name (w->fed, 0));
        for (int i = 0; i < S_BROKERS; i++) {
            s_publisher_t *p = &w->publishers[i];
            const uint8_t *author = ld_identity_public_key (p->author->identity);
            for (uint64_t seq = p->base + 1; seq <= p->acked; seq++) {
                uint8_t id[LD_ID_BYTES];
                if (ld_fed_store_event (store, author, seq, id, NULL, 0) != 1)
                    fail_msg ("%s lacks seq %" PRIu64 " of publisher %d (acknowledged)",
                              ld_fed_broker_name (w->fed, b), seq, i);
                assert_memory_equal (id, ld_event_id (p->events[seq - p->base - 1]), LD_ID_BYTES);
            }
        }
        ld_fed_store_close (&store);
    }
    fprintf (stderr, "whole run %" PRId64 " ms\n", ld_client_now_ms () - started);
    ld_fed_passed (w->fed);
}

int
main (int argc, char **argv)
{
    if (ld_crypto_init () != 0)
        return 1;
    s_slow = argc > 1 && strcmp (argv[1], "--slow") == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_a_relay_carries_a_link_until_it_is_cut, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_five_brokers_converge_after_cuts_and_crashes, setup,
                                         teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
