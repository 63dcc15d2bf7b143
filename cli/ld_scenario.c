/*  ld_scenario.c -- the seed scenario player. See ld_scenario.h.

    Every action is a child `liandong` command (ld_spawn_run) whose output
    the player reads for the ids it needs next (`<id> <seq>`, or JSON lines
    from `publish --json -`). A command that does not succeed stops the
    play: the scenario is data we ship, so any refusal is a bug to see.
*/
#include "ld_scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <czmq.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "ld_cli.h"
#include "ld_crypto.h"
#include "ld_identity.h"
#include "ld_limits.h"
#include "ld_roots.h"
#include "ld_table.h"

#define S_ACTORS_MAX  256
#define S_READY_MS    15000
#define S_RUN_MS      120000 //  one command, bulk included
#define S_OUT_MAX     (4 * 1024 * 1024)
#define S_BULK_BATCH  500 //  events per `publish --json -`
#define S_DAY_MS      (24LL * 3600 * 1000)
#define S_SHANGHAI_MS (8LL * 3600 * 1000) //  UTC+8, no daylight saving
#define S_PATH_BYTES  (PATH_MAX + 128)
#define S_BROKERS_MAX 8     //  street brokers that follow the district's
#define S_SYNC_MS     30000 //  wait for the links to settle, at most
#define S_POLL_MS     50

typedef struct {
    char slug[48];
    char name[LD_NAME_MAX + 1];
    char level[16];
    char path[LD_TOPIC_MAX + 1];
    char certifier[48];
    bool node;
    char secret[S_PATH_BYTES];
    char pub[S_PATH_BYTES];
    char control[S_PATH_BYTES];
    uint8_t key[LD_KEY_BYTES];
    char key_text[LD_KEY_TEXT_BYTES];
    ld_spawn_t proc;
} s_actor_t;

//  A street's own broker: it follows the district's (--follow) and serves
//  the nodes of the offices under its path.
typedef struct {
    s_actor_t *actor; //  its identity, certified at level broker
    ld_spawn_t proc;
    char listen[256];
} s_street_broker_t;

struct _ld_scenario_t {
    json_t *json;
    char dir[PATH_MAX];
    int64_t now_ms;
    s_actor_t *actors;
    size_t count;
    ld_spawn_t broker;
    char listen[256];
    s_street_broker_t streets[S_BROKERS_MAX];
    size_t street_count;
    char broker_pub[S_PATH_BYTES];
    char root_pub[S_PATH_BYTES];
    char supervisor[S_PATH_BYTES];
    char log[S_PATH_BYTES];
    char *out; //  S_OUT_MAX: the output of the last command
    size_t events, commands;
    size_t resolution_events; //  under resolution/: what the supervisor's tail sees
    size_t verified;          //  tasks verified: practical matters done
};

//  --------------------------------------------------------------------------
//  Loading

ld_scenario_t *
ld_scenario_load (const char *path, char *err, size_t err_size)
{
    json_error_t error;
    json_t *json = json_load_file (path, 0, &error);
    if (!json) {
        snprintf (err, err_size, "cannot read scenario '%s': %s (line %d)", path, error.text,
                  error.line);
        return NULL;
    }
    if (!json_is_object (json_object_get (json, "district"))
        || !json_is_array (json_object_get (json, "offices"))
        || !json_is_object (json_object_get (json, "meeting"))) {
        snprintf (err, err_size, "scenario '%s' lacks district, offices or meeting", path);
        json_decref (json);
        return NULL;
    }
    ld_scenario_t *self = calloc (1, sizeof *self);
    if (self) {
        self->actors = calloc (S_ACTORS_MAX, sizeof *self->actors);
        self->out = malloc (S_OUT_MAX);
    }
    if (!self || !self->actors || !self->out) {
        snprintf (err, err_size, "out of memory");
        if (self) {
            free (self->actors);
            free (self->out);
        }
        free (self);
        json_decref (json);
        return NULL;
    }
    self->json = json;
    return self;
}

int
ld_scenario_stop (ld_scenario_t *self)
{
    int rc = 0;
    for (size_t i = self->count; i-- > 0;)
        if (self->actors[i].proc.pid > 0 && ld_spawn_stop (&self->actors[i].proc) != 0) {
            ld_cli_error ("the node of %s did not stop cleanly", self->actors[i].name);
            rc = -1;
        }
    for (size_t i = self->street_count; i-- > 0;)
        if (self->streets[i].proc.pid > 0 && ld_spawn_stop (&self->streets[i].proc) != 0) {
            ld_cli_error ("the broker of %s did not stop cleanly", self->streets[i].actor->name);
            rc = -1;
        }
    if (self->broker.pid > 0 && ld_spawn_stop (&self->broker) != 0) {
        ld_cli_error ("the broker did not stop cleanly");
        rc = -1;
    }
    return rc;
}

void
ld_scenario_destroy (ld_scenario_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_scenario_t *self = *self_p;
    ld_scenario_stop (self);
    json_decref (self->json);
    free (self->actors);
    free (self->out);
    free (self);
    *self_p = NULL;
}

const char *
ld_scenario_broker (ld_scenario_t *self)
{
    return self->listen;
}

const char *
ld_scenario_broker_key (ld_scenario_t *self)
{
    return self->broker_pub;
}

const char *
ld_scenario_supervisor_identity (ld_scenario_t *self)
{
    return self->supervisor;
}

const char *
ld_scenario_root_pub (ld_scenario_t *self)
{
    return self->root_pub;
}

const char *
ld_scenario_control (ld_scenario_t *self, const char *slug)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->actors[i].slug, slug) == 0 && self->actors[i].node)
            return self->actors[i].control;
    return NULL;
}

void
ld_scenario_counts (ld_scenario_t *self, size_t *events, size_t *commands,
                    size_t *resolution_events)
{
    *events = self->events;
    *commands = self->commands;
    *resolution_events = self->resolution_events;
}

//  --------------------------------------------------------------------------
//  Helpers

static const char *
s_str (json_t *object, const char *name)
{
    const char *value = json_string_value (json_object_get (object, name));
    return value ? value : "";
}

static s_actor_t *
s_find (ld_scenario_t *self, const char *slug)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->actors[i].slug, slug) == 0)
            return &self->actors[i];
    return NULL;
}

//  A relative date ("+7d", "-2d", "0d") as YYYY-MM-DD in Asia/Shanghai.
static void
s_date (ld_scenario_t *self, const char *relative, char *out, size_t size)
{
    long days = strtol (relative, NULL, 10);
    int64_t ms = self->now_ms + days * S_DAY_MS + S_SHANGHAI_MS;
    time_t seconds = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    strftime (out, size, "%Y-%m-%d", &tm);
}

