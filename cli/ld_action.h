/*  ld_action.h -- the action commands' table: every verb a user acts with
    (`liandong meeting convene`, `task accept`, `wish claim`, `amend`, ...),
    its event type, its topic kind and its options, and the parse of a
    command line into a signed-ready payload.

    Each verb is one row of a table; each option a row of its payload's
    option list (flag, proto3 JSON field, kind of value, rules). The parse
    turns the options into the payload's proto3 JSON object and ld_pbjson
    builds the message from it, so a new verb is one row and a new payload
    one option list, never a hand-written builder.

    Nothing here opens a socket: cmd_action.c asks the node for its path,
    hands the payload over and prints the outcome.
*/
#ifndef LD_ACTION_H_INCLUDED
#define LD_ACTION_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ld_limits.h"

#define LD_ACTION_KIND_MAX LD_TOPIC_SEGMENT_MAX //  bytes of a topic kind

//  One parsed action command, ready to be authored.
typedef struct {
    const char *type;                  //  event type, static
    char kind[LD_ACTION_KIND_MAX + 1]; //  first topic segment, without '/'
    const char *path;                  //  --path (argv), or NULL: the node's own
    const char *control;               //  --control (argv)
    bool json;                         //  --json
    bool wait;                         //  not --no-wait
    uint32_t timeout_ms;               //  --timeout
    uint8_t *payload;                  //  serialized payload, heap
    size_t payload_size;
} ld_action_t;

//  True if name is an action group (meeting, task, ..., amend, withdraw):
//  the subcommands main.c dispatches to ld_cmd_action.
bool ld_action_group_known (const char *name);

//  Parses an action command line. argv[0] is the group; groups with verbs
//  take the verb as argv[1]. On EX_OK, *action holds the request and its
//  payload (free it with ld_action_clear). Returns -1 if help was printed
//  on stdout (exit 0), else a sysexits code, having printed why on stderr:
//  64 usage (unknown verb or flag, a missing or malformed value), 66 a key
//  file that does not exist, 65 a payload past its limits.
int ld_action_parse (int argc, char **argv, ld_action_t *action);

//  Frees what ld_action_parse allocated; the struct may be parsed again.
void ld_action_clear (ld_action_t *action);

#endif
