/*  ld_broker.c -- the broker actor. See ld_broker.h.

    Sockets
        ROUTER  --listen   requests from nodes, tails and peers (ld_sync.proto)
        PUB     live       every stored event once: [topic][store seq][envelope]
        pipes              one verifier actor per core (ld_verifier.h)

    Order of operations for a Publish (the invariant: nothing is acknowledged
    before it is durable, and nothing is published before it is stored):
      1. the ROUTER frame is decoded with the bounded codec; the batch gets a
         ticket and goes to a verifier (round robin);
      2. verified jobs come back in any order; they are taken in ticket order
         so that one client's batches are stored in the order it sent them;
      3. jobs that are ready are grouped (up to LD_RECEIPT_RANGES_MAX events)
         and appended in one transaction together with the broker's receipt
         for them; the transaction commits (fsync);
      4. only then each job gets its Ack (the head of every author of the
         batch, and why each refused event was refused), and every event
         stored is published on the live socket with its store seq.
    While one group commits, the verifiers go on with the next jobs, so
    commits grow with the load (group commit without a timer).

    Storage faults (DESIGN.md section 8): a full disk refuses the group with
    "disk-full" (retry) and the broker goes on serving reads; the next group
    tries again, so ingest resumes by itself. Any other storage error stops
    the actor at once without acknowledging anything of the group: it sends
    "FATAL" on its pipe and the daemon exits with LD_BROKER_EXIT_IO.

    Catch-up streams are served between ingest rounds: one bounded chunk per
    stream per round, and only while the client has credit, so a slow reader
    costs the broker one cursor and never a queue.

    Transport (docs/TRUST.md; nothing of this with --open)
      - The ROUTER and the live PUB are CurveZMQ servers with the broker
        identity's Curve25519 pair; our ZAP handler (ld_zap.h) is started
        before the first bind and admits only the keys of s_zap_refresh:
        allowed subscribers and trusted keys. CURVE without a handler admits
        anyone, so after binding a probe with a random key must be refused,
        or the broker refuses to serve; if the handler stops later, the
        broker stops too ("FATAL ZAP").
      - Every request names its sender (User-Id, set by the handler); the
        sender is checked on every message (s_sender_may): allowed
        subscribers may only read, publishing needs trust.
      - A key that loses its standing (s_revoke_sessions) loses its catch-up
        streams and, by a rebind of the live PUB, its live feed: every
        subscriber re-handshakes, and the handler refuses that key.
*/
#include "ld_broker.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ld_chunk.h"
#include "ld_guard.h"
#include "ld_payload.h"
#include "ld_peer.h"
#include "ld_socket.h"
#include "ld_store.h"
#include "ld_sync.h"
#include "ld_verifier.h"
#include "ld_zap.h"

#define S_JOBS_IN_FLIGHT_MAX 32     //  batches between decode and Ack
#define S_ROUTER_DRAIN_MAX   256    //  requests read per round
#define S_STREAMS_MAX        4096   //  open catch-up streams
#define S_CHUNK_SCAN_MAX     20000  //  store seqs scanned for one chunk
#define S_CREDIT_MAX         8      //  chunks a client may have outstanding
#define S_STREAM_IDLE_MS     120000 //  a stream without credit this long is closed
#define S_LIVE_HWM           20000  //  live messages queued per subscriber
#define S_HOUSEKEEPING_MS    1000
#define S_LIVE_FILE          "live.endpoint"
#define S_ZAP_PROBE_MS       5000 //  start-up: the probe's handshake verdict
#define S_REBIND_TRIES       100  //  live rebind: the old listener closes asynchronously
#define S_REBIND_WAIT_MS     10

//  One Publish between its arrival and its Ack, or one chunk a --follow
//  link pulled (peer set, no routing id) between its arrival and
//  ld_peer_ingested.
typedef struct {
    uint64_t ticket;
    zframe_t *routing_id;
    ld_request_t *request; //  owns the envelope bytes of a Publish
    ld_reply_t *reply;     //  owns the envelope bytes of a pulled FeedReply
    ld_peer_t *peer;       //  the link that pulled it
    uint64_t round;        //  the link's round
    uint64_t batch;        //  echoed in the Ack
    //  replication (Publish.relay from a broker, or pulled): no receipt,
    //  authors outside the selection refused, cut events stored marked
    bool relay;
    ld_status_t *cut; //  relay: why an event is stored marked invalid (LD_OK: valid)
    ld_verify_job_t verify;
    ld_append_result_t *results;
    bool verified;
} s_job_t;

//  One client's catch-up stream.
typedef struct {
    zframe_t *routing_id;
    uint64_t cursor; //  everything <= cursor matching prefix has been sent
    char *prefix;
    uint32_t credit;
    int64_t last_active;
    bool has_sender; //  not with --open
    uint8_t sender[LD_KEY_BYTES];
} s_stream_t;

typedef struct {
    zsock_t *pipe;
    ld_broker_config_t config;
    ld_store_t *store;
    ld_guard_t *guard; //  NULL: an --open broker
    zsock_t *router;
    zsock_t *pub;
    ld_curve_t *curve; //  the identity's Curve25519 pair; NULL with --open
    ld_zap_t *zap;     //  the ZAP handler; NULL with --open
    zactor_t *workers[LD_BROKER_WORKERS_MAX];
    size_t worker_count;
    size_t next_worker;
    zlistx_t *jobs; //  s_job_t, in ticket order
    uint64_t next_ticket;
    zhashx_t *streams; //  hex routing id -> s_stream_t
    char receipt_topic[64];
    ld_peer_t *peers[LD_PEER_MAX];
    size_t peer_count;
    bool terminated;
    bool fatal;
    bool disk_full;
    //  counters, for logs and status
    uint64_t received, stored, duplicates, refused, malformed, unauthorized;
} s_self_t;

static void s_selection (void *arg, ld_selection_t *selection);
static int s_peer_ingest (void *arg, ld_peer_t *peer, ld_reply_t **reply_p, uint64_t round);

struct _ld_broker_t {
    zactor_t *actor;
    char *ready;
    char *error;
};

//  --------------------------------------------------------------------------
//  Jobs and streams

static void
s_job_destroy (s_job_t **job_p)
{
    if (!job_p || !*job_p)
        return;
    s_job_t *job = *job_p;
    for (size_t i = 0; job->verify.events && i < job->verify.count; i++)
        ld_event_destroy (&job->verify.events[i]);
    free (job->verify.events);
    free (job->verify.status);
    free (job->verify.reasons);
    free ((void *) job->verify.envelopes);
    free ((void *) job->verify.sizes);
    free (job->results);
    free (job->cut);
    ld_request_free (&job->request);
    ld_reply_free (&job->reply);
    zframe_destroy (&job->routing_id);
    free (job);
    *job_p = NULL;
}

//  Fills a new job's arrays for count envelopes (borrowed from the message
//  the job owns). Returns the job, or NULL (destroyed) if out of memory.
static s_job_t *
s_job_fill (s_self_t *self, s_job_t *job, const ProtobufCBinaryData *events, size_t count)
{
    job->ticket = self->next_ticket++;
    size_t slots = count ? count : 1;
    job->verify.count = count;
    job->verify.envelope_max = self->config.envelope_max;
    const uint8_t **envelopes = calloc (slots, sizeof *envelopes);
    size_t *sizes = calloc (slots, sizeof *sizes);
    job->verify.events = calloc (slots, sizeof *job->verify.events);
    job->verify.status = calloc (slots, sizeof *job->verify.status);
    job->verify.reasons = calloc (slots, sizeof *job->verify.reasons);
    job->results = calloc (slots, sizeof *job->results);
    job->cut = calloc (slots, sizeof *job->cut);
    job->verify.envelopes = envelopes;
    job->verify.sizes = sizes;
    if (!envelopes || !sizes || !job->verify.events || !job->verify.status || !job->verify.reasons
        || !job->results || !job->cut) {
        s_job_destroy (&job);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        envelopes[i] = events[i].data;
        sizes[i] = events[i].len;
    }
    return job;
}

//  A job for a decoded Publish; takes the request and the routing id.
static s_job_t *
s_job_new (s_self_t *self, zframe_t **routing_id_p, ld_request_t **request_p)
{
    s_job_t *job = calloc (1, sizeof *job);
    if (!job)
        return NULL;
    job->routing_id = *routing_id_p;
    *routing_id_p = NULL;
    job->request = *request_p;
    *request_p = NULL;
    job->batch = job->request->publish->batch;
    return s_job_fill (self, job, job->request->publish->events, job->request->publish->n_events);
}

static void
s_stream_destroy (void **item)
{
    s_stream_t *stream = *item;
    if (stream) {
        zframe_destroy (&stream->routing_id);
        free (stream->prefix);
        free (stream);
    }
    *item = NULL;
}

//  --------------------------------------------------------------------------
//  Replies