//  Makes an identity for an actor; the root's .pub names its path and name.
static s_actor_t *
s_actor_add (ld_scenario_t *self, const char *slug, const char *name, const char *level,
             const char *path, const char *certifier, bool node)
{
    if (self->count == S_ACTORS_MAX || s_find (self, slug)) {
        ld_cli_error ("scenario: actor '%s' given twice or too many actors", slug);
        return NULL;
    }
    s_actor_t *actor = &self->actors[self->count];
    snprintf (actor->slug, sizeof actor->slug, "%s", slug);
    snprintf (actor->name, sizeof actor->name, "%s", name);
    snprintf (actor->level, sizeof actor->level, "%s", level);
    snprintf (actor->path, sizeof actor->path, "%s", path);
    snprintf (actor->certifier, sizeof actor->certifier, "%s", certifier ? certifier : "");
    actor->node = node;
    char dir[PATH_MAX], err[512];
    snprintf (dir, sizeof dir, "%.*s/%s", PATH_MAX - 64, self->dir, slug);
    snprintf (actor->secret, sizeof actor->secret, "%s/%s", dir, LD_IDENTITY_SECRET);
    snprintf (actor->pub, sizeof actor->pub, "%s/%s", dir, LD_IDENTITY_PUBLIC);
    snprintf (actor->control, sizeof actor->control, "ipc://%s/%s.ipc", self->dir, slug);
    ld_identity_t *identity = ld_identity_new ();
    if (!identity)
        return NULL;
    ld_status_t rc = ld_identity_save (identity, dir, false, err, sizeof err);
    memcpy (actor->key, ld_identity_public_key (identity), LD_KEY_BYTES);
    ld_identity_destroy (&identity);
    ld_key_to_text (actor->key, actor->key_text);
    if (rc == LD_OK && strcmp (level, "district") == 0) {
        char text[1024];
        rc = ld_root_format (actor->key, path, name, text, sizeof text, err, sizeof err);
        FILE *file = rc == LD_OK ? fopen (actor->pub, "we") : NULL;
        if (rc == LD_OK && (!file || fputs (text, file) < 0))
            rc = ld_fail (err, sizeof err, LD_ERR_IO, "cannot write '%s'", actor->pub);
        if (file && fclose (file) != 0 && rc == LD_OK)
            rc = ld_fail (err, sizeof err, LD_ERR_IO, "cannot write '%s'", actor->pub);
    }
    if (rc != LD_OK) {
        ld_cli_error ("%s", err);
        return NULL;
    }
    self->count++;
    return actor;
}

//  Runs one command (argv NULL-terminated) with optional stdin; its stdout
//  is in self->out. 0 if it exited 0, else prints why and returns -1.
static int
s_run (ld_scenario_t *self, const char *const *argv, const char *input, size_t input_len)
{
    size_t used = 0;
    self->commands++;
    int rc =
        ld_spawn_run (argv, input, input_len, self->out, S_OUT_MAX, &used, self->log, S_RUN_MS);
    if (rc == 0)
        return 0;
    char line[512] = "";
    for (size_t i = 0; argv[i] && strlen (line) + strlen (argv[i]) + 2 < sizeof line; i++) {
        strcat (line, argv[i]);
        strcat (line, " ");
    }
    ld_cli_error ("scenario: `liandong %s` exited %d; see '%s'", line, rc, self->log);
    return -1;
}

//  Runs an authoring command and takes the event id from its `<id> <seq>`
//  output.
static int
s_author (ld_scenario_t *self, const char *const *argv, char id[LD_ID_TEXT_BYTES])
{
    if (s_run (self, argv, NULL, 0) != 0)
        return -1;
    if (id) {
        size_t n = strcspn (self->out, " \n");
        if (n + 1 > LD_ID_TEXT_BYTES || strncmp (self->out, "blake2b:", 8) != 0) {
            ld_cli_error ("scenario: no event id in the output of `liandong %s %s`", argv[0],
                          argv[1]);
            return -1;
        }
        memcpy (id, self->out, n);
        id[n] = '\0';
    }
    self->events++;
    return 0;
}

//  Authors every event of lines (an array of {"topic", "type", "payload"})
//  through `publish --json -` on actor's node, in batches; appends each
//  event's id (text) to ids if given. 0 or -1.
static int
s_bulk (ld_scenario_t *self, s_actor_t *actor, json_t *lines, json_t *ids)
{
    size_t total = json_array_size (lines);
    for (size_t first = 0; first < total; first += S_BULK_BATCH) {
        size_t last = first + S_BULK_BATCH < total ? first + S_BULK_BATCH : total;
        char *input = NULL;
        size_t input_len = 0;
        FILE *stream = open_memstream (&input, &input_len);
        if (!stream)
            return -1;
        for (size_t i = first; i < last; i++) {
            json_dumpf (json_array_get (lines, i), stream, JSON_COMPACT);
            fputc ('\n', stream);
        }
        fclose (stream);
        const char *argv[] = {"publish", "--control", actor->control, "--type", "note",
                              "--json",  "-",         "--timeout",    "60000",  NULL};
        int rc = s_run (self, argv, input, input_len);
        free (input);
        if (rc != 0)
            return -1;
        //  one JSON object per input line, in input order
        char *save = NULL;
        size_t got = 0;
        for (char *line = strtok_r (self->out, "\n", &save); line;
             line = strtok_r (NULL, "\n", &save)) {
            json_t *result = json_loads (line, 0, NULL);
            const char *status = s_str (result, "status");
            if (strcmp (status, "acknowledged") != 0) {
                ld_cli_error ("scenario: %s: an event was not acknowledged: %s", actor->name, line);
                json_decref (result);
                return -1;
            }
            if (ids)
                json_array_append (ids, json_object_get (result, "id"));
            json_decref (result);
            got++;
        }
        if (got != last - first) {
            ld_cli_error ("scenario: %s: %zu of %zu events answered", actor->name, got,
                          last - first);
            return -1;
        }
        self->events += got;
    }
    return 0;
}

//  One NDJSON line for s_bulk; takes payload.
static void
s_line (json_t *lines, const char *kind, const char *path, const char *type, json_t *payload)
{
    char topic[2 * LD_TOPIC_MAX];
    snprintf (topic, sizeof topic, "%.32s/%.*s", kind, LD_TOPIC_MAX, path);
    json_array_append_new (
        lines, json_pack ("{s:s, s:s, s:o}", "topic", topic, "type", type, "payload", payload));
}

//  pattern with its one number placeholder ("%d", "%02d", "%03d") replaced
//  by n. The patterns come from the scenario file, so they are never given
//  to printf as formats.
static void
s_pattern (char *out, size_t size, const char *pattern, size_t n)
{
    const char *mark = strchr (pattern, '%');
    if (!mark) {
        snprintf (out, size, "%s%zu", pattern, n);
        return;
    }
    const char *end = mark + 1;
    int width = 0;
    while (*end >= '0' && *end <= '9')
        width = width * 10 + (*end++ - '0');
    if (*end == 'd')
        end++;
    snprintf (out, size, "%.*s%0*zu%s", (int) (mark - pattern), pattern, width > 9 ? 9 : width, n,
              end);
}

