/*  cmd_action.c -- the action commands: `liandong meeting|task|report|
    agreement|wish|incident VERB ...`, `liandong amend`, `liandong withdraw`.

    ld_action.c turns the command line into an event type, a topic kind and
    a payload; here the node does the rest, as for `publish`: one Author
    request on its control socket, signed, committed and (unless --no-wait)
    answered once the broker acknowledged, refused, or did not answer in
    --timeout. The topic is KIND/PATH, PATH being --path or else the node's
    own first certified org path (NodeStatus, as `cert revoke` does).

    The node checks the authority table before it signs: a level that may
    not emit the type (forbidden-type) or a topic outside its path
    (outside-path) is refused at once and never enters the feed, so an
    honest mistake costs nothing.

    Exit codes (as publish): 0 acknowledged (committed with --no-wait), 64
    usage, 65 refused (the rule on stderr), 66 a key file missing, 69 node
    not reachable, 75 queued or awaiting a certificate.
*/
#include <czmq.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "ld_action.h"
#include "ld_cli.h"
#include "ld_connect.h"
#include "ld_crypto.h"
#include "ld_event.h"

//  Prints the outcome as publish does; returns its exit code.
static int
s_outcome (const ld_action_t *action, const char *topic, const Liandong__Sync__Authored *authored)
{
    const char *status = authored->status;
    int code = EX_DATAERR; //  "refused", or a status this build does not know
    if (streq (status, "acknowledged") || streq (status, "committed"))
        code = EX_OK;
    else if (streq (status, "queued") || streq (status, "awaiting-certificate"))
        code = EX_TEMPFAIL;
    bool has_id = authored->has_id && authored->id.len == LD_ID_BYTES && authored->has_seq;
    char id[LD_ID_TEXT_BYTES] = "";
    if (has_id)
        ld_id_to_text (authored->id.data, id);
    if (action->json) {
        json_t *line = json_pack ("{s:s, s:s}", "type", action->type, "topic", topic);
        if (line && has_id) {
            json_object_set_new (line, "id", json_string (id));
            json_object_set_new (line, "seq", json_integer ((json_int_t) authored->seq));
        }
        if (line)
            json_object_set_new (line, "status", json_string (status));
        if (line && authored->reason && code != EX_OK)
            json_object_set_new (line, "reason", json_string (authored->reason));
        char *text = line ? json_dumps (line, JSON_COMPACT) : NULL;
        if (text)
            printf ("%s\n", text);
        free (text);
        json_decref (line);
    }
    else if (has_id && code != EX_DATAERR)
        printf ("%s %" PRIu64 "\n", id, authored->seq);
    if (code == EX_TEMPFAIL)
        ld_cli_error ("%s: %s", status,
                      authored->reason ? authored->reason : "not acknowledged yet");
    else if (code == EX_DATAERR)
        ld_cli_error ("refused: %s", authored->reason ? authored->reason : status);
    return code;
}

static int
s_author (const ld_action_t *action)
{
    zsock_t *sock = NULL;
    char err[512], path[LD_TOPIC_MAX + 1];
    ld_status_t rc = ld_connect_control (action->control, &sock, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return rc == LD_ERR_NOT_FOUND ? EX_UNAVAILABLE : EX_USAGE;
    }
    int code = EX_OK;
    if (action->path)
        snprintf (path, sizeof path, "%s", action->path);
    else
        code =
            ld_connect_node_path (sock, (int) action->timeout_ms, action->kind, path, sizeof path);
    char topic[LD_ACTION_KIND_MAX + LD_TOPIC_MAX + 2];
    snprintf (topic, sizeof topic, "%s/%s", action->kind, path);
    if (code == EX_OK && ld_topic_check (topic, strlen (topic)) != LD_OK) {
        ld_cli_error ("topic '%s' is longer than %d bytes: pass a shorter --path", topic,
                      LD_TOPIC_MAX);
        code = EX_USAGE;
    }
    if (code == EX_OK) {
        ld_control_reply_t *reply = NULL;
        code = ld_connect_author (sock, topic, action->type, action->payload, action->payload_size,
                                  action->wait, action->timeout_ms, &reply);
        if (code == EX_OK)
            code = s_outcome (action, topic, reply->authored);
        ld_control_reply_free (&reply);
    }
    zsock_destroy (&sock);
    return code;
}

int
ld_cmd_action (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    ld_action_t action;
    int code = ld_action_parse (argc, argv, &action);
    if (code != EX_OK)
        return code < 0 ? EX_OK : code;
    code = s_author (&action);
    ld_action_clear (&action);
    fflush (stdout);
    return code;
}
