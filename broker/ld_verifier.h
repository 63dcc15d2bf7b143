/*  ld_verifier.h -- a thread that decodes and verifies batches of envelopes.

    Verification is the dominant cost of a broker (an Ed25519 verify is
    ~37 us here against ~5 us to store), so the broker spreads it over one
    verifier per core. A verifier is a czmq actor: the broker sends it a job
    (a pointer, "JOB" + p), it decodes and verifies every envelope of the job
    and sends the same pointer back ("p"). The job belongs to the broker; the
    verifier writes only the job's result arrays, and only between receiving
    and returning it.
*/
#ifndef LD_VERIFIER_H_INCLUDED
#define LD_VERIFIER_H_INCLUDED

#include <czmq.h>
#include <stddef.h>

#include "ld_event.h"
#include "ld_status.h"

#define LD_VERIFIER_REASON_MAX 384

//  One batch to verify. The broker fills the inputs; the verifier fills
//  events[i] (a verified event, or NULL), status[i] and reasons[i].
typedef struct {
    //  inputs
    const uint8_t *const *envelopes;
    const size_t *sizes;
    size_t count;
    size_t envelope_max;
    //  outputs
    ld_event_t **events;
    ld_status_t *status;
    char (*reasons)[LD_VERIFIER_REASON_MAX];
} ld_verify_job_t;

//  Decodes and verifies every envelope of the job in the calling thread.
void ld_verify_job_run (ld_verify_job_t *job);

//  The actor function: zactor_new (ld_verifier_actor, NULL).
void ld_verifier_actor (zsock_t *pipe, void *args);

#endif
