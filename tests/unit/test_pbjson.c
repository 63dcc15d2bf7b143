/*  test_pbjson.c -- protobuf messages as JSON (ld_pbjson) and the
    `liandong inspect` command that prints them.

    Golden files in tests/fixtures/ pin the wire bytes and the JSON:
        note-seq1.bin     a note, seq 1                 note-seq1.json
        note-seq2.bin     a note, seq 2 (prev = seq 1)  note-seq2.json
        future-kind.bin   seq 3 of a type this build does not know
                                                        future-kind.json
    The .bin files are envelopes signed with the RFC 8032 test 1 key at
    fixed times; Ed25519 is deterministic, so signing again gives the same
    bytes. The .json files are exactly what `liandong inspect` prints.
    To regenerate both after a deliberate format change, run

        LD_REGENERATE_GOLDEN=1 ctest --test-dir build -R pbjson

    and review `git diff tests/fixtures` before committing: every change
    there is a change scripts and other implementations see.

    The environment gives LD_FIXTURES (the fixtures folder) and LD_BIN (the
    liandong binary); see tests/CMakeLists.txt.

    Liandong's own schema has no repeated, oneof, enum or floating-point
    fields yet, so a test message, ldtest.Sample, is described below by
    hand exactly as protoc-c would generate it, to cover every field shape
    the generic mapping must handle.
*/
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_pbjson.h"
#include "liandong.pb-c.h"

extern char **environ;

//  --------------------------------------------------------------------------
//  ldtest.Sample, as protoc-c would generate it from:
//
//      enum Color { COLOR_UNSPECIFIED = 0; RED = 1; GREEN = 2; }
//      message Sample {
//        required int32 small_int = 1;        optional sint32 zigzag_int = 2;
//        optional sfixed32 fixed_int = 3;     optional int64 big_int = 4;
//        optional sint64 zigzag_big = 5;      optional sfixed64 fixed_big = 6;
//        optional uint32 small_uint = 7;      optional fixed32 fixed_uint = 8;
//        optional uint64 big_uint = 9;        optional fixed64 fixed_big_uint = 10;
//        optional float ratio = 11;           optional double precise_ratio = 12;
//        optional bool flag = 13;             optional Color color = 14;
//        optional string label = 15 [default = "unnamed"];
//        optional bytes blob = 16;            optional bytes subject = 17;
//        optional bytes motion_ref = 18;      optional Sample child = 19;
//        repeated string tags = 20;           repeated sint64 counts = 21 [packed = true];
//        repeated Sample children = 22;       repeated bytes seconder_key = 23;
//        oneof choice { string text_choice = 24; uint32 number_choice = 25; }
//      }

typedef struct s_sample_t s_sample_t;
struct s_sample_t {
    ProtobufCMessage base;
    int32_t small_int;
    protobuf_c_boolean has_zigzag_int;
    int32_t zigzag_int;
    protobuf_c_boolean has_fixed_int;
    int32_t fixed_int;
    protobuf_c_boolean has_big_int;
    int64_t big_int;
    protobuf_c_boolean has_zigzag_big;
    int64_t zigzag_big;
    protobuf_c_boolean has_fixed_big;
    int64_t fixed_big;
    protobuf_c_boolean has_small_uint;
    uint32_t small_uint;
    protobuf_c_boolean has_fixed_uint;
    uint32_t fixed_uint;
    protobuf_c_boolean has_big_uint;
    uint64_t big_uint;
    protobuf_c_boolean has_fixed_big_uint;
    uint64_t fixed_big_uint;
    protobuf_c_boolean has_ratio;
    float ratio;
    protobuf_c_boolean has_precise_ratio;
    double precise_ratio;
    protobuf_c_boolean has_flag;
    protobuf_c_boolean flag;
    protobuf_c_boolean has_color;
    int color;
    char *label;
    protobuf_c_boolean has_blob;
    ProtobufCBinaryData blob;
    protobuf_c_boolean has_subject;
    ProtobufCBinaryData subject;
    protobuf_c_boolean has_motion_ref;
    ProtobufCBinaryData motion_ref;
    s_sample_t *child;
    size_t n_tags;
    char **tags;
    size_t n_counts;
    int64_t *counts;
    size_t n_children;
    s_sample_t **children;
    size_t n_seconder_key;
    ProtobufCBinaryData *seconder_key;
    uint32_t choice_case;
    union {
        char *text_choice;
        uint32_t number_choice;
    };
};

enum { S_COLOR_UNSPECIFIED = 0, S_COLOR_RED = 1, S_COLOR_GREEN = 2 };

static const ProtobufCEnumValue s_color_values[] = {
    {"COLOR_UNSPECIFIED", "LDTEST__COLOR__COLOR_UNSPECIFIED", S_COLOR_UNSPECIFIED},
    {"RED", "LDTEST__COLOR__RED", S_COLOR_RED},
    {"GREEN", "LDTEST__COLOR__GREEN", S_COLOR_GREEN},
};
static const ProtobufCEnumValueIndex s_color_by_name[] = {
    {"COLOR_UNSPECIFIED", 0},
    {"GREEN", 2},
    {"RED", 1},
};
static const ProtobufCIntRange s_color_ranges[] = {{0, 0}, {0, 3}};
static const ProtobufCEnumDescriptor s_color_descriptor = {
    PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC,
    "ldtest.Color",
    "Color",
    "Ldtest__Color",
    "ldtest",
    3,
    s_color_values,
    3,
    s_color_by_name,
    1,
    s_color_ranges,
    NULL,
    NULL,
    NULL,
    NULL,
};

static const ProtobufCMessageDescriptor s_sample_descriptor;
static const char s_label_default[] = "unnamed";

//  clang-format cannot lay out a brace initialiser that starts with #name
// clang-format off
#define S_FIELD(name, id, label, type, quantifier, desc, deflt, flags)                             \
    {#name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, quantifier,                      \
     offsetof (s_sample_t, name), desc, deflt, flags, 0, NULL, NULL}