static void
s_send_error (s_self_t *self, zframe_t *routing_id, ld_status_t status, const char *reason)
{
    Liandong__Sync__Error error = LIANDONG__SYNC__ERROR__INIT;
    error.status = (char *) ld_status_name (status);
    error.reason = (char *) reason;
    ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__REPLY__KIND_ERROR;
    reply.error = &error;
    ld_reply_send (self->router, routing_id, &reply);
}

static void
s_handle_hello (s_self_t *self, zframe_t *routing_id)
{
    Liandong__Sync__Endpoint live = LIANDONG__SYNC__ENDPOINT__INIT;
    live.name = "live";
    live.address = (char *) zsock_endpoint (self->pub);
    Liandong__Sync__Endpoint *endpoints[] = {&live};
    Liandong__Sync__Welcome welcome = LIANDONG__SYNC__WELCOME__INIT;
    welcome.version = LD_SYNC_VERSION;
    welcome.broker_key.data = (uint8_t *) ld_identity_public_key (self->config.identity);
    welcome.broker_key.len = LD_KEY_BYTES;
    welcome.n_endpoints = 1;
    welcome.endpoints = endpoints;
    welcome.last_seq = ld_store_last_seq (self->store);
    size_t root_count = 0;
    const ld_guard_root_t *roots = self->guard ? ld_guard_roots (self->guard, &root_count) : NULL;
    Liandong__Sync__Root wire_roots[LD_BROKER_ROOTS_MAX];
    Liandong__Sync__Root *root_ptrs[LD_BROKER_ROOTS_MAX];
    for (size_t i = 0; i < root_count && i < LD_BROKER_ROOTS_MAX; i++) {
        liandong__sync__root__init (&wire_roots[i]);
        wire_roots[i].key.data = (uint8_t *) roots[i].key;
        wire_roots[i].key.len = LD_KEY_BYTES;
        wire_roots[i].path = (char *) roots[i].path;
        wire_roots[i].name = (char *) roots[i].name;
        root_ptrs[i] = &wire_roots[i];
        welcome.n_roots = i + 1;
    }
    welcome.roots = root_ptrs;
    ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__REPLY__KIND_WELCOME;
    reply.welcome = &welcome;
    ld_reply_send (self->router, routing_id, &reply);
}

static void
s_head_to_wire (const ld_head_t *head, Liandong__Sync__Head *wire)
{
    liandong__sync__head__init (wire);
    wire->author.data = (uint8_t *) head->author;
    wire->author.len = LD_KEY_BYTES;
    wire->seq = head->seq;
    wire->has_head_id = head->seq > 0;
    wire->head_id.data = (uint8_t *) head->id;
    wire->head_id.len = LD_ID_BYTES;
    wire->has_frozen = head->frozen;
    wire->frozen = head->frozen;
}

static void
s_handle_heads (s_self_t *self, zframe_t *routing_id)
{
    ld_head_t *heads = NULL;
    size_t count = 0;
    if (ld_store_heads (self->store, &heads, &count) != LD_OK) {
        s_send_error (self, routing_id, LD_ERR_NOMEM, "cannot read the head vector");
        return;
    }
    Liandong__Sync__Head *wire = calloc (count ? count : 1, sizeof *wire);
    Liandong__Sync__Head **pointers = calloc (count ? count : 1, sizeof *pointers);
    if (wire && pointers) {
        for (size_t i = 0; i < count; i++) {
            s_head_to_wire (&heads[i], &wire[i]);
            pointers[i] = &wire[i];
        }
        Liandong__Sync__HeadsReply heads_reply = LIANDONG__SYNC__HEADS_REPLY__INIT;
        heads_reply.n_heads = count;
        heads_reply.heads = pointers;
        ld_selection_t selection;
        s_selection (self, &selection);
        heads_reply.has_select_all = true;
        heads_reply.select_all = selection.all;
        heads_reply.n_select = selection.count;
        heads_reply.select = (char **) selection.paths;
        ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
        reply.kind_case = LIANDONG__SYNC__REPLY__KIND_HEADS;
        reply.heads = &heads_reply;
        ld_reply_send (self->router, routing_id, &reply);
    }
    free (pointers);
    free (wire);
    free (heads);
}

//  A FeedReply of the chunk (or the Error of a failed read); clears the
//  chunk.
static void
s_send_feed (s_self_t *self, zframe_t *routing_id, ProtobufCBinaryData author, ld_chunk_t *chunk,
             ld_status_t rc, bool done)
{
    if (rc != LD_OK)
        s_send_error (self, routing_id, rc, "cannot read the store");
    else {
        Liandong__Sync__FeedReply feed = LIANDONG__SYNC__FEED_REPLY__INIT;
        feed.author = author;
        feed.n_events = chunk->count;
        feed.events = chunk->events;
        feed.done = done;
        ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
        reply.kind_case = LIANDONG__SYNC__REPLY__KIND_FEED;
        reply.feed = &feed;
        ld_reply_send (self->router, routing_id, &reply);
    }
    ld_chunk_clear (chunk);
}

static void
s_handle_feed (s_self_t *self, zframe_t *routing_id, Liandong__Sync__FeedRequest *request)
{
    if (request->author.len != LD_KEY_BYTES) {
        s_send_error (self, routing_id, LD_ERR_BAD_KEY, "feed request for a malformed key");
        return;
    }
    ld_chunk_t chunk;
    if (ld_chunk_init (&chunk, LD_SYNC_BATCH_MAX) != 0) {
        s_send_error (self, routing_id, LD_ERR_NOMEM, "out of memory");
        return;
    }
    uint64_t from = request->from ? request->from : 1;
    ld_status_t rc = ld_store_read_feed (self->store, request->author.data, from, LD_SYNC_BATCH_MAX,
                                         ld_chunk_collect, &chunk);
    ld_head_t head = {0};
    bool known = ld_store_head (self->store, request->author.data, &head) == LD_OK;
    s_send_feed (self, routing_id, request->author, &chunk, rc,
                 !known || from + chunk.count > head.seq);
}

//  The versions of a frozen author's seq head + 1: the fork's proof, for a
//  peer that has not proven it yet.
static void
s_handle_evidence (s_self_t *self, zframe_t *routing_id, Liandong__Sync__EvidenceRequest *request)
{
    if (request->author.len != LD_KEY_BYTES) {
        s_send_error (self, routing_id, LD_ERR_BAD_KEY, "evidence request for a malformed key");
        return;
    }
    ld_chunk_t chunk;
    if (ld_chunk_init (&chunk, LD_EVIDENCE_MAX) != 0) {
        s_send_error (self, routing_id, LD_ERR_NOMEM, "out of memory");
        return;
    }
    ld_head_t head = {0};
    ld_status_t rc = LD_OK;
    if (ld_store_head (self->store, request->author.data, &head) == LD_OK && head.frozen) {
        chunk.only_seq = head.seq + 1;
        rc = ld_store_read_evidence (self->store, request->author.data, ld_chunk_collect, &chunk);
    }
    s_send_feed (self, routing_id, request->author, &chunk, rc, true);
}

static void
s_handle_broker_status (s_self_t *self, zframe_t *routing_id,
                        Liandong__Sync__BrokerStatusRequest *request)
{
    Liandong__Sync__BrokerStatus status = LIANDONG__SYNC__BROKER_STATUS__INIT;
    status.key.data = (uint8_t *) ld_identity_public_key (self->config.identity);
    status.key.len = LD_KEY_BYTES;
    status.last_seq = ld_store_last_seq (self->store);
    ld_head_t *heads = NULL;
    size_t count = 0;
    if (ld_store_heads (self->store, &heads, &count) != LD_OK) {
        s_send_error (self, routing_id, LD_ERR_NOMEM, "cannot read the head vector");
        return;
    }
    status.authors = count;
    for (size_t i = 0; i < count; i++) {
        status.events += heads[i].seq;
        status.frozen += heads[i].frozen;
    }
    free (heads);
    Liandong__Sync__PeerStatus peers[LD_PEER_MAX];
    Liandong__Sync__PeerStatus *peer_ptrs[LD_PEER_MAX];
    for (size_t i = 0; i < self->peer_count; i++) {
        ld_peer_status (self->peers[i], &peers[i]);
        peer_ptrs[i] = &peers[i];
    }
    status.n_peers = self->peer_count;
    status.peers = peer_ptrs;
    ld_selection_t selection;
    s_selection (self, &selection);
    status.has_select_all = true;
    status.select_all = selection.all;
    status.n_select = selection.count;
    status.select = (char **) selection.paths;
    uint8_t heads_digest[LD_ID_BYTES], events_digest[LD_ID_BYTES];
    if (request->has_digest && request->digest) {
        uint64_t invalid = 0;
        ld_status_t rc = ld_store_digest (self->store, heads_digest, events_digest, NULL, &invalid);
        if (rc != LD_OK) {
            s_send_error (self, routing_id, rc, "cannot digest the store");
            return;
        }
        status.has_heads_digest = status.has_events_digest = status.has_invalid = true;
        status.heads_digest.data = heads_digest;
        status.heads_digest.len = LD_ID_BYTES;
        status.events_digest.data = events_digest;
        status.events_digest.len = LD_ID_BYTES;
        status.invalid = invalid;
    }
    ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__REPLY__KIND_BROKER_STATUS;
    reply.broker_status = &status;
    ld_reply_send (self->router, routing_id, &reply);
}