//  Standard base64 of 32 key bytes (proto3 JSON bytes).
static json_t *
s_bytes (const uint8_t *data, size_t size)
{
    char *text = ld_base64_encode (data, size);
    json_t *json = json_string (text ? text : "");
    free (text);
    return json;
}

//  An id's bytes from its text, as proto3 JSON bytes.
static json_t *
s_id_bytes (const char *id_text)
{
    uint8_t id[LD_ID_BYTES] = {0};
    ld_id_from_text (id_text, id);
    return s_bytes (id, sizeof id);
}

//  --------------------------------------------------------------------------
//  The federation

static int
s_start_broker (ld_scenario_t *self)
{
    char data[S_PATH_BYTES], log[S_PATH_BYTES], identity[S_PATH_BYTES];
    snprintf (data, sizeof data, "%s/broker.data", self->dir);
    snprintf (log, sizeof log, "%s/broker.log", self->dir);
    s_actor_t *broker = s_find (self, "broker");
    snprintf (identity, sizeof identity, "%s", broker->secret);
    snprintf (self->broker_pub, sizeof self->broker_pub, "%s", broker->pub);
    const char *argv[] = {"broker",     "--data", data,      "--listen",     "tcp://127.0.0.1:*",
                          "--identity", identity, "--trust", self->root_pub, "--workers",
                          "2",          NULL};
    if (ld_spawn_start (&self->broker, argv, log, S_READY_MS) != 0
        || ld_spawn_endpoint (&self->broker, "listen", self->listen, sizeof self->listen) != 0) {
        ld_cli_error ("the broker did not start; see '%s'", log);
        return EX_UNAVAILABLE;
    }
    return 0;
}

//  A street broker: --follow the district's, pinned by its key.
static int
s_start_street_broker (ld_scenario_t *self, s_street_broker_t *street)
{
    char data[S_PATH_BYTES], log[S_PATH_BYTES], follow[S_PATH_BYTES + 300];
    snprintf (data, sizeof data, "%s/%s.data", self->dir, street->actor->slug);
    snprintf (log, sizeof log, "%s/%s.log", self->dir, street->actor->slug);
    snprintf (follow, sizeof follow, "%s=%s", self->listen, self->broker_pub);
    const char *argv[] = {"broker",
                          "--data",
                          data,
                          "--listen",
                          "tcp://127.0.0.1:*",
                          "--identity",
                          street->actor->secret,
                          "--trust",
                          self->root_pub,
                          "--follow",
                          follow,
                          "--workers",
                          "2",
                          NULL};
    if (ld_spawn_start (&street->proc, argv, log, S_READY_MS) != 0
        || ld_spawn_endpoint (&street->proc, "listen", street->listen, sizeof street->listen)
               != 0) {
        ld_cli_error ("the broker of %s did not start; see '%s'", street->actor->name, log);
        return EX_UNAVAILABLE;
    }
    return 0;
}

//  The broker an office's node uses: its street's, if the street runs one.
static s_street_broker_t *
s_street_of (ld_scenario_t *self, const s_actor_t *actor)
{
    for (size_t i = 0; i < self->street_count; i++) {
        const char *path = self->streets[i].actor->path;
        if (strncmp (actor->path, path, strlen (path)) == 0)
            return &self->streets[i];
    }
    return NULL;
}

//  Waits until a street broker holds actor's certificate (it replicates
//  from the district's broker within a round): its node is admitted only
//  then. Polls `cert show`; 0, or -1 after S_SYNC_MS.
static int
s_wait_certificate (ld_scenario_t *self, s_street_broker_t *street, s_actor_t *actor)
{
    const char *argv[] = {"cert",         "show",
                          "--broker",     street->listen,
                          "--broker-key", street->actor->pub,
                          "--identity",   self->actors[0].secret,
                          "--trust",      self->root_pub,
                          "--subject",    actor->pub,
                          "--json",       NULL};
    for (int64_t waited = 0; waited < S_SYNC_MS; waited += S_POLL_MS) {
        size_t used = 0;
        if (ld_spawn_run (argv, NULL, 0, self->out, S_OUT_MAX, &used, self->log, S_READY_MS) == 0
            && strstr (self->out, "\"level\""))
            return 0;
        zclock_sleep (S_POLL_MS);
    }
    ld_cli_error ("scenario: the broker of %s never received the certificate of %s",
                  street->actor->name, actor->name);
    return -1;
}

static int
s_start_node (ld_scenario_t *self, s_actor_t *actor)
{
    char data[S_PATH_BYTES], log[S_PATH_BYTES];
    snprintf (data, sizeof data, "%s/%s.data", self->dir, actor->slug);
    snprintf (log, sizeof log, "%s/%s.log", self->dir, actor->slug);
    s_street_broker_t *street = s_street_of (self, actor);
    if (street && s_wait_certificate (self, street, actor) != 0)
        return EX_SOFTWARE;
    const char *argv[] = {"node",
                          "--data",
                          data,
                          "--identity",
                          actor->secret,
                          "--broker",
                          street ? street->listen : self->listen,
                          "--broker-key",
                          street ? street->actor->pub : self->broker_pub,
                          "--control",
                          actor->control,
                          NULL};
    if (ld_spawn_start (&actor->proc, argv, log, S_READY_MS) != 0) {
        ld_cli_error ("the node of %s did not start; see '%s'", actor->name, log);
        return EX_UNAVAILABLE;
    }
    return 0;
}

//  certifier certifies actor through its node (the real `cert issue`).
static int
s_certify (ld_scenario_t *self, s_actor_t *certifier, s_actor_t *actor)
{
    const char *argv[] = {"cert",     "issue",     "--control",  certifier->control, "--subject",
                          actor->pub, "--level",   actor->level, "--path",           actor->path,
                          "--name",   actor->name, NULL};
    return s_author (self, argv, NULL);
}

