/*  ld_broker.h -- the broker: verifies, stores, acknowledges and fans out
    signed events, and serves catch-up.

    A broker is a czmq actor. ld_broker_new starts it and waits until it
    serves or fails; the caller then reads ld_broker_ready (the endpoints, as
    the `ready` line prints them) or ld_broker_error. While it runs, the
    actor's pipe may carry one message of its own: "FATAL" + reason when a
    storage error stopped it (the daemon must exit with LD_BROKER_EXIT_IO and
    must not restart in-process: DESIGN.md section 8), or "FATAL ZAP" +
    reason when the ZAP handler stopped: CURVE would then admit any key, so
    the broker stopped serving (the daemon exits with LD_BROKER_EXIT_ZAP).

    See ld_broker.c for the protocol and the order of operations.
*/
#ifndef LD_BROKER_H_INCLUDED
#define LD_BROKER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#include "ld_identity.h"

//  Exit code of a broker stopped by a storage I/O error (sysexits EX_IOERR).
#define LD_BROKER_EXIT_IO 74

//  Exit code of a broker stopped because its ZAP handler died (EX_SOFTWARE).
#define LD_BROKER_EXIT_ZAP 70

//  The message of a start refused because the ZAP probe was admitted.
#define LD_BROKER_NO_ZAP "ZAP handler not running: refusing to serve (CURVE would admit any key)"

#define LD_BROKER_WORKERS_MAX 16
#define LD_BROKER_ROOTS_MAX   16

typedef struct {
    const char *data_dir;    //  holds liandong.db and live.endpoint
    const char *listen;      //  tcp://HOST:PORT (PORT may be *)
    const char *live;        //  PUB endpoint; NULL: same host, port kept in data_dir
    ld_identity_t *identity; //  borrowed: must outlive the broker
    size_t workers;          //  verifier threads; 0: one per core
    size_t envelope_max;     //  0: LD_ENVELOPE_MAX_DEFAULT
    //  Transport (docs/TRUST.md). open: plain tcp, any key may do anything
    //  (development only). Otherwise the ROUTER and the live PUB are CURVE
    //  servers with the identity's Curve25519 pair, and a ZAP handler
    //  (ld_zap.h) admits only the keys below; start-up fails if a probe
    //  with a random key is not refused.
    bool open;
    const char *const *trust; //  --trust public key files (roots); borrowed
    size_t trust_count;
    const uint8_t (*allow)[LD_KEY_BYTES]; //  --allow-subscriber keys: may read; borrowed
    size_t allow_count;
    //  Federation (ld_peer.h): brokers to follow, each "tcp://HOST:PORT=KEY"
    //  (or "tcp://HOST:PORT" with open); and the org paths whose feeds this
    //  broker holds (NULL: its own certified paths; one "" path: every feed).
    const char *const *follow;
    size_t follow_count;
    const char *const *replicate;
    size_t replicate_count;
    bool test_no_zap; //  tests only (LD_TEST_NO_ZAP=1): start no ZAP handler, so
                      //  that the start-up probe must catch it
} ld_broker_config_t;

typedef struct _ld_broker_t ld_broker_t;

//  Starts a broker. Returns NULL only on allocation failure; check
//  ld_broker_error afterwards.
ld_broker_t *ld_broker_new (const ld_broker_config_t *config);

//  Stops the broker (finishing the commit in progress) and frees it.
void ld_broker_destroy (ld_broker_t **self_p);

//  "listen=tcp://... live=tcp://..." once serving; NULL if it failed.
//  Borrowed, valid while the broker lives.
const char *ld_broker_ready (ld_broker_t *self);

//  Why the broker failed to start or stopped, or NULL. Borrowed.
const char *ld_broker_error (ld_broker_t *self);

//  The actor, to poll for its FATAL message (zsock_resolve of it).
zactor_t *ld_broker_actor (ld_broker_t *self);

#endif
