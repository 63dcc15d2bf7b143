/*  ld_peer.c -- one --follow link. See ld_peer.h.

    Tasks of a round, per author, with m our head and p the peer's (seq,
    id, frozen), pulling only what we select and pushing only what the peer
    selects:
        p > m, m not frozen             pull the feed from m + 1
        m > p, p not frozen             push the feed from p + 1
        p == m > 0, ids differ          pull and push the event at p (fork)
        p frozen, m above p or equal
          and not frozen                pull the evidence (versions of p + 1)
        m frozen, p above m or equal
          and not frozen                push the evidence
    A chain mismatch while pulling or pushing a feed (the next event does not
    continue the other side's head) means the feeds forked at or below that
    head: the event at the head is exchanged, which proves it.
    Both stores freeze at the lowest fork proven anywhere: a frozen store
    still takes a conflicting event below its head (ld_store.h), so
    evidence from a lower fork moves its freeze down.
*/
#include "ld_peer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_chunk.h"
#include "ld_socket.h"

#define S_RECONNECT_MIN_MS 500
#define S_RECONNECT_MAX_MS 5000
#define S_RETRY_MS         1000 //  round after one that met a retry
#define S_RATE_WINDOW      8    //  seconds of samples for the rate
#define S_LIVE_DRAIN_MAX   1000

typedef enum {
    S_PULL_FEED,
    S_PULL_ONE,
    S_PULL_EVIDENCE,
    S_PUSH_FEED,
    S_PUSH_ONE,
    S_PUSH_EVIDENCE
} s_kind_t;

typedef struct {
    s_kind_t kind;
    uint8_t author[LD_KEY_BYTES];
    uint64_t from; //  FEED: next seq; ONE: the seq; EVIDENCE: the forked seq
    bool done;
} s_task_t;

typedef enum { S_DOWN, S_HELLO, S_READY } s_conn_t;
typedef enum { S_IDLE, S_HEADS, S_RUN } s_phase_t;

struct _ld_peer_t {
    char endpoint[256];
    uint8_t key[LD_KEY_BYTES];
    bool has_key;
    bool key_seen; //  key filled from the Welcome (--open, no pin)
    ld_peer_env_t env;
    zsock_t *dealer;
    zsock_t *live;
    s_conn_t conn;
    int64_t conn_since;   //  when the connection was opened
    int64_t reconnect_at; //  S_DOWN: when to connect again
    int64_t backoff;
    int64_t last_contact; //  wall clock ms of the last reply
    int64_t last_sync;    //  wall clock ms when a round found nothing to do
    char error[512];
    //  rounds
    s_phase_t phase;
    uint64_t round;
    int64_t round_due; //  0: none scheduled
    int64_t heads_sent;
    bool dirty;    //  something rang since the round started
    bool retry;    //  the round met something to try again
    bool progress; //  the round moved events
    //  the peer's selection, from its HeadsReply (paths owned)
    ld_selection_t peer_selection;
    //  tasks
    s_task_t *pulls;
    size_t pull_count;
    size_t pull_cap;
    s_task_t *pushes;
    size_t push_count;
    s_task_t *pull_current; //  the task whose request is out
    int64_t pull_sent;      //  0: no pull request out
    size_t pull_jobs;       //  chunks of this round in the broker's ingest
    s_task_t *push_current;
    int64_t push_sent; //  0: no Publish out
    uint64_t push_batch;
    //  figures
    uint64_t behind_in, behind_out;
    uint64_t pulled, pushed;
    uint64_t rate_samples[S_RATE_WINDOW];
    int64_t rate_second;
    char state_text[32];
};

static void s_error (ld_peer_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_error (ld_peer_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->error, sizeof self->error, format, args);
    va_end (args);
    zsys_warning ("broker: link %s: %s", self->endpoint, self->error);
}

//  --------------------------------------------------------------------------
//  Parsing a --follow value

