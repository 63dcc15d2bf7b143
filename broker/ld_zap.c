/*  ld_zap.c -- the ZAP handler. See ld_zap.h.

    ZAP/1.0 (RFC 27) over a REP socket: libzmq sends, for each handshake,
        request:  version "1.0", request id, domain, address, routing id,
                  mechanism, credentials... (CURVE: one 32-byte public key)
        reply:    version "1.0", request id, status code, status text,
                  user id, metadata (empty here)
    A REP socket must answer every request, so malformed ones get a 400 too
    (libzmq refuses the handshake on anything but a well-formed 200).

    The table (Curve25519 key in hex -> entry) is built by ld_zap_set in the
    caller's thread, where a key that does not convert can be reported, and
    handed to the actor by pointer; the actor swaps it in and signals, so
    the caller knows the next handshake sees it. Nothing is shared.
*/
#include "ld_zap.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_identity.h"
#include "ld_socket.h"

#define S_VERSION          "1.0"
#define S_MECHANISM        "CURVE"
#define S_REQUEST_FRAMES   7   //  with CURVE's one credentials frame
#define S_DOMAIN_MAX       254 //  RFC 27: a short string
#define S_HEX_BYTES        (2 * LD_KEY_BYTES + 1)
#define S_STATUS_OK        "200"
#define S_STATUS_REFUSED   "400"
#define S_PROBE_MONITOR_EP "inproc://ld-zap-probe-%p-%08x"

struct _ld_zap_t {
    zactor_t *actor;
    char domain[S_DOMAIN_MAX + 1];
};

//  One admitted key in the actor's table.
typedef struct {
    char user_id[LD_KEY_TEXT_BYTES]; //  "ed25519:..."
    unsigned roles;
} s_admitted_t;

typedef struct {
    zsock_t *pipe;
    zsock_t *handler; //  REP at LD_ZAP_ENDPOINT
    const char *domain;
    zhashx_t *table; //  hex Curve25519 key -> s_admitted_t
    bool terminated;
} s_self_t;

static void
s_admitted_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

static zhashx_t *
s_table_new (void)
{
    zhashx_t *table = zhashx_new ();
    if (table)
        zhashx_set_destructor (table, s_admitted_destroy);
    return table;
}

static bool
s_frame_is (zframe_t *frame, const char *text)
{
    size_t len = strlen (text);
    return frame && zframe_size (frame) == len && memcmp (zframe_data (frame), text, len) == 0;
}

//  Sends the reply to a request whose id frame is request_id (may be NULL
//  for a request too short to carry one).
static void
s_reply (s_self_t *self, zframe_t *request_id, const char *status, const char *text,
         const char *user_id)
{
    zmsg_t *reply = zmsg_new ();
    if (!reply)
        return;
    zmsg_addstr (reply, S_VERSION);
    if (request_id)
        zmsg_addmem (reply, zframe_data (request_id), zframe_size (request_id));
    else
        zmsg_addmem (reply, NULL, 0);
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, user_id);
    zmsg_addmem (reply, NULL, 0); //  no metadata
    zmsg_send (&reply, self->handler);
}

//  Decides one request. Everything not exactly as expected is refused.
static void
s_handle_request (s_self_t *self)
{
    zmsg_t *request = zmsg_recv (self->handler);
    if (!request)
        return;
    size_t frames = zmsg_size (request);
    zframe_t *version = zmsg_first (request);
    zframe_t *request_id = zmsg_next (request);
    zframe_t *domain = zmsg_next (request);
    zmsg_next (request); //  address: not part of the policy
    zmsg_next (request); //  routing id: not part of the policy
    zframe_t *mechanism = zmsg_next (request);
    zframe_t *key = zmsg_next (request);
    const char *refusal = NULL;
    if (!s_frame_is (version, S_VERSION) || !request_id)
        refusal = "malformed request";
    else if (!s_frame_is (domain, self->domain))
        refusal = "wrong domain";
    else if (!s_frame_is (mechanism, S_MECHANISM))
        refusal = "mechanism not allowed";
    else if (frames != S_REQUEST_FRAMES || !key || zframe_size (key) != LD_KEY_BYTES)
        refusal = "malformed credentials";
    s_admitted_t *admitted = NULL;
    if (!refusal) {
        char hex[S_HEX_BYTES];
        sodium_bin2hex (hex, sizeof hex, zframe_data (key), LD_KEY_BYTES);
        admitted = zhashx_lookup (self->table, hex);
        if (!admitted || admitted->roles == 0)
            refusal = "key not admitted";
    }
    if (refusal)
        s_reply (self, request_id, S_STATUS_REFUSED, refusal, "");
    else
        s_reply (self, request_id, S_STATUS_OK, "OK", admitted->user_id);
    zmsg_destroy (&request);
}

