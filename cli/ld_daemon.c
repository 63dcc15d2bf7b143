/*  ld_daemon.c -- see ld_daemon.h. */
#include "ld_daemon.h"

#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include "ld_cli.h"

int
ld_daemon_prepare (const char *ident)
{
    struct rlimit no_core = {0, 0};
    setrlimit (RLIMIT_CORE, &no_core);
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGPIPE);
    sigprocmask (SIG_BLOCK, &signals, NULL);
    int signal_fd = signalfd (-1, &signals, SFD_CLOEXEC);
    if (signal_fd < 0) {
        ld_cli_error ("cannot create a signalfd: %s", strerror (errno));
        return -1;
    }
    zsys_handler_set (NULL);
    zsys_set_logstream (stderr);
    zsys_set_logident (ident);
    return signal_fd;
}