//  --------------------------------------------------------------------------
//  Catch-up

static s_stream_t *
s_stream_for (s_self_t *self, zframe_t *routing_id)
{
    char *key = zframe_strhex (routing_id);
    s_stream_t *stream = key ? zhashx_lookup (self->streams, key) : NULL;
    free (key);
    return stream;
}

static void
s_handle_catchup (s_self_t *self, zframe_t *routing_id, const uint8_t *sender,
                  Liandong__Sync__Catchup *catchup)
{
    const char *prefix = catchup->prefix ? catchup->prefix : "";
    if (*prefix && ld_topic_check (prefix, strlen (prefix)) == LD_ERR_TOPIC_TOO_LONG) {
        s_send_error (self, routing_id, LD_ERR_TOPIC_TOO_LONG, "catch-up prefix too long");
        return;
    }
    char *key = zframe_strhex (routing_id);
    if (!key)
        return;
    s_stream_t *stream = zhashx_lookup (self->streams, key);
    if (!stream) {
        if (zhashx_size (self->streams) >= S_STREAMS_MAX) {
            s_send_error (self, routing_id, LD_ERR_TOO_MANY, "too many catch-up streams");
            free (key);
            return;
        }
        stream = calloc (1, sizeof *stream);
        if (!stream) {
            free (key);
            return;
        }
        stream->routing_id = zframe_dup (routing_id);
        zhashx_insert (self->streams, key, stream);
    }
    free (key);
    free (stream->prefix);
    stream->prefix = strdup (prefix);
    stream->cursor = catchup->after;
    stream->credit = catchup->credit > S_CREDIT_MAX ? S_CREDIT_MAX : catchup->credit;
    stream->last_active = zclock_time ();
    stream->has_sender = sender != NULL;
    if (sender)
        memcpy (stream->sender, sender, LD_KEY_BYTES);
}

static void
s_handle_credit (s_self_t *self, zframe_t *routing_id, Liandong__Sync__Credit *credit)
{
    s_stream_t *stream = s_stream_for (self, routing_id);
    if (!stream)
        return; //  the stream ended; late credit is harmless
    uint64_t total = (uint64_t) stream->credit + credit->chunks;
    stream->credit = total > S_CREDIT_MAX ? S_CREDIT_MAX : (uint32_t) total;
    stream->last_active = zclock_time ();
}

//  The static status name of an invalid mark read from the store.
static const char *
s_invalid_name (const char *mark)
{
    ld_status_t status = ld_status_from_name (mark);
    return status == LD_STATUS_COUNT || status == LD_OK ? "invalid" : ld_status_name (status);
}

typedef struct {
    Liandong__Sync__Stored *items;
    Liandong__Sync__Stored **pointers;
    size_t count;
    size_t bytes;
    uint64_t last_seq;
    bool full;
} s_chunk_t;

static int
s_collect_chunk (void *arg, const ld_stored_t *stored)
{
    s_chunk_t *chunk = arg;
    if (chunk->count == LD_SYNC_BATCH_MAX
        || (chunk->count > 0 && chunk->bytes + stored->size > LD_SYNC_CHUNK_BYTES)) {
        chunk->full = true;
        return 1;
    }
    uint8_t *copy = malloc (stored->size ? stored->size : 1);
    if (!copy) {
        chunk->full = true;
        return 1;
    }
    memcpy (copy, stored->envelope, stored->size);
    Liandong__Sync__Stored *item = &chunk->items[chunk->count];
    liandong__sync__stored__init (item);
    item->store_seq = stored->store_seq;
    item->envelope.data = copy;
    item->envelope.len = stored->size;
    item->has_stored_ms = 1;
    item->stored_ms = stored->stored_ms;
    item->has_receipt_seq = stored->receipt_seq != 0;
    item->receipt_seq = stored->receipt_seq;
    //  status names are static strings; the column text is copied by name
    item->invalid = stored->invalid ? (char *) s_invalid_name (stored->invalid) : NULL;
    chunk->pointers[chunk->count] = item;
    chunk->count++;
    chunk->bytes += stored->size;
    chunk->last_seq = stored->store_seq;
    return 0;
}

//  Sends one chunk of a stream. Returns true if the stream is finished.
static bool
s_serve_stream (s_self_t *self, s_stream_t *stream, s_chunk_t *chunk)
{
    uint64_t last = ld_store_last_seq (self->store);
    uint64_t window_end = stream->cursor + S_CHUNK_SCAN_MAX;
    if (window_end > last || window_end < stream->cursor)
        window_end = last;
    chunk->count = 0;
    chunk->bytes = 0;
    chunk->full = false;
    ld_status_t rc = LD_OK;
    if (stream->cursor < window_end)
        rc = ld_store_read_range (self->store, stream->cursor, window_end, stream->prefix,
                                  LD_SYNC_BATCH_MAX + 1, s_collect_chunk, chunk);
    //  Everything up to the window's end was scanned, unless the chunk
    //  filled first; then everything up to its last event.
    uint64_t cursor = chunk->full ? chunk->last_seq : window_end;
    if (cursor < stream->cursor)
        cursor = stream->cursor;
    bool caught_up = rc == LD_OK && !chunk->full && cursor >= last;
    Liandong__Sync__Events events = LIANDONG__SYNC__EVENTS__INIT;
    events.cursor = cursor;
    events.caught_up = caught_up;
    events.n_events = chunk->count;
    events.events = chunk->pointers;
    ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__REPLY__KIND_EVENTS;
    reply.events = &events;
    bool sent = rc == LD_OK && ld_reply_send (self->router, stream->routing_id, &reply) == 0;
    for (size_t i = 0; i < chunk->count; i++)
        free (chunk->items[i].envelope.data);
    if (rc != LD_OK) {
        s_send_error (self, stream->routing_id, rc, "cannot read the store");
        return true;
    }
    if (!sent) {
        //  Gone (unroutable): end the stream. Queue full: stop serving it
        //  until the client asks again; clients re-ask when a chunk is late.
        if (errno == EHOSTUNREACH)
            return true;
        stream->credit = 0;
        return false;
    }
    stream->cursor = cursor;
    stream->credit--;
    return caught_up;
}

//  Serves one chunk to every stream with credit; drops finished and idle
//  streams. Returns true if some stream still has credit (poll again soon).
static bool
s_serve_streams (s_self_t *self)
{
    if (zhashx_size (self->streams) == 0)
        return false;
    s_chunk_t chunk = {0};
    chunk.items = calloc (LD_SYNC_BATCH_MAX, sizeof *chunk.items);
    chunk.pointers = calloc (LD_SYNC_BATCH_MAX, sizeof *chunk.pointers);
    if (!chunk.items || !chunk.pointers) {
        free (chunk.items);
        free (chunk.pointers);
        return false;
    }
    int64_t now = zclock_time ();
    zlistx_t *finished = zlistx_new ();
    bool more = false;
    for (s_stream_t *stream = zhashx_first (self->streams); stream;
         stream = zhashx_next (self->streams)) {
        if (stream->credit == 0) {
            if (now - stream->last_active > S_STREAM_IDLE_MS)
                zlistx_add_end (finished, (void *) zhashx_cursor (self->streams));
            continue;
        }
        if (s_serve_stream (self, stream, &chunk))
            zlistx_add_end (finished, (void *) zhashx_cursor (self->streams));
        else if (stream->credit > 0)
            more = true;
    }
    for (const char *key = zlistx_first (finished); key; key = zlistx_next (finished))
        zhashx_delete (self->streams, key);
    zlistx_destroy (&finished);
    free (chunk.items);
    free (chunk.pointers);
    return more;
}

//  --------------------------------------------------------------------------
//  Transport: who may connect, who may ask what

//  The keys the trust fold holds valid now (roots and every key with an
//  unrevoked certificate chain): the ZAP handler admits them to read and
//  publish. Returns their number and, in *keys_p, an array the caller
//  frees.
static size_t
s_trust_keys (s_self_t *self, uint8_t (**keys_p)[LD_KEY_BYTES])
{
    *keys_p = NULL;
    size_t count = 0;
    if (self->guard && ld_guard_keys (self->guard, keys_p, &count) != LD_OK)
        zsys_error ("broker: cannot list the trusted keys: out of memory");
    return count;
}

//  True if key may publish here now (a root, or a key with a valid
//  certificate chain whose feed is not cut).
static bool
s_trust_admits (s_self_t *self, const uint8_t key[LD_KEY_BYTES])
{
    return self->guard && ld_guard_admits (self->guard, key);
}

