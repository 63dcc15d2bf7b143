/*  ld_client.h -- a raw protocol client for tests (header only).

    Speaks ld_sync.proto to a broker's --listen endpoint over one DEALER,
    with nothing of a node in between: pre-signed events go out as Publish
    batches and come back as Acks; Catchup streams are read to the end with
    credit. Tests use it to put events into a broker fast, to read the
    store as the broker serves it (the reference a tail is checked against),
    and later to send what no honest node would.

        ld_client_t *client = ld_client_new ("tcp://127.0.0.1:40123");
        //  or, to a broker that is not --open: CurveZMQ with a key of ours
        //  ld_client_new_curve (endpoint, identity, broker_key)
        ld_client_hello (client, 5000);          //  last_seq, live endpoint
        ld_client_publish (client, events, n, 5000, NULL, 0);
        ld_client_catchup_all (client, 0, "note/", 5000, &stored, &count, NULL);
        ld_client_stored_free (&stored, count);
        ld_client_destroy (&client);

    ld_client_author_t signs an author's feed in order (seq, prev), so a
    test can make thousands of valid events without a node.

    Every call that waits takes a timeout in ms and returns -1 when it
    passes; nothing here asserts, so tests decide what a failure means.
*/
#ifndef LD_CLIENT_H_INCLUDED
#define LD_CLIENT_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_socket.h"
#include "ld_sync.h"

#define LD_CLIENT_ENDPOINT_MAX 256
#define LD_CLIENT_WINDOW       8 //  catch-up chunks in flight

typedef struct {
    zsock_t *dealer;
    uint64_t next_batch;
    //  from the last Welcome
    char live[LD_CLIENT_ENDPOINT_MAX];
    uint64_t last_seq;
    uint8_t broker_key[LD_KEY_BYTES];
    //  from the last Error reply to a publish ("" if none yet)
    char error_status[32];
    char error_reason[256];
} ld_client_t;

//  One refused event of a batch, from the Ack.
typedef struct {
    uint32_t index;
    char status[32]; //  stable name, e.g. "gap"
    uint64_t needed_seq;
    bool retry;
    char reason[512];
} ld_client_refusal_t;

//  One event as catch-up served it; envelope is malloc'ed (see
//  ld_client_stored_free).
typedef struct {
    uint64_t store_seq;
    uint8_t *envelope;
    size_t size;
    int64_t stored_ms;
    uint64_t receipt_seq;
    char invalid[32]; //  the broker's invalid mark, "" if none
} ld_client_stored_t;

static inline int64_t
ld_client_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  A client connected (asynchronously) to endpoint, or NULL. With identity
//  and broker_key (the broker's Ed25519 key; both borrowed for the call) it
//  is a CurveZMQ client whose transport key is identity's, converted; with
//  NULLs it speaks plain tcp (a broker started --open).
static inline ld_client_t *
ld_client_new_curve (const char *endpoint, ld_identity_t *identity,
                     const uint8_t broker_key[LD_KEY_BYTES])
{
    ld_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char spec_endpoint[LD_CLIENT_ENDPOINT_MAX + 1], err[256];
    snprintf (spec_endpoint, sizeof spec_endpoint, ">%s", endpoint);
    ld_socket_spec_t spec = {
        .type = ZMQ_DEALER,
        .endpoints = spec_endpoint,
        .max_message = LD_SYNC_FRAME_MAX,
    };
    ld_curve_t *curve = NULL;
    uint8_t server_key[LD_KEY_BYTES];
    if (identity && broker_key) {
        curve = ld_curve_new (identity);
        if (!curve || ld_curve_public_from_key (broker_key, server_key) != LD_OK) {
            fprintf (stderr, "ld_client: cannot convert the keys for CURVE\n");
            ld_curve_destroy (&curve);
            free (self);
            return NULL;
        }
        spec.curve_secret = ld_curve_secret (curve);
        spec.curve_public = ld_curve_public (curve);
        spec.curve_server_key = server_key;
    }
    self->dealer = ld_socket_new (&spec, err, sizeof err);
    ld_curve_destroy (&curve);
    if (!self->dealer) {
        fprintf (stderr, "ld_client: %s\n", err);
        free (self);
        return NULL;
    }
    self->next_batch = 1;
    return self;
}

