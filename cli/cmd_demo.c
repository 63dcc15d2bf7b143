/*  cmd_demo.c -- `liandong demo`: the main job of the README's first command.

    Today it is the end-to-end self-check of the foundation: it creates the
    identities of a district root, a street and a community on disk, loads
    them back, has each sign a short feed of notes taken from the seed
    article, stores every feed in one group commit, closes and reopens the
    store, reads everything back, verifies each signature and each chain,
    and prints what it read. As brokers and nodes land, this command grows
    into the local district federation playing the seed scenario; its name
    and its place in the README stay.
*/
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_cli.h"
#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_store.h"
#include "ld_table.h"

#define S_NOTE_MAX 4 //  notes per speaker

typedef struct {
    const char *slug; //  directory name of its identity
    const char *name; //  display name
    const char *topic;
    const char *notes[S_NOTE_MAX];
} s_speaker_t;

//  Sample feeds, in the words of the seed article.
static const s_speaker_t s_speakers[] = {
    {"wudang",
     "乌当区",
     "note/wudang/",
     {"构建五级联动体系：街道大工委统筹、社区党建联合体协同、小区党支部主抓",
      "75家区属机关企事业单位党组织与社区党组织结对共建", NULL}},
    {"longguanglu",
     "龙广路街道",
     "note/wudang/longguanglu/",
     {"大工委联席会议：摆摊设点、占道经营、停车管理", "议定事项进行任务分解并实行跟踪督办",
      "垃圾杂物清运、环境绿化、噪音污染", NULL}},
    {"jinjiangyuan",
     "金江苑社区",
     "note/wudang/guanxilu/jinjiangyuan/",
     {"把12个小区党支部建在楼栋上", "今年累计收集民情民意10条，解决居民烦心事操心事10件", NULL}},
};

#define S_SPEAKER_COUNT (sizeof s_speakers / sizeof s_speakers[0])

typedef struct {
    ld_table_t *table;
    size_t read;
    size_t verified;
    ld_status_t failure;
} s_readback_t;

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: liandong demo [--dir DIR] [--keep] [--json]\n"
                  "\n"
                  "Runs the local district end to end in DIR (default: a new temporary\n"
                  "directory, removed afterwards unless --keep): identities for the district,\n"
                  "a street and a community; signed feeds; the store; read back and verified.\n");
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