// clang-format on
#define S_OPTIONAL(name, id, type, desc)                                                           \
    S_FIELD (name, id, OPTIONAL, type, offsetof (s_sample_t, has_##name), desc, NULL, 0)
#define S_REPEATED(name, id, type, desc, flags)                                                    \
    S_FIELD (name, id, REPEATED, type, offsetof (s_sample_t, n_##name), desc, NULL, flags)
#define S_ONEOF(name, id, type)                                                                    \
    S_FIELD (name, id, OPTIONAL, type, offsetof (s_sample_t, choice_case), NULL, NULL,             \
             PROTOBUF_C_FIELD_FLAG_ONEOF)

static const ProtobufCFieldDescriptor s_sample_fields[] = {
    S_FIELD (small_int, 1, REQUIRED, INT32, 0, NULL, NULL, 0),
    S_OPTIONAL (zigzag_int, 2, SINT32, NULL),
    S_OPTIONAL (fixed_int, 3, SFIXED32, NULL),
    S_OPTIONAL (big_int, 4, INT64, NULL),
    S_OPTIONAL (zigzag_big, 5, SINT64, NULL),
    S_OPTIONAL (fixed_big, 6, SFIXED64, NULL),
    S_OPTIONAL (small_uint, 7, UINT32, NULL),
    S_OPTIONAL (fixed_uint, 8, FIXED32, NULL),
    S_OPTIONAL (big_uint, 9, UINT64, NULL),
    S_OPTIONAL (fixed_big_uint, 10, FIXED64, NULL),
    S_OPTIONAL (ratio, 11, FLOAT, NULL),
    S_OPTIONAL (precise_ratio, 12, DOUBLE, NULL),
    S_OPTIONAL (flag, 13, BOOL, NULL),
    S_OPTIONAL (color, 14, ENUM, &s_color_descriptor),
    S_FIELD (label, 15, OPTIONAL, STRING, 0, NULL, s_label_default, 0),
    S_OPTIONAL (blob, 16, BYTES, NULL),
    S_OPTIONAL (subject, 17, BYTES, NULL),
    S_OPTIONAL (motion_ref, 18, BYTES, NULL),
    S_FIELD (child, 19, OPTIONAL, MESSAGE, 0, &s_sample_descriptor, NULL, 0),
    S_REPEATED (tags, 20, STRING, NULL, 0),
    S_REPEATED (counts, 21, SINT64, NULL, PROTOBUF_C_FIELD_FLAG_PACKED),
    S_REPEATED (children, 22, MESSAGE, &s_sample_descriptor, 0),
    S_REPEATED (seconder_key, 23, BYTES, NULL, 0),
    S_ONEOF (text_choice, 24, STRING),
    S_ONEOF (number_choice, 25, UINT32),
};
static const unsigned s_sample_by_name[] = {3,  8,  15, 18, 21, 13, 20, 5,  9,  2,  7, 12, 14,
                                            17, 24, 11, 10, 22, 0,  6,  16, 19, 23, 4, 1};
static const ProtobufCIntRange s_sample_ranges[] = {{1, 0}, {0, 25}};

static void
s_sample_init (ProtobufCMessage *message)
{
    memset (message, 0, sizeof (s_sample_t));
    message->descriptor = &s_sample_descriptor;
    ((s_sample_t *) message)->label = (char *) s_label_default;
}

static const ProtobufCMessageDescriptor s_sample_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "ldtest.Sample",
    "Sample",
    "Ldtest__Sample",
    "ldtest",
    sizeof (s_sample_t),
    25,
    s_sample_fields,
    s_sample_by_name,
    1,
    s_sample_ranges,
    s_sample_init,
    NULL,
    NULL,
    NULL,
};

//  The text form of 32 zero bytes as a key, and of 32 0xff bytes as an id.
#define S_ZERO_KEY "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define S_FF_ID    "blake2b:__________________________________________8"

//  One Sample with every field shape set, and its JSON (compact).
static const char s_sample_json[] =
    "{\"smallInt\":-7,\"zigzagInt\":-2147483648,\"fixedInt\":2147483647,"
    "\"bigInt\":\"-9223372036854775808\",\"zigzagBig\":\"-42\","
    "\"fixedBig\":\"9223372036854775807\",\"smallUint\":4294967295,\"fixedUint\":7,"
    "\"bigUint\":\"18446744073709551615\",\"fixedBigUint\":\"1\",\"ratio\":0.5,"
    "\"preciseRatio\":0.25,\"flag\":false,\"color\":\"GREEN\",\"label\":\"金江苑\","
    "\"blob\":\"+/+/AA==\",\"subject\":\"" S_ZERO_KEY "\",\"motionRef\":\"" S_FF_ID "\","
    "\"child\":{\"smallInt\":1},\"tags\":[\"a\",\"居民\"],"
    "\"counts\":[\"-1\",\"0\",\"9007199254740993\"],"
    "\"children\":[{\"smallInt\":2},{\"smallInt\":3,\"textChoice\":\"\"}],"
    "\"seconderKey\":[\"" S_ZERO_KEY "\",\"AQID\"],\"numberChoice\":42}";

//  --------------------------------------------------------------------------
//  Golden events

#define S_SEED_HEX                                                                                 \
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60" //  RFC 8032 test 1
#define S_TIME_MS   INT64_C (1764000000000)
#define S_GOLDENS   3
#define S_PATH_SIZE 512

typedef struct {
    const char *name;
    int64_t time_ms;
    const char *topic;
    const char *type;
    const char *note; //  a "note" payload, or NULL for the raw payload below
    const uint8_t *payload;
    size_t payload_size;
} s_golden_t;

//  Arbitrary bytes for a type no build knows yet; "+/+/" in base64.
static const uint8_t s_future_payload[] = {0xfb, 0xff, 0xbf, 0x08, 0x2a, 0x12, 0x02, 0xe9, 0x87};

//  Each is signed in turn, seq i + 1, prev the id of the one before.
static const s_golden_t s_goldens[S_GOLDENS] = {
    {"note-seq1", S_TIME_MS, "note/wudang/guanxilu/jinjiangyuan/", "note",
     "金江苑社区 居民议事会 纪要：加装电梯方案征求意见，周六上午九点在活动室。", NULL, 0},
    {"note-seq2", S_TIME_MS + 60000, "note/wudang/guanxilu/jinjiangyuan/", "note",
     "金江苑社区 居民议事会 纪要（续）：同意 23 票，反对 4 票，弃权 2 票。", NULL, 0},
    {"future-kind", S_TIME_MS + 120000, "future/wudang/guanxilu/", "future.kind", NULL,
     s_future_payload, sizeof s_future_payload},
};

typedef struct {
    const char *fixtures; //  LD_FIXTURES
    const char *bin;      //  LD_BIN
    char dir[64];         //  scratch directory for corrupted copies
    ld_event_t *events[S_GOLDENS];
} fixture_t;

static void
s_fixture_path (const fixture_t *fx, const char *name, const char *ext, char path[S_PATH_SIZE])
{
    snprintf (path, S_PATH_SIZE, "%s/%s.%s", fx->fixtures, name, ext);
}

//  Reads a whole file; NULL if it cannot. *size_p gets its size; the data
//  is NUL-terminated for convenience.
static char *
s_read_file (const char *path, size_t *size_p)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *data = NULL;
    size_t size = 0, capacity = 0;
    while (true) {
        if (capacity - size < 4096) {
            capacity = capacity * 2 + 4096;
            data = realloc (data, capacity + 1);
            assert_non_null (data);
        }
        size_t n = fread (data + size, 1, capacity - size, file);
        if (n == 0)
            break;
        size += n;
    }
    fclose (file);
    data[size] = '\0';
    *size_p = size;
    return data;
}

static void
s_write_file (const char *path, const void *data, size_t size)
{
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, size, file), size);
    assert_int_equal (fclose (file), 0);
}