//  True if key was given with --allow-subscriber.
static bool
s_allowed (s_self_t *self, const uint8_t key[LD_KEY_BYTES])
{
    for (size_t i = 0; i < self->config.allow_count; i++)
        if (sodium_memcmp (self->config.allow[i], key, LD_KEY_BYTES) == 0)
            return true;
    return false;
}

//  Whether the sender may make a request: reading (Hello, Catchup, Credit,
//  Feed, Heads) needs an allowed or a trusted key, publishing a trusted
//  one. The handshake admitted the key once; this is asked on every
//  message, so a key that lost its standing is refused at once.
static ld_status_t
s_sender_may (s_self_t *self, const uint8_t key[LD_KEY_BYTES], bool publish, char *err,
              size_t err_size)
{
    if (s_trust_admits (self, key))
        return LD_OK;
    char text[LD_KEY_TEXT_BYTES];
    ld_key_to_text (key, text);
    if (publish)
        return ld_fail (err, err_size, LD_ERR_UNAUTHORIZED,
                        "key '%s' may not publish: it holds no valid certificate here%s", text,
                        s_allowed (self, key) ? " (it is an allowed subscriber: read only)" : "");
    if (s_allowed (self, key))
        return LD_OK;
    return ld_fail (err, err_size, LD_ERR_UNAUTHORIZED,
                    "key '%s' is neither trusted nor an allowed subscriber", text);
}

//  The sender of a request, from the User-Id our ZAP handler gave its
//  connection, checked with s_sender_may.
static ld_status_t
s_sender_check (s_self_t *self, zframe_t *frame, const ld_request_t *request,
                uint8_t key[LD_KEY_BYTES], char *err, size_t err_size)
{
    const char *user_id = zframe_meta (frame, "User-Id");
    if (!user_id || ld_key_from_text (user_id, key) != LD_OK)
        return ld_fail (err, err_size, LD_ERR_UNAUTHORIZED, "the connection names no sender key");
    bool publish = request->kind_case == LIANDONG__SYNC__REQUEST__KIND_PUBLISH;
    return s_sender_may (self, key, publish, err, err_size);
}

//  Gives the ZAP handler the keys it admits: allowed subscribers (read) and
//  trusted keys (read and publish). Call after every change of either.
static void
s_zap_refresh (s_self_t *self)
{
    if (!self->zap)
        return;
    uint8_t (*trusted)[LD_KEY_BYTES] = NULL;
    size_t trusted_count = s_trust_keys (self, &trusted);
    size_t count = self->config.allow_count + trusted_count;
    ld_zap_entry_t *entries = calloc (count ? count : 1, sizeof *entries);
    size_t n = 0;
    for (size_t i = 0; entries && i < self->config.allow_count; i++) {
        memcpy (entries[n].key, self->config.allow[i], LD_KEY_BYTES);
        entries[n++].roles = LD_ZAP_SUBSCRIBE;
    }
    for (size_t i = 0; entries && i < trusted_count; i++) {
        memcpy (entries[n].key, trusted[i], LD_KEY_BYTES);
        entries[n++].roles = LD_ZAP_SUBSCRIBE | LD_ZAP_PUBLISH;
    }
    //  Out of memory: an empty table (fail closed) rather than a stale one.
    if (ld_zap_set (self->zap, entries, n) != 0 || !entries)
        zsys_warning ("broker: the ZAP handler admits fewer keys than configured "
                      "(a key is not a valid Ed25519 point, or memory ran out)");
    free (entries);
    free (trusted);
}

//  Makes spec a CURVE server with the broker's pair (nothing with --open).
static void
s_secure (s_self_t *self, ld_socket_spec_t *spec)
{
    if (!self->curve)
        return;
    spec->curve_secret = ld_curve_secret (self->curve);
    spec->curve_public = ld_curve_public (self->curve);
    spec->zap_domain = LD_ZAP_DOMAIN;
}

static zsock_t *
s_live_socket (s_self_t *self, char *err, size_t err_size)
{
    ld_socket_spec_t spec = {.type = ZMQ_PUB, .sndhwm = S_LIVE_HWM};
    s_secure (self, &spec);
    return ld_socket_new (&spec, err, err_size);
}

//  A new live PUB at the same endpoint: every subscriber reconnects and
//  handshakes again, so the ZAP handler judges each key anew. Subscribers
//  refill what they missed meanwhile from catch-up by store seq. Returns
//  0, or -1 (with err) if the endpoint cannot be bound again.
static int
s_rebind_live (s_self_t *self, char *err, size_t err_size)
{
    char endpoint[300];
    snprintf (endpoint, sizeof endpoint, "%s", zsock_endpoint (self->pub));
    zsock_destroy (&self->pub);
    self->pub = s_live_socket (self, err, err_size);
    if (!self->pub)
        return -1;
    //  libzmq closes the old listener in its I/O thread, after zmq_close
    //  returns: the port is free a moment later. Bounded retries, no more.
    for (int tries = 0; tries < S_REBIND_TRIES; tries++) {
        if (zsock_bind (self->pub, "%s", endpoint) >= 0)
            return 0;
        if (errno != EADDRINUSE)
            break;
        zclock_sleep (S_REBIND_WAIT_MS);
    }
    snprintf (err, err_size, "cannot bind the live endpoint '%s' again: %s", endpoint,
              zmq_strerror (errno));
    return -1;
}

//  Ends what a key that lost its standing still receives: its catch-up
//  streams now, its live feed by a rebind of the PUB (its new handshake is
//  refused once s_zap_refresh has left it out: call that first). Requests
//  on its open ROUTER connection are refused by s_sender_may.
//  Called after a fold cut a key (revoked, rotated away, frozen).
static void
s_revoke_sessions (s_self_t *self, const uint8_t key[LD_KEY_BYTES])
{
    zlistx_t *dropped = zlistx_new ();
    for (s_stream_t *stream = zhashx_first (self->streams); stream && dropped;
         stream = zhashx_next (self->streams))
        if (stream->has_sender && sodium_memcmp (stream->sender, key, LD_KEY_BYTES) == 0)
            zlistx_add_end (dropped, (void *) zhashx_cursor (self->streams));
    for (const char *id = dropped ? zlistx_first (dropped) : NULL; id; id = zlistx_next (dropped))
        zhashx_delete (self->streams, id);
    zlistx_destroy (&dropped);
    char err[512];
    if (self->pub && s_rebind_live (self, err, sizeof err) != 0) {
        //  Without a live socket the broker cannot keep its promise to
        //  subscribers: stop, as for a storage failure.
        zsys_error ("broker: %s", err);
        zstr_sendf (self->pipe, "FATAL %s", err);
        self->fatal = true;
    }
}

//  --------------------------------------------------------------------------
//  Ingest

static void
s_job_start (s_self_t *self, s_job_t *job)
{
    self->received += job->verify.count;
    zlistx_add_end (self->jobs, job);
    zactor_t *worker = self->workers[self->next_worker];
    self->next_worker = (self->next_worker + 1) % self->worker_count;
    zsock_send (worker, "sp", "JOB", &job->verify);
}

static void
s_handle_publish (s_self_t *self, zframe_t **routing_id_p, ld_request_t **request_p,
                  const uint8_t *sender)
{
    bool relay = (*request_p)->publish->has_relay && (*request_p)->publish->relay;
    if (relay && self->guard && !self->config.open
        && (!sender || ld_guard_level (self->guard, sender) != LD_LEVEL_BROKER)) {
        s_send_error (self, *routing_id_p, LD_ERR_UNAUTHORIZED,
                      "only a broker (a key certified at level broker) may relay events");
        return;
    }
    s_job_t *job = s_job_new (self, routing_id_p, request_p);
    if (!job)
        return; //  out of memory: no Ack, the client resends
    job->relay = relay;
    s_job_start (self, job);
}

//  ld_peer_env_t.ingest: a chunk a link pulled goes through the same
//  verification, authority and store as any Publish, as a relay.
static int
s_peer_ingest (void *arg, ld_peer_t *peer, ld_reply_t **reply_p, uint64_t round)
{
    s_self_t *self = arg;
    if (zlistx_size (self->jobs) >= 4 * S_JOBS_IN_FLIGHT_MAX)
        return -1;
    s_job_t *job = calloc (1, sizeof *job);
    if (!job)
        return -1;
    job->reply = *reply_p;
    *reply_p = NULL;
    job->peer = peer;
    job->round = round;
    job->relay = true;
    job = s_job_fill (self, job, job->reply->feed->events, job->reply->feed->n_events);
    if (!job)
        return -1;
    s_job_start (self, job);
    return 0;
}

//  ld_peer_env_t.selection: --replicate paths, else the broker's own
//  certified paths; every feed with --open or --replicate "".
static void
s_selection (void *arg, ld_selection_t *selection)
{
    s_self_t *self = arg;
    memset (selection, 0, sizeof *selection);
    if (!self->guard) {
        selection->all = true;
        return;
    }
    if (self->config.replicate_count > 0) {
        for (size_t i = 0; i < self->config.replicate_count && i < LD_SELECT_MAX; i++) {
            if (!*self->config.replicate[i])
                selection->all = true;
            selection->paths[selection->count++] = self->config.replicate[i];
        }
        return;
    }
    selection->count = ld_guard_paths (self->guard, ld_identity_public_key (self->config.identity),
                                       selection->paths, LD_SELECT_MAX);
}

