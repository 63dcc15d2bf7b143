/*  cmd_member.c -- `liandong member`: erasable personal data (DESIGN.md
    section 3) through the community's node.

        member seal   the node makes a key and salt for the person, keeps
                      them, and answers with the SealedPerson that a body
                      carries instead of the details (a report.checkin's
                      "member");
        member show   the node opens the details again, or says "erased";
        member erase  the node destroys the key and salt: the details are
                      gone for good, every signature still verifies.

    One request/reply on the node's control socket (Seal, Open, Erase in
    sync/ld_sync.proto). The details are never printed by seal and never
    leave the node in a signed body.

    Exit codes: 0 done (show: the details or "erased"); 64 usage; 65 bad
    input (not a person, not a sealed person); 66 the node never held this
    person; 69 no node answers; 74 the node's store failed.
*/
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_cli.h"
#include "ld_connect.h"
#include "ld_crypto.h"
#include "ld_person.h"
#include "ld_table.h"

#define S_SEALED_TEXT_MAX (LD_SEALED_PERSON_MAX * 4 / 3 + 4) //  base64url of a SealedPerson

typedef struct {
    const char *control;
    const char *commitment;
    const char *sealed;
    bool json;
    uint64_t timeout;
    ld_person_t person;
} s_options_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: liandong member seal  --control ipc://PATH --name N [--phone P] [--unit U]\n"
             "                             [--note T] [--json]\n"
             "       liandong member show  --control ipc://PATH (--commitment blake2b:... |\n"
             "                             --sealed B64) [--json]\n"
             "       liandong member erase --control ipc://PATH --commitment blake2b:...\n"
             "\n"
             "A person's details never enter a signed body in clear: the body carries a\n"
             "sealed person (a salted commitment and the details encrypted under a key\n"
             "only the community's node holds). Erasing the key erases the person; every\n"
             "signature still verifies.\n"
             "\n"
             "  seal    prints the sealed person as base64url; with --json\n"
             "          {\"commitment\": \"blake2b:...\", \"sealedPerson\": \"<base64url>\",\n"
             "           \"member\": {...}} where member is the proto3 JSON form that a\n"
             "          report.checkin's \"member\" takes in 'liandong publish --json'\n"
             "  show    prints the details, or \"erased\"\n"
             "  erase   destroys the key: prints \"erased\" (or \"already erased\")\n"
             "\n"
             "  --control EP      the node's control endpoint\n"
             "  --name N          the person's name (required for seal)\n"
             "  --phone P, --unit U, --note T   optional details\n"
             "  --commitment C    the commitment, as seal printed it\n"
             "  --sealed B64      the sealed person, as seal printed it\n"
             "  --json            one JSON object\n"
             "  --timeout MS      wait this long for the node (default %d)\n"
             "\n"
             "Exit codes: 0 done (show: details or erased); 64 usage; 65 bad input;\n"
             "66 the node never held this person; 69 no node answers; 74 store failed.\n",
             LD_CONNECT_TIMEOUT_MS);
}

//  Copies a flag's value into a field of the person; false (after saying
//  why) if it does not fit.
static bool
s_field (const char *flag, const char *value, char *field, size_t size)
{
    if (strlen (value) >= size) {
        ld_cli_error ("%s is longer than %zu bytes", flag, size - 1);
        return false;
    }
    memcpy (field, value, strlen (value) + 1);
    return true;
}