//  The event as `liandong inspect` prints it: indented JSON and a newline.
static char *
s_event_text (const ld_event_t *event)
{
    json_t *json = ld_event_to_json (event);
    assert_non_null (json);
    char *dumped = json_dumps (json, JSON_INDENT (2));
    json_decref (json);
    assert_non_null (dumped);
    char *text = malloc (strlen (dumped) + 2);
    assert_non_null (text);
    sprintf (text, "%s\n", dumped);
    free (dumped);
    return text;
}

static void
s_sign_goldens (fixture_t *fx)
{
    static const char seed_hex[] = S_SEED_HEX;
    uint8_t seed[LD_SEED_BYTES];
    for (size_t i = 0; i < LD_SEED_BYTES; i++)
        assert_int_equal (sscanf (&seed_hex[2 * i], "%2hhx", &seed[i]), 1);
    ld_identity_t *identity = ld_identity_new_from_seed (seed);
    assert_non_null (identity);
    for (size_t i = 0; i < S_GOLDENS; i++) {
        const s_golden_t *golden = &s_goldens[i];
        uint8_t *note = NULL;
        const uint8_t *payload = golden->payload;
        size_t payload_size = golden->payload_size;
        if (golden->note) {
            assert_int_equal (ld_payload_note (golden->note, &note, &payload_size), LD_OK);
            payload = note;
        }
        char err[256] = "";
        ld_status_t rc = ld_event_sign (identity, i + 1, i ? ld_event_id (fx->events[i - 1]) : NULL,
                                        golden->time_ms, golden->topic, golden->type, payload,
                                        payload_size, &fx->events[i], err, sizeof err);
        free (note);
        if (rc != LD_OK)
            fail_msg ("cannot sign golden '%s': %s", golden->name, err);
    }
    ld_identity_destroy (&identity);
}

//  LD_REGENERATE_GOLDEN=1: rewrite the fixtures from what this build signs
//  and prints (see the top of this file).
static void
s_regenerate_goldens (const fixture_t *fx)
{
    for (size_t i = 0; i < S_GOLDENS; i++) {
        char path[S_PATH_SIZE];
        size_t size;
        const uint8_t *envelope = ld_event_envelope (fx->events[i], &size);
        s_fixture_path (fx, s_goldens[i].name, "bin", path);
        s_write_file (path, envelope, size);
        char *text = s_event_text (fx->events[i]);
        s_fixture_path (fx, s_goldens[i].name, "json", path);
        s_write_file (path, text, strlen (text));
        free (text);
        print_message ("regenerated %s.bin and %s.json\n", s_goldens[i].name, s_goldens[i].name);
    }
}