ld_status_t
ld_peer_parse (const char *spec, bool open, char *endpoint, size_t endpoint_size,
               uint8_t key[LD_KEY_BYTES], bool *has_key, char *err, size_t err_size)
{
    //  Messages for a command line: no status prefix (ld_fail adds one).
    *has_key = false;
    const char *equals = strchr (spec, '=');
    size_t length = equals ? (size_t) (equals - spec) : strlen (spec);
    const char *colon = memrchr (spec, ':', length);
    if (strncmp (spec, "tcp://", 6) != 0 || length <= 6 || length >= endpoint_size || !colon
        || colon < spec + 6 || colon + 1 == spec + length || memchr (spec, '*', length)) {
        snprintf (err, err_size,
                  "--follow '%s': expected tcp://HOST:PORT=KEY (or tcp://HOST:PORT with --open)",
                  spec);
        return LD_ERR_USAGE;
    }
    memcpy (endpoint, spec, length);
    endpoint[length] = '\0';
    if (equals) {
        char why[256];
        if (ld_public_key_load (equals + 1, key, why, sizeof why) != LD_OK) {
            snprintf (err, err_size,
                      "--follow '%s': KEY must be ed25519:... or the peer's identity.pub (%s)",
                      spec, why);
            return LD_ERR_BAD_KEY;
        }
        *has_key = true;
    }
    else if (!open) {
        snprintf (err, err_size,
                  "--follow '%s': a --trust broker pins the brokers it follows: "
                  "tcp://HOST:PORT=KEY (KEY: ed25519:... or the peer's identity.pub)",
                  spec);
        return LD_ERR_USAGE;
    }
    return LD_OK;
}

//  --------------------------------------------------------------------------
//  Connection

static void
s_disconnect (ld_peer_t *self, int64_t now)
{
    zsock_destroy (&self->dealer);
    zsock_destroy (&self->live);
    self->conn = S_DOWN;
    self->reconnect_at = now + self->backoff;
    self->backoff = self->backoff * 2 > S_RECONNECT_MAX_MS ? S_RECONNECT_MAX_MS : self->backoff * 2;
    //  The round is abandoned; chunks still in the broker's ingest finish
    //  and are counted, but feed no new requests (their round is gone).
    self->phase = S_IDLE;
    self->round++;
    self->pull_current = self->push_current = NULL;
    self->pull_sent = self->push_sent = 0;
    self->pull_jobs = 0;
    self->round_due = 0;
}

static zsock_t *
s_socket (ld_peer_t *self, int type, const char *endpoint, char *err, size_t err_size)
{
    char spec_endpoint[300];
    snprintf (spec_endpoint, sizeof spec_endpoint, ">%s", endpoint);
    uint8_t server_curve[LD_KEY_BYTES];
    ld_socket_spec_t spec = {
        .type = type,
        .endpoints = spec_endpoint,
        .max_message = LD_SYNC_FRAME_MAX,
        .sndhwm = 1000,
        .rcvhwm = type == ZMQ_SUB ? 1000 : 100,
        .no_heartbeat = type == ZMQ_SUB,
    };
    if (self->env.curve) {
        if (!self->has_key || ld_curve_public_from_key (self->key, server_curve) != LD_OK) {
            snprintf (err, err_size, "no usable key to pin the peer");
            return NULL;
        }
        spec.curve_secret = ld_curve_secret (self->env.curve);
        spec.curve_public = ld_curve_public (self->env.curve);
        spec.curve_server_key = server_curve;
    }
    return ld_socket_new (&spec, err, err_size);
}

static void
s_send (ld_peer_t *self, ld_request_t *request)
{
    if (self->dealer && ld_request_send (self->dealer, request) != 0)
        s_error (self, "cannot queue a request to the peer");
}

static void
s_connect (ld_peer_t *self, int64_t now)
{
    char err[256];
    self->dealer = s_socket (self, ZMQ_DEALER, self->endpoint, err, sizeof err);
    if (!self->dealer) {
        s_error (self, "cannot connect: %s", err);
        s_disconnect (self, now);
        return;
    }
    zsock_set_rcvtimeo (self->dealer, 0);
    self->conn = S_HELLO;
    self->conn_since = now;
    Liandong__Sync__Hello hello = LIANDONG__SYNC__HELLO__INIT;
    hello.has_version = true;
    hello.version = LD_SYNC_VERSION;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_HELLO;
    request.hello = &hello;
    s_send (self, &request);
}

