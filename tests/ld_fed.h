/*  ld_fed.h -- a federation of brokers for tests: N `liandong broker`
    processes following each other through relays that a test can cut.

        ld_fed_t *fed = ld_fed_new ("wudang/");
        int d = ld_fed_add_broker (fed, "D", "wudang/", "");      //  everything
        int s = ld_fed_add_broker (fed, "S1", "wudang/s1/", NULL); //  default selection
        int link = ld_fed_add_link (fed, s, d);                   //  S1 --follow--> D
        ld_fed_certify (fed, NULL, street_key, "street", "wudang/s1/", "s1");
        ld_fed_start (fed);            //  brokers, every trust event at each, relays
        ld_fed_link_cut (fed, link, LD_FED_CUT_STOP);
        ...
        ld_fed_link_repair (fed, link);
        ld_fed_converge (fed, 30000);  //  equal digests (status) at every running broker
        ld_fed_stop_all (fed);         //  SIGTERM, then read the stores:
        ld_fed_store_t *store = ld_fed_store_open (fed, d);
        ld_fed_destroy (&fed);         //  kills what runs, removes the temp dir

    ld_fed_add_five adds the five brokers and five links of the fault
    tests (a district, two streets, a community under each, a cross link).

    What it sets up: a temp dir; a district root (identity and a root file
    with the given org path) that the harness signs offline with
    ld_offline_sign, as `liandong cert ... --offline` does (its feed
    position beside the key, so a test may also run the real CLI with
    ld_fed_root_secret); per broker a data dir, an identity, a free listen
    and live port kept across restarts, and a certificate at level broker
    for its org path, issued by the root before the start.

    Links: ld_fed_add_link (follower, followed) starts one tests/ld_relay
    (named by $LD_RELAY) listening on a port of its own and forwarding to
    the followed broker's --listen; the follower gets --follow
    RELAY=FOLLOWED.pub. A cut kills the relay (connections close, reconnects
    are refused) or stops it (SIGSTOP: a silent partition); a repair
    continues a stopped relay or starts a new one on the same port.

    Trust: every trust event the harness signs (ld_fed_certify, by the root
    or by an ld_client_author_t certifier; ld_fed_root_sign) is kept in
    signing order; ld_fed_start publishes them at every broker, and
    ld_fed_trust_publish at one broker later. Test clients connect with
    CurveZMQ and a certified key (ld_fed_client); the harness's own
    clients use the root's key.

    Processes are tracked by tests/ld_proc.h: everything still running is
    killed by ld_fed_destroy, by ld_proc_stop_all at exit, and by the kernel
    if the test dies (PR_SET_PDEATHSIG). Brokers log to NAME.log in the
    temp dir; ld_fed_destroy prints the last lines of every log unless the
    test called ld_fed_passed (LD_FED_LOGS=stderr sends logs straight to
    the test's stderr instead).

    Nothing here asserts: calls return 0 (or an index, or a pointer) and -1
    (NULL) on failure, with the reason on stderr; tests decide.
*/
#ifndef LD_FED_H_INCLUDED
#define LD_FED_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_client.h"
#include "ld_store.h"

#define LD_FED_BROKERS_MAX 8
#define LD_FED_LINKS_MAX   16
#define LD_FED_SELECT_MAX  8   //  --replicate paths per broker
#define LD_FED_PEERS_MAX   8   //  peers read from one status
#define LD_FED_TRUST_MAX   256 //  trust events kept for the start
#define LD_FED_TIMEOUT     15000

typedef struct _ld_fed_t ld_fed_t;

typedef enum {
    LD_FED_CUT_KILL, //  SIGKILL the relay: connections close at once
    LD_FED_CUT_STOP, //  SIGSTOP the relay: nothing flows, nothing closes
} ld_fed_cut_t;

//  One --follow link as a broker's status reports it.
typedef struct {
    char endpoint[256];
    uint8_t key[LD_KEY_BYTES];
    bool connected;
    int64_t last_contact_ms;
    uint64_t behind_in, behind_out;
    double rate;
    uint64_t pulled, pushed;
    char state[32];
    char error[256];
    int64_t last_sync_ms;
} ld_fed_peer_t;

//  A broker's status (BrokerStatusRequest with digests).
typedef struct {
    uint8_t key[LD_KEY_BYTES];
    uint64_t last_seq, authors, events, frozen, invalid;
    bool has_digests;
    uint8_t heads_digest[32], events_digest[32];
    bool select_all;
    char select[LD_FED_SELECT_MAX][LD_TOPIC_MAX + 1];
    size_t select_count;
    ld_fed_peer_t peers[LD_FED_PEERS_MAX];
    size_t peer_count;
} ld_fed_status_t;

