/*  ld_fed.c -- a federation of brokers for tests. See ld_fed.h.

    Ports: every broker's --listen and --live, and every relay's port, are
    chosen once (ld_proc_free_endpoint: below the ephemeral range, so a
    restart finds them free) and kept for the life of the federation, so
    that a restarted broker or relay is found where it was.
*/
#include "ld_fed.h"

#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>

#include "ld_offline.h"
#include "ld_payload.h"
#include "ld_proc.h"
#include "ld_roots.h"
#include "ld_store.h"
#include "ld_test_util.h"

#define S_ENDPOINT_MAX  64
#define S_DIR_MAX       256 //  the temp dir's path
#define S_PATH_MAX      512 //  paths under it
#define S_ROOT_NAME     "乌当区"
#define S_LOG_TAIL      40          //  lines of each log printed on failure
#define S_LOG_TAIL_READ (16 * 1024) //  bytes read from the end of a log
#define S_POLL_MS       200         //  interval of status polls
#define S_PUBLISH_BATCH 256
#define S_ARGS_MAX      LD_PROC_ARGS_MAX

typedef struct {
    char name[32];
    char path[LD_TOPIC_MAX + 1];
    bool has_replicate;
    char replicate[512];
    char data[S_PATH_MAX], id_dir[S_PATH_MAX], secret[S_PATH_MAX + 32], pub[S_PATH_MAX + 32];
    char log[S_PATH_MAX];
    char listen[S_ENDPOINT_MAX], live[S_ENDPOINT_MAX];
    uint8_t key[LD_KEY_BYTES];
    ld_proc_t proc;
    bool running;
    ld_client_t *client; //  the root's, made when first needed
} s_broker_t;

typedef enum { S_LINK_UP, S_LINK_KILLED, S_LINK_STOPPED } s_link_state_t;

typedef struct {
    int follower, followed;
    char endpoint[S_ENDPOINT_MAX];
    unsigned port;
    ld_proc_t proc;
    s_link_state_t state;
    bool started;
} s_link_t;

struct _ld_fed_t {
    char dir[S_DIR_MAX];
    char root_dir[S_PATH_MAX], root_secret[S_PATH_MAX + 32], root_pub[S_PATH_MAX + 32];
    char root_out[S_PATH_MAX], relay_log[S_PATH_MAX];
    ld_identity_t *root;
    uint64_t root_seq; //  the root's last event kept
    s_broker_t brokers[LD_FED_BROKERS_MAX];
    size_t broker_count;
    s_link_t links[LD_FED_LINKS_MAX];
    size_t link_count;
    ld_event_t *trust[LD_FED_TRUST_MAX];
    size_t trust_count;
    bool started, passed, logs_to_stderr;
};

struct _ld_fed_store_t {
    sqlite3 *db;
};

static unsigned
s_port_of (const char *endpoint)
{
    const char *colon = strrchr (endpoint, ':');
    return colon ? (unsigned) strtoul (colon + 1, NULL, 10) : 0;
}

static bool
s_broker_valid (ld_fed_t *self, int i)
{
    return self && i >= 0 && (size_t) i < self->broker_count;
}

ld_fed_t *
ld_fed_new (const char *root_path)
{
    ld_fed_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    char err[512], text[LD_ROOT_FILE_MAX];
    if (ld_test_tempdir (self->dir, sizeof self->dir) != 0) {
        free (self);
        return NULL;
    }
    const char *logs = getenv ("LD_FED_LOGS");
    self->logs_to_stderr = logs && strcmp (logs, "stderr") == 0;
    snprintf (self->root_dir, sizeof self->root_dir, "%s/root", self->dir);
    snprintf (self->root_secret, sizeof self->root_secret, "%s/%s", self->root_dir,
              LD_IDENTITY_SECRET);
    snprintf (self->root_pub, sizeof self->root_pub, "%s/%s", self->root_dir, LD_IDENTITY_PUBLIC);
    snprintf (self->root_out, sizeof self->root_out, "%s/signed.env", self->dir);
    snprintf (self->relay_log, sizeof self->relay_log, "%s/relays.log", self->dir);
    self->root = ld_identity_new ();
    if (!self->root
        || ld_identity_save (self->root, self->root_dir, false, err, sizeof err) != LD_OK
        || ld_root_format (ld_identity_public_key (self->root), root_path, S_ROOT_NAME, text,
                           sizeof text, err, sizeof err)
               != LD_OK
        || ld_test_write_file (self->root_pub, text, strlen (text), 0644) != 0) {
        fprintf (stderr, "ld_fed: cannot make the root: %s\n", err);
        ld_fed_destroy (&self);
        return NULL;
    }
    return self;
}

//  Prints the last lines of a log file to stderr.
static void
s_log_tail (const char *title, const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return;
    static char buffer[S_LOG_TAIL_READ + 1];
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    long from = size > S_LOG_TAIL_READ ? size - S_LOG_TAIL_READ : 0;
    fseek (file, from, SEEK_SET);
    size_t got = fread (buffer, 1, S_LOG_TAIL_READ, file);
    fclose (file);
    buffer[got] = '\0';
    const char *start = buffer + got;
    int lines = 0;
    while (start > buffer && lines <= S_LOG_TAIL)
        if (*--start == '\n')
            lines++;
    if (*start == '\n')
        start++;
    fprintf (stderr, "---- %s: last lines of %s ----\n%s", title, path, start);
}