//  Identities, the broker, the nodes (each once its certificate is stored)
//  and the certificates of every actor.
static int
s_federation (ld_scenario_t *self)
{
    json_t *district = json_object_get (self->json, "district");
    json_t *broker = json_object_get (self->json, "broker");
    s_actor_t *root = s_actor_add (self, s_str (district, "slug"), s_str (district, "name"),
                                   "district", s_str (district, "path"), NULL, true);
    s_actor_t *broker_actor = s_actor_add (self, "broker", s_str (broker, "name"), "broker",
                                           s_str (district, "path"), root ? root->slug : "", false);
    if (!root || !broker_actor)
        return EX_SOFTWARE;
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (self->json, "street_brokers"), i, item)
    {
        if (self->street_count == S_BROKERS_MAX) {
            ld_cli_error ("scenario: at most %d street brokers", S_BROKERS_MAX);
            return EX_DATAERR;
        }
        s_actor_t *actor = s_actor_add (self, s_str (item, "slug"), s_str (item, "name"), "broker",
                                        s_str (item, "path"), root->slug, false);
        if (!actor)
            return EX_SOFTWARE;
        self->streets[self->street_count++].actor = actor;
    }
    snprintf (self->root_pub, sizeof self->root_pub, "%s", root->pub);
    json_array_foreach (json_object_get (self->json, "offices"), i, item)
    {
        if (!s_actor_add (self, s_str (item, "slug"), s_str (item, "name"), s_str (item, "level"),
                          s_str (item, "path"), s_str (item, "certifier"), true))
            return EX_SOFTWARE;
    }
    json_array_foreach (json_object_get (self->json, "units"), i, item)
    {
        if (!s_actor_add (self, s_str (item, "slug"), s_str (item, "name"), "unit",
                          s_str (item, "path"), s_str (item, "certifier"), false))
            return EX_SOFTWARE;
    }
    s_actor_t *supervisor = NULL;
    for (size_t a = 0; a < self->count; a++)
        if (strcmp (self->actors[a].level, "supervisor") == 0)
            supervisor = &self->actors[a];
    if (supervisor)
        snprintf (self->supervisor, sizeof self->supervisor, "%s", supervisor->secret);

    int rc = s_start_broker (self);
    if (rc == 0)
        rc = s_start_node (self, root);
    if (rc == 0 && s_certify (self, root, broker_actor) != 0)
        rc = EX_SOFTWARE;
    //  The street brokers follow the district's; their certificates first,
    //  or the district's broker would not admit them.
    for (size_t b = 0; rc == 0 && b < self->street_count; b++)
        if (s_certify (self, root, self->streets[b].actor) != 0)
            rc = EX_SOFTWARE;
    for (size_t b = 0; rc == 0 && b < self->street_count; b++)
        rc = s_start_street_broker (self, &self->streets[b]);
    //  In order: a certifier's node runs before it certifies.
    for (size_t a = 0; rc == 0 && a < self->count; a++) {
        s_actor_t *actor = &self->actors[a];
        if (actor == root || strcmp (actor->level, "broker") == 0)
            continue;
        s_actor_t *certifier = s_find (self, actor->certifier);
        if (!certifier || !certifier->node || certifier->proc.pid <= 0) {
            ld_cli_error ("scenario: %s has no running certifier '%s'", actor->name,
                          actor->certifier);
            return EX_DATAERR;
        }
        if (s_certify (self, certifier, actor) != 0)
            return EX_SOFTWARE;
        if (actor->node)
            rc = s_start_node (self, actor);
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  The story

#define S_ARGV_MAX 64

typedef struct {
    const char *argv[S_ARGV_MAX];
    size_t argc;
    char strings[16][S_PATH_BYTES]; //  values built for this command
    size_t nstrings;
} s_cmd_t;

static void
s_arg (s_cmd_t *cmd, const char *arg)
{
    if (cmd->argc < S_ARGV_MAX - 1)
        cmd->argv[cmd->argc++] = arg;
    cmd->argv[cmd->argc] = NULL;
}

static const char *s_argf (s_cmd_t *cmd, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static const char *
s_argf (s_cmd_t *cmd, const char *fmt, ...)
{
    if (cmd->nstrings == 16)
        return "";
    char *slot = cmd->strings[cmd->nstrings++];
    va_list args;
    va_start (args, fmt);
    vsnprintf (slot, S_PATH_BYTES, fmt, args);
    va_end (args);
    s_arg (cmd, slot);
    return slot;
}

static s_actor_t *
s_need (ld_scenario_t *self, const char *slug)
{
    s_actor_t *actor = s_find (self, slug);
    if (!actor)
        ld_cli_error ("scenario: no actor '%s'", slug);
    return actor;
}

//  A task action of `verb` by actor on task index of resolution.
static int
s_task (ld_scenario_t *self, s_actor_t *actor, const char *verb, const char *resolution,
        size_t index, const char *text, int percent)
{
    s_cmd_t cmd = {0};
    s_arg (&cmd, "task");
    s_arg (&cmd, verb);
    s_arg (&cmd, "--control");
    s_arg (&cmd, actor->control);
    s_arg (&cmd, "--path");
    s_arg (&cmd, actor->path);
    s_arg (&cmd, "--resolution");
    s_arg (&cmd, resolution);
    s_arg (&cmd, "--task");
    s_argf (&cmd, "%zu", index);
    if (text) {
        s_arg (&cmd, "--text");
        s_arg (&cmd, text);
    }
    if (percent >= 0) {
        s_arg (&cmd, "--percent");
        s_argf (&cmd, "%d", percent);
    }
    self->resolution_events++;
    return s_author (self, cmd.argv, NULL);
}

//  The big committee's meeting, its resolutions, and each task's story:
//  on-time, late, in-progress, overdue (urged by the supervisor), assigned.
static int
s_meeting (ld_scenario_t *self)
{
    json_t *meeting = json_object_get (self->json, "meeting");
    s_actor_t *convener = s_need (self, s_str (meeting, "convener"));
    s_actor_t *supervisor = NULL;
    for (size_t a = 0; a < self->count; a++)
        if (strcmp (self->actors[a].level, "supervisor") == 0)
            supervisor = &self->actors[a];
    if (!convener || !supervisor)
        return -1;
    char date[16], meeting_id[LD_ID_TEXT_BYTES];
    s_date (self, s_str (meeting, "date"), date, sizeof date);
    s_cmd_t cmd = {0};
    s_arg (&cmd, "meeting");
    s_arg (&cmd, "convene");
    s_arg (&cmd, "--control");
    s_arg (&cmd, convener->control);
    s_arg (&cmd, "--path");
    s_arg (&cmd, convener->path);
    s_arg (&cmd, "--body");
    s_arg (&cmd, s_str (meeting, "body"));
    s_arg (&cmd, "--date");
    s_arg (&cmd, date);
    s_arg (&cmd, "--place");
    s_arg (&cmd, s_str (meeting, "place"));
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (meeting, "attendees"), i, item)
    {
        s_actor_t *unit = s_need (self, json_string_value (item));
        if (!unit)
            return -1;
        s_arg (&cmd, "--attendee");
        s_arg (&cmd, unit->pub);
    }
    json_array_foreach (json_object_get (meeting, "agenda"), i, item)
    {
        s_arg (&cmd, "--agenda");
        s_arg (&cmd, json_string_value (item));
    }
    if (s_author (self, cmd.argv, meeting_id) != 0)
        return -1;

    bool amended = false;
    json_t *resolution;
    size_t r;
    json_array_foreach (json_object_get (self->json, "resolutions"), r, resolution)
    {
        s_cmd_t adopt = {0};
        s_arg (&adopt, "meeting");
        s_arg (&adopt, "resolve");
        s_arg (&adopt, "--control");
        s_arg (&adopt, convener->control);
        s_arg (&adopt, "--path");
        s_arg (&adopt, convener->path);
        s_arg (&adopt, "--meeting");
        s_arg (&adopt, meeting_id);
        s_arg (&adopt, "--text");
        s_arg (&adopt, s_str (resolution, "text"));
        s_arg (&adopt, "--category");
        s_arg (&adopt, s_str (resolution, "category"));
        json_t *task;
        size_t t;
        bool closes = true;
        json_array_foreach (json_object_get (resolution, "tasks"), t, task)
        {
            s_actor_t *unit = s_need (self, s_str (task, "unit"));
            if (!unit)
                return -1;
            char deadline[16];
            s_date (self, s_str (task, "deadline"), deadline, sizeof deadline);
            s_arg (&adopt, "--task");
            s_argf (&adopt, "%s,%s,%s", unit->key_text, deadline, s_str (task, "deliverable"));
            const char *story = s_str (task, "story");
            closes = closes && (strcmp (story, "on-time") == 0 || strcmp (story, "late") == 0);
        }
        char id[LD_ID_TEXT_BYTES];
        self->resolution_events++;
        if (s_author (self, adopt.argv, id) != 0)
            return -1;
        json_array_foreach (json_object_get (resolution, "tasks"), t, task)
        {
            s_actor_t *unit = s_find (self, s_str (task, "unit"));
            const char *story = s_str (task, "story");
            const char *deliverable = s_str (task, "deliverable");
            int rc = 0;
            if (strcmp (story, "assigned") == 0 || !unit->node)
                continue;
            rc = s_task (self, unit, "accept", id, t, "已接收", -1);
            if (rc == 0 && strcmp (story, "on-time") == 0)
                rc = s_task (self, unit, "progress", id, t, "已完成一半", 50);
            if (rc == 0 && strcmp (story, "in-progress") == 0)
                rc = s_task (self, unit, "progress", id, t, "推进中", 40);
            if (rc == 0 && (strcmp (story, "on-time") == 0 || strcmp (story, "late") == 0)) {
                rc = s_task (self, unit, "complete", id, t, deliverable, -1);
                if (rc == 0)
                    rc = s_task (self, convener, "verify", id, t, "经核查，已办结", -1);
                self->verified++;
            }
            if (rc == 0 && strcmp (story, "overdue") == 0)
                rc = s_task (self, supervisor, "urge", id, t, "已逾期，请尽快办理", -1);
            if (rc == 0 && strcmp (story, "in-progress") == 0 && !amended) {
                //  the convener moves this deadline: the ledger keeps its history
                char later[16];
                s_date (self, "+21d", later, sizeof later);
                s_cmd_t amend = {0};
                s_arg (&amend, "amend");
                s_arg (&amend, "--control");
                s_arg (&amend, convener->control);
                s_arg (&amend, "--path");
                s_arg (&amend, convener->path);
                s_arg (&amend, "--kind");
                s_arg (&amend, "resolution");
                s_arg (&amend, "--original");
                s_arg (&amend, id);
                s_arg (&amend, "--field");
                s_argf (&amend, "tasks.%zu.deadline", t);
                s_arg (&amend, "--value");
                s_arg (&amend, later);
                s_arg (&amend, "--reason");
                s_arg (&amend, "需协调停车场改造，延期一周");
                self->resolution_events++;
                rc = s_author (self, amend.argv, NULL);
                amended = true;
            }
            if (rc != 0)
                return -1;
        }
        if (closes) {
            s_cmd_t close = {0};
            s_arg (&close, "meeting");
            s_arg (&close, "close");
            s_arg (&close, "--control");
            s_arg (&close, convener->control);
            s_arg (&close, "--path");
            s_arg (&close, convener->path);
            s_arg (&close, "--resolution");
            s_arg (&close, id);
            s_arg (&close, "--text");
            s_arg (&close, "议定事项全部办结");
            self->resolution_events++;
            if (s_author (self, close.argv, NULL) != 0)
                return -1;
        }
    }
    return 0;
}

//  count members of spec, each sealed by its community's node (`member seal
//  --json`, one command per person: the key never leaves the node) and
//  checked in by the community in bulk, offering spec's role.
static int
s_members_bulk (ld_scenario_t *self, json_t *spec)
{
    size_t count = (size_t) json_integer_value (json_object_get (spec, "count"));
    json_t *communities = json_object_get (spec, "communities");
    if (count == 0 || json_array_size (communities) == 0)
        return 0;
    json_t *by_community = json_object ();
    int rc = 0;
    for (size_t n = 1; rc == 0 && n <= count; n++) {
        const char *slug = json_string_value (
            json_array_get (communities, (n - 1) % json_array_size (communities)));
        s_actor_t *community = s_need (self, slug);
        if (!community) {
            rc = -1;
            break;
        }
        char name[LD_NAME_MAX + 1], phone[64];
        s_pattern (name, sizeof name, s_str (spec, "name"), n);
        s_pattern (phone, sizeof phone, s_str (spec, "phone"), n);
        const char *seal[] = {"member", "seal",    "--control", community->control, "--name",
                              name,     "--phone", phone,       "--json",           NULL};
        if (s_run (self, seal, NULL, 0) != 0) {
            rc = -1;
            break;
        }
        json_t *sealed = json_loads (self->out, 0, NULL);
        json_t *member = json_object_get (sealed, "member");
        if (!member) {
            ld_cli_error ("scenario: `member seal --json` printed no member");
            json_decref (sealed);
            rc = -1;
            break;
        }
        json_t *lines = json_object_get (by_community, slug);
        if (!lines) {
            lines = json_array ();
            json_object_set_new (by_community, slug, lines);
        }
        s_line (lines, "report", community->path, "report.checkin",
                json_pack ("{s:s, s:O, s:[s]}", "community", community->path, "member", member,
                           "offers", s_str (spec, "offer")));
        json_decref (sealed);
    }
    const char *slug;
    json_t *lines;
    json_object_foreach (by_community, slug, lines)
    {
        if (rc == 0)
            rc = s_bulk (self, s_find (self, slug), lines, NULL);
    }
    json_decref (by_community);
    return rc;
}

//  Double reporting: the named units check in (a unit with a node itself,
//  the others recorded by the host community), the partner units the
//  article counts (certified by their street, recorded by the communities),
//  in-service party members (sealed: their details never in a signed
//  body), and the volunteer teams' service records.
static int
s_reporting (ld_scenario_t *self)
{
    size_t i;
    json_t *item;
    char own_checkin[LD_ID_TEXT_BYTES] = "";
    s_actor_t *own_unit = NULL;
    json_array_foreach (json_object_get (self->json, "checkins"), i, item)
    {
        s_actor_t *unit = s_need (self, s_str (item, "unit"));
        s_actor_t *community = s_need (self, s_str (item, "community"));
        if (!unit || !community)
            return -1;
        s_actor_t *author = unit->node ? unit : community;
        s_cmd_t cmd = {0};
        s_arg (&cmd, "report");
        s_arg (&cmd, "checkin");
        s_arg (&cmd, "--control");
        s_arg (&cmd, author->control);
        s_arg (&cmd, "--path");
        s_arg (&cmd, author->path);
        s_arg (&cmd, "--community");
        s_arg (&cmd, community->path);
        s_arg (&cmd, "--unit");
        s_arg (&cmd, unit->pub);
        size_t o;
        json_t *offer;
        json_array_foreach (json_object_get (item, "offers"), o, offer)
        {
            s_arg (&cmd, "--offer");
            s_arg (&cmd, json_string_value (offer));
        }
        char id[LD_ID_TEXT_BYTES];
        if (s_author (self, cmd.argv, id) != 0)
            return -1;
        if (unit->node && !own_unit) {
            own_unit = unit;
            snprintf (own_checkin, sizeof own_checkin, "%s", id);
        }
    }

    //  The partner units: certified by their street, checked in at the
    //  communities in turn.
    json_t *partners = json_object_get (self->json, "partner_units");
    json_t *pc = json_object_get (self->json, "partner_checkins");
    s_actor_t *street = s_need (self, s_str (partners, "street"));
    if (!street)
        return -1;
    json_t *certs = json_array ();
    json_t *by_community = json_object ();
    size_t count = (size_t) json_integer_value (json_object_get (partners, "count"));
    json_t *communities = json_object_get (pc, "communities");
    for (size_t n = 1; n <= count; n++) {
        char slug[48], name[LD_NAME_MAX + 1], path[LD_TOPIC_MAX + 64];
        s_pattern (slug, sizeof slug, s_str (partners, "slug"), (size_t) (n));
        s_pattern (name, sizeof name, s_str (partners, "name"), (size_t) (n));
        snprintf (path, sizeof path, "%s%s/", street->path, slug);
        ld_identity_t *identity = ld_identity_new ();
        if (!identity)
            return -1;
        json_t *key = s_bytes (ld_identity_public_key (identity), LD_KEY_BYTES);
        ld_identity_destroy (&identity);
        s_line (certs, "trust", path, "trust.certify",
                json_pack ("{s:O, s:s, s:s, s:s}", "subject", key, "level", "unit", "path", path,
                           "name", name));
        const char *slug_c = json_string_value (
            json_array_get (communities, (n - 1) % json_array_size (communities)));
        s_actor_t *community = s_need (self, slug_c);
        if (!community) {
            json_decref (key);
            return -1;
        }
        json_t *lines = json_object_get (by_community, slug_c);
        if (!lines) {
            lines = json_array ();
            json_object_set_new (by_community, slug_c, lines);
        }
        s_line (lines, "report", community->path, "report.checkin",
                json_pack ("{s:s, s:o, s:O}", "community", community->path, "unit", key, "offers",
                           json_object_get (pc, "offers")));
    }
    int rc = s_bulk (self, street, certs, NULL);
    json_decref (certs);
    const char *slug_c;
    json_t *lines;
    json_object_foreach (by_community, slug_c, lines)
    {
        if (rc == 0)
            rc = s_bulk (self, s_find (self, slug_c), lines, NULL);
    }
    json_decref (by_community);
    if (rc != 0)
        return -1;

    //  In-service party members: sealed by the community's node.
    json_array_foreach (json_object_get (self->json, "members"), i, item)
    {
        s_actor_t *community = s_need (self, s_str (item, "community"));
        if (!community)
            return -1;
        const char *seal[] = {"member",    "seal",
                              "--control", community->control,
                              "--name",    s_str (item, "name"),
                              "--phone",   s_str (item, "phone"),
                              "--note",    s_str (item, "note"),
                              NULL};
        if (s_run (self, seal, NULL, 0) != 0)
            return -1;
        char sealed[4096];
        snprintf (sealed, sizeof sealed, "%.*s", (int) strcspn (self->out, " \n"), self->out);
        s_cmd_t cmd = {0};
        s_arg (&cmd, "report");
        s_arg (&cmd, "checkin");
        s_arg (&cmd, "--control");
        s_arg (&cmd, community->control);
        s_arg (&cmd, "--path");
        s_arg (&cmd, community->path);
        s_arg (&cmd, "--community");
        s_arg (&cmd, community->path);
        s_arg (&cmd, "--member");
        s_arg (&cmd, sealed);
        size_t o;
        json_t *offer;
        json_array_foreach (json_object_get (item, "offers"), o, offer)
        {
            s_arg (&cmd, "--offer");
            s_arg (&cmd, json_string_value (offer));
        }
        if (s_author (self, cmd.argv, NULL) != 0)
            return -1;
    }

    //  The grid workers and the party building captains the article counts:
    //  each sealed by its community's node, checked in in bulk.
    if (s_members_bulk (self, json_object_get (self->json, "grid_workers")) != 0
        || s_members_bulk (self, json_object_get (self->json, "building_captains")) != 0)
        return -1;

    //  The volunteer teams' service, logged by the unit that checked in.
    json_t *teams = json_object_get (self->json, "volunteer_teams");
    size_t team_count = (size_t) json_integer_value (json_object_get (teams, "count"));
    size_t served = (size_t) json_integer_value (json_object_get (teams, "people_served"));
    if (!own_unit || team_count == 0)
        return 0;
    json_t *service = json_array ();
    char date[16];
    s_date (self, "-1d", date, sizeof date);
    for (size_t n = 0; n < team_count; n++) {
        char team[LD_NAME_MAX + 1];
        s_pattern (team, sizeof team, s_str (teams, "name"), (size_t) (n + 1));
        size_t people = served / team_count + (n < served % team_count ? 1 : 0);
        s_line (service, "report", own_unit->path, "report.service",
                json_pack ("{s:o, s:s, s:s, s:i, s:i, s:i, s:s}", "checkin",
                           s_id_bytes (own_checkin), "date", date, "activity", "志愿服务",
                           "minutes", 120, "peopleServed", (int) people, "volunteers", 6, "team",
                           team));
    }
    rc = s_bulk (self, own_unit, service, NULL);
    json_decref (service);
    return rc;
}

//  Practical matters (wishes posted by the communities, claimed and
//  fulfilled by the partner unit), grid party groups, agreements and the
//  incident that climbs the ladder, plus the other problems solved.
static int
s_community_work (ld_scenario_t *self)
{
    json_t *matters = json_object_get (self->json, "practical_matters");
    s_actor_t *claimant = s_need (self, s_str (matters, "claimant"));
    if (!claimant)
        return -1;
    //  The article's count of practical matters includes the verified tasks.
    size_t total = (size_t) json_integer_value (json_object_get (matters, "count"));
    size_t wishes = total > self->verified ? total - self->verified : 0;
    //  Posters in turn: each its count, the last one the rest (金江苑社区's
    //  10 opinions collected and resolved, as the article reports).
    json_t *posters = json_object_get (matters, "posters");
    json_t *claims = json_array ();
    json_t *fulfils = json_array ();
    int rc = 0;
    size_t posted = 0;
    for (size_t p = 0; rc == 0 && p < json_array_size (posters); p++) {
        json_t *spec = json_array_get (posters, p);
        s_actor_t *poster = s_need (self, s_str (spec, "community"));
        if (!poster) {
            rc = -1;
            break;
        }
        bool last = p + 1 == json_array_size (posters);
        size_t count =
            last ? wishes - posted : (size_t) json_integer_value (json_object_get (spec, "count"));
        const char *pattern =
            *s_str (spec, "text") ? s_str (spec, "text") : s_str (matters, "text");
        const char *category =
            *s_str (spec, "category") ? s_str (spec, "category") : s_str (matters, "category");
        json_t *posts = json_array ();
        for (size_t n = 0; n < count; n++) {
            char text[256];
            s_pattern (text, sizeof text, pattern, n + 1);
            s_line (posts, "wish", poster->path, "wish.post",
                    json_pack ("{s:s, s:s, s:i}", "text", text, "category", category, "people", 1));
        }
        posted += count;
        json_t *ids = json_array ();
        rc = s_bulk (self, poster, posts, ids);
        size_t k;
        json_t *id;
        json_array_foreach (ids, k, id)
        {
            s_line (claims, "wish", claimant->path, "wish.claim",
                    json_pack ("{s:o}", "wish", s_id_bytes (json_string_value (id))));
            s_line (fulfils, "wish", claimant->path, "wish.fulfil",
                    json_pack ("{s:o, s:s}", "wish", s_id_bytes (json_string_value (id)), "text",
                               "已办结"));
        }
        json_decref (ids);
        json_decref (posts);
    }
    if (rc == 0)
        rc = s_bulk (self, claimant, claims, NULL);
    if (rc == 0)
        rc = s_bulk (self, claimant, fulfils, NULL);
    json_decref (claims);
    json_decref (fulfils);
    if (rc != 0)
        return -1;

    //  Grid party groups, certified by the communities in turn.
    json_t *grids = json_object_get (self->json, "grids");
    json_t *communities = json_object_get (grids, "communities");
    size_t grid_count = (size_t) json_integer_value (json_object_get (grids, "count"));
    for (size_t c = 0; rc == 0 && c < json_array_size (communities); c++) {
        s_actor_t *community = s_need (self, json_string_value (json_array_get (communities, c)));
        if (!community)
            return -1;
        json_t *certs = json_array ();
        for (size_t n = c; n < grid_count; n += json_array_size (communities)) {
            char slug[48], name[LD_NAME_MAX + 1], path[LD_TOPIC_MAX + 64];
            s_pattern (slug, sizeof slug, s_str (grids, "slug"), (size_t) (n + 1));
            s_pattern (name, sizeof name, s_str (grids, "name"), (size_t) (n + 1));
            snprintf (path, sizeof path, "%s%s/", community->path, slug);
            ld_identity_t *identity = ld_identity_new ();
            if (!identity)
                return -1;
            s_line (certs, "trust", path, "trust.certify",
                    json_pack ("{s:o, s:s, s:s, s:s}", "subject",
                               s_bytes (ld_identity_public_key (identity), LD_KEY_BYTES), "level",
                               "grid", "path", path, "name", name));
            ld_identity_destroy (&identity);
        }
        rc = s_bulk (self, community, certs, NULL);
        json_decref (certs);
    }
    if (rc != 0)
        return -1;

    //  Co-building agreements: in force once the unit countersigns.
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get (self->json, "agreements"), i, item)
    {
        s_actor_t *community = s_need (self, s_str (item, "community"));
        s_actor_t *unit = s_need (self, s_str (item, "unit"));
        if (!community || !unit)
            return -1;
        char until[16], id[LD_ID_TEXT_BYTES];
        s_date (self, "+365d", until, sizeof until);
        s_cmd_t cmd = {0};
        s_arg (&cmd, "agreement");
        s_arg (&cmd, "propose");
        s_arg (&cmd, "--control");
        s_arg (&cmd, community->control);
        s_arg (&cmd, "--path");
        s_arg (&cmd, community->path);
        s_arg (&cmd, "--unit");
        s_arg (&cmd, unit->pub);
        s_arg (&cmd, "--title");
        s_arg (&cmd, s_str (item, "title"));
        s_arg (&cmd, "--until");
        s_arg (&cmd, until);
        size_t t;
        json_t *term;
        json_array_foreach (json_object_get (item, "terms"), t, term)
        {
            s_arg (&cmd, "--term");
            s_arg (&cmd, json_string_value (term));
        }
        if (s_author (self, cmd.argv, id) != 0)
            return -1;
        if (json_is_true (json_object_get (item, "signed")) && unit->node) {
            const char *sign[] = {"agreement",   "sign", "--control", unit->control,
                                  "--agreement", id,     NULL};
            if (s_author (self, sign, NULL) != 0)
                return -1;
        }
    }

    //  The incident that climbs the ladder: reported and collected by the
    //  community, the street blows the whistle (吹哨) and the unit reports
    //  in (报到), assigned at tier 4, resolved by the unit.
    json_t *incident = json_object_get (self->json, "incident");
    s_actor_t *reporter = s_need (self, s_str (incident, "reporter"));
    s_actor_t *whistler = s_need (self, s_str (incident, "whistle"));
    s_actor_t *assignee = s_need (self, s_str (incident, "assignee"));
    if (!reporter || !whistler || !assignee)
        return -1;
    char incident_id[LD_ID_TEXT_BYTES], deadline[16], tier[8];
    s_date (self, s_str (incident, "deadline"), deadline, sizeof deadline);
    snprintf (tier, sizeof tier, "%d",
              (int) json_integer_value (json_object_get (incident, "tier")));
    const char *report[] = {"incident",   "report",
                            "--control",  reporter->control,
                            "--path",     reporter->path,
                            "--text",     s_str (incident, "text"),
                            "--category", s_str (incident, "category"),
                            "--place",    s_str (incident, "place"),
                            NULL};
    if (s_author (self, report, incident_id) != 0)
        return -1;
    const char *collect[] = {"incident", "collect",          "--control",  reporter->control,
                             "--path",   reporter->path,     "--incident", incident_id,
                             "--text",   "社区收集，报街道", NULL};
    const char *whistle[] = {"incident", "whistle",      "--control",  whistler->control,
                             "--path",   whistler->path, "--incident", incident_id,
                             "--unit",   assignee->pub,  "--text",     "街道吹哨，单位报到",
                             NULL};
    const char *assign[] = {"incident",   "assign",       "--control",  whistler->control,
                            "--path",     whistler->path, "--incident", incident_id,
                            "--unit",     assignee->pub,  "--tier",     tier,
                            "--deadline", deadline,       NULL};
    const char *resolve[] = {"incident",   "resolve",
                             "--control",  assignee->control,
                             "--path",     assignee->path,
                             "--incident", incident_id,
                             "--text",     s_str (incident, "resolution"),
                             NULL};
    if (s_author (self, collect, NULL) != 0 || s_author (self, whistle, NULL) != 0
        || s_author (self, assign, NULL) != 0 || s_author (self, resolve, NULL) != 0)
        return -1;

    //  The other problems the article counts as solved: reported by the
    //  community, assigned at tier 2, resolved by the unit.
    size_t solved = (size_t) json_integer_value (json_object_get (self->json, "problems_solved"));
    json_t *reports = json_array ();
    for (size_t n = 1; n < solved; n++) {
        char text[128];
        snprintf (text, sizeof text, "群众反映的突出问题第%zu件", n + 1);
        s_line (reports, "incident", reporter->path, "incident.report",
                json_pack ("{s:s, s:s}", "text", text, "category", "突出问题"));
    }
    json_t *ids = json_array ();
    rc = s_bulk (self, reporter, reports, ids);
    json_decref (reports);
    json_t *assigns = json_array (), *resolves = json_array ();
    size_t k;
    json_t *id;
    json_array_foreach (ids, k, id)
    {
        s_line (assigns, "incident", reporter->path, "incident.assign",
                json_pack ("{s:o, s:[o], s:i}", "incident", s_id_bytes (json_string_value (id)),
                           "units", s_bytes (assignee->key, LD_KEY_BYTES), "tier", 2));
        s_line (resolves, "incident", assignee->path, "incident.resolve",
                json_pack ("{s:o, s:s}", "incident", s_id_bytes (json_string_value (id)), "text",
                           "已解决"));
    }
    json_decref (ids);
    if (rc == 0)
        rc = s_bulk (self, reporter, assigns, NULL);
    if (rc == 0)
        rc = s_bulk (self, assignee, resolves, NULL);
    json_decref (assigns);
    json_decref (resolves);
    return rc;
}

