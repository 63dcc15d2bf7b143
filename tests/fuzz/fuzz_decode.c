/*  fuzz_decode.c -- libFuzzer target: envelope bytes from a stranger.

    Feeds every input to ld_event_decode, then, when it decodes, to
    ld_event_verify, ld_event_dup, every accessor, the payload decoder and
    the JSON form that `liandong inspect` prints, and destroys everything.
    Sanitizers catch memory errors and undefined behaviour; the checks below
    catch broken promises of ld_event.h, which are our own mistakes and
    therefore abort (the fuzzer saves the input that did it).

    Run it longer than ctest does:
        build-asan/tests/fuzz/fuzz_decode -max_total_time=600 CORPUS_DIR
    (DEVELOPERS.md, "Fuzzing").
*/
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_crypto.h"
#include "ld_event.h"
#include "ld_payload.h"
#include "ld_pbjson.h"
#include "ld_status.h"

#define S_ERR_BYTES 256

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Aborts with a message when a promise of the library is broken.
static void
s_require (bool holds, const char *promise)
{
    if (!holds) {
        fprintf (stderr, "fuzz_decode: broken promise: %s\n", promise);
        abort ();
    }
}

//  Everything a caller may do with a decoded event, with the invariants
//  that ld_event.h states.
static void
s_exercise (const ld_event_t *event)
{
    bool valid = ld_event_verify (event) == LD_OK;

    size_t envelope_size, body_size, payload_size;
    const uint8_t *envelope = ld_event_envelope (event, &envelope_size);
    const uint8_t *body = ld_event_body (event, &body_size);
    const uint8_t *payload = ld_event_payload (event, &payload_size);
    s_require (envelope != NULL && envelope_size > 0, "an event keeps its envelope bytes");
    s_require (body != NULL || body_size == 0, "body bytes are present");
    s_require (payload != NULL || payload_size == 0, "payload bytes are present");

    uint8_t id[LD_ID_BYTES];
    ld_hash_id (body, body_size, id);
    s_require (memcmp (id, ld_event_id (event), LD_ID_BYTES) == 0,
               "the id is BLAKE2b-256 of the body bytes");

    s_require (ld_event_author (event) != NULL, "an event has an author");
    s_require (ld_event_signature (event) != NULL, "an event has a signature");
    s_require (ld_event_seq (event) >= 1, "seq starts at 1");
    s_require ((ld_event_prev (event) == NULL) == (ld_event_seq (event) == 1),
               "prev is absent exactly at seq 1");
    const char *topic = ld_event_topic (event);
    const char *type = ld_event_type (event);
    s_require (ld_topic_check (topic, strlen (topic)) == LD_OK, "a decoded topic is valid");
    s_require (ld_type_check (type, strlen (type)) == LD_OK, "a decoded type is valid");
    (void) ld_event_time_ms (event);

    if (ld_event_type_known (event)) {
        ProtobufCMessage *message = NULL;
        char err[S_ERR_BYTES] = "";
        ld_status_t rc = ld_payload_unpack (type, payload, payload_size, &message, err, sizeof err);
        s_require (rc == LD_OK, "a known payload type of a decoded event unpacks");
        protobuf_c_message_free_unpacked (message, NULL);
    }

    json_t *json = ld_event_to_json (event);
    s_require (json != NULL, "an event has a JSON form");
    char *text = json_dumps (json, JSON_COMPACT);
    s_require (text != NULL, "the JSON form serializes");
    free (text);
    json_decref (json);

    ld_event_t *copy = ld_event_dup (event);
    s_require (copy != NULL, "a decoded event duplicates");
    size_t copy_size;
    const uint8_t *copy_bytes = ld_event_envelope (copy, &copy_size);
    s_require (copy_size == envelope_size && memcmp (copy_bytes, envelope, copy_size) == 0,
               "a duplicate has the same envelope bytes");
    s_require (memcmp (ld_event_id (copy), ld_event_id (event), LD_ID_BYTES) == 0,
               "a duplicate has the same id");
    s_require ((ld_event_verify (copy) == LD_OK) == valid,
               "a duplicate verifies exactly when the original does");
    ld_event_destroy (&copy);
    s_require (copy == NULL, "destroy clears the pointer");
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    if (ld_crypto_init () != 0) {
        fprintf (stderr, "fuzz_decode: cannot initialise libsodium\n");
        abort ();
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    ld_event_t *event = NULL;
    char err[S_ERR_BYTES];
    memset (err, 0, sizeof err);
    ld_status_t rc = ld_event_decode (data, size, 0, &event, err, sizeof err);
    if (rc != LD_OK) {
        s_require (event == NULL, "a refused envelope yields no event");
        s_require (rc < LD_STATUS_COUNT, "a refusal is a known status");
        s_require (memchr (err, '\0', sizeof err) != NULL, "the error text is terminated");
        return 0;
    }
    s_require (event != NULL, "an accepted envelope yields an event");
    s_exercise (event);
    ld_event_destroy (&event);
    return 0;
}
