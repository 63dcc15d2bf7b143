/*  main.c -- `liandong`: one binary, subcommands in the style of git.

    This file is only the table of subcommands and the dispatch; each
    subcommand lives in its own cmd_*.c.
*/
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <czmq.h>

#include "ld_cli.h"
#include "ld_crypto.h"
#include "ld_table.h"

#ifndef LD_VERSION
#define LD_VERSION "unknown"
#endif

typedef struct {
    const char *name;
    int (*run) (int argc, char **argv);
    const char *summary;
} s_command_t;

static int s_cmd_help (int argc, char **argv);
static int s_cmd_version (int argc, char **argv);

static const s_command_t s_commands[] = {
    {"demo", ld_cmd_demo, "play the local district scenario end to end"},
    {"broker", ld_cmd_broker, "run a broker: verify, store, acknowledge, fan out, catch up"},
    {"node", ld_cmd_node, "run a node: sign, commit, deliver through an outbox"},
    {"publish", ld_cmd_publish, "publish events through a node (--text, --json, NDJSON)"},
    {"keygen", ld_cmd_keygen, "create an identity: DIR/identity.secret and DIR/identity.pub"},
    {"inspect", ld_cmd_inspect, "decode and verify an envelope, print it as JSON"},
    {"tail", ld_cmd_tail, "follow a broker's events: catch up, then live, gap-free"},
    {"cert", ld_cmd_cert, "certify, revoke, rotate keys; show the trust hierarchy"},
    {"import", ld_cmd_import, "bring offline-signed events to a node or a broker"},
    {"status", ld_cmd_status, "a node's key, level, paths, feed, acks; a broker's store, links"},
    {"ledger", ld_cmd_ledger, "the ledger: resolutions, tasks, register, agreements, ..."},
    {"stats", ld_cmd_stats, "the figures the article reports, from the ledger"},
    //  the action commands (cli/ld_action.c: one table row per verb)
    {"meeting", ld_cmd_action, "joint meetings: convene, resolve (adopt a resolution), close"},
    {"task", ld_cmd_action,
     "a resolution's tasks: accept, progress, complete, verify, reopen, urge"},
    {"report", ld_cmd_action, "double reporting: checkin, service, feedback, evaluate"},
    {"agreement", ld_cmd_action, "co-building agreements: propose, sign"},
    {"wish", ld_cmd_action, "residents' wishes: post, claim, fulfil"},
    {"incident", ld_cmd_action, "grid incidents: report, collect, whistle, assign, resolve"},
    {"amend", ld_cmd_action, "correct one field of an event of your own"},
    {"withdraw", ld_cmd_action, "withdraw an event of your own"},
    {"member", ld_cmd_member, "seal, show and erase a person's details (erasable personal data)"},
    {"version", s_cmd_version, "print the version"},
    {"help", s_cmd_help, "list the subcommands"},
};

#define S_COMMAND_COUNT (sizeof s_commands / sizeof s_commands[0])

void
ld_cli_error (const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fputs ("liandong: ", stderr);
    vfprintf (stderr, fmt, args);
    fputc ('\n', stderr);
    va_end (args);
}

int
ld_cli_exit_code (ld_status_t status)
{
    switch (status) {
        case LD_OK:
            return EX_OK;
        case LD_ERR_USAGE:
            return EX_USAGE;
        case LD_ERR_NOT_FOUND:
            return EX_NOINPUT;
        case LD_ERR_EXISTS:
            return EX_CANTCREAT;
        case LD_ERR_IO:
        case LD_ERR_FULL:
            return EX_IOERR;
        case LD_ERR_NOMEM:
            return EX_OSERR;
        case LD_ERR_PERMISSIONS:
            return EX_NOPERM;
        default:
            return EX_DATAERR;
    }
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: liandong <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < S_COMMAND_COUNT; i++)
        fprintf (out, "  %-10s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf (out, "\n'liandong <command> --help' shows a command's options.\n");
}

static int
s_cmd_help (int argc, char **argv)
{
    (void) argc;
    (void) argv;
    s_usage (stdout);
    return EX_OK;
}

static int
s_cmd_version (int argc, char **argv)
{
    (void) argc;
    (void) argv;
    printf ("liandong %s\n", LD_VERSION);
    return EX_OK;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        s_usage (stderr);
        return EX_USAGE;
    }
    const char *name = argv[1];
    if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0)
        name = "help";
    else if (strcmp (name, "--version") == 0)
        name = "version";
    //  czmq logs to stdout by default, which would corrupt --json output.
    zsys_set_logstream (stderr);
    ld_table_init_locale ();
    if (ld_crypto_init () != 0) {
        ld_cli_error ("cannot initialise libsodium");
        return EX_OSERR;
    }
    for (size_t i = 0; i < S_COMMAND_COUNT; i++)
        if (strcmp (s_commands[i].name, name) == 0)
            return s_commands[i].run (argc - 1, argv + 1);
    ld_cli_error ("unknown command '%s'; see 'liandong help'", argv[1]);
    return EX_USAGE;
}
