/*  ld_bench_store.c -- appends/s into ld_store, and into the schemas it
    chose not to use.

    Every figure appends events signed before the clock started: signing
    costs more than appending and would hide the store.

    Empty store: one working set (--events) signed from seq 1, appended into
    a new store for each group commit size.

    Pre-filled store: --rows events are signed, appended and freed 1000 at a
    time, so memory stays bounded. The same chunks go, in the same pass,
    into two variant tables keyed by the random 32-byte event id (BLAKE2b),
    written with raw sqlite3 and the store's settings: WAL,
    synchronous=FULL, SQLite's default page cache. The timed runs then
    continue the fill's feeds, so they land in the middle of the (author,
    seq) index as live traffic does. Group size 1 fsyncs once per event, so
    it stops after LD_BENCH_SINGLE_EVENTS or LD_BENCH_SINGLE_SECONDS; what it
    did not append is appended untimed, keeping the feeds whole. The variants
    receive every event the store does, so at the last group size both hold
    the same rows and append the same batches. Each timed run starts after a
    sync (), so that no run pays for another's dirty pages.

    The variants index only the id: no (author, seq) index, no chain
    checks. They do less work than ld_store, so the ratio printed beside
    them understates what the store's schema gains.
*/
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ld_bench.h"
#include "ld_store.h"

#define S_PROGRESS_STEPS 10 //  progress lines during the fill

const size_t ld_bench_groups[LD_BENCH_GROUP_COUNT] = {1, 100, 1000};
#define S_GROUP_LAST (LD_BENCH_GROUP_COUNT - 1)
_Static_assert(LD_BENCH_CHUNK == 1000, "fill and untimed batches use the largest group size");

typedef struct {
    const char *name; //  as printed
    const char *file; //  inside the temporary directory
    const char *schema;
} s_variant_spec_t;

static const s_variant_spec_t s_variant_specs[LD_BENCH_VARIANTS] = {
    {"random id PRIMARY KEY, WITHOUT ROWID", "random-pk.db",
     "CREATE TABLE events ("
     "  id BLOB PRIMARY KEY, author BLOB NOT NULL, seq INTEGER NOT NULL,"
     "  topic TEXT NOT NULL, type TEXT NOT NULL, stored_ms INTEGER NOT NULL,"
     "  envelope BLOB NOT NULL"
     ") STRICT, WITHOUT ROWID"},
    {"rowid + UNIQUE index on random id", "unique-id.db",
     "CREATE TABLE events ("
     "  sseq INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, author BLOB NOT NULL,"
     "  seq INTEGER NOT NULL, topic TEXT NOT NULL, type TEXT NOT NULL,"
     "  stored_ms INTEGER NOT NULL, envelope BLOB NOT NULL"
     ") STRICT"},
};

static const char *s_variant_insert = "INSERT INTO events"
                                      " (id, author, seq, topic, type, stored_ms, envelope)"
                                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

const char *
ld_bench_variant_name (size_t variant)
{
    return variant < LD_BENCH_VARIANTS ? s_variant_specs[variant].name : "?";
}

static int
s_path (char path[PATH_MAX], const ld_bench_t *self, const char *file, char *err, size_t err_size)
{
    int n = snprintf (path, PATH_MAX, "%s/%s", self->dir, file);
    if (n < 0 || n >= PATH_MAX)
        return ld_bench_fail (err, err_size, "path too long: '%s/%s'", self->dir, file);
    return 0;
}

//  Bytes of a SQLite database and its WAL.
static uint64_t
s_db_bytes (const char *path)
{
    char wal[PATH_MAX + sizeof "-wal"];
    struct stat st;
    uint64_t bytes = 0;
    if (stat (path, &st) == 0)
        bytes += (uint64_t) st.st_size;
    int n = snprintf (wal, sizeof wal, "%s-wal", path);
    if (n > 0 && (size_t) n < sizeof wal && stat (wal, &st) == 0)
        bytes += (uint64_t) st.st_size;
    return bytes;
}

//  --------------------------------------------------------------------------
//  Append targets

