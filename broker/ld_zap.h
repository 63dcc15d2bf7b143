/*  ld_zap.h -- the broker's ZAP handler (ZeroMQ RFC 27, ZAP/1.0): which
    CurveZMQ keys may connect at all.

    A CURVE server socket asks the ZAP handler of its context about every
    client; without a handler libzmq admits ANY key (LIBRARIES.md: CURVE
    fails open). ld_zap is that handler: a czmq actor bound at
    inproc://zeromq.zap.01 in czmq's shared context, so it serves every
    zsock of the process. There can be only one per process.

    Policy (fail closed everywhere):
      - only mechanism CURVE, only the domain given to ld_zap_new;
      - the client's Curve25519 key must be in the table, which is built from
        Ed25519 keys (converted with ld_curve_public_from_key);
      - admitted: 200 with User-Id = the Ed25519 key's text form
        ("ed25519:..."), so the server reads the sender of every message with
        zframe_meta (frame, "User-Id");
      - anything else, malformed requests included: 400, never a crash.
    The handler only decides who may connect; what a connected key may do
    (roles) is the server's per-message check.
*/
#ifndef LD_ZAP_H_INCLUDED
#define LD_ZAP_H_INCLUDED

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_crypto.h"

#define LD_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define LD_ZAP_DOMAIN   "liandong" //  the domain the broker's sockets use

typedef enum { LD_ZAP_SUBSCRIBE = 1, LD_ZAP_PUBLISH = 2 } ld_zap_role_t;

//  One admitted key: an Ed25519 public key and its roles (ld_zap_role_t
//  bits). An entry without roles admits nothing.
typedef struct {
    uint8_t key[LD_KEY_BYTES];
    unsigned roles;
} ld_zap_entry_t;

typedef struct _ld_zap_t ld_zap_t;

//  Starts the handler for domain (copied) with an empty table: nobody is
//  admitted until ld_zap_set. NULL with a reason in err if the endpoint is
//  taken (another handler runs in this process) or resources are short.
ld_zap_t *ld_zap_new (const char *domain, char *err, size_t err_size);

//  Replaces the whole table with entries[0..count) (borrowed for the call).
//  Synchronous: returns once the handler applies it to the next request.
//  Returns 0; -1 if not every entry could be admitted: a key that is not a
//  valid Ed25519 point is left out, and out of memory or a stopped handler
//  leaves the table empty (fail closed: the table never admits more than
//  the entries given).
int ld_zap_set (ld_zap_t *self, const ld_zap_entry_t *entries, size_t count);

//  Stops the handler; NULL-safe; sets *self_p to NULL. From then on CURVE
//  servers of this process admit any key again: stop them first.
void ld_zap_destroy (ld_zap_t **self_p);

//  The handler's actor. Its pipe carries nothing while the handler runs:
//  anything readable on it means the handler has stopped (the owner must
//  then stop serving CURVE). Borrowed, valid while self lives.
zactor_t *ld_zap_actor (ld_zap_t *self);

//  Start-up self-test: a CURVE client with a fresh random key (in no table)
//  connects to endpoint ("tcp://...") whose server has the Curve25519
//  public key server_curve_public. Watches the handshake with a socket
//  monitor. Returns 0 if the handshake is refused (the ZAP handler works);
//  -1 with the reason in err if it succeeds (no handler: any key would be
//  admitted), fails otherwise, or gives no verdict within timeout_ms.
int ld_zap_probe (const char *endpoint, const uint8_t server_curve_public[LD_KEY_BYTES],
                  int timeout_ms, char *err, size_t err_size);

#endif