//  A plain tcp client (a broker started --open); see ld_client_new_curve.
static inline ld_client_t *
ld_client_new (const char *endpoint)
{
    return ld_client_new_curve (endpoint, NULL, NULL);
}

//  NULL-safe; sets *self_p to NULL.
static inline void
ld_client_destroy (ld_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy (&(*self_p)->dealer);
    free (*self_p);
    *self_p = NULL;
}

//  The next reply within the time left until deadline, or NULL.
static inline ld_reply_t *
ld_client_recv (ld_client_t *self, int64_t deadline)
{
    while (true) {
        int64_t left = deadline - ld_client_now_ms ();
        if (left <= 0)
            return NULL;
        zmq_pollitem_t item = {zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, (long) left) < 0)
            return NULL;
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        char err[256];
        ld_reply_t *reply = ld_reply_recv (self->dealer, err, sizeof err);
        if (reply)
            return reply;
        fprintf (stderr, "ld_client: malformed reply: %s\n", err);
    }
}

//  Sends a request; 0, or -1 if it cannot be queued.
static inline int
ld_client_send (ld_client_t *self, const ld_request_t *request)
{
    return ld_request_send (self->dealer, request);
}

//  Hello -> Welcome: fills live, last_seq and broker_key. 0 or -1.
static inline int
ld_client_hello (ld_client_t *self, int timeout_ms)
{
    Liandong__Sync__Hello hello = LIANDONG__SYNC__HELLO__INIT;
    hello.has_version = 1;
    hello.version = LD_SYNC_VERSION;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_HELLO;
    request.hello = &hello;
    if (ld_client_send (self, &request) != 0)
        return -1;
    int64_t deadline = ld_client_now_ms () + timeout_ms;
    while (true) {
        ld_reply_t *reply = ld_client_recv (self, deadline);
        if (!reply)
            return -1;
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_WELCOME) {
            Liandong__Sync__Welcome *welcome = reply->welcome;
            self->last_seq = welcome->last_seq;
            self->live[0] = '\0';
            for (size_t i = 0; i < welcome->n_endpoints; i++)
                if (strcmp (welcome->endpoints[i]->name, "live") == 0)
                    snprintf (self->live, sizeof self->live, "%s", welcome->endpoints[i]->address);
            if (welcome->broker_key.len == LD_KEY_BYTES)
                memcpy (self->broker_key, welcome->broker_key.data, LD_KEY_BYTES);
            ld_reply_free (&reply);
            return 0;
        }
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR) {
            snprintf (self->error_status, sizeof self->error_status, "%s",
                      reply->error->status ? reply->error->status : "");
            snprintf (self->error_reason, sizeof self->error_reason, "%s",
                      reply->error->reason ? reply->error->reason : "");
            ld_reply_free (&reply);
            return -1;
        }
        ld_reply_free (&reply);
    }
}

//  Publishes raw envelope bytes (anything: tests send what no honest node
//  would) as one batch and waits for its Ack. Returns the Ack reply (the
//  caller frees it with ld_reply_free), or NULL on timeout or an Error reply.
static inline ld_reply_t *
ld_client_publish_raw (ld_client_t *self, const uint8_t *const *envelopes, const size_t *sizes,
                       size_t count, int timeout_ms)
{
    ProtobufCBinaryData *items = calloc (count ? count : 1, sizeof *items);
    if (!items)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        items[i].data = (uint8_t *) envelopes[i];
        items[i].len = sizes[i];
    }
    Liandong__Sync__Publish publish = LIANDONG__SYNC__PUBLISH__INIT;
    publish.batch = self->next_batch++;
    publish.n_events = count;
    publish.events = items;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_PUBLISH;
    request.publish = &publish;
    int rc = ld_client_send (self, &request);
    free (items);
    if (rc != 0)
        return NULL;
    int64_t deadline = ld_client_now_ms () + timeout_ms;
    while (true) {
        ld_reply_t *reply = ld_client_recv (self, deadline);
        if (!reply)
            return NULL;
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR) {
            fprintf (stderr, "ld_client: publish refused: %s [%s]\n", reply->error->reason,
                     reply->error->status);
            snprintf (self->error_status, sizeof self->error_status, "%s",
                      reply->error->status ? reply->error->status : "");
            snprintf (self->error_reason, sizeof self->error_reason, "%s",
                      reply->error->reason ? reply->error->reason : "");
            ld_reply_free (&reply);
            return NULL;
        }
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ACK
            && reply->ack->batch == publish.batch)
            return reply;
        ld_reply_free (&reply);
    }
}

