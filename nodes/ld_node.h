/*  ld_node.h -- the node daemon: holds an identity, signs events into its
    own feed and delivers them to a broker.

    A node is a czmq actor. It owns:
      - the identity (secret key in libsodium secure memory);
      - its store, DATA/liandong.db, where its own feed is committed before
        anything leaves the machine (offline first);
      - a control socket (ROUTER, bound at an ipc path only its owner may
        connect to) that answers ControlRequests (sync/ld_sync.proto);
      - the per-person keys of erasable personal data, in the same store
        (Seal, Open, Erase requests; ld_persons.h);
      - a DEALER to the broker, over which an outbox sends every own event
        the broker has not acknowledged yet, in Publish batches, until it is
        acknowledged. Resends are harmless: the broker stores (author, seq)
        once and acknowledges resends again.
    The design comment at the top of ld_node.c gives the state machine.

    Only ld_node_new and ld_node_destroy are called from outside; the rest
    of the conversation is on the sockets. The actor's pipe carries one
    message the owner must watch for:
        "FATAL" <reason>   the store failed (an I/O error: a retried fsync
                           can lie, so the node stops authoring at once);
                           the owner should destroy the node and exit.
*/
#ifndef LD_NODE_H_INCLUDED
#define LD_NODE_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#include "ld_crypto.h"
#include "ld_status.h"

#define LD_NODE_LOCK_FILE "node.lock" //  inside the data dir: one node per dir

//  What a node is started with. Strings are borrowed: ld_node_new copies
//  what it keeps.
typedef struct {
    const char *data_dir;      //  created (0700) if missing
    const char *identity_path; //  secret key file (ld_identity_load)
    const char *broker;        //  endpoint the DEALER connects to, e.g. "tcp://host:port"
    const char *control;       //  "ipc://PATH" to bind (owner-only, umask 077)
    bool restore;              //  rebuild the own feed from the broker first
    //  The broker's Ed25519 key (--broker-key): the DEALER is a CurveZMQ
    //  client with the identity's Curve25519 pair and talks only to the
    //  server holding this key. Without it: plain tcp (a broker --open).
    bool has_broker_key;
    uint8_t broker_key[LD_KEY_BYTES];
} ld_node_config_t;

//  Starts a node. On success returns the running actor, which owns
//  everything the node opened. On failure returns NULL, writes the reason
//  in err and the cause in *status_p (status_p may be NULL):
//    LD_ERR_USAGE       a bad endpoint or broker key, or --restore on a data dir that
//                       already holds own events (restoring would fork);
//    LD_ERR_EXISTS      another node runs on this data dir or control path;
//    LD_ERR_NOT_FOUND, LD_ERR_PERMISSIONS, LD_ERR_BAD_FORMAT
//                       the identity file (ld_identity_load);
//    LD_ERR_IO, LD_ERR_CORRUPT, LD_ERR_SCHEMA
//                       the store (ld_store_open), the data dir;
//    LD_ERR_NOMEM.
//  Call from the thread that will own the node, before other threads run
//  (binding the control socket sets the process umask for a moment).
zactor_t *ld_node_new (const ld_node_config_t *config, ld_status_t *status_p, char *err,
                       size_t err_size);

//  Stops the node (the actor persists its outbox position and closes its
//  store) and sets *self_p to NULL. NULL-safe.
void ld_node_destroy (zactor_t **self_p);

#endif