void
ld_fed_destroy (ld_fed_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_fed_t *self = *self_p;
    for (size_t i = 0; i < self->broker_count; i++) {
        s_broker_t *broker = &self->brokers[i];
        ld_client_destroy (&broker->client);
        if (broker->running)
            ld_proc_kill (&broker->proc);
        broker->running = false;
    }
    for (size_t l = 0; l < self->link_count; l++)
        if (self->links[l].started)
            ld_proc_kill (&self->links[l].proc);
    if (!self->passed && !self->logs_to_stderr)
        for (size_t i = 0; i < self->broker_count; i++)
            s_log_tail (self->brokers[i].name, self->brokers[i].log);
    for (size_t t = 0; t < self->trust_count; t++)
        ld_event_destroy (&self->trust[t]);
    ld_identity_destroy (&self->root);
    ld_test_remove_tree (self->dir);
    free (self);
    *self_p = NULL;
}

void
ld_fed_passed (ld_fed_t *self)
{
    self->passed = true;
}

int
ld_fed_add_broker (ld_fed_t *self, const char *name, const char *path, const char *replicate)
{
    if (self->started || self->broker_count == LD_FED_BROKERS_MAX)
        return -1;
    int i = (int) self->broker_count;
    s_broker_t *broker = &self->brokers[i];
    memset (broker, 0, sizeof *broker);
    snprintf (broker->name, sizeof broker->name, "%s", name);
    snprintf (broker->path, sizeof broker->path, "%s", path);
    broker->has_replicate = replicate != NULL;
    snprintf (broker->replicate, sizeof broker->replicate, "%s", replicate ? replicate : "");
    char dir[S_DIR_MAX];
    snprintf (dir, sizeof dir, "%s", self->dir);
    snprintf (broker->data, sizeof broker->data, "%s/%s", dir, name);
    snprintf (broker->id_dir, sizeof broker->id_dir, "%s/%s.key", dir, name);
    snprintf (broker->secret, sizeof broker->secret, "%s/%s.key/%s", dir, name, LD_IDENTITY_SECRET);
    snprintf (broker->pub, sizeof broker->pub, "%s/%s.key/%s", dir, name, LD_IDENTITY_PUBLIC);
    snprintf (broker->log, sizeof broker->log, "%s/%s.log", dir, name);
    char err[512];
    ld_identity_t *identity = ld_identity_new ();
    if (!identity || ld_identity_save (identity, broker->id_dir, false, err, sizeof err) != LD_OK) {
        fprintf (stderr, "ld_fed: cannot make the identity of %s\n", name);
        ld_identity_destroy (&identity);
        return -1;
    }
    memcpy (broker->key, ld_identity_public_key (identity), LD_KEY_BYTES);
    ld_identity_destroy (&identity);
    if (ld_proc_free_endpoint (broker->listen, sizeof broker->listen) != 0
        || ld_proc_free_endpoint (broker->live, sizeof broker->live) != 0)
        return -1;
    char cert_name[64];
    snprintf (cert_name, sizeof cert_name, "broker %s", name);
    if (ld_fed_certify (self, NULL, broker->key, "broker", path, cert_name) != 0)
        return -1;
    self->broker_count++;
    return i;
}

int
ld_fed_add_link (ld_fed_t *self, int follower, int followed)
{
    if (self->started || self->link_count == LD_FED_LINKS_MAX || !s_broker_valid (self, follower)
        || !s_broker_valid (self, followed) || follower == followed)
        return -1;
    s_link_t *link = &self->links[self->link_count];
    memset (link, 0, sizeof *link);
    link->follower = follower;
    link->followed = followed;
    if (ld_proc_free_endpoint (link->endpoint, sizeof link->endpoint) != 0)
        return -1;
    link->port = s_port_of (link->endpoint);
    link->state = S_LINK_KILLED; //  until started
    return (int) self->link_count++;
}

int
ld_fed_add_five (ld_fed_t *self, const char *replicate)
{
    if (self->broker_count != 0 || self->link_count != 0)
        return -1;
    bool ok = ld_fed_add_broker (self, "D", "wudang/", replicate) == LD_FED_D
              && ld_fed_add_broker (self, "S1", "wudang/s1/", replicate) == LD_FED_S1
              && ld_fed_add_broker (self, "S2", "wudang/s2/", replicate) == LD_FED_S2
              && ld_fed_add_broker (self, "C1", "wudang/s1/c1/", replicate) == LD_FED_C1
              && ld_fed_add_broker (self, "C2", "wudang/s2/c2/", replicate) == LD_FED_C2
              && ld_fed_add_link (self, LD_FED_S1, LD_FED_D) == LD_FED_S1_D
              && ld_fed_add_link (self, LD_FED_S2, LD_FED_D) == LD_FED_S2_D
              && ld_fed_add_link (self, LD_FED_C1, LD_FED_S1) == LD_FED_C1_S1
              && ld_fed_add_link (self, LD_FED_C2, LD_FED_S2) == LD_FED_C2_S2
              && ld_fed_add_link (self, LD_FED_S1, LD_FED_S2) == LD_FED_S1_S2;
    return ok ? 0 : -1;
}

//  Keeps a trust event (taking it).
static int
s_keep (ld_fed_t *self, ld_event_t *event)
{
    if (self->trust_count == LD_FED_TRUST_MAX) {
        fprintf (stderr, "ld_fed: more than %d trust events\n", LD_FED_TRUST_MAX);
        ld_event_destroy (&event);
        return -1;
    }
    self->trust[self->trust_count++] = event;
    return 0;
}

