/*  ld_node.c -- the node actor. See ld_node.h for the contract.

    The node's own feed is committed to its store before anything leaves
    the machine; the broker gets it from an outbox. Everything below runs in
    the actor's one thread, around one zmq_poll on three sockets (the pipe,
    the control ROUTER, the broker DEALER) and a few deadlines.

    Authoring (control socket)
      Author requests are gathered without blocking, up to a batch
      (LD_SYNC_BATCH_MAX), signed in order (seq = head + 1, prev = head id,
      time = wall clock) and committed in one ld_store_append: one fsync
      for the group. Then each request is answered "committed" at once, or,
      if it asked to wait, held as a *waiter* until the broker's verdict:
      "acknowledged" when an Ack's head for us reaches its seq, "refused" or
      "awaiting-certificate" from a refusal of that seq, "queued" when its
      timeout passes first. Requests the node cannot sign (bad topic, dead
      node, restore not finished) are answered "refused" with the reason.

    Outbox (broker DEALER)
      Every own event the broker has not acknowledged goes out in Publish
      batches (LD_SYNC_BATCH_MAX events and LD_SYNC_CHUNK_BYTES of
      envelopes at most), read back from the store; ld_outbox decides which
      and when (a window of batches in flight, resend on timeout, "gap" and
      retry refusals: see ld_outbox.h). This file acts on the verdicts:
      - an Ack's head for us answers the waiters up to it;
      - a refusal with retry pauses the outbox ("awaiting-certificate" is
        also the answer to a waiter for that seq);
      - any other refusal but "gap" (chain-broken, fork, frozen,
        bad-signature, revoked...) is for good: the node is *dead*. It says
        so on every later Author request, persists the reason (meta
        "dead"), and never signs again; recovery is a new key. Events
        before the refused seq are still delivered.
      The DEALER queues only toward a completed connection (immediate), so
      while the broker is down nothing is sent and the loop waits for the
      socket to become writable; libzmq reconnects by itself. Correctness
      never depends on the acknowledged seq being persisted (resends are
      idempotent at the broker): it is saved at most every S_SAVE_MS (meta
      "acked") only so that a restarted node does not resend everything.

    Restore (--restore)
      On a data dir that holds none of the node's own events, the node asks
      the broker for its own feed (FeedRequest from head + 1, chunk by
      chunk), verifies each event (decode, signature, author is us, seq
      continues the chain) and commits each chunk. Until the broker says
      done, Author requests are answered "refused" with "restoring: own
      head not known yet" -- the node cannot know the next seq, and
      guessing would fork the feed. Meta "restoring" marks an unfinished
      restore, so a node killed halfway resumes it on the next start even
      without --restore.

    Authority (a broker run with --trust)
      Every S_TRUST_POLL_MS the node says Hello; the Welcome names the
      broker's trust roots (the broker's key is pinned, so its word on them
      is as good as the transport), and a Catchup of `trust/` from the last
      cursor brings the trust feeds, which the node verifies and folds
      (ld_trust). Once the roots are known and the feeds caught up once,
      every event is checked after it is signed and before it is
      committed: an event the broker would refuse for good (outside-path,
      forbidden-type, revoked, ...) is refused at once with the rule named,
      and never enters the feed, so an honest mistake does not kill the
      node. "awaiting-certificate" is committed: the certificate may be on
      its way, and the broker holds the event back until it arrives.

    Safety: a data dir is locked (flock on DATA/node.lock) so two nodes never
    sign into one feed; an ipc path another node is serving is refused. If
    an Ack shows the broker holding more of our feed than the store does
    (a data dir lost or replaced), the node stops signing: the next seq
    would fork.
*/
#include "ld_node.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ld_event.h"
#include "ld_identity.h"
#include "ld_outbox.h"
#include "ld_persons.h"
#include "ld_socket.h"
#include "ld_store.h"
#include "ld_sync.h"
#include "ld_trust.h"

_Static_assert(LD_OUTBOX_BATCH_MAX == LD_SYNC_BATCH_MAX, "an outbox batch is one Publish");

#define S_RESTORE_WAIT_MS   5000   //  no FeedReply this long: ask again
#define S_SAVE_MS           1000   //  acked is persisted at most this often
#define S_WAIT_DEFAULT_MS   5000   //  Author.wait without a timeout
#define S_WAIT_MAX_MS       600000 //  longest wait a request may ask for
#define S_CONTROL_HWM       10000  //  control messages queued per client
#define S_CONTROL_FRAME_MAX (LD_ENVELOPE_MAX_DEFAULT + 4096)
#define S_WARN_EVERY_MS     5000 //  repeated warnings are logged this often
#define S_REASON_MAX        512  //  bytes of a reason sent to a client
#define S_PATH_MAX          PATH_MAX

#define S_TRUST_POLL_MS    2000 //  Hello + trust catch-up this often
#define S_BROKER_SILENT_MS 6000 //  no Welcome this long: a new connection
#define S_HELLO_RETRY_MS   100  //  a Hello the connection did not take: again then
#define S_TRUST_CREDIT     8
#define S_TRUST_PREFIX     "trust/"

#define S_META_ACKED     "acked"
#define S_META_DEAD      "dead"
#define S_META_DEAD_SEQ  "dead_seq"
#define S_META_RESTORING "restoring"

#define S_IPC_PREFIX "ipc://"
#define S_RESTORING  "restoring: own head not known yet"

//  An Author request held until the broker's verdict.
typedef struct {
    zframe_t *peer; //  routing id of the client
    uint64_t tag;
    uint64_t seq;
    uint8_t id[LD_ID_BYTES];
    int64_t deadline; //  zclock_mono ms: then "queued"
} s_waiter_t;

//  An Author request taken in this round, before its commit.
typedef struct {
    zframe_t *peer;
    ld_control_request_t *request;
    ld_event_t *event; //  NULL if it could not be signed
} s_pending_t;

typedef struct {
    zsock_t *pipe;    //  borrowed: the actor's pipe
    zsock_t *control; //  ROUTER, clients' Author/NodeStatus requests
    zsock_t *broker;  //  DEALER to the broker
    ld_store_t *store;
    ld_identity_t *identity;
    uint8_t key[LD_KEY_BYTES];
    int lock_fd;
    char *broker_endpoint;
    bool terminated;
    bool fatal; //  the store failed: serve nothing more, wait for $TERM

    //  own feed
    uint64_t head_seq;
    uint8_t head_id[LD_ID_BYTES];
    uint64_t behind_seq; //  > head_seq: the broker holds more of our feed
    char *dead;          //  why the node stopped signing for good, or NULL
    uint64_t dead_seq;   //  the seq the broker refused

    //  outbox
    ld_outbox_t *outbox;
    uint64_t saved_seq; //  acked seq as last persisted
    int64_t save_at;    //  acked may be saved from then
    bool want_out;      //  waiting for the DEALER to become writable
    uint8_t *batch_bytes;
    ProtobufCBinaryData batch_events[LD_SYNC_BATCH_MAX];

    //  restore
    bool restoring;
    bool restore_unsent; //  the FeedRequest waits for a connection
    int64_t restore_at;  //  ask again then

    //  authoring
    zlistx_t *waiters;        //  s_waiter_t, in seq order
    int64_t waiters_check_at; //  earliest deadline (may be early)
    s_pending_t pending[LD_SYNC_BATCH_MAX];
    ld_event_t *events[LD_SYNC_BATCH_MAX];
    ld_append_result_t results[LD_SYNC_BATCH_MAX];

    //  authority: the broker's roots and the trust feeds, folded
    ld_trust_t *trust;   //  NULL until a Welcome named roots
    uint8_t *roots_wire; //  the packed roots of the last Welcome
    size_t roots_wire_size;
    uint64_t trust_cursor; //  store seq the trust catch-up has scanned
    bool trust_synced;     //  caught up at least once: check before signing
    int64_t trust_at;      //  next Hello
    int64_t welcome_at;    //  last Welcome (or the connection's start)
    //  a Fetch in progress (ledger queries through the node)
    zsock_t *reader;      //  its own DEALER to the broker, made on the first Fetch
    zframe_t *fetch_peer; //  the control client, or NULL
    uint64_t fetch_tag;
    int64_t fetch_deadline;
    bool fetch_pending; //  the Catchup waits for the reader's connection
    uint64_t fetch_after;
    char fetch_prefix[LD_TOPIC_MAX + 1];
    bool has_broker_key;
    uint8_t broker_key[LD_KEY_BYTES];

    int64_t warn_at; //  rate limit of repeated warnings

    //  relays (foreign envelopes passed to the broker; see s_relay_start)
    zlistx_t *relays;     //  s_relay_t awaiting the broker's Ack; NULL until the first
    uint64_t relay_batch; //  counter of relay batch ids (S_RELAY_BATCH_BIT set on the wire)
} s_node_t;

static void s_node_destroy (s_node_t **self_p);

//  --------------------------------------------------------------------------
//  Helpers

static void
s_waiter_destroy (void **item)
{
    s_waiter_t *waiter = *item;
    if (waiter) {
        zframe_destroy (&waiter->peer);
        free (waiter);
        *item = NULL;
    }
}