static int
group_setup (void **state)
{
    assert_int_equal (ld_crypto_init (), 0);
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    fx->fixtures = getenv ("LD_FIXTURES");
    fx->bin = getenv ("LD_BIN");
    if (!fx->fixtures || !fx->bin) {
        print_error ("LD_FIXTURES and LD_BIN must be set (ctest sets them)\n");
        free (fx);
        return -1;
    }
    snprintf (fx->dir, sizeof fx->dir, "/tmp/ld-test-pbjson-XXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    s_sign_goldens (fx);
    const char *regenerate = getenv ("LD_REGENERATE_GOLDEN");
    if (regenerate && strcmp (regenerate, "1") == 0)
        s_regenerate_goldens (fx);
    *state = fx;
    return 0;
}

//  Files a test may leave in the scratch directory.
static const char *const s_scratch_files[] = {"corrupt.bin", "truncated.bin"};

static int
group_teardown (void **state)
{
    fixture_t *fx = *state;
    for (size_t i = 0; i < S_GOLDENS; i++)
        ld_event_destroy (&fx->events[i]);
    for (size_t i = 0; i < sizeof s_scratch_files / sizeof s_scratch_files[0]; i++) {
        char path[S_PATH_SIZE];
        snprintf (path, sizeof path, "%s/%s", fx->dir, s_scratch_files[i]);
        unlink (path);
    }
    rmdir (fx->dir);
    free (fx);
    return 0;
}

//  --------------------------------------------------------------------------
//  Running `liandong`

typedef struct {
    char *data;
    size_t size;
} s_buffer_t;

static void
s_buffer_read (s_buffer_t *buffer, int fd, bool *open)
{
    char chunk[4096];
    ssize_t n = read (fd, chunk, sizeof chunk);
    assert_true (n >= 0);
    if (n == 0) {
        *open = false;
        return;
    }
    buffer->data = realloc (buffer->data, buffer->size + (size_t) n + 1);
    assert_non_null (buffer->data);
    memcpy (buffer->data + buffer->size, chunk, (size_t) n);
    buffer->size += (size_t) n;
    buffer->data[buffer->size] = '\0';
}

//  Runs LD_BIN with args (NULL-terminated), standard input from stdin_path
//  (or /dev/null). Returns the exit code; *out_p and *err_p get what it
//  printed (NUL-terminated, caller frees).
static int
s_run (const fixture_t *fx, const char *stdin_path, char **out_p, char **err_p, ...)
{
    char *argv[8] = {(char *) fx->bin};
    va_list args;
    va_start (args, err_p);
    for (size_t i = 1; i < 7 && (argv[i] = va_arg (args, char *)) != NULL; i++)
        ;
    va_end (args);

    int out_pipe[2], err_pipe[2];
    assert_int_equal (pipe2 (out_pipe, O_CLOEXEC), 0);
    assert_int_equal (pipe2 (err_pipe, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, stdin_path ? stdin_path : "/dev/null",
                                      O_RDONLY, 0);
    posix_spawn_file_actions_adddup2 (&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2 (&actions, err_pipe[1], STDERR_FILENO);
    pid_t pid;
    int rc = posix_spawn (&pid, fx->bin, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy (&actions);
    close (out_pipe[1]);
    close (err_pipe[1]);
    assert_int_equal (rc, 0);

    s_buffer_t out = {calloc (1, 1), 0}, err = {calloc (1, 1), 0};
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        struct pollfd fds[2] = {{out_open ? out_pipe[0] : -1, POLLIN, 0},
                                {err_open ? err_pipe[0] : -1, POLLIN, 0}};
        assert_true (poll (fds, 2, -1) > 0);
        if (fds[0].revents)
            s_buffer_read (&out, out_pipe[0], &out_open);
        if (fds[1].revents)
            s_buffer_read (&err, err_pipe[0], &err_open);
    }
    close (out_pipe[0]);
    close (err_pipe[0]);
    int status;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status));
    *out_p = out.data;
    *err_p = err.data;
    return WEXITSTATUS (status);
}

//  Writes a copy of golden event `golden` to the scratch directory as
//  `name`: its first `keep` bytes, with the low bit of byte `flip_at`
//  flipped (SIZE_MAX: keep all, flip none).
static void
s_scratch_copy (const fixture_t *fx, size_t golden, const char *name, size_t keep, size_t flip_at,
                char path[S_PATH_SIZE])
{
    size_t size;
    const uint8_t *envelope = ld_event_envelope (fx->events[golden], &size);
    uint8_t *copy = malloc (size);
    assert_non_null (copy);
    memcpy (copy, envelope, size);
    if (flip_at < size)
        copy[flip_at] ^= 0x01;
    snprintf (path, S_PATH_SIZE, "%s/%s", fx->dir, name);
    s_write_file (path, copy, keep < size ? keep : size);
    free (copy);
}

//  --------------------------------------------------------------------------
//  Helpers for parsing

static ld_status_t
s_parse (const ProtobufCMessageDescriptor *desc, const char *text, ProtobufCMessage **message_p,
         char *err, size_t err_size)
{
    json_error_t error;
    json_t *json = json_loads (text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);
    if (!json)
        fail_msg ("test JSON does not load: %s: %s", error.text, text);
    ld_status_t rc = ld_pbjson_to_message (desc, json, message_p, err, err_size);
    json_decref (json);
    return rc;
}

static char *
s_compact (const ProtobufCMessage *message)
{
    json_t *json = ld_pbjson_from_message (message);
    assert_non_null (json);
    char *text = json_dumps (json, JSON_COMPACT);
    json_decref (json);
    assert_non_null (text);
    return text;
}

//  Expects text to be refused with status, and err to name the field.
static void
s_expect_refused (const ProtobufCMessageDescriptor *desc, const char *text, ld_status_t status,
                  const char *field_path)
{
    char err[512] = "";
    ProtobufCMessage *message = NULL;
    ld_status_t rc = s_parse (desc, text, &message, err, sizeof err);
    if (rc != status)
        fail_msg ("%s: expected %s, got %s (%s)", text, ld_status_name (status),
                  ld_status_name (rc), err);
    assert_null (message);
    if (!strstr (err, field_path))
        fail_msg ("%s: error '%s' does not name '%s'", text, err, field_path);
}

//  --------------------------------------------------------------------------
//  Golden files

static void
test_signing_reproduces_golden_envelopes (void **state)
{
    fixture_t *fx = *state;
    for (size_t i = 0; i < S_GOLDENS; i++) {
        char path[S_PATH_SIZE];
        s_fixture_path (fx, s_goldens[i].name, "bin", path);
        size_t golden_size, size;
        char *golden = s_read_file (path, &golden_size);
        if (!golden)
            fail_msg ("cannot read '%s'", path);
        const uint8_t *envelope = ld_event_envelope (fx->events[i], &size);
        assert_int_equal (size, golden_size);
        assert_memory_equal (envelope, golden, size);
        free (golden);
    }
}

static void
test_event_json_matches_golden (void **state)
{
    fixture_t *fx = *state;
    for (size_t i = 0; i < S_GOLDENS; i++) {
        char path[S_PATH_SIZE];
        size_t bin_size, json_size;
        s_fixture_path (fx, s_goldens[i].name, "bin", path);
        char *bin = s_read_file (path, &bin_size);
        s_fixture_path (fx, s_goldens[i].name, "json", path);
        char *golden = s_read_file (path, &json_size);
        assert_non_null (bin);
        assert_non_null (golden);

        ld_event_t *event = NULL;
        assert_int_equal (ld_event_decode ((uint8_t *) bin, bin_size, 0, &event, NULL, 0), LD_OK);
        assert_int_equal (ld_event_verify (event), LD_OK);
        char *text = s_event_text (event);
        assert_string_equal (text, golden);

        free (text);
        ld_event_destroy (&event);
        free (golden);
        free (bin);
    }
}

static void
test_event_json_shows_keys_ids_and_the_decoded_note (void **state)
{
    fixture_t *fx = *state;
    json_t *json = ld_event_to_json (fx->events[1]);
    assert_non_null (json);
    char id[LD_ID_TEXT_BYTES], prev[LD_ID_TEXT_BYTES], author[LD_KEY_TEXT_BYTES];
    ld_id_to_text (ld_event_id (fx->events[1]), id);
    ld_id_to_text (ld_event_id (fx->events[0]), prev);
    ld_key_to_text (ld_event_author (fx->events[1]), author);

    json_t *body = json_object_get (json, "body");
    assert_string_equal (json_string_value (json_object_get (json, "id")), id);
    assert_string_equal (json_string_value (json_object_get (body, "author")), author);
    assert_string_equal (json_string_value (json_object_get (body, "prev")), prev);
    assert_string_equal (json_string_value (json_object_get (body, "seq")), "2");
    assert_string_equal (json_string_value (json_object_get (body, "timeMs")), "1764000060000");
    json_t *payload = json_object_get (body, "payload");
    assert_true (json_is_object (payload));
    assert_string_equal (json_string_value (json_object_get (payload, "text")), s_goldens[1].note);
    json_decref (json);
}

static void
test_unknown_type_keeps_payload_as_base64 (void **state)
{
    fixture_t *fx = *state;
    json_t *json = ld_event_to_json (fx->events[2]);
    assert_non_null (json);
    json_t *payload = json_object_get (json_object_get (json, "body"), "payload");
    assert_true (json_is_string (payload));
    assert_string_equal (json_string_value (payload), "+/+/CCoSAumH");
    json_decref (json);
}

//  --------------------------------------------------------------------------
//  liandong inspect

static void
test_inspect_prints_golden_json (void **state)
{
    fixture_t *fx = *state;
    for (size_t i = 0; i < S_GOLDENS; i++) {
        char bin[S_PATH_SIZE], json[S_PATH_SIZE];
        s_fixture_path (fx, s_goldens[i].name, "bin", bin);
        s_fixture_path (fx, s_goldens[i].name, "json", json);
        size_t size;
        char *golden = s_read_file (json, &size);
        assert_non_null (golden);
        char *out, *err;
        int code = s_run (fx, NULL, &out, &err, "inspect", bin, NULL);
        if (code != 0)
            fail_msg ("inspect '%s' exited %d: %s", bin, code, err);
        assert_string_equal (out, golden);
        assert_string_equal (err, "");
        free (out);
        free (err);
        free (golden);
    }
}

static void
test_inspect_reads_standard_input (void **state)
{
    fixture_t *fx = *state;
    char bin[S_PATH_SIZE], json[S_PATH_SIZE];
    s_fixture_path (fx, s_goldens[0].name, "bin", bin);
    s_fixture_path (fx, s_goldens[0].name, "json", json);
    size_t size;
    char *golden = s_read_file (json, &size);
    assert_non_null (golden);
    char *out, *err;
    assert_int_equal (s_run (fx, bin, &out, &err, "inspect", "-", NULL), 0);
    assert_string_equal (out, golden);
    free (out);
    free (err);
    free (golden);
}

static void
test_inspect_refuses_a_bad_signature (void **state)
{
    fixture_t *fx = *state;
    char path[S_PATH_SIZE];
    size_t size;
    ld_event_envelope (fx->events[0], &size);
    //  the signature is the envelope's last field: flip its last byte
    s_scratch_copy (fx, 0, "corrupt.bin", SIZE_MAX, size - 1, path);
    char *out, *err;
    assert_int_equal (s_run (fx, NULL, &out, &err, "inspect", path, NULL), 65);
    assert_string_equal (out, "");
    assert_non_null (strstr (err, "cannot verify"));
    assert_non_null (strstr (err, "bad-signature"));
    free (out);
    free (err);
}

static void
test_inspect_refuses_a_truncated_envelope (void **state)
{
    fixture_t *fx = *state;
    char path[S_PATH_SIZE];
    size_t size;
    ld_event_envelope (fx->events[0], &size);
    s_scratch_copy (fx, 0, "truncated.bin", size - 10, SIZE_MAX, path);
    char *out, *err;
    assert_int_equal (s_run (fx, NULL, &out, &err, "inspect", path, NULL), 65);
    assert_string_equal (out, "");
    assert_non_null (strstr (err, "cannot decode"));
    free (out);
    free (err);
}

static void
test_inspect_refuses_a_missing_file (void **state)
{
    fixture_t *fx = *state;
    char path[S_PATH_SIZE];
    snprintf (path, sizeof path, "%s/no-such-file.bin", fx->dir);
    char *out, *err;
    assert_int_equal (s_run (fx, NULL, &out, &err, "inspect", path, NULL), 66);
    assert_string_equal (out, "");
    assert_non_null (strstr (err, "cannot open"));
    free (out);
    free (err);
}

static void
test_inspect_refuses_input_past_the_size_limit (void **state)
{
    fixture_t *fx = *state;
    char bin[S_PATH_SIZE];
    s_fixture_path (fx, s_goldens[0].name, "bin", bin);
    char *out, *err;
    assert_int_equal (s_run (fx, NULL, &out, &err, "inspect", "--max-size", "16", bin, NULL), 65);
    assert_string_equal (out, "");
    assert_non_null (strstr (err, "larger than 16 bytes"));
    free (out);
    free (err);
}

static void
test_inspect_help_prints_usage (void **state)
{
    fixture_t *fx = *state;
    char *out, *err;
    assert_int_equal (s_run (fx, NULL, &out, &err, "inspect", "--help", NULL), 0);
    assert_non_null (strstr (out, "usage: liandong inspect"));
    free (out);
    free (err);
    assert_int_equal (s_run (fx, NULL, &out, &err, "inspect", NULL), 64);
    assert_non_null (strstr (err, "usage: liandong inspect"));
    free (out);
    free (err);
}

//  --------------------------------------------------------------------------
//  JSON -> message -> JSON

static void
test_note_round_trips_through_json (void **state)
{
    (void) state;
    const ProtobufCMessageDescriptor *desc = ld_payload_descriptor ("note");
    const char *text = "{\"text\":\"金江苑社区 居民议事会 纪要\"}";
    ProtobufCMessage *message = NULL;
    char err[256] = "";
    assert_int_equal (s_parse (desc, text, &message, err, sizeof err), LD_OK);
    char *again = s_compact (message);
    assert_string_equal (again, text);

    //  and the bytes are those of a note built directly
    uint8_t *packed, *direct;
    size_t packed_size, direct_size;
    assert_int_equal (ld_payload_pack (message, &packed, &packed_size), LD_OK);
    assert_int_equal (ld_payload_note ("金江苑社区 居民议事会 纪要", &direct, &direct_size), LD_OK);
    assert_int_equal (packed_size, direct_size);
    assert_memory_equal (packed, direct, packed_size);

    free (packed);
    free (direct);
    free (again);
    ld_pbjson_message_free (message);
}

static void
test_body_round_trips_through_json (void **state)
{
    fixture_t *fx = *state;
    for (size_t i = 0; i < S_GOLDENS; i++) {
        //  wire bytes -> message -> JSON text -> message -> the same bytes
        size_t body_size;
        const uint8_t *body_bytes = ld_event_body (fx->events[i], &body_size);
        Liandong__Body *body = liandong__body__unpack (NULL, body_size, body_bytes);
        assert_non_null (body);
        char *text = s_compact (&body->base);
        liandong__body__free_unpacked (body, NULL);

        ProtobufCMessage *message = NULL;
        char err[256] = "";
        if (s_parse (&liandong__body__descriptor, text, &message, err, sizeof err) != LD_OK)
            fail_msg ("%s: %s", text, err);
        uint8_t *packed;
        size_t packed_size;
        assert_int_equal (ld_payload_pack (message, &packed, &packed_size), LD_OK);
        assert_int_equal (packed_size, body_size);
        assert_memory_equal (packed, body_bytes, body_size);
        char *again = s_compact (message);
        assert_string_equal (again, text);

        free (again);
        free (packed);
        ld_pbjson_message_free (message);
        free (text);
    }
}

static void
test_parser_accepts_proto_names_numbers_and_url_safe_base64 (void **state)
{
    (void) state;
    const char *text = "{\"author\":\"" S_ZERO_KEY "\",\"seq\":1,\"time_ms\":1764000000000,"
                       "\"topic\":\"note/a/\",\"type\":\"future.kind\",\"payload\":\"-_-_\"}";
    ProtobufCMessage *message = NULL;
    char err[256] = "";
    if (s_parse (&liandong__body__descriptor, text, &message, err, sizeof err) != LD_OK)
        fail_msg ("%s", err);
    Liandong__Body *body = (Liandong__Body *) message;
    assert_int_equal (body->seq, 1);
    assert_int_equal (body->time_ms, INT64_C (1764000000000));
    assert_false (body->has_prev);
    assert_true (body->has_payload);
    assert_int_equal (body->payload.len, 3);
    assert_memory_equal (body->payload.data, "\xfb\xff\xbf", 3);
    assert_int_equal (body->author.len, LD_KEY_BYTES);
    ld_pbjson_message_free (message);
}

static void
test_sample_prints_every_field_shape (void **state)
{
    (void) state;
    static uint8_t zero32[32], ff32[32], blob[] = {0xfb, 0xff, 0xbf, 0x00}, short_key[] = {1, 2, 3};
    memset (ff32, 0xff, sizeof ff32);
    char *tags[] = {"a", "居民"};
    int64_t counts[] = {-1, 0, INT64_C (9007199254740993)};
    s_sample_t child, second, third;
    s_sample_init (&child.base);
    child.small_int = 1;
    s_sample_init (&second.base);
    second.small_int = 2;
    s_sample_init (&third.base);
    third.small_int = 3;
    third.choice_case = 24;
    third.text_choice = "";
    s_sample_t *children[] = {&second, &third};
    ProtobufCBinaryData seconders[] = {{32, zero32}, {3, short_key}};

    s_sample_t sample;
    s_sample_init (&sample.base);
    sample.small_int = -7;
    sample.has_zigzag_int = 1, sample.zigzag_int = INT32_MIN;
    sample.has_fixed_int = 1, sample.fixed_int = INT32_MAX;
    sample.has_big_int = 1, sample.big_int = INT64_MIN;
    sample.has_zigzag_big = 1, sample.zigzag_big = -42;
    sample.has_fixed_big = 1, sample.fixed_big = INT64_MAX;
    sample.has_small_uint = 1, sample.small_uint = UINT32_MAX;
    sample.has_fixed_uint = 1, sample.fixed_uint = 7;
    sample.has_big_uint = 1, sample.big_uint = UINT64_MAX;
    sample.has_fixed_big_uint = 1, sample.fixed_big_uint = 1;
    sample.has_ratio = 1, sample.ratio = 0.5f;
    sample.has_precise_ratio = 1, sample.precise_ratio = 0.25;
    sample.has_flag = 1, sample.flag = 0;
    sample.has_color = 1, sample.color = S_COLOR_GREEN;
    sample.label = "金江苑";
    sample.has_blob = 1, sample.blob = (ProtobufCBinaryData){sizeof blob, blob};
    sample.has_subject = 1, sample.subject = (ProtobufCBinaryData){32, zero32};
    sample.has_motion_ref = 1, sample.motion_ref = (ProtobufCBinaryData){32, ff32};
    sample.child = &child;
    sample.n_tags = 2, sample.tags = tags;
    sample.n_counts = 3, sample.counts = counts;
    sample.n_children = 2, sample.children = children;
    sample.n_seconder_key = 2, sample.seconder_key = seconders;
    sample.choice_case = 25, sample.number_choice = 42;

    char *text = s_compact (&sample.base);
    assert_string_equal (text, s_sample_json);
    free (text);
}

static void
test_sample_round_trips_through_json (void **state)
{
    (void) state;
    ProtobufCMessage *message = NULL;
    char err[256] = "";
    if (s_parse (&s_sample_descriptor, s_sample_json, &message, err, sizeof err) != LD_OK)
        fail_msg ("%s", err);
    s_sample_t *sample = (s_sample_t *) message;
    assert_int_equal (sample->zigzag_int, INT32_MIN);
    assert_true (sample->big_uint == UINT64_MAX);
    assert_true (sample->has_flag);
    assert_false (sample->flag);
    assert_int_equal (sample->color, S_COLOR_GREEN);
    assert_ptr_equal (sample->child->label, s_label_default); //  the default, untouched
    assert_int_equal (sample->n_counts, 3);
    assert_true (sample->counts[2] == INT64_C (9007199254740993));
    assert_int_equal (sample->n_seconder_key, 2);
    assert_int_equal (sample->seconder_key[0].len, 32);
    assert_int_equal (sample->children[1]->choice_case, 24);
    assert_int_equal (sample->choice_case, 25);
    char *again = s_compact (message);
    assert_string_equal (again, s_sample_json);
    free (again);
    ld_pbjson_message_free (message);
}

static void
test_non_finite_numbers_print_as_strings (void **state)
{
    (void) state;
    s_sample_t sample;
    s_sample_init (&sample.base);
    sample.has_ratio = 1, sample.ratio = NAN;
    sample.has_precise_ratio = 1, sample.precise_ratio = -INFINITY;
    char *text = s_compact (&sample.base);
    assert_string_equal (text, "{\"smallInt\":0,\"ratio\":\"NaN\",\"preciseRatio\":\"-Infinity\"}");

    ProtobufCMessage *message = NULL;
    assert_int_equal (s_parse (&s_sample_descriptor, text, &message, NULL, 0), LD_OK);
    assert_true (isnan (((s_sample_t *) message)->ratio));
    assert_true (isinf (((s_sample_t *) message)->precise_ratio));
    ld_pbjson_message_free (message);
    free (text);
}

//  --------------------------------------------------------------------------
//  Refusals

static void
test_parser_rejects_an_unknown_field (void **state)
{
    (void) state;
    s_expect_refused (ld_payload_descriptor ("note"), "{\"text\":\"x\",\"colour\":1}",
                      LD_ERR_BAD_FORMAT, "liandong.Note.colour");
}

static void
test_parser_rejects_a_wrong_json_type (void **state)
{
    (void) state;
    s_expect_refused (ld_payload_descriptor ("note"), "{\"text\":5}", LD_ERR_BAD_FORMAT,
                      "liandong.Note.text");
    s_expect_refused (ld_payload_descriptor ("note"), "[]", LD_ERR_BAD_FORMAT, "liandong.Note");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"flag\":\"true\"}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.flag");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"tags\":\"a\"}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.tags");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"tags\":[\"a\",null]}",
                      LD_ERR_BAD_FORMAT, "ldtest.Sample.tags[1]");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"color\":\"BLUE\"}",
                      LD_ERR_BAD_FORMAT, "ldtest.Sample.color");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1.5}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.smallInt");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"bigInt\":\" 12\"}",
                      LD_ERR_BAD_FORMAT, "ldtest.Sample.bigInt");
}

