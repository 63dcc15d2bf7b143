/*  ld_socket.c -- the socket factory. See ld_socket.h. */
#include "ld_socket.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

zsock_t *
ld_socket_new (const ld_socket_spec_t *spec, char *err, size_t err_size)
{
    zsock_t *sock = zsock_new (spec->type);
    if (!sock) {
        snprintf (err, err_size, "cannot create a socket: %s", zmq_strerror (errno));
        return NULL;
    }
    zsock_set_linger (sock, LD_SOCKET_LINGER_MS);
    if (spec->max_message > 0)
        zsock_set_maxmsgsize (sock, (int) spec->max_message);
    if (spec->sndhwm)
        zsock_set_sndhwm (sock, spec->sndhwm);
    if (spec->rcvhwm)
        zsock_set_rcvhwm (sock, spec->rcvhwm);
    if (spec->immediate)
        zsock_set_immediate (sock, 1);
    if (spec->router_mandatory)
        zsock_set_router_mandatory (sock, 1);
    zsock_set_reconnect_ivl (sock, LD_SOCKET_RECONNECT_MS);
    zsock_set_reconnect_ivl_max (sock, LD_SOCKET_RECONNECT_MAX_MS);
    if (!spec->no_heartbeat) {
        zsock_set_heartbeat_ivl (sock, LD_SOCKET_HEARTBEAT_IVL_MS);
        zsock_set_heartbeat_timeout (sock, LD_SOCKET_HEARTBEAT_TIMEOUT_MS);
        zsock_set_heartbeat_ttl (sock, LD_SOCKET_HEARTBEAT_TIMEOUT_MS);
    }
    else {
        //  Without ZMTP heartbeats, let TCP notice dead peers eventually.
        zsock_set_tcp_keepalive (sock, 1);
        zsock_set_tcp_keepalive_idle (sock, 60);
        zsock_set_tcp_keepalive_intvl (sock, 10);
    }
    if (spec->curve_secret) {
        //  Set before bind/connect: the options apply to new connections.
        zsock_set_curve_secretkey_bin (sock, spec->curve_secret);
        if (spec->curve_public)
            zsock_set_curve_publickey_bin (sock, spec->curve_public);
        if (spec->curve_server_key)
            zsock_set_curve_serverkey_bin (sock, spec->curve_server_key);
        else {
            zsock_set_curve_server (sock, 1);
            if (spec->zap_domain)
                zsock_set_zap_domain (sock, spec->zap_domain);
        }
    }
    if (spec->endpoints && zsock_attach (sock, spec->endpoints, false) != 0) {
        snprintf (err, err_size, "cannot use endpoint '%s': %s", spec->endpoints,
                  zmq_strerror (errno));
        zsock_destroy (&sock);
        return NULL;
    }
    return sock;
}