static void
s_on_welcome (ld_peer_t *self, Liandong__Sync__Welcome *welcome, int64_t now)
{
    if (welcome->broker_key.len != LD_KEY_BYTES) {
        s_error (self, "the peer's Welcome names no key");
        s_disconnect (self, now);
        return;
    }
    if (self->has_key && memcmp (self->key, welcome->broker_key.data, LD_KEY_BYTES) != 0) {
        char text[LD_KEY_TEXT_BYTES];
        ld_key_to_text (welcome->broker_key.data, text);
        s_error (self, "the peer is %s, not the pinned key", text);
        s_disconnect (self, now);
        return;
    }
    if (!self->has_key) {
        memcpy (self->key, welcome->broker_key.data, LD_KEY_BYTES);
        self->key_seen = true;
    }
    self->conn = S_READY;
    self->backoff = S_RECONNECT_MIN_MS;
    self->error[0] = '\0';
    zsock_destroy (&self->live);
    for (size_t i = 0; i < welcome->n_endpoints; i++)
        if (streq (welcome->endpoints[i]->name, "live")) {
            char err[256];
            self->live = s_socket (self, ZMQ_SUB, welcome->endpoints[i]->address, err, sizeof err);
            if (self->live) {
                zsock_set_subscribe (self->live, "");
                zsock_set_rcvtimeo (self->live, 0);
            }
            else
                s_error (self, "no live feed from the peer: %s", err);
        }
    zsys_info ("broker: link %s connected", self->endpoint);
    self->round_due = now; //  a round at once
}

//  --------------------------------------------------------------------------
//  Planning a round

static void
s_round_start (ld_peer_t *self, int64_t now)
{
    self->round++;
    self->phase = S_HEADS;
    self->dirty = self->retry = self->progress = false;
    self->round_due = 0;
    self->heads_sent = now;
    Liandong__Sync__HeadsRequest heads = LIANDONG__SYNC__HEADS_REQUEST__INIT;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_HEADS;
    request.heads = &heads;
    s_send (self, &request);
}

static int
s_head_compare (const void *a, const void *b)
{
    return memcmp (((const ld_head_t *) a)->author, ((const ld_head_t *) b)->author, LD_KEY_BYTES);
}

ld_select_t
ld_selection_holds (const ld_selection_t *selection, ld_guard_t *guard,
                    const uint8_t author[LD_KEY_BYTES])
{
    if (selection->all || !guard)
        return LD_SELECT_YES;
    return ld_guard_selects (guard, author, selection->paths, selection->count);
}

static void
s_peer_selection_clear (ld_peer_t *self)
{
    for (size_t i = 0; i < self->peer_selection.count; i++)
        free ((char *) self->peer_selection.paths[i]);
    memset (&self->peer_selection, 0, sizeof self->peer_selection);
}

static unsigned
s_rank (ld_peer_t *self, const uint8_t author[LD_KEY_BYTES])
{
    return self->env.guard ? ld_guard_rank (self->env.guard, author) : 2;
}

static void
s_add_task (s_task_t *tasks, size_t *count, s_kind_t kind, const uint8_t author[LD_KEY_BYTES],
            uint64_t from)
{
    s_task_t *task = &tasks[(*count)++];
    memset (task, 0, sizeof *task);
    task->kind = kind;
    memcpy (task->author, author, LD_KEY_BYTES);
    task->from = from;
}

