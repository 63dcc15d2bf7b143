/*  ld_proc.h -- starting and stopping real `liandong` processes in tests
    (header only).

    ld_proc_start runs `$LD_BIN args...` with stdout on a pipe (stderr goes
    to the test's stderr; ld_proc_start_bin runs another program, such as
    tests/ld_relay, and may send stderr to a log file) and,
    for daemons, waits for the line that starts with "ready" and keeps its
    `name=endpoint` pairs. Every process started is remembered: ld_proc_stop
    (SIGTERM, then SIGKILL after a grace period), ld_proc_kill (SIGKILL, as a
    crash) and ld_proc_stop_all (in teardown, and from an atexit handler so
    that a failing assertion never leaves a process behind).

    Synchronisation is by readiness lines and poll timeouts, never by sleep.
*/
#ifndef LD_PROC_H_INCLUDED
#define LD_PROC_H_INCLUDED

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LD_PROC_MAX        32
#define LD_PROC_ARGS_MAX   32
#define LD_PROC_READY_MAX  1024
#define LD_PROC_STOP_GRACE 10000 //  ms before SIGTERM becomes SIGKILL

typedef struct {
    pid_t pid;
    int out;                       //  read end of the child's stdout, or -1
    char ready[LD_PROC_READY_MAX]; //  the "ready ..." line, without newline
    int status;                    //  wait status once reaped
    bool reaped;
} ld_proc_t;

//  Every process started and not yet reaped (test programs are single-
//  threaded; this registry is the one global the harness needs).
static ld_proc_t *ld_proc_registry[LD_PROC_MAX];

static inline int64_t
ld_proc_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void
ld_proc_forget (ld_proc_t *proc)
{
    for (int i = 0; i < LD_PROC_MAX; i++)
        if (ld_proc_registry[i] == proc)
            ld_proc_registry[i] = NULL;
}

//  Waits up to timeout_ms for the process to exit; returns true if it did.
static inline bool
ld_proc_wait (ld_proc_t *proc, int timeout_ms)
{
    if (proc->reaped)
        return true;
    int64_t deadline = ld_proc_now_ms () + timeout_ms;
    while (true) {
        pid_t got = waitpid (proc->pid, &proc->status, WNOHANG);
        if (got == proc->pid || (got < 0 && errno == ECHILD)) {
            proc->reaped = true;
            if (proc->out >= 0)
                close (proc->out);
            proc->out = -1;
            ld_proc_forget (proc);
            return true;
        }
        if (ld_proc_now_ms () >= deadline)
            return false;
        //  a short poll on nothing: waitpid has no timeout of its own
        poll (NULL, 0, 5);
    }
}

//  Exit code of a reaped process, 128+signal if it was killed, -1 if running.
static inline int
ld_proc_exit_code (const ld_proc_t *proc)
{
    if (!proc->reaped)
        return -1;
    if (WIFEXITED (proc->status))
        return WEXITSTATUS (proc->status);
    if (WIFSIGNALED (proc->status))
        return 128 + WTERMSIG (proc->status);
    return -1;
}

//  SIGTERM, then SIGKILL if it has not exited within the grace period.
//  Returns its exit code.
static inline int
ld_proc_stop (ld_proc_t *proc)
{
    if (!proc->reaped) {
        kill (proc->pid, SIGTERM);
        if (!ld_proc_wait (proc, LD_PROC_STOP_GRACE)) {
            kill (proc->pid, SIGKILL);
            ld_proc_wait (proc, LD_PROC_STOP_GRACE);
        }
    }
    return ld_proc_exit_code (proc);
}

//  SIGKILL: a crash, as far as the process can tell.
static inline void
ld_proc_kill (ld_proc_t *proc)
{
    if (!proc->reaped) {
        kill (proc->pid, SIGKILL);
        ld_proc_wait (proc, LD_PROC_STOP_GRACE);
    }
}

static inline void
ld_proc_stop_all (void)
{
    for (int i = 0; i < LD_PROC_MAX; i++)
        if (ld_proc_registry[i])
            ld_proc_kill (ld_proc_registry[i]);
}

//  Reads one line from fd into line (without the newline) within
//  timeout_ms. Returns its length, or -1 on timeout or end of file.
static inline ssize_t
ld_proc_read_line (int fd, char *line, size_t size, int timeout_ms)
{
    size_t used = 0;
    int64_t deadline = ld_proc_now_ms () + timeout_ms;
    while (used + 1 < size) {
        int64_t left = deadline - ld_proc_now_ms ();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll (&pfd, 1, (int) left) <= 0)
            return -1;
        char c;
        ssize_t got = read (fd, &c, 1);
        if (got <= 0)
            return -1;
        if (c == '\n')
            break;
        line[used++] = c;
    }
    line[used] = '\0';
    return (ssize_t) used;
}

