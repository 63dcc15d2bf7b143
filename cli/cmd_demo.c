/*  cmd_demo.c -- placeholder until the demo command lands. */
#include <sysexits.h>

#include "ld_cli.h"

int
ld_cmd_demo (int argc, char **argv)
{
    (void) argc;
    (void) argv;
    ld_cli_error ("demo: not built yet");
    return EX_SOFTWARE;
}
