/*  ld_tap.h -- a wire tap for tests (header only): a TCP forwarding proxy
    that records every byte it forwards, both ways.

        ld_tap_t *tap = ld_tap_new ("tcp://127.0.0.1:40123");   //  the target
        ld_client_t *client = ld_client_new (ld_tap_endpoint (tap));
        ...                                                       //  talk
        bool seen = ld_tap_contains (tap, "secret", 6);           //  what passed
        ld_tap_destroy (&tap);

    One thread polls the listening socket and every connection pair; each
    accepted connection gets its own connection to the target (ZeroMQ
    reconnects, so there may be several over a test). The capture is one
    buffer of everything forwarded, in arrival order, up to LD_TAP_CAPTURE_MAX
    bytes (what comes later is forwarded, not kept). A self-pipe stops the
    thread; nothing sleeps.
*/
#ifndef LD_TAP_H_INCLUDED
#define LD_TAP_H_INCLUDED

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LD_TAP_PAIRS_MAX   16
#define LD_TAP_CAPTURE_MAX (4 * 1024 * 1024)
#define LD_TAP_CHUNK       16384

typedef struct {
    int listener;
    int stop[2]; //  self-pipe: a byte on stop[1] ends the thread
    struct sockaddr_in target;
    char endpoint[64];              //  "tcp://127.0.0.1:PORT" clients connect to
    int pairs[LD_TAP_PAIRS_MAX][2]; //  [client side, target side], -1 if free
    pthread_t thread;
    pthread_mutex_t lock; //  guards the capture: the test reads while the thread writes
    uint8_t *capture;
    size_t captured;
    size_t connections; //  accepted so far
} ld_tap_t;

static inline void
ld_tap_record (ld_tap_t *self, const uint8_t *data, size_t size)
{
    pthread_mutex_lock (&self->lock);
    size_t room = LD_TAP_CAPTURE_MAX - self->captured;
    size_t keep = size < room ? size : room;
    memcpy (self->capture + self->captured, data, keep);
    self->captured += keep;
    pthread_mutex_unlock (&self->lock);
}

static inline void
ld_tap_close_pair (ld_tap_t *self, size_t i)
{
    close (self->pairs[i][0]);
    close (self->pairs[i][1]);
    self->pairs[i][0] = self->pairs[i][1] = -1;
}

static inline void
ld_tap_accept (ld_tap_t *self)
{
    int client = accept4 (self->listener, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0)
        return;
    int upstream = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    size_t slot = 0;
    while (slot < LD_TAP_PAIRS_MAX && self->pairs[slot][0] >= 0)
        slot++;
    if (upstream < 0 || slot == LD_TAP_PAIRS_MAX
        || connect (upstream, (struct sockaddr *) &self->target, sizeof self->target) != 0) {
        close (client);
        if (upstream >= 0)
            close (upstream);
        return;
    }
    self->pairs[slot][0] = client;
    self->pairs[slot][1] = upstream;
    pthread_mutex_lock (&self->lock);
    self->connections++;
    pthread_mutex_unlock (&self->lock);
}

