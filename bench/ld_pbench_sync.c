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

int
ld_pbench_curve_load (const char *identity_path, const char *broker_key, ld_pbench_curve_t *keys)
{
    memset (keys, 0, sizeof *keys);
    if (!identity_path && !broker_key)
        return 0;
    if (!identity_path || !broker_key) {
        fprintf (stderr, "ld_pbench: --identity and --broker-key go together\n");
        return -1;
    }
    char err[512];
    uint8_t key[LD_KEY_BYTES];
    ld_identity_t *identity = NULL;
    if (ld_public_key_load (broker_key, key, err, sizeof err) != LD_OK
        || ld_curve_public_from_key (key, keys->server) != LD_OK) {
        fprintf (stderr, "ld_pbench: --broker-key: %s\n", err);
        return -1;
    }
    if (ld_identity_load (identity_path, &identity, err, sizeof err) != LD_OK) {
        fprintf (stderr, "ld_pbench: --identity: %s\n", err);
        return -1;
    }
    keys->curve = ld_curve_new (identity);
    ld_identity_destroy (&identity);
    if (!keys->curve) {
        fprintf (stderr, "ld_pbench: cannot convert the identity for CURVE\n");
        return -1;
    }
    return 0;
}

void
ld_pbench_curve_apply (const ld_pbench_curve_t *keys, ld_socket_spec_t *spec)
{
    if (!keys || !keys->curve)
        return;
    spec->curve_secret = ld_curve_secret (keys->curve);
    spec->curve_public = ld_curve_public (keys->curve);
    spec->curve_server_key = keys->server;
}

void
ld_pbench_curve_free (ld_pbench_curve_t *keys)
{
    ld_curve_destroy (&keys->curve);
    memset (keys, 0, sizeof *keys);
}