static void
s_handle_pipe (s_self_t *self)
{
    char *command = NULL;
    void *table = NULL;
    if (zsock_recv (self->pipe, "sp", &command, &table) != 0) {
        self->terminated = true;
        return;
    }
    if (command && streq (command, "SET")) {
        //  NULL: empty the table (the caller could not build one)
        zhashx_t *fresh = table ? table : s_table_new ();
        if (fresh) {
            zhashx_destroy (&self->table);
            self->table = fresh;
        }
        else
            zhashx_purge (self->table);
        zsock_signal (self->pipe, 0);
    }
    else if (!command || streq (command, "$TERM"))
        self->terminated = true;
    free (command);
}

static void
s_zap_actor (zsock_t *pipe, void *args)
{
    s_self_t self = {.pipe = pipe, .domain = args, .table = s_table_new ()};
    char err[256] = "";
    ld_socket_spec_t spec = {.type = ZMQ_REP, .endpoints = "@" LD_ZAP_ENDPOINT};
    self.handler = self.table ? ld_socket_new (&spec, err, sizeof err) : NULL;
    zsock_signal (pipe, 0);
    if (!self.handler) {
        zstr_sendf (pipe, "FAILED %s", *err ? err : "out of memory");
        //  wait for $TERM so that zactor_destroy finds us
        while (!self.terminated)
            s_handle_pipe (&self);
        zhashx_destroy (&self.table);
        return;
    }
    zstr_send (pipe, "READY");
    zpoller_t *poller = zpoller_new (pipe, self.handler, NULL);
    while (poller && !self.terminated) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe)
            s_handle_pipe (&self);
        else if (which == self.handler)
            s_handle_request (&self);
        else if (zpoller_terminated (poller))
            break; //  the owner sees the pipe signalled and stops serving
    }
    zpoller_destroy (&poller);
    zsock_destroy (&self.handler);
    zhashx_destroy (&self.table);
}

ld_zap_t *
ld_zap_new (const char *domain, char *err, size_t err_size)
{
    if (!domain || !*domain || strlen (domain) > S_DOMAIN_MAX) {
        snprintf (err, err_size, "ZAP domain must be 1..%d characters", S_DOMAIN_MAX);
        return NULL;
    }
    ld_zap_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    snprintf (self->domain, sizeof self->domain, "%s", domain);
    self->actor = zactor_new (s_zap_actor, self->domain);
    char *line = self->actor ? zstr_recv (self->actor) : NULL;
    if (!line || !streq (line, "READY")) {
        snprintf (err, err_size, "cannot start the ZAP handler: %s",
                  line && strncmp (line, "FAILED ", 7) == 0 ? line + 7 : "no thread");
        free (line);
        zactor_destroy (&self->actor);
        free (self);
        return NULL;
    }
    free (line);
    return self;
}

int
ld_zap_set (ld_zap_t *self, const ld_zap_entry_t *entries, size_t count)
{
    int rc = 0;
    zhashx_t *table = s_table_new ();
    for (size_t i = 0; table && i < count; i++) {
        uint8_t curve[LD_KEY_BYTES];
        if (ld_curve_public_from_key (entries[i].key, curve) != LD_OK) {
            rc = -1; //  not a point: it can never be admitted
            continue;
        }
        char hex[S_HEX_BYTES];
        sodium_bin2hex (hex, sizeof hex, curve, LD_KEY_BYTES);
        s_admitted_t *admitted = zhashx_lookup (table, hex);
        if (admitted) {
            admitted->roles |= entries[i].roles;
            continue;
        }
        admitted = calloc (1, sizeof *admitted);
        if (!admitted) {
            zhashx_destroy (&table);
            break;
        }
        ld_key_to_text (entries[i].key, admitted->user_id);
        admitted->roles = entries[i].roles;
        zhashx_insert (table, hex, admitted);
    }
    if (!table)
        rc = -1; //  out of memory: the actor empties its table instead
    //  Anything already waiting on the pipe is the signal of an actor that
    //  has stopped (ld_zap_actor): it would be mistaken for the answer.
    if (zsock_events (zactor_sock (self->actor)) & ZMQ_POLLIN) {
        zhashx_destroy (&table);
        return -1;
    }
    if (zsock_send (self->actor, "sp", "SET", table) != 0) {
        zhashx_destroy (&table);
        return -1;
    }
    return zsock_wait (self->actor) == 0 ? rc : -1;
}