ld_event_t *
ld_fed_root_sign (ld_fed_t *self, const char *topic, const char *type, const uint8_t *payload,
                  size_t size)
{
    char err[512];
    ld_offline_result_t result;
    if (ld_offline_sign (self->root_secret, topic, type, payload, size, ld_client_now_ms (),
                         self->root_out, true, &result, err, sizeof err)
        != LD_OK) {
        fprintf (stderr, "ld_fed: cannot sign offline: %s\n", err);
        return NULL;
    }
    ld_event_t **events = NULL;
    size_t count = 0;
    if (ld_offline_read (self->root_out, &events, &count, err, sizeof err) != LD_OK) {
        fprintf (stderr, "ld_fed: cannot read what was signed: %s\n", err);
        return NULL;
    }
    //  the file holds the new event after any the CLI left pending
    ld_event_t *last = NULL;
    for (size_t e = 0; e < count; e++) {
        if (ld_event_seq (events[e]) <= self->root_seq)
            continue;
        ld_event_t *event = events[e];
        events[e] = NULL;
        self->root_seq = ld_event_seq (event);
        if (s_keep (self, event) != 0) {
            ld_offline_events_free (&events, count);
            return NULL;
        }
        last = event;
    }
    ld_offline_events_free (&events, count);
    return last;
}

//  Tells the harness that the root signed up to seq elsewhere (the CLI).
static void
s_root_sync (ld_fed_t *self)
{
    uint64_t seq = 0;
    size_t pending = 0;
    char err[256];
    if (ld_offline_position (self->root_secret, &seq, &pending, err, sizeof err) == LD_OK
        && seq > self->root_seq)
        self->root_seq = seq;
}

int
ld_fed_certify (ld_fed_t *self, ld_client_author_t *certifier, const uint8_t subject[LD_KEY_BYTES],
                const char *level, const char *path, const char *name)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    if (ld_payload_certify (subject, level, path, name, &payload, &size) != LD_OK)
        return -1;
    char topic[LD_TOPIC_MAX + 8];
    snprintf (topic, sizeof topic, "trust/%s", path);
    int rc = -1;
    if (!certifier) {
        s_root_sync (self);
        rc = ld_fed_root_sign (self, topic, "trust.certify", payload, size) ? 0 : -1;
    }
    else {
        ld_event_t *event = ld_client_author_event (certifier, topic, "trust.certify", payload,
                                                    size, ld_client_now_ms ());
        rc = event ? s_keep (self, event) : -1;
    }
    free (payload);
    return rc;
}

//  --------------------------------------------------------------------------
//  Processes

static int
s_relay_start (ld_fed_t *self, s_link_t *link)
{
    const char *bin = getenv ("LD_RELAY");
    if (!bin) {
        fprintf (stderr, "ld_fed: LD_RELAY is not set\n");
        return -1;
    }
    char listen_port[16], target_port[16];
    snprintf (listen_port, sizeof listen_port, "%u", link->port);
    snprintf (target_port, sizeof target_port, "%u",
              s_port_of (self->brokers[link->followed].listen));
    const char *argv[] = {listen_port, target_port, NULL};
    if (ld_proc_start_bin (&link->proc, bin, argv, true, LD_FED_TIMEOUT,
                           self->logs_to_stderr ? NULL : self->relay_log)
        != 0) {
        fprintf (stderr, "ld_fed: relay on port %u did not start\n", link->port);
        return -1;
    }
    link->started = true;
    link->state = S_LINK_UP;
    return 0;
}

int
ld_fed_broker_start (ld_fed_t *self, int i)
{
    if (!s_broker_valid (self, i))
        return -1;
    s_broker_t *broker = &self->brokers[i];
    if (broker->running)
        return 0;
    const char *argv[S_ARGS_MAX + 1];
    size_t n = 0;
    argv[n++] = "broker";
    argv[n++] = "--data";
    argv[n++] = broker->data;
    argv[n++] = "--listen";
    argv[n++] = broker->listen;
    argv[n++] = "--live";
    argv[n++] = broker->live;
    argv[n++] = "--identity";
    argv[n++] = broker->secret;
    argv[n++] = "--trust";
    argv[n++] = self->root_pub;
    char follows[LD_FED_LINKS_MAX][S_PATH_MAX + 32 + S_ENDPOINT_MAX];
    size_t follow_count = 0;
    for (size_t l = 0; l < self->link_count; l++) {
        s_link_t *link = &self->links[l];
        if (link->follower != i)
            continue;
        if (n + 2 > S_ARGS_MAX)
            return -1;
        snprintf (follows[follow_count], sizeof follows[0], "%s=%s", link->endpoint,
                  self->brokers[link->followed].pub);
        argv[n++] = "--follow";
        argv[n++] = follows[follow_count++];
    }
    char replicate[sizeof broker->replicate];
    snprintf (replicate, sizeof replicate, "%s", broker->replicate);
    if (broker->has_replicate && !*replicate) {
        argv[n++] = "--replicate";
        argv[n++] = "";
    }
    char *save = NULL;
    for (char *path = strtok_r (replicate, " ", &save); broker->has_replicate && path;
         path = strtok_r (NULL, " ", &save)) {
        if (n + 2 > S_ARGS_MAX)
            return -1;
        argv[n++] = "--replicate";
        argv[n++] = path;
    }
    argv[n] = NULL;
    if (ld_proc_start_bin (&broker->proc, getenv ("LD_BIN"), argv, true, LD_FED_TIMEOUT,
                           self->logs_to_stderr ? NULL : broker->log)
        != 0) {
        fprintf (stderr, "ld_fed: broker %s did not start (its log: %s)\n", broker->name,
                 broker->log);
        return -1;
    }
    broker->running = true;
    return 0;
}

