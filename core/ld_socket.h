/*  ld_socket.h -- the one place where ZeroMQ sockets are made.

    Every socket in Liandong is built here from a description, so that no
    socket goes out without its limits: a maximum message size (peers that
    send more are disconnected by libzmq), high-water marks, heartbeats (a
    dead peer is noticed), a bounded linger. Nothing else calls
    zmq_setsockopt for setup.
*/
#ifndef LD_SOCKET_H_INCLUDED
#define LD_SOCKET_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LD_SOCKET_HEARTBEAT_IVL_MS     1000
#define LD_SOCKET_HEARTBEAT_TIMEOUT_MS 5000
#define LD_SOCKET_LINGER_MS            0
#define LD_SOCKET_RECONNECT_MS         100
#define LD_SOCKET_RECONNECT_MAX_MS     2000

typedef struct {
    int type;              //  ZMQ_ROUTER, ZMQ_DEALER, ZMQ_PUB, ZMQ_SUB, ...
    const char *endpoints; //  czmq syntax: "@tcp://..." binds, ">tcp://..." connects;
                           //  NULL: neither (the caller binds or connects later)
    int64_t max_message;   //  bytes of one frame; 0 means no limit (inproc only)
    int sndhwm, rcvhwm;    //  0: libzmq's default (1000)
    bool immediate;        //  queue only to completed connections
    bool router_mandatory; //  ROUTER: report unroutable peers instead of dropping
    bool no_heartbeat;     //  no ZMTP heartbeats: for a socket whose receive queue may
                           //  fill (a SUB behind a slow reader), whose owner checks
                           //  liveness by its own messages. libzmq 4.3.4 aborts when a
                           //  heartbeat fires on a connection whose input is stopped at
                           //  the HWM (zeromq/libzmq#3937, #4364, #4767; unfixed).
    //  CurveZMQ (all 32-byte binary keys, borrowed for the call only):
    //    server: curve_secret (and curve_public), curve_server_key NULL, and
    //            zap_domain: the ZAP handler decides who may connect;
    //    client: curve_secret + curve_public (its own pair) and
    //            curve_server_key (the pinned broker's key).
    //  All NULL: plain tcp (a broker started with --open, ipc, inproc).
    const uint8_t *curve_secret;
    const uint8_t *curve_public;
    const uint8_t *curve_server_key;
    const char *zap_domain;
} ld_socket_spec_t;

//  A new socket as described, or NULL with a reason in err (an endpoint
//  that cannot be bound or connected, ...).
zsock_t *ld_socket_new (const ld_socket_spec_t *spec, char *err, size_t err_size);

#endif