static void
s_plan (ld_peer_t *self, ld_head_t *theirs, size_t their_count)
{
    ld_selection_t ours_selected;
    self->env.selection (self->env.arg, &ours_selected);
    ld_head_t *ours = NULL;
    size_t our_count = 0;
    if (ld_store_heads (self->env.store, &ours, &our_count) != LD_OK) {
        s_error (self, "cannot read the local head vector");
        self->phase = S_IDLE;
        self->retry = true;
        return;
    }
    qsort (theirs, their_count, sizeof *theirs, s_head_compare);
    free (self->pulls);
    free (self->pushes);
    //  at most three tasks per author each way, and one more pull each
    //  after a chain mismatch (ld_peer_ingested): the arrays never grow, so
    //  pull_current and push_current stay valid for the round
    size_t slots = 4 * (our_count + their_count) + 1;
    self->pull_cap = slots;
    self->pulls = calloc (slots, sizeof *self->pulls);
    self->pushes = calloc (slots, sizeof *self->pushes);
    self->pull_count = self->push_count = 0;
    self->behind_in = self->behind_out = 0;
    if (!self->pulls || !self->pushes) {
        free (ours);
        s_error (self, "out of memory planning a round");
        self->phase = S_IDLE;
        self->retry = true;
        return;
    }
    size_t i = 0, j = 0;
    static const ld_head_t none = {{0}, 0, {0}, false};
    while (i < our_count || j < their_count) {
        int order = i == our_count     ? 1
                    : j == their_count ? -1
                                       : memcmp (ours[i].author, theirs[j].author, LD_KEY_BYTES);
        const ld_head_t *m = order <= 0 ? &ours[i] : &none;
        const ld_head_t *p = order >= 0 ? &theirs[j] : &none;
        const uint8_t *author = order <= 0 ? ours[i].author : theirs[j].author;
        if (order <= 0)
            i++;
        if (order >= 0)
            j++;
        ld_guard_t *guard = self->env.guard;
        bool pull = ld_selection_holds (&ours_selected, guard, author) != LD_SELECT_NO;
        bool push = (m->seq > 0 || m->frozen)
                    && ld_selection_holds (&self->peer_selection, guard, author) == LD_SELECT_YES;
        if (pull && p->seq > m->seq && !m->frozen) {
            s_add_task (self->pulls, &self->pull_count, S_PULL_FEED, author, m->seq + 1);
            self->behind_in += p->seq - m->seq;
        }
        if (push && m->seq > p->seq && !p->frozen) {
            s_add_task (self->pushes, &self->push_count, S_PUSH_FEED, author, p->seq + 1);
            self->behind_out += m->seq - p->seq;
        }
        if (p->seq == m->seq && p->seq > 0 && memcmp (p->id, m->id, LD_ID_BYTES) != 0) {
            if (pull)
                s_add_task (self->pulls, &self->pull_count, S_PULL_ONE, author, p->seq);
            if (push)
                s_add_task (self->pushes, &self->push_count, S_PUSH_ONE, author, m->seq);
        }
        if (pull && p->frozen && (m->seq > p->seq || (m->seq == p->seq && !m->frozen)))
            s_add_task (self->pulls, &self->pull_count, S_PULL_EVIDENCE, author, p->seq + 1);
        if (push && m->frozen && (p->seq > m->seq || (p->seq == m->seq && !p->frozen)))
            s_add_task (self->pushes, &self->push_count, S_PUSH_EVIDENCE, author, m->seq + 1);
    }
    free (ours);
    self->phase = S_RUN;
    if (self->pull_count == 0 && self->push_count == 0)
        self->last_sync = zclock_time ();
}

static void
s_on_heads (ld_peer_t *self, Liandong__Sync__HeadsReply *reply)
{
    if (self->phase != S_HEADS)
        return; //  late, from an abandoned round
    s_peer_selection_clear (self);
    self->peer_selection.all = reply->has_select_all && reply->select_all;
    for (size_t i = 0; i < reply->n_select && i < LD_SELECT_MAX; i++) {
        char *path = strdup (reply->select[i]);
        if (path)
            self->peer_selection.paths[self->peer_selection.count++] = path;
    }
    ld_head_t *theirs = calloc (reply->n_heads ? reply->n_heads : 1, sizeof *theirs);
    if (!theirs) {
        self->phase = S_IDLE;
        self->retry = true;
        return;
    }
    size_t count = 0;
    for (size_t i = 0; i < reply->n_heads; i++) {
        Liandong__Sync__Head *head = reply->heads[i];
        if (head->author.len != LD_KEY_BYTES || (head->seq > 0 && head->head_id.len != LD_ID_BYTES))
            continue; //  malformed: ignored (the peer's own problem)
        memcpy (theirs[count].author, head->author.data, LD_KEY_BYTES);
        theirs[count].seq = head->seq;
        if (head->seq > 0)
            memcpy (theirs[count].id, head->head_id.data, LD_ID_BYTES);
        theirs[count].frozen = head->has_frozen && head->frozen;
        count++;
    }
    s_plan (self, theirs, count);
    free (theirs);
}