static void
s_broker_gone (s_broker_t *broker)
{
    ld_client_destroy (&broker->client);
    broker->running = false;
}

int
ld_fed_broker_stop (ld_fed_t *self, int i)
{
    if (!s_broker_valid (self, i))
        return -1;
    s_broker_t *broker = &self->brokers[i];
    if (!broker->running)
        return 0;
    ld_client_destroy (&broker->client);
    int code = ld_proc_stop (&broker->proc);
    s_broker_gone (broker);
    if (code != 0) {
        fprintf (stderr, "ld_fed: broker %s exited with %d\n", broker->name, code);
        return -1;
    }
    return 0;
}

void
ld_fed_broker_kill (ld_fed_t *self, int i)
{
    if (!s_broker_valid (self, i) || !self->brokers[i].running)
        return;
    ld_proc_kill (&self->brokers[i].proc);
    s_broker_gone (&self->brokers[i]);
}

bool
ld_fed_broker_running (ld_fed_t *self, int i)
{
    return s_broker_valid (self, i) && self->brokers[i].running;
}

int
ld_fed_check_alive (ld_fed_t *self)
{
    int rc = 0;
    for (size_t i = 0; i < self->broker_count; i++) {
        s_broker_t *broker = &self->brokers[i];
        if (broker->running && ld_proc_wait (&broker->proc, 0)) {
            fprintf (stderr, "ld_fed: broker %s exited by itself with %d\n", broker->name,
                     ld_proc_exit_code (&broker->proc));
            s_broker_gone (broker);
            rc = -1;
        }
    }
    return rc;
}

int
ld_fed_stop_all (ld_fed_t *self)
{
    int rc = 0;
    for (size_t i = 0; i < self->broker_count; i++)
        if (ld_fed_broker_stop (self, (int) i) != 0)
            rc = -1;
    return rc;
}

int
ld_fed_link_cut (ld_fed_t *self, int l, ld_fed_cut_t how)
{
    if (l < 0 || (size_t) l >= self->link_count)
        return -1;
    s_link_t *link = &self->links[l];
    if (link->state != S_LINK_UP)
        return 0;
    if (how == LD_FED_CUT_STOP) {
        if (kill (link->proc.pid, SIGSTOP) != 0)
            return -1;
        link->state = S_LINK_STOPPED;
    }
    else {
        ld_proc_kill (&link->proc);
        link->started = false;
        link->state = S_LINK_KILLED;
    }
    return 0;
}

int
ld_fed_link_repair (ld_fed_t *self, int l)
{
    if (l < 0 || (size_t) l >= self->link_count)
        return -1;
    s_link_t *link = &self->links[l];
    if (link->state == S_LINK_STOPPED) {
        if (kill (link->proc.pid, SIGCONT) != 0)
            return -1;
        link->state = S_LINK_UP;
        return 0;
    }
    if (link->state == S_LINK_KILLED)
        return s_relay_start (self, link);
    return 0;
}

bool
ld_fed_link_up (ld_fed_t *self, int l)
{
    return l >= 0 && (size_t) l < self->link_count && self->links[l].state == S_LINK_UP;
}

const char *
ld_fed_link_endpoint (ld_fed_t *self, int l)
{
    return l >= 0 && (size_t) l < self->link_count ? self->links[l].endpoint : NULL;
}

int
ld_fed_repair_all (ld_fed_t *self)
{
    int rc = 0;
    for (size_t l = 0; l < self->link_count; l++)
        if (ld_fed_link_repair (self, (int) l) != 0)
            rc = -1;
    return rc;
}

int
ld_fed_start (ld_fed_t *self)
{
    //  The relays come last: a link that reaches its peer before the peer
    //  holds the follower's certificate is refused at the handshake and
    //  tries again only after a while (docs/FEDERATION.md, Failures).
    self->started = true;
    for (size_t i = 0; i < self->broker_count; i++)
        if (ld_fed_broker_start (self, (int) i) != 0)
            return -1;
    for (size_t i = 0; i < self->broker_count; i++)
        if (ld_fed_trust_publish (self, (int) i) != 0)
            return -1;
    for (size_t l = 0; l < self->link_count; l++)
        if (s_relay_start (self, &self->links[l]) != 0)
            return -1;
    return 0;
}

//  --------------------------------------------------------------------------
//  Clients

size_t
ld_fed_broker_count (ld_fed_t *self)
{
    return self->broker_count;
}

size_t
ld_fed_link_count (ld_fed_t *self)
{
    return self->link_count;
}

const char *
ld_fed_broker_name (ld_fed_t *self, int i)
{
    return s_broker_valid (self, i) ? self->brokers[i].name : NULL;
}

const char *
ld_fed_broker_endpoint (ld_fed_t *self, int i)
{
    return s_broker_valid (self, i) ? self->brokers[i].listen : NULL;
}

const char *
ld_fed_broker_pub (ld_fed_t *self, int i)
{
    return s_broker_valid (self, i) ? self->brokers[i].pub : NULL;
}