static int64_t
s_now_ms (void)
{
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static const char *
s_speaker_name (const uint8_t *author, ld_identity_t *const *identities)
{
    for (size_t i = 0; i < S_SPEAKER_COUNT; i++)
        if (memcmp (author, ld_identity_public_key (identities[i]), LD_KEY_BYTES) == 0)
            return s_speakers[i].name;
    return "?";
}

typedef struct {
    s_readback_t *readback;
    ld_identity_t *const *identities;
} s_read_ctx_t;

static int
s_read_one (void *arg, const ld_stored_t *stored)
{
    uint64_t store_seq = stored->store_seq;
    s_read_ctx_t *ctx = arg;
    s_readback_t *rb = ctx->readback;
    rb->read++;
    ld_event_t *event = NULL;
    char err[256];
    ld_status_t rc = ld_event_decode (stored->envelope, stored->size, 0, &event, err, sizeof err);
    if (rc == LD_OK)
        rc = ld_event_verify (event);
    if (rc != LD_OK) {
        ld_cli_error ("store seq %llu does not verify: %s", (unsigned long long) store_seq,
                      ld_status_text (rc));
        rb->failure = rc;
        ld_event_destroy (&event);
        return 1;
    }
    rb->verified++;
    size_t payload_size;
    const uint8_t *payload = ld_event_payload (event, &payload_size);
    ProtobufCMessage *message = NULL;
    const char *text = "";
    //  Note.text is field 1 of the note payload; read it generically.
    if (ld_payload_unpack (ld_event_type (event), payload, payload_size, &message, NULL, 0)
        == LD_OK)
        text = *(const char **) ((const char *) message + message->descriptor->fields[0].offset);
    char store_seq_text[24], seq_text[24], id_text[LD_ID_TEXT_BYTES];
    snprintf (store_seq_text, sizeof store_seq_text, "%llu", (unsigned long long) store_seq);
    snprintf (seq_text, sizeof seq_text, "%llu", (unsigned long long) ld_event_seq (event));
    ld_id_to_text (ld_event_id (event), id_text);
    id_text[8 + 12] = '\0'; //  "blake2b:" and 12 characters are plenty on screen
    const char *row[] = {store_seq_text, s_speaker_name (ld_event_author (event), ctx->identities),
                         seq_text,       ld_event_topic (event),
                         text,           id_text};
    ld_table_add (rb->table, row);
    if (message)
        protobuf_c_message_free_unpacked (message, NULL);
    ld_event_destroy (&event);
    return 0;
}

//  Creates each speaker's identity on disk and loads it back.
static int
s_make_identities (const char *dir, ld_identity_t **identities)
{
    char err[512], path[PATH_MAX + 64];
    for (size_t i = 0; i < S_SPEAKER_COUNT; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, s_speakers[i].slug);
        ld_identity_t *fresh = ld_identity_new ();
        if (!fresh) {
            ld_cli_error ("cannot allocate secure memory");
            return EX_OSERR;
        }
        ld_status_t rc = ld_identity_save (fresh, path, false, err, sizeof err);
        ld_identity_destroy (&fresh);
        if (rc != LD_OK) {
            ld_cli_error ("%s", err);
            return ld_cli_exit_code (rc);
        }
        snprintf (path, sizeof path, "%s/%s/%s", dir, s_speakers[i].slug, LD_IDENTITY_SECRET);
        rc = ld_identity_load (path, &identities[i], err, sizeof err);
        if (rc != LD_OK) {
            ld_cli_error ("%s", err);
            return ld_cli_exit_code (rc);
        }
    }
    return EX_OK;
}

//  Signs every speaker's feed and stores all of it in one group commit.
static int
s_sign_and_store (ld_store_t *store, ld_identity_t **identities, size_t *stored)
{
    ld_event_t *events[S_SPEAKER_COUNT * S_NOTE_MAX];
    size_t count = 0;
    char err[512];
    int exit_code = EX_OK;
    for (size_t i = 0; i < S_SPEAKER_COUNT && exit_code == EX_OK; i++) {
        const uint8_t *prev = NULL;
        for (size_t n = 0; n < S_NOTE_MAX && s_speakers[i].notes[n]; n++) {
            uint8_t *payload;
            size_t size;
            if (ld_payload_note (s_speakers[i].notes[n], &payload, &size) != LD_OK) {
                exit_code = EX_OSERR;
                break;
            }
            ld_status_t rc =
                ld_event_sign (identities[i], n + 1, prev, s_now_ms (), s_speakers[i].topic, "note",
                               payload, size, &events[count], err, sizeof err);
            free (payload);
            if (rc != LD_OK) {
                ld_cli_error ("cannot sign: %s", err);
                exit_code = EX_SOFTWARE;
                break;
            }
            prev = ld_event_id (events[count]);
            count++;
        }
    }
    ld_append_result_t results[S_SPEAKER_COUNT * S_NOTE_MAX];
    if (exit_code == EX_OK) {
        ld_status_t rc =
            ld_store_append (store, events, count, s_now_ms (), results, err, sizeof err);
        if (rc != LD_OK) {
            ld_cli_error ("cannot store: %s", err);
            exit_code = ld_cli_exit_code (rc);
        }
    }
    for (size_t i = 0; i < count && exit_code == EX_OK; i++)
        if (results[i].status != LD_OK) {
            ld_cli_error ("event %zu refused: %s", i, ld_status_text (results[i].status));
            exit_code = EX_SOFTWARE;
        }
    *stored = exit_code == EX_OK ? count : 0;
    for (size_t i = 0; i < count; i++)
        ld_event_destroy (&events[i]);
    return exit_code;
}