//  --------------------------------------------------------------------------
//  Pulling

//  The undone task of tasks whose author ranks best (trust feeds first),
//  the first of equals; *rank_p gets its rank.
static s_task_t *
s_best_task (ld_peer_t *self, s_task_t *tasks, size_t count, unsigned *rank_p)
{
    s_task_t *best = NULL;
    unsigned best_rank = 99;
    for (size_t i = 0; i < count; i++) {
        s_task_t *task = &tasks[i];
        if (task->done)
            continue;
        unsigned rank = s_rank (self, task->author);
        if (rank < best_rank) {
            best = task;
            best_rank = rank;
        }
    }
    *rank_p = best_rank;
    return best;
}

static s_task_t *
s_next_pull (ld_peer_t *self)
{
    unsigned best_rank;
    s_task_t *best = s_best_task (self, self->pulls, self->pull_count, &best_rank);
    //  A feed whose author holds no certificate here yet waits until the
    //  chunks before it are folded: its certificate may be among them.
    if (best && best_rank >= 3 && self->pull_jobs > 0)
        return NULL;
    return best;
}

static void
s_send_pull (ld_peer_t *self, s_task_t *task, int64_t now)
{
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    Liandong__Sync__FeedRequest feed = LIANDONG__SYNC__FEED_REQUEST__INIT;
    Liandong__Sync__EvidenceRequest evidence = LIANDONG__SYNC__EVIDENCE_REQUEST__INIT;
    if (task->kind == S_PULL_EVIDENCE) {
        evidence.author.data = task->author;
        evidence.author.len = LD_KEY_BYTES;
        request.kind_case = LIANDONG__SYNC__REQUEST__KIND_EVIDENCE;
        request.evidence = &evidence;
    }
    else {
        feed.author.data = task->author;
        feed.author.len = LD_KEY_BYTES;
        feed.from = task->from;
        request.kind_case = LIANDONG__SYNC__REQUEST__KIND_FEED;
        request.feed = &feed;
    }
    self->pull_current = task;
    self->pull_sent = now;
    s_send (self, &request);
}

static void
s_on_feed (ld_peer_t *self, ld_reply_t **reply_p)
{
    s_task_t *task = self->pull_current;
    Liandong__Sync__FeedReply *feed = (*reply_p)->feed;
    if (!task || self->phase != S_RUN || feed->author.len != LD_KEY_BYTES
        || memcmp (feed->author.data, task->author, LD_KEY_BYTES) != 0)
        return; //  late, from an abandoned round
    self->pull_current = NULL;
    self->pull_sent = 0;
    size_t count = feed->n_events;
    bool done = feed->done || count == 0 || task->kind != S_PULL_FEED;
    if (count > 0) {
        if (self->env.ingest (self->env.arg, self, reply_p, self->round) == 0)
            self->pull_jobs++;
        else {
            self->retry = true;
            done = true;
        }
    }
    if (done)
        task->done = true;
    else
        task->from += count;
}

void
ld_peer_ingested (ld_peer_t *self, const ld_peer_ingest_t *outcome)
{
    self->pulled += outcome->stored;
    if (outcome->stored)
        self->progress = true;
    if (outcome->round != self->round)
        return;
    if (self->pull_jobs > 0)
        self->pull_jobs--;
    self->behind_in = self->behind_in > outcome->stored ? self->behind_in - outcome->stored : 0;
    if (outcome->retry || outcome->refused)
        self->retry = true;
    //  Whatever did not fit ends this author's feed task for the round; the
    //  next round starts again from the head the store has.
    if (outcome->retry || outcome->refused || outcome->chain)
        for (size_t i = 0; i < self->pull_count; i++)
            if (self->pulls[i].kind == S_PULL_FEED
                && memcmp (self->pulls[i].author, outcome->author, LD_KEY_BYTES) == 0)
                self->pulls[i].done = true;
    if (outcome->chain && self->pull_count < self->pull_cap) {
        //  The peer's feed does not continue ours: fetch its event at our
        //  head, which differs from ours and proves the fork.
        ld_head_t head;
        if (ld_store_head (self->env.store, outcome->author, &head) == LD_OK && head.seq > 0
            && !head.frozen)
            s_add_task (self->pulls, &self->pull_count, S_PULL_ONE, outcome->author, head.seq);
    }
}

