/*  ld_connect.c -- the CLI's connections. See ld_connect.h. */
#include "ld_connect.h"

#include <inttypes.h>
#include <sysexits.h>

#include "ld_cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ld_cli.h"
#include "ld_identity.h"
#include "ld_socket.h"

#define S_IPC_PREFIX   "ipc://"
#define S_CONTROL_MAX  (LD_ENVELOPE_MAX_DEFAULT * 2 + 4096)
#define S_ENDPOINT_MAX (PATH_MAX + 16)

ld_status_t
ld_connect_control (const char *control, zsock_t **sock_p, char *err, size_t err_size)
{
    *sock_p = NULL;
    struct stat st;
    if (strncmp (control, S_IPC_PREFIX, strlen (S_IPC_PREFIX)) == 0
        && stat (control + strlen (S_IPC_PREFIX), &st) != 0)
        return ld_fail (err, err_size, LD_ERR_NOT_FOUND,
                        "node not reachable: no control socket at '%s'", control);
    char endpoint[S_ENDPOINT_MAX];
    snprintf (endpoint, sizeof endpoint, ">%s", control);
    ld_socket_spec_t spec = {
        .type = ZMQ_DEALER,
        .endpoints = endpoint,
        .max_message = S_CONTROL_MAX + LD_SYNC_FRAME_MAX,
    };
    *sock_p = ld_socket_new (&spec, err, err_size);
    return *sock_p ? LD_OK : LD_ERR_USAGE;
}

static zframe_t *
s_recv (zsock_t *sock, int timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve (sock), 0, ZMQ_POLLIN, 0};
    int64_t deadline = zclock_mono () + timeout_ms;
    while (true) {
        int64_t left = deadline - zclock_mono ();
        if (left < 0)
            left = 0;
        int rc = zmq_poll (&item, 1, (long) left);
        if (rc > 0)
            return zframe_recv (sock);
        if (rc == 0 || errno != EINTR)
            return NULL;
    }
}

ld_control_reply_t *
ld_connect_control_call (zsock_t *sock, const ld_control_request_t *request, int timeout_ms,
                         char *err, size_t err_size)
{
    if (ld_control_request_send (sock, request) != 0) {
        ld_fail (err, err_size, LD_ERR_IO, "cannot send to the node");
        return NULL;
    }
    zframe_t *frame = s_recv (sock, timeout_ms);
    if (!frame) {
        ld_fail (err, err_size, LD_ERR_NOT_FOUND, "node not reachable: no answer within %d ms",
                 timeout_ms);
        return NULL;
    }
    ld_control_reply_t *reply = NULL;
    ld_control_reply_decode (zframe_data (frame), zframe_size (frame), &reply, err, err_size);
    zframe_destroy (&frame);
    return reply;
}

ld_status_t
ld_connect_broker (const char *endpoint, const char *broker_key, const char *identity,
                   zsock_t **sock_p, char *err, size_t err_size)
{
    *sock_p = NULL;
    char connect[S_ENDPOINT_MAX];
    snprintf (connect, sizeof connect, ">%s", endpoint);
    ld_socket_spec_t spec = {
        .type = ZMQ_DEALER,
        .endpoints = connect,
        .max_message = LD_SYNC_FRAME_MAX,
    };
    uint8_t server[LD_KEY_BYTES], server_curve[LD_KEY_BYTES];
    ld_identity_t *own = NULL;
    ld_curve_t *curve = NULL;
    ld_status_t rc = LD_OK;
    if (broker_key) {
        if (!identity)
            return ld_fail (err, err_size, LD_ERR_USAGE,
                            "--broker-key needs --identity (our own key for CurveZMQ)");
        if ((rc = ld_public_key_load (broker_key, server, err, err_size)) != LD_OK)
            return rc;
        if (ld_curve_public_from_key (server, server_curve) != LD_OK)
            return ld_fail (err, err_size, LD_ERR_BAD_KEY, "'%s' cannot serve as a CURVE key",
                            broker_key);
        if ((rc = ld_identity_load (identity, &own, err, err_size)) != LD_OK)
            return rc;
        curve = ld_curve_new (own);
        ld_identity_destroy (&own);
        if (!curve)
            return ld_fail (err, err_size, LD_ERR_NOMEM, "cannot convert '%s' for CURVE", identity);
        spec.curve_secret = ld_curve_secret (curve);
        spec.curve_public = ld_curve_public (curve);
        spec.curve_server_key = server_curve;
    }
    *sock_p = ld_socket_new (&spec, err, err_size);
    ld_curve_destroy (&curve);
    return *sock_p ? LD_OK : LD_ERR_USAGE;
}