static void
test_parser_rejects_out_of_range_numbers (void **state)
{
    (void) state;
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":2147483648}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.smallInt");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"smallUint\":-1}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.smallUint");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"bigUint\":\"18446744073709551616\"}",
                      LD_ERR_BAD_FORMAT, "ldtest.Sample.bigUint");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"bigInt\":\"-9223372036854775809\"}",
                      LD_ERR_BAD_FORMAT, "ldtest.Sample.bigInt");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"ratio\":1e39}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.ratio");
}

static void
test_parser_rejects_bad_base64 (void **state)
{
    (void) state;
    s_expect_refused (&liandong__body__descriptor,
                      "{\"author\":\"" S_ZERO_KEY "\",\"seq\":\"1\",\"timeMs\":\"0\","
                      "\"topic\":\"a/\",\"type\":\"x\",\"payload\":\"not base64!\"}",
                      LD_ERR_BAD_FORMAT, "liandong.Body.payload");
    //  a key text form that is cut short
    s_expect_refused (&liandong__body__descriptor,
                      "{\"author\":\"ed25519:AAAA\",\"seq\":\"1\",\"timeMs\":\"0\","
                      "\"topic\":\"a/\",\"type\":\"x\"}",
                      LD_ERR_BAD_FORMAT, "liandong.Body.author");
    //  the id form is not a key
    s_expect_refused (&liandong__body__descriptor,
                      "{\"author\":\"" S_FF_ID "\",\"seq\":\"1\",\"timeMs\":\"0\","
                      "\"topic\":\"a/\",\"type\":\"x\"}",
                      LD_ERR_BAD_FORMAT, "liandong.Body.author");
    //  padding where none belongs, mixed alphabets, a non-ASCII "digit"
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"blob\":\"AQI=A\"}",
                      LD_ERR_BAD_FORMAT, "ldtest.Sample.blob");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"blob\":\"+/-_\"}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.blob");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"blob\":\"AQé\"}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.blob");
}

