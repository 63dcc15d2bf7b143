/*  cmd_status.c -- `liandong status`: what a node knows of itself.

    One NodeStatus round trip on the node's control socket: its key, the
    level and org paths its certificates give it (from the node's fold of
    the trust feeds), its own feed's head, how much of it the broker has
    acknowledged, and whether it stopped signing for good.

    Exit codes: 0 answered; 64 usage; 69 no node answers at --control.
*/
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "ld_cli.h"
#include "ld_connect.h"
#include "ld_crypto.h"
#include "ld_table.h"

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: liandong status --control ipc://PATH [--json] [--timeout MS]\n"
                  "\n"
                  "Asks a node what it knows of itself: its key, its level and org paths (as\n"
                  "its certificates give them), its own feed's head, the highest seq its\n"
                  "broker acknowledged, and why it stopped signing, if it did.\n"
                  "\n"
                  "  --control EP    the node's control endpoint\n"
                  "  --json          one JSON object\n"
                  "  --timeout MS    wait this long for the node (default 5000)\n"
                  "\n"
                  "Exit codes: 0 answered; 64 usage; 69 no node answers.\n");
}

static int
s_print (const Liandong__Sync__NodeStatus *status, bool json)
{
    char key[LD_KEY_TEXT_BYTES] = "?";
    if (status->key.len == LD_KEY_BYTES)
        ld_key_to_text (status->key.data, key);
    if (json) {
        json_t *paths = json_array ();
        for (size_t i = 0; i < status->n_paths; i++)
            json_array_append_new (paths, json_string (status->paths[i]));
        json_t *object =
            json_pack ("{s:s, s:s?, s:o, s:I, s:I, s:s?, s:b, s:s}", "key", key, "level",
                       status->level, "paths", paths, "headSeq", (json_int_t) status->head_seq,
                       "ackedSeq", (json_int_t) status->acked_seq, "dead", status->dead,
                       "restoring", status->restoring, "broker", status->broker);
        if (!object)
            return EX_SOFTWARE;
        json_dumpf (object, stdout, JSON_COMPACT);
        fputc ('\n', stdout);
        json_decref (object);
        return EX_OK;
    }
    char head[24], acked[24], paths[1024] = "";
    snprintf (head, sizeof head, "%" PRIu64, status->head_seq);
    snprintf (acked, sizeof acked, "%" PRIu64, status->acked_seq);
    size_t used = 0;
    for (size_t i = 0; i < status->n_paths && used < sizeof paths; i++)
        used += (size_t) snprintf (paths + used, sizeof paths - used, "%s%s", i ? " " : "",
                                   status->paths[i]);
    static const char *const columns[] = {"field", "value"};
    ld_table_t *table = ld_table_new ("status", columns, 2);
    if (!table)
        return EX_SOFTWARE;
    const char *rows[][2] = {
        {"key", key},
        {"level", status->level ? status->level : "(no certificate known)"},
        {"paths", *paths ? paths : "-"},
        {"head seq", head},
        {"acked seq", acked},
        {"broker", status->broker},
        {"restoring", status->restoring ? "yes" : "no"},
        {"dead", status->dead ? status->dead : "no"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ld_table_add (table, rows[i]);
    ld_table_print (table, stdout, false);
    ld_table_destroy (&table);
    return EX_OK;
}

int
ld_cmd_status (int argc, char **argv)
{
    static const struct option options[] = {
        {"control", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *control = NULL;
    bool json = false;
    uint64_t timeout = LD_CONNECT_TIMEOUT_MS;
    int opt;
    while ((opt = getopt_long (argc, argv, "c:jt:h", options, NULL)) != -1) {
        switch (opt) {
            case 'c':
                control = optarg;
                break;
            case 'j':
                json = true;
                break;
            case 't':
                if (!ld_connect_number ("--timeout", optarg, 1, 600000, &timeout))
                    return EX_USAGE;
                break;
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (!control || optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    char err[512];
    zsock_t *sock = NULL;
    ld_status_t rc = ld_connect_control (control, &sock, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return rc == LD_ERR_USAGE ? EX_USAGE : EX_UNAVAILABLE;
    }
    Liandong__Sync__NodeStatusRequest status = LIANDONG__SYNC__NODE_STATUS_REQUEST__INIT;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_STATUS;
    request.status = &status;
    ld_control_reply_t *reply =
        ld_connect_control_call (sock, &request, (int) timeout, err, sizeof err);
    zsock_destroy (&sock);
    if (!reply) {
        ld_cli_error ("%s", err);
        return EX_UNAVAILABLE;
    }
    int code = EX_PROTOCOL;
    if (reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_STATUS)
        code = s_print (reply->status, json);
    else
        ld_cli_error ("the node did not answer with its status");
    ld_control_reply_free (&reply);
    return code;
}