int
ld_connect_broker_hello (const char *endpoint, const char *broker_key, const char *identity,
                         zsock_t **sock_p)
{
    char err[512];
    ld_status_t rc = ld_connect_broker (endpoint, broker_key, identity, sock_p, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return rc == LD_ERR_USAGE ? EX_USAGE : ld_cli_exit_code (rc);
    }
    Liandong__Sync__Hello hello = LIANDONG__SYNC__HELLO__INIT;
    hello.has_version = 1;
    hello.version = LD_SYNC_VERSION;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_HELLO;
    request.hello = &hello;
    ld_request_send (*sock_p, &request);
    return 0;
}

ld_reply_t *
ld_connect_broker_recv (zsock_t *sock, int timeout_ms, char *err, size_t err_size)
{
    zframe_t *frame = s_recv (sock, timeout_ms);
    if (!frame) {
        ld_fail (err, err_size, LD_ERR_NOT_FOUND, "broker not reachable: no answer within %d ms",
                 timeout_ms);
        return NULL;
    }
    ld_reply_t *reply = NULL;
    ld_reply_decode (zframe_data (frame), zframe_size (frame), &reply, err, err_size);
    zframe_destroy (&frame);
    return reply;
}

bool
ld_connect_number (const char *name, const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (errno || *end || end == text || text[0] == '-' || parsed < min || parsed > max) {
        ld_cli_error ("%s must be a number in %llu..%llu, not '%s'", name, (unsigned long long) min,
                      (unsigned long long) max, text);
        return false;
    }
    *value = parsed;
    return true;
}

#define S_CATCHUP_CREDIT 8
#define S_CATCHUP_MS     10000 //  wait for one chunk

int
ld_connect_catchup (const char *endpoint, const char *broker_key, const char *identity,
                    const char *prefix, ld_connect_event_fn *fn, void *arg)
{
    zsock_t *sock = NULL;
    char err[512];
    int code = ld_connect_broker_hello (endpoint, broker_key, identity, &sock);
    if (code != 0)
        return code;
    Liandong__Sync__Catchup catchup = LIANDONG__SYNC__CATCHUP__INIT;
    catchup.after = 0;
    catchup.prefix = (char *) prefix;
    catchup.credit = S_CATCHUP_CREDIT;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CATCHUP;
    request.catchup = &catchup;
    ld_request_send (sock, &request);
    code = EX_UNAVAILABLE;
    size_t skipped = 0;
    bool done = false;
    while (!done) {
        ld_reply_t *reply = ld_connect_broker_recv (sock, S_CATCHUP_MS, err, sizeof err);
        if (!reply) {
            ld_cli_error ("%s", err);
            break;
        }
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR) {
            ld_cli_error ("the broker refused catch-up: %s: %s", reply->error->status,
                          reply->error->reason);
            done = true;
        }
        else if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_EVENTS) {
            const Liandong__Sync__Events *events = reply->events;
            for (size_t i = 0; i < events->n_events && !done; i++) {
                const Liandong__Sync__Stored *stored = events->events[i];
                ld_event_t *event = NULL;
                char why[256];
                ld_status_t rc = ld_event_decode (stored->envelope.data, stored->envelope.len, 0,
                                                  &event, why, sizeof why);
                if (rc == LD_OK && (rc = ld_event_verify (event)) != LD_OK)
                    snprintf (why, sizeof why, "%s", ld_status_text (rc));
                if (rc != LD_OK) {
                    if (skipped++ == 0)
                        ld_cli_error ("skipped an event at store seq %" PRIu64 ": %s",
                                      stored->store_seq, why);
                }
                else {
                    int stop = fn (arg, event, stored->store_seq, stored->invalid);
                    if (stop) {
                        code = stop;
                        done = true;
                    }
                }
                ld_event_destroy (&event);
            }
            if (!done && events->caught_up) {
                code = EX_OK;
                done = true;
            }
            else if (!done) {
                Liandong__Sync__Credit credit = LIANDONG__SYNC__CREDIT__INIT;
                credit.chunks = 1;
                request.kind_case = LIANDONG__SYNC__REQUEST__KIND_CREDIT;
                request.credit = &credit;
                ld_request_send (sock, &request);
            }
        }
        ld_reply_free (&reply);
    }
    if (skipped > 1)
        ld_cli_error ("skipped %zu events in all", skipped);
    zsock_destroy (&sock);
    return code;
}