//  Reads one request from the ROUTER; false if none was waiting.
static bool
s_recv_request (s_self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return false;
    zframe_t *routing_id = zmsg_pop (msg);
    zframe_t *frame = zmsg_pop (msg);
    char err[256] = "";
    ld_request_t *request = NULL;
    ld_status_t rc = LD_OK;
    if (!routing_id)
        goto done;
    if (!frame || zmsg_size (msg) != 0)
        rc = ld_fail (err, sizeof err, LD_ERR_MALFORMED, "expected one frame per request");
    else
        rc =
            ld_request_decode (zframe_data (frame), zframe_size (frame), &request, err, sizeof err);
    if (rc != LD_OK) {
        self->malformed++;
        zsys_warning ("broker: refused a request: %s", err);
        s_send_error (self, routing_id, rc, err);
        goto done;
    }
    uint8_t sender_key[LD_KEY_BYTES];
    const uint8_t *sender = NULL; //  NULL with --open: nobody is named
    if (!self->config.open) {
        rc = s_sender_check (self, frame, request, sender_key, err, sizeof err);
        if (rc != LD_OK) {
            zsys_warning ("broker: refused a request: %s", err);
            s_send_error (self, routing_id, rc, err);
            goto done;
        }
        sender = sender_key;
    }
    switch (request->kind_case) {
        case LIANDONG__SYNC__REQUEST__KIND_HELLO:
            s_handle_hello (self, routing_id);
            break;
        case LIANDONG__SYNC__REQUEST__KIND_PUBLISH:
            s_handle_publish (self, &routing_id, &request, sender);
            break;
        case LIANDONG__SYNC__REQUEST__KIND_EVIDENCE:
            s_handle_evidence (self, routing_id, request->evidence);
            break;
        case LIANDONG__SYNC__REQUEST__KIND_BROKER_STATUS:
            s_handle_broker_status (self, routing_id, request->broker_status);
            break;
        case LIANDONG__SYNC__REQUEST__KIND_CATCHUP:
            s_handle_catchup (self, routing_id, sender, request->catchup);
            break;
        case LIANDONG__SYNC__REQUEST__KIND_CREDIT:
            s_handle_credit (self, routing_id, request->credit);
            break;
        case LIANDONG__SYNC__REQUEST__KIND_FEED:
            s_handle_feed (self, routing_id, request->feed);
            break;
        case LIANDONG__SYNC__REQUEST__KIND_HEADS:
            s_handle_heads (self, routing_id);
            break;
        default:
            s_send_error (self, routing_id, LD_ERR_MALFORMED, "unknown request");
            break;
    }
done:
    ld_request_free (&request);
    zframe_destroy (&frame);
    zframe_destroy (&routing_id);
    zmsg_destroy (&msg);
    return true;
}

//  The Ack for a job whose group has been committed (or refused whole with
//  group_status, e.g. disk-full).
static void
s_send_ack (s_self_t *self, s_job_t *job, ld_status_t group_status)
{
    size_t count = job->verify.count;
    size_t slots = count ? count : 1;
    Liandong__Sync__Refusal *refusals = calloc (slots, sizeof *refusals);
    Liandong__Sync__Refusal **refusal_ptrs = calloc (slots, sizeof *refusal_ptrs);
    Liandong__Sync__Head *heads = calloc (slots, sizeof *heads);
    Liandong__Sync__Head **head_ptrs = calloc (slots, sizeof *head_ptrs);
    ld_head_t *head_values = calloc (slots, sizeof *head_values);
    char (*reasons)[LD_VERIFIER_REASON_MAX] = calloc (slots, sizeof *reasons);
    if (!refusals || !refusal_ptrs || !heads || !head_ptrs || !head_values || !reasons)
        goto done; //  out of memory: no Ack; the client resends
    size_t n_refusals = 0, n_heads = 0;
    for (size_t i = 0; i < count; i++) {
        ld_status_t status = job->verify.status[i];
        const char *reason = job->verify.reasons[i];
        uint64_t needed = 0;
        bool retry = false;
        if (status == LD_OK) {
            if (group_status != LD_OK) {
                status = group_status;
                retry = true;
                reason = ld_status_text (status);
            }
            else {
                status = job->results[i].status;
                needed = job->results[i].needed_seq;
                if (status != LD_OK) {
                    snprintf (reasons[i], LD_VERIFIER_REASON_MAX, "%s", ld_status_text (status));
                    reason = reasons[i];
                }
            }
        }
        if (status == LD_ERR_AWAITING_CERT)
            retry = true; //  held back until the certificate arrives
        if (status != LD_OK) {
            Liandong__Sync__Refusal *refusal = &refusals[n_refusals];
            liandong__sync__refusal__init (refusal);
            refusal->index = (uint32_t) i;
            refusal->status = (char *) ld_status_name (status);
            refusal->reason = (char *) reason;
            refusal->has_needed_seq = status == LD_ERR_GAP;
            refusal->needed_seq = needed;
            refusal->has_retry = retry;
            refusal->retry = retry;
            refusal_ptrs[n_refusals++] = refusal;
        }
        //  The head of every author we could read, once each.
        ld_event_t *event = job->verify.events[i];
        if (!event || group_status != LD_OK)
            continue;
        bool seen = false;
        for (size_t h = 0; h < n_heads && !seen; h++)
            seen = memcmp (head_values[h].author, ld_event_author (event), LD_KEY_BYTES) == 0;
        if (!seen
            && ld_store_head (self->store, ld_event_author (event), &head_values[n_heads])
                   == LD_OK) {
            s_head_to_wire (&head_values[n_heads], &heads[n_heads]);
            head_ptrs[n_heads] = &heads[n_heads];
            n_heads++;
        }
    }
    self->refused += n_refusals;
    Liandong__Sync__Ack ack = LIANDONG__SYNC__ACK__INIT;
    ack.batch = job->batch;
    ack.n_heads = n_heads;
    ack.heads = head_ptrs;
    ack.n_refusals = n_refusals;
    ack.refusals = refusal_ptrs;
    ld_reply_t reply = LIANDONG__SYNC__REPLY__INIT;
    reply.kind_case = LIANDONG__SYNC__REPLY__KIND_ACK;
    reply.ack = &ack;
    ld_reply_send (self->router, job->routing_id, &reply);
done:
    free (reasons);
    free (head_values);
    free (head_ptrs);
    free (heads);
    free (refusal_ptrs);
    free (refusals);
}

//  A committed job (or one refused whole with group_status): its Ack, or
//  for a chunk a link pulled, the outcome the link goes on from.
static void
s_job_done (s_self_t *self, s_job_t *job, ld_status_t group_status)
{
    if (!job->peer) {
        s_send_ack (self, job, group_status);
        return;
    }
    ld_peer_ingest_t outcome = {.round = job->round};
    if (job->reply->feed->author.len == LD_KEY_BYTES)
        memcpy (outcome.author, job->reply->feed->author.data, LD_KEY_BYTES);
    if (group_status != LD_OK)
        outcome.retry = true;
    for (size_t i = 0; group_status == LD_OK && i < job->verify.count; i++) {
        ld_status_t status = job->verify.status[i];
        if (status == LD_OK)
            status = job->results[i].status;
        if (status == LD_OK && !job->results[i].duplicate)
            outcome.stored++;
        else if (status == LD_ERR_CHAIN)
            outcome.chain = true;
        else if (status == LD_ERR_GAP || status == LD_ERR_AWAITING_CERT || status == LD_ERR_FULL)
            outcome.retry = true;
        else if (status != LD_OK && status != LD_ERR_FORK && status != LD_ERR_FROZEN
                 && status != LD_ERR_NOT_SELECTED) {
            if (!outcome.refused)
                zsys_warning ("broker: refused an event pulled from a peer: %s: %s",
                              ld_status_name (status), job->verify.reasons[i]);
            outcome.refused = true;
        }
    }
    ld_peer_ingested (job->peer, &outcome);
}