//  A new federation under a fresh temp dir, with a root key for the org
//  path root_path ("wudang/"). NULL on failure.
ld_fed_t *ld_fed_new (const char *root_path);

//  Kills every process still running, removes the temp dir; NULL-safe;
//  sets *self_p to NULL. Prints the brokers' last log lines first unless
//  ld_fed_passed was called.
void ld_fed_destroy (ld_fed_t **self_p);

//  The test reached its end: ld_fed_destroy need not print the logs.
void ld_fed_passed (ld_fed_t *self);

//  Adds a broker named name (used in logs and its file names), certified
//  at level broker for org path `path`. replicate: NULL for the default
//  selection (its own path), "" for everything, else one path or several
//  separated by spaces ("wudang/s1/ wudang/s2/"). Before ld_fed_start
//  only. Returns its index, or -1.
int ld_fed_add_broker (ld_fed_t *self, const char *name, const char *path, const char *replicate);

//  Adds a link: follower runs with --follow to followed, through a relay.
//  Before ld_fed_start only. Returns its index, or -1.
int ld_fed_add_link (ld_fed_t *self, int follower, int followed);

//  The five brokers of the fault tests, each certified for its path and
//  replicating `replicate` (as ld_fed_add_broker), with five links:
//
//      D (wudang/)
//      ├── S1 (wudang/s1/) ── C1 (wudang/s1/c1/)
//      └── S2 (wudang/s2/) ── C2 (wudang/s2/c2/)
//      plus S1 -> S2
//
//  Brokers get the indices LD_FED_D..LD_FED_C2 and links LD_FED_S1_D..
//  LD_FED_S1_S2 (call it first). Cutting LD_FED_S2_D and LD_FED_S1_S2
//  splits {D, S1, C1} from {S2, C2}. 0 or -1.
enum { LD_FED_D, LD_FED_S1, LD_FED_S2, LD_FED_C1, LD_FED_C2, LD_FED_FIVE };
enum { LD_FED_S1_D, LD_FED_S2_D, LD_FED_C1_S1, LD_FED_C2_S2, LD_FED_S1_S2 };
int ld_fed_add_five (ld_fed_t *self, const char *replicate);

//  Signs a trust.certify by certifier (NULL: the root, offline) for
//  subject at level, path, with a display name, and keeps it for the
//  start (or for ld_fed_trust_publish). Returns 0 or -1.
int ld_fed_certify (ld_fed_t *self, ld_client_author_t *certifier,
                    const uint8_t subject[LD_KEY_BYTES], const char *level, const char *path,
                    const char *name);

//  Signs the root's next event offline and keeps it with the trust
//  events. Returns it (borrowed: valid until ld_fed_destroy), or NULL.
ld_event_t *ld_fed_root_sign (ld_fed_t *self, const char *topic, const char *type,
                              const uint8_t *payload, size_t size);

//  Starts every broker, publishes every trust event kept so far at each
//  (retrying those awaiting a certificate), then starts the relays, so
//  that every link finds its follower certified. 0 or -1.
int ld_fed_start (ld_fed_t *self);

//  Publishes every trust event kept so far at broker i. 0 or -1.
int ld_fed_trust_publish (ld_fed_t *self, int i);

//  Broker i: start (same port, data and identity), stop (SIGTERM; -1 if it
//  does not exit 0), kill -9, and whether it runs.
int ld_fed_broker_start (ld_fed_t *self, int i);
int ld_fed_broker_stop (ld_fed_t *self, int i);
void ld_fed_broker_kill (ld_fed_t *self, int i);
bool ld_fed_broker_running (ld_fed_t *self, int i);
//  Whether every broker the harness started is still running: -1 (and
//  which exited, how, on stderr) if one exited by itself.
int ld_fed_check_alive (ld_fed_t *self);
//  Stops every running broker (SIGTERM); 0 if all exited 0.
int ld_fed_stop_all (ld_fed_t *self);

//  Cuts link l (if up) or repairs it (if cut). 0 or -1.
int ld_fed_link_cut (ld_fed_t *self, int l, ld_fed_cut_t how);
int ld_fed_link_repair (ld_fed_t *self, int l);
bool ld_fed_link_up (ld_fed_t *self, int l);
//  Repairs every cut link. 0 or -1.
int ld_fed_repair_all (ld_fed_t *self);

//  The relay's endpoint of link l (what its follower's --follow names).
const char *ld_fed_link_endpoint (ld_fed_t *self, int l);

