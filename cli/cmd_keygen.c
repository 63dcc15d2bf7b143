/*  cmd_keygen.c -- `liandong keygen --out DIR [--path P] [--name N] [--force]`. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_cli.h"
#include "ld_identity.h"
#include "ld_roots.h"

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: liandong keygen --out DIR [--path P] [--name N] [--force]\n"
                  "\n"
                  "Creates DIR/identity.secret (mode 0600) and DIR/identity.pub and prints\n"
                  "the public key. Refuses to replace an existing identity unless --force:\n"
                  "a second key history under one name would fork it.\n"
                  "\n"
                  "  --path P   org path of a trust root (e.g. wudang/): written as a\n"
                  "             'path: P' line after the key in identity.pub\n"
                  "  --name N   its display name (e.g. 乌当区): a 'name: N' line\n"
                  "\n"
                  "identity.pub with these lines is a trust root file for `broker --trust`\n"
                  "and `cert --trust`; elsewhere only its first line (the key) is read.\n");
}

//  Replaces DIR/identity.pub by the root file form: the key, then the
//  path and name lines (temporary name, fsync, rename).
static ld_status_t
s_write_root (const char *dir, const uint8_t *key, const char *path, const char *name, char *err,
              size_t err_size)
{
    char text[LD_ROOT_FILE_MAX], file[PATH_MAX], tmp[PATH_MAX];
    ld_status_t rc = ld_root_format (key, path, name, text, sizeof text, err, err_size);
    if (rc != LD_OK)
        return rc;
    if (snprintf (file, sizeof file, "%s/%s", dir, LD_IDENTITY_PUBLIC) >= (int) sizeof file
        || snprintf (tmp, sizeof tmp, "%s.tmp", file) >= (int) sizeof tmp)
        return ld_fail (err, err_size, LD_ERR_USAGE, "directory path too long: '%s'", dir);
    FILE *out = fopen (tmp, "we");
    bool ok = out && fputs (text, out) >= 0 && fflush (out) == 0 && fsync (fileno (out)) == 0;
    ok = (out && fclose (out) == 0) && ok;
    if (!ok || rename (tmp, file) != 0) {
        int e = errno;
        unlink (tmp);
        return ld_fail (err, err_size, LD_ERR_IO, "cannot write '%s': %s", file, strerror (e));
    }
    return LD_OK;
}

int
ld_cmd_keygen (int argc, char **argv)
{
    static const struct option options[] = {
        {"out", required_argument, NULL, 'o'},  {"force", no_argument, NULL, 'f'},
        {"path", required_argument, NULL, 'p'}, {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    const char *path = NULL, *name = NULL;
    bool force = false;
    int opt;
    while ((opt = getopt_long (argc, argv, "o:fp:n:h", options, NULL)) != -1) {
        switch (opt) {
            case 'p':
                path = optarg;
                break;
            case 'n':
                name = optarg;
                break;
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
    char err[512];
    char root[LD_ROOT_FILE_MAX];
    uint8_t zero[LD_KEY_BYTES] = {0};
    if ((path || name)
        && ld_root_format (zero, path, name, root, sizeof root, err, sizeof err) != LD_OK) {
        ld_cli_error ("%s", err);
        return EX_USAGE;
    }
    ld_identity_t *identity = ld_identity_new ();
    if (!identity) {
        ld_cli_error ("cannot allocate secure memory for a key");
        return EX_OSERR;
    }
    ld_status_t rc = ld_identity_save (identity, dir, force, err, sizeof err);
    if (rc == LD_OK && (path || name))
        rc = s_write_root (dir, ld_identity_public_key (identity), path, name, err, sizeof err);
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
