/*  ld_cli.h -- the `liandong` subcommands.

    Each subcommand is one function `int ld_cmd_X (int argc, char **argv)`
    where argv[0] is the subcommand name; it parses its own flags with
    getopt_long, prints results on stdout, errors on stderr, and returns a
    sysexits(3) code: 0 ok, 64 usage, 65 bad data, 66 no input, 69
    unavailable, 70 software, 73 cannot create, 74 I/O, 75 temporary.
*/
#ifndef LD_CLI_H_INCLUDED
#define LD_CLI_H_INCLUDED

#include <stdio.h>

#include "ld_status.h"

int ld_cmd_keygen (int argc, char **argv);
int ld_cmd_inspect (int argc, char **argv);
int ld_cmd_demo (int argc, char **argv);
int ld_cmd_broker (int argc, char **argv);
int ld_cmd_node (int argc, char **argv);
int ld_cmd_publish (int argc, char **argv);
int ld_cmd_tail (int argc, char **argv);
int ld_cmd_cert (int argc, char **argv);
int ld_cmd_import (int argc, char **argv);
int ld_cmd_status (int argc, char **argv);
int ld_cmd_ledger (int argc, char **argv);
int ld_cmd_stats (int argc, char **argv);
//  meeting, task, report, agreement, wish, incident, amend, withdraw
//  (argv[0] names which; cli/ld_action.h)
int ld_cmd_action (int argc, char **argv);
int ld_cmd_member (int argc, char **argv);

//  Prints "liandong: <message>" on stderr (git style: lowercase, the
//  failure first).
void ld_cli_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

//  The sysexits code a status maps to (LD_ERR_NOT_FOUND -> 66, I/O -> 74,
//  data errors -> 65, ...).
int ld_cli_exit_code (ld_status_t status);

#endif