const char *
ld_fed_broker_data (ld_fed_t *self, int i)
{
    return s_broker_valid (self, i) ? self->brokers[i].data : NULL;
}

const uint8_t *
ld_fed_broker_key (ld_fed_t *self, int i)
{
    return s_broker_valid (self, i) ? self->brokers[i].key : NULL;
}

const char *
ld_fed_root_secret (ld_fed_t *self)
{
    return self->root_secret;
}

const char *
ld_fed_root_pub (ld_fed_t *self)
{
    return self->root_pub;
}

ld_identity_t *
ld_fed_root (ld_fed_t *self)
{
    return self->root;
}

const char *
ld_fed_dir (ld_fed_t *self)
{
    return self->dir;
}

ld_client_t *
ld_fed_client (ld_fed_t *self, int i, ld_identity_t *identity)
{
    if (!s_broker_valid (self, i))
        return NULL;
    return ld_client_new_curve (self->brokers[i].listen, identity, self->brokers[i].key);
}

//  The root's client of broker i (made once per run of the broker).
static ld_client_t *
s_root_client (ld_fed_t *self, int i)
{
    s_broker_t *broker = &self->brokers[i];
    if (!broker->client)
        broker->client = ld_fed_client (self, i, self->root);
    return broker->client;
}

int
ld_fed_publish (ld_fed_t *self, int i, ld_event_t *const *events, size_t count,
                ld_client_refusal_t *refusals, size_t refusals_max, int timeout_ms)
{
    if (!ld_fed_broker_running (self, i))
        return -1;
    ld_client_t *client = s_root_client (self, i);
    if (!client)
        return -1;
    return ld_client_publish (client, events, count, timeout_ms, refusals, refusals_max);
}

int
ld_fed_trust_publish (ld_fed_t *self, int i)
{
    if (!ld_fed_broker_running (self, i))
        return -1;
    //  Rounds: a certificate whose certifier's own certificate is in the
    //  same batch waits for the next round (the broker folds trust after
    //  each commit), and so does what follows it in that feed (a gap).
    bool *stored = calloc (self->trust_count ? self->trust_count : 1, sizeof *stored);
    ld_event_t **batch = calloc (S_PUBLISH_BATCH, sizeof *batch);
    size_t *index = calloc (S_PUBLISH_BATCH, sizeof *index);
    ld_client_refusal_t *refusals = calloc (S_PUBLISH_BATCH, sizeof *refusals);
    int rc = -1;
    int64_t deadline = ld_client_now_ms () + LD_FED_TIMEOUT;
    char last[600] = "";
    while (stored && batch && index && refusals && ld_client_now_ms () < deadline) {
        size_t left = 0;
        for (size_t t = 0; t < self->trust_count; t++)
            left += !stored[t];
        if (left == 0) {
            rc = 0;
            break;
        }
        for (size_t t = 0; t < self->trust_count;) {
            size_t n = 0;
            for (; t < self->trust_count && n < S_PUBLISH_BATCH; t++)
                if (!stored[t]) {
                    index[n] = t;
                    batch[n++] = self->trust[t];
                }
            if (n == 0)
                break;
            int refused =
                ld_fed_publish (self, i, batch, n, refusals, S_PUBLISH_BATCH, LD_FED_TIMEOUT);
            if (refused < 0) {
                snprintf (last, sizeof last, "no Ack");
                break;
            }
            bool *ok = calloc (n, sizeof *ok);
            if (!ok)
                break;
            for (size_t k = 0; k < n; k++)
                ok[k] = true;
            for (int r = 0; r < refused && r < S_PUBLISH_BATCH; r++) {
                ld_client_refusal_t *refusal = &refusals[r];
                if (refusal->index < n)
                    ok[refusal->index] = false;
                snprintf (last, sizeof last, "%s: %s", refusal->status, refusal->reason);
                if (!refusal->retry && strcmp (refusal->status, "gap") != 0) {
                    fprintf (stderr, "ld_fed: %s refused a trust event for good: %s\n",
                             self->brokers[i].name, last);
                    deadline = 0;
                }
            }
            for (size_t k = 0; k < n; k++)
                if (ok[k])
                    stored[index[k]] = true;
            free (ok);
        }
        poll (NULL, 0, 50); //  the next round: the broker folds what it stored
    }
    if (rc != 0)
        fprintf (stderr, "ld_fed: the trust events did not all reach %s (last: %s)\n",
                 self->brokers[i].name, last);
    free (stored);
    free (batch);
    free (index);
    free (refusals);
    return rc;
}

//  --------------------------------------------------------------------------
//  Status

