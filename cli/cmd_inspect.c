/*  cmd_inspect.c -- `liandong inspect [--max-size N] FILE|-`.

    Reads one envelope's raw bytes, decodes and verifies it, and prints it
    as JSON (ld_event_to_json: canonical proto3 mapping, keys and ids in
    their text form) indented by two, UTF-8 left unescaped, one trailing
    newline. Scripts rely on this output and on the exit codes: 0 printed,
    65 the bytes are not a valid signed envelope, 66 the file cannot be
    opened, 74 it cannot be read, 64 bad usage.

    The input is read with a bound: at most the size limit plus one byte,
    so that an oversized input is refused without reading all of it.

    An input that is not one envelope may be a stream of them in protobuf's
    delimited form (each a varint length and its bytes), as `liandong tail
    --raw` writes: then each envelope is printed as its own JSON document,
    in order, one record in memory at a time. The input is taken as a
    stream only if its first record is a whole envelope; otherwise the
    error is the one-envelope error, as before. A later record that is cut
    short or does not decode or verify stops it with exit 65, after the
    documents before it were printed.
*/
#include <errno.h>
#include <getopt.h>
#include <limits.h>
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

#define S_VARINT_BYTES_MAX 10 //  bytes of a 64-bit varint
#define S_NOT_A_STREAM     -1 //  s_inspect_stream: the input is not a delimited stream

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

//  Verifies and prints one decoded event; `what` names it in errors
//  ("'FILE'" or "envelope N of 'FILE'"). Reports its own errors.
static int
s_print_verified (ld_event_t **event_p, const char *what)
{
    ld_status_t rc = ld_event_verify (*event_p);
    if (rc != LD_OK) {
        ld_cli_error ("cannot verify %s: %s [%s]", what, ld_status_text (rc), ld_status_name (rc));
        ld_event_destroy (event_p);
        return ld_cli_exit_code (rc);
    }
    json_t *json = ld_event_to_json (*event_p);
    ld_event_destroy (event_p);
    //  no JSON_ENSURE_ASCII: Chinese text prints as itself
    char *text = json ? json_dumps (json, JSON_INDENT (2)) : NULL;
    json_decref (json);
    if (!text) {
        ld_cli_error ("cannot print %s: %s", what, ld_status_text (LD_ERR_NOMEM));
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

//  The input of a stream: the bytes read first, then the rest of the file.
typedef struct {
    FILE *file;
    const uint8_t *head;
    size_t head_size, head_used;
} s_input_t;

//  Reads up to want bytes; fewer only at the end of the input or on error.
static size_t
s_input_read (s_input_t *input, uint8_t *out, size_t want)
{
    size_t got = input->head_size - input->head_used;
    if (got > want)
        got = want;
    memcpy (out, input->head + input->head_used, got);
    input->head_used += got;
    while (got < want) {
        size_t n = fread (out + got, 1, want - got, input->file);
        if (n == 0)
            break;
        got += n;
    }
    return got;
}

//  The next record of a delimited stream (protobuf's delimited form, as
//  `liandong tail --raw` writes: a varint length, then that many bytes) into
//  buffer (max bytes). Returns 1 with *size_p set, 0 at the clean end of the
//  input, -1 if the input is not (or no longer) such a stream.
static int
s_next_record (s_input_t *input, size_t max, uint8_t *buffer, size_t *size_p)
{
    uint64_t length = 0;
    for (unsigned i = 0;; i++) {
        uint8_t byte;
        if (s_input_read (input, &byte, 1) != 1)
            return i == 0 && !ferror (input->file) ? 0 : -1;
        if (i == S_VARINT_BYTES_MAX)
            return -1;
        length |= (uint64_t) (byte & 0x7F) << (7 * i);
        if (!(byte & 0x80))
            break;
    }
    if (length == 0 || length > max || s_input_read (input, buffer, length) != length)
        return -1;
    *size_p = (size_t) length;
    return 1;
}

//  Prints every envelope of a delimited stream. Returns S_NOT_A_STREAM,
//  without printing, if the first record is not a whole envelope (the
//  caller then reports why the input is not one envelope either); else an
//  exit code, having reported any error.
static int
s_inspect_stream (s_input_t *input, const char *name, size_t max)
{
    uint8_t *buffer = malloc (max);
    if (!buffer) {
        ld_cli_error ("cannot read '%s': %s", name, ld_status_text (LD_ERR_NOMEM));
        return ld_cli_exit_code (LD_ERR_NOMEM);
    }
    int result = EX_OK;
    for (size_t index = 1; result == EX_OK; index++) {
        char what[PATH_MAX + 64], err[512];
        snprintf (what, sizeof what, "envelope %zu of '%s'", index, name);
        size_t size = 0;
        int got = s_next_record (input, max, buffer, &size);
        if (got == 0 && index > 1)
            break;
        ld_event_t *event = NULL;
        ld_status_t rc = LD_ERR_MALFORMED;
        if (got == 1)
            rc = ld_event_decode (buffer, size, max, &event, err, sizeof err);
        if (rc != LD_OK && index == 1)
            result = S_NOT_A_STREAM;
        else if (got != 1 && ferror (input->file)) {
            ld_cli_error ("cannot read '%s': %s", name, strerror (errno));
            result = ld_cli_exit_code (LD_ERR_IO);
        }
        else if (got != 1) {
            ld_cli_error ("cannot read %s: truncated or not a delimited envelope", what);
            result = ld_cli_exit_code (LD_ERR_MALFORMED);
        }
        else if (rc != LD_OK) {
            ld_cli_error ("cannot decode %s: %s [%s]", what, err, ld_status_name (rc));
            result = ld_cli_exit_code (rc);
        }
        else
            result = s_print_verified (&event, what);
    }
    free (buffer);
    return result;
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
    if (rc != LD_OK) {
        if (!is_stdin)
            fclose (file);
        ld_cli_error ("cannot read '%s': %s", name,
                      rc == LD_ERR_IO ? strerror (read_errno) : ld_status_text (rc));
        return ld_cli_exit_code (rc);
    }

    //  One envelope: the whole input decodes as one.
    char err[512], what[PATH_MAX + 8];
    snprintf (what, sizeof what, "'%s'", name);
    ld_event_t *event = NULL;
    rc = size > max ? LD_ERR_TOO_BIG : ld_event_decode (data, size, max, &event, err, sizeof err);
    int result;
    if (rc == LD_OK)
        result = s_print_verified (&event, what);
    else {
        //  Else a stream of envelopes, each after its varint length?
        s_input_t input = {file, data, size, 0};
        result = s_inspect_stream (&input, name, max);
        if (result == S_NOT_A_STREAM && rc == LD_ERR_TOO_BIG) {
            ld_cli_error ("refusing '%s': larger than %zu bytes (the envelope limit; see "
                          "--max-size)",
                          name, max);
            result = ld_cli_exit_code (LD_ERR_TOO_BIG);
        }
        else if (result == S_NOT_A_STREAM) {
            ld_cli_error ("cannot decode '%s': %s [%s]", name, err, ld_status_name (rc));
            result = ld_cli_exit_code (rc);
        }
    }
    free (data);
    if (!is_stdin)
        fclose (file);
    return result;
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
