/*  cmd_keygen.c -- `liandong keygen --out DIR [--force]`. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sysexits.h>

#include "ld_cli.h"
#include "ld_identity.h"

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: liandong keygen --out DIR [--force]\n"
                  "\n"
                  "Creates DIR/identity.secret (mode 0600) and DIR/identity.pub and prints\n"
                  "the public key. Refuses to replace an existing identity unless --force:\n"
                  "a second key history under one name would fork it.\n");
}

int
ld_cmd_keygen (int argc, char **argv)
{
    static const struct option options[] = {
        {"out", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    bool force = false;
    int opt;
    while ((opt = getopt_long (argc, argv, "o:fh", options, NULL)) != -1) {
        switch (opt) {
            case 'o':
                dir = optarg;
                break;
            case 'f':
                force = true;
                break;
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (!dir || optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    ld_identity_t *identity = ld_identity_new ();
    if (!identity) {
        ld_cli_error ("cannot allocate secure memory for a key");
        return EX_OSERR;
    }
    char err[512];
    ld_status_t rc = ld_identity_save (identity, dir, force, err, sizeof err);
    if (rc == LD_OK) {
        char text[LD_KEY_TEXT_BYTES];
        ld_key_to_text (ld_identity_public_key (identity), text);
        printf ("%s\n", text);
    }
    else
        ld_cli_error ("%s", err);
    ld_identity_destroy (&identity);
    return ld_cli_exit_code (rc);
}