static void
s_copy_status (const Liandong__Sync__BrokerStatus *wire, ld_fed_status_t *status)
{
    memset (status, 0, sizeof *status);
    if (wire->key.len == LD_KEY_BYTES)
        memcpy (status->key, wire->key.data, LD_KEY_BYTES);
    status->last_seq = wire->last_seq;
    status->authors = wire->authors;
    status->events = wire->events;
    status->frozen = wire->frozen;
    status->invalid = wire->has_invalid ? wire->invalid : 0;
    status->has_digests = wire->has_heads_digest && wire->heads_digest.len == 32
                          && wire->has_events_digest && wire->events_digest.len == 32;
    if (status->has_digests) {
        memcpy (status->heads_digest, wire->heads_digest.data, 32);
        memcpy (status->events_digest, wire->events_digest.data, 32);
    }
    status->select_all = wire->has_select_all && wire->select_all;
    for (size_t s = 0; s < wire->n_select && s < LD_FED_SELECT_MAX; s++)
        snprintf (status->select[status->select_count++], sizeof status->select[0], "%s",
                  wire->select[s]);
    for (size_t p = 0; p < wire->n_peers && p < LD_FED_PEERS_MAX; p++) {
        const Liandong__Sync__PeerStatus *in = wire->peers[p];
        ld_fed_peer_t *peer = &status->peers[status->peer_count++];
        snprintf (peer->endpoint, sizeof peer->endpoint, "%s", in->endpoint);
        if (in->has_key && in->key.len == LD_KEY_BYTES)
            memcpy (peer->key, in->key.data, LD_KEY_BYTES);
        peer->connected = in->connected;
        peer->last_contact_ms = in->has_last_contact_ms ? in->last_contact_ms : 0;
        peer->behind_in = in->behind_in;
        peer->behind_out = in->behind_out;
        peer->rate = in->rate;
        peer->pulled = in->pulled;
        peer->pushed = in->pushed;
        snprintf (peer->state, sizeof peer->state, "%s", in->state);
        snprintf (peer->error, sizeof peer->error, "%s", in->error ? in->error : "");
        peer->last_sync_ms = in->has_last_sync_ms ? in->last_sync_ms : 0;
    }
}

int
ld_fed_status (ld_fed_t *self, int i, ld_fed_status_t *status, int timeout_ms)
{
    if (!ld_fed_broker_running (self, i))
        return -1;
    ld_client_t *client = s_root_client (self, i);
    if (!client)
        return -1;
    Liandong__Sync__BrokerStatusRequest wanted = LIANDONG__SYNC__BROKER_STATUS_REQUEST__INIT;
    wanted.has_digest = 1;
    wanted.digest = 1;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_BROKER_STATUS;
    request.broker_status = &wanted;
    if (ld_client_send (client, &request) != 0)
        return -1;
    int64_t deadline = ld_client_now_ms () + timeout_ms;
    while (true) {
        ld_reply_t *reply = ld_client_recv (client, deadline);
        if (!reply)
            return -1;
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_BROKER_STATUS) {
            s_copy_status (reply->broker_status, status);
            ld_reply_free (&reply);
            return 0;
        }
        if (reply->kind_case == LIANDONG__SYNC__REPLY__KIND_ERROR) {
            fprintf (stderr, "ld_fed: %s answers the status request with %s: %s\n",
                     self->brokers[i].name, reply->error->status, reply->error->reason);
            ld_reply_free (&reply);
            return -1;
        }
        ld_reply_free (&reply); //  a late Ack of an earlier request
    }
}

static void
s_hex8 (const uint8_t *bytes, char out[17])
{
    for (int b = 0; b < 8; b++)
        snprintf (out + 2 * b, 3, "%02x", bytes[b]);
}

//  The name of the broker whose key is key, or "?".
static const char *
s_name_of (ld_fed_t *self, const uint8_t key[LD_KEY_BYTES])
{
    for (size_t i = 0; i < self->broker_count; i++)
        if (memcmp (self->brokers[i].key, key, LD_KEY_BYTES) == 0)
            return self->brokers[i].name;
    return "?";
}

void
ld_fed_status_print (ld_fed_t *self, int i)
{
    ld_fed_status_t status;
    if (!ld_fed_broker_running (self, i)) {
        fprintf (stderr, "  %-4s not running\n", self->brokers[i].name);
        return;
    }
    if (ld_fed_status (self, i, &status, 2000) != 0) {
        fprintf (stderr, "  %-4s no status\n", self->brokers[i].name);
        return;
    }
    char heads[17] = "-", events[17] = "-";
    if (status.has_digests) {
        s_hex8 (status.heads_digest, heads);
        s_hex8 (status.events_digest, events);
    }
    fprintf (stderr,
             "  %-4s last_seq %" PRIu64 " authors %" PRIu64 " events %" PRIu64 " frozen %" PRIu64
             " invalid %" PRIu64 " heads %s events %s\n",
             self->brokers[i].name, status.last_seq, status.authors, status.events, status.frozen,
             status.invalid, heads, events);
    for (size_t p = 0; p < status.peer_count; p++) {
        ld_fed_peer_t *peer = &status.peers[p];
        fprintf (stderr,
                 "       -> %-4s %s %s behind in %" PRIu64 " out %" PRIu64 " pulled %" PRIu64
                 " pushed %" PRIu64 "%s%s\n",
                 s_name_of (self, peer->key), peer->connected ? "connected" : "disconnected",
                 peer->state, peer->behind_in, peer->behind_out, peer->pulled, peer->pushed,
                 *peer->error ? " error: " : "", peer->error);
    }
}

int
ld_fed_converge_among (ld_fed_t *self, const int *brokers, size_t count, int timeout_ms)
{
    int64_t deadline = ld_client_now_ms () + timeout_ms;
    while (true) {
        bool same = true;
        ld_fed_status_t reference, status;
        for (size_t k = 0; k < count && same; k++) {
            if (ld_fed_status (self, brokers[k], &status, 2000) != 0 || !status.has_digests)
                same = false;
            else if (k == 0)
                reference = status;
            else if (memcmp (reference.heads_digest, status.heads_digest, 32) != 0
                     || memcmp (reference.events_digest, status.events_digest, 32) != 0)
                same = false;
        }
        if (same)
            return 0;
        if (ld_client_now_ms () >= deadline)
            break;
        poll (NULL, 0, S_POLL_MS); //  a poll interval: the brokers' state is the condition
    }
    fprintf (stderr, "ld_fed: no convergence within %d ms:\n", timeout_ms);
    for (size_t k = 0; k < count; k++)
        ld_fed_status_print (self, brokers[k]);
    return -1;
}

