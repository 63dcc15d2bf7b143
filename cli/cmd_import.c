/*  cmd_import.c -- `liandong import FILE (--control ipc://NODE | --broker
    tcp://...)`: bring events signed elsewhere (`cert ... --offline --out
    FILE`) to a broker.

    FILE is an envelope file (ld_offline.h): every envelope is decoded and
    verified here first. With --broker the events go in one Publish and the
    broker's Ack is the verdict; with --control the node relays them to its
    broker (Relay) and answers with the verdict (Relayed). Nothing enters a
    node's own feed. Importing a file twice is harmless: the broker
    acknowledges events it holds already.

    Prints one line per event: "<id> <seq> stored" or "<id> <seq> <status>:
    <reason>". Exit codes: 0 all stored (or already held), 64 usage, 65 some
    refused for good (a "gap": the file holding the earlier seqs must be
    imported first), 66 FILE missing, 69 node or broker unreachable, 75
    some to retry (awaiting-certificate, disk-full, no verdict in time).
*/
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_cli.h"
#include "ld_connect.h"
#include "ld_offline.h"
#include "ld_sync.h"

#define S_TIMEOUT_MAX 600000
#define S_GRACE_MS    2000
#define S_BATCH       1

typedef struct {
    const char *file, *control, *broker, *broker_key, *identity;
    uint32_t timeout_ms;
} s_options_t;

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: liandong import FILE (--control ipc://NODE | --broker tcp://HOST:PORT\n"
                  "                       [--broker-key PUB --identity SECRET]) [--timeout MS]\n"
                  "\n"
                  "Sends the events of FILE (an envelope file, as `cert ... --offline --out`\n"
                  "writes: each envelope after its varint length; one bare envelope also\n"
                  "works) to the broker, directly or relayed by the node, and prints per\n"
                  "event '<id> <seq> stored' or '<id> <seq> <status>: <reason>'.\n"
                  "\n"
                  "Exit codes: 0 all stored (or already held), 64 usage, 65 some refused for\n"
                  "good, 66 FILE missing, 69 node or broker not reachable, 75 some to retry\n"
                  "(awaiting certificate, disk full, no verdict in time).\n");
}

//  Prints the verdict per event; returns the exit code.
static int
s_report (ld_event_t **events, size_t count, Liandong__Sync__Refusal **refusals,
          size_t refusal_count)
{
    int code = EX_OK;
    for (size_t i = 0; i < count; i++) {
        const Liandong__Sync__Refusal *refusal = NULL;
        for (size_t r = 0; r < refusal_count; r++)
            if (refusals[r]->index == i)
                refusal = refusals[r];
        char id[LD_ID_TEXT_BYTES];
        ld_id_to_text (ld_event_id (events[i]), id);
        if (!refusal) {
            printf ("%s %" PRIu64 " stored\n", id, ld_event_seq (events[i]));
            continue;
        }
        bool retry = refusal->has_retry && refusal->retry;
        printf ("%s %" PRIu64 " %s: %s\n", id, ld_event_seq (events[i]), refusal->status,
                refusal->reason);
        if (streq (refusal->status, "gap") && refusal->has_needed_seq)
            ld_cli_error ("seq %" PRIu64 " needs seq %" PRIu64
                          " first: import the file that holds it",
                          ld_event_seq (events[i]), refusal->needed_seq);
        else
            ld_cli_error ("seq %" PRIu64 " %s: %s", ld_event_seq (events[i]),
                          retry ? "not stored yet, retry later" : "refused", refusal->reason);
        if (!retry)
            code = EX_DATAERR;
        else if (code == EX_OK)
            code = EX_TEMPFAIL;
    }
    return code;
}