//  Publishes events[0..count) as one batch and waits for its Ack. Returns
//  the number of refused events (their details in refusals[0..max) if
//  given), or -1 on timeout or an Error reply.
static inline int
ld_client_publish (ld_client_t *self, ld_event_t *const *events, size_t count, int timeout_ms,
                   ld_client_refusal_t *refusals, size_t refusals_max)
{
    const uint8_t **envelopes = calloc (count ? count : 1, sizeof *envelopes);
    size_t *sizes = calloc (count ? count : 1, sizeof *sizes);
    ld_reply_t *reply = NULL;
    if (envelopes && sizes) {
        for (size_t i = 0; i < count; i++)
            envelopes[i] = ld_event_envelope (events[i], &sizes[i]);
        reply = ld_client_publish_raw (self, envelopes, sizes, count, timeout_ms);
    }
    free (envelopes);
    free (sizes);
    if (!reply)
        return -1;
    Liandong__Sync__Ack *ack = reply->ack;
    for (size_t i = 0; refusals && i < ack->n_refusals && i < refusals_max; i++) {
        Liandong__Sync__Refusal *refusal = ack->refusals[i];
        refusals[i].index = refusal->index;
        snprintf (refusals[i].status, sizeof refusals[i].status, "%s", refusal->status);
        refusals[i].needed_seq = refusal->has_needed_seq ? refusal->needed_seq : 0;
        refusals[i].retry = refusal->has_retry && refusal->retry;
        snprintf (refusals[i].reason, sizeof refusals[i].reason, "%s", refusal->reason);
    }
    int refused = (int) ack->n_refusals;
    ld_reply_free (&reply);
    return refused;
}

//  Frees what ld_client_catchup_all returned; NULL-safe; sets *events_p to
//  NULL.
static inline void
ld_client_stored_free (ld_client_stored_t **events_p, size_t count)
{
    if (!events_p || !*events_p)
        return;
    for (size_t i = 0; i < count; i++)
        free ((*events_p)[i].envelope);
    free (*events_p);
    *events_p = NULL;
}

//  Reads everything stored after store seq `after` whose topic starts with
//  prefix, with a Catchup stream and credit, until a chunk says caught_up.
//  An event served twice (a store seq not above the last one kept) is kept
//  once and counted in *repeats_p if given. *events_p is the caller's (see
//  ld_client_stored_free). Returns 0, or -1 on timeout, an Error reply or
//  no memory.
static inline int
ld_client_catchup_all (ld_client_t *self, uint64_t after, const char *prefix, int timeout_ms,
                       ld_client_stored_t **events_p, size_t *count_p, size_t *repeats_p)
{
    *events_p = NULL;
    *count_p = 0;
    if (repeats_p)
        *repeats_p = 0;
    Liandong__Sync__Catchup catchup = LIANDONG__SYNC__CATCHUP__INIT;
    catchup.after = after;
    catchup.prefix = (char *) (prefix ? prefix : "");
    catchup.credit = LD_CLIENT_WINDOW;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CATCHUP;
    request.catchup = &catchup;
    if (ld_client_send (self, &request) != 0)
        return -1;
    ld_client_stored_t *events = NULL;
    size_t count = 0, capacity = 0;
    uint64_t last = after;
    int rc = -1;
    while (true) {
        //  the timeout bounds the wait for each chunk, not the whole stream
        ld_reply_t *reply = ld_client_recv (self, ld_client_now_ms () + timeout_ms);
        if (!reply)
            break;
        if (reply->kind_case != LIANDONG__SYNC__REPLY__KIND_EVENTS) {
            bool error = reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR;
            ld_reply_free (&reply);
            if (error)
                break;
            continue;
        }
        Liandong__Sync__Events *chunk = reply->events;
        bool ok = true;
        for (size_t i = 0; i < chunk->n_events && ok; i++) {
            Liandong__Sync__Stored *stored = chunk->events[i];
            if (stored->store_seq <= last) {
                if (repeats_p)
                    (*repeats_p)++;
                continue;
            }
            if (count == capacity) {
                size_t grown = capacity ? capacity * 2 : 1024;
                ld_client_stored_t *more = realloc (events, grown * sizeof *events);
                if (!more) {
                    ok = false;
                    break;
                }
                events = more;
                capacity = grown;
            }
            ld_client_stored_t *item = &events[count];
            item->envelope = malloc (stored->envelope.len ? stored->envelope.len : 1);
            if (!item->envelope) {
                ok = false;
                break;
            }
            memcpy (item->envelope, stored->envelope.data, stored->envelope.len);
            item->size = stored->envelope.len;
            item->store_seq = stored->store_seq;
            item->stored_ms = stored->has_stored_ms ? stored->stored_ms : 0;
            item->receipt_seq = stored->has_receipt_seq ? stored->receipt_seq : 0;
            snprintf (item->invalid, sizeof item->invalid, "%s",
                      stored->invalid ? stored->invalid : "");
            last = stored->store_seq;
            count++;
        }
        bool caught_up = chunk->caught_up;
        ld_reply_free (&reply);
        if (!ok)
            break;
        if (caught_up) {
            rc = 0;
            break;
        }
        Liandong__Sync__Credit credit = LIANDONG__SYNC__CREDIT__INIT;
        credit.chunks = 1;
        request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CREDIT;
        request.credit = &credit;
        if (ld_client_send (self, &request) != 0)
            break;
    }
    if (rc != 0) {
        ld_client_stored_free (&events, count);
        return -1;
    }
    *events_p = events;
    *count_p = count;
    return 0;
}