int
ld_scenario_play (ld_scenario_t *self, const char *dir, int64_t now_ms)
{
    snprintf (self->dir, sizeof self->dir, "%s", dir);
    snprintf (self->log, sizeof self->log, "%s/commands.log", dir);
    self->now_ms = now_ms;
    int rc = s_federation (self);
    if (rc == 0
        && (s_meeting (self) != 0 || s_reporting (self) != 0 || s_community_work (self) != 0))
        rc = EX_SOFTWARE;
    return rc;
}

//  --------------------------------------------------------------------------
//  The federation at the end of the play

//  `status --broker` of one broker as JSON (root's identity: a root is
//  admitted everywhere), or NULL.
static json_t *
s_broker_status (ld_scenario_t *self, const char *listen, const char *pub)
{
    const char *argv[] = {
        "status", "--broker", listen, "--broker-key", pub, "--identity", self->actors[0].secret,
        "--json", NULL};
    size_t used = 0;
    if (ld_spawn_run (argv, NULL, 0, self->out, S_OUT_MAX, &used, self->log, S_READY_MS) != 0)
        return NULL;
    return json_loadb (self->out, used, 0, NULL);
}

//  True once a street broker's link reports a round that found nothing to
//  move, begun after `since` (wall clock ms).
static bool
s_in_step (json_t *status, int64_t since)
{
    json_t *peer = json_array_get (json_object_get (status, "peers"), 0);
    return peer && json_is_true (json_object_get (peer, "connected"))
           && json_integer_value (json_object_get (peer, "behind_in")) == 0
           && json_integer_value (json_object_get (peer, "behind_out")) == 0
           && json_integer_value (json_object_get (peer, "last_sync_ms")) > since;
}

