/*  cmd_cert.c -- `liandong cert`: certificates, revocations, rotations.

    issue | revoke | rotate   sign a trust event: through a node (Author on
        its control socket, as `publish` does) or --offline with a key kept
        off the network (ld_offline.h: the feed position beside the key, the
        event written to --out FILE for `liandong import`).
    show | tree   fetch every event under trust/ from a broker by catch-up,
        verify each, fold them (ld_trust) from the --trust roots, and print
        each key's standing or the hierarchy.

    Exit codes (as publish): 0 acknowledged (committed with --no-wait;
    written with --offline; printed), 64 usage, 65 refused (the rule on
    stderr) or bad data, 69 node or broker unreachable, 73 --out exists,
    75 queued or awaiting a certificate.
*/
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_authority.h"
#include "ld_cli.h"
#include "ld_connect.h"
#include "ld_event.h"
#include "ld_identity.h"
#include "ld_offline.h"
#include "ld_payload.h"
#include "ld_roots.h"
#include "ld_table.h"
#include "ld_trust.h"

#define S_TOPIC_KIND  "trust/"
#define S_ROOTS_MAX   16
#define S_KEY_SHORT   16 //  characters of a key shown in tables: "ed25519:" + 8
#define S_TIMEOUT_MAX 600000
#define S_SEQ_MAX     UINT64_MAX

typedef enum { S_ISSUE, S_REVOKE, S_ROTATE, S_SHOW, S_TREE } s_verb_t;

static const char *const s_verbs[] = {"issue", "revoke", "rotate", "show", "tree"};

typedef struct {
    s_verb_t verb;
    const char *control, *subject, *successor, *level, *path, *name;
    const char *identity, *out, *broker, *broker_key;
    const char *roots[S_ROOTS_MAX];
    size_t root_count;
    uint64_t after_seq;
    bool has_after_seq, offline, force, wait, json;
    uint32_t timeout_ms;
} s_options_t;

static void
s_usage (FILE *out, int verb)
{
    if (verb < 0)
        fprintf (out, "usage: liandong cert (issue|revoke|rotate|show|tree) [options]\n"
                      "\n"
                      "'liandong cert VERB --help' shows a verb's options.\n");
    if (verb == S_ISSUE)
        fprintf (out, "usage: liandong cert issue --control ipc://NODE --subject PUBFILE|KEY\n"
                      "                           --level LEVEL --path PATH --name NAME\n"
                      "                           [--no-wait] [--timeout MS]\n"
                      "       liandong cert issue --offline --identity ROOT/identity.secret\n"
                      "                           --out FILE [--force] --subject ... --level ...\n"
                      "                           --path ... --name ...\n"
                      "\n"
                      "Certifies the subject key at LEVEL (street, supervisor, broker, community,\n"
                      "compound, grid, unit) for org PATH (e.g. wudang/longguanglu/) under the\n"
                      "display NAME: a trust.certify event on topic trust/PATH in the certifier's\n"
                      "feed, signed by the node, or --offline by the key in --identity.\n");
    if (verb == S_REVOKE)
        fprintf (out,
                 "usage: liandong cert revoke (--control ipc://NODE | --offline --identity\n"
                 "                            SECRET --out FILE [--force]) --subject PUBFILE|KEY\n"
                 "                            --after-seq N [--path P] [--no-wait] [--timeout MS]\n"
                 "\n"
                 "Cuts the subject: its events after seq N are never valid. Topic trust/P;\n"
                 "P defaults to the node's first org path (or, --offline, to the path line\n"
                 "of the identity's identity.pub).\n");
    if (verb == S_ROTATE)
        fprintf (out,
                 "usage: liandong cert rotate (--control ipc://NODE | --offline --identity\n"
                 "                            SECRET --out FILE [--force]) --successor\n"
                 "                            PUBFILE|KEY [--path P] [--no-wait] [--timeout MS]\n"
                 "\n"
                 "Ends the signer's feed and hands its level, paths and names to the\n"
                 "successor key. Topic trust/P as for revoke.\n");
    if (verb == S_SHOW || verb == S_TREE)
        fprintf (out,
                 "usage: liandong cert %s --broker tcp://HOST:PORT --trust ROOT.pub...\n"
                 "                          [--broker-key PUB --identity SECRET]%s [--json]\n"
                 "\n"
                 "Fetches every trust event from the broker (catch-up of trust/), verifies\n"
                 "and folds them from the trust roots (--trust, repeatable: a key file with\n"
                 "optional 'path:' and 'name:' lines) and prints %s.\n",
                 s_verbs[verb], verb == S_SHOW ? " [--subject K]" : "",
                 verb == S_SHOW ? "each key's standing: level, paths, names, certifier,\n"
                                  "valid_through (its cut) and successor"
                                : "the hierarchy: name, level, path, key, and\n"
                                  "cut and successor marks");
    if (verb == S_ISSUE || verb == S_REVOKE || verb == S_ROTATE)
        fprintf (out, "\n"
                      "--offline writes FILE as an envelope file: each envelope after its\n"
                      "varint length (what `tail --raw` writes and `inspect` and `import`\n"
                      "read); an event left unwritten by an earlier interrupted run comes\n"
                      "first. The key's feed position is kept in ROOT/identity.position.\n"
                      "\n"
                      "Exit codes: 0 acknowledged (committed with --no-wait; written with\n"
                      "--offline), 64 usage, 65 refused (the rule on stderr), 69 node not\n"
                      "reachable, 73 FILE exists, 75 queued or awaiting certificate.\n");
}