int
ld_cmd_demo (int argc, char **argv)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"keep", no_argument, NULL, 'k'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir_arg = NULL;
    bool keep = false, json = false;
    int opt;
    while ((opt = getopt_long (argc, argv, "d:kjh", options, NULL)) != -1) {
        switch (opt) {
            case 'd':
                dir_arg = optarg;
                break;
            case 'k':
                keep = true;
                break;
            case 'j':
                json = true;
                break;
            case 'h':
                s_usage (stdout);
                return EX_OK;
            default:
                s_usage (stderr);
                return EX_USAGE;
        }
    }
    if (optind != argc) {
        s_usage (stderr);
        return EX_USAGE;
    }
    char dir[PATH_MAX];
    if (dir_arg) {
        snprintf (dir, sizeof dir, "%s", dir_arg);
        if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
            ld_cli_error ("cannot create '%s': %s", dir, strerror (errno));
            return EX_CANTCREAT;
        }
        keep = true;
    }
    else {
        const char *tmp = getenv ("TMPDIR");
        snprintf (dir, sizeof dir, "%s/liandong-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp (dir)) {
            ld_cli_error ("cannot create a temporary directory: %s", strerror (errno));
            return EX_CANTCREAT;
        }
    }
    ld_identity_t *identities[S_SPEAKER_COUNT] = {NULL};
    ld_store_t *store = NULL;
    ld_table_t *table = NULL;
    char err[512], path[PATH_MAX + 64];
    size_t stored = 0;
    snprintf (path, sizeof path, "%s/%s", dir, LD_STORE_FILE);

    int exit_code = s_make_identities (dir, identities);
    if (exit_code != EX_OK)
        goto done;
    ld_status_t rc = ld_store_open (path, &store, err, sizeof err);
    if (rc == LD_OK)
        exit_code = s_sign_and_store (store, identities, &stored);
    else {
        ld_cli_error ("%s", err);
        exit_code = ld_cli_exit_code (rc);
    }
    ld_store_destroy (&store);
    if (exit_code != EX_OK)
        goto done;

    //  Read back through a fresh open: what was acknowledged is on disk.
    rc = ld_store_open (path, &store, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        exit_code = ld_cli_exit_code (rc);
        goto done;
    }
    static const char *const columns[] = {"store", "author", "seq", "topic", "text", "id"};
    table = ld_table_new ("events", columns, 6);
    if (!table) {
        exit_code = EX_OSERR;
        goto done;
    }
    ld_table_align_right (table, 0);
    ld_table_align_right (table, 2);
    s_readback_t readback = {table, 0, 0, LD_OK};
    s_read_ctx_t ctx = {&readback, identities};
    rc = ld_store_read_after (store, 0, NULL, 0, s_read_one, &ctx);
    if (rc != LD_OK || readback.failure != LD_OK) {
        exit_code = EX_DATAERR;
        goto done;
    }
    ld_table_print (table, stdout, json);
    ld_head_t *heads = NULL;
    size_t head_count = 0;
    rc = ld_store_heads (store, &heads, &head_count);
    free (heads);
    if (!json)
        printf ("\nself-check: %zu events signed by %zu identities, stored in one group "
                "commit,\nread back after reopening the store, %zu of %zu verified; %zu feeds "
                "in the head vector.\n",
                stored, S_SPEAKER_COUNT, readback.verified, readback.read, head_count);
    if (rc != LD_OK || readback.verified != stored || head_count != S_SPEAKER_COUNT) {
        ld_cli_error ("self-check failed: stored %zu, verified %zu, feeds %zu", stored,
                      readback.verified, head_count);
        exit_code = EX_SOFTWARE;
    }
done:
    ld_table_destroy (&table);
    ld_store_destroy (&store);
    for (size_t i = 0; i < S_SPEAKER_COUNT; i++)
        ld_identity_destroy (&identities[i]);
    if (keep)
        fprintf (stderr, "liandong: demo data kept in '%s'\n", dir);
    else {
        //  Remove what we created: identities, the store and its WAL files.
        if (nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            ld_cli_error ("cannot remove '%s': %s", dir, strerror (errno));
    }
    return exit_code;
}