int
ld_scenario_federation (ld_scenario_t *self, FILE *out)
{
    if (self->street_count == 0)
        return EX_OK;
    int64_t since = zclock_time ();
    json_t *status[S_BROKERS_MAX] = {0};
    for (size_t i = 0; i < self->street_count; i++) {
        s_street_broker_t *street = &self->streets[i];
        for (int64_t waited = 0; waited <= S_SYNC_MS; waited += S_POLL_MS) {
            json_decref (status[i]);
            status[i] = s_broker_status (self, street->listen, street->actor->pub);
            if (status[i] && s_in_step (status[i], since))
                break;
            zclock_sleep (S_POLL_MS);
        }
        if (!status[i] || !s_in_step (status[i], since)) {
            ld_cli_error ("the broker of %s did not get in step with the district's within %d s; "
                          "see '%s'",
                          street->actor->name, S_SYNC_MS / 1000, self->log);
            for (size_t k = 0; k <= i; k++)
                json_decref (status[k]);
            return EX_SOFTWARE;
        }
    }
    json_t *district = s_broker_status (self, self->listen, self->broker_pub);
    s_actor_t *district_actor = s_find (self, "broker");
    const char *columns[] = {"broker", "org path", "events", "feeds", "follows", "link"};
    ld_table_t *table = ld_table_new ("brokers", columns, 6);
    int rc = table && district ? EX_OK : EX_SOFTWARE;
    if (rc == EX_OK) {
        ld_table_align_right (table, 2);
        ld_table_align_right (table, 3);
        char events[24], feeds[24];
        snprintf (events, sizeof events, "%" PRId64,
                  (int64_t) json_integer_value (json_object_get (district, "events")));
        snprintf (feeds, sizeof feeds, "%" PRId64,
                  (int64_t) json_integer_value (json_object_get (district, "authors")));
        const char *row[] = {district_actor->name, district_actor->path, events, feeds, "-", "-"};
        ld_table_add (table, row);
        for (size_t i = 0; i < self->street_count; i++) {
            s_street_broker_t *street = &self->streets[i];
            json_t *peer = json_array_get (json_object_get (status[i], "peers"), 0);
            char link[160];
            snprintf (link, sizeof link, "in step; pulled %" PRId64 ", pushed %" PRId64,
                      (int64_t) json_integer_value (json_object_get (peer, "pulled")),
                      (int64_t) json_integer_value (json_object_get (peer, "pushed")));
            snprintf (events, sizeof events, "%" PRId64,
                      (int64_t) json_integer_value (json_object_get (status[i], "events")));
            snprintf (feeds, sizeof feeds, "%" PRId64,
                      (int64_t) json_integer_value (json_object_get (status[i], "authors")));
            const char *cells[] = {street->actor->name,
                                   street->actor->path,
                                   events,
                                   feeds,
                                   district_actor->name,
                                   link};
            ld_table_add (table, cells);
        }
        if (ld_table_print (table, out, false) != 0)
            rc = EX_IOERR;
    }
    ld_table_destroy (&table);
    json_decref (district);
    for (size_t i = 0; i < self->street_count; i++)
        json_decref (status[i]);
    return rc;
}