//  --------------------------------------------------------------------------
//  Pushing

static s_task_t *
s_next_push (ld_peer_t *self)
{
    unsigned rank;
    return s_best_task (self, self->pushes, self->push_count, &rank);
}

//  Sends the next Publish of a push task; marks it done if there is
//  nothing left to send.
static void
s_send_push (ld_peer_t *self, s_task_t *task, int64_t now)
{
    ld_chunk_t chunk;
    if (ld_chunk_init (&chunk, task->kind == S_PUSH_FEED  ? LD_SYNC_BATCH_MAX
                               : task->kind == S_PUSH_ONE ? 1
                                                          : LD_EVIDENCE_MAX)
        != 0) {
        self->retry = true;
        task->done = true;
        return;
    }
    ld_status_t rc = LD_OK;
    if (task->kind == S_PUSH_EVIDENCE) {
        chunk.only_seq = task->from;
        rc = ld_store_read_evidence (self->env.store, task->author, ld_chunk_collect, &chunk);
    }
    else
        rc = ld_store_read_feed (self->env.store, task->author, task->from, chunk.max,
                                 ld_chunk_collect, &chunk);
    if (rc != LD_OK || chunk.count == 0) {
        if (rc != LD_OK)
            self->retry = true;
        task->done = true;
    }
    else {
        Liandong__Sync__Publish publish = LIANDONG__SYNC__PUBLISH__INIT;
        publish.batch = ++self->push_batch;
        publish.n_events = chunk.count;
        publish.events = chunk.events;
        publish.has_relay = true;
        publish.relay = true;
        ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
        request.kind_case = LIANDONG__SYNC__REQUEST__KIND_PUBLISH;
        request.publish = &publish;
        self->push_current = task;
        self->push_sent = now;
        s_send (self, &request);
    }
    ld_chunk_clear (&chunk);
}

static void
s_on_ack (ld_peer_t *self, Liandong__Sync__Ack *ack)
{
    s_task_t *task = self->push_current;
    if (!task || self->phase != S_RUN || ack->batch != self->push_batch)
        return; //  late, from an abandoned round
    self->push_current = NULL;
    self->push_sent = 0;
    uint64_t peer_head = 0;
    bool peer_frozen = false;
    for (size_t i = 0; i < ack->n_heads; i++)
        if (ack->heads[i]->author.len == LD_KEY_BYTES
            && memcmp (ack->heads[i]->author.data, task->author, LD_KEY_BYTES) == 0) {
            peer_head = ack->heads[i]->seq;
            peer_frozen = ack->heads[i]->has_frozen && ack->heads[i]->frozen;
        }
    if (task->kind == S_PUSH_FEED && peer_head >= task->from) {
        uint64_t moved = peer_head - task->from + 1;
        self->pushed += moved;
        self->progress = true;
        self->behind_out = self->behind_out > moved ? self->behind_out - moved : 0;
    }
    if (task->kind != S_PUSH_FEED || peer_frozen) {
        task->done = true;
        return;
    }
    //  The first refusal decides how the feed goes on.
    const char *status = NULL;
    uint64_t needed = 0;
    for (size_t i = 0; i < ack->n_refusals && !status; i++) {
        status = ack->refusals[i]->status;
        needed = ack->refusals[i]->has_needed_seq ? ack->refusals[i]->needed_seq : 0;
    }
    ld_head_t ours;
    bool have = ld_store_head (self->env.store, task->author, &ours) == LD_OK;
    if (!status) {
        task->from = peer_head + 1;
        if (!have || task->from > ours.seq)
            task->done = true;
    }
    else if (streq (status, ld_status_name (LD_ERR_GAP)) && needed > 0 && needed < task->from) {
        task->from = needed;
    }
    else if (streq (status, ld_status_name (LD_ERR_CHAIN)) && peer_head > 0) {
        //  The peer's head is not ours at that seq: send ours, a fork proof.
        task->kind = S_PUSH_ONE;
        task->from = peer_head;
    }
    else {
        task->done = true;
        if (!streq (status, ld_status_name (LD_ERR_NOT_SELECTED)))
            self->retry = true;
        if (!streq (status, ld_status_name (LD_ERR_AWAITING_CERT))
            && !streq (status, ld_status_name (LD_ERR_NOT_SELECTED)))
            s_error (self, "the peer refused a relayed event: %s: %s", status,
                     ack->refusals[0]->reason);
    }
}

