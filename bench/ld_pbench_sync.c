/*  ld_pbench_sync.c -- see ld_pbench_sync.h. */
#include "ld_pbench_sync.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ld_pbench.h"

ld_reply_t *
ld_pbench_recv_reply (zsock_t *dealer, int timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve (dealer), 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, timeout_ms) <= 0)
        return NULL;
    char err[256];
    ld_reply_t *reply = ld_reply_recv (dealer, err, sizeof err);
    if (!reply)
        fprintf (stderr, "ld_pbench: malformed reply: %s\n", err);
    return reply;
}

int
ld_pbench_hello (zsock_t *dealer, int timeout_ms, char *live, size_t live_size, uint64_t *last_seq)
{
    Liandong__Sync__Hello hello = LIANDONG__SYNC__HELLO__INIT;
    hello.has_version = 1;
    hello.version = LD_SYNC_VERSION;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_HELLO;
    request.hello = &hello;
    if (ld_request_send (dealer, &request) != 0)
        return -1;
    int64_t deadline = ld_pbench_now_ns () + (int64_t) timeout_ms * LD_PBENCH_NS_PER_MS;
    while (true) {
        int64_t left_ms = (deadline - ld_pbench_now_ns ()) / LD_PBENCH_NS_PER_MS;
        if (left_ms <= 0)
            return -1;
        ld_reply_t *reply = ld_pbench_recv_reply (dealer, (int) left_ms);
        if (!reply)
            continue;
        bool welcome = reply->kind_case == LIANDONG__SYNC__REPLY__KIND_WELCOME;
        if (welcome) {
            *last_seq = reply->welcome->last_seq;
            for (size_t i = 0; i < reply->welcome->n_endpoints; i++)
                if (strcmp (reply->welcome->endpoints[i]->name, "live") == 0)
                    snprintf (live, live_size, "%s", reply->welcome->endpoints[i]->address);
        }
        ld_reply_free (&reply);
        if (welcome)
            return 0;
    }
}
