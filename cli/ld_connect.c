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

//  Decodes, verifies and hands on the events of one chunk. Returns 0, or
//  what fn returned to stop.
static int
s_chunk (const Liandong__Sync__Events *events, ld_connect_event_fn *fn, void *arg, size_t *skipped)
{
    for (size_t i = 0; i < events->n_events; i++) {
        const Liandong__Sync__Stored *stored = events->events[i];
        ld_event_t *event = NULL;
        char why[256];
        ld_status_t rc = ld_event_decode (stored->envelope.data, stored->envelope.len, 0, &event,
                                          why, sizeof why);
        if (rc == LD_OK && (rc = ld_event_verify (event)) != LD_OK)
            snprintf (why, sizeof why, "%s", ld_status_text (rc));
        int stop = 0;
        if (rc != LD_OK) {
            if ((*skipped)++ == 0)
                ld_cli_error ("skipped an event at store seq %" PRIu64 ": %s", stored->store_seq,
                              why);
        }
        else
            stop = fn (arg, event, stored->store_seq, stored->invalid);
        ld_event_destroy (&event);
        if (stop)
            return stop;
    }
    return 0;
}

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
            int stop = s_chunk (events, fn, arg, &skipped);
            if (stop) {
                code = stop;
                done = true;
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

#define S_AUTHOR_GRACE_MS 2000 //  beyond the wait before the node counts as silent

int
ld_connect_node_path (zsock_t *sock, int timeout_ms, const char *kind, char *path, size_t size)
{
    Liandong__Sync__NodeStatusRequest status = LIANDONG__SYNC__NODE_STATUS_REQUEST__INIT;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_STATUS;
    request.status = &status;
    char err[512];
    ld_control_reply_t *reply =
        ld_connect_control_call (sock, &request, timeout_ms, err, sizeof err);
    if (!reply) {
        ld_cli_error ("%s", err);
        return EX_UNAVAILABLE;
    }
    int code = EX_OK;
    if (reply->kind_case != LIANDONG__SYNC__CONTROL_REPLY__KIND_STATUS) {
        ld_cli_error ("the node did not answer with its status");
        code = EX_PROTOCOL;
    }
    else if (reply->status->n_paths == 0
             || ld_topic_check (reply->status->paths[0], strlen (reply->status->paths[0]))
                    != LD_OK) {
        ld_cli_error ("the node holds no certified org path yet: pass --path P (the topic is "
                      "%s/P)",
                      kind);
        code = EX_USAGE;
    }
    else
        snprintf (path, size, "%s", reply->status->paths[0]);
    ld_control_reply_free (&reply);
    return code;
}

int
ld_connect_author (zsock_t *sock, const char *topic, const char *type, const uint8_t *payload,
                   size_t size, bool wait, uint32_t timeout_ms, ld_control_reply_t **reply_p)
{
    *reply_p = NULL;
    Liandong__Sync__Author author = LIANDONG__SYNC__AUTHOR__INIT;
    author.tag = 1;
    author.topic = (char *) topic;
    author.type = (char *) type;
    author.has_payload = 1;
    author.payload.data = (uint8_t *) payload;
    author.payload.len = size;
    author.has_wait = 1;
    author.wait = wait;
    author.has_timeout_ms = 1;
    author.timeout_ms = timeout_ms;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_AUTHOR;
    request.author = &author;
    char err[512];
    ld_control_reply_t *reply = ld_connect_control_call (
        sock, &request, (int) (timeout_ms + S_AUTHOR_GRACE_MS), err, sizeof err);
    if (!reply) {
        ld_cli_error ("%s", err);
        return EX_UNAVAILABLE;
    }
    if (reply->kind_case != LIANDONG__SYNC__CONTROL_REPLY__KIND_AUTHORED) {
        ld_cli_error ("the node could not read the request: %s",
                      reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_ERROR
                          ? reply->error->reason
                          : "unexpected reply");
        ld_control_reply_free (&reply);
        return EX_DATAERR;
    }
    *reply_p = reply;
    return EX_OK;
}

int
ld_connect_catchup_control (const char *control, const char *prefix, ld_connect_event_fn *fn,
                            void *arg)
{
    zsock_t *sock = NULL;
    char err[512];
    ld_status_t status = ld_connect_control (control, &sock, err, sizeof err);
    if (status != LD_OK) {
        ld_cli_error ("%s", err);
        return status == LD_ERR_NOT_FOUND ? EX_UNAVAILABLE : EX_USAGE;
    }
    Liandong__Sync__Fetch fetch = LIANDONG__SYNC__FETCH__INIT;
    fetch.tag = 1;
    fetch.has_after = 1;
    fetch.after = 0;
    fetch.prefix = (char *) prefix;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_FETCH;
    request.fetch = &fetch;
    int code = EX_UNAVAILABLE;
    size_t skipped = 0;
    bool done = false;
    while (!done) {
        ld_control_reply_t *reply =
            ld_connect_control_call (sock, &request, S_CATCHUP_MS, err, sizeof err);
        if (!reply) {
            ld_cli_error ("%s", err);
            break;
        }
        if (reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_FETCHED) {
            const Liandong__Sync__Events *events = reply->fetched->events;
            int stop = s_chunk (events, fn, arg, &skipped);
            if (stop) {
                code = stop;
                done = true;
            }
            else if (events->caught_up) {
                code = EX_OK;
                done = true;
            }
            //  the next Fetch of the tag is credit for one more chunk
            fetch.has_more = 1;
            fetch.more = 1;
        }
        else {
            ld_cli_error ("the node could not fetch: %s",
                          reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_ERROR
                              ? reply->error->reason
                              : "unexpected reply");
            done = true;
        }
        ld_control_reply_free (&reply);
    }
    if (skipped > 1)
        ld_cli_error ("skipped %zu events in all", skipped);
    zsock_destroy (&sock);
    return code;
}
