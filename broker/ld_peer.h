/*  ld_peer.h -- one --follow link: a broker keeping itself and a broker it
    follows on the same events (DESIGN.md section 5, docs/FEDERATION.md).

    A link is a client of the followed broker's --listen endpoint (a DEALER,
    CurveZMQ pinned to the peer's key unless --open) and of its live PUB. It
    runs rounds of anti-entropy:

      1. HeadsRequest: the peer's head vector and which feeds it holds;
      2. the difference with the local head vector, author by author, gives
         the tasks: pull a feed from our head + 1, push ours from the peer's
         head + 1, pull or push one event where the heads' ids differ (a
         fork), pull or push the fork evidence of a frozen author;
      3. pulls go to the broker's own ingest (verify, authority, store,
         exactly as a node's events, but as a relay: no receipts), in
         bounded chunks with at most LD_PEER_WINDOW chunks in flight (the
         flow control); pushes are Publish requests with relay set, one in
         flight, each continued from the head the Ack names;
      4. trust feeds go first: the next pull is always the best ranked task
         (a root, then keys that may certify, then the others), and a feed
         whose author's certificate has not arrived waits until nothing else
         is in flight.

    A round starts on connect, shortly after the peer's live feed rings or
    the local store took new events, and every LD_PEER_PERIOD_MS otherwise,
    so a lost live message costs at most one period. A request unanswered
    for LD_PEER_TIMEOUT_MS (a Publish: LD_PEER_PUSH_TIMEOUT_MS; a peer
    killed and restarted lost it) drops the connection; a new one is opened
    (libzmq does not retry a refused CurveZMQ handshake by itself).

    The link belongs to the broker actor's thread; the broker polls the
    sockets ld_peer_sockets gives and calls in when they are readable, on
    every loop (ld_peer_tick), and when a pulled chunk was committed.
*/
#ifndef LD_PEER_H_INCLUDED
#define LD_PEER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"
#include "ld_guard.h"
#include "ld_identity.h"
#include "ld_status.h"
#include "ld_store.h"
#include "ld_sync.h"

#define LD_PEER_WINDOW          4    //  pulled chunks in the broker's ingest at once
#define LD_PEER_PERIOD_MS       5000 //  anti-entropy round when nothing rang
#define LD_PEER_DEBOUNCE_MS     20   //  after a ring, before the round
#define LD_PEER_TIMEOUT_MS      5000 //  a Heads or Feed request unanswered this long drops the link
#define LD_PEER_PUSH_TIMEOUT_MS 15000 //  the same for a Publish (verify + commit at the peer)
#define LD_PEER_HELLO_MS        6000  //  no Welcome this long: a fresh connection
#define LD_PEER_MAX             16    //  --follow links of one broker
#define LD_SELECT_MAX           16    //  --replicate paths

typedef struct _ld_peer_t ld_peer_t;

//  Which feeds a broker holds: every author (all), or those ld_guard_selects
//  picks for paths.
typedef struct {
    bool all;
    size_t count;
    const char *paths[LD_SELECT_MAX];
} ld_selection_t;

//  What the link needs of its broker; everything borrowed.
typedef struct {
    ld_store_t *store;
    ld_guard_t *guard;       //  NULL: an --open broker
    const ld_curve_t *curve; //  our CurveZMQ pair; NULL with --open
    //  The broker's selection now.
    void (*selection) (void *arg, ld_selection_t *selection);
    //  Hands the events of a FeedReply pulled from the peer to the broker's
    //  ingest as a relay; takes *reply_p. Returns 0, or -1 if the broker
    //  cannot take it now (the link pulls it again later).
    int (*ingest) (void *arg, ld_peer_t *peer, ld_reply_t **reply_p, uint64_t round);
    void *arg;
} ld_peer_env_t;

//  How a pulled chunk fared in the broker's ingest (one author per chunk).
typedef struct {
    uint64_t round;
    uint8_t author[LD_KEY_BYTES];
    size_t stored; //  new events stored
    bool retry;    //  worth pulling again later (gap, awaiting-certificate, disk-full)
    bool chain;    //  the peer's events do not continue our head: the feeds differ
    bool refused;  //  refused for good (a peer holds what we may not)
} ld_peer_ingest_t;

//  Parses a --follow value: "tcp://HOST:PORT=KEY", KEY an "ed25519:..."
//  text or a file holding one (an identity.pub); for an open broker (plain
//  tcp) also "tcp://HOST:PORT". Returns LD_OK, or LD_ERR_USAGE /
//  LD_ERR_BAD_KEY with err (a command-line message).
ld_status_t ld_peer_parse (const char *spec, bool open, char *endpoint, size_t endpoint_size,
                           uint8_t key[LD_KEY_BYTES], bool *has_key, char *err, size_t err_size);

//  Whether a broker with this selection holds author's feed (without a
//  guard, an --open broker, every feed): ld_guard_selects unless all.
ld_select_t ld_selection_holds (const ld_selection_t *selection, ld_guard_t *guard,
                                const uint8_t author[LD_KEY_BYTES]);

//  A link to endpoint (pinned to key if not NULL); connects at once.
ld_peer_t *ld_peer_new (const char *endpoint, const uint8_t *key, const ld_peer_env_t *env);

//  NULL-safe; sets *self_p to NULL.
void ld_peer_destroy (ld_peer_t **self_p);

//  The sockets to poll for input (at most 2), written to socks.
size_t ld_peer_sockets (ld_peer_t *self, zsock_t **socks);

//  Input on one of them.
void ld_peer_readable (ld_peer_t *self, zsock_t *sock);

//  Timers: call on every loop. Returns the ms until it wants to be called
//  again (at most LD_PEER_PERIOD_MS).
int64_t ld_peer_tick (ld_peer_t *self, int64_t now_ms);

//  A pulled chunk was committed (or refused whole).
void ld_peer_ingested (ld_peer_t *self, const ld_peer_ingest_t *outcome);

//  The local store took new events: the peer may lack them.
void ld_peer_local_stored (ld_peer_t *self);

//  The link's state, for BrokerStatus. Strings in *status are borrowed
//  from the link (valid until its next call).
void ld_peer_status (ld_peer_t *self, Liandong__Sync__PeerStatus *status);

#endif