size_t ld_fed_broker_count (ld_fed_t *self);
size_t ld_fed_link_count (ld_fed_t *self);
//  Borrowed until ld_fed_destroy.
const char *ld_fed_broker_name (ld_fed_t *self, int i);
const char *ld_fed_broker_endpoint (ld_fed_t *self, int i); //  its --listen
const char *ld_fed_broker_pub (ld_fed_t *self, int i);      //  its identity.pub file
const char *ld_fed_broker_data (ld_fed_t *self, int i);     //  its data dir
const uint8_t *ld_fed_broker_key (ld_fed_t *self, int i);
const char *ld_fed_root_secret (ld_fed_t *self);
const char *ld_fed_root_pub (ld_fed_t *self);
ld_identity_t *ld_fed_root (ld_fed_t *self);
const char *ld_fed_dir (ld_fed_t *self);

//  A CurveZMQ client of broker i authenticated as identity (a certified
//  key; borrowed for the call). The caller destroys it. NULL on failure.
ld_client_t *ld_fed_client (ld_fed_t *self, int i, ld_identity_t *identity);

//  Publishes events at broker i as the root (a trusted key may hand in
//  anyone's events), waits for the Ack. Returns the number refused (their
//  details in refusals[0..max)), or -1 on timeout.
int ld_fed_publish (ld_fed_t *self, int i, ld_event_t *const *events, size_t count,
                    ld_client_refusal_t *refusals, size_t refusals_max, int timeout_ms);

//  Broker i's status with digests, into *status. 0, or -1 if it does not
//  answer within timeout_ms.
int ld_fed_status (ld_fed_t *self, int i, ld_fed_status_t *status, int timeout_ms);

//  Prints broker i's status (one line, and one per peer) to stderr.
void ld_fed_status_print (ld_fed_t *self, int i);

//  Waits until every running broker reports the same heads and events
//  digests, polling their status. 0, or -1 at timeout_ms (every status
//  printed).
int ld_fed_converge (ld_fed_t *self, int timeout_ms);

//  As ld_fed_converge, among brokers[0..count) only (a side of a
//  partition).
int ld_fed_converge_among (ld_fed_t *self, const int *brokers, size_t count, int timeout_ms);

//  Broker i's head vector (HeadsRequest): *heads_p is a malloc'ed array of
//  *count_p heads (author, seq, id, frozen) the caller frees. 0 or -1.
int ld_fed_heads (ld_fed_t *self, int i, ld_head_t **heads_p, size_t *count_p, int timeout_ms);

//  --------------------------------------------------------------------------
//  A stopped broker's store, read with SQL (the broker must not run)

typedef struct _ld_fed_store_t ld_fed_store_t;

//  Opens broker i's store. NULL on failure (or if it runs).
ld_fed_store_t *ld_fed_store_open (ld_fed_t *self, int i);
void ld_fed_store_close (ld_fed_store_t **store_p);

//  A BLAKE2b-256 over every author's feed as stored (key, seq, id, invalid
//  mark) and the set of frozen authors: equal on two stores exactly when
//  they hold the same events, marks and fork freezes. Also the counts.
int ld_fed_store_fingerprint (ld_fed_store_t *self, uint8_t fingerprint[32], uint64_t *events_p,
                              uint64_t *invalid_p, uint64_t *frozen_p);

//  The store's invariants, checked with SQL: no (author, seq) twice, no id
//  twice, every feed whole (seqs 1..head). 0, or -1 with what failed in err.
int ld_fed_store_check (ld_fed_store_t *self, char *err, size_t err_size);

//  Author's event at seq: 1 found (its id into id, its mark into mark,
//  "" if none; either may be NULL), 0 not stored, -1 error.
int ld_fed_store_event (ld_fed_store_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t seq,
                        uint8_t id[LD_ID_BYTES], char *mark, size_t mark_size);

//  Author's head seq (0 if nothing stored) and whether it is frozen; -1 error.
int ld_fed_store_head (ld_fed_store_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t *seq_p,
                       bool *frozen_p);

//  Whether the fork evidence of author holds the event id at seq.
bool ld_fed_store_evidence_has (ld_fed_store_t *self, const uint8_t author[LD_KEY_BYTES],
                                uint64_t seq, const uint8_t id[LD_ID_BYTES]);

//  --------------------------------------------------------------------------
//  A small seeded PRNG (xorshift64*), so a run is replayed from its seed

typedef struct {
    uint64_t state;
} ld_fed_rng_t;

//  The seed from the environment variable name if set, else from the
//  clock; printed on stderr either way.
uint64_t ld_fed_seed (const char *name);
void ld_fed_rng_init (ld_fed_rng_t *rng, uint64_t seed);
//  Uniform in [0, bound); bound > 0.
uint32_t ld_fed_rng_below (ld_fed_rng_t *rng, uint32_t bound);

#endif