void
ld_zap_destroy (ld_zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy (&(*self_p)->actor);
    free (*self_p);
    *self_p = NULL;
}

zactor_t *
ld_zap_actor (ld_zap_t *self)
{
    return self->actor;
}

//  --------------------------------------------------------------------------
//  The start-up probe

int
ld_zap_probe (const char *endpoint, const uint8_t server_curve_public[LD_KEY_BYTES], int timeout_ms,
              char *err, size_t err_size)
{
    //  A key nobody has seen: only a missing handler would admit it.
    uint8_t public_key[crypto_box_PUBLICKEYBYTES], secret_key[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair (public_key, secret_key);
    ld_socket_spec_t spec = {
        .type = ZMQ_DEALER,
        .curve_secret = secret_key,
        .curve_public = public_key,
        .curve_server_key = server_curve_public,
    };
    zsock_t *client = ld_socket_new (&spec, err, err_size);
    sodium_memzero (secret_key, sizeof secret_key);
    if (!client)
        return -1;
    int rc = -1;
    zsock_t *monitor = NULL;
    //  The name must be new: an old probe's monitor may not be reaped yet.
    char monitor_endpoint[64];
    snprintf (monitor_endpoint, sizeof monitor_endpoint, S_PROBE_MONITOR_EP, (void *) client,
              randombytes_random ());
    int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                 | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
    if (zmq_socket_monitor (zsock_resolve (client), monitor_endpoint, events) != 0) {
        snprintf (err, err_size, "cannot monitor the probe: %s", zmq_strerror (errno));
        goto done;
    }
    //  Connect the monitor before the client: events before that are lost.
    char monitor_spec[80];
    snprintf (monitor_spec, sizeof monitor_spec, ">%s", monitor_endpoint);
    ld_socket_spec_t pair = {.type = ZMQ_PAIR, .endpoints = monitor_spec};
    monitor = ld_socket_new (&pair, err, err_size);
    if (!monitor)
        goto done;
    if (zsock_connect (client, "%s", endpoint) != 0) {
        snprintf (err, err_size, "cannot connect the probe to '%s': %s", endpoint,
                  zmq_strerror (errno));
        goto done;
    }
    int64_t deadline = zclock_mono () + timeout_ms;
    snprintf (err, err_size, "no handshake verdict from '%s' within %d ms", endpoint, timeout_ms);
    while (true) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        zmq_pollitem_t item = {zsock_resolve (monitor), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, (long) left) < 0 && errno != EINTR)
            break;
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        zmsg_t *msg = zmsg_recv (monitor);
        zframe_t *head = msg ? zmsg_first (msg) : NULL;
        uint16_t event = 0;
        uint32_t value = 0;
        if (head && zframe_size (head) == sizeof event + sizeof value) {
            memcpy (&event, zframe_data (head), sizeof event);
            memcpy (&value, zframe_data (head) + sizeof event, sizeof value);
        }
        zmsg_destroy (&msg);
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            rc = 0; //  refused by the handler: it runs and decides
            *err = '\0';
            break;
        }
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            snprintf (err, err_size,
                      "a random key completed the CURVE handshake with '%s': no ZAP handler",
                      endpoint);
            break;
        }
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
            || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
            snprintf (err, err_size,
                      "the probe's handshake with '%s' failed without a ZAP verdict "
                      "(event %u, %u): is it a CURVE server with our key?",
                      endpoint, event, value);
            break;
        }
    }
done:
    zmq_socket_monitor (zsock_resolve (client), NULL, 0);
    zsock_destroy (&monitor);
    zsock_destroy (&client);
    return rc;
}