static void
test_parser_rejects_a_missing_required_field (void **state)
{
    (void) state;
    s_expect_refused (ld_payload_descriptor ("note"), "{}", LD_ERR_MISSING_FIELD,
                      "liandong.Note.text");
    s_expect_refused (ld_payload_descriptor ("note"), "{\"text\":null}", LD_ERR_MISSING_FIELD,
                      "liandong.Note.text");
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"children\":[{}]}",
                      LD_ERR_MISSING_FIELD, "ldtest.Sample.children[0].smallInt");
}

static void
test_parser_rejects_a_field_given_twice_or_two_oneof_members (void **state)
{
    (void) state;
    s_expect_refused (&s_sample_descriptor, "{\"smallInt\":1,\"small_int\":2}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.small_int");
    s_expect_refused (&s_sample_descriptor,
                      "{\"smallInt\":1,\"textChoice\":\"a\",\"numberChoice\":2}", LD_ERR_BAD_FORMAT,
                      "ldtest.Sample.numberChoice");
}

//  A Sample JSON with `count` tags.
static char *
s_sample_with_tags (size_t count)
{
    size_t size = 32 + count * 4;
    char *text = malloc (size);
    assert_non_null (text);
    size_t len = (size_t) snprintf (text, size, "{\"smallInt\":1,\"tags\":[");
    for (size_t i = 0; i < count; i++)
        len += (size_t) snprintf (text + len, size - len, "%s\"t\"", i ? "," : "");
    snprintf (text + len, size - len, "]}");
    return text;
}