//  A warning that may repeat (broker errors while it is misconfigured,
//  garbage on the wire): logged at most every S_WARN_EVERY_MS.
static void s_warn (s_node_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_warn (s_node_t *self, const char *fmt, ...)
{
    int64_t now = zclock_mono ();
    if (now < self->warn_at)
        return;
    self->warn_at = now + S_WARN_EVERY_MS;
    char line[S_REASON_MAX];
    va_list args;
    va_start (args, fmt);
    vsnprintf (line, sizeof line, fmt, args);
    va_end (args);
    zsys_warning ("node: %s", line);
}

//  The store failed in a way that must stop the node (an I/O error: a
//  retried fsync can report success after the data is gone). Tells the
//  owner and serves nothing more.
static void
s_fatal (s_node_t *self, const char *what, const char *err)
{
    if (self->fatal)
        return;
    self->fatal = true;
    char reason[S_REASON_MAX];
    snprintf (reason, sizeof reason, "%s: %s", what, err);
    zsys_error ("node: %s; stopping", reason);
    zstr_sendx (self->pipe, "FATAL", reason, NULL);
}

static bool
s_is_own_key (const s_node_t *self, const ProtobufCBinaryData *key)
{
    return key->len == LD_KEY_BYTES && memcmp (key->data, self->key, LD_KEY_BYTES) == 0;
}

//  Tells the outbox the highest own seq it may send: everything, or
//  everything before the seq the broker refused for good.
static void
s_outbox_limit (s_node_t *self)
{
    if (self->dead)
        ld_outbox_set_limit (self->outbox, self->dead_seq > 0 ? self->dead_seq - 1 : 0);
    else
        ld_outbox_set_limit (self->outbox, self->head_seq);
}

//  --------------------------------------------------------------------------
//  Replies to clients

static void
s_reply_authored (s_node_t *self, zframe_t *peer, uint64_t tag, const char *status,
                  const uint8_t *id, uint64_t seq, const char *reason)
{
    Liandong__Sync__Authored authored = LIANDONG__SYNC__AUTHORED__INIT;
    authored.tag = tag;
    authored.status = (char *) status;
    if (id) {
        authored.has_id = 1;
        authored.id.data = (uint8_t *) id;
        authored.id.len = LD_ID_BYTES;
        authored.has_seq = 1;
        authored.seq = seq;
    }
    authored.reason = (char *) reason;
    ld_control_reply_t reply = LIANDONG__SYNC__CONTROL_REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__CONTROL_REPLY__KIND_AUTHORED;
    reply.authored = &authored;
    //  A client that left is not an error: the ROUTER drops its reply.
    ld_control_reply_send (self->control, peer, &reply);
}

static void
s_reply_error (s_node_t *self, zframe_t *peer, ld_status_t status, const char *reason)
{
    Liandong__Sync__Error error = LIANDONG__SYNC__ERROR__INIT;
    error.status = (char *) ld_status_name (status);
    error.reason = (char *) reason;
    ld_control_reply_t reply = LIANDONG__SYNC__CONTROL_REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__CONTROL_REPLY__KIND_ERROR;
    reply.error = &error;
    ld_control_reply_send (self->control, peer, &reply);
}

static void
s_reply_status (s_node_t *self, zframe_t *peer)
{
    Liandong__Sync__NodeStatus status = LIANDONG__SYNC__NODE_STATUS__INIT;
    status.key.data = self->key;
    status.key.len = LD_KEY_BYTES;
    status.head_seq = self->head_seq;
    status.acked_seq = ld_outbox_acked_seq (self->outbox);
    status.dead = self->dead;
    status.restoring = self->restoring;
    status.broker = self->broker_endpoint;
    const char *paths[64];
    if (self->trust) {
        ld_level_t level = ld_trust_grants (self->trust, self->key, paths, 64, &status.n_paths);
        if (level != LD_LEVEL_COUNT)
            status.level = (char *) ld_level_name (level);
        status.paths = (char **) paths;
    }
    ld_control_reply_t reply = LIANDONG__SYNC__CONTROL_REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__CONTROL_REPLY__KIND_STATUS;
    reply.status = &status;
    ld_control_reply_send (self->control, peer, &reply);
}

//  --------------------------------------------------------------------------
//  Waiters

static void
s_waiter_add (s_node_t *self, zframe_t **peer_p, uint64_t tag, const ld_event_t *event,
              int64_t deadline)
{
    s_waiter_t *waiter = calloc (1, sizeof *waiter);
    if (!waiter) {
        //  Cannot hold it: the event is committed, say so now.
        s_reply_authored (self, *peer_p, tag, "queued", ld_event_id (event), ld_event_seq (event),
                          "node out of memory: not waiting for the broker");
        return;
    }
    waiter->peer = *peer_p;
    *peer_p = NULL;
    waiter->tag = tag;
    waiter->seq = ld_event_seq (event);
    memcpy (waiter->id, ld_event_id (event), LD_ID_BYTES);
    waiter->deadline = deadline;
    zlistx_add_end (self->waiters, waiter);
    if (deadline < self->waiters_check_at)
        self->waiters_check_at = deadline;
}

static void
s_waiter_answer (s_node_t *self, s_waiter_t *waiter, const char *status, const char *reason)
{
    s_reply_authored (self, waiter->peer, waiter->tag, status, waiter->id, waiter->seq, reason);
}

//  Answers every waiter the broker has acknowledged (they are in seq order).
static void
s_waiters_acknowledged (s_node_t *self)
{
    uint64_t acked = ld_outbox_acked_seq (self->outbox);
    s_waiter_t *waiter;
    while ((waiter = zlistx_first (self->waiters)) && waiter->seq <= acked) {
        s_waiter_answer (self, waiter, "acknowledged", NULL);
        zlistx_delete (self->waiters, NULL);
    }
}

//  Answers the waiters with seq in [from, to] with status and reason.
static void
s_waiters_settle (s_node_t *self, uint64_t from, uint64_t to, const char *status,
                  const char *reason)
{
    for (s_waiter_t *waiter = zlistx_first (self->waiters); waiter;
         waiter = zlistx_next (self->waiters)) {
        if (waiter->seq < from)
            continue;
        if (waiter->seq > to)
            break;
        s_waiter_answer (self, waiter, status, reason);
        zlistx_delete (self->waiters, zlistx_cursor (self->waiters));
    }
}

//  Answers "queued" to every waiter whose time is up.
static void
s_waiters_expire (s_node_t *self, int64_t now)
{
    if (now < self->waiters_check_at)
        return;
    int64_t next = INT64_MAX;
    for (s_waiter_t *waiter = zlistx_first (self->waiters); waiter;
         waiter = zlistx_next (self->waiters)) {
        if (waiter->deadline <= now) {
            s_waiter_answer (self, waiter, "queued",
                             "broker did not acknowledge in time; the outbox will deliver it");
            zlistx_delete (self->waiters, zlistx_cursor (self->waiters));
        }
        else if (waiter->deadline < next)
            next = waiter->deadline;
    }
    self->waiters_check_at = next;
}

//  --------------------------------------------------------------------------
//  Outbox

static void
s_save_acked (s_node_t *self, int64_t now, bool force)
{
    uint64_t acked = ld_outbox_acked_seq (self->outbox);
    if (acked == self->saved_seq || (!force && now < self->save_at))
        return;
    ld_status_t rc = ld_store_meta_set (self->store, S_META_ACKED, (int64_t) acked);
    if (rc == LD_ERR_FULL)
        return; //  only an optimisation: try again later
    if (rc != LD_OK) {
        s_fatal (self, "cannot save the outbox position", ld_status_text (rc));
        return;
    }
    self->saved_seq = acked;
    self->save_at = now + S_SAVE_MS;
}

//  Forgets the batches in flight and sends again from seq `from`.
static void
s_outbox_rewind (s_node_t *self, uint64_t from)
{
    uint64_t acked = ld_outbox_acked_seq (self->outbox);
    if (ld_outbox_rewind (self->outbox, from))
        zsys_warning ("node: the broker lacks own events from seq %" PRIu64
                      " that it acknowledged up to %" PRIu64 "; sending them again",
                      from, acked);
}

typedef struct {
    s_node_t *self;
    size_t count;
    size_t used; //  bytes of self->batch_bytes
    bool oversize;
} s_loader_t;

static int
s_batch_collect (void *arg, const ld_stored_t *stored)
{
    s_loader_t *loader = arg;
    s_node_t *self = loader->self;
    if (stored->size > LD_ENVELOPE_MAX_DEFAULT) {
        loader->oversize = true;
        return 1;
    }
    if (loader->count > 0 && loader->used + stored->size > LD_SYNC_CHUNK_BYTES)
        return 1;
    memcpy (self->batch_bytes + loader->used, stored->envelope, stored->size);
    self->batch_events[loader->count].data = self->batch_bytes + loader->used;
    self->batch_events[loader->count].len = stored->size;
    loader->used += stored->size;
    loader->count++;
    return 0;
}

//  Sends what the outbox offers. Stops when the DEALER has no connection
//  to queue to (want_out: the loop then waits for it to become writable).
static void
s_outbox_pump (s_node_t *self, int64_t now)
{
    self->want_out = false;
    if (self->restoring || self->fatal)
        return;
    uint64_t batch, first, count;
    while (ld_outbox_next (self->outbox, now, &batch, &first, &count)) {
        if (!(zsock_events (self->broker) & ZMQ_POLLOUT)) {
            self->want_out = true;
            return;
        }
        s_loader_t loader = {.self = self};
        ld_status_t rc = ld_store_read_feed (self->store, self->key, first, (size_t) count,
                                             s_batch_collect, &loader);
        if (rc != LD_OK || loader.oversize || loader.count == 0) {
            s_fatal (self, "cannot read the own feed back from the store",
                     rc != LD_OK ? ld_status_text (rc) : "an own event is missing or oversize");
            return;
        }
        Liandong__Sync__Publish publish = LIANDONG__SYNC__PUBLISH__INIT;
        publish.batch = batch;
        publish.n_events = loader.count;
        publish.events = self->batch_events;
        ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
        request.kind_case = LIANDONG__SYNC__REQUEST__KIND_PUBLISH;
        request.publish = &publish;
        if (ld_request_send (self->broker, &request) != 0) {
            self->want_out = true;
            return;
        }
        ld_outbox_sent (self->outbox, batch, first, first + loader.count - 1, now);
    }
}

//  The broker holds the own feed up to seq.
static void
s_outbox_acked (s_node_t *self, uint64_t seq, int64_t now)
{
    if (seq > self->head_seq) {
        //  The broker holds events of this key that this store lacks (the
        //  data dir was lost or replaced): what it holds is not known to
        //  be ours, and signing head + 1 would fork the feed.
        if (seq > self->behind_seq) {
            self->behind_seq = seq;
            zsys_error ("node: the broker holds own feed up to seq %" PRIu64
                        " but this data dir only up to %" PRIu64
                        "; signing stopped (restore into an empty data dir with --restore)",
                        seq, self->head_seq);
        }
        return;
    }
    if (ld_outbox_acked (self->outbox, seq, now)) {
        s_waiters_acknowledged (self);
        s_save_acked (self, now, false);
    }
}

//  The broker refused own event seq for good: stop signing, persist why.
static void
s_die (s_node_t *self, uint64_t seq, const char *status, const char *reason)
{
    if (self->dead && self->dead_seq <= seq)
        return;
    char text[S_REASON_MAX];
    snprintf (text, sizeof text,
              "dead: the broker refused own event seq %" PRIu64
              " for good (%s: %.200s); this key signs no more, recovery is a new key",
              seq, status, reason ? reason : "");
    free (self->dead);
    self->dead = strdup (text);
    self->dead_seq = seq;
    zsys_error ("node: %s", text);
    ld_status_t rc = ld_store_meta_set_text (self->store, S_META_DEAD, text);
    if (rc == LD_OK)
        rc = ld_store_meta_set (self->store, S_META_DEAD_SEQ, (int64_t) seq);
    if (rc != LD_OK && rc != LD_ERR_FULL)
        s_fatal (self, "cannot record that the node is dead", ld_status_text (rc));
    s_waiters_settle (self, seq, UINT64_MAX, "refused", self->dead ? self->dead : text);
    s_outbox_limit (self);
    s_outbox_rewind (self, seq);
}

//  What an Ack for one of our batches says about our own feed.
static void
s_on_ack (s_node_t *self, const Liandong__Sync__Ack *ack, int64_t now)
{
    uint64_t first = 0, last = 0;
    bool in_window = ld_outbox_answered (self->outbox, ack->batch, now, &first, &last);
    //  Refusals first, so that the precise reason for a dead node is the
    //  one reported. Those of a batch no longer in the window were
    //  superseded by a resend, which gets its own.
    for (size_t i = 0; in_window && i < ack->n_refusals; i++) {
        const Liandong__Sync__Refusal *refusal = ack->refusals[i];
        uint64_t seq = first + refusal->index;
        if (seq > last || seq <= ld_outbox_acked_seq (self->outbox))
            continue;
        if (strcmp (refusal->status, ld_status_name (LD_ERR_GAP)) == 0)
            s_outbox_rewind (self, refusal->has_needed_seq ? refusal->needed_seq : seq);
        else if (refusal->has_retry && refusal->retry) {
            ld_outbox_pause (self->outbox, seq, now);
            if (strcmp (refusal->status, "awaiting-certificate") == 0)
                s_waiters_settle (self, seq, seq, "awaiting-certificate", refusal->reason);
            s_warn (self, "the broker holds back seq %" PRIu64 " for now (%s: %s)", seq,
                    refusal->status, refusal->reason);
        }
        else
            s_die (self, seq, refusal->status, refusal->reason);
    }
    for (size_t i = 0; i < ack->n_heads; i++) {
        const Liandong__Sync__Head *head = ack->heads[i];
        if (!s_is_own_key (self, &head->author))
            continue;
        //  A frozen feed ends before the first seq where two versions met:
        //  what the broker holds up to there is the part both share.
        if (head->has_frozen && head->frozen)
            s_die (self, head->seq + 1, ld_status_name (LD_ERR_FROZEN),
                   "the broker froze this feed after a proven fork");
        s_outbox_acked (self, head->seq, now);
    }
}

//  --------------------------------------------------------------------------
//  Restore

static void
s_restore_request (s_node_t *self, int64_t now)
{
    Liandong__Sync__FeedRequest feed = LIANDONG__SYNC__FEED_REQUEST__INIT;
    feed.author.data = self->key;
    feed.author.len = LD_KEY_BYTES;
    feed.from = self->head_seq + 1;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_FEED;
    request.feed = &feed;
    self->restore_unsent = ld_request_send (self->broker, &request) != 0;
    self->restore_at = now + S_RESTORE_WAIT_MS;
}

static void
s_restore_finish (s_node_t *self, int64_t now)
{
    ld_status_t rc = ld_store_meta_set (self->store, S_META_RESTORING, 0);
    if (rc != LD_OK) {
        s_fatal (self, "cannot record the end of the restore", ld_status_text (rc));
        return;
    }
    self->restoring = false;
    self->restore_unsent = false;
    //  Everything restored came from the broker: it is acknowledged.
    s_outbox_limit (self);
    ld_outbox_acked (self->outbox, self->head_seq, now);
    s_save_acked (self, now, true);
    zsys_info ("node: restored own feed from the broker; head seq %" PRIu64, self->head_seq);
}

//  One chunk of our own feed from the broker: verify and commit it.
static void
s_on_feed (s_node_t *self, const Liandong__Sync__FeedReply *feed, int64_t now)
{
    if (!self->restoring || !s_is_own_key (self, &feed->author))
        return;
    size_t count = 0;
    bool whole = true; //  every event of the reply was taken or already held
    char err[256];
    for (size_t i = 0; i < feed->n_events && count < LD_SYNC_BATCH_MAX; i++) {
        ld_event_t *event = NULL;
        ld_status_t rc =
            ld_event_decode (feed->events[i].data, feed->events[i].len, 0, &event, err, sizeof err);
        if (rc == LD_OK && ld_event_verify (event) != LD_OK)
            rc = ld_fail (err, sizeof err, LD_ERR_BAD_SIGNATURE, "seq %" PRIu64,
                          ld_event_seq (event));
        if (rc == LD_OK && memcmp (ld_event_author (event), self->key, LD_KEY_BYTES) != 0)
            rc = ld_fail (err, sizeof err, LD_ERR_BAD_KEY, "an event of another author");
        if (rc != LD_OK) {
            ld_event_destroy (&event);
            s_warn (self, "restore: the broker sent a bad event of the own feed: %s", err);
            whole = false;
            break;
        }
        uint64_t seq = ld_event_seq (event);
        if (seq <= self->head_seq + count) {
            ld_event_destroy (&event); //  already held (a repeated reply)
            continue;
        }
        if (seq != self->head_seq + count + 1) {
            ld_event_destroy (&event);
            whole = false;
            break;
        }
        self->events[count++] = event;
    }
    ld_status_t rc = LD_OK;
    if (count > 0) {
        rc = ld_store_append (self->store, self->events, count, zclock_time (), self->results, err,
                              sizeof err);
        for (size_t i = 0; rc == LD_OK && i < count; i++)
            if (self->results[i].status != LD_OK)
                rc = ld_fail (err, sizeof err, self->results[i].status, "restored seq %" PRIu64,
                              ld_event_seq (self->events[i]));
        if (rc == LD_OK) {
            self->head_seq = ld_event_seq (self->events[count - 1]);
            memcpy (self->head_id, ld_event_id (self->events[count - 1]), LD_ID_BYTES);
        }
    }
    for (size_t i = 0; i < count; i++)
        ld_event_destroy (&self->events[i]);
    if (rc == LD_ERR_IO || rc == LD_ERR_CORRUPT) {
        s_fatal (self, "cannot store the restored feed", err);
        return;
    }
    if (rc != LD_OK) {
        s_warn (self, "restore: cannot store a chunk: %s", err);
        self->restore_at = now + S_RESTORE_WAIT_MS; //  ask again later
        return;
    }
    if (feed->done && whole)
        s_restore_finish (self, now);
    else if (whole || count > 0)
        s_restore_request (self, now);
    else
        self->restore_at = now + S_RESTORE_WAIT_MS;
}

static ld_status_t s_broker_connect (s_node_t *self, char *err, size_t err_size);
static zsock_t *s_broker_socket (s_node_t *self, char *err, size_t err_size);

//  --------------------------------------------------------------------------
//  Authority: the broker's roots and trust feeds

//  Asks for the roots (Hello); the Welcome then asks for the trust feeds.
static void
s_trust_hello (s_node_t *self, int64_t now)
{
    if (now < self->trust_at)
        return;
    self->trust_at = now + S_TRUST_POLL_MS;
    if (self->welcome_at == 0)
        self->welcome_at = now;
    if (now - self->welcome_at > S_BROKER_SILENT_MS) {
        //  No answer for a while: a refused handshake is never retried by
        //  libzmq, so make the connection anew; what was in flight is sent
        //  again (the broker stores each event once).
        char err[256];
        self->welcome_at = now;
        if (s_broker_connect (self, err, sizeof err) != LD_OK) {
            s_fatal (self, "cannot reconnect to the broker", err);
            return;
        }
        ld_outbox_rewind (self->outbox, ld_outbox_acked_seq (self->outbox) + 1);
        s_warn (self, "no answer from broker '%s' for %d s: connecting anew", self->broker_endpoint,
                S_BROKER_SILENT_MS / 1000);
    }
    Liandong__Sync__Hello hello = LIANDONG__SYNC__HELLO__INIT;
    hello.has_version = true;
    hello.version = LD_SYNC_VERSION;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_HELLO;
    request.hello = &hello;
    if (ld_request_send (self->broker, &request) != 0)
        self->trust_at = now + S_HELLO_RETRY_MS; //  not connected yet: soon again
}

//  A Welcome: (re)builds the trust state if the roots changed, then asks
//  for the trust feeds after the cursor.
static void
s_on_welcome (s_node_t *self, const Liandong__Sync__Welcome *welcome)
{
    self->welcome_at = zclock_mono ();
    if (welcome->n_roots == 0) {
        //  An --open broker: nothing to check against.
        ld_trust_destroy (&self->trust);
        self->trust_synced = false;
        return;
    }
    //  The roots as the broker sent them, packed, to notice a change.
    Liandong__Sync__Welcome roots_only = LIANDONG__SYNC__WELCOME__INIT;
    roots_only.n_roots = welcome->n_roots;
    roots_only.roots = welcome->roots;
    size_t size = protobuf_c_message_get_packed_size (&roots_only.base);
    uint8_t *wire = malloc (size ? size : 1);
    if (!wire)
        return;
    protobuf_c_message_pack (&roots_only.base, wire);
    bool same =
        self->trust && size == self->roots_wire_size && memcmp (wire, self->roots_wire, size) == 0;
    if (!same) {
        ld_trust_destroy (&self->trust);
        self->trust = ld_trust_new ();
        for (size_t i = 0; self->trust && i < welcome->n_roots; i++) {
            const Liandong__Sync__Root *root = welcome->roots[i];
            if (root->key.len == LD_KEY_BYTES)
                ld_trust_add_root (self->trust, root->key.data, root->path, root->name);
        }
        free (self->roots_wire);
        self->roots_wire = wire;
        self->roots_wire_size = size;
        wire = NULL;
        self->trust_cursor = 0;
        self->trust_synced = false;
    }
    free (wire);
    if (!self->trust)
        return;
    Liandong__Sync__Catchup catchup = LIANDONG__SYNC__CATCHUP__INIT;
    catchup.after = self->trust_cursor;
    catchup.prefix = S_TRUST_PREFIX;
    catchup.credit = S_TRUST_CREDIT;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CATCHUP;
    request.catchup = &catchup;
    ld_request_send (self->broker, &request);
}

//  A chunk of the trust feeds: verified and folded.
static void
s_on_events (s_node_t *self, const Liandong__Sync__Events *events)
{
    if (!self->trust)
        return;
    for (size_t i = 0; i < events->n_events; i++) {
        const Liandong__Sync__Stored *stored = events->events[i];
        ld_event_t *event = NULL;
        char err[256];
        if (ld_event_decode (stored->envelope.data, stored->envelope.len, 0, &event, err,
                             sizeof err)
                != LD_OK
            || ld_event_verify (event) != LD_OK
            || strncmp (ld_event_topic (event), S_TRUST_PREFIX, strlen (S_TRUST_PREFIX)) != 0) {
            s_warn (self, "ignored a trust event the broker sent that does not verify");
            ld_event_destroy (&event);
            continue;
        }
        ld_trust_fold (self->trust, event, err, sizeof err);
        ld_event_destroy (&event);
    }
    if (events->cursor > self->trust_cursor)
        self->trust_cursor = events->cursor;
    if (events->caught_up)
        self->trust_synced = true;
    else {
        Liandong__Sync__Credit credit = LIANDONG__SYNC__CREDIT__INIT;
        credit.chunks = 1;
        ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
        request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CREDIT;
        request.credit = &credit;
        ld_request_send (self->broker, &request);
    }
}

//  --------------------------------------------------------------------------
//  Relay: foreign envelopes (an offline-signed certificate) passed to the
//  broker once. They never enter the own store or the outbox: the node
//  checks them (limits, signature), sends them in one Publish whose batch
//  id has S_RELAY_BATCH_BIT set (outbox batch ids are a counter from 1, so
//  they never meet), and answers the client with Relayed when the Ack for
//  that batch comes, or "unavailable" (retry) at the request's timeout or
//  when no broker connection is up. The client resends; the broker stores
//  each event once, so a resend is harmless.

#define S_RELAY_BATCH_BIT   (UINT64_C (1) << 63)
#define S_RELAY_UNAVAILABLE "unavailable"

//  A Relay request waiting for its Ack.
typedef struct {
    zframe_t *peer;
    uint64_t tag;
    uint64_t batch;
    int64_t deadline;
    size_t sent;                        //  envelopes in the Publish
    uint32_t *index;                    //  [sent]: position of each in the Relay
    size_t total;                       //  envelopes in the Relay
    size_t local;                       //  refused here (in refusals[0..local))
    Liandong__Sync__Refusal **refusals; //  [total], with their strings
    zframe_t *unsent;                   //  the Publish, until the broker connection takes it
} s_relay_t;

static void
s_relay_destroy (void **item)
{
    s_relay_t *relay = *item;
    if (!relay)
        return;
    zframe_destroy (&relay->peer);
    zframe_destroy (&relay->unsent);
    for (size_t i = 0; i < relay->total; i++)
        if (relay->refusals[i]) {
            free (relay->refusals[i]->status);
            free (relay->refusals[i]->reason);
            free (relay->refusals[i]);
        }
    free (relay->refusals);
    free (relay->index);
    free (relay);
    *item = NULL;
}

//  Adds a refusal of Relay position index; false if out of memory.
static bool
s_relay_refuse (s_relay_t *relay, size_t *count, uint32_t index, const char *status,
                const char *reason, bool retry)
{
    Liandong__Sync__Refusal *refusal = calloc (1, sizeof *refusal);
    if (!refusal)
        return false;
    liandong__sync__refusal__init (refusal);
    refusal->index = index;
    refusal->status = strdup (status);
    refusal->reason = strdup (reason);
    refusal->has_retry = retry;
    refusal->retry = retry;
    relay->refusals[(*count)++] = refusal;
    return refusal->status && refusal->reason;
}

static void
s_relay_answer (s_node_t *self, s_relay_t *relay, size_t refusal_count, uint32_t stored)
{
    Liandong__Sync__Relayed relayed = LIANDONG__SYNC__RELAYED__INIT;
    relayed.tag = relay->tag;
    relayed.stored = stored;
    relayed.n_refusals = refusal_count;
    relayed.refusals = relay->refusals;
    ld_control_reply_t reply = LIANDONG__SYNC__CONTROL_REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__CONTROL_REPLY__KIND_RELAYED;
    reply.relayed = &relayed;
    ld_control_reply_send (self->control, relay->peer, &reply);
}

//  Every envelope sent and not answered is "unavailable", to retry.
static void
s_relay_unavailable (s_node_t *self, s_relay_t *relay, const char *reason)
{
    size_t count = relay->local;
    for (size_t i = 0; i < relay->sent; i++)
        s_relay_refuse (relay, &count, relay->index[i], S_RELAY_UNAVAILABLE, reason, true);
    s_relay_answer (self, relay, count, 0);
}

static void s_relay_flush (s_node_t *self);

static void
s_relay_start (s_node_t *self, zframe_t **peer_p, const Liandong__Sync__Relay *request)
{
    if (!self->relays) {
        self->relays = zlistx_new ();
        if (self->relays)
            zlistx_set_destructor (self->relays, s_relay_destroy);
    }
    s_relay_t *relay = calloc (1, sizeof *relay);
    size_t total = request->n_envelopes;
    ProtobufCBinaryData *events = calloc (total ? total : 1, sizeof *events);
    if (relay) {
        relay->total = total;
        relay->refusals = calloc (total ? total : 1, sizeof *relay->refusals);
        relay->index = calloc (total ? total : 1, sizeof *relay->index);
    }
    if (!self->relays || !relay || !events || !relay->refusals || !relay->index) {
        s_reply_error (self, *peer_p, LD_ERR_NOMEM, "node out of memory: relay not sent");
        free (events);
        s_relay_destroy ((void **) &relay);
        return;
    }
    relay->peer = *peer_p;
    *peer_p = NULL;
    relay->tag = request->tag;
    for (size_t i = 0; i < total; i++) {
        const ProtobufCBinaryData *bytes = &request->envelopes[i];
        ld_event_t *event = NULL;
        char why[256], reason[S_REASON_MAX];
        ld_status_t rc = ld_event_decode (bytes->data, bytes->len, 0, &event, why, sizeof why);
        if (rc == LD_OK && (rc = ld_event_verify (event)) != LD_OK)
            snprintf (why, sizeof why, "%s", ld_status_text (rc));
        ld_event_destroy (&event);
        if (rc != LD_OK) {
            snprintf (reason, sizeof reason, "checked by the node: %s", why);
            s_relay_refuse (relay, &relay->local, (uint32_t) i, ld_status_name (rc), reason, false);
            continue;
        }
        relay->index[relay->sent] = (uint32_t) i;
        events[relay->sent++] = *bytes;
    }
    if (relay->sent == 0) {
        s_relay_answer (self, relay, relay->local, 0);
        free (events);
        s_relay_destroy ((void **) &relay);
        return;
    }
    relay->batch = S_RELAY_BATCH_BIT | ++self->relay_batch;
    uint32_t wait =
        request->has_timeout_ms && request->timeout_ms ? request->timeout_ms : S_WAIT_DEFAULT_MS;
    relay->deadline = zclock_mono () + (wait < S_WAIT_MAX_MS ? wait : S_WAIT_MAX_MS);
    Liandong__Sync__Publish publish = LIANDONG__SYNC__PUBLISH__INIT;
    publish.batch = relay->batch;
    publish.n_events = relay->sent;
    publish.events = events;
    ld_request_t out = LIANDONG__SYNC__REQUEST__INIT;
    out.kind_case = LIANDONG__SYNC__REQUEST__KIND_PUBLISH;
    out.publish = &publish;
    //  Packed once and kept until the connection takes it: a node just
    //  started (or reconnecting) has no broker connection for a moment, and
    //  the client gave us until its deadline.
    relay->unsent = zframe_new (NULL, protobuf_c_message_get_packed_size (&out.base));
    if (relay->unsent)
        protobuf_c_message_pack (&out.base, zframe_data (relay->unsent));
    free (events);
    if (!relay->unsent) {
        s_relay_unavailable (self, relay, "node out of memory");
        s_relay_destroy ((void **) &relay);
        return;
    }
    zlistx_add_end (self->relays, relay);
    s_relay_flush (self);
}

//  Sends the relays the broker connection has not taken yet.
static void
s_relay_flush (s_node_t *self)
{
    for (s_relay_t *relay = self->relays ? zlistx_first (self->relays) : NULL; relay;
         relay = zlistx_next (self->relays)) {
        if (!relay->unsent)
            continue;
        zframe_t *copy = zframe_dup (relay->unsent);
        if (copy && zframe_send (&copy, self->broker, ZFRAME_DONTWAIT) == 0)
            zframe_destroy (&relay->unsent);
        zframe_destroy (&copy);
    }
}

//  The Ack of a relay batch: answer its client.
static void
s_relay_on_ack (s_node_t *self, const Liandong__Sync__Ack *ack)
{
    for (s_relay_t *relay = self->relays ? zlistx_first (self->relays) : NULL; relay;
         relay = zlistx_next (self->relays)) {
        if (relay->batch != ack->batch)
            continue;
        size_t count = relay->local;
        size_t refused = 0;
        for (size_t i = 0; i < ack->n_refusals; i++) {
            const Liandong__Sync__Refusal *from = ack->refusals[i];
            if (from->index >= relay->sent || count >= relay->total)
                continue;
            refused++;
            size_t at = count;
            s_relay_refuse (relay, &count, relay->index[from->index], from->status, from->reason,
                            from->has_retry && from->retry);
            if (relay->refusals[at] && from->has_needed_seq) {
                relay->refusals[at]->has_needed_seq = 1;
                relay->refusals[at]->needed_seq = from->needed_seq;
            }
        }
        s_relay_answer (self, relay, count, (uint32_t) (relay->sent - refused));
        zlistx_delete (self->relays, zlistx_cursor (self->relays));
        return;
    }
}

//  Relays whose timeout passed: "unavailable".
static void
s_relay_expire (s_node_t *self, int64_t now)
{
    if (!self->relays)
        return;
    s_relay_t *relay = zlistx_first (self->relays);
    while (relay) {
        s_relay_t *next = zlistx_next (self->relays);
        if (relay->deadline <= now) {
            s_relay_unavailable (self, relay, "no verdict from the broker in time");
            void *handle = zlistx_find (self->relays, relay);
            zlistx_delete (self->relays, handle);
        }
        relay = next;
    }
}

//  The earliest relay deadline, or INT64_MAX.
static int64_t
s_relay_deadline (s_node_t *self)
{
    int64_t next = INT64_MAX;
    for (s_relay_t *relay = self->relays ? zlistx_first (self->relays) : NULL; relay;
         relay = zlistx_next (self->relays)) {
        if (relay->deadline < next)
            next = relay->deadline;
        if (relay->unsent && zclock_mono () + S_HELLO_RETRY_MS < next)
            next = zclock_mono () + S_HELLO_RETRY_MS; //  try the connection again soon
    }
    return next;
}

//  --------------------------------------------------------------------------
//  Broker replies

static void
s_broker_receive (s_node_t *self)
{
    while (!self->fatal && (zsock_events (self->broker) & ZMQ_POLLIN)) {
        char err[256];
        ld_reply_t *reply = ld_reply_recv (self->broker, err, sizeof err);
        if (!reply) {
            s_warn (self, "ignored a bad reply from the broker: %s", err);
            continue;
        }
        int64_t now = zclock_mono ();
        switch (reply->kind_case) {
            case LIANDONG__SYNC__REPLY__KIND_ACK:
                if (reply->ack->batch & S_RELAY_BATCH_BIT)
                    s_relay_on_ack (self, reply->ack);
                else
                    s_on_ack (self, reply->ack, now);
                break;
            case LIANDONG__SYNC__REPLY__KIND_FEED:
                s_on_feed (self, reply->feed, now);
                break;
            case LIANDONG__SYNC__REPLY__KIND_WELCOME:
                s_on_welcome (self, reply->welcome);
                break;
            case LIANDONG__SYNC__REPLY__KIND_EVENTS:
                s_on_events (self, reply->events);
                break;
            case LIANDONG__SYNC__REPLY__KIND_ERROR:
                //  A feed the broker never stored: nothing to restore.
                if (self->restoring
                    && strcmp (reply->error->status, ld_status_name (LD_ERR_NOT_FOUND)) == 0)
                    s_restore_finish (self, now);
                else
                    s_warn (self, "broker error: %s: %s", reply->error->status,
                            reply->error->reason);
                break;
            default:
                break; //  nothing the node asked for
        }
        ld_reply_free (&reply);
    }
}

//  --------------------------------------------------------------------------
//  Authoring

//  Why an Author request cannot be signed, written into reason; or NULL.
static const char *
s_author_refusal (s_node_t *self, const Liandong__Sync__Author *author, char *reason, size_t size)
{
    if (self->dead)
        return self->dead;
    if (self->restoring)
        return S_RESTORING;
    if (self->behind_seq > self->head_seq) {
        snprintf (reason, size,
                  "own feed is behind the broker's (seq %" PRIu64 " there, %" PRIu64
                  " here): signing would fork it; restore into an empty data dir",
                  self->behind_seq, self->head_seq);
        return reason;
    }
    ld_status_t rc = ld_topic_check (author->topic, strlen (author->topic));
    if (rc == LD_OK)
        rc = ld_type_check (author->type, strlen (author->type));
    if (rc != LD_OK) {
        snprintf (reason, size, "%s: %s", ld_status_name (rc), ld_status_text (rc));
        return reason;
    }
    return NULL;
}

static int64_t
s_wait_deadline (const Liandong__Sync__Author *author, int64_t now)
{
    int64_t wait = S_WAIT_DEFAULT_MS;
    if (author->has_timeout_ms && author->timeout_ms > 0)
        wait = author->timeout_ms < S_WAIT_MAX_MS ? author->timeout_ms : S_WAIT_MAX_MS;
    return now + wait;
}

//  Signs the pending requests in order, commits them in one transaction,
//  then answers or holds each.
static void
s_author_commit (s_node_t *self, size_t count)
{
    int64_t now_ms = zclock_time ();
    uint64_t seq = self->head_seq;
    uint8_t prev[LD_ID_BYTES];
    memcpy (prev, self->head_id, LD_ID_BYTES);
    size_t signed_count = 0;
    char err[256];
    for (size_t i = 0; i < count; i++) {
        s_pending_t *pending = &self->pending[i];
        const Liandong__Sync__Author *author = pending->request->author;
        ld_status_t rc = ld_event_sign (
            self->identity, seq + 1, seq ? prev : NULL, now_ms, author->topic, author->type,
            author->has_payload ? author->payload.data : NULL,
            author->has_payload ? author->payload.len : 0, &pending->event, err, sizeof err);
        if (rc == LD_OK && self->trust && self->trust_synced) {
            //  What the broker would refuse for good never enters the feed.
            rc = ld_trust_check (self->trust, pending->event, NULL, err, sizeof err);
            if (rc == LD_ERR_AWAITING_CERT)
                rc = LD_OK;
            if (rc != LD_OK)
                ld_event_destroy (&pending->event);
        }
        if (rc != LD_OK) {
            char reason[S_REASON_MAX];
            snprintf (reason, sizeof reason, "%s: %s", ld_status_name (rc), err);
            s_reply_authored (self, pending->peer, author->tag, "refused", NULL, 0, reason);
            continue;
        }
        self->events[signed_count++] = pending->event;
        seq++;
        memcpy (prev, ld_event_id (pending->event), LD_ID_BYTES);
    }
    ld_status_t rc = ld_store_append (self->store, self->events, signed_count, now_ms,
                                      self->results, err, sizeof err);
    for (size_t i = 0; rc == LD_OK && i < signed_count; i++)
        if (self->results[i].status != LD_OK || self->results[i].duplicate)
            rc = ld_fail (err, sizeof err, LD_ERR_CORRUPT,
                          "the own feed changed under the node at seq %" PRIu64,
                          ld_event_seq (self->events[i]));
    if (rc == LD_OK && signed_count > 0) {
        self->head_seq = seq;
        memcpy (self->head_id, prev, LD_ID_BYTES);
        s_outbox_limit (self);
    }
    if (rc != LD_OK && rc != LD_ERR_FULL)
        s_fatal (self, "cannot commit to the own feed", err);
    int64_t now = zclock_mono ();
    for (size_t i = 0; i < count; i++) {
        s_pending_t *pending = &self->pending[i];
        const Liandong__Sync__Author *author = pending->request->author;
        if (!pending->event) {
            //  refused before the commit: answered above
        }
        else if (rc != LD_OK) {
            //  A full disk stored nothing; after an I/O error nothing is
            //  known (the node stops and recovers from the WAL on restart).
            char reason[S_REASON_MAX];
            snprintf (reason, sizeof reason, "%s: %s%s", ld_status_name (rc), err,
                      rc == LD_ERR_FULL ? ""
                                        : "; the node stopped, the event may or may not be in "
                                          "its feed after a restart");
            s_reply_authored (self, pending->peer, author->tag, "refused", NULL, 0, reason);
        }
        else if (author->has_wait && author->wait)
            s_waiter_add (self, &pending->peer, author->tag, pending->event,
                          s_wait_deadline (author, now));
        else
            s_reply_authored (self, pending->peer, author->tag, "committed",
                              ld_event_id (pending->event), ld_event_seq (pending->event), NULL);
        ld_event_destroy (&pending->event);
        ld_control_request_free (&pending->request);
        zframe_destroy (&pending->peer);
    }
    s_outbox_pump (self, now);
}

//  --------------------------------------------------------------------------
//  Erasable personal data (ld_persons.h): Seal, Open, Erase

//  A failed store stops the node, as for the own feed; anything else is the
//  client's to hear.
static void
s_person_fail (s_node_t *self, zframe_t *peer, ld_status_t rc, const char *err)
{
    if (rc == LD_ERR_IO)
        s_fatal (self, "the person store failed", err);
    s_reply_error (self, peer, rc, err);
}

static void
s_person_seal (s_node_t *self, zframe_t *peer, Liandong__Sync__Seal *seal)
{
    uint8_t commitment[LD_COMMITMENT_BYTES];
    uint8_t *sealed = NULL;
    size_t sealed_size = 0;
    char err[256];
    ld_status_t rc =
        ld_persons_seal (self->store, seal->person.data, seal->person.len, zclock_time (),
                         commitment, &sealed, &sealed_size, err, sizeof err);
    //  The details in clear go no further than this request.
    sodium_memzero (seal->person.data, seal->person.len);
    if (rc != LD_OK) {
        s_person_fail (self, peer, rc, err);
        return;
    }
    Liandong__Sync__Sealed answer = LIANDONG__SYNC__SEALED__INIT;
    answer.tag = seal->tag;
    answer.sealed_person.data = sealed;
    answer.sealed_person.len = sealed_size;
    ld_control_reply_t reply = LIANDONG__SYNC__CONTROL_REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__CONTROL_REPLY__KIND_SEALED;
    reply.sealed = &answer;
    ld_control_reply_send (self->control, peer, &reply);
    free (sealed);
}

static void
s_person_open (s_node_t *self, zframe_t *peer, const Liandong__Sync__Open *open)
{
    if (!open->has_sealed_person
        && (!open->has_commitment || open->commitment.len != LD_ID_BYTES)) {
        s_reply_error (self, peer, LD_ERR_USAGE, "open needs a sealed person or a commitment");
        return;
    }
    uint8_t *person = sodium_malloc (LD_PERSON_MAX);
    if (!person) {
        s_reply_error (self, peer, LD_ERR_NOMEM, "no guarded memory for a person");
        return;
    }
    size_t size = 0;
    int64_t erased_ms = 0;
    char err[256];
    ld_status_t rc = ld_persons_open (
        self->store, open->has_sealed_person ? open->sealed_person.data : NULL,
        open->sealed_person.len, open->commitment.data, person, &size, &erased_ms, err, sizeof err);
    Liandong__Sync__Opened answer = LIANDONG__SYNC__OPENED__INIT;
    answer.tag = open->tag;
    if (rc == LD_OK) {
        answer.has_person = 1;
        answer.person.data = person;
        answer.person.len = size;
    }
    else if (rc == LD_ERR_NOT_FOUND && erased_ms > 0) {
        //  Erased is an answer, not an error: the person existed and is gone.
        answer.has_erased = answer.erased = 1;
        answer.has_erased_ms = 1;
        answer.erased_ms = erased_ms;
    }
    if (rc == LD_OK || answer.has_erased) {
        ld_control_reply_t reply = LIANDONG__SYNC__CONTROL_REPLY__INIT;
        reply.kind_case = LIANDONG__SYNC__CONTROL_REPLY__KIND_OPENED;
        reply.opened = &answer;
        ld_control_reply_send (self->control, peer, &reply);
    }
    else
        s_person_fail (self, peer, rc, err);
    sodium_free (person); //  wipes the details
}

static void
s_person_erase (s_node_t *self, zframe_t *peer, const Liandong__Sync__Erase *erase)
{
    if (erase->commitment.len != LD_COMMITMENT_BYTES) {
        s_reply_error (self, peer, LD_ERR_USAGE, "a commitment is 32 bytes");
        return;
    }
    bool already = false;
    char err[256];
    ld_status_t rc = ld_persons_erase (self->store, erase->commitment.data, zclock_time (),
                                       &already, err, sizeof err);
    if (rc != LD_OK) {
        s_person_fail (self, peer, rc, err);
        return;
    }
    Liandong__Sync__Erased answer = LIANDONG__SYNC__ERASED__INIT;
    answer.tag = erase->tag;
    answer.already = already;
    ld_control_reply_t reply = LIANDONG__SYNC__CONTROL_REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__CONTROL_REPLY__KIND_ERASED;
    reply.erased = &answer;
    ld_control_reply_send (self->control, peer, &reply);
}

//  --------------------------------------------------------------------------
//  Fetch: a ledger query's catch-up, through the node

#define S_FETCH_WAIT_MS 15000 //  no chunk this long: the fetch fails

static void
s_fetch_end (s_node_t *self)
{
    zframe_destroy (&self->fetch_peer);
    self->fetch_deadline = INT64_MAX;
}

static void s_fetch_send (s_node_t *self);

static void
s_fetch (s_node_t *self, zframe_t **peer_p, const Liandong__Sync__Fetch *fetch)
{
    bool more = fetch->has_more && fetch->more;
    if (more) {
        //  credit for the open fetch, from its own client only
        if (!self->fetch_peer || fetch->tag != self->fetch_tag
            || !zframe_eq (self->fetch_peer, *peer_p))
            return;
        Liandong__Sync__Credit credit = LIANDONG__SYNC__CREDIT__INIT;
        credit.chunks = 1;
        ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
        request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CREDIT;
        request.credit = &credit;
        ld_request_send (self->reader, &request);
        self->fetch_deadline = zclock_mono () + S_FETCH_WAIT_MS;
        return;
    }
    if (self->fetch_peer) {
        s_reply_error (self, *peer_p, LD_ERR_TOO_MANY,
                       "the node serves one fetch at a time: try again shortly");
        return;
    }
    char err[256];
    if (!self->reader && !(self->reader = s_broker_socket (self, err, sizeof err))) {
        s_reply_error (self, *peer_p, LD_ERR_USAGE, err);
        return;
    }
    self->fetch_peer = *peer_p;
    *peer_p = NULL;
    self->fetch_tag = fetch->tag;
    self->fetch_deadline = zclock_mono () + S_FETCH_WAIT_MS;
    self->fetch_after = fetch->has_after ? fetch->after : 0;
    snprintf (self->fetch_prefix, sizeof self->fetch_prefix, "%s",
              fetch->prefix ? fetch->prefix : "");
    s_fetch_send (self);
}

//  Sends the fetch's Catchup. A new connection takes a moment (the socket
//  queues only toward a completed one): what it does not take now stays
//  pending and goes when the socket is writable.
static void
s_fetch_send (s_node_t *self)
{
    Liandong__Sync__Catchup catchup = LIANDONG__SYNC__CATCHUP__INIT;
    catchup.after = self->fetch_after;
    catchup.prefix = self->fetch_prefix;
    catchup.credit = 1;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CATCHUP;
    request.catchup = &catchup;
    self->fetch_pending = ld_request_send (self->reader, &request) != 0;
}

//  The broker's chunks for the fetch, forwarded to its client.
static void
s_fetch_receive (s_node_t *self)
{
    while (self->reader && (zsock_events (self->reader) & ZMQ_POLLIN)) {
        char err[256];
        ld_reply_t *reply = ld_reply_recv (self->reader, err, sizeof err);
        if (!reply || !self->fetch_peer) {
            ld_reply_free (&reply);
            continue;
        }
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_EVENTS) {
            Liandong__Sync__Fetched fetched = LIANDONG__SYNC__FETCHED__INIT;
            fetched.tag = self->fetch_tag;
            fetched.events = reply->events;
            ld_control_reply_t out = LIANDONG__SYNC__CONTROL_REPLY__INIT;
            out.kind_case = LIANDONG__SYNC__CONTROL_REPLY__KIND_FETCHED;
            out.fetched = &fetched;
            ld_control_reply_send (self->control, self->fetch_peer, &out);
            self->fetch_deadline = zclock_mono () + S_FETCH_WAIT_MS;
            if (reply->events->caught_up)
                s_fetch_end (self);
        }
        else if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR) {
            ld_status_t status = ld_status_from_name (reply->error->status);
            s_reply_error (self, self->fetch_peer,
                           status == LD_STATUS_COUNT ? LD_ERR_UNAUTHORIZED : status,
                           reply->error->reason);
            s_fetch_end (self);
        }
        ld_reply_free (&reply);
    }
}

