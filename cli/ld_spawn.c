/*  ld_spawn.c -- see ld_spawn.h. */
#include "ld_spawn.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_ARGS_MAX      64
#define S_STOP_GRACE_MS 10000

//  Reads one line within the time left; its length, or -1.
static int
s_read_line (int fd, char *line, size_t size, long deadline)
{
    size_t used = 0;
    while (used + 1 < size) {
        long left = deadline - zclock_mono ();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll (&pfd, 1, (int) left) <= 0)
            return -1;
        char c;
        if (read (fd, &c, 1) != 1)
            return -1;
        if (c == '\n')
            break;
        line[used++] = c;
    }
    line[used] = '\0';
    return (int) used;
}

int
ld_spawn_start (ld_spawn_t *self, const char *const *argv, const char *log_path, int timeout_ms)
{
    memset (self, 0, sizeof *self);
    self->out = -1;
    const char *args[S_ARGS_MAX + 2] = {"liandong"};
    size_t n = 1;
    for (size_t i = 0; argv[i] && n < S_ARGS_MAX + 1; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    int pipefd[2];
    if (pipe2 (pipefd, O_CLOEXEC) != 0)
        return -1;
    fflush (NULL);
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0) {
        close (pipefd[0]);
        close (pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        //  A daemon dies with whoever started it (a demo killed by SIGPIPE
        //  or SIGKILL must not leave brokers and nodes running); SIGTERM
        //  lets it stop cleanly. The check closes the race with a parent
        //  that died before the prctl.
        if (prctl (PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid () != parent)
            _exit (127);
        int log = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log < 0 || dup2 (pipefd[1], STDOUT_FILENO) < 0 || dup2 (log, STDERR_FILENO) < 0)
            _exit (127);
        //  children start with default signals and an empty mask
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        execv ("/proc/self/exe", (char *const *) args);
        _exit (127);
    }
    close (pipefd[1]);
    self->pid = pid;
    self->out = pipefd[0];
    long deadline = zclock_mono () + timeout_ms;
    while (s_read_line (self->out, self->ready, sizeof self->ready, deadline) >= 0)
        if (strncmp (self->ready, "ready", 5) == 0)
            return 0;
    ld_spawn_stop (self);
    return -1;
}

int
ld_spawn_endpoint (const ld_spawn_t *self, const char *name, char *out, size_t size)
{
    size_t len = strlen (name);
    for (const char *p = strstr (self->ready, name); p; p = strstr (p + len, name))
        if ((p == self->ready || p[-1] == ' ') && p[len] == '=') {
            size_t n = strcspn (p + len + 1, " ");
            if (n + 1 > size)
                return -1;
            memcpy (out, p + len + 1, n);
            out[n] = '\0';
            return 0;
        }
    return -1;
}

int
ld_spawn_stop (ld_spawn_t *self)
{
    if (self->pid <= 0)
        return -1;
    int status = 0;
    kill (self->pid, SIGTERM);
    long deadline = zclock_mono () + S_STOP_GRACE_MS;
    pid_t got;
    while ((got = waitpid (self->pid, &status, WNOHANG)) == 0 && zclock_mono () < deadline)
        poll (NULL, 0, 10);
    if (got == 0) {
        kill (self->pid, SIGKILL);
        waitpid (self->pid, &status, 0);
    }
    self->pid = 0;
    if (self->out >= 0)
        close (self->out);
    self->out = -1;
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    return WIFSIGNALED (status) ? 128 + WTERMSIG (status) : -1;
}

int
ld_spawn_run (const char *const *argv, const char *input, size_t input_len, char *out,
              size_t out_size, size_t *out_len, const char *log_path, int timeout_ms)
{
    const char *args[S_ARGS_MAX + 2] = {"liandong"};
    size_t n = 1;
    for (size_t i = 0; argv[i]; i++) {
        if (n == S_ARGS_MAX + 1)
            return -1;
        args[n++] = argv[i];
    }
    args[n] = NULL;
    int to_child[2], from_child[2];
    if (pipe2 (to_child, O_CLOEXEC) != 0)
        return -1;
    if (pipe2 (from_child, O_CLOEXEC) != 0) {
        close (to_child[0]);
        close (to_child[1]);
        return -1;
    }
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        int log = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log < 0 || dup2 (to_child[0], STDIN_FILENO) < 0
            || dup2 (from_child[1], STDOUT_FILENO) < 0 || dup2 (log, STDERR_FILENO) < 0)
            _exit (127);
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        execv ("/proc/self/exe", (char *const *) args);
        _exit (127);
    }
    close (to_child[0]);
    close (from_child[1]);
    if (pid < 0) {
        close (to_child[1]);
        close (from_child[0]);
        return -1;
    }
    //  Feed stdin and drain stdout together: a child that answers line by
    //  line would block on a full pipe otherwise.
    fcntl (to_child[1], F_SETFL, O_NONBLOCK);
    size_t written = 0, used = 0;
    int in_fd = to_child[1];
    if (!input || input_len == 0) {
        close (in_fd);
        in_fd = -1;
    }
    long deadline = zclock_mono () + timeout_ms;
    bool timed_out = false;
    int out_fd = from_child[0];
    while (out_fd >= 0) {
        long left = deadline - zclock_mono ();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = in_fd, .events = POLLOUT}};
        if (poll (pfd, in_fd >= 0 ? 2 : 1, (int) left) < 0 && errno != EINTR)
            break;
        if (in_fd >= 0 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t got = write (in_fd, input + written, input_len - written);
            if (got > 0)
                written += (size_t) got;
            if (got < 0 && errno != EAGAIN) //  the child closed its stdin
                written = input_len;
            if (written == input_len) {
                close (in_fd);
                in_fd = -1;
            }
        }
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[4096];
            ssize_t got = read (out_fd, chunk, sizeof chunk);
            if (got <= 0) {
                close (out_fd);
                out_fd = -1;
                break;
            }
            size_t keep = (size_t) got;
            if (out && keep > out_size - 1 - used)
                keep = out_size - 1 - used;
            if (out) {
                memcpy (out + used, chunk, keep);
                used += keep;
            }
        }
    }
    if (in_fd >= 0)
        close (in_fd);
    if (out_fd >= 0)
        close (out_fd);
    if (out)
        out[used] = '\0';
    if (out_len)
        *out_len = used;
    int status = 0;
    if (timed_out)
        kill (pid, SIGKILL);
    waitpid (pid, &status, 0);
    if (timed_out)
        return -1;
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    return WIFSIGNALED (status) ? 128 + WTERMSIG (status) : -1;
}
