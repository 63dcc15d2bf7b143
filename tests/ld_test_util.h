/*  ld_test_util.h -- small helpers shared by the cmocka tests (header only).

    Temporary directories live under $TMPDIR (or /tmp) and are removed by
    the test that made them, in its teardown, so a failing test leaves no
    key material behind. ld_test_run starts the `liandong` binary named by
    the LD_BIN environment variable (set by ctest) and captures what it
    prints, so that CLI contracts are tested through the real executable.
*/
#ifndef LD_TEST_UTIL_H_INCLUDED
#define LD_TEST_UTIL_H_INCLUDED

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

//  Most arguments ld_test_run passes to the binary.
#define LD_TEST_ARGS_MAX 32

//  Creates a fresh directory $TMPDIR/ld-test-XXXXXX (mode 0700) and writes
//  its path into path. Returns 0, or -1 if the path does not fit or mkdtemp
//  fails.
static inline int
ld_test_tempdir (char *path, size_t size)
{
    const char *base = getenv ("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if (snprintf (path, size, "%s/ld-test-XXXXXX", base) >= (int) size)
        return -1;
    return mkdtemp (path) ? 0 : -1;
}

static inline int
ld_test_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    return flag == FTW_DP ? rmdir (path) : unlink (path);
}

//  Removes path and everything under it, without following symlinks.
//  Returns 0, or -1 on the first failure. NULL or "" is a no-op.
static inline int
ld_test_remove_tree (const char *path)
{
    if (!path || !*path)
        return 0;
    return nftw (path, ld_test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

//  Reads at most size - 1 bytes of a file into buffer and NUL-terminates
//  it. Returns the number of bytes read, or -1 if the file cannot be read.
static inline ssize_t
ld_test_read_file (const char *path, char *buffer, size_t size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t got = read (fd, buffer + used, size - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        used += (size_t) got;
    }
    close (fd);
    buffer[used] = '\0';
    return (ssize_t) used;
}

//  Writes size bytes to path (created or truncated) with mode, exactly:
//  the process umask is bypassed with fchmod. Returns 0 or -1.
static inline int
ld_test_write_file (const char *path, const void *data, size_t size, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    bool ok = fchmod (fd, mode) == 0 && write (fd, data, size) == (ssize_t) size;
    return (close (fd) == 0 && ok) ? 0 : -1;
}

//  Appends what is readable on fd to buffer (NUL-terminated; the excess is
//  read and dropped). Returns false at end of file or on error.
static inline bool
ld_test_drain (int fd, char *buffer, size_t size, size_t *used)
{
    char chunk[4096];
    ssize_t got = read (fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR)
        return true;
    if (got <= 0)
        return false;
    size_t keep = (size_t) got;
    if (keep > size - 1 - *used)
        keep = size - 1 - *used;
    memcpy (buffer + *used, chunk, keep);
    *used += keep;
    buffer[*used] = '\0';
    return true;
}

//  Runs "$LD_BIN args[0] args[1] ..." (args ends with NULL) and waits for
//  it. Its stdout and stderr are captured into out and err (each
//  NUL-terminated, truncated to fit; either may be NULL to discard). Returns
//  the exit code, 128 + signal number if it was killed, or -1 if LD_BIN is
//  unset or the process cannot be started.
static inline int
ld_test_run (const char *const args[], char *out, size_t out_size, char *err, size_t err_size)
{
    const char *bin = getenv ("LD_BIN");
    if (!bin || !*bin)
        return -1;
    char *argv[LD_TEST_ARGS_MAX + 2];
    size_t argc = 0;
    argv[argc++] = (char *) bin;
    for (size_t i = 0; args[i]; i++) {
        if (argc > LD_TEST_ARGS_MAX)
            return -1;
        argv[argc++] = (char *) args[i];
    }
    argv[argc] = NULL;

    char discard_out[1], discard_err[1];
    if (!out || out_size == 0) {
        out = discard_out;
        out_size = sizeof discard_out;
    }
    if (!err || err_size == 0) {
        err = discard_err;
        err_size = sizeof discard_err;
    }
    out[0] = err[0] = '\0';

    int out_pipe[2], err_pipe[2];
    if (pipe2 (out_pipe, O_CLOEXEC) != 0)
        return -1;
    if (pipe2 (err_pipe, O_CLOEXEC) != 0) {
        close (out_pipe[0]);
        close (out_pipe[1]);
        return -1;
    }
    fflush (NULL); //  the child must not repeat our buffered output
    pid_t pid = fork ();
    if (pid == 0) {
        if (dup2 (out_pipe[1], STDOUT_FILENO) < 0 || dup2 (err_pipe[1], STDERR_FILENO) < 0)
            _exit (127);
        execv (bin, argv);
        _exit (127);
    }
    close (out_pipe[1]);
    close (err_pipe[1]);
    if (pid < 0) {
        close (out_pipe[0]);
        close (err_pipe[0]);
        return -1;
    }
    //  Both pipes are read as data arrives, so a chatty stderr cannot
    //  block the child while we wait on stdout.
    struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    size_t out_used = 0, err_used = 0;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        if (poll (fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents && !ld_test_drain (fds[0].fd, out, out_size, &out_used)) {
            close (fds[0].fd);
            fds[0].fd = -1;
        }
        if (fds[1].revents && !ld_test_drain (fds[1].fd, err, err_size, &err_used)) {
            close (fds[1].fd);
            fds[1].fd = -1;
        }
    }
    if (fds[0].fd >= 0)
        close (fds[0].fd);
    if (fds[1].fd >= 0)
        close (fds[1].fd);
    int status;
    while (waitpid (pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    return WIFSIGNALED (status) ? 128 + WTERMSIG (status) : -1;
}

#endif
