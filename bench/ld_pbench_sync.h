/*  ld_pbench_sync.h -- the protocol steps the benchmark clients share
    (ld_loader, ld_subbench): one reply with a timeout, Hello -> Welcome. */
#ifndef LD_PBENCH_SYNC_H_INCLUDED
#define LD_PBENCH_SYNC_H_INCLUDED

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_sync.h"

//  One reply on the DEALER within timeout_ms; NULL on timeout or a
//  malformed reply (said on stderr). The caller frees it (ld_reply_free).
ld_reply_t *ld_pbench_recv_reply (zsock_t *dealer, int timeout_ms);

//  Hello -> Welcome within timeout_ms, other replies skipped: writes the
//  live endpoint and the broker's last store seq. 0 or -1.
int ld_pbench_hello (zsock_t *dealer, int timeout_ms, char *live, size_t live_size,
                     uint64_t *last_seq);

#endif