//  Parses the flags after `member VERB`. Returns -1 to go on, else the
//  exit code.
static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option long_options[] = {
        {"control", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"phone", required_argument, NULL, 'p'},
        {"unit", required_argument, NULL, 'u'},
        {"note", required_argument, NULL, 'o'},
        {"commitment", required_argument, NULL, 'm'},
        {"sealed", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    ld_person_t *person = &options->person;
    while ((opt = getopt_long (argc, argv, "c:n:p:u:o:m:s:jt:h", long_options, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
            case 'c':
                options->control = optarg;
                break;
            case 'n':
                ok = s_field ("--name", optarg, person->name, sizeof person->name);
                break;
            case 'p':
                ok = s_field ("--phone", optarg, person->phone, sizeof person->phone);
                break;
            case 'u':
                ok = s_field ("--unit", optarg, person->unit, sizeof person->unit);
                break;
            case 'o':
                ok = s_field ("--note", optarg, person->note, sizeof person->note);
                break;
            case 'm':
                options->commitment = optarg;
                break;
            case 's':
                options->sealed = optarg;
                break;
            case 'j':
                options->json = true;
                break;
            case 't':
                ok = ld_connect_number ("--timeout", optarg, 1, 600000, &options->timeout);
                break;
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
        if (!ok)
            return EX_USAGE;
    }
    if (!options->control || optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    return -1;
}

//  One round trip; NULL after saying why (*code_p the exit code).
static ld_control_reply_t *
s_call (const s_options_t *options, const ld_control_request_t *request, int *code_p)
{
    char err[512];
    zsock_t *sock = NULL;
    ld_status_t rc = ld_connect_control (options->control, &sock, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        *code_p = rc == LD_ERR_USAGE ? EX_USAGE : EX_UNAVAILABLE;
        return NULL;
    }
    ld_control_reply_t *reply =
        ld_connect_control_call (sock, request, (int) options->timeout, err, sizeof err);
    zsock_destroy (&sock);
    if (!reply) {
        ld_cli_error ("%s", err);
        *code_p = EX_UNAVAILABLE;
        return NULL;
    }
    if (reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_ERROR) {
        ld_status_t status = ld_status_from_name (reply->error->status);
        ld_cli_error ("%s", reply->error->reason);
        *code_p = ld_cli_exit_code (status);
        ld_control_reply_free (&reply);
        return NULL;
    }
    return reply;
}

static int
s_print_json (json_t *object)
{
    if (!object)
        return EX_SOFTWARE;
    json_dumpf (object, stdout, JSON_COMPACT);
    fputc ('\n', stdout);
    json_decref (object);
    return EX_OK;
}

//  --------------------------------------------------------------------------
//  seal

static int
s_seal (const s_options_t *options)
{
    if (!*options->person.name) {
        ld_cli_error ("seal needs --name");
        return EX_USAGE;
    }
    uint8_t *person = NULL;
    size_t size = 0;
    char err[256];
    ld_status_t rc = ld_person_pack (&options->person, &person, &size, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return rc == LD_ERR_NOMEM ? EX_OSERR : EX_DATAERR;
    }
    Liandong__Sync__Seal seal = LIANDONG__SYNC__SEAL__INIT;
    seal.tag = 1;
    seal.person.data = person;
    seal.person.len = size;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_SEAL;
    request.seal = &seal;
    int code = EX_OK;
    ld_control_reply_t *reply = s_call (options, &request, &code);
    sodium_memzero (person, size);
    free (person);
    if (!reply)
        return code;
    ld_sealed_person_t sealed;
    if (reply->kind_case != LIANDONG__SYNC__CONTROL_REPLY__KIND_SEALED
        || ld_sealed_person_decode (reply->sealed->sealed_person.data,
                                    reply->sealed->sealed_person.len, &sealed, err, sizeof err)
               != LD_OK) {
        ld_cli_error ("the node did not answer with a sealed person");
        ld_control_reply_free (&reply);
        return EX_PROTOCOL;
    }
    const ProtobufCBinaryData *bytes = &reply->sealed->sealed_person;
    char text[S_SEALED_TEXT_MAX];
    sodium_bin2base64 (text, sizeof text, bytes->data, bytes->len,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (options->json) {
        char commitment[LD_ID_TEXT_BYTES];
        ld_id_to_text (sealed.commitment, commitment);
        code = s_print_json (json_pack ("{s:s, s:s, s:o*}", "commitment", commitment,
                                        "sealedPerson", text, "member",
                                        ld_sealed_person_to_json (bytes->data, bytes->len)));
    }
    else
        printf ("%s\n", text);
    ld_control_reply_free (&reply);
    return code;
}

//  --------------------------------------------------------------------------
//  show

static int
s_print_person (const char *commitment, const ld_person_t *person, bool json)
{
    if (json)
        return s_print_json (json_pack (
            "{s:s, s:s, s:s*, s:s*, s:s*}", "commitment", commitment, "name", person->name, "phone",
            *person->phone ? person->phone : NULL, "unit", *person->unit ? person->unit : NULL,
            "note", *person->note ? person->note : NULL));
    static const char *const columns[] = {"field", "value"};
    ld_table_t *table = ld_table_new ("member", columns, 2);
    if (!table)
        return EX_SOFTWARE;
    const char *rows[][2] = {
        {"commitment", commitment},
        {"name", person->name},
        {"phone", *person->phone ? person->phone : "-"},
        {"unit", *person->unit ? person->unit : "-"},
        {"note", *person->note ? person->note : "-"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ld_table_add (table, rows[i]);
    ld_table_print (table, stdout, false);
    ld_table_destroy (&table);
    return EX_OK;
}

static int
s_show (const s_options_t *options)
{
    if (!options->commitment == !options->sealed) {
        ld_cli_error ("show needs one of --commitment and --sealed");
        return EX_USAGE;
    }
    Liandong__Sync__Open open = LIANDONG__SYNC__OPEN__INIT;
    open.tag = 1;
    uint8_t commitment[LD_COMMITMENT_BYTES];
    uint8_t sealed_bytes[LD_SEALED_PERSON_MAX];
    char err[256];
    if (options->commitment) {
        if (ld_id_from_text (options->commitment, commitment) != LD_OK) {
            ld_cli_error ("--commitment '%s' is not blake2b:<base64url>", options->commitment);
            return EX_USAGE;
        }
        open.has_commitment = 1;
        open.commitment.data = commitment;
        open.commitment.len = sizeof commitment;
    }
    else {
        size_t size = 0;
        ld_sealed_person_t decoded;
        if (!ld_base64url_valid (options->sealed, strlen (options->sealed))
            || sodium_base642bin (sealed_bytes, sizeof sealed_bytes, options->sealed,
                                  strlen (options->sealed), NULL, &size, NULL,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING)
                   != 0
            || ld_sealed_person_decode (sealed_bytes, size, &decoded, err, sizeof err) != LD_OK) {
            ld_cli_error ("--sealed is not a sealed person in base64url");
            return EX_DATAERR;
        }
        memcpy (commitment, decoded.commitment, sizeof commitment);
        open.has_sealed_person = 1;
        open.sealed_person.data = sealed_bytes;
        open.sealed_person.len = size;
    }
    char commitment_text[LD_ID_TEXT_BYTES];
    ld_id_to_text (commitment, commitment_text);
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_OPEN;
    request.open = &open;
    int code = EX_OK;
    ld_control_reply_t *reply = s_call (options, &request, &code);
    if (!reply)
        return code;
    const Liandong__Sync__Opened *opened = reply->opened;
    if (reply->kind_case != LIANDONG__SYNC__CONTROL_REPLY__KIND_OPENED) {
        ld_cli_error ("the node did not answer the open request");
        code = EX_PROTOCOL;
    }
    else if (opened->has_erased && opened->erased) {
        if (options->json)
            code =
                s_print_json (json_pack ("{s:s, s:b, s:I}", "commitment", commitment_text, "erased",
                                         1, "erasedMs", (json_int_t) opened->erased_ms));
        else
            printf ("erased\n");
    }
    else {
        ld_person_t *person = sodium_malloc (sizeof *person);
        if (!person)
            code = EX_OSERR;
        else if (!opened->has_person
                 || ld_person_decode (opened->person.data, opened->person.len, person, err,
                                      sizeof err)
                        != LD_OK) {
            ld_cli_error ("the node answered with details that do not decode");
            code = EX_PROTOCOL;
        }
        else
            code = s_print_person (commitment_text, person, options->json);
        if (person)
            sodium_free (person);
        if (opened->has_person)
            sodium_memzero (opened->person.data, opened->person.len);
    }
    ld_control_reply_free (&reply);
    return code;
}

//  --------------------------------------------------------------------------
//  erase

static int
s_erase (const s_options_t *options)
{
    uint8_t commitment[LD_COMMITMENT_BYTES];
    if (!options->commitment || ld_id_from_text (options->commitment, commitment) != LD_OK) {
        ld_cli_error ("erase needs --commitment blake2b:<base64url>");
        return EX_USAGE;
    }
    Liandong__Sync__Erase erase = LIANDONG__SYNC__ERASE__INIT;
    erase.tag = 1;
    erase.commitment.data = commitment;
    erase.commitment.len = sizeof commitment;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_ERASE;
    request.erase = &erase;
    int code = EX_OK;
    ld_control_reply_t *reply = s_call (options, &request, &code);
    if (!reply)
        return code;
    if (reply->kind_case != LIANDONG__SYNC__CONTROL_REPLY__KIND_ERASED) {
        ld_cli_error ("the node did not answer the erase request");
        code = EX_PROTOCOL;
    }
    else if (options->json)
        code = s_print_json (json_pack ("{s:s, s:b, s:b}", "commitment", options->commitment,
                                        "erased", 1, "already", reply->erased->already));
    else
        printf ("%s\n", reply->erased->already ? "already erased" : "erased");
    ld_control_reply_free (&reply);
    return code;
}

int
ld_cmd_member (int argc, char **argv)
{
    if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
        s_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? EX_USAGE : EX_OK;
    }
    const char *verb = argv[1];
    int (*run) (const s_options_t *) = NULL;
    if (strcmp (verb, "seal") == 0)
        run = s_seal;
    else if (strcmp (verb, "show") == 0)
        run = s_show;
    else if (strcmp (verb, "erase") == 0)
        run = s_erase;
    else {
        ld_cli_error ("unknown member command '%s'; see 'liandong member --help'", verb);
        return EX_USAGE;
    }
    //  The details pass through this struct: guarded memory, wiped on free.
    s_options_t *options = sodium_malloc (sizeof *options);
    if (!options)
        return EX_OSERR;
    memset (options, 0, sizeof *options);
    options->timeout = LD_CONNECT_TIMEOUT_MS;
    int code = s_parse (argc - 1, argv + 1, options);
    if (code < 0)
        code = run (options);
    sodium_free (options);
    return code;
}