static void
test_parser_rejects_too_many_repeated_elements (void **state)
{
    (void) state;
    char *at_limit = s_sample_with_tags (LD_REPEATED_MAX);
    ProtobufCMessage *message = NULL;
    assert_int_equal (s_parse (&s_sample_descriptor, at_limit, &message, NULL, 0), LD_OK);
    assert_int_equal (((s_sample_t *) message)->n_tags, LD_REPEATED_MAX);
    ld_pbjson_message_free (message);
    free (at_limit);

    char *past_limit = s_sample_with_tags (LD_REPEATED_MAX + 1);
    s_expect_refused (&s_sample_descriptor, past_limit, LD_ERR_TOO_MANY, "ldtest.Sample.tags");
    free (past_limit);
}

//  A Sample JSON nested `depth` children deep.
static char *
s_sample_nested (int depth)
{
    size_t size = 64 + (size_t) depth * 32;
    char *text = malloc (size);
    assert_non_null (text);
    size_t len = 0;
    for (int i = 0; i < depth; i++)
        len += (size_t) snprintf (text + len, size - len, "{\"smallInt\":1,\"child\":");
    len += (size_t) snprintf (text + len, size - len, "{\"smallInt\":1}");
    for (int i = 0; i < depth; i++)
        len += (size_t) snprintf (text + len, size - len, "}");
    return text;
}

