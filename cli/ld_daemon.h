/*  ld_daemon.h -- what every long-running `liandong` command does first.

    czmq's zloop exits on EINTR and its own signal handler would race ours,
    so daemons block SIGINT, SIGTERM and SIGPIPE in every thread (before any
    thread starts) and read them from a signalfd polled with their sockets.
    Core dumps are disabled: they would hold the secret key.
*/
#ifndef LD_DAEMON_H_INCLUDED
#define LD_DAEMON_H_INCLUDED

//  Disables core dumps, blocks the handled signals, turns czmq's handler
//  off, sends czmq's logs to stderr under `ident`. Returns the signalfd
//  (the caller closes it), or -1 with a message already printed.
int ld_daemon_prepare (const char *ident);

#endif
