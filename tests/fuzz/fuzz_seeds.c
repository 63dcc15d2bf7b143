/*  fuzz_seeds.c -- writes valid signed envelopes into a directory, as the
    seed corpus of fuzz_decode.

    Seeds are made by the library itself at test time, so they stay valid
    when the wire format grows; tests/fuzz/corpus/ keeps a few committed
    ones as well. The identity comes from a fixed seed and the times are
    fixed, so the output is the same on every run.

    usage: fuzz_seeds DIR
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ld_crypto.h"
#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_status.h"

#define S_PATH_BYTES 4096
#define S_ERR_BYTES  256
#define S_TIME_MS    1700000000000LL //  a fixed author time: seeds are reproducible

//  One seed: its file name and what goes in the body.
typedef struct {
    const char *name;
    const char *topic;
    const char *type;
    const char *note; //  note text, or NULL for a raw payload
    const char *raw;  //  raw payload bytes for an unknown type, or NULL
} s_seed_t;

static const s_seed_t s_seeds[] = {
    {"note-seq1", "resolution/wudang/longguanglu/", "note", "first joint meeting", NULL},
    {"note-seq2", "resolution/wudang/longguanglu/", "note", "联席会议议定事项：修缮龙广路路灯",
     NULL},
    {"note-empty", "a/", "note", "", NULL},
    {"unknown-type", "task/baiyun/", "task.assign", NULL,
     "\x0a\x03"
     "abc"},
    {"no-payload", "incident/guanshanhu/grid-7/", "incident.close", NULL, NULL},
};

#define S_SEED_COUNT (sizeof s_seeds / sizeof s_seeds[0])

static int
s_write (const char *dir, const char *name, const ld_event_t *event)
{
    char path[S_PATH_BYTES];
    snprintf (path, sizeof path, "%s/%s.bin", dir, name);
    size_t size;
    const uint8_t *bytes = ld_event_envelope (event, &size);
    FILE *file = fopen (path, "wb");
    if (!file) {
        fprintf (stderr, "fuzz_seeds: cannot create '%s': %s\n", path, strerror (errno));
        return -1;
    }
    int rc = fwrite (bytes, 1, size, file) == size ? 0 : -1;
    if (fclose (file) != 0)
        rc = -1;
    if (rc != 0)
        fprintf (stderr, "fuzz_seeds: cannot write '%s'\n", path);
    return rc;
}

//  Signs seed i as event seq of identity, chained to prev.
static ld_status_t
s_sign (ld_identity_t *identity, const s_seed_t *seed, uint64_t seq, const uint8_t *prev,
        ld_event_t **event_p, char *err, size_t err_size)
{
    uint8_t *payload = NULL;
    size_t payload_size = 0;
    if (seed->note) {
        ld_status_t rc = ld_payload_note (seed->note, &payload, &payload_size);
        if (rc != LD_OK)
            return rc;
    }
    const uint8_t *bytes = payload;
    if (seed->raw) {
        bytes = (const uint8_t *) seed->raw;
        payload_size = strlen (seed->raw);
    }
    ld_status_t rc = ld_event_sign (identity, seq, prev, S_TIME_MS + (int64_t) seq, seed->topic,
                                    seed->type, bytes, payload_size, event_p, err, err_size);
    free (payload);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    if (ld_crypto_init () != 0) {
        fprintf (stderr, "fuzz_seeds: cannot initialise libsodium\n");
        return 1;
    }
    if (mkdir (dir, 0755) != 0 && errno != EEXIST) {
        fprintf (stderr, "fuzz_seeds: cannot create '%s': %s\n", dir, strerror (errno));
        return 1;
    }
    uint8_t key_seed[LD_SEED_BYTES];
    memset (key_seed, 0x5a, sizeof key_seed);
    ld_identity_t *identity = ld_identity_new_from_seed (key_seed);
    if (!identity) {
        fprintf (stderr, "fuzz_seeds: cannot create an identity\n");
        return 1;
    }
    int rc = 0;
    uint8_t prev[LD_ID_BYTES];
    for (size_t i = 0; i < S_SEED_COUNT && rc == 0; i++) {
        uint64_t seq = i + 1;
        ld_event_t *event = NULL;
        char err[S_ERR_BYTES] = "";
        ld_status_t status =
            s_sign (identity, &s_seeds[i], seq, seq == 1 ? NULL : prev, &event, err, sizeof err);
        if (status != LD_OK) {
            fprintf (stderr, "fuzz_seeds: cannot sign '%s': %s\n", s_seeds[i].name,
                     err[0] ? err : ld_status_text (status));
            rc = 1;
            break;
        }
        memcpy (prev, ld_event_id (event), LD_ID_BYTES);
        if (s_write (dir, s_seeds[i].name, event) != 0)
            rc = 1;
        ld_event_destroy (&event);
    }
    ld_identity_destroy (&identity);
    return rc;
}