static int
s_via_broker (const s_options_t *options, ld_event_t **events, size_t count,
              ProtobufCBinaryData *envelopes)
{
    zsock_t *sock = NULL;
    char err[512];
    int connected =
        ld_connect_broker_hello (options->broker, options->broker_key, options->identity, &sock);
    if (connected != 0)
        return connected;
    Liandong__Sync__Publish publish = LIANDONG__SYNC__PUBLISH__INIT;
    publish.batch = S_BATCH;
    publish.n_events = count;
    publish.events = envelopes;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    int code = EX_UNAVAILABLE;
    bool welcomed = false;
    int64_t deadline = zclock_mono () + options->timeout_ms;
    while (true) {
        int64_t left = deadline - zclock_mono ();
        ld_reply_t *reply =
            left > 0 ? ld_connect_broker_recv (sock, (int) left, err, sizeof err) : NULL;
        if (!reply) {
            if (welcomed) {
                ld_cli_error ("no verdict from the broker within %u ms; import again later",
                              options->timeout_ms);
                code = EX_TEMPFAIL;
            }
            else
                ld_cli_error ("broker not reachable at '%s'", options->broker);
            break;
        }
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_WELCOME && !welcomed) {
            welcomed = true;
            request.kind_case = LIANDONG__SYNC__REQUEST__KIND_PUBLISH;
            request.publish = &publish;
            ld_request_send (sock, &request);
        }
        else if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ACK
                 && reply->ack->batch == S_BATCH) {
            code = s_report (events, count, reply->ack->refusals, reply->ack->n_refusals);
            ld_reply_free (&reply);
            break;
        }
        else if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR) {
            ld_cli_error ("the broker refused the batch: %s: %s", reply->error->status,
                          reply->error->reason);
            code = EX_DATAERR;
            ld_reply_free (&reply);
            break;
        }
        ld_reply_free (&reply);
    }
    zsock_destroy (&sock);
    return code;
}

static int
s_via_node (const s_options_t *options, ld_event_t **events, size_t count,
            ProtobufCBinaryData *envelopes)
{
    zsock_t *sock = NULL;
    char err[512];
    ld_status_t rc = ld_connect_control (options->control, &sock, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return rc == LD_ERR_NOT_FOUND ? EX_UNAVAILABLE : EX_USAGE;
    }
    Liandong__Sync__Relay relay = LIANDONG__SYNC__RELAY__INIT;
    relay.tag = 1;
    relay.n_envelopes = count;
    relay.envelopes = envelopes;
    relay.has_timeout_ms = 1;
    relay.timeout_ms = options->timeout_ms;
    ld_control_request_t request = LIANDONG__SYNC__CONTROL_REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__CONTROL_REQUEST__KIND_RELAY;
    request.relay = &relay;
    ld_control_reply_t *reply = ld_connect_control_call (
        sock, &request, (int) (options->timeout_ms + S_GRACE_MS), err, sizeof err);
    int code;
    if (!reply) {
        ld_cli_error ("%s", err);
        code = EX_UNAVAILABLE;
    }
    else if (reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_RELAYED
             && reply->relayed->tag == relay.tag)
        code = s_report (events, count, reply->relayed->refusals, reply->relayed->n_refusals);
    else {
        ld_cli_error ("the node could not relay: %s",
                      reply->kind_case == LIANDONG__SYNC__CONTROL_REPLY__KIND_ERROR
                          ? reply->error->reason
                          : "unexpected reply");
        code = EX_DATAERR;
    }
    ld_control_reply_free (&reply);
    zsock_destroy (&sock);
    return code;
}

int
ld_cmd_import (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    static const struct option long_options[] = {
        {"control", required_argument, NULL, 'c'},
        {"broker", required_argument, NULL, 'b'},
        {"broker-key", required_argument, NULL, 'k'},
        {"identity", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    s_options_t options = {.timeout_ms = LD_CONNECT_TIMEOUT_MS};
    int opt;
    uint64_t number;
    while ((opt = getopt_long (argc, argv, "h", long_options, NULL)) != -1) {
        switch (opt) {
            case 'c':
                options.control = optarg;
                break;
            case 'b':
                options.broker = optarg;
                break;
            case 'k':
                options.broker_key = optarg;
                break;
            case 'i':
                options.identity = optarg;
                break;
            case 't':
                if (!ld_connect_number ("--timeout", optarg, 1, S_TIMEOUT_MAX, &number))
                    return EX_USAGE;
                options.timeout_ms = (uint32_t) number;
                break;
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (optind != argc - 1 || !options.control == !options.broker
        || (options.control && (options.broker_key || options.identity))) {
        s_usage (stderr);
        return EX_USAGE;
    }
    options.file = argv[optind];
    ld_event_t **events = NULL;
    size_t count = 0;
    char err[512];
    ld_status_t rc = ld_offline_read (options.file, &events, &count, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return ld_cli_exit_code (rc);
    }
    ProtobufCBinaryData *envelopes = calloc (count, sizeof *envelopes);
    if (!envelopes) {
        ld_offline_events_free (&events, count);
        return EX_OSERR;
    }
    for (size_t i = 0; i < count; i++)
        envelopes[i].data = (uint8_t *) ld_event_envelope (events[i], &envelopes[i].len);
    int code = options.broker ? s_via_broker (&options, events, count, envelopes)
                              : s_via_node (&options, events, count, envelopes);
    fflush (stdout);
    free (envelopes);
    ld_offline_events_free (&events, count);
    return code;
}
