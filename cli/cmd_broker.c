/*  cmd_broker.c -- `liandong broker`: the daemon's shell.

    Parses the flags, loads (or creates) the broker's identity, starts the
    broker actor, prints the `ready` line, and waits for SIGINT/SIGTERM (read
    from a signalfd: czmq's zloop exits on EINTR, so signals are blocked in
    every thread) or for the actor's FATAL message.

    Transport: --trust (one or more roots) or --open, never both, never
    neither: a broker that admits anyone must be asked for by name.

    Exit codes: 0 stopped by a signal; 64 usage; 66/73/74 identity or data
    dir problems; 74 (LD_BROKER_EXIT_IO) a storage I/O error stopped it;
    70 (LD_BROKER_EXIT_ZAP) its ZAP handler stopped.
*/
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_broker.h"
#include "ld_peer.h"
#include "ld_cli.h"
#include "ld_daemon.h"
#include "ld_identity.h"

#define S_TRUST_MAX 16  //  --trust roots
#define S_ALLOW_MAX 256 //  --allow-subscriber keys

//  Printed on stderr by every broker started with --open; a log line is
//  too easy to miss in a journal.
#define S_OPEN_WARNING                                                                             \
    "*****************************************************************************\n"              \
    "WARNING: liandong broker --open: NO AUTHENTICATION AND NO ENCRYPTION.\n"                      \
    "  Any key may connect, publish and read, on plain tcp that anyone on the\n"                   \
    "  network can read and alter. For development only: production brokers\n"                     \
    "  run with --trust ROOT/identity.pub.\n"                                                      \
    "*****************************************************************************\n"

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: liandong broker --data DIR --listen tcp://HOST:PORT [--identity FILE]\n"
             "                       (--trust ROOT.pub [--trust ...] [--allow-subscriber KEY ...]\n"
             "                        | --open) [--live tcp://HOST:PORT] [--workers N]\n"
             "                       [--follow tcp://HOST:PORT=KEY ...] [--replicate PATH ...]\n"
             "\n"
             "Verifies, stores and acknowledges signed events, publishes them live and\n"
             "serves catch-up. Clients are given only the --listen endpoint.\n"
             "\n"
             "  --data DIR        the broker's data directory (created if missing)\n"
             "  --listen EP       the one endpoint clients connect to (PORT may be *)\n"
             "  --identity FILE   secret key; default DIR/identity.secret, created if missing\n"
             "  --trust PUB       a trust root (its identity.pub file, or ed25519:KEY); the\n"
             "                    transport is CurveZMQ and only keys it certifies connect\n"
             "  --allow-subscriber PUB|KEY\n"
             "                    a key that may connect to read, not publish (repeatable)\n"
             "  --open            accept any key on plain tcp (development only)\n"
             "  --live EP         where live events are published; default: the --listen\n"
             "                    host on a port kept in DIR/live.endpoint\n"
             "  --workers N       verifier threads (default: one per core)\n"
             "  --follow tcp://HOST:PORT=KEY\n"
             "                    keep this broker and the one at HOST:PORT on the same events\n"
             "                    (pull what it has, push what it lacks; repeatable). KEY pins\n"
             "                    its key (ed25519:... or its identity.pub); with --open the\n"
             "                    link is plain tcp and =KEY may be left out\n"
             "  --replicate PATH  hold the feeds of authors under or above this org path, and\n"
             "                    every trust feed (repeatable; \"\" holds every feed);\n"
             "                    default: this broker's own certified paths\n"
             "\n"
             "Federation (docs/FEDERATION.md): both sides must be certified at level broker;\n"
             "a link's state is shown by 'liandong status --broker EP'.\n"
             "\n"
             "Prints 'ready listen=EP live=EP' on stdout once it serves. SIGINT or SIGTERM\n"
             "stop it cleanly. A storage I/O error stops it with exit code 74.\n");
}