//  Appends count events in one transaction. Returns 0, or -1 with err filled.
typedef int (s_append_fn) (void *target, ld_event_t *const *events, size_t count, char *err,
                           size_t err_size);

typedef struct {
    ld_store_t *store;
    ld_append_result_t results[LD_BENCH_CHUNK];
} s_store_target_t;

static int
s_store_append (void *target, ld_event_t *const *events, size_t count, char *err, size_t err_size)
{
    s_store_target_t *self = target;
    if (ld_store_append (self->store, events, count, ld_bench_wall_ms (), self->results, err,
                         err_size)
        != LD_OK)
        return -1;
    //  The bench appends only new events that continue whole feeds: any
    //  other outcome is a bug, here or in the store, and voids the figures.
    for (size_t i = 0; i < count; i++)
        if (self->results[i].status != LD_OK || self->results[i].duplicate)
            return ld_bench_fail (
                err, err_size, "store refused bench event %zu of %zu: %s", i, count,
                self->results[i].duplicate ? "duplicate"
                                           : ld_status_name (self->results[i].status));
    return 0;
}

static void
s_store_target_destroy (s_store_target_t **self_p)
{
    if (!*self_p)
        return;
    ld_store_destroy (&(*self_p)->store);
    free (*self_p);
    *self_p = NULL;
}

static s_store_target_t *
s_store_target_new (const char *path, char *err, size_t err_size)
{
    s_store_target_t *self = calloc (1, sizeof *self);
    if (!self) {
        ld_bench_fail (err, err_size, "out of memory");
        return NULL;
    }
    if (ld_store_open (path, &self->store, err, err_size) != LD_OK)
        s_store_target_destroy (&self);
    return self;
}

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *insert;
} s_variant_t;

static void
s_variant_destroy (s_variant_t **self_p)
{
    if (!*self_p)
        return;
    sqlite3_finalize ((*self_p)->insert);
    sqlite3_close ((*self_p)->db);
    free (*self_p);
    *self_p = NULL;
}