//  --------------------------------------------------------------------------
//  The loop's entry points

ld_peer_t *
ld_peer_new (const char *endpoint, const uint8_t *key, const ld_peer_env_t *env)
{
    ld_peer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    if (key) {
        memcpy (self->key, key, LD_KEY_BYTES);
        self->has_key = true;
    }
    self->env = *env;
    self->backoff = S_RECONNECT_MIN_MS;
    self->rate_second = zclock_mono () / 1000;
    s_connect (self, zclock_mono ());
    return self;
}

void
ld_peer_destroy (ld_peer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_peer_t *self = *self_p;
    zsock_destroy (&self->dealer);
    zsock_destroy (&self->live);
    s_peer_selection_clear (self);
    free (self->pulls);
    free (self->pushes);
    free (self);
    *self_p = NULL;
}

size_t
ld_peer_sockets (ld_peer_t *self, zsock_t **socks)
{
    size_t n = 0;
    if (self->dealer)
        socks[n++] = self->dealer;
    if (self->live)
        socks[n++] = self->live;
    return n;
}

void
ld_peer_readable (ld_peer_t *self, zsock_t *sock)
{
    int64_t now = zclock_mono ();
    if (sock == self->live) {
        //  The peer stored something: a round soon. The doorbell's content
        //  is not needed; the round asks for what is missing.
        for (int i = 0; i < S_LIVE_DRAIN_MAX; i++) {
            zmsg_t *msg = zmsg_recv (self->live);
            if (!msg)
                break;
            zmsg_destroy (&msg);
        }
        self->dirty = true;
        return;
    }
    if (sock != self->dealer)
        return;
    for (int i = 0; i < 64 && self->dealer; i++) {
        if (!(zsock_events (self->dealer) & ZMQ_POLLIN))
            break;
        char err[256];
        ld_reply_t *reply = ld_reply_recv (self->dealer, err, sizeof err);
        if (!reply) {
            s_error (self, "malformed reply from the peer: %s", err);
            continue;
        }
        self->last_contact = zclock_time ();
        switch (reply->kind_case) {
            case LIANDONG__SYNC__REPLY__KIND_WELCOME:
                if (self->conn == S_HELLO)
                    s_on_welcome (self, reply->welcome, now);
                break;
            case LIANDONG__SYNC__REPLY__KIND_HEADS:
                s_on_heads (self, reply->heads);
                break;
            case LIANDONG__SYNC__REPLY__KIND_FEED:
                s_on_feed (self, &reply);
                break;
            case LIANDONG__SYNC__REPLY__KIND_ACK:
                s_on_ack (self, reply->ack);
                break;
            case LIANDONG__SYNC__REPLY__KIND_ERROR:
                s_error (self, "the peer answered %s: %s", reply->error->status,
                         reply->error->reason);
                s_disconnect (self, now);
                break;
            default:
                break;
        }
        ld_reply_free (&reply);
    }
}

void
ld_peer_local_stored (ld_peer_t *self)
{
    self->dirty = true;
}

