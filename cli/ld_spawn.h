/*  ld_spawn.h -- child `liandong` processes for commands that run a local
    federation (`liandong demo`).

    A child is this same executable (/proc/self/exe) with other arguments,
    its stdout on a pipe so that its `ready name=endpoint ...` line can be
    read; its stderr goes to a log file, so that a demo's own output stays
    readable. ld_spawn_stop ends it (SIGTERM, then SIGKILL after a grace
    period) and reaps it: nothing is left running.
*/
#ifndef LD_SPAWN_H_INCLUDED
#define LD_SPAWN_H_INCLUDED

#include <stddef.h>
#include <sys/types.h>

#define LD_SPAWN_READY_MAX 1024

typedef struct {
    pid_t pid; //  0: not running
    int out;   //  read end of its stdout
    char ready[LD_SPAWN_READY_MAX];
} ld_spawn_t;

//  Starts `liandong argv...` (argv NULL-terminated, without the program
//  name), stderr appended to log_path, and waits up to timeout_ms for its
//  "ready" line. Returns 0, or -1 (the child, if any, is stopped).
int ld_spawn_start (ld_spawn_t *self, const char *const *argv, const char *log_path,
                    int timeout_ms);

//  The value of `name=` in the ready line, copied into out. 0 or -1.
int ld_spawn_endpoint (const ld_spawn_t *self, const char *name, char *out, size_t size);

//  Runs `liandong argv...` to completion (the scenario player drives the
//  real CLI): input (may be NULL) is written to its stdin, its stdout is
//  captured into out (NUL-terminated; *out_len gets its length; what does
//  not fit is read and dropped), its stderr appended to log_path. Returns
//  its exit code (128+signal if killed), or -1 if it could not run or did
//  not finish within timeout_ms (then it is killed).
int ld_spawn_run (const char *const *argv, const char *input, size_t input_len, char *out,
                  size_t out_size, size_t *out_len, const char *log_path, int timeout_ms);

//  Stops and reaps the child; returns its exit code (128+signal if
//  killed), or -1 if it was not running. Safe to call twice.
int ld_spawn_stop (ld_spawn_t *self);

#endif
