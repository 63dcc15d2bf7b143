/*  cmd_demo.c -- `liandong demo`: the main job of the README's first command.

    Plays the seed scenario (deploy/scenario/wudang.json, cli/ld_scenario.h)
    on a local federation on loopback, as separate processes through the
    real CLI and sockets: a broker that trusts the district's root, a node
    for the district, a supervisor, two streets, two communities and a
    partner unit, each certified by the level above it. Then the
    supervisor, who has no business writing, reads: its tail of
    resolution/wudang/ gets every resolution event once, and the ledger
    queries (`liandong ledger resolutions`, `ledger register`, `stats`)
    print the resolutions with their task status (overdue ones in red on a
    terminal), the double-reporting register and the article's figures.
    Everything it started is stopped before it returns.
*/
#include <czmq.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_cli.h"
#include "ld_scenario.h"
#include "ld_spawn.h"

#ifndef LD_SCENARIO_SOURCE
#define LD_SCENARIO_SOURCE "deploy/scenario/wudang.json"
#endif
#ifndef LD_SCENARIO_INSTALLED
#define LD_SCENARIO_INSTALLED "/usr/local/share/liandong/scenario/wudang.json"
#endif
#define S_QUERY_MS (120 * 1000)
#define S_OUT_MAX  (8 * 1024 * 1024)

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: liandong demo [--dir DIR] [--keep] [--scenario FILE] [--at TIME]\n"
             "\n"
             "Plays the seed scenario on a local district federation on loopback: a\n"
             "broker that trusts the district's root (CurveZMQ, authority checks), and a\n"
             "node each for 乌当区, its supervisor, 龙广路街道 and 观溪路街道, 生活桥社区\n"
             "and 金江苑社区, and the partner unit 振华集团, as separate processes, each\n"
             "certified by the level above it. The joint meeting, its resolutions and\n"
             "tasks, double reporting, agreements, wishes and an incident go through the\n"
             "real CLI; then the supervisor reads the ledger: resolutions with their\n"
             "tasks (overdue ones in red on a terminal), the register, and the figures.\n"
             "\n"
             "  --dir DIR        work there (kept); default a temporary directory, removed\n"
             "  --keep           keep the temporary directory (logs, stores)\n"
             "  --scenario FILE  default: %s\n"
             "  --at TIME        judge overdue at TIME (default now)\n",
             LD_SCENARIO_SOURCE);
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

//  Runs a query and prints its output under a title: as the supervisor
//  reading the broker (it has no business writing), or, with control, as
//  an office reading through its own node.
static int
s_query (ld_scenario_t *scenario, const char *dir, const char *title, const char *const *args,
         const char *at, const char *control, char *out)
{
    char log[PATH_MAX + 32];
    snprintf (log, sizeof log, "%.*s/queries.log", PATH_MAX - 32, dir);
    const char *argv[32];
    size_t n = 0;
    for (size_t i = 0; args[i] && n < 16; i++)
        argv[n++] = args[i];
    if (control) {
        argv[n++] = "--control";
        argv[n++] = control;
    }
    else {
        argv[n++] = "--broker";
        argv[n++] = ld_scenario_broker (scenario);
        argv[n++] = "--broker-key";
        argv[n++] = ld_scenario_broker_key (scenario);
        argv[n++] = "--identity";
        argv[n++] = ld_scenario_supervisor_identity (scenario);
    }
    argv[n++] = "--trust";
    argv[n++] = ld_scenario_root_pub (scenario);
    argv[n++] = "--color";
    argv[n++] = isatty (STDOUT_FILENO) ? "always" : "never";
    if (at) {
        argv[n++] = "--at";
        argv[n++] = at;
    }
    argv[n] = NULL;
    size_t used = 0;
    int rc = ld_spawn_run (argv, NULL, 0, out, S_OUT_MAX, &used, log, S_QUERY_MS);
    if (rc != 0) {
        ld_cli_error ("`liandong %s %s` exited %d; see '%s'", args[0], args[1] ? args[1] : "", rc,
                      log);
        return EX_SOFTWARE;
    }
    printf ("\n%s\n\n%s", title, out);
    return EX_OK;
}

//  The supervisor follows resolution/wudang/: every resolution event once.
static int
s_supervisor_tail (ld_scenario_t *scenario, const char *dir, size_t expected, char *out)
{
    char log[PATH_MAX + 32], count[24];
    snprintf (log, sizeof log, "%.*s/queries.log", PATH_MAX - 32, dir);
    snprintf (count, sizeof count, "%zu", expected);
    const char *argv[] = {"tail",
                          "--broker",
                          ld_scenario_broker (scenario),
                          "--broker-key",
                          ld_scenario_broker_key (scenario),
                          "--identity",
                          ld_scenario_supervisor_identity (scenario),
                          "--prefix",
                          "resolution/wudang/",
                          "--from",
                          "0",
                          "--count",
                          count,
                          "--json",
                          NULL};
    size_t used = 0;
    int rc = ld_spawn_run (argv, NULL, 0, out, S_OUT_MAX, &used, log, S_QUERY_MS);
    size_t lines = 0;
    for (size_t i = 0; i < used; i++)
        lines += out[i] == '\n';
    if (rc != 0 || lines != expected) {
        ld_cli_error ("the supervisor's tail of resolution/wudang/ got %zu of %zu events "
                      "(exit %d); see '%s'",
                      lines, expected, rc, log);
        return EX_SOFTWARE;
    }
    return EX_OK;
}

