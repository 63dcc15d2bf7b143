/*  ld_connect.h -- the CLI's connections: a node's control socket and a
    broker, each a DEALER from the socket factory, and one request/reply
    round trip with a deadline.
*/
#ifndef LD_CONNECT_H_INCLUDED
#define LD_CONNECT_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#include "ld_event.h"
#include "ld_status.h"
#include "ld_sync.h"

#define LD_CONNECT_TIMEOUT_MS 5000 //  default wait for an answer

//  A DEALER to a node's control endpoint (ipc://PATH). LD_ERR_NOT_FOUND if
//  the ipc socket file does not exist (no node there: exit 69), LD_ERR_USAGE
//  if the endpoint is not usable. *sock_p is the caller's.
ld_status_t ld_connect_control (const char *control, zsock_t **sock_p, char *err, size_t err_size);

//  Sends request and waits up to timeout_ms for one ControlReply; NULL if
//  none came (err says so) or it did not decode. The reply is the caller's
//  (ld_control_reply_free).
ld_control_reply_t *ld_connect_control_call (zsock_t *sock, const ld_control_request_t *request,
                                             int timeout_ms, char *err, size_t err_size);

//  The node's first certified org path (NodeStatus.paths[0]) into path,
//  for a topic <kind>/<path> when no --path was given. Returns 0, or the
//  exit code after printing why (64: the node knows no certified path yet).
int ld_connect_node_path (zsock_t *sock, int timeout_ms, const char *kind, char *path, size_t size);

//  One Author request (wait for the broker's verdict if wait), answered
//  within timeout_ms plus a grace. Returns 0 with *reply_p an Authored
//  reply the caller frees, or the exit code after printing why (69 no
//  answer, 65 an error reply).
int ld_connect_author (zsock_t *sock, const char *topic, const char *type, const uint8_t *payload,
                       size_t size, bool wait, uint32_t timeout_ms, ld_control_reply_t **reply_p);

//  A DEALER to a broker's --listen endpoint. With broker_key (a public key
//  file or text), CurveZMQ: the broker's key pinned, our pair from the
//  identity secret file (required then); without it, plain tcp (an --open
//  broker). Errors: ld_public_key_load's and ld_identity_load's,
//  LD_ERR_USAGE (broker_key without identity, or a bad endpoint).
ld_status_t ld_connect_broker (const char *endpoint, const char *broker_key, const char *identity,
                               zsock_t **sock_p, char *err, size_t err_size);

//  ld_connect_broker for a command, then a Hello (the caller reads the
//  Welcome). Returns 0, or the exit code after printing why (64 usage, 66
//  a key file missing, ...).
int ld_connect_broker_hello (const char *endpoint, const char *broker_key, const char *identity,
                             zsock_t **sock_p);

//  Called by ld_connect_catchup for each event, decoded and verified, with
//  its store seq and the broker's invalid mark (NULL if none). Non-zero
//  stops the catch-up (returned as the exit code).
typedef int (ld_connect_event_fn) (void *arg, const ld_event_t *event, uint64_t store_seq,
                                   const char *invalid);

//  Reads everything a broker holds under prefix ("" for all) by catch-up,
//  with credit, and hands each event to fn in store order. An event that
//  does not decode or verify is skipped and reported on stderr (the broker
//  verified it: something is wrong there). Returns 0, or the exit code
//  after printing why (69 no answer, ...).
int ld_connect_catchup (const char *endpoint, const char *broker_key, const char *identity,
                        const char *prefix, ld_connect_event_fn *fn, void *arg);

//  The same through a node (`--control ipc://NODE`): the node reads its
//  broker with its own key and forwards the chunks (Fetch/Fetched).
int ld_connect_catchup_control (const char *control, const char *prefix, ld_connect_event_fn *fn,
                                void *arg);

//  Waits up to timeout_ms for one Reply from a broker; NULL if none came
//  or it did not decode (err says which). The reply is the caller's.
ld_reply_t *ld_connect_broker_recv (zsock_t *sock, int timeout_ms, char *err, size_t err_size);

//  Parses a decimal in [min, max] for option name; prints the usage error.
bool ld_connect_number (const char *name, const char *text, uint64_t min, uint64_t max,
                        uint64_t *value);

#endif
