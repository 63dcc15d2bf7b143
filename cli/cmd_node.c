/*  cmd_node.c -- `liandong node`: the node daemon's shell.

    Parses the flags, starts the node actor (nodes/ld_node.h), prints the
    `ready` line, and waits for SIGINT/SIGTERM (read from a signalfd, with
    the signals blocked in every thread: czmq's zloop exits on EINTR) or for
    the actor's FATAL message.

    Exit codes: 0 stopped by a signal; 64 usage (including --restore on a
    data dir that holds own events); 66/65/77 identity file problems; 73
    another node holds the data dir or control path; 74 storage failure.
*/
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_cli.h"
#include "ld_daemon.h"
#include "ld_identity.h"
#include "ld_node.h"

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: liandong node --data DIR --identity FILE --broker tcp://HOST:PORT\n"
             "                     --control ipc://PATH [--broker-key PUB|KEY] [--restore]\n"
             "\n"
             "Holds the identity, signs events into its own feed (DIR/liandong.db) and\n"
             "delivers them to the broker from an outbox that resends until acknowledged.\n"
             "Clients (liandong publish) talk to it on the control socket, which only\n"
             "the owner may connect to.\n"
             "\n"
             "  --data DIR        the node's data directory (created if missing)\n"
             "  --identity FILE   secret key file (liandong keygen)\n"
             "  --broker EP       the broker's --listen endpoint\n"
             "  --control EP      ipc://PATH of the control socket\n"
             "  --broker-key PUB  the broker's public key (its identity.pub, or ed25519:KEY):\n"
             "                    CurveZMQ to that broker only; without it, plain tcp\n"
             "                    (a broker started --open)\n"
             "  --restore         on a data dir without own events: first fetch the own\n"
             "                    feed from the broker; signing waits until it is known\n"
             "\n"
             "Prints 'ready control=EP' on stdout once it serves. SIGINT or SIGTERM stop it\n"
             "cleanly. A storage I/O error stops it with exit code 74.\n");
}

//  Waits for a signal or the node's FATAL message; returns the exit code.
static int
s_serve (zactor_t *node, int signal_fd)
{
    zmq_pollitem_t items[] = {
        {NULL, signal_fd, ZMQ_POLLIN, 0},
        {zsock_resolve (node), 0, ZMQ_POLLIN, 0},
    };
    while (true) {
        if (zmq_poll (items, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return EX_SOFTWARE;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo info;
            if (read (signal_fd, &info, sizeof info) == sizeof info && info.ssi_signo != SIGPIPE) {
                zsys_info ("node: signal %u, stopping", info.ssi_signo);
                return EX_OK;
            }
        }
        if (items[1].revents & ZMQ_POLLIN) {
            zmsg_t *msg = zmsg_recv (node);
            char *command = msg ? zmsg_popstr (msg) : NULL;
            char *reason = msg ? zmsg_popstr (msg) : NULL;
            bool fatal = command && streq (command, "FATAL");
            if (fatal)
                ld_cli_error ("storage failure, node stopped: %s", reason ? reason : "");
            zstr_free (&command);
            zstr_free (&reason);
            zmsg_destroy (&msg);
            if (fatal)
                return EX_IOERR;
        }
    }
}

int
ld_cmd_node (int argc, char **argv)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, 'd'},   {"identity", required_argument, NULL, 'i'},
        {"broker", required_argument, NULL, 'b'}, {"control", required_argument, NULL, 'c'},
        {"restore", no_argument, NULL, 'r'},      {"broker-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    ld_node_config_t config = {0};
    int opt;
    while ((opt = getopt_long (argc, argv, "d:i:b:c:rk:h", options, NULL)) != -1) {
        switch (opt) {
            case 'd':
                config.data_dir = optarg;
                break;
            case 'i':
                config.identity_path = optarg;
                break;
            case 'b':
                config.broker = optarg;
                break;
            case 'c':
                config.control = optarg;
                break;
            case 'r':
                config.restore = true;
                break;
            case 'k': {
                char err[512];
                if (ld_public_key_load (optarg, config.broker_key, err, sizeof err) != LD_OK) {
                    ld_cli_error ("--broker-key: %s", err);
                    return EX_USAGE;
                }
                config.has_broker_key = true;
                break;
            }
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (!config.data_dir || !config.identity_path || !config.broker || !config.control
        || optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    int signal_fd = ld_daemon_prepare ("liandong-node");
    if (signal_fd < 0)
        return EX_OSERR;

    char err[512];
    ld_status_t status;
    zactor_t *node = ld_node_new (&config, &status, err, sizeof err);
    if (!node) {
        ld_cli_error ("cannot start the node: %s", err);
        close (signal_fd);
        return ld_cli_exit_code (status);
    }
    printf ("ready control=%s\n", config.control);
    fflush (stdout);
    int exit_code = s_serve (node, signal_fd);
    ld_node_destroy (&node);
    close (signal_fd);
    return exit_code;
}