//  Loads the identity, creating DIR/identity.secret on first start.
static int
s_identity (const char *data_dir, const char *path, ld_identity_t **identity)
{
    char err[512], default_path[PATH_MAX];
    if (!path) {
        snprintf (default_path, sizeof default_path, "%s/%s", data_dir, LD_IDENTITY_SECRET);
        path = default_path;
        if (access (path, F_OK) != 0) {
            ld_identity_t *fresh = ld_identity_new ();
            if (!fresh)
                return EX_OSERR;
            ld_status_t rc = ld_identity_save (fresh, data_dir, false, err, sizeof err);
            ld_identity_destroy (&fresh);
            if (rc != LD_OK) {
                ld_cli_error ("%s", err);
                return ld_cli_exit_code (rc);
            }
        }
    }
    ld_status_t rc = ld_identity_load (path, identity, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return ld_cli_exit_code (rc);
    }
    return EX_OK;
}

int
ld_cmd_broker (int argc, char **argv)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"identity", required_argument, NULL, 'i'},
        {"open", no_argument, NULL, 'o'},
        {"live", required_argument, NULL, 'L'},
        {"workers", required_argument, NULL, 'w'},
        {"trust", required_argument, NULL, 't'},
        {"allow-subscriber", required_argument, NULL, 'a'},
        {"follow", required_argument, NULL, 'f'},
        {"replicate", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ld_broker_config_t config = {0};
    const char *identity_path = NULL;
    const char *trust[S_TRUST_MAX];
    const char *follow[LD_PEER_MAX];
    const char *replicate[LD_SELECT_MAX];
    uint8_t allow[S_ALLOW_MAX][LD_KEY_BYTES]; //  8 KiB
    char err[512];
    int opt;
    while ((opt = getopt_long (argc, argv, "d:l:i:oL:w:t:a:f:r:h", options, NULL)) != -1) {
        switch (opt) {
            case 'd':
                config.data_dir = optarg;
                break;
            case 'l':
                config.listen = optarg;
                break;
            case 'i':
                identity_path = optarg;
                break;
            case 'o':
                config.open = true;
                break;
            case 't':
                if (config.trust_count == S_TRUST_MAX) {
                    ld_cli_error ("at most %d --trust roots", S_TRUST_MAX);
                    return EX_USAGE;
                }
                trust[config.trust_count++] = optarg;
                break;
            case 'a': {
                if (config.allow_count == S_ALLOW_MAX) {
                    ld_cli_error ("at most %d --allow-subscriber keys", S_ALLOW_MAX);
                    return EX_USAGE;
                }
                ld_status_t rc =
                    ld_public_key_load (optarg, allow[config.allow_count], err, sizeof err);
                if (rc != LD_OK) {
                    ld_cli_error ("--allow-subscriber: %s", err);
                    return EX_USAGE;
                }
                config.allow_count++;
                break;
            }
            case 'L':
                config.live = optarg;
                break;
            case 'f':
                if (config.follow_count == LD_PEER_MAX) {
                    ld_cli_error ("at most %d --follow links", LD_PEER_MAX);
                    return EX_USAGE;
                }
                follow[config.follow_count++] = optarg;
                break;
            case 'r':
                if (config.replicate_count == LD_SELECT_MAX) {
                    ld_cli_error ("at most %d --replicate paths", LD_SELECT_MAX);
                    return EX_USAGE;
                }
                if (*optarg && ld_topic_check (optarg, strlen (optarg)) != LD_OK) {
                    ld_cli_error ("--replicate '%s': an org path is ASCII slugs each ending in "
                                  "'/', e.g. wudang/xinguang/",
                                  optarg);
                    return EX_USAGE;
                }
                replicate[config.replicate_count++] = optarg;
                break;
            case 'w': {
                char *end;
                long workers = strtol (optarg, &end, 10);
                if (*end || workers < 1 || workers > LD_BROKER_WORKERS_MAX) {
                    ld_cli_error ("--workers must be 1..%d", LD_BROKER_WORKERS_MAX);
                    return EX_USAGE;
                }
                config.workers = (size_t) workers;
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
    if (!config.data_dir || !config.listen || optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    if (config.open && (config.trust_count || config.allow_count)) {
        ld_cli_error ("--open admits any key: it cannot be combined with --trust or "
                      "--allow-subscriber");
        return EX_USAGE;
    }
    if (!config.open && !config.trust_count) {
        ld_cli_error ("refusing to start without --trust ROOT/identity.pub "
                      "(or --open, for development only: no authentication, no encryption)");
        return EX_USAGE;
    }
    config.trust = trust;
    config.follow = follow;
    config.replicate = replicate;
    if (config.open && config.replicate_count) {
        ld_cli_error ("--replicate selects feeds by their authors' certificates: it needs "
                      "--trust (an --open broker holds every feed)");
        return EX_USAGE;
    }
    //  Checked here for exit code 64; the broker parses them again to run.
    for (size_t i = 0; i < config.follow_count; i++) {
        char endpoint[256];
        uint8_t key[LD_KEY_BYTES];
        bool has_key;
        if (ld_peer_parse (follow[i], config.open, endpoint, sizeof endpoint, key, &has_key, err,
                           sizeof err)
            != LD_OK) {
            ld_cli_error ("%s", err);
            return EX_USAGE;
        }
    }
    config.allow = (const uint8_t (*)[LD_KEY_BYTES]) allow;
    //  Tests only: start without the ZAP handler, so that the probe must
    //  catch it (tests/integration/test_transport.c).
    const char *no_zap = getenv ("LD_TEST_NO_ZAP");
    config.test_no_zap = no_zap && streq (no_zap, "1");
    if (strncmp (config.listen, "tcp://", 6) != 0) {
        ld_cli_error ("--listen must be a tcp:// endpoint, not '%s'", config.listen);
        return EX_USAGE;
    }
    if (mkdir (config.data_dir, 0700) != 0 && errno != EEXIST) {
        ld_cli_error ("cannot create data directory '%s': %s", config.data_dir, strerror (errno));
        return EX_CANTCREAT;
    }
    int signal_fd = ld_daemon_prepare ("liandong-broker");
    if (signal_fd < 0)
        return EX_OSERR;

    int exit_code = s_identity (config.data_dir, identity_path, &config.identity);
    if (exit_code != EX_OK) {
        close (signal_fd);
        return exit_code;
    }
    if (config.open) {
        fputs (S_OPEN_WARNING, stderr);
        fflush (stderr);
    }
    ld_broker_t *broker = ld_broker_new (&config);
    if (!broker || !ld_broker_ready (broker)) {
        ld_cli_error ("cannot start the broker: %s", broker && ld_broker_error (broker)
                                                         ? ld_broker_error (broker)
                                                         : "out of memory");
        ld_broker_destroy (&broker);
        ld_identity_destroy (&config.identity);
        close (signal_fd);
        return EX_UNAVAILABLE;
    }
    char key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (ld_identity_public_key (config.identity), key);
    zsys_info ("broker %s serving %s", key, ld_broker_ready (broker));
    printf ("ready %s\n", ld_broker_ready (broker));
    fflush (stdout);

    zmq_pollitem_t items[] = {
        {NULL, signal_fd, ZMQ_POLLIN, 0},
        {zsock_resolve (ld_broker_actor (broker)), 0, ZMQ_POLLIN, 0},
    };
    while (true) {
        if (zmq_poll (items, 2, -1) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo info;
            if (read (signal_fd, &info, sizeof info) == sizeof info && info.ssi_signo != SIGPIPE) {
                zsys_info ("broker: signal %u, stopping", info.ssi_signo);
                break;
            }
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char *message = zstr_recv (ld_broker_actor (broker));
            bool zap = message && strncmp (message, "FATAL ZAP", 9) == 0;
            bool fatal = message && strncmp (message, "FATAL", 5) == 0;
            if (zap)
                ld_cli_error ("%s", message + 6);
            else if (fatal)
                ld_cli_error ("storage failure, stopped without acknowledging: %s", message + 5);
            free (message);
            if (fatal) {
                exit_code = zap ? LD_BROKER_EXIT_ZAP : LD_BROKER_EXIT_IO;
                break;
            }
        }
    }
    ld_broker_destroy (&broker);
    ld_identity_destroy (&config.identity);
    close (signal_fd);
    return exit_code;
}