int
ld_cmd_demo (int argc, char **argv)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},      {"keep", no_argument, NULL, 'k'},
        {"scenario", required_argument, NULL, 's'}, {"at", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *dir_arg = NULL, *scenario_path = NULL, *at = NULL;
    bool keep = false;
    int opt;
    while ((opt = getopt_long (argc, argv, "d:ks:a:h", options, NULL)) != -1) {
        switch (opt) {
            case 'd':
                dir_arg = optarg;
                break;
            case 'k':
                keep = true;
                break;
            case 's':
                scenario_path = optarg;
                break;
            case 'a':
                at = optarg;
                break;
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    if (!scenario_path)
        scenario_path =
            access (LD_SCENARIO_SOURCE, R_OK) == 0 ? LD_SCENARIO_SOURCE : LD_SCENARIO_INSTALLED;
    char err[512];
    ld_scenario_t *scenario = ld_scenario_load (scenario_path, err, sizeof err);
    if (!scenario) {
        ld_cli_error ("%s", err);
        return EX_NOINPUT;
    }
    char dir[PATH_MAX];
    if (dir_arg) {
        //  ipc paths are limited to about 100 bytes: keep the directory short
        if (strlen (dir_arg) > 64) {
            ld_cli_error ("--dir '%s' is too long for ipc endpoints (64 bytes at most)", dir_arg);
            ld_scenario_destroy (&scenario);
            return EX_USAGE;
        }
        snprintf (dir, sizeof dir, "%s", dir_arg);
        if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
            ld_cli_error ("cannot create '%s': %s", dir, strerror (errno));
            ld_scenario_destroy (&scenario);
            return EX_CANTCREAT;
        }
        keep = true;
    }
    else {
        snprintf (dir, sizeof dir, "/tmp/liandong-demo-XXXXXX");
        if (!mkdtemp (dir)) {
            ld_cli_error ("cannot create a temporary directory: %s", strerror (errno));
            ld_scenario_destroy (&scenario);
            return EX_CANTCREAT;
        }
    }
    char *out = malloc (S_OUT_MAX);
    int64_t started = zclock_time ();
    int rc = out ? ld_scenario_play (scenario, dir, started) : EX_OSERR;
    size_t events = 0, commands = 0, resolution_events = 0;
    ld_scenario_counts (scenario, &events, &commands, &resolution_events);
    if (rc == EX_OK) {
        printf ("乌当区 played on a local federation: %zu events through %zu CLI commands "
                "in %.1f s.\n",
                events, commands, (double) (zclock_time () - started) / 1000.0);
        printf ("\nThe federation: each street's broker follows the district's; the "
                "nodes of a street use their street's broker.\n\n");
        fflush (stdout);
        rc = ld_scenario_federation (scenario, stdout);
        printf ("\n");
        if (rc == EX_OK)
            rc = s_supervisor_tail (scenario, dir, resolution_events, out);
        if (rc == EX_OK)
            printf ("The supervisor (乌当区督办) follows resolution/wudang/: %zu events, each "
                    "once.\n",
                    resolution_events);
    }
    const char *resolutions[] = {"ledger", "resolutions", "--path", "wudang/longguanglu/", NULL};
    const char *reg[] = {"ledger", "register", "--community", "生活桥社区", NULL};
    const char *agreements[] = {"ledger", "agreements", NULL};
    const char *stats[] = {"stats", NULL};
    if (rc == EX_OK)
        rc = s_query (scenario, dir,
                      "龙广路街道大工委: resolutions and their tasks (the supervisor)", resolutions,
                      at, NULL, out);
    if (rc == EX_OK)
        rc = s_query (scenario, dir,
                      "生活桥社区: the double-reporting register (双报到), through its own node",
                      reg, at, ld_scenario_control (scenario, "shenghuoqiao"), out);
    if (rc == EX_OK)
        rc =
            s_query (scenario, dir, "Co-building agreements (结对共建)", agreements, at, NULL, out);
    if (rc == EX_OK)
        rc = s_query (scenario, dir, "乌当区 in figures", stats, at, NULL, out);
    if (ld_scenario_stop (scenario) != 0 && rc == EX_OK)
        rc = EX_SOFTWARE;
    ld_scenario_destroy (&scenario);
    free (out);
    if (keep || rc != EX_OK)
        fprintf (stderr, "liandong: demo data and logs kept in '%s'\n", dir);
    else if (nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        ld_cli_error ("cannot remove '%s': %s", dir, strerror (errno));
    return rc;
}