//  --------------------------------------------------------------------------
//  Arguments

static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option long_options[] = {
        {"control", required_argument, NULL, 'c'},
        {"subject", required_argument, NULL, 's'},
        {"successor", required_argument, NULL, 'S'},
        {"level", required_argument, NULL, 'l'},
        {"path", required_argument, NULL, 'p'},
        {"name", required_argument, NULL, 'n'},
        {"after-seq", required_argument, NULL, 'a'},
        {"offline", no_argument, NULL, 'O'},
        {"identity", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {"no-wait", no_argument, NULL, 'W'},
        {"timeout", required_argument, NULL, 't'},
        {"broker", required_argument, NULL, 'b'},
        {"broker-key", required_argument, NULL, 'k'},
        {"trust", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    uint64_t number;
    while ((opt = getopt_long (argc, argv, "h", long_options, NULL)) != -1) {
        switch (opt) {
            case 'c':
                options->control = optarg;
                break;
            case 's':
                options->subject = optarg;
                break;
            case 'S':
                options->successor = optarg;
                break;
            case 'l':
                options->level = optarg;
                break;
            case 'p':
                options->path = optarg;
                break;
            case 'n':
                options->name = optarg;
                break;
            case 'a':
                if (!ld_connect_number ("--after-seq", optarg, 0, S_SEQ_MAX - 1,
                                        &options->after_seq))
                    return EX_USAGE;
                options->has_after_seq = true;
                break;
            case 'O':
                options->offline = true;
                break;
            case 'i':
                options->identity = optarg;
                break;
            case 'o':
                options->out = optarg;
                break;
            case 'f':
                options->force = true;
                break;
            case 'W':
                options->wait = false;
                break;
            case 't':
                if (!ld_connect_number ("--timeout", optarg, 1, S_TIMEOUT_MAX, &number))
                    return EX_USAGE;
                options->timeout_ms = (uint32_t) number;
                break;
            case 'b':
                options->broker = optarg;
                break;
            case 'k':
                options->broker_key = optarg;
                break;
            case 'T':
                if (options->root_count == S_ROOTS_MAX) {
                    ld_cli_error ("at most %d --trust roots", S_ROOTS_MAX);
                    return EX_USAGE;
                }
                options->roots[options->root_count++] = optarg;
                break;
            case 'j':
                options->json = true;
                break;
            case 'h':
                s_usage (stdout, (int) options->verb);
                return -1;
            default:
                s_usage (stderr, (int) options->verb);
                return EX_USAGE;
        }
    }
    if (optind != argc) {
        s_usage (stderr, (int) options->verb);
        return EX_USAGE;
    }
    return EX_OK;
}

//  An org path: "" or slug segments each ending '/'.
static bool
s_path_valid (const char *path)
{
    return *path == '\0' || ld_topic_check (path, strlen (path)) == LD_OK;
}

//  True if path lies inside container, segment-wise ("" holds everything).
static bool
s_path_inside (const char *path, const char *container)
{
    return strncmp (path, container, strlen (container)) == 0;
}

//  Checks what each signing verb needs. Returns EX_OK or EX_USAGE (said).
static int
s_check_signing (s_options_t *options)
{
    s_verb_t verb = options->verb;
    if (options->offline) {
        if (!options->identity || !options->out || options->control) {
            ld_cli_error ("--offline needs --identity SECRET and --out FILE (and no --control)");
            return EX_USAGE;
        }
    }
    else if (!options->control || options->identity || options->out) {
        ld_cli_error ("give --control ipc://NODE, or --offline --identity SECRET --out FILE");
        return EX_USAGE;
    }
    if (verb == S_ISSUE) {
        if (!options->subject || !options->level || !options->path || !options->name) {
            ld_cli_error ("cert issue needs --subject, --level, --path and --name");
            return EX_USAGE;
        }
        ld_level_t level = ld_level_from_name (options->level);
        if (level == LD_LEVEL_COUNT || level == LD_LEVEL_DISTRICT) {
            ld_cli_error ("bad --level '%s': expected one of street, supervisor, broker, "
                          "community, compound, grid, unit (district is a root, never certified)",
                          options->level);
            return EX_USAGE;
        }
        if (!*options->name) {
            ld_cli_error ("--name must not be empty");
            return EX_USAGE;
        }
    }
    if (verb == S_REVOKE && (!options->subject || !options->has_after_seq)) {
        ld_cli_error ("cert revoke needs --subject and --after-seq N");
        return EX_USAGE;
    }
    if (verb == S_ROTATE && !options->successor) {
        ld_cli_error ("cert rotate needs --successor");
        return EX_USAGE;
    }
    if (options->path && (!*options->path || !s_path_valid (options->path))) {
        ld_cli_error ("bad --path '%s': an org path is ASCII slug segments [a-z0-9._-] each "
                      "ending in '/' (e.g. wudang/longguanglu/)",
                      options->path);
        return EX_USAGE;
    }
    return EX_OK;
}

//  The payload of the signing verb, and its type. Usage errors are said.
static int
s_payload (const s_options_t *options, const char **type_p, uint8_t **data_p, size_t *size_p)
{
    uint8_t key[LD_KEY_BYTES];
    char err[512];
    const char *which = options->verb == S_ROTATE ? options->successor : options->subject;
    ld_status_t rc = ld_public_key_load (which, key, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return rc == LD_ERR_NOT_FOUND ? EX_NOINPUT : EX_USAGE;
    }
    if (options->verb == S_ISSUE) {
        *type_p = LD_TYPE_CERTIFY;
        rc = ld_payload_certify (key, options->level, options->path, options->name, data_p, size_p);
    }
    else if (options->verb == S_REVOKE) {
        *type_p = LD_TYPE_REVOKE;
        rc = ld_payload_revoke (key, options->after_seq, data_p, size_p);
    }
    else {
        *type_p = LD_TYPE_ROTATE;
        rc = ld_payload_rotate (key, data_p, size_p);
    }
    if (rc != LD_OK) {
        ld_cli_error ("cannot build the %s payload: %s", *type_p, ld_status_text (rc));
        return EX_USAGE;
    }
    return EX_OK;
}

//  --------------------------------------------------------------------------
//  Signing through a node

static int
s_sign_online (s_options_t *options, const char *topic_path, const char *type,
               const uint8_t *payload, size_t size)
{
    zsock_t *sock = NULL;
    char err[512], path[LD_TOPIC_MAX + 1];
    ld_status_t rc = ld_connect_control (options->control, &sock, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return rc == LD_ERR_NOT_FOUND ? EX_UNAVAILABLE : EX_USAGE;
    }
    int code = EX_OK;
    if (!topic_path) {
        code = ld_connect_node_path (sock, (int) options->timeout_ms, "trust", path, sizeof path);
        topic_path = path;
    }
    char topic[LD_TOPIC_MAX + 16];
    snprintf (topic, sizeof topic, "%s%s", S_TOPIC_KIND, topic_path);
    ld_control_reply_t *reply = NULL;
    if (code == EX_OK)
        code = ld_connect_author (sock, topic, type, payload, size, options->wait,
                                  options->timeout_ms, &reply);
    if (code == EX_OK) {
        const Liandong__Sync__Authored *authored = reply->authored;
        const char *status = authored->status;
        if (authored->has_id && authored->id.len == LD_ID_BYTES && !streq (status, "refused")) {
            char id[LD_ID_TEXT_BYTES];
            ld_id_to_text (authored->id.data, id);
            printf ("%s %" PRIu64 "\n", id, authored->seq);
        }
        if (streq (status, "acknowledged") || streq (status, "committed"))
            code = EX_OK;
        else if (streq (status, "queued") || streq (status, "awaiting-certificate")) {
            ld_cli_error ("%s: %s", status,
                          authored->reason ? authored->reason : "not acknowledged yet");
            code = EX_TEMPFAIL;
        }
        else {
            ld_cli_error ("refused: %s", authored->reason ? authored->reason : status);
            code = EX_DATAERR;
        }
    }
    ld_control_reply_free (&reply);
    zsock_destroy (&sock);
    return code;
}

//  --------------------------------------------------------------------------
//  Signing offline

//  The org path of the offline key: the path line of identity.pub beside
//  the secret, or "" if it has none (or no such file).
static void
s_offline_own_path (const char *secret, char path[LD_TOPIC_MAX + 1], char name[LD_NAME_MAX + 1])
{
    char pub[PATH_MAX];
    path[0] = '\0';
    const char *slash = strrchr (secret, '/');
    int dir_len = slash ? (int) (slash - secret) : 1;
    snprintf (pub, sizeof pub, "%.*s/%s", dir_len, slash ? secret : ".", LD_IDENTITY_PUBLIC);
    uint8_t key[LD_KEY_BYTES];
    if (ld_root_load (pub, key, path, name, NULL, 0) != LD_OK)
        path[0] = '\0';
}

static int
s_sign_offline (s_options_t *options, const char *topic_path, const char *type,
                const uint8_t *payload, size_t size)
{
    char own[LD_TOPIC_MAX + 1], own_name[LD_NAME_MAX + 1];
    s_offline_own_path (options->identity, own, own_name);
    if (!topic_path) {
        if (!*own) {
            ld_cli_error ("no org path for the topic: pass --path P (or add a 'path:' line to "
                          "the identity's identity.pub)");
            return EX_USAGE;
        }
        topic_path = own;
    }
    if (*own && !s_path_inside (topic_path, own)) {
        ld_cli_error ("path '%s' lies outside the signer's org path '%s' [outside-path]",
                      topic_path, own);
        return EX_USAGE;
    }
    char topic[LD_TOPIC_MAX + 16], err[512];
    snprintf (topic, sizeof topic, "%s%s", S_TOPIC_KIND, topic_path);
    ld_offline_result_t result;
    ld_status_t rc = ld_offline_sign (options->identity, topic, type, payload, size, zclock_time (),
                                      options->out, options->force, &result, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return ld_cli_exit_code (rc);
    }
    if (result.recovered)
        ld_cli_error ("an earlier interrupted signing left %zu event(s) unwritten: '%s' holds "
                      "them before the new one",
                      result.recovered, options->out);
    char id[LD_ID_TEXT_BYTES];
    ld_id_to_text (result.id, id);
    printf ("%s %" PRIu64 "\n", id, result.seq);
    return EX_OK;
}

static int
s_sign (s_options_t *options)
{
    int code = s_check_signing (options);
    if (code != EX_OK)
        return code;
    const char *topic_path = options->path; //  NULL: the node's or the key file's own
    const char *type = NULL;
    uint8_t *payload = NULL;
    size_t size = 0;
    code = s_payload (options, &type, &payload, &size);
    if (code == EX_OK)
        code = options->offline ? s_sign_offline (options, topic_path, type, payload, size)
                                : s_sign_online (options, topic_path, type, payload, size);
    free (payload);
    return code;
}

//  --------------------------------------------------------------------------
//  Reading the trust state from a broker

//  One verified event of the trust feeds into the fold.
static int
s_fold_one (void *arg, const ld_event_t *event, uint64_t store_seq, const char *invalid)
{
    (void) store_seq;
    (void) invalid;
    char why[256];
    if (ld_trust_fold (arg, event, why, sizeof why) != LD_OK)
        ld_cli_error ("skipped a trust event: %s", why);
    return 0;
}

//  Folds every trust event the broker holds into trust.
static int
s_fetch (const s_options_t *options, ld_trust_t *trust)
{
    return ld_connect_catchup (options->broker, options->broker_key, options->identity,
                               S_TOPIC_KIND, s_fold_one, trust);
}

//  "ed25519:" and the first characters of the key.
static void
s_key_short (const uint8_t *key, char out[LD_KEY_TEXT_BYTES])
{
    ld_key_to_text (key, out);
    out[S_KEY_SHORT] = '\0';
}

static void
s_cut_text (const ld_trust_node_t *node, char *out, size_t size)
{
    static const char *const why[] = {"", "revoked", "rotated", "frozen"};
    if (node->valid_through == LD_TRUST_NO_CUT)
        snprintf (out, size, "%s", "");
    else
        snprintf (out, size, "%" PRIu64 " (%s)", node->valid_through,
                  why[node->cut <= LD_CUT_FROZEN ? node->cut : 0]);
}

//  Box-drawing prefix of nodes[index]: "│   " or "    " per ancestor
//  below the root, then "├── " or "└── ".
static void
s_tree_prefix (const ld_trust_node_t *nodes, size_t count, size_t index, char *out, size_t size)
{
    out[0] = '\0';
    if (nodes[index].depth == 0)
        return;
    const char *parts[LD_TOPIC_MAX];
    size_t depth = nodes[index].depth;
    size_t at = index;
    for (size_t level = depth; level >= 1; level--) {
        bool last = true;
        for (size_t j = at + 1; j < count && nodes[j].depth >= nodes[at].depth; j++)
            if (nodes[j].depth == nodes[at].depth && nodes[j].parent == nodes[at].parent) {
                last = false;
                break;
            }
        if (level == depth)
            parts[level] = last ? "└── " : "├── ";
        else
            parts[level] = last ? "    " : "│   ";
        at = nodes[at].parent;
        if (at == SIZE_MAX)
            break;
    }
    for (size_t level = 1; level <= depth; level++)
        strncat (out, parts[level], size - strlen (out) - 1);
}

static json_t *
s_node_json (const ld_trust_node_t *nodes, size_t index)
{
    const ld_trust_node_t *node = &nodes[index];
    char key[LD_KEY_TEXT_BYTES], cut[64];
    ld_key_to_text (node->key, key);
    json_t *obj = json_object ();
    json_object_set_new (obj, "name", json_string (node->name));
    json_object_set_new (obj, "level", json_string (ld_level_name (node->level)));
    json_object_set_new (obj, "path", json_string (node->path));
    json_object_set_new (obj, "key", json_string (key));
    json_object_set_new (obj, "depth", json_integer ((json_int_t) node->depth));
    if (node->parent != SIZE_MAX) {
        ld_key_to_text (nodes[node->parent].key, key);
        json_object_set_new (obj, "certifier", json_string (key));
        json_object_set_new (obj, "cert_seq", json_integer ((json_int_t) node->cert_seq));
    }
    else
        json_object_set_new (obj, "certifier", json_null ());
    if (node->valid_through != LD_TRUST_NO_CUT) {
        json_object_set_new (obj, "valid_through", json_integer ((json_int_t) node->valid_through));
        s_cut_text (node, cut, sizeof cut);
        static const char *const why[] = {"", "revoked", "rotated", "frozen"};
        json_object_set_new (obj, "cut",
                             json_string (why[node->cut <= LD_CUT_FROZEN ? node->cut : 0]));
    }
    if (node->has_successor) {
        ld_key_to_text (node->successor, key);
        json_object_set_new (obj, "successor", json_string (key));
    }
    if (node->inherited) {
        ld_key_to_text (node->predecessor, key);
        json_object_set_new (obj, "predecessor", json_string (key));
    }
    return obj;
}

static int
s_print_json (json_t *array)
{
    char *text = json_dumps (array, JSON_INDENT (2));
    json_decref (array);
    if (!text)
        return EX_OSERR;
    puts (text);
    free (text);
    return EX_OK;
}

static int
s_print_tree (const s_options_t *options, const ld_trust_node_t *nodes, size_t count)
{
    if (options->json) {
        json_t *array = json_array ();
        for (size_t i = 0; i < count; i++)
            json_array_append_new (array, s_node_json (nodes, i));
        return s_print_json (array);
    }
    char (*names)[LD_NAME_MAX * 2 + LD_TOPIC_MAX * 4] = calloc (count ? count : 1, sizeof *names);
    if (!names)
        return EX_OSERR;
    size_t name_width = 0, level_width = 0, path_width = 0;
    for (size_t i = 0; i < count; i++) {
        char prefix[LD_TOPIC_MAX * 4];
        s_tree_prefix (nodes, count, i, prefix, sizeof prefix);
        snprintf (names[i], sizeof names[i], "%s%s", prefix, nodes[i].name);
        size_t width = ld_table_text_width (names[i]);
        name_width = width > name_width ? width : name_width;
        width = strlen (ld_level_name (nodes[i].level));
        level_width = width > level_width ? width : level_width;
        width = ld_table_text_width (nodes[i].path[0] ? nodes[i].path : "(anywhere)");
        path_width = width > path_width ? width : path_width;
    }
    int code = EX_OK;
    for (size_t i = 0; i < count && code == EX_OK; i++) {
        const ld_trust_node_t *node = &nodes[i];
        char key[LD_KEY_TEXT_BYTES], marks[256] = "", other[LD_KEY_TEXT_BYTES];
        s_key_short (node->key, key);
        if (node->valid_through != LD_TRUST_NO_CUT) {
            char cut[64];
            s_cut_text (node, cut, sizeof cut);
            snprintf (marks, sizeof marks, "  cut after %s", cut);
        }
        if (node->has_successor) {
            s_key_short (node->successor, other);
            snprintf (marks + strlen (marks), sizeof marks - strlen (marks), "  successor %s…",
                      other);
        }
        if (node->inherited) {
            s_key_short (node->predecessor, other);
            snprintf (marks + strlen (marks), sizeof marks - strlen (marks), "  rotated from %s…",
                      other);
        }
        char *name = ld_table_fit (names[i], (int) name_width, false);
        char *level = ld_table_fit (ld_level_name (node->level), (int) level_width, false);
        char *path =
            ld_table_fit (node->path[0] ? node->path : "(anywhere)", (int) path_width, false);
        if (!name || !level || !path)
            code = EX_OSERR;
        else
            printf ("%s  %s  %s  %s…%s\n", name, level, path, key, marks);
        free (name);
        free (level);
        free (path);
    }
    free (names);
    return code;
}

static int
s_print_show (const s_options_t *options, ld_trust_t *trust, const ld_trust_node_t *nodes,
              size_t count)
{
    uint8_t only[LD_KEY_BYTES];
    if (options->subject) {
        char err[512];
        if (ld_public_key_load (options->subject, only, err, sizeof err) != LD_OK) {
            ld_cli_error ("%s", err);
            return EX_USAGE;
        }
    }
    static const char *const columns[] = {"key",       "level",         "paths", "names",
                                          "certifier", "valid_through", "cut",   "successor"};
    ld_table_t *table = ld_table_new ("keys", columns, sizeof columns / sizeof columns[0]);
    json_t *array = json_array ();
    if (!table || !array) {
        ld_table_destroy (&table);
        json_decref (array);
        return EX_OSERR;
    }
    for (size_t i = 0; i < count; i++) {
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = memcmp (nodes[j].key, nodes[i].key, LD_KEY_BYTES) != 0;
        if (!first || (options->subject && memcmp (nodes[i].key, only, LD_KEY_BYTES) != 0))
            continue;
        //  One row per key: its grants joined.
        char paths[1024] = "", names[2048] = "", certifiers[512] = "";
        json_t *obj = s_node_json (nodes, i);
        json_t *jpaths = json_array (), *jnames = json_array ();
        for (size_t j = i; j < count; j++) {
            if (memcmp (nodes[j].key, nodes[i].key, LD_KEY_BYTES) != 0)
                continue;
            char certifier[LD_KEY_TEXT_BYTES] = "root";
            if (nodes[j].parent != SIZE_MAX)
                s_key_short (nodes[nodes[j].parent].key, certifier);
            const char *sep = paths[0] ? ", " : "";
            snprintf (paths + strlen (paths), sizeof paths - strlen (paths), "%s%s", sep,
                      nodes[j].path[0] ? nodes[j].path : "(anywhere)");
            snprintf (names + strlen (names), sizeof names - strlen (names), "%s%s", sep,
                      nodes[j].name);
            snprintf (certifiers + strlen (certifiers), sizeof certifiers - strlen (certifiers),
                      "%s%s", sep, certifier);
            json_array_append_new (jpaths, json_string (nodes[j].path));
            json_array_append_new (jnames, json_string (nodes[j].name));
        }
        json_object_del (obj, "path");
        json_object_del (obj, "name");
        json_object_del (obj, "depth");
        json_object_set_new (obj, "paths", jpaths);
        json_object_set_new (obj, "names", jnames);
        json_object_set_new (obj, "level",
                             json_string (ld_level_name (ld_trust_level (trust, nodes[i].key))));
        json_array_append_new (array, obj);
        char key[LD_KEY_TEXT_BYTES], valid[32] = "-", cut[16] = "-",
                                     successor[LD_KEY_TEXT_BYTES] = "-";
        ld_key_to_text (nodes[i].key, key);
        if (nodes[i].valid_through != LD_TRUST_NO_CUT) {
            static const char *const why[] = {"-", "revoked", "rotated", "frozen"};
            snprintf (valid, sizeof valid, "%" PRIu64, nodes[i].valid_through);
            snprintf (cut, sizeof cut, "%s", why[nodes[i].cut <= LD_CUT_FROZEN ? nodes[i].cut : 0]);
        }
        if (nodes[i].has_successor)
            ld_key_to_text (nodes[i].successor, successor);
        const char *row[] = {key,        ld_level_name (ld_trust_level (trust, nodes[i].key)),
                             paths,      names,
                             certifiers, valid,
                             cut,        successor};
        ld_table_add (table, row);
    }
    int code = EX_OK;
    if (options->json)
        code = s_print_json (array);
    else {
        json_decref (array);
        ld_table_print (table, stdout, false);
    }
    ld_table_destroy (&table);
    return code;
}

static int
s_read (const s_options_t *options)
{
    if (!options->broker || options->root_count == 0) {
        ld_cli_error ("cert %s needs --broker tcp://... and at least one --trust ROOT.pub",
                      s_verbs[options->verb]);
        return EX_USAGE;
    }
    ld_trust_t *trust = ld_trust_new ();
    if (!trust)
        return EX_OSERR;
    int code = EX_OK;
    char err[512];
    for (size_t i = 0; i < options->root_count && code == EX_OK; i++) {
        ld_status_t rc = ld_trust_add_root_file (trust, options->roots[i], err, sizeof err);
        if (rc != LD_OK) {
            ld_cli_error ("%s", err);
            code = rc == LD_ERR_NOT_FOUND ? EX_NOINPUT : EX_USAGE;
        }
    }
    if (code == EX_OK)
        code = s_fetch (options, trust);
    ld_trust_node_t *nodes = NULL;
    size_t count = 0;
    if (code == EX_OK && ld_trust_tree (trust, &nodes, &count) != LD_OK)
        code = EX_OSERR;
    if (code == EX_OK)
        code = options->verb == S_TREE ? s_print_tree (options, nodes, count)
                                       : s_print_show (options, trust, nodes, count);
    free (nodes);
    ld_trust_destroy (&trust);
    return code;
}

int
ld_cmd_cert (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    if (argc < 2 || streq (argv[1], "--help") || streq (argv[1], "-h")) {
        s_usage (argc < 2 ? stderr : stdout, -1);
        return argc < 2 ? EX_USAGE : EX_OK;
    }
    s_options_t options = {.wait = true, .timeout_ms = LD_CONNECT_TIMEOUT_MS};
    size_t verb = 0;
    while (verb < sizeof s_verbs / sizeof s_verbs[0] && !streq (s_verbs[verb], argv[1]))
        verb++;
    if (verb == sizeof s_verbs / sizeof s_verbs[0]) {
        ld_cli_error ("unknown cert verb '%s'; see 'liandong cert --help'", argv[1]);
        return EX_USAGE;
    }
    options.verb = (s_verb_t) verb;
    int code = s_parse (argc - 1, argv + 1, &options);
    if (code != EX_OK)
        return code < 0 ? EX_OK : code;
    code = options.verb <= S_ROTATE ? s_sign (&options) : s_read (&options);
    fflush (stdout);
    return code;
}