static void
s_fetch_expire (s_node_t *self, int64_t now)
{
    if (!self->fetch_peer || now < self->fetch_deadline)
        return;
    s_reply_error (self, self->fetch_peer, LD_ERR_IO,
                   "no answer from the broker for the fetch; it is not reachable now");
    s_fetch_end (self);
    zsock_destroy (&self->reader); //  a fresh connection next time
}

//  Takes every control request available without blocking; Author
//  requests are gathered for one group commit.
static void
s_control_receive (s_node_t *self)
{
    size_t count = 0;
    while (!self->fatal && count < LD_SYNC_BATCH_MAX
           && (zsock_events (self->control) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (self->control);
        if (!msg)
            break;
        zframe_t *peer = zmsg_pop (msg);
        zframe_t *frame = zmsg_first (msg);
        ld_control_request_t *request = NULL;
        char err[256];
        ld_status_t rc;
        if (!peer) {
            //  nothing to answer
        }
        else if (zmsg_size (msg) != 1)
            s_reply_error (self, peer, LD_ERR_MALFORMED, "a request is one frame");
        else if ((rc = ld_control_request_decode (zframe_data (frame), zframe_size (frame),
                                                  &request, err, sizeof err))
                 != LD_OK)
            s_reply_error (self, peer, rc, err);
        else if (request->kind_case == LIANDONG__SYNC__CONTROL_REQUEST__KIND_RELAY)
            s_relay_start (self, &peer, request->relay);
        else if (request->kind_case == LIANDONG__SYNC__CONTROL_REQUEST__KIND_FETCH)
            s_fetch (self, &peer, request->fetch);
        else if (request->kind_case == LIANDONG__SYNC__CONTROL_REQUEST__KIND_SEAL) {
            s_person_seal (self, peer, request->seal);
            //  protobuf-c unpacked the details from the frame: wipe both
            sodium_memzero (zframe_data (frame), zframe_size (frame));
        }
        else if (request->kind_case == LIANDONG__SYNC__CONTROL_REQUEST__KIND_OPEN)
            s_person_open (self, peer, request->open);
        else if (request->kind_case == LIANDONG__SYNC__CONTROL_REQUEST__KIND_ERASE)
            s_person_erase (self, peer, request->erase);
        else if (request->kind_case == LIANDONG__SYNC__CONTROL_REQUEST__KIND_STATUS) {
            //  Commit what came before, so the status includes it.
            if (count > 0)
                s_author_commit (self, count);
            count = 0;
            s_reply_status (self, peer);
        }
        else {
            char reason[S_REASON_MAX];
            const char *refusal = s_author_refusal (self, request->author, reason, sizeof reason);
            if (refusal)
                s_reply_authored (self, peer, request->author->tag, "refused", NULL, 0, refusal);
            else {
                self->pending[count++] = (s_pending_t){peer, request, NULL};
                peer = NULL;
                request = NULL;
            }
        }
        ld_control_request_free (&request);
        zframe_destroy (&peer);
        zmsg_destroy (&msg);
    }
    if (count > 0)
        s_author_commit (self, count);
}

//  --------------------------------------------------------------------------
//  The actor

//  Milliseconds until the earliest deadline, or -1 for none.
static long
s_poll_timeout (s_node_t *self, int64_t now)
{
    int64_t next = ld_outbox_deadline (self->outbox, now);
    if (self->waiters_check_at < next)
        next = self->waiters_check_at;
    if (ld_outbox_acked_seq (self->outbox) != self->saved_seq && self->save_at < next)
        next = self->save_at;
    if (self->restoring && self->restore_at < next)
        next = self->restore_at;
    if (self->trust_at < next)
        next = self->trust_at;
    if (self->fetch_peer && self->fetch_deadline < next)
        next = self->fetch_deadline;
    int64_t relay = s_relay_deadline (self);
    if (relay < next)
        next = relay;
    if (next == INT64_MAX)
        return -1;
    return next <= now ? 0 : (long) (next - now);
}

static void
s_tick (s_node_t *self, int64_t now)
{
    s_waiters_expire (self, now);
    s_relay_expire (self, now);
    s_relay_flush (self);
    s_fetch_expire (self, now);
    if (ld_outbox_tick (self->outbox, now))
        zsys_debug ("node: no Ack in time; sending again from seq %" PRIu64,
                    ld_outbox_acked_seq (self->outbox) + 1);
    if (self->restoring && (now >= self->restore_at || self->restore_unsent))
        s_restore_request (self, now);
    s_save_acked (self, now, false);
    s_trust_hello (self, now);
    s_outbox_pump (self, now);
}

static void
s_node_actor (zsock_t *pipe, void *args)
{
    s_node_t *self = args;
    self->pipe = pipe;
    zsock_signal (pipe, 0);
    int64_t now = zclock_mono ();
    if (self->restoring)
        s_restore_request (self, now);
    s_outbox_pump (self, now);
    while (!self->terminated) {
        now = zclock_mono ();
        bool serving = !self->fatal;
        zmq_pollitem_t items[] = {
            {zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
            {zsock_resolve (self->control), 0, ZMQ_POLLIN, 0},
            {zsock_resolve (self->broker), 0,
             ZMQ_POLLIN | (self->want_out || self->restore_unsent ? ZMQ_POLLOUT : 0), 0},
            {self->reader ? zsock_resolve (self->reader) : NULL, 0,
             ZMQ_POLLIN | (self->fetch_pending ? ZMQ_POLLOUT : 0), 0},
        };
        int count = serving ? (self->reader ? 4 : 3) : 1;
        int rc = zmq_poll (items, count, serving ? s_poll_timeout (self, now) : -1);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            break; //  the context is terminating
        }
        if (items[0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                self->terminated = true;
            zstr_free (&command);
            continue;
        }
        if (!serving)
            continue;
        if (items[2].revents & ZMQ_POLLIN)
            s_broker_receive (self);
        if (count == 4 && (items[3].revents & ZMQ_POLLOUT) && self->fetch_peer
            && self->fetch_pending)
            s_fetch_send (self);
        if (count == 4 && (items[3].revents & ZMQ_POLLIN))
            s_fetch_receive (self);
        if (items[1].revents & ZMQ_POLLIN)
            s_control_receive (self);
        if (!self->fatal)
            s_tick (self, zclock_mono ());
    }
    if (!self->fatal)
        s_save_acked (self, zclock_mono (), true);
    //  Waiting clients learn that their events are safe in the own feed.
    for (s_waiter_t *waiter = zlistx_first (self->waiters); waiter;
         waiter = zlistx_next (self->waiters))
        s_waiter_answer (self, waiter, "queued", "node stopping; the outbox will deliver it");
    s_node_destroy (&self);
}

//  --------------------------------------------------------------------------
//  Construction

//  True if a process accepts connections on the unix socket at path.
static bool
s_ipc_in_use (const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen (path) >= sizeof addr.sun_path)
        return false;
    strcpy (addr.sun_path, path);
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool in_use = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
    close (fd);
    return in_use;
}

static ld_status_t
s_prepare_dir (s_node_t *self, const char *dir, char *err, size_t err_size)
{
    if (mkdir (dir, 0700) != 0 && errno != EEXIST)
        return ld_fail (err, err_size, LD_ERR_IO, "cannot create data dir '%s': %s", dir,
                        strerror (errno));
    char path[S_PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", dir, LD_NODE_LOCK_FILE) >= (int) sizeof path)
        return ld_fail (err, err_size, LD_ERR_USAGE, "data dir path '%s' is too long", dir);
    self->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd < 0)
        return ld_fail (err, err_size, LD_ERR_IO, "cannot open '%s': %s", path, strerror (errno));
    if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return ld_fail (err, err_size, errno == EWOULDBLOCK ? LD_ERR_EXISTS : LD_ERR_IO,
                        "data dir '%s' is in use by another node", dir);
    return LD_OK;
}

//  Loads the own head, the outbox position, and the dead and restore marks.
static ld_status_t
s_load_state (s_node_t *self, const ld_node_config_t *config, char *err, size_t err_size)
{
    ld_head_t head;
    if (ld_store_head (self->store, self->key, &head) == LD_OK) {
        self->head_seq = head.seq;
        memcpy (self->head_id, head.id, LD_ID_BYTES);
    }
    int64_t value;
    uint64_t acked = 0;
    if (ld_store_meta_get (self->store, S_META_ACKED, &value) == LD_OK && value > 0)
        acked = (uint64_t) value < self->head_seq ? (uint64_t) value : self->head_seq;
    self->saved_seq = acked;
    self->outbox = ld_outbox_new (acked);
    if (!self->outbox)
        return LD_ERR_NOMEM;
    self->dead = ld_store_meta_get_text (self->store, S_META_DEAD);
    if (self->dead && ld_store_meta_get (self->store, S_META_DEAD_SEQ, &value) == LD_OK)
        self->dead_seq = (uint64_t) value;
    bool unfinished = ld_store_meta_get (self->store, S_META_RESTORING, &value) == LD_OK && value;
    if (config->restore && self->head_seq > 0 && !unfinished)
        return ld_fail (err, err_size, LD_ERR_USAGE,
                        "cannot restore into data dir '%s': it holds the own feed up to seq "
                        "%" PRIu64 " (--restore needs a data dir without own events)",
                        config->data_dir, self->head_seq);
    s_outbox_limit (self);
    self->restoring = config->restore || unfinished;
    if (self->restoring && !unfinished) {
        ld_status_t rc = ld_store_meta_set (self->store, S_META_RESTORING, 1);
        if (rc != LD_OK)
            return ld_fail (err, err_size, rc, "cannot mark the restore in '%s'", config->data_dir);
    }
    return LD_OK;
}

//  A DEALER to the broker with the node's CurveZMQ keys (if pinned).
static zsock_t *
s_broker_socket (s_node_t *self, char *err, size_t err_size)
{
    char endpoint[S_PATH_MAX + 16];
    snprintf (endpoint, sizeof endpoint, ">%s", self->broker_endpoint);
    ld_socket_spec_t broker = {
        .type = ZMQ_DEALER,
        .endpoints = endpoint,
        .max_message = LD_SYNC_FRAME_MAX,
        .immediate = true, //  nothing queued toward a dead connection
    };
    //  CurveZMQ: the node's own key, converted, and the pinned broker key.
    //  The options are copied by libzmq: the pair is wiped right after.
    ld_curve_t *curve = NULL;
    uint8_t broker_curve[LD_KEY_BYTES];
    if (self->has_broker_key) {
        if (ld_curve_public_from_key (self->broker_key, broker_curve) != LD_OK) {
            ld_fail (err, err_size, LD_ERR_USAGE, "the broker key is not a valid key");
            return NULL;
        }
        curve = ld_curve_new (self->identity);
        if (!curve) {
            ld_fail (err, err_size, LD_ERR_NOMEM, "cannot convert the node key for CURVE");
            return NULL;
        }
        broker.curve_secret = ld_curve_secret (curve);
        broker.curve_public = ld_curve_public (curve);
        broker.curve_server_key = broker_curve;
    }
    zsock_t *sock = ld_socket_new (&broker, err, err_size);
    ld_curve_destroy (&curve);
    return sock;
}

//  The DEALER to the broker, made anew: at start, and when the broker has
//  not answered a Hello for S_BROKER_SILENT_MS (libzmq does not reconnect
//  after a refused CurveZMQ handshake, and a node may start before its
//  certificate reaches the broker).
static ld_status_t
s_broker_connect (s_node_t *self, char *err, size_t err_size)
{
    zsock_destroy (&self->broker);
    self->broker = s_broker_socket (self, err, err_size);
    return self->broker ? LD_OK : LD_ERR_USAGE;
}

static ld_status_t
s_open_sockets (s_node_t *self, const ld_node_config_t *config, char *err, size_t err_size)
{
    const char *path = config->control + strlen (S_IPC_PREFIX);
    if (s_ipc_in_use (path))
        return ld_fail (err, err_size, LD_ERR_EXISTS,
                        "control socket '%s' is in use by another process", config->control);
    char endpoint[S_PATH_MAX + 16];
    snprintf (endpoint, sizeof endpoint, "@%s", config->control);
    ld_socket_spec_t control = {
        .type = ZMQ_ROUTER,
        .endpoints = endpoint,
        .max_message = S_CONTROL_FRAME_MAX,
        .sndhwm = S_CONTROL_HWM,
        .rcvhwm = S_CONTROL_HWM,
    };
    //  Only the owner may connect: the socket file is created 0700.
    mode_t old_umask = umask (077);
    self->control = ld_socket_new (&control, err, err_size);
    umask (old_umask);
    if (!self->control)
        return LD_ERR_USAGE;
    self->has_broker_key = config->has_broker_key;
    memcpy (self->broker_key, config->broker_key, LD_KEY_BYTES);
    return s_broker_connect (self, err, err_size);
}

static ld_status_t
s_node_open (const ld_node_config_t *config, s_node_t **self_p, char *err, size_t err_size)
{
    *self_p = NULL;
    if (!config->data_dir || !config->identity_path || !config->broker || !config->control)
        return ld_fail (err, err_size, LD_ERR_USAGE,
                        "data dir, identity, broker and control "
                        "are all required");
    if (strncmp (config->control, S_IPC_PREFIX, strlen (S_IPC_PREFIX)) != 0
        || config->control[strlen (S_IPC_PREFIX)] == '\0' || strlen (config->control) >= S_PATH_MAX)
        return ld_fail (err, err_size, LD_ERR_USAGE, "control endpoint '%s' is not ipc://PATH",
                        config->control);
    s_node_t *self = calloc (1, sizeof *self);
    if (!self)
        return LD_ERR_NOMEM;
    self->lock_fd = -1;
    self->waiters_check_at = INT64_MAX;
    self->broker_endpoint = strdup (config->broker);
    self->waiters = zlistx_new ();
    self->batch_bytes = malloc (LD_SYNC_CHUNK_BYTES);
    ld_status_t rc = LD_ERR_NOMEM;
    if (!self->broker_endpoint || !self->waiters || !self->batch_bytes)
        goto failed;
    zlistx_set_destructor (self->waiters, s_waiter_destroy);
    rc = s_prepare_dir (self, config->data_dir, err, err_size);
    if (rc != LD_OK)
        goto failed;
    rc = ld_identity_load (config->identity_path, &self->identity, err, err_size);
    if (rc != LD_OK)
        goto failed;
    memcpy (self->key, ld_identity_public_key (self->identity), LD_KEY_BYTES);
    char path[S_PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", config->data_dir, LD_STORE_FILE)
        >= (int) sizeof path) {
        rc = ld_fail (err, err_size, LD_ERR_USAGE, "data dir path is too long");
        goto failed;
    }
    rc = ld_store_open (path, &self->store, err, err_size);
    if (rc == LD_OK)
        rc = s_load_state (self, config, err, err_size);
    if (rc == LD_OK)
        rc = s_open_sockets (self, config, err, err_size);
    if (rc != LD_OK)
        goto failed;
    *self_p = self;
    return LD_OK;
failed:
    s_node_destroy (&self);
    return rc;
}

static void
s_node_destroy (s_node_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_node_t *self = *self_p;
    zlistx_destroy (&self->waiters);
    zlistx_destroy (&self->relays);
    ld_outbox_destroy (&self->outbox);
    zsock_destroy (&self->control);
    zsock_destroy (&self->broker);
    ld_store_destroy (&self->store);
    ld_identity_destroy (&self->identity);
    if (self->lock_fd >= 0)
        close (self->lock_fd); //  releases the lock
    free (self->broker_endpoint);
    free (self->dead);
    free (self->batch_bytes);
    ld_trust_destroy (&self->trust);
    free (self->roots_wire);
    zframe_destroy (&self->fetch_peer);
    zsock_destroy (&self->reader);
    free (self);
    *self_p = NULL;
}

zactor_t *
ld_node_new (const ld_node_config_t *config, ld_status_t *status_p, char *err, size_t err_size)
{
    ld_status_t ignored;
    if (!status_p)
        status_p = &ignored;
    s_node_t *self = NULL;
    *status_p = s_node_open (config, &self, err, err_size);
    if (*status_p != LD_OK)
        return NULL;
    zactor_t *actor = zactor_new (s_node_actor, self);
    if (!actor) {
        s_node_destroy (&self);
        *status_p = ld_fail (err, err_size, LD_ERR_NOMEM, "cannot start the node thread");
    }
    return actor;
}

void
ld_node_destroy (zactor_t **self_p)
{
    zactor_destroy (self_p);
}
