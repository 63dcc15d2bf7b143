/*  ld_verifier.c -- the verifier actor. See ld_verifier.h. */
#include "ld_verifier.h"

void
ld_verify_job_run (ld_verify_job_t *job)
{
    for (size_t i = 0; i < job->count; i++) {
        job->events[i] = NULL;
        job->reasons[i][0] = '\0';
        ld_status_t rc = ld_event_decode (job->envelopes[i], job->sizes[i], job->envelope_max,
                                          &job->events[i], job->reasons[i], LD_VERIFIER_REASON_MAX);
        if (rc == LD_OK && (rc = ld_event_verify (job->events[i])) != LD_OK) {
            ld_fail (job->reasons[i], LD_VERIFIER_REASON_MAX, rc, NULL);
            ld_event_destroy (&job->events[i]);
        }
        job->status[i] = rc;
    }
}

void
ld_verifier_actor (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break; //  interrupted
        char *command = zmsg_popstr (msg);
        bool stop = !command || streq (command, "$TERM");
        if (!stop && streq (command, "JOB")) {
            zframe_t *frame = zmsg_pop (msg);
            ld_verify_job_t *job = NULL;
            if (frame && zframe_size (frame) == sizeof job) {
                memcpy (&job, zframe_data (frame), sizeof job);
                ld_verify_job_run (job);
                zsock_send (pipe, "p", job);
            }
            zframe_destroy (&frame);
        }
        free (command);
        zmsg_destroy (&msg);
        if (stop)
            break;
    }
}