//  Creates a variant table with the store's settings: WAL, synchronous=FULL.
static s_variant_t *
s_variant_new (const char *path, const char *schema, char *err, size_t err_size)
{
    s_variant_t *self = calloc (1, sizeof *self);
    if (!self) {
        ld_bench_fail (err, err_size, "out of memory");
        return NULL;
    }
    int rc = sqlite3_open_v2 (
        path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (self->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (self->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (self->db, schema, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2 (self->db, s_variant_insert, -1, &self->insert, NULL);
    if (rc != SQLITE_OK) {
        ld_bench_fail (err, err_size, "cannot create variant table '%s': %s", path,
                       self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
        s_variant_destroy (&self);
    }
    return self;
}

static int
s_variant_append (void *target, ld_event_t *const *events, size_t count, char *err, size_t err_size)
{
    s_variant_t *self = target;
    sqlite3_stmt *stmt = self->insert;
    int64_t stored_ms = ld_bench_wall_ms ();
    int rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    for (size_t i = 0; i < count && rc == SQLITE_OK; i++) {
        size_t size;
        const uint8_t *envelope = ld_event_envelope (events[i], &size);
        sqlite3_bind_blob (stmt, 1, ld_event_id (events[i]), LD_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob (stmt, 2, ld_event_author (events[i]), LD_KEY_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 3, (int64_t) ld_event_seq (events[i]));
        sqlite3_bind_text (stmt, 4, ld_event_topic (events[i]), -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 5, ld_event_type (events[i]), -1, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 6, stored_ms);
        sqlite3_bind_blob (stmt, 7, envelope, (int) size, SQLITE_STATIC);
        rc = sqlite3_step (stmt);
        sqlite3_reset (stmt);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ld_bench_fail (err, err_size, "variant append failed: %s", sqlite3_errmsg (self->db));
        if (!sqlite3_get_autocommit (self->db))
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Timed and untimed appends

//  Appends events in batches of LD_BENCH_CHUNK, untimed.
static int
s_append_all (s_append_fn *append, void *target, ld_event_t **events, size_t count, char *err,
              size_t err_size)
{
    for (size_t done = 0; done < count; done += LD_BENCH_CHUNK) {
        size_t n = count - done < LD_BENCH_CHUNK ? count - done : LD_BENCH_CHUNK;
        if (append (target, events + done, n, err, err_size) != 0)
            return -1;
    }
    return 0;
}

//  Appends events in groups of `group` until all are in or max_seconds have
//  passed; *rate gets what was appended while the clock ran.
static int
s_append_timed (s_append_fn *append, void *target, ld_event_t **events, size_t count, size_t group,
                double max_seconds, ld_bench_rate_t *rate, char *err, size_t err_size)
{
    //  Write back what earlier runs left dirty (the variant tables' pages
    //  above all) before the clock starts, so that this run's fsyncs do not
    //  pay for it.
    sync ();
    *rate = (ld_bench_rate_t){0};
    double start = ld_bench_now ();
    while (rate->events < count) {
        size_t n = count - rate->events < group ? count - rate->events : group;
        if (append (target, events + rate->events, n, err, err_size) != 0)
            return -1;
        rate->events += n;
        rate->commits++;
        rate->seconds = ld_bench_now () - start;
        if (rate->seconds >= max_seconds)
            break;
    }
    return ld_bench_interrupted (err, err_size) ? -1 : 0;
}

//  How many events a timed run at a group size appends, at most, and for
//  how long.
static size_t
s_run_events (const ld_bench_t *self, size_t group)
{
    return group == 1 && self->events > LD_BENCH_SINGLE_EVENTS ? LD_BENCH_SINGLE_EVENTS
                                                               : self->events;
}

static double
s_run_seconds (size_t group)
{
    return group == 1 ? LD_BENCH_SINGLE_SECONDS : INFINITY;
}

//  --------------------------------------------------------------------------
//  The two store states

int
ld_bench_store_empty (ld_bench_t *self, char *err, size_t err_size)
{
    int rc = -1;
    s_store_target_t *store = NULL;
    ld_event_t **events = NULL;
    ld_feeds_t *feeds = ld_feeds_new ();
    if (!feeds)
        return ld_bench_fail (err, err_size, "cannot create identities");
    fprintf (stderr, "ld_bench: signing %zu events for the empty stores\n", self->events);
    //  Each group size starts a new store, so one working set serves all.
    if (!(events = ld_feeds_sign_set (feeds, self->events, err, err_size)))
        goto done;
    for (size_t g = 0; g < LD_BENCH_GROUP_COUNT; g++) {
        size_t group = ld_bench_groups[g];
        char path[PATH_MAX], file[NAME_MAX];
        snprintf (file, sizeof file, "empty-%zu.db", group);
        if (s_path (path, self, file, err, err_size) != 0
            || !(store = s_store_target_new (path, err, err_size)))
            goto done;
        fprintf (stderr, "ld_bench: empty store, %zu per commit\n", group);
        if (s_append_timed (s_store_append, store, events, s_run_events (self, group), group,
                            s_run_seconds (group), &self->append[LD_BENCH_EMPTY][g], err, err_size)
            != 0)
            goto done;
        s_store_target_destroy (&store);
    }
    rc = 0;
done:
    s_store_target_destroy (&store);
    ld_bench_events_destroy (&events, self->events);
    ld_feeds_destroy (&feeds);
    return rc;
}

//  Fills the store and the variant tables with the same --rows events,
//  signed, appended and freed a chunk at a time.
static int
s_fill (ld_bench_t *self, ld_feeds_t *feeds, s_store_target_t *store,
        s_variant_t *variants[LD_BENCH_VARIANTS], char *err, size_t err_size)
{
    ld_event_t *chunk[LD_BENCH_CHUNK] = {NULL};
    uint64_t step = self->rows / S_PROGRESS_STEPS, next_report = step;
    double start = ld_bench_now ();
    int rc = 0;
    for (uint64_t done = 0; done < self->rows && rc == 0;) {
        size_t n =
            self->rows - done < LD_BENCH_CHUNK ? (size_t) (self->rows - done) : LD_BENCH_CHUNK;
        double t = ld_bench_now ();
        rc = ld_feeds_sign_many (feeds, chunk, n, err, err_size);
        self->fill_sign += ld_bench_now () - t;
        if (rc == 0) {
            t = ld_bench_now ();
            rc = s_store_append (store, chunk, n, err, err_size);
            self->fill_store += ld_bench_now () - t;
        }
        for (size_t v = 0; v < LD_BENCH_VARIANTS && rc == 0; v++) {
            t = ld_bench_now ();
            rc = s_variant_append (variants[v], chunk, n, err, err_size);
            self->fill_variant[v] += ld_bench_now () - t;
        }
        ld_bench_events_free (chunk, n);
        done += n;
        if (rc == 0 && ld_bench_interrupted (err, err_size))
            rc = -1;
        if (rc == 0 && step && done >= next_report) {
            fprintf (stderr, "ld_bench: filled %llu of %llu rows, %.0f s\n",
                     (unsigned long long) done, (unsigned long long) self->rows,
                     ld_bench_now () - start);
            next_report += step;
        }
    }
    self->fill_seconds = ld_bench_now () - start;
    return rc;
}

int
ld_bench_store_full (ld_bench_t *self, char *err, size_t err_size)
{
    int rc = -1;
    char path[PATH_MAX], variant_paths[LD_BENCH_VARIANTS][PATH_MAX];
    s_store_target_t *store = NULL;
    s_variant_t *variants[LD_BENCH_VARIANTS] = {NULL};
    ld_event_t **events = NULL;
    size_t count = 0;
    ld_feeds_t *feeds = ld_feeds_new ();
    if (!feeds)
        return ld_bench_fail (err, err_size, "cannot create identities");
    if (s_path (path, self, "store.db", err, err_size) != 0
        || !(store = s_store_target_new (path, err, err_size)))
        goto done;
    for (size_t v = 0; v < LD_BENCH_VARIANTS; v++)
        if (s_path (variant_paths[v], self, s_variant_specs[v].file, err, err_size) != 0
            || !(variants[v] =
                     s_variant_new (variant_paths[v], s_variant_specs[v].schema, err, err_size)))
            goto done;

    fprintf (stderr, "ld_bench: filling %llu rows into the store and %d variant tables\n",
             (unsigned long long) self->rows, LD_BENCH_VARIANTS);
    if (s_fill (self, feeds, store, variants, err, err_size) != 0)
        goto done;
    self->store_bytes = s_db_bytes (path);
    for (size_t v = 0; v < LD_BENCH_VARIANTS; v++)
        self->variant_bytes[v] = s_db_bytes (variant_paths[v]);

    for (size_t g = 0; g < LD_BENCH_GROUP_COUNT; g++) {
        size_t group = ld_bench_groups[g];
        count = s_run_events (self, group);
        if (!(events = ld_feeds_sign_set (feeds, count, err, err_size)))
            goto done;
        fprintf (stderr, "ld_bench: pre-filled store, %zu per commit\n", group);
        ld_bench_rate_t *rate = &self->append[LD_BENCH_FULL][g];
        if (s_append_timed (s_store_append, store, events, count, group, s_run_seconds (group),
                            rate, err, err_size)
                != 0
            || s_append_all (s_store_append, store, events + rate->events, count - rate->events,
                             err, err_size)
                   != 0)
            goto done;
        for (size_t v = 0; v < LD_BENCH_VARIANTS; v++) {
            if (g == S_GROUP_LAST) {
                fprintf (stderr, "ld_bench: %s, %zu per commit\n", s_variant_specs[v].name, group);
                if (s_append_timed (s_variant_append, variants[v], events, count, group, INFINITY,
                                    &self->variant[v], err, err_size)
                    != 0)
                    goto done;
            }
            else if (s_append_all (s_variant_append, variants[v], events, count, err, err_size)
                     != 0)
                goto done;
        }
        ld_bench_events_destroy (&events, count);
    }
    rc = 0;
done:
    ld_bench_events_destroy (&events, count);
    for (size_t v = 0; v < LD_BENCH_VARIANTS; v++)
        s_variant_destroy (&variants[v]);
    s_store_target_destroy (&store);
    ld_feeds_destroy (&feeds);
    return rc;
}
