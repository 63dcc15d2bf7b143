/*  ld_scenario.h -- plays the seed scenario (deploy/scenario/wudang.json)
    on a local federation, through the real CLI and sockets.

    The player makes every identity, starts a --trust broker and a node per
    office as child processes (each node once its certificate is stored),
    and then drives `liandong cert|meeting|task|report|agreement|wish|
    incident|amend|member|publish` as child processes against the nodes'
    control sockets, exactly as the users would. Deadlines and dates in the
    scenario are relative to the moment it is played ("+7d", "-2d").

    Bulk parts (the article's 75 paired units, 190 volunteer teams, 357
    practical matters, 47 grid party groups) go through `liandong publish
    --json -`, one process per office and batch, with NDJSON on its stdin.
*/
#ifndef LD_SCENARIO_H_INCLUDED
#define LD_SCENARIO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ld_spawn.h"

typedef struct _ld_scenario_t ld_scenario_t;

//  Loads the scenario file; NULL with err on a file that cannot be read or
//  does not have the expected shape.
ld_scenario_t *ld_scenario_load (const char *path, char *err, size_t err_size);

//  Stops every process the scenario started and frees it. NULL-safe.
void ld_scenario_destroy (ld_scenario_t **self_p);

//  Plays the scenario in dir (identities, data dirs, logs, ipc sockets),
//  with "now" as the origin of relative dates. Returns 0, or a sysexits
//  code after printing why on stderr. Processes stay running (queries
//  follow) until ld_scenario_stop.
int ld_scenario_play (ld_scenario_t *self, const char *dir, int64_t now_ms);

//  The broker's --listen endpoint, its public key file, and the
//  supervisor's secret key file, for queries after the play. Borrowed.
const char *ld_scenario_broker (ld_scenario_t *self);
const char *ld_scenario_broker_key (ld_scenario_t *self);
const char *ld_scenario_supervisor_identity (ld_scenario_t *self);
const char *ld_scenario_root_pub (ld_scenario_t *self);

//  The control endpoint of an office's node (ipc://...), or NULL.
const char *ld_scenario_control (ld_scenario_t *self, const char *slug);

//  How many events the play published, how many CLI commands it ran, and
//  how many of the events lie under resolution/ (what a supervisor
//  following resolution/ sees).
void ld_scenario_counts (ld_scenario_t *self, size_t *events, size_t *commands,
                         size_t *resolution_events);

//  Stops every process; returns 0 if all stopped cleanly.
int ld_scenario_stop (ld_scenario_t *self);

//  After a play: waits (at most 30 s) until every street broker's link to
//  the district's broker is in step (a round found nothing to move), then
//  prints the federation as a table to out: each broker's org path, the
//  events and feeds it holds, and its link. 0, or an exit code.
int ld_scenario_federation (ld_scenario_t *self, FILE *out);

#endif