int
ld_fed_converge (ld_fed_t *self, int timeout_ms)
{
    int running[LD_FED_BROKERS_MAX];
    size_t count = 0;
    for (size_t i = 0; i < self->broker_count; i++)
        if (self->brokers[i].running)
            running[count++] = (int) i;
    return ld_fed_converge_among (self, running, count, timeout_ms);
}

int
ld_fed_heads (ld_fed_t *self, int i, ld_head_t **heads_p, size_t *count_p, int timeout_ms)
{
    *heads_p = NULL;
    *count_p = 0;
    if (!ld_fed_broker_running (self, i))
        return -1;
    ld_client_t *client = s_root_client (self, i);
    if (!client)
        return -1;
    Liandong__Sync__HeadsRequest wanted = LIANDONG__SYNC__HEADS_REQUEST__INIT;
    ld_request_t request = LIANDONG__SYNC__REQUEST__INIT;
    request.kind_case = LIANDONG__SYNC__REQUEST__KIND_HEADS;
    request.heads = &wanted;
    if (ld_client_send (client, &request) != 0)
        return -1;
    int64_t deadline = ld_client_now_ms () + timeout_ms;
    while (true) {
        ld_reply_t *reply = ld_client_recv (client, deadline);
        if (!reply)
            return -1;
        if (reply->kind_case != LIANDONG__SYNC__REPLY__KIND_HEADS) {
            ld_reply_free (&reply); //  a late answer to an earlier request
            continue;
        }
        Liandong__Sync__HeadsReply *wire = reply->heads;
        ld_head_t *heads = calloc (wire->n_heads ? wire->n_heads : 1, sizeof *heads);
        if (!heads) {
            ld_reply_free (&reply);
            return -1;
        }
        size_t count = 0;
        for (size_t h = 0; h < wire->n_heads; h++) {
            Liandong__Sync__Head *in = wire->heads[h];
            if (in->author.len != LD_KEY_BYTES)
                continue;
            ld_head_t *head = &heads[count++];
            memcpy (head->author, in->author.data, LD_KEY_BYTES);
            head->seq = in->seq;
            if (in->has_head_id && in->head_id.len == LD_ID_BYTES)
                memcpy (head->id, in->head_id.data, LD_ID_BYTES);
            head->frozen = in->has_frozen && in->frozen;
        }
        ld_reply_free (&reply);
        *heads_p = heads;
        *count_p = count;
        return 0;
    }
}

//  --------------------------------------------------------------------------
//  Stores

ld_fed_store_t *
ld_fed_store_open (ld_fed_t *self, int i)
{
    if (!s_broker_valid (self, i) || self->brokers[i].running)
        return NULL;
    char path[S_PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/%s", self->brokers[i].data, LD_STORE_FILE);
    ld_fed_store_t *store = calloc (1, sizeof *store);
    if (!store)
        return NULL;
    if (sqlite3_open_v2 (path, &store->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf (stderr, "ld_fed: cannot open '%s': %s\n", path, sqlite3_errmsg (store->db));
        ld_fed_store_close (&store);
        return NULL;
    }
    return store;
}

void
ld_fed_store_close (ld_fed_store_t **store_p)
{
    if (!store_p || !*store_p)
        return;
    sqlite3_close ((*store_p)->db);
    free (*store_p);
    *store_p = NULL;
}

static sqlite3_stmt *
s_prepare (ld_fed_store_t *self, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        fprintf (stderr, "ld_fed: %s: %s\n", sql, sqlite3_errmsg (self->db));
        return NULL;
    }
    return stmt;
}

//  The one integer a query returns, or -1.
static int64_t
s_scalar (ld_fed_store_t *self, const char *sql)
{
    sqlite3_stmt *stmt = s_prepare (self, sql);
    int64_t value = -1;
    if (stmt && sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return value;
}

int
ld_fed_store_fingerprint (ld_fed_store_t *self, uint8_t fingerprint[32], uint64_t *events_p,
                          uint64_t *invalid_p, uint64_t *frozen_p)
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, 32);
    uint64_t events = 0, invalid = 0, frozen = 0;
    sqlite3_stmt *stmt = s_prepare (self, "SELECT a.key, e.seq, e.id, IFNULL (e.invalid, '')"
                                          " FROM events e JOIN authors a ON a.aid = e.aid"
                                          " ORDER BY a.key, e.seq");
    if (!stmt)
        return -1;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        uint8_t seq[8];
        ld_sync_put_u64 (seq, (uint64_t) sqlite3_column_int64 (stmt, 1));
        const char *mark = (const char *) sqlite3_column_text (stmt, 3);
        crypto_generichash_update (&state, sqlite3_column_blob (stmt, 0),
                                   (size_t) sqlite3_column_bytes (stmt, 0));
        crypto_generichash_update (&state, seq, sizeof seq);
        crypto_generichash_update (&state, sqlite3_column_blob (stmt, 2),
                                   (size_t) sqlite3_column_bytes (stmt, 2));
        crypto_generichash_update (&state, (const uint8_t *) mark, strlen (mark) + 1);
        events++;
        invalid += *mark != '\0';
    }
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE)
        return -1;
    crypto_generichash_update (&state, (const uint8_t *) "frozen", 6);
    stmt = s_prepare (self, "SELECT key FROM authors WHERE frozen != 0 ORDER BY key");
    if (!stmt)
        return -1;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        crypto_generichash_update (&state, sqlite3_column_blob (stmt, 0),
                                   (size_t) sqlite3_column_bytes (stmt, 0));
        frozen++;
    }
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE)
        return -1;
    crypto_generichash_final (&state, fingerprint, 32);
    if (events_p)
        *events_p = events;
    if (invalid_p)
        *invalid_p = invalid;
    if (frozen_p)
        *frozen_p = frozen;
    return 0;
}