//  Starts the program bin with argv (NULL-terminated, without the program
//  name), its stderr appended to the file err_path (NULL: the test's
//  stderr). If wait_ready, waits up to timeout_ms for a stdout line
//  starting with "ready" and returns -1 (killing the child) if none comes.
//  Returns 0. The child is killed if the test process dies first
//  (PR_SET_PDEATHSIG), so a crashed test leaves no daemon behind.
static inline int
ld_proc_start_bin (ld_proc_t *proc, const char *bin, const char *const *argv, bool wait_ready,
                   int timeout_ms, const char *err_path)
{
    static bool registered = false;
    if (!registered) {
        atexit (ld_proc_stop_all);
        registered = true;
    }
    memset (proc, 0, sizeof *proc);
    proc->out = -1;
    if (!bin)
        return -1;
    const char *args[LD_PROC_ARGS_MAX + 2];
    size_t n = 0;
    args[n++] = bin;
    for (size_t i = 0; argv[i] && n < LD_PROC_ARGS_MAX + 1; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    int pipefd[2];
    if (pipe (pipefd) != 0)
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
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        dup2 (pipefd[1], STDOUT_FILENO);
        close (pipefd[0]);
        close (pipefd[1]);
        if (err_path) {
            int fd = open (err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            if (fd >= 0)
                dup2 (fd, STDERR_FILENO);
        }
        //  the child starts with default signal handling and an empty mask
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        execv (bin, (char *const *) args);
        _exit (127);
    }
    close (pipefd[1]);
    proc->pid = pid;
    proc->out = pipefd[0];
    for (int i = 0; i < LD_PROC_MAX; i++)
        if (!ld_proc_registry[i]) {
            ld_proc_registry[i] = proc;
            break;
        }
    if (!wait_ready)
        return 0;
    int64_t deadline = ld_proc_now_ms () + timeout_ms;
    while (true) {
        int64_t left = deadline - ld_proc_now_ms ();
        if (left <= 0
            || ld_proc_read_line (proc->out, proc->ready, sizeof proc->ready, (int) left) < 0) {
            ld_proc_kill (proc);
            return -1;
        }
        if (strncmp (proc->ready, "ready", 5) == 0)
            return 0;
    }
}

//  Starts $LD_BIN with argv (NULL-terminated, without the program name);
//  see ld_proc_start_bin.
static inline int
ld_proc_start (ld_proc_t *proc, const char *const *argv, bool wait_ready, int timeout_ms)
{
    return ld_proc_start_bin (proc, getenv ("LD_BIN"), argv, wait_ready, timeout_ms, NULL);
}

//  A loopback endpoint on a port that is free now and lies below Linux's
//  ephemeral range (32768-60999): a daemon restarted on it cannot find it
//  taken by some client's outgoing connection, which `tcp://...:*` (a port
//  from the ephemeral range) can. Returns 0, or -1 if no port was found.
static inline int
ld_proc_free_endpoint (char *out, size_t size)
{
    static unsigned next = 0;
    if (next == 0)
        next = 20000 + (unsigned) (getpid () * 7919u % 10000u);
    for (int attempt = 0; attempt < 1000; attempt++) {
        unsigned port = next++;
        if (next >= 32000)
            next = 20000;
        int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        int rc = bind (fd, (struct sockaddr *) &addr, sizeof addr);
        close (fd);
        if (rc == 0) {
            snprintf (out, size, "tcp://127.0.0.1:%u", port);
            return 0;
        }
    }
    return -1;
}

//  The endpoint named `name` in the ready line ("ready listen=tcp://..."),
//  copied into out. Returns 0, or -1 if absent.
static inline int
ld_proc_endpoint (const ld_proc_t *proc, const char *name, char *out, size_t size)
{
    size_t len = strlen (name);
    const char *p = proc->ready;
    while ((p = strstr (p, name)) != NULL) {
        if ((p == proc->ready || p[-1] == ' ') && p[len] == '=') {
            const char *value = p + len + 1;
            size_t n = strcspn (value, " ");
            if (n + 1 > size)
                return -1;
            memcpy (out, value, n);
            out[n] = '\0';
            return 0;
        }
        p += len;
    }
    return -1;
}

#endif