static inline void *
ld_tap_run (void *arg)
{
    ld_tap_t *self = arg;
    uint8_t *buffer = malloc (LD_TAP_CHUNK);
    while (buffer) {
        struct pollfd fds[2 + 2 * LD_TAP_PAIRS_MAX];
        size_t n = 0;
        fds[n++] = (struct pollfd){self->stop[0], POLLIN, 0};
        fds[n++] = (struct pollfd){self->listener, POLLIN, 0};
        for (size_t i = 0; i < LD_TAP_PAIRS_MAX; i++)
            if (self->pairs[i][0] >= 0) {
                fds[n++] = (struct pollfd){self->pairs[i][0], POLLIN, 0};
                fds[n++] = (struct pollfd){self->pairs[i][1], POLLIN, 0};
            }
        if (poll (fds, n, -1) < 0)
            continue;
        if (fds[0].revents)
            break;
        //  forward in both directions; a closed side closes the pair
        for (size_t f = 2; f < n; f++) {
            if (!fds[f].revents)
                continue;
            for (size_t i = 0; i < LD_TAP_PAIRS_MAX; i++) {
                int side = self->pairs[i][0] == fds[f].fd   ? 0
                           : self->pairs[i][1] == fds[f].fd ? 1
                                                            : -1;
                if (side < 0)
                    continue;
                ssize_t got = read (fds[f].fd, buffer, LD_TAP_CHUNK);
                bool ok = got > 0;
                if (ok) {
                    ld_tap_record (self, buffer, (size_t) got);
                    for (ssize_t sent = 0, w; ok && sent < got; sent += w) {
                        w = write (self->pairs[i][1 - side], buffer + sent, (size_t) (got - sent));
                        ok = w > 0;
                        if (!ok)
                            break;
                    }
                }
                if (!ok)
                    ld_tap_close_pair (self, i);
                break;
            }
        }
        if (fds[1].revents & POLLIN)
            ld_tap_accept (self);
    }
    free (buffer);
    return NULL;
}

//  A tap listening on a free loopback port, forwarding to target
//  ("tcp://127.0.0.1:PORT"), or NULL.
static inline ld_tap_t *
ld_tap_new (const char *target)
{
    unsigned port = 0;
    if (sscanf (target, "tcp://127.0.0.1:%u", &port) != 1 || port == 0 || port > 65535)
        return NULL;
    ld_tap_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capture = malloc (LD_TAP_CAPTURE_MAX);
    for (size_t i = 0; i < LD_TAP_PAIRS_MAX; i++)
        self->pairs[i][0] = self->pairs[i][1] = -1;
    self->target.sin_family = AF_INET;
    self->target.sin_port = htons ((uint16_t) port);
    self->target.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    self->listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!self->capture || self->listener < 0 || pipe2 (self->stop, O_CLOEXEC) != 0
        || bind (self->listener, (struct sockaddr *) &addr, sizeof addr) != 0
        || listen (self->listener, 16) != 0
        || getsockname (self->listener, (struct sockaddr *) &addr, &len) != 0) {
        if (self->listener >= 0)
            close (self->listener);
        free (self->capture);
        free (self);
        return NULL;
    }
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%u",
              (unsigned) ntohs (addr.sin_port));
    pthread_mutex_init (&self->lock, NULL);
    if (pthread_create (&self->thread, NULL, ld_tap_run, self) != 0) {
        close (self->listener);
        close (self->stop[0]);
        close (self->stop[1]);
        free (self->capture);
        free (self);
        return NULL;
    }
    return self;
}

//  Stops the thread, closes every connection; NULL-safe; sets *self_p to NULL.
static inline void
ld_tap_destroy (ld_tap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_tap_t *self = *self_p;
    char byte = 0;
    if (write (self->stop[1], &byte, 1) == 1)
        pthread_join (self->thread, NULL);
    for (size_t i = 0; i < LD_TAP_PAIRS_MAX; i++)
        if (self->pairs[i][0] >= 0)
            ld_tap_close_pair (self, i);
    close (self->listener);
    close (self->stop[0]);
    close (self->stop[1]);
    pthread_mutex_destroy (&self->lock);
    free (self->capture);
    free (self);
    *self_p = NULL;
}

//  Where clients connect instead of the target. Borrowed, valid while self lives.
static inline const char *
ld_tap_endpoint (ld_tap_t *self)
{
    return self->endpoint;
}

//  Bytes recorded so far (both directions).
static inline size_t
ld_tap_captured (ld_tap_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t captured = self->captured;
    pthread_mutex_unlock (&self->lock);
    return captured;
}

//  True if needle[0..size) occurs anywhere in what was recorded so far.
static inline bool
ld_tap_contains (ld_tap_t *self, const void *needle, size_t size)
{
    pthread_mutex_lock (&self->lock);
    bool found = size > 0 && memmem (self->capture, self->captured, needle, size) != NULL;
    pthread_mutex_unlock (&self->lock);
    return found;
}

#endif