static void
test_parser_rejects_nesting_past_the_depth_limit (void **state)
{
    (void) state;
    char *at_limit = s_sample_nested (LD_DEPTH_MAX);
    ProtobufCMessage *message = NULL;
    assert_int_equal (s_parse (&s_sample_descriptor, at_limit, &message, NULL, 0), LD_OK);
    ld_pbjson_message_free (message);
    free (at_limit);

    char *past_limit = s_sample_nested (LD_DEPTH_MAX + 1);
    s_expect_refused (&s_sample_descriptor, past_limit, LD_ERR_TOO_DEEP, ".child.child");
    free (past_limit);
}

//  A Note JSON whose text is `size` bytes.
static char *
s_note_of_size (size_t size)
{
    char *text = malloc (size + 16);
    assert_non_null (text);
    memcpy (text, "{\"text\":\"", 9);
    memset (text + 9, 'x', size);
    memcpy (text + 9 + size, "\"}", 3);
    return text;
}

static void
test_parser_applies_the_wire_limits (void **state)
{
    (void) state;
    char *at_limit = s_note_of_size (LD_TEXT_MAX);
    ProtobufCMessage *message = NULL;
    assert_int_equal (s_parse (ld_payload_descriptor ("note"), at_limit, &message, NULL, 0), LD_OK);
    ld_pbjson_message_free (message);
    free (at_limit);

    char *past_limit = s_note_of_size (LD_TEXT_MAX + 1);
    s_expect_refused (ld_payload_descriptor ("note"), past_limit, LD_ERR_STRING_TOO_LONG,
                      "liandong.Note.text");
    free (past_limit);
    //  a NUL would silently cut the string for every C reader
    s_expect_refused (ld_payload_descriptor ("note"), "{\"text\":\"a\\u0000b\"}", LD_ERR_BAD_UTF8,
                      "liandong.Note.text");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_signing_reproduces_golden_envelopes),
        cmocka_unit_test (test_event_json_matches_golden),
        cmocka_unit_test (test_event_json_shows_keys_ids_and_the_decoded_note),
        cmocka_unit_test (test_unknown_type_keeps_payload_as_base64),
        cmocka_unit_test (test_inspect_prints_golden_json),
        cmocka_unit_test (test_inspect_reads_standard_input),
        cmocka_unit_test (test_inspect_refuses_a_bad_signature),
        cmocka_unit_test (test_inspect_refuses_a_truncated_envelope),
        cmocka_unit_test (test_inspect_refuses_a_missing_file),
        cmocka_unit_test (test_inspect_refuses_input_past_the_size_limit),
        cmocka_unit_test (test_inspect_help_prints_usage),
        cmocka_unit_test (test_note_round_trips_through_json),
        cmocka_unit_test (test_body_round_trips_through_json),
        cmocka_unit_test (test_parser_accepts_proto_names_numbers_and_url_safe_base64),
        cmocka_unit_test (test_sample_prints_every_field_shape),
        cmocka_unit_test (test_sample_round_trips_through_json),
        cmocka_unit_test (test_non_finite_numbers_print_as_strings),
        cmocka_unit_test (test_parser_rejects_an_unknown_field),
        cmocka_unit_test (test_parser_rejects_a_wrong_json_type),
        cmocka_unit_test (test_parser_rejects_out_of_range_numbers),
        cmocka_unit_test (test_parser_rejects_bad_base64),
        cmocka_unit_test (test_parser_rejects_a_missing_required_field),
        cmocka_unit_test (test_parser_rejects_a_field_given_twice_or_two_oneof_members),
        cmocka_unit_test (test_parser_rejects_too_many_repeated_elements),
        cmocka_unit_test (test_parser_rejects_nesting_past_the_depth_limit),
        cmocka_unit_test (test_parser_applies_the_wire_limits),
    };
    return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