//  --------------------------------------------------------------------------
//  An author signing its feed in order

typedef struct {
    ld_identity_t *identity;
    uint64_t next_seq;
    uint8_t prev[LD_ID_BYTES];
} ld_client_author_t;

//  An author whose key derives from a seed of 32 times seed_byte (the same
//  byte gives the same key in every run).
static inline ld_client_author_t *
ld_client_author_new (uint8_t seed_byte)
{
    ld_client_author_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    uint8_t seed[LD_SEED_BYTES];
    memset (seed, seed_byte, sizeof seed);
    self->identity = ld_identity_new_from_seed (seed);
    if (!self->identity) {
        free (self);
        return NULL;
    }
    self->next_seq = 1;
    return self;
}

static inline void
ld_client_author_destroy (ld_client_author_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_identity_destroy (&(*self_p)->identity);
    free (*self_p);
    *self_p = NULL;
}

//  The author's next event of any type, with payload bytes and the time it
//  claims; the caller owns it. NULL if it cannot be signed.
static inline ld_event_t *
ld_client_author_event (ld_client_author_t *self, const char *topic, const char *type,
                        const uint8_t *payload, size_t size, int64_t time_ms)
{
    ld_event_t *event = NULL;
    char err[256];
    uint64_t seq = self->next_seq;
    ld_status_t rc = ld_event_sign (self->identity, seq, seq > 1 ? self->prev : NULL, time_ms,
                                    topic, type, payload, size, &event, err, sizeof err);
    if (rc != LD_OK) {
        fprintf (stderr, "ld_client: cannot sign: %s\n", err);
        return NULL;
    }
    memcpy (self->prev, ld_event_id (event), LD_ID_BYTES);
    self->next_seq++;
    return event;
}

//  The author's next event, a note with text under topic; the caller owns
//  it. NULL if it cannot be signed (err says why when given).
static inline ld_event_t *
ld_client_author_next (ld_client_author_t *self, const char *topic, const char *text)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    if (ld_payload_note (text, &payload, &size) != LD_OK)
        return NULL;
    ld_event_t *event = NULL;
    char err[256];
    uint64_t seq = self->next_seq;
    ld_status_t rc = ld_event_sign (self->identity, seq, seq > 1 ? self->prev : NULL,
                                    1764000000000 + (int64_t) seq, topic, "note", payload, size,
                                    &event, err, sizeof err);
    free (payload);
    if (rc != LD_OK) {
        fprintf (stderr, "ld_client: cannot sign: %s\n", err);
        return NULL;
    }
    memcpy (self->prev, ld_event_id (event), LD_ID_BYTES);
    self->next_seq++;
    return event;
}

#endif