//  The feed-level check (ld_guard.h) of a job's verified events, before
//  they are added: a refused event keeps its status and reason and is not
//  stored; "awaiting-certificate" is acknowledged as a retry.
static void
s_check_authority (s_self_t *self, s_job_t *job)
{
    if (!self->guard)
        return;
    ld_selection_t selection;
    s_selection (self, &selection);
    for (size_t i = 0; i < job->verify.count; i++) {
        ld_event_t *event = job->verify.events[i];
        if (!event)
            continue;
        char reason[LD_VERIFIER_REASON_MAX];
        ld_status_t rc = LD_OK;
        if (job->relay) {
            ld_select_t selected =
                ld_selection_holds (&selection, self->guard, ld_event_author (event));
            if (selected == LD_SELECT_NO)
                rc = ld_fail (reason, sizeof reason, LD_ERR_NOT_SELECTED,
                              "this broker does not hold the author's feed");
            else if (selected == LD_SELECT_UNKNOWN)
                rc = ld_fail (reason, sizeof reason, LD_ERR_AWAITING_CERT,
                              "the author's certificate has not arrived here yet");
        }
        if (rc == LD_OK)
            rc = ld_guard_check (self->guard, event, reason, sizeof reason);
        if (rc == LD_OK)
            continue;
        if (job->relay && (rc == LD_ERR_REVOKED || rc == LD_ERR_NOT_CERTIFIED)) {
            //  Another broker stored it before it learned of the cut: hold
            //  it too, marked, so that both end with the same events.
            job->cut[i] = rc;
            continue;
        }
        job->verify.status[i] = rc;
        snprintf (job->verify.reasons[i], LD_VERIFIER_REASON_MAX, "%s", reason);
        ld_event_destroy (&job->verify.events[i]);
        self->unauthorized++;
    }
}

//  A key lost its standing (revoked, rotated away, frozen): its sessions
//  end at once.
static void
s_on_cut (void *arg, const uint8_t key[LD_KEY_BYTES])
{
    s_self_t *self = arg;
    char text[LD_KEY_TEXT_BYTES];
    ld_key_to_text (key, text);
    zsys_info ("broker: %s may no longer publish; ending its sessions", text);
    s_zap_refresh (self);
    s_revoke_sessions (self, key);
}

//  After a commit: folds the trust events it stored and the forks it proved,
//  then marks what they invalidate. Returns false on a storage failure.
static bool
s_settle_authority (s_self_t *self, s_job_t **group, size_t group_count)
{
    if (!self->guard)
        return true;
    for (size_t g = 0; g < group_count; g++)
        for (size_t i = 0; i < group[g]->verify.count; i++) {
            ld_event_t *event = group[g]->verify.events[i];
            ld_append_result_t *result = &group[g]->results[i];
            if (!event)
                continue;
            if (result->status == LD_OK && !result->duplicate)
                ld_guard_note (self->guard, event);
            else if (result->status == LD_ERR_FORK)
                ld_guard_fork (self->guard, ld_event_author (event), ld_event_seq (event) - 1);
        }
    bool changed = false;
    char err[256];
    ld_status_t rc = ld_guard_settle (self->guard, s_on_cut, self, &changed, err, sizeof err);
    if (rc != LD_OK && rc != LD_ERR_FULL) {
        zsys_error ("broker: storage failure, stopping: %s", err);
        zstr_sendf (self->pipe, "FATAL %s", err);
        self->fatal = true;
        return false;
    }
    if (rc == LD_ERR_FULL)
        zsys_error ("broker: disk full while marking invalid events: %s", err);
    if (changed)
        s_zap_refresh (self); //  newly certified keys may connect
    return true;
}

//  Publishes a stored event on the live socket: [topic][store seq][envelope].
static void
s_publish_live (s_self_t *self, const ld_event_t *event, uint64_t store_seq)
{
    zmsg_t *msg = zmsg_new ();
    uint8_t seq[8];
    ld_sync_put_u64 (seq, store_seq);
    size_t size;
    const uint8_t *envelope = ld_event_envelope (event, &size);
    zmsg_addstr (msg, ld_event_topic (event));
    zmsg_addmem (msg, seq, sizeof seq);
    zmsg_addmem (msg, envelope, size);
    //  PUB never blocks; at the high-water mark it drops, and subscribers
    //  refill the gap from catch-up.
    zmsg_send (&msg, self->pub);
}

//  Signs the receipt for what this transaction stored so far and adds it to
//  the transaction. Returns the receipt event (the caller publishes and
//  frees it) or NULL if nothing was stored or the receipt could not be made.
static ld_event_t *
s_add_receipt (s_self_t *self, s_job_t **group, size_t group_count, int64_t now,
               uint64_t *receipt_seq, ld_status_t *status)
{
    size_t stored = 0;
    for (size_t g = 0; g < group_count; g++)
        for (size_t i = 0; i < group[g]->verify.count; i++)
            if (group[g]->verify.events[i] && group[g]->results[i].status == LD_OK
                && !group[g]->results[i].duplicate)
                stored++;
    if (stored == 0)
        return NULL;
    ld_receipt_range_t *ranges = calloc (stored, sizeof *ranges);
    uint8_t *ids = malloc (stored * LD_ID_BYTES);
    ld_event_t *receipt = NULL;
    uint8_t *payload = NULL;
    if (!ranges || !ids)
        goto done;
    size_t n_ranges = 0, n_ids = 0;
    uint64_t first = 0, last = 0;
    for (size_t g = 0; g < group_count; g++)
        for (size_t i = 0; i < group[g]->verify.count; i++) {
            ld_event_t *event = group[g]->verify.events[i];
            ld_append_result_t *result = &group[g]->results[i];
            if (!event || result->status != LD_OK || result->duplicate)
                continue;
            if (!first)
                first = result->store_seq;
            last = result->store_seq;
            memcpy (ids + n_ids++ * LD_ID_BYTES, ld_event_id (event), LD_ID_BYTES);
            size_t r = 0;
            while (r < n_ranges && memcmp (ranges[r].author, ld_event_author (event), LD_KEY_BYTES))
                r++;
            if (r == n_ranges) {
                ranges[r].author = ld_event_author (event);
                ranges[r].first_seq = ld_event_seq (event);
                n_ranges++;
            }
            ranges[r].last_seq = ld_event_seq (event);
        }
    uint8_t digest[LD_ID_BYTES];
    ld_hash_id (ids, n_ids * LD_ID_BYTES, digest);
    size_t payload_size;
    if (ld_payload_receipt (now, first, last, ranges, n_ranges, digest, &payload, &payload_size)
        != LD_OK)
        goto done;
    ld_head_t own = {0};
    const uint8_t *key = ld_identity_public_key (self->config.identity);
    bool has_head = ld_store_head (self->store, key, &own) == LD_OK;
    if (has_head && own.frozen)
        goto done; //  our own key forked: we cannot sign receipts any more
    char err[256];
    if (ld_event_sign (self->config.identity, own.seq + 1, own.seq ? own.id : NULL, now,
                       self->receipt_topic, "receipt", payload, payload_size, &receipt, err,
                       sizeof err)
        != LD_OK) {
        zsys_error ("broker: cannot sign a receipt: %s", err);
        goto done;
    }
    ld_append_result_t result;
    *status = ld_store_add (self->store, &receipt, 1, now, &result, err, sizeof err);
    if (*status != LD_OK) {
        //  the transaction is gone with it: the caller handles the status
        zsys_error ("broker: cannot store a receipt: %s", err);
        ld_event_destroy (&receipt);
        goto done;
    }
    if (result.status != LD_OK || result.duplicate) {
        //  our own feed refused it (never expected): commit the events anyway
        zsys_error ("broker: receipt not stored: %s", ld_status_text (result.status));
        ld_event_destroy (&receipt);
        goto done;
    }
    *status = ld_store_mark_receipt (self->store, result.store_seq, err, sizeof err);
    if (*status != LD_OK) {
        zsys_error ("broker: cannot record a receipt: %s", err);
        ld_event_destroy (&receipt);
        goto done;
    }
    *receipt_seq = result.store_seq;
done:
    free (payload);
    free (ids);
    free (ranges);
    return receipt;
}