//  Sends what the round can send now; ends the round when all is done.
static void
s_drive (ld_peer_t *self, int64_t now)
{
    if (self->phase != S_RUN)
        return;
    while (!self->pull_current && self->pull_jobs < LD_PEER_WINDOW) {
        s_task_t *task = s_next_pull (self);
        if (!task)
            break;
        s_send_pull (self, task, now);
    }
    while (!self->push_current) {
        s_task_t *task = s_next_push (self);
        if (!task)
            break;
        s_send_push (self, task, now);
    }
    bool pulls_left = self->pull_current || self->pull_jobs > 0;
    for (size_t i = 0; i < self->pull_count && !pulls_left; i++)
        pulls_left = !self->pulls[i].done;
    bool pushes_left = self->push_current != NULL;
    for (size_t i = 0; i < self->push_count && !pushes_left; i++)
        pushes_left = !self->pushes[i].done;
    if (pulls_left || pushes_left)
        return;
    self->phase = S_IDLE;
    if (self->dirty || self->progress)
        self->round_due = now + LD_PEER_DEBOUNCE_MS;
    else if (self->retry)
        self->round_due = now + S_RETRY_MS;
    else
        self->round_due = now + LD_PEER_PERIOD_MS;
}

int64_t
ld_peer_tick (ld_peer_t *self, int64_t now)
{
    //  rate: events pulled per second, over the last S_RATE_WINDOW seconds
    int64_t second = now / 1000;
    while (self->rate_second < second) {
        self->rate_second++;
        memmove (self->rate_samples, self->rate_samples + 1,
                 (S_RATE_WINDOW - 1) * sizeof self->rate_samples[0]);
        self->rate_samples[S_RATE_WINDOW - 1] = self->pulled;
        if (second - self->rate_second > S_RATE_WINDOW)
            self->rate_second = second - S_RATE_WINDOW;
    }
    switch (self->conn) {
        case S_DOWN:
            if (now >= self->reconnect_at)
                s_connect (self, now);
            return S_RECONNECT_MIN_MS;
        case S_HELLO:
            if (now - self->conn_since > LD_PEER_HELLO_MS) {
                s_error (self, "no Welcome within %d ms (is this key certified there?)",
                         LD_PEER_HELLO_MS);
                s_disconnect (self, now);
            }
            return 100;
        case S_READY:
            break;
    }
    if ((self->phase == S_HEADS && now - self->heads_sent > LD_PEER_TIMEOUT_MS)
        || (self->pull_sent && now - self->pull_sent > LD_PEER_TIMEOUT_MS)
        || (self->push_sent && now - self->push_sent > LD_PEER_PUSH_TIMEOUT_MS)) {
        s_error (self, "a request went unanswered: reconnecting");
        s_disconnect (self, now);
        return S_RECONNECT_MIN_MS;
    }
    if (self->phase == S_IDLE && self->dirty
        && (!self->round_due || self->round_due > now + LD_PEER_DEBOUNCE_MS))
        self->round_due = now + LD_PEER_DEBOUNCE_MS;
    if (self->phase == S_IDLE && self->round_due && now >= self->round_due)
        s_round_start (self, now);
    s_drive (self, now);
    if (self->phase == S_IDLE && self->round_due)
        return self->round_due > now ? self->round_due - now : 0;
    return self->phase == S_RUN ? 50 : 200;
}

void
ld_peer_status (ld_peer_t *self, Liandong__Sync__PeerStatus *status)
{
    liandong__sync__peer_status__init (status);
    status->endpoint = self->endpoint;
    if (self->has_key || self->key_seen) {
        status->has_key = true;
        status->key.data = self->key;
        status->key.len = LD_KEY_BYTES;
    }
    status->connected = self->conn == S_READY;
    status->has_last_contact_ms = true;
    status->last_contact_ms = self->last_contact;
    status->behind_in = self->behind_in;
    status->behind_out = self->behind_out;
    uint64_t oldest = self->rate_samples[0];
    status->rate = self->pulled > oldest ? (double) (self->pulled - oldest) / S_RATE_WINDOW : 0.0;
    status->pulled = self->pulled;
    status->pushed = self->pushed;
    snprintf (self->state_text, sizeof self->state_text, "%s",
              self->conn != S_READY ? "connecting"
              : self->phase == S_IDLE && self->behind_in == 0 && self->behind_out == 0 ? "idle"
                                                                                       : "syncing");
    status->state = self->state_text;
    status->error = self->error[0] ? self->error : NULL;
    status->has_last_sync_ms = self->last_sync != 0;
    status->last_sync_ms = self->last_sync;
}
