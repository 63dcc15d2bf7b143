/*  cmd_inspect.c -- `liandong inspect [--max-size N] FILE|-`.

    Reads one envelope's raw bytes, decodes and verifies it, and prints it
    as JSON (ld_event_to_json: canonical proto3 mapping, keys and ids in
    their text form) indented by two, UTF-8 left unescaped, one trailing
    newline. Scripts rely on this output and on the exit codes: 0 printed,
    65 the bytes are not a valid signed envelope, 66 the file cannot be
    opened, 74 it cannot be read, 64 bad usage.

    The input is read with a bound: at most the size limit plus one byte,
    so that an oversized input is refused without reading all of it.
*/
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_cli.h"
#include "ld_event.h"
#include "ld_pbjson.h"

//  --max-size may raise the envelope limit up to this; an envelope is one
//  message held in memory, anything larger is a mistake, not an envelope.
#define S_MAX_SIZE_CEILING (64 * 1024 * 1024)

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: liandong inspect [--max-size N] FILE|-\n"
             "\n"
             "Decodes the envelope in FILE (or standard input for '-'), verifies its\n"
             "signature and prints it as JSON. Inputs larger than N bytes are refused\n"
             "(default %d, the envelope limit).\n",
             LD_ENVELOPE_MAX_DEFAULT);
}

//  Parses --max-size: a decimal number of bytes in 1..S_MAX_SIZE_CEILING.
static int
s_parse_size (const char *text, size_t *size)
{
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || value == 0 || value > S_MAX_SIZE_CEILING)
        return -1;
    *size = (size_t) value;
    return 0;
}

//  Reads at most max + 1 bytes of file into *data_p (caller frees), so
//  that more than max is seen without reading it all.
static ld_status_t
s_read_bounded (FILE *file, size_t max, uint8_t **data_p, size_t *size_p)
{
    uint8_t *data = malloc (max + 1);
    if (!data)
        return LD_ERR_NOMEM;
    size_t size = 0;
    while (size <= max) {
        size_t n = fread (data + size, 1, max + 1 - size, file);
        if (n == 0)
            break;
        size += n;
    }
    if (ferror (file)) {
        int saved = errno; //  for the caller's message
        free (data);
        errno = saved;
        return LD_ERR_IO;
    }
    *data_p = data;
    *size_p = size;
    return LD_OK;
}

//  Reads, decodes, verifies and prints; reports its own errors.
static int
s_inspect (const char *path, size_t max)
{
    bool is_stdin = strcmp (path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *file = is_stdin ? stdin : fopen (path, "rb");
    if (!file) {
        //  sysexits: 66 is "did not exist or was not readable"
        ld_cli_error ("cannot open '%s': %s", name, strerror (errno));
        return ld_cli_exit_code (LD_ERR_NOT_FOUND);
    }
    uint8_t *data = NULL;
    size_t size = 0;
    ld_status_t rc = s_read_bounded (file, max, &data, &size);
    int read_errno = errno;
    if (!is_stdin)
        fclose (file);
    if (rc != LD_OK) {
        ld_cli_error ("cannot read '%s': %s", name,
                      rc == LD_ERR_IO ? strerror (read_errno) : ld_status_text (rc));
        return ld_cli_exit_code (rc);
    }
    if (size > max) {
        ld_cli_error ("refusing '%s': larger than %zu bytes (the envelope limit; see --max-size)",
                      name, max);
        free (data);
        return ld_cli_exit_code (LD_ERR_TOO_BIG);
    }

    char err[512];
    ld_event_t *event = NULL;
    rc = ld_event_decode (data, size, max, &event, err, sizeof err);
    free (data);
    if (rc != LD_OK) {
        ld_cli_error ("cannot decode '%s': %s [%s]", name, err, ld_status_name (rc));
        return ld_cli_exit_code (rc);
    }
    rc = ld_event_verify (event);
    if (rc != LD_OK) {
        ld_cli_error ("cannot verify '%s': %s [%s]", name, ld_status_text (rc),
                      ld_status_name (rc));
        ld_event_destroy (&event);
        return ld_cli_exit_code (rc);
    }
    json_t *json = ld_event_to_json (event);
    ld_event_destroy (&event);
    //  no JSON_ENSURE_ASCII: Chinese text prints as itself
    char *text = json ? json_dumps (json, JSON_INDENT (2)) : NULL;
    json_decref (json);
    if (!text) {
        ld_cli_error ("cannot print '%s': %s", name, ld_status_text (LD_ERR_NOMEM));
        return ld_cli_exit_code (LD_ERR_NOMEM);
    }
    fputs (text, stdout);
    fputc ('\n', stdout);
    free (text);
    if (fflush (stdout) != 0 || ferror (stdout)) {
        ld_cli_error ("cannot write to standard output: %s", strerror (errno));
        return ld_cli_exit_code (LD_ERR_IO);
    }
    return EX_OK;
}

int
ld_cmd_inspect (int argc, char **argv)
{
    static const struct option options[] = {
        {"max-size", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t max = LD_ENVELOPE_MAX_DEFAULT;
    int opt;
    while ((opt = getopt_long (argc, argv, "m:h", options, NULL)) != -1) {
        switch (opt) {
            case 'm':
                if (s_parse_size (optarg, &max) != 0) {
                    ld_cli_error ("invalid --max-size '%s': expected bytes in 1..%d", optarg,
                                  S_MAX_SIZE_CEILING);
                    return EX_USAGE;
                }
                break;
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (optind != argc - 1) {
        s_usage (stderr);
        return EX_USAGE;
    }
    return s_inspect (argv[optind], max);
}