//  Appends a group of verified jobs and the receipt in one transaction,
//  then acknowledges and publishes. Returns false on a fatal storage error.
static bool
s_commit_group (s_self_t *self, s_job_t **group, size_t group_count)
{
    int64_t now = zclock_time ();
    char err[512] = "";
    for (size_t g = 0; g < group_count; g++)
        s_check_authority (self, group[g]);
    ld_status_t rc = ld_store_begin (self->store, err, sizeof err);
    for (size_t g = 0; g < group_count && rc == LD_OK; g++) {
        s_job_t *job = group[g];
        //  Only the verified events go to the store; the rest keep their
        //  verifier status. Compact them into a temporary array.
        size_t count = job->verify.count, n = 0;
        ld_event_t **events = calloc (count ? count : 1, sizeof *events);
        ld_append_result_t *results = calloc (count ? count : 1, sizeof *results);
        if (!events || !results) {
            free (events);
            free (results);
            ld_store_rollback (self->store);
            rc = LD_ERR_NOMEM;
            break;
        }
        for (size_t i = 0; i < count; i++)
            if (job->verify.events[i])
                events[n++] = job->verify.events[i];
        rc = ld_store_add (self->store, events, n, now, results, err, sizeof err);
        for (size_t i = 0, k = 0; rc == LD_OK && i < count; i++)
            if (job->verify.events[i])
                job->results[i] = results[k++];
        free (events);
        free (results);
        //  Relayed events past a cut are stored marked, as a cut learned
        //  later would have marked them.
        for (size_t i = 0; rc == LD_OK && i < count; i++) {
            ld_event_t *event = job->verify.events[i];
            if (!event || job->cut[i] == LD_OK || job->results[i].status != LD_OK
                || job->results[i].duplicate)
                continue;
            uint64_t seq = ld_event_seq (event);
            rc = ld_store_mark_invalid (self->store, ld_event_author (event), seq - 1, seq,
                                        ld_status_name (job->cut[i]), NULL);
            if (rc != LD_OK)
                snprintf (err, sizeof err, "cannot mark a relayed event: %s", ld_status_text (rc));
        }
    }
    ld_event_t *receipt = NULL;
    uint64_t receipt_seq = 0;
    if (rc == LD_OK && !group[0]->relay) //  s_commit_ready groups relays apart
        receipt = s_add_receipt (self, group, group_count, now, &receipt_seq, &rc);
    if (rc == LD_OK)
        rc = ld_store_commit (self->store, err, sizeof err);
    if (rc == LD_ERR_FULL) {
        if (!self->disk_full)
            zsys_error ("broker: disk full, refusing new events until space returns: %s", err);
        self->disk_full = true;
        for (size_t g = 0; g < group_count; g++)
            s_job_done (self, group[g], LD_ERR_FULL);
        ld_event_destroy (&receipt);
        return true;
    }
    if (rc != LD_OK) {
        //  Never acknowledge, never retry: stop and recover from the WAL.
        zsys_error ("broker: storage failure, stopping: %s", err);
        zstr_sendf (self->pipe, "FATAL %s", err);
        self->fatal = true;
        ld_event_destroy (&receipt);
        return false;
    }
    if (self->disk_full) {
        zsys_info ("broker: storage accepts events again");
        self->disk_full = false;
    }
    //  Trust first, then the Acks: a client told its certificate is stored
    //  may connect at once, so the ZAP handler must already admit the key.
    bool settled = s_settle_authority (self, group, group_count);
    uint64_t stored_before = self->stored;
    for (size_t g = 0; settled && g < group_count; g++) {
        s_job_t *job = group[g];
        s_job_done (self, job, LD_OK);
        for (size_t i = 0; i < job->verify.count; i++) {
            if (!job->verify.events[i] || job->results[i].status != LD_OK)
                continue;
            if (job->results[i].duplicate)
                self->duplicates++;
            else {
                self->stored++;
                s_publish_live (self, job->verify.events[i], job->results[i].store_seq);
            }
        }
    }
    if (receipt && settled)
        s_publish_live (self, receipt, receipt_seq);
    ld_event_destroy (&receipt);
    if (self->stored > stored_before)
        for (size_t p = 0; p < self->peer_count; p++)
            ld_peer_local_stored (self->peers[p]);
    return settled;
}

//  Takes the verified jobs at the head of the list (ticket order) in
//  groups and commits them. Returns false on a fatal storage error.
static bool
s_commit_ready (s_self_t *self)
{
    s_job_t *group[S_JOBS_IN_FLIGHT_MAX];
    while (true) {
        size_t group_count = 0, events = 0;
        s_job_t *job = zlistx_first (self->jobs);
        while (job && job->verified && group_count < S_JOBS_IN_FLIGHT_MAX
               && (group_count == 0
                   || (events + job->verify.count <= LD_RECEIPT_RANGES_MAX
                       && job->relay == group[0]->relay))) {
            group[group_count++] = job;
            events += job->verify.count;
            job = zlistx_next (self->jobs);
        }
        if (group_count == 0)
            return true;
        bool ok = s_commit_group (self, group, group_count);
        for (size_t g = 0; g < group_count; g++) {
            s_job_t *done = zlistx_first (self->jobs);
            zlistx_delete (self->jobs, zlistx_cursor (self->jobs));
            s_job_destroy (&done);
        }
        if (!ok)
            return false;
    }
}

//  Takes every verified job the workers have returned, without blocking.
static void
s_collect_verified (s_self_t *self)
{
    for (size_t w = 0; w < self->worker_count; w++) {
        zsock_t *pipe = zactor_sock (self->workers[w]);
        while (zsock_events (pipe) & ZMQ_POLLIN) {
            void *pointer = NULL;
            if (zsock_recv (pipe, "p", &pointer) != 0 || !pointer)
                break;
            //  the pointer is &job->verify; find its job
            for (s_job_t *job = zlistx_first (self->jobs); job; job = zlistx_next (self->jobs))
                if (&job->verify == pointer) {
                    job->verified = true;
                    break;
                }
        }
    }
}

//  --------------------------------------------------------------------------
//  Start-up and the loop

//  The live endpoint: --live if given, else the same host as --listen on the
//  port used last time (kept in DIR/live.endpoint), else any free port.
static int
s_bind_live (s_self_t *self, char *err, size_t err_size)
{
    char path[PATH_MAX], saved[256] = "", endpoint[300];
    snprintf (path, sizeof path, "%s/%s", self->config.data_dir, S_LIVE_FILE);
    self->pub = s_live_socket (self, err, err_size);
    if (!self->pub)
        return -1;
    if (self->config.live)
        return zsock_bind (self->pub, "%s", self->config.live) < 0 ? -1 : 0;
    FILE *file = fopen (path, "re");
    if (file) {
        if (!fgets (saved, sizeof saved, file))
            saved[0] = '\0';
        fclose (file);
        saved[strcspn (saved, "\n")] = '\0';
    }
    if (*saved && zsock_bind (self->pub, "%s", saved) >= 0)
        return 0;
    //  tcp://HOST:PORT -> tcp://HOST:*
    snprintf (endpoint, sizeof endpoint, "%s", self->config.listen);
    char *colon = strrchr (endpoint, ':');
    if (!colon || colon < endpoint + 6) {
        snprintf (err, err_size, "cannot derive a live endpoint from '%s'", self->config.listen);
        return -1;
    }
    strcpy (colon, ":*");
    if (zsock_bind (self->pub, "%s", endpoint) < 0) {
        snprintf (err, err_size, "cannot bind '%s': %s", endpoint, zmq_strerror (errno));
        return -1;
    }
    file = fopen (path, "we");
    if (file) {
        fprintf (file, "%s\n", zsock_endpoint (self->pub));
        fclose (file);
    }
    return 0;
}

//  The --follow links; they connect at once and sync from the first loop.
static int
s_start_peers (s_self_t *self, char *err, size_t err_size)
{
    if (self->config.follow_count > LD_PEER_MAX) {
        snprintf (err, err_size, "at most %d --follow links", LD_PEER_MAX);
        return -1;
    }
    if (self->config.replicate_count > LD_SELECT_MAX) {
        snprintf (err, err_size, "at most %d --replicate paths", LD_SELECT_MAX);
        return -1;
    }
    ld_peer_env_t env = {
        .store = self->store,
        .guard = self->guard,
        .curve = self->curve,
        .selection = s_selection,
        .ingest = s_peer_ingest,
        .arg = self,
    };
    for (size_t i = 0; i < self->config.follow_count; i++) {
        char endpoint[256];
        uint8_t key[LD_KEY_BYTES];
        bool has_key = false;
        if (ld_peer_parse (self->config.follow[i], self->config.open, endpoint, sizeof endpoint,
                           key, &has_key, err, err_size)
            != LD_OK)
            return -1;
        self->peers[i] = ld_peer_new (endpoint, has_key ? key : NULL, &env);
        if (!self->peers[i]) {
            snprintf (err, err_size, "out of memory");
            return -1;
        }
        self->peer_count++;
    }
    return 0;
}

