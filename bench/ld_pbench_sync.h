/*  ld_pbench_sync.h -- the protocol steps the benchmark clients share
    (ld_loader, ld_subbench): one reply with a timeout, Hello -> Welcome. */
#ifndef LD_PBENCH_SYNC_H_INCLUDED
#define LD_PBENCH_SYNC_H_INCLUDED

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_identity.h"
#include "ld_socket.h"
#include "ld_sync.h"

//  A bench client's CurveZMQ keys (--identity and --broker-key): its own
//  identity converted, and the broker's key converted. Zeroed: plain tcp.
typedef struct {
    ld_curve_t *curve;
    uint8_t server[LD_KEY_BYTES];
} ld_pbench_curve_t;

//  Loads both (identity_path: a secret key file; broker_key: a .pub file or
//  "ed25519:..."), or neither when both are NULL. 0, or -1 said on stderr
//  (one given without the other, a file that does not load).
int ld_pbench_curve_load (const char *identity_path, const char *broker_key,
                          ld_pbench_curve_t *keys);

//  Makes spec a CURVE client with keys (nothing if keys is NULL or zeroed).
//  The keys must live until ld_socket_new returns.
void ld_pbench_curve_apply (const ld_pbench_curve_t *keys, ld_socket_spec_t *spec);

//  Wipes and frees the keys; the struct is zeroed.
void ld_pbench_curve_free (ld_pbench_curve_t *keys);

//  One reply on the DEALER within timeout_ms; NULL on timeout or a
//  malformed reply (said on stderr). The caller frees it (ld_reply_free).
ld_reply_t *ld_pbench_recv_reply (zsock_t *dealer, int timeout_ms);

//  Hello -> Welcome within timeout_ms, other replies skipped: writes the
//  live endpoint and the broker's last store seq. 0 or -1.
int ld_pbench_hello (zsock_t *dealer, int timeout_ms, char *live, size_t live_size,
                     uint64_t *last_seq);

#endif