int
ld_fed_store_check (ld_fed_store_t *self, char *err, size_t err_size)
{
    static const struct {
        const char *what, *sql;
    } checks[] = {
        {"an (author, seq) stored twice",
         "SELECT COUNT (*) FROM (SELECT aid, seq, COUNT (*) FROM events"
         " GROUP BY aid, seq HAVING COUNT (*) > 1)"},
        {"an event id stored twice", "SELECT COUNT (*) FROM (SELECT id FROM events"
                                     " GROUP BY id HAVING COUNT (*) > 1)"},
        {"a feed with a hole (seqs not 1..head)",
         "SELECT COUNT (*) FROM (SELECT aid FROM events GROUP BY aid"
         " HAVING MIN (seq) != 1 OR MAX (seq) != COUNT (*))"},
    };
    for (size_t c = 0; c < sizeof checks / sizeof checks[0]; c++) {
        int64_t found = s_scalar (self, checks[c].sql);
        if (found != 0) {
            snprintf (err, err_size, "%s: %" PRId64 " found by %s", checks[c].what, found,
                      checks[c].sql);
            return -1;
        }
    }
    return 0;
}

int
ld_fed_store_event (ld_fed_store_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t seq,
                    uint8_t id[LD_ID_BYTES], char *mark, size_t mark_size)
{
    sqlite3_stmt *stmt = s_prepare (self, "SELECT e.id, IFNULL (e.invalid, '') FROM events e"
                                          " JOIN authors a ON a.aid = e.aid"
                                          " WHERE a.key = ?1 AND e.seq = ?2");
    if (!stmt)
        return -1;
    sqlite3_bind_blob (stmt, 1, author, LD_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) seq);
    int rc = sqlite3_step (stmt), found = -1;
    if (rc == SQLITE_ROW) {
        if (id && sqlite3_column_bytes (stmt, 0) == LD_ID_BYTES)
            memcpy (id, sqlite3_column_blob (stmt, 0), LD_ID_BYTES);
        if (mark)
            snprintf (mark, mark_size, "%s", (const char *) sqlite3_column_text (stmt, 1));
        found = 1;
    }
    else if (rc == SQLITE_DONE)
        found = 0;
    sqlite3_finalize (stmt);
    return found;
}

int
ld_fed_store_head (ld_fed_store_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t *seq_p,
                   bool *frozen_p)
{
    sqlite3_stmt *stmt =
        s_prepare (self, "SELECT IFNULL ((SELECT MAX (seq) FROM events e WHERE e.aid = a.aid), 0),"
                         " a.frozen FROM authors a WHERE a.key = ?1");
    if (!stmt)
        return -1;
    sqlite3_bind_blob (stmt, 1, author, LD_KEY_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    *seq_p = 0;
    *frozen_p = false;
    if (rc == SQLITE_ROW) {
        *seq_p = (uint64_t) sqlite3_column_int64 (stmt, 0);
        *frozen_p = sqlite3_column_int64 (stmt, 1) != 0;
    }
    sqlite3_finalize (stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

bool
ld_fed_store_evidence_has (ld_fed_store_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t seq,
                           const uint8_t id[LD_ID_BYTES])
{
    sqlite3_stmt *stmt = s_prepare (self, "SELECT 1 FROM evidence v JOIN authors a"
                                          " ON a.aid = v.aid WHERE a.key = ?1 AND v.seq = ?2"
                                          " AND v.id = ?3");
    if (!stmt)
        return false;
    sqlite3_bind_blob (stmt, 1, author, LD_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) seq);
    sqlite3_bind_blob (stmt, 3, id, LD_ID_BYTES, SQLITE_STATIC);
    bool found = sqlite3_step (stmt) == SQLITE_ROW;
    sqlite3_finalize (stmt);
    return found;
}

//  --------------------------------------------------------------------------
//  PRNG

uint64_t
ld_fed_seed (const char *name)
{
    const char *text = getenv (name);
    uint64_t seed;
    if (text && *text)
        seed = strtoull (text, NULL, 0);
    else {
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        seed = ((uint64_t) ts.tv_sec * 1000000007u) ^ (uint64_t) ts.tv_nsec
               ^ ((uint64_t) getpid () << 32);
    }
    fprintf (stderr, "seed: %s=%" PRIu64 " (set it to replay this run)\n", name, seed);
    return seed;
}

void
ld_fed_rng_init (ld_fed_rng_t *rng, uint64_t seed)
{
    rng->state = seed ? seed : 0x9E3779B97F4A7C15ull;
}

uint32_t
ld_fed_rng_below (ld_fed_rng_t *rng, uint32_t bound)
{
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return (uint32_t) ((x * 0x2545F4914F6CDD1Dull) >> 32) % bound;
}