static int
s_start (s_self_t *self, char *err, size_t err_size)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", self->config.data_dir, LD_STORE_FILE);
    if (ld_store_open (path, &self->store, err, err_size) != LD_OK)
        return -1;
    if (self->config.trust_count > LD_BROKER_ROOTS_MAX) {
        snprintf (err, err_size, "at most %d trust roots", LD_BROKER_ROOTS_MAX);
        return -1;
    }
    if (self->config.trust_count > 0) {
        self->guard =
            ld_guard_new (self->store, self->config.trust, self->config.trust_count, err, err_size);
        if (!self->guard)
            return -1;
    }
    if (!self->config.open) {
        //  The handler runs before the first bind: CURVE fails open without.
        self->curve = ld_curve_new (self->config.identity);
        if (!self->curve) {
            snprintf (err, err_size, "cannot convert the broker key for CurveZMQ");
            return -1;
        }
        if (!self->config.test_no_zap) {
            self->zap = ld_zap_new (LD_ZAP_DOMAIN, err, err_size);
            if (!self->zap)
                return -1;
            s_zap_refresh (self);
        }
    }
    char endpoint[300];
    snprintf (endpoint, sizeof endpoint, "@%s", self->config.listen);
    ld_socket_spec_t spec = {
        .type = ZMQ_ROUTER,
        .endpoints = endpoint,
        .max_message = LD_SYNC_FRAME_MAX,
        .router_mandatory = true,
        .sndhwm = 10000,
        .rcvhwm = 10000,
        //  The ROUTER's input stops at its HWM while the broker is busy;
        //  libzmq 4.3.4 aborts if a heartbeat fires then and the peer has
        //  gone (zeromq/libzmq#3937, #4364). A client that dies is noticed
        //  by TCP keepalive instead, and costs only an unroutable reply.
        .no_heartbeat = true,
    };
    s_secure (self, &spec);
    self->router = ld_socket_new (&spec, err, err_size);
    if (!self->router)
        return -1;
    zsock_set_rcvtimeo (self->router, 0);
    if (s_bind_live (self, err, err_size) != 0)
        return -1;
    if (self->curve) {
        //  Prove it: a random key must be refused, or anyone could connect.
        char probe_err[256]; //  leaves room for LD_BROKER_NO_ZAP in err
        if (ld_zap_probe (zsock_endpoint (self->router), ld_curve_public (self->curve),
                          S_ZAP_PROBE_MS, probe_err, sizeof probe_err)
            != 0) {
            snprintf (err, err_size, "%s: %s", LD_BROKER_NO_ZAP, probe_err);
            return -1;
        }
    }
    size_t workers = self->config.workers;
    if (workers == 0) {
        long cores = sysconf (_SC_NPROCESSORS_ONLN);
        workers = cores > 0 ? (size_t) cores : 1;
    }
    if (workers > LD_BROKER_WORKERS_MAX)
        workers = LD_BROKER_WORKERS_MAX;
    for (size_t i = 0; i < workers; i++) {
        self->workers[i] = zactor_new (ld_verifier_actor, NULL);
        if (!self->workers[i]) {
            snprintf (err, err_size, "cannot start a verifier thread");
            return -1;
        }
        self->worker_count++;
    }
    //  Receipts go to receipt/<first 8 bytes of the key in hex>/.
    const uint8_t *key = ld_identity_public_key (self->config.identity);
    snprintf (self->receipt_topic, sizeof self->receipt_topic,
              "receipt/%02x%02x%02x%02x%02x%02x%02x%02x/", key[0], key[1], key[2], key[3], key[4],
              key[5], key[6], key[7]);
    return s_start_peers (self, err, err_size);
}

static void
s_stop (s_self_t *self)
{
    for (size_t i = 0; i < self->worker_count; i++)
        zactor_destroy (&self->workers[i]);
    //  Jobs still in flight were never acknowledged: clients resend them.
    s_job_t *job;
    while ((job = zlistx_first (self->jobs))) {
        zlistx_delete (self->jobs, zlistx_cursor (self->jobs));
        s_job_destroy (&job);
    }
    zlistx_destroy (&self->jobs);
    for (size_t i = 0; i < self->peer_count; i++)
        ld_peer_destroy (&self->peers[i]);
    zhashx_destroy (&self->streams);
    zsock_destroy (&self->router);
    zsock_destroy (&self->pub);
    ld_guard_destroy (&self->guard);
    //  The handler goes last: no CURVE server of ours outlives it.
    ld_zap_destroy (&self->zap);
    ld_curve_destroy (&self->curve);
    ld_store_destroy (&self->store);
}

static void
s_handle_pipe (s_self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    free (command);
}

static void
s_broker_actor (zsock_t *pipe, void *args)
{
    s_self_t self = {.pipe = pipe, .config = *(ld_broker_config_t *) args};
    if (!self.config.envelope_max)
        self.config.envelope_max = LD_ENVELOPE_MAX_DEFAULT;
    self.jobs = zlistx_new ();
    self.streams = zhashx_new ();
    zhashx_set_destructor (self.streams, s_stream_destroy);
    char err[512] = "";
    zsock_signal (pipe, 0);
    if (!self.jobs || !self.streams || s_start (&self, err, sizeof err) != 0) {
        zstr_sendf (pipe, "FAILED %s", *err ? err : "cannot start");
        s_stop (&self);
        //  wait for $TERM so that zactor_destroy finds us
        while (!self.terminated)
            s_handle_pipe (&self);
        return;
    }
    zstr_sendf (pipe, "READY listen=%s live=%s", zsock_endpoint (self.router),
                zsock_endpoint (self.pub));
    zmq_pollitem_t items[3 + LD_BROKER_WORKERS_MAX + 2 * LD_PEER_MAX];
    zsock_t *peer_socks[2 * LD_PEER_MAX];
    ld_peer_t *peer_of[2 * LD_PEER_MAX];
    while (!self.terminated && !self.fatal) {
        size_t n = 0;
        items[n++] = (zmq_pollitem_t){zsock_resolve (pipe), 0, ZMQ_POLLIN, 0};
        bool accepting = zlistx_size (self.jobs) < S_JOBS_IN_FLIGHT_MAX;
        //  Backpressure: while too many batches are in flight, requests wait
        //  in the ROUTER's queue (and then the clients').
        items[n++] = (zmq_pollitem_t){zsock_resolve (self.router), 0,
                                      (short) (accepting ? ZMQ_POLLIN : 0), 0};
        for (size_t w = 0; w < self.worker_count; w++)
            items[n++] =
                (zmq_pollitem_t){zsock_resolve (zactor_sock (self.workers[w])), 0, ZMQ_POLLIN, 0};
        size_t zap_item = n;
        if (self.zap)
            items[n++] =
                (zmq_pollitem_t){zsock_resolve (ld_zap_actor (self.zap)), 0, ZMQ_POLLIN, 0};
        //  Links first: a tick may replace their sockets.
        long peer_wait = S_HOUSEKEEPING_MS;
        int64_t now = zclock_mono ();
        for (size_t p = 0; p < self.peer_count; p++) {
            int64_t wait = ld_peer_tick (self.peers[p], now);
            if (wait < peer_wait)
                peer_wait = (long) wait;
        }
        size_t peer_item = n, peer_socks_count = 0;
        for (size_t p = 0; p < self.peer_count; p++) {
            size_t got = ld_peer_sockets (self.peers[p], peer_socks + peer_socks_count);
            for (size_t k = 0; k < got; k++) {
                peer_of[peer_socks_count] = self.peers[p];
                items[n++] = (zmq_pollitem_t){zsock_resolve (peer_socks[peer_socks_count]), 0,
                                              ZMQ_POLLIN, 0};
                peer_socks_count++;
            }
        }
        bool streams_pending = false;
        for (s_stream_t *s = zhashx_first (self.streams); s && !streams_pending;
             s = zhashx_next (self.streams))
            streams_pending = s->credit > 0;
        long timeout = streams_pending ? 0 : peer_wait;
        if (zmq_poll (items, (int) n, timeout) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            s_handle_pipe (&self);
        if (self.zap && (items[zap_item].revents & ZMQ_POLLIN)) {
            //  The handler stopped: CURVE now admits any key. Stop serving.
            zsys_error ("broker: the ZAP handler stopped; refusing to serve");
            zstr_send (pipe, "FATAL ZAP handler stopped: refusing to serve (CURVE would admit "
                             "any key)");
            self.fatal = true;
            break;
        }
        for (int i = 0; i < S_ROUTER_DRAIN_MAX && zlistx_size (self.jobs) < S_JOBS_IN_FLIGHT_MAX
                        && s_recv_request (&self);
             i++)
            ;
        for (size_t k = 0; k < peer_socks_count; k++)
            if (items[peer_item + k].revents & ZMQ_POLLIN)
                ld_peer_readable (peer_of[k], peer_socks[k]);
        s_collect_verified (&self);
        if (!s_commit_ready (&self))
            break;
        s_serve_streams (&self);
    }
    zsys_info ("broker: stopping; received %" PRIu64 " events, stored %" PRIu64
               ", duplicates %" PRIu64 ", refused %" PRIu64 ", malformed requests %" PRIu64,
               self.received, self.stored, self.duplicates, self.refused, self.malformed);
    s_stop (&self);
    //  After a fatal error, wait for $TERM so that zactor_destroy returns.
    while (!self.terminated)
        s_handle_pipe (&self);
}

ld_broker_t *
ld_broker_new (const ld_broker_config_t *config)
{
    ld_broker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->actor = zactor_new (s_broker_actor, (void *) config);
    if (!self->actor) {
        free (self);
        return NULL;
    }
    char *line = zstr_recv (self->actor);
    if (line && strncmp (line, "READY ", 6) == 0)
        self->ready = strdup (line + 6);
    else
        self->error =
            strdup (line && strncmp (line, "FAILED ", 7) == 0 ? line + 7 : "cannot start");
    free (line);
    return self;
}

void
ld_broker_destroy (ld_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_broker_t *self = *self_p;
    zactor_destroy (&self->actor);
    free (self->ready);
    free (self->error);
    free (self);
    *self_p = NULL;
}

const char *
ld_broker_ready (ld_broker_t *self)
{
    return self->ready;
}

const char *
ld_broker_error (ld_broker_t *self)
{
    return self->error;
}

zactor_t *
ld_broker_actor (ld_broker_t *self)
{
    return self->actor;
}
