/*  ld_relay.c -- a tiny TCP relay for the federation tests (tests/ld_fed.h).

        ld_relay LISTEN_PORT TARGET_PORT

    Listens on 127.0.0.1:LISTEN_PORT and, for every connection accepted,
    opens one to 127.0.0.1:TARGET_PORT and copies bytes both ways until
    either side closes; then it closes both. Prints "ready
    listen=tcp://127.0.0.1:LISTEN_PORT" on stdout once it listens.

    A test puts one relay on every --follow link, so that the link can be
    cut without touching either broker: SIGKILL cuts it (both brokers see
    the connection close, reconnects are refused), SIGSTOP partitions it
    silently (connections stay open, nothing flows, the kernel still
    completes new handshakes into the backlog), SIGCONT heals a stopped
    relay and a new relay on the same port heals a killed one.

    One thread, poll(), non-blocking sockets, a fixed buffer per direction:
    a direction reads only when its buffer is empty, so a slow receiver
    slows its sender (TCP back-pressure) and memory stays bounded.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_PAIRS_MAX    128         //  connections relayed at once
#define S_BUFFER       (64 * 1024) //  bytes buffered per direction
#define S_BIND_TRIES   200         //  a port just released may take a moment
#define S_BIND_WAIT_MS 10

//  One relayed connection: side 0 accepted, side 1 towards the target.
//  Direction d copies from fd[d] to fd[1 - d] through buffer[d].
typedef struct {
    int fd[2];
    bool connecting; //  fd[1]'s non-blocking connect has not completed
    size_t used[2];  //  bytes in buffer[d] not yet written
    size_t sent[2];  //  of which already written
    char buffer[2][S_BUFFER];
} s_pair_t;

static int
s_nonblocking (int fd)
{
    int flags = fcntl (fd, F_GETFL);
    return flags < 0 ? -1 : fcntl (fd, F_SETFL, flags | O_NONBLOCK);
}

static struct sockaddr_in
s_loopback (unsigned port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    return addr;
}

static int
s_listen (unsigned port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = s_loopback (port);
    for (int attempt = 0; attempt < S_BIND_TRIES; attempt++) {
        if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0) {
            if (listen (fd, 64) == 0 && s_nonblocking (fd) == 0)
                return fd;
            break;
        }
        if (errno != EADDRINUSE)
            break;
        struct timespec wait = {0, S_BIND_WAIT_MS * 1000000L};
        nanosleep (&wait, NULL);
    }
    close (fd);
    return -1;
}

static void
s_pair_close (s_pair_t **pair_p)
{
    s_pair_t *pair = *pair_p;
    if (!pair)
        return;
    for (int side = 0; side < 2; side++)
        if (pair->fd[side] >= 0)
            close (pair->fd[side]);
    free (pair);
    *pair_p = NULL;
}

//  A new pair for an accepted connection, its target connect under way;
//  NULL (the accepted socket closed) if the target cannot be tried.
static s_pair_t *
s_pair_new (int accepted, unsigned target_port)
{
    s_pair_t *pair = calloc (1, sizeof *pair);
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (!pair || fd < 0 || s_nonblocking (accepted) != 0) {
        free (pair);
        if (fd >= 0)
            close (fd);
        close (accepted);
        return NULL;
    }
    int one = 1;
    setsockopt (accepted, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pair->fd[0] = accepted;
    pair->fd[1] = fd;
    struct sockaddr_in addr = s_loopback (target_port);
    if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
        pair->connecting = false;
    else if (errno == EINPROGRESS)
        pair->connecting = true;
    else
        s_pair_close (&pair);
    return pair;
}

//  Moves bytes for one pair after poll; returns false once it must close.
static bool
s_pair_pump (s_pair_t *pair, const short revents[2])
{
    if (pair->connecting) {
        if (revents[0] & (POLLERR | POLLHUP))
            return false;
        if (!(revents[1] & (POLLOUT | POLLERR | POLLHUP)))
            return true;
        int error = 0;
        socklen_t len = sizeof error;
        if (getsockopt (pair->fd[1], SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0)
            return false;
        pair->connecting = false;
    }
    for (int d = 0; d < 2; d++) {
        int from = pair->fd[d], to = pair->fd[1 - d];
        if (pair->used[d] == 0 && (revents[d] & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t got = read (from, pair->buffer[d], S_BUFFER);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
                return false;
            if (got > 0) {
                pair->used[d] = (size_t) got;
                pair->sent[d] = 0;
            }
        }
        if (pair->used[d] > pair->sent[d]) {
            ssize_t put = send (to, pair->buffer[d] + pair->sent[d], pair->used[d] - pair->sent[d],
                                MSG_NOSIGNAL);
            if (put < 0 && errno != EAGAIN && errno != EINTR)
                return false;
            if (put > 0)
                pair->sent[d] += (size_t) put;
            if (pair->sent[d] == pair->used[d])
                pair->used[d] = pair->sent[d] = 0;
        }
    }
    return true;
}

static bool
s_port (const char *text, unsigned *port)
{
    char *end;
    long value = strtol (text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < 1 || value > 65535)
        return false;
    *port = (unsigned) value;
    return true;
}

int
main (int argc, char **argv)
{
    unsigned listen_port, target_port;
    if (argc != 3 || !s_port (argv[1], &listen_port) || !s_port (argv[2], &target_port)) {
        fprintf (stderr, "usage: ld_relay LISTEN_PORT TARGET_PORT\n");
        return 64;
    }
    signal (SIGPIPE, SIG_IGN);
    int listener = s_listen (listen_port);
    if (listener < 0) {
        fprintf (stderr, "ld_relay: cannot listen on port %u: %s\n", listen_port, strerror (errno));
        return 71;
    }
    printf ("ready listen=tcp://127.0.0.1:%u\n", listen_port);
    fflush (stdout);

    static s_pair_t *pairs[S_PAIRS_MAX];
    struct pollfd fds[1 + 2 * S_PAIRS_MAX];
    while (true) {
        size_t n = 0;
        fds[n++] = (struct pollfd){.fd = listener, .events = POLLIN};
        for (size_t p = 0; p < S_PAIRS_MAX; p++) {
            s_pair_t *pair = pairs[p];
            for (int side = 0; side < 2; side++) {
                short events = 0;
                if (pair) {
                    //  read side when its buffer is empty; write side when
                    //  the other direction has bytes for it
                    if (!pair->connecting && pair->used[side] == 0)
                        events |= POLLIN;
                    if (pair->connecting ? side == 1 : pair->used[1 - side] > 0)
                        events |= POLLOUT;
                }
                fds[n++] = (struct pollfd){.fd = pair ? pair->fd[side] : -1, .events = events};
            }
        }
        if (poll (fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror ("ld_relay: poll");
            return 71;
        }
        for (size_t p = 0; p < S_PAIRS_MAX; p++) {
            if (!pairs[p])
                continue;
            short revents[2] = {fds[1 + 2 * p].revents, fds[2 + 2 * p].revents};
            if ((revents[0] || revents[1]) && !s_pair_pump (pairs[p], revents))
                s_pair_close (&pairs[p]);
        }
        if (fds[0].revents & POLLIN) {
            int accepted;
            while ((accepted = accept4 (listener, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
                size_t slot = 0;
                while (slot < S_PAIRS_MAX && pairs[slot])
                    slot++;
                if (slot == S_PAIRS_MAX)
                    close (accepted); //  full: the peer retries
                else
                    pairs[slot] = s_pair_new (accepted, target_port);
            }
        }
    }
}
