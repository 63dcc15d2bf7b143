/*  cmd_inspect.c -- placeholder until the inspect command lands. */
#include <sysexits.h>

#include "ld_cli.h"

int
ld_cmd_inspect (int argc, char **argv)
{
    (void) argc;
    (void) argv;
    ld_cli_error ("inspect: not built yet");
    return EX_SOFTWARE;
}
