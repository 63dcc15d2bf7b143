/*  ld_store.c -- the durable event store. See ld_store.h for the contract.

    Layout (schema version 1, PRAGMA user_version):

        authors  (aid INTEGER PRIMARY KEY, key BLOB UNIQUE, frozen INTEGER)
        events   (sseq INTEGER PRIMARY KEY AUTOINCREMENT, aid, seq, id, topic,
                  type, stored_ms, envelope, UNIQUE (aid, seq))
        evidence (aid, seq, id, envelope, PRIMARY KEY (aid, seq, id))
        receipts (first_sseq PRIMARY KEY, last_sseq, receipt_sseq)   [v2]
        meta     (name PRIMARY KEY, value)                           [v2]
        events.invalid: NULL, or why the event is known invalid     [v3]
            (a status name such as "revoked"); partial index on the
            marked rows only, so clearing and counting marks is cheap
        persons  (commitment PRIMARY KEY, key, salt, sealed,        [v4]
                  created_ms, erased_ms)
            a node's per-person secrets (DESIGN.md 3, ld_person.h); an
            erased person keeps its row with key, salt and sealed NULL
            (a tombstone, so "already erased" differs from "never held")

    Why these keys: everything we index is appended in order. The store
    sequence is the rowid (append-ordered B-tree); authors are interned to
    small integers, so UNIQUE (aid, seq) is a small, mostly-append index.
    The event id (a random 32-byte hash) is stored but not indexed: a random
    key index is 5-10x slower at a million rows (LIBRARIES.md; measured again
    by bench/ld_bench). Events are looked up by (author, seq); the id is
    compared after the lookup. AUTOINCREMENT, because fork evidence moves
    rows out of `events` and a store sequence must never be given twice.

    Invariants:
      - for each author, events holds exactly seqs 1..head, each with prev =
        id of the one before (checked on append, so every feed is whole);
      - a frozen author's events end at the seq before the proven fork; the
        two conflicting versions and anything stored after them are in
        evidence, and nothing more is ever appended for that author.

    A broker stores a receipt (a signed event of its own) at the end of each
    commit; `receipts` maps the commit's range of store seqs to it, one row
    per commit, so readers get each event's receipt without a per-event
    write. Migrations run in order from PRAGMA user_version, each in its own
    transaction (s_migrations).

    Digests (ld_store_digest): one read of (authors.key, frozen) joined to
    (seq, id, invalid), in key order then seq order, both from the UNIQUE
    indexes, so no sort; envelopes are not read (a record's columns are
    found through its header; with events far below a page, none spills
    into overflow pages that would have to be walked to reach `invalid`).

    The head of each author (highest seq and its id) is cached in memory,
    loaded at open from the (aid, seq) index; a batch that fails rolls the
    cache back with the transaction (the undo log in s_batch_t).

    Erasure: a person's key and salt must not survive their erasure in the
    store's files. SQLite leaves deleted bytes in free space, in free pages
    and in old WAL frames, so the connection runs with secure_delete=ON
    (freed cell space and pages are zeroed when written), and an erase ends
    with a TRUNCATE checkpoint: the zeroed page is copied over the old one
    in the database file and the WAL, which holds earlier versions of that
    page, is cut to zero bytes. The checkpoint needs no other connection
    to be reading; the node is the only one (its data dir is locked).

    Durability: WAL with synchronous=FULL, so COMMIT returns only after the
    WAL is fsync'ed. Recovery is SQLite's: an uncommitted tail of the WAL is
    ignored on the next open. A failed fsync or write is reported as
    LD_ERR_IO and the caller must stop (a retried fsync can lie); a full
    disk is LD_ERR_FULL and the batch is simply not stored.
*/
#include "ld_store.h"

#include "ld_faultvfs.h"

#include <czmq.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define LD_SCHEMA_VERSION  4
#define LD_BUSY_TIMEOUT_MS 5000

//  Schema migrations: s_migrations[v] takes a store from version v to v+1.
static const char *s_migrations[] = {
    //  0 -> 1: the first schema
    "CREATE TABLE authors ("
    "  aid INTEGER PRIMARY KEY,"
    "  key BLOB NOT NULL UNIQUE,"
    "  frozen INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE TABLE events ("
    "  sseq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  aid INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  id BLOB NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  stored_ms INTEGER NOT NULL,"
    "  envelope BLOB NOT NULL,"
    "  UNIQUE (aid, seq)"
    ") STRICT;"
    "CREATE TABLE evidence ("
    "  aid INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  id BLOB NOT NULL,"
    "  envelope BLOB NOT NULL,"
    "  PRIMARY KEY (aid, seq, id)"
    ") STRICT, WITHOUT ROWID;",
    //  1 -> 2: receipts (which receipt names which commit) and meta values
    "CREATE TABLE receipts ("
    "  first_sseq INTEGER PRIMARY KEY,"
    "  last_sseq INTEGER NOT NULL,"
    "  receipt_sseq INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE meta ("
    "  name TEXT PRIMARY KEY,"
    "  value ANY"
    ") STRICT;",
    //  2 -> 3: invalid marks (a revocation cut learned after the events
    //  were stored marks them; nothing is deleted)
    //  (in parentheses: clang's -Wstring-concatenation takes two literals
    //  in a row for a missing comma)
    ("ALTER TABLE events ADD COLUMN invalid TEXT;"
     "CREATE INDEX events_invalid ON events (aid, seq) WHERE invalid IS NOT NULL;"),
    //  3 -> 4: per-person secrets of erasable personal data
    "CREATE TABLE persons ("
    "  commitment BLOB PRIMARY KEY,"
    "  key BLOB,"
    "  salt BLOB,"
    "  sealed BLOB,"
    "  created_ms INTEGER NOT NULL,"
    "  erased_ms INTEGER"
    ") STRICT, WITHOUT ROWID;",
};

_Static_assert(sizeof s_migrations / sizeof s_migrations[0] == LD_SCHEMA_VERSION,
               "one migration per schema version");

//  One author, as cached in memory.
typedef struct {
    uint8_t key[LD_KEY_BYTES]; //  also the hash key
    int64_t aid;               //  0 until the authors row is inserted
    uint64_t head_seq;
    uint8_t head_id[LD_ID_BYTES];
    bool frozen;
} s_author_t;

//  State of an author before the batch first touched it.
typedef struct {
    s_author_t *author;
    s_author_t saved;
    bool created; //  the author was new in this batch: drop it on rollback
} s_undo_t;

typedef enum {
    S_INSERT_AUTHOR,
    S_FREEZE_AUTHOR,
    S_INSERT_EVENT,
    S_SELECT_ID,
    S_SELECT_HEAD,
    S_READ_FEED,
    S_READ_AFTER,
    S_READ_EVIDENCE,
    S_SAVE_EVIDENCE,
    S_ADD_EVIDENCE,
    S_DROP_EVENTS,
    S_ADD_RECEIPT,
    S_META_SET,
    S_META_GET,
    S_META_SET_TEXT,
    S_MARK_INVALID,
    S_CLEAR_INVALID,
    S_PERSON_PUT,
    S_PERSON_GET,
    S_PERSON_ERASE,
    S_DIGEST,
    S_STATEMENT_COUNT
} s_statement_t;

//  The receipt of the event row `e`: the commit range that holds it.
#define S_RECEIPT_OF_E                                                                             \
    "(SELECT CASE WHEN r.last_sseq >= e.sseq THEN r.receipt_sseq ELSE 0 END"                       \
    " FROM receipts r WHERE r.first_sseq <= e.sseq ORDER BY r.first_sseq DESC LIMIT 1)"

static const char *s_sql[S_STATEMENT_COUNT] = {
    [S_INSERT_AUTHOR] = "INSERT INTO authors (key) VALUES (?1)",
    [S_FREEZE_AUTHOR] = "UPDATE authors SET frozen = 1 WHERE aid = ?1",
    [S_INSERT_EVENT] = "INSERT INTO events (aid, seq, id, topic, type, stored_ms, envelope)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_SELECT_ID] = "SELECT id FROM events WHERE aid = ?1 AND seq = ?2",
    [S_SELECT_HEAD] = "SELECT seq, id FROM events WHERE aid = ?1 ORDER BY seq DESC LIMIT 1",
    [S_READ_FEED] = "SELECT sseq, envelope, stored_ms, " S_RECEIPT_OF_E ", invalid"
                    " FROM events e WHERE aid = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3",
    [S_READ_AFTER] = "SELECT sseq, envelope, stored_ms, " S_RECEIPT_OF_E ", invalid"
                     " FROM events e WHERE sseq > ?1 AND sseq <= ?5"
                     " AND substr (topic, 1, ?2) = ?3 ORDER BY sseq LIMIT ?4",
    [S_READ_EVIDENCE] = "SELECT seq, envelope, 0, 0, NULL FROM evidence WHERE aid = ?1"
                        " ORDER BY seq, id",
    [S_SAVE_EVIDENCE] = "INSERT OR IGNORE INTO evidence (aid, seq, id, envelope)"
                        " SELECT aid, seq, id, envelope FROM events WHERE aid = ?1 AND seq >= ?2",
    [S_ADD_EVIDENCE] = "INSERT OR IGNORE INTO evidence (aid, seq, id, envelope)"
                       " VALUES (?1, ?2, ?3, ?4)",
    [S_DROP_EVENTS] = "DELETE FROM events WHERE aid = ?1 AND seq >= ?2",
    [S_ADD_RECEIPT] = "INSERT INTO receipts (first_sseq, last_sseq, receipt_sseq)"
                      " VALUES (?1, ?2, ?3)",
    [S_META_SET] = "INSERT INTO meta (name, value) VALUES (?1, ?2)"
                   " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [S_META_GET] = "SELECT value FROM meta WHERE name = ?1",
    [S_META_SET_TEXT] = "INSERT INTO meta (name, value) VALUES (?1, ?2)"
                        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [S_MARK_INVALID] = "UPDATE events SET invalid = ?4 WHERE aid = ?1 AND seq > ?2 AND seq <= ?3"
                       " AND invalid IS NOT ?4",
    [S_CLEAR_INVALID] = "UPDATE events SET invalid = NULL WHERE aid = ?1 AND seq > ?2"
                        " AND seq <= ?3 AND invalid IS NOT NULL",
    [S_PERSON_PUT] = "INSERT INTO persons (commitment, key, salt, sealed, created_ms)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_PERSON_GET] = "SELECT key, salt, sealed, erased_ms FROM persons WHERE commitment = ?1",
    [S_PERSON_ERASE] = "UPDATE persons SET key = NULL, salt = NULL, sealed = NULL,"
                       " erased_ms = ?2 WHERE commitment = ?1 AND erased_ms IS NULL",
    //  authors.key is UNIQUE (an index in key order) and events has
    //  UNIQUE (aid, seq): the rows come in this order without a sort
    [S_DIGEST] = "SELECT a.key, a.frozen, e.seq, e.id, e.invalid FROM authors a"
                 " LEFT JOIN events e ON e.aid = a.aid ORDER BY a.key, e.seq",
};

struct _ld_store_t {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_STATEMENT_COUNT];
    zhashx_t *authors; //  key -> s_author_t (owned)
    uint64_t last_seq; //  highest store sequence given out
    s_undo_t *undo;    //  undo log of the batch in progress
    size_t undo_count, undo_size;
    bool in_transaction;
    uint64_t txn_last_seq;  //  last_seq as the open transaction left it
    uint64_t txn_first_new; //  first store seq stored by this transaction (0: none)
};

//  --------------------------------------------------------------------------
//  Author cache: a zhashx keyed by the 32-byte public key itself.

static size_t
s_key_hash (const void *key)
{
    size_t hash;
    //  keys are uniformly random public keys: any 8 bytes hash well
    memcpy (&hash, key, sizeof hash);
    return hash;
}

static int
s_key_compare (const void *a, const void *b)
{
    return memcmp (a, b, LD_KEY_BYTES);
}

static void
s_author_free (void **item)
{
    free (*item);
    *item = NULL;
}

static zhashx_t *
s_author_cache_new (void)
{
    zhashx_t *cache = zhashx_new ();
    if (!cache)
        return NULL;
    zhashx_set_key_hasher (cache, s_key_hash);
    zhashx_set_key_comparator (cache, s_key_compare);
    zhashx_set_key_duplicator (cache, NULL); //  the key lives in the item
    zhashx_set_key_destructor (cache, NULL);
    zhashx_set_destructor (cache, s_author_free);
    return cache;
}

//  --------------------------------------------------------------------------
//  SQLite helpers

static ld_status_t
s_sqlite_status (int rc)
{
    switch (rc & 0xFF) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
            return LD_OK;
        case SQLITE_FULL:
            return LD_ERR_FULL;
        case SQLITE_NOMEM:
            return LD_ERR_NOMEM;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return LD_ERR_CORRUPT;
        default:
            return LD_ERR_IO;
    }
}

static ld_status_t
s_db_fail (ld_store_t *self, int rc, const char *what, char *err, size_t err_size)
{
    return ld_fail (err, err_size, s_sqlite_status (rc), "%s: %s (sqlite %d)", what,
                    self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc), rc);
}

static ld_status_t
s_exec (ld_store_t *self, const char *sql, char *err, size_t err_size)
{
    int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LD_OK : s_db_fail (self, rc, sql, err, err_size);
}

//  Runs a prepared statement that returns no rows, then resets it.
static int
s_step_done (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static ld_status_t
s_migrate (ld_store_t *self, char *err, size_t err_size)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return s_db_fail (self, rc, "reading the schema version", err, err_size);
    rc = sqlite3_step (stmt);
    int version = rc == SQLITE_ROW ? sqlite3_column_int (stmt, 0) : -1;
    sqlite3_finalize (stmt);
    if (version < 0)
        return s_db_fail (self, rc, "reading the schema version", err, err_size);
    if (version > LD_SCHEMA_VERSION)
        return ld_fail (err, err_size, LD_ERR_SCHEMA,
                        "store has schema version %d, this liandong knows up to %d", version,
                        LD_SCHEMA_VERSION);
    for (; version < LD_SCHEMA_VERSION; version++) {
        char bump[64];
        snprintf (bump, sizeof bump, "PRAGMA user_version = %d", version + 1);
        ld_status_t status = s_exec (self, "BEGIN IMMEDIATE", err, err_size);
        if (status == LD_OK)
            status = s_exec (self, s_migrations[version], err, err_size);
        if (status == LD_OK)
            status = s_exec (self, bump, err, err_size);
        if (status == LD_OK)
            status = s_exec (self, "COMMIT", err, err_size);
        if (status != LD_OK) {
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            return status;
        }
    }
    return LD_OK;
}

//  Loads every author and its head into the cache.
static ld_status_t
s_load_authors (ld_store_t *self, char *err, size_t err_size)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2 (self->db, "SELECT aid, key, frozen FROM authors", -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return s_db_fail (self, rc, "loading authors", err, err_size);
    sqlite3_stmt *head = self->stmt[S_SELECT_HEAD];
    ld_status_t status = LD_OK;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        if (sqlite3_column_bytes (stmt, 1) != LD_KEY_BYTES) {
            status = ld_fail (err, err_size, LD_ERR_CORRUPT, "author key of wrong size");
            break;
        }
        s_author_t *author = calloc (1, sizeof *author);
        if (!author) {
            status = LD_ERR_NOMEM;
            break;
        }
        author->aid = sqlite3_column_int64 (stmt, 0);
        memcpy (author->key, sqlite3_column_blob (stmt, 1), LD_KEY_BYTES);
        author->frozen = sqlite3_column_int (stmt, 2) != 0;
        sqlite3_bind_int64 (head, 1, author->aid);
        if (sqlite3_step (head) == SQLITE_ROW && sqlite3_column_bytes (head, 1) == LD_ID_BYTES) {
            author->head_seq = (uint64_t) sqlite3_column_int64 (head, 0);
            memcpy (author->head_id, sqlite3_column_blob (head, 1), LD_ID_BYTES);
        }
        sqlite3_reset (head);
        zhashx_insert (self->authors, author->key, author);
    }
    if (status == LD_OK && rc != SQLITE_DONE)
        status = s_db_fail (self, rc, "loading authors", err, err_size);
    sqlite3_finalize (stmt);
    if (status != LD_OK)
        return status;
    rc = sqlite3_prepare_v2 (self->db, "SELECT seq FROM sqlite_sequence WHERE name = 'events'", -1,
                             &stmt, NULL);
    if (rc != SQLITE_OK)
        return s_db_fail (self, rc, "reading the store sequence", err, err_size);
    if (sqlite3_step (stmt) == SQLITE_ROW)
        self->last_seq = (uint64_t) sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return LD_OK;
}

ld_status_t
ld_store_open (const char *path, ld_store_t **store_p, char *err, size_t err_size)
{
    *store_p = NULL;
    ld_faultvfs_install (); //  only with LD_FAULT_FILE set (fault tests)
    ld_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return LD_ERR_NOMEM;
    ld_status_t status;
    int rc = sqlite3_open_v2 (
        path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        status = ld_fail (err, err_size, s_sqlite_status (rc), "cannot open store '%s': %s", path,
                          self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
        goto failed;
    }
    sqlite3_busy_timeout (self->db, LD_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes (self->db, 1);
    //  journal_mode answers with a row; sqlite3_exec discards it.
    status = s_exec (self, "PRAGMA journal_mode = WAL", err, err_size);
    if (status == LD_OK)
        status = s_exec (self, "PRAGMA synchronous = FULL", err, err_size);
    //  Freed space is zeroed, so an erased person's secret leaves no trace
    //  in free pages (see Erasure above). Events are almost never deleted,
    //  so this costs the event store nothing measurable.
    if (status == LD_OK)
        status = s_exec (self, "PRAGMA secure_delete = ON", err, err_size);
    if (status == LD_OK)
        status = s_migrate (self, err, err_size);
    if (status != LD_OK)
        goto failed;
    for (int i = 0; i < S_STATEMENT_COUNT; i++) {
        rc = sqlite3_prepare_v3 (self->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->stmt[i],
                                 NULL);
        if (rc != SQLITE_OK) {
            status = s_db_fail (self, rc, s_sql[i], err, err_size);
            goto failed;
        }
    }
    self->authors = s_author_cache_new ();
    if (!self->authors) {
        status = LD_ERR_NOMEM;
        goto failed;
    }
    status = s_load_authors (self, err, err_size);
    if (status != LD_OK)
        goto failed;
    *store_p = self;
    return LD_OK;
failed:
    ld_store_destroy (&self);
    return status;
}

void
ld_store_destroy (ld_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_store_t *self = *self_p;
    for (int i = 0; i < S_STATEMENT_COUNT; i++)
        sqlite3_finalize (self->stmt[i]);
    sqlite3_close (self->db);
    zhashx_destroy (&self->authors);
    free (self->undo);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Appending

//  Records the author's state before the batch changes it (once per batch).
static int
s_undo_record (ld_store_t *self, s_author_t *author, bool created)
{
    for (size_t i = 0; i < self->undo_count; i++)
        if (self->undo[i].author == author)
            return 0;
    if (self->undo_count == self->undo_size) {
        size_t size = self->undo_size ? self->undo_size * 2 : 64;
        s_undo_t *grown = realloc (self->undo, size * sizeof *grown);
        if (!grown)
            return -1;
        self->undo = grown;
        self->undo_size = size;
    }
    s_undo_t *entry = &self->undo[self->undo_count++];
    entry->author = author;
    entry->saved = *author;
    entry->created = created;
    return 0;
}

//  Puts every author the failed batch touched back as it was.
static void
s_undo_apply (ld_store_t *self)
{
    for (size_t i = self->undo_count; i-- > 0;) {
        s_undo_t *entry = &self->undo[i];
        if (entry->created)
            zhashx_delete (self->authors, entry->author->key); //  frees it
        else
            *entry->author = entry->saved;
    }
    self->undo_count = 0;
}

//  The cached author for key, created (not yet in SQL) if unknown.
static s_author_t *
s_author_get (ld_store_t *self, const uint8_t key[LD_KEY_BYTES])
{
    s_author_t *author = zhashx_lookup (self->authors, key);
    if (author) {
        if (s_undo_record (self, author, false) != 0)
            return NULL;
        return author;
    }
    author = calloc (1, sizeof *author);
    if (!author)
        return NULL;
    memcpy (author->key, key, LD_KEY_BYTES);
    if (zhashx_insert (self->authors, author->key, author) != 0) {
        free (author);
        return NULL;
    }
    if (s_undo_record (self, author, true) != 0) {
        zhashx_delete (self->authors, author->key);
        return NULL;
    }
    return author;
}

//  Inserts the authors row the first time an author's event is stored.
static int
s_author_persist (ld_store_t *self, s_author_t *author)
{
    if (author->aid)
        return SQLITE_OK;
    sqlite3_stmt *stmt = self->stmt[S_INSERT_AUTHOR];
    sqlite3_bind_blob (stmt, 1, author->key, LD_KEY_BYTES, SQLITE_STATIC);
    int rc = s_step_done (stmt);
    if (rc == SQLITE_OK)
        author->aid = sqlite3_last_insert_rowid (self->db);
    return rc;
}

//  Looks up the stored id of (aid, seq). Returns SQLITE_ROW with id filled,
//  SQLITE_DONE if absent, or an error.
static int
s_stored_id (ld_store_t *self, int64_t aid, uint64_t seq, uint8_t id[LD_ID_BYTES])
{
    sqlite3_stmt *stmt = self->stmt[S_SELECT_ID];
    sqlite3_bind_int64 (stmt, 1, aid);
    sqlite3_bind_int64 (stmt, 2, (int64_t) seq);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_bytes (stmt, 0) == LD_ID_BYTES)
            memcpy (id, sqlite3_column_blob (stmt, 0), LD_ID_BYTES);
        else
            rc = SQLITE_CORRUPT;
    }
    sqlite3_reset (stmt);
    return rc;
}

//  A proven fork at seq: keeps both versions and everything stored after
//  seq-1 as evidence, removes them from the events, freezes the author.
static int
s_freeze (ld_store_t *self, s_author_t *author, const ld_event_t *event)
{
    uint64_t seq = ld_event_seq (event);
    sqlite3_stmt *stmt = self->stmt[S_SAVE_EVIDENCE];
    sqlite3_bind_int64 (stmt, 1, author->aid);
    sqlite3_bind_int64 (stmt, 2, (int64_t) seq);
    int rc = s_step_done (stmt);
    if (rc != SQLITE_OK)
        return rc;
    size_t size;
    const uint8_t *envelope = ld_event_envelope (event, &size);
    stmt = self->stmt[S_ADD_EVIDENCE];
    sqlite3_bind_int64 (stmt, 1, author->aid);
    sqlite3_bind_int64 (stmt, 2, (int64_t) seq);
    sqlite3_bind_blob (stmt, 3, ld_event_id (event), LD_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 4, envelope, (int) size, SQLITE_STATIC);
    if ((rc = s_step_done (stmt)) != SQLITE_OK)
        return rc;
    stmt = self->stmt[S_DROP_EVENTS];
    sqlite3_bind_int64 (stmt, 1, author->aid);
    sqlite3_bind_int64 (stmt, 2, (int64_t) seq);
    if ((rc = s_step_done (stmt)) != SQLITE_OK)
        return rc;
    stmt = self->stmt[S_FREEZE_AUTHOR];
    sqlite3_bind_int64 (stmt, 1, author->aid);
    if ((rc = s_step_done (stmt)) != SQLITE_OK)
        return rc;
    author->frozen = true;
    author->head_seq = seq - 1;
    memset (author->head_id, 0, LD_ID_BYTES);
    if (seq > 1) {
        rc = s_stored_id (self, author->aid, seq - 1, author->head_id);
        if (rc != SQLITE_ROW)
            return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
    }
    return SQLITE_OK;
}

//  Decides and applies one event. Returns an SQLite error code if the
//  transaction must be abandoned, else SQLITE_OK with *result filled.
static int
s_append_one (ld_store_t *self, const ld_event_t *event, int64_t stored_ms,
              ld_append_result_t *result)
{
    memset (result, 0, sizeof *result);
    s_author_t *author = s_author_get (self, ld_event_author (event));
    if (!author)
        return SQLITE_NOMEM;
    uint64_t seq = ld_event_seq (event);
    if (seq <= author->head_seq) {
        //  Already there: a resend, or a fork.
        uint8_t stored[LD_ID_BYTES];
        int rc = s_stored_id (self, author->aid, seq, stored);
        if (rc != SQLITE_ROW)
            return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
        if (memcmp (stored, ld_event_id (event), LD_ID_BYTES) == 0) {
            result->status = LD_OK;
            result->duplicate = true;
            return SQLITE_OK;
        }
        result->status = LD_ERR_FORK;
        return s_freeze (self, author, event);
    }
    if (author->frozen) {
        result->status = LD_ERR_FROZEN;
        return SQLITE_OK;
    }
    if (seq > author->head_seq + 1) {
        result->status = LD_ERR_GAP;
        result->needed_seq = author->head_seq + 1;
        return SQLITE_OK;
    }
    const uint8_t *prev = ld_event_prev (event);
    if (seq > 1 && memcmp (prev, author->head_id, LD_ID_BYTES) != 0) {
        result->status = LD_ERR_CHAIN;
        return SQLITE_OK;
    }
    int rc = s_author_persist (self, author);
    if (rc != SQLITE_OK)
        return rc;
    size_t size;
    const uint8_t *envelope = ld_event_envelope (event, &size);
    sqlite3_stmt *stmt = self->stmt[S_INSERT_EVENT];
    sqlite3_bind_int64 (stmt, 1, author->aid);
    sqlite3_bind_int64 (stmt, 2, (int64_t) seq);
    sqlite3_bind_blob (stmt, 3, ld_event_id (event), LD_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, ld_event_topic (event), -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, ld_event_type (event), -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 6, stored_ms);
    sqlite3_bind_blob (stmt, 7, envelope, (int) size, SQLITE_STATIC);
    if ((rc = s_step_done (stmt)) != SQLITE_OK)
        return rc;
    author->head_seq = seq;
    memcpy (author->head_id, ld_event_id (event), LD_ID_BYTES);
    result->status = LD_OK;
    result->store_seq = (uint64_t) sqlite3_last_insert_rowid (self->db);
    return SQLITE_OK;
}

ld_status_t
ld_store_begin (ld_store_t *self, char *err, size_t err_size)
{
    if (self->in_transaction)
        return ld_fail (err, err_size, LD_ERR_USAGE, "a transaction is already open");
    self->undo_count = 0;
    int rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return s_db_fail (self, rc, "beginning a batch", err, err_size);
    self->in_transaction = true;
    self->txn_last_seq = self->last_seq;
    self->txn_first_new = 0;
    return LD_OK;
}

void
ld_store_rollback (ld_store_t *self)
{
    if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    s_undo_apply (self);
    self->in_transaction = false;
}

//  Reports rc, abandoning the open transaction.
static ld_status_t
s_abort (ld_store_t *self, int rc, const char *what, char *err, size_t err_size)
{
    ld_status_t status = s_db_fail (self, rc, what, err, err_size);
    ld_store_rollback (self);
    return status;
}

ld_status_t
ld_store_add (ld_store_t *self, ld_event_t *const *events, size_t count, int64_t stored_ms,
              ld_append_result_t *results, char *err, size_t err_size)
{
    if (!self->in_transaction)
        return ld_fail (err, err_size, LD_ERR_USAGE, "no transaction is open");
    for (size_t i = 0; i < count; i++) {
        int rc = s_append_one (self, events[i], stored_ms, &results[i]);
        if (rc != SQLITE_OK)
            return s_abort (self, rc, "appending a batch", err, err_size);
        if (results[i].status == LD_OK && !results[i].duplicate) {
            self->txn_last_seq = results[i].store_seq;
            if (!self->txn_first_new)
                self->txn_first_new = results[i].store_seq;
        }
    }
    return LD_OK;
}

ld_status_t
ld_store_mark_receipt (ld_store_t *self, uint64_t receipt_seq, char *err, size_t err_size)
{
    if (!self->in_transaction)
        return ld_fail (err, err_size, LD_ERR_USAGE, "no transaction is open");
    if (!self->txn_first_new || receipt_seq <= self->txn_first_new)
        return LD_OK; //  nothing stored before the receipt: nothing to name
    sqlite3_stmt *stmt = self->stmt[S_ADD_RECEIPT];
    sqlite3_bind_int64 (stmt, 1, (int64_t) self->txn_first_new);
    sqlite3_bind_int64 (stmt, 2, (int64_t) receipt_seq - 1);
    sqlite3_bind_int64 (stmt, 3, (int64_t) receipt_seq);
    int rc = s_step_done (stmt);
    if (rc != SQLITE_OK)
        return s_abort (self, rc, "recording a receipt", err, err_size);
    return LD_OK;
}

ld_status_t
ld_store_commit (ld_store_t *self, char *err, size_t err_size)
{
    if (!self->in_transaction)
        return ld_fail (err, err_size, LD_ERR_USAGE, "no transaction is open");
    int rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return s_abort (self, rc, "committing a batch", err, err_size);
    self->in_transaction = false;
    self->undo_count = 0;
    self->last_seq = self->txn_last_seq;
    return LD_OK;
}

ld_status_t
ld_store_append (ld_store_t *self, ld_event_t *const *events, size_t count, int64_t stored_ms,
                 ld_append_result_t *results, char *err, size_t err_size)
{
    if (count == 0)
        return LD_OK;
    ld_status_t status = ld_store_begin (self, err, err_size);
    if (status == LD_OK)
        status = ld_store_add (self, events, count, stored_ms, results, err, err_size);
    if (status == LD_OK)
        status = ld_store_commit (self, err, err_size);
    return status;
}

ld_status_t
ld_store_meta_set (ld_store_t *self, const char *name, int64_t value)
{
    sqlite3_stmt *stmt = self->stmt[S_META_SET];
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, value);
    return s_sqlite_status (s_step_done (stmt));
}

ld_status_t
ld_store_meta_set_text (ld_store_t *self, const char *name, const char *value)
{
    sqlite3_stmt *stmt = self->stmt[S_META_SET_TEXT];
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
    return s_sqlite_status (s_step_done (stmt));
}

char *
ld_store_meta_get_text (ld_store_t *self, const char *name)
{
    sqlite3_stmt *stmt = self->stmt[S_META_GET];
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    char *value = NULL;
    if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) == SQLITE_TEXT)
        value = strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_reset (stmt);
    return value;
}

ld_status_t
ld_store_meta_get (ld_store_t *self, const char *name, int64_t *value)
{
    sqlite3_stmt *stmt = self->stmt[S_META_GET];
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    if (rc == SQLITE_ROW)
        return LD_OK;
    return rc == SQLITE_DONE ? LD_ERR_NOT_FOUND : s_sqlite_status (rc);
}

//  --------------------------------------------------------------------------
//  Reading

//  Steps stmt, handing each row (store seq or seq, envelope, stored_ms,
//  receipt) to fn.
static ld_status_t
s_read_rows (sqlite3_stmt *stmt, ld_store_read_fn *fn, void *arg)
{
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        ld_stored_t stored = {
            .store_seq = (uint64_t) sqlite3_column_int64 (stmt, 0),
            .envelope = sqlite3_column_blob (stmt, 1),
            .size = (size_t) sqlite3_column_bytes (stmt, 1),
            .stored_ms = sqlite3_column_int64 (stmt, 2),
            .receipt_seq = (uint64_t) sqlite3_column_int64 (stmt, 3),
            .invalid = (const char *) sqlite3_column_text (stmt, 4),
        };
        if (fn (arg, &stored) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE ? LD_OK : s_sqlite_status (rc);
}

static int64_t
s_sql_limit (size_t limit)
{
    return limit == 0 || limit > INT64_MAX ? -1 : (int64_t) limit;
}

ld_status_t
ld_store_read_feed (ld_store_t *self, const uint8_t author_key[LD_KEY_BYTES], uint64_t from,
                    size_t limit, ld_store_read_fn *fn, void *arg)
{
    s_author_t *author = zhashx_lookup (self->authors, author_key);
    if (!author || !author->aid)
        return LD_OK;
    sqlite3_stmt *stmt = self->stmt[S_READ_FEED];
    sqlite3_bind_int64 (stmt, 1, author->aid);
    sqlite3_bind_int64 (stmt, 2, (int64_t) from);
    sqlite3_bind_int64 (stmt, 3, s_sql_limit (limit));
    return s_read_rows (stmt, fn, arg);
}

ld_status_t
ld_store_read_range (ld_store_t *self, uint64_t after, uint64_t until, const char *prefix,
                     size_t limit, ld_store_read_fn *fn, void *arg)
{
    if (!prefix)
        prefix = "";
    sqlite3_stmt *stmt = self->stmt[S_READ_AFTER];
    sqlite3_bind_int64 (stmt, 1, after > INT64_MAX ? INT64_MAX : (int64_t) after);
    sqlite3_bind_int (stmt, 2, (int) strlen (prefix));
    sqlite3_bind_text (stmt, 3, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, s_sql_limit (limit));
    sqlite3_bind_int64 (stmt, 5, until > INT64_MAX ? INT64_MAX : (int64_t) until);
    return s_read_rows (stmt, fn, arg);
}

ld_status_t
ld_store_read_after (ld_store_t *self, uint64_t after, const char *prefix, size_t limit,
                     ld_store_read_fn *fn, void *arg)
{
    return ld_store_read_range (self, after, UINT64_MAX, prefix, limit, fn, arg);
}

ld_status_t
ld_store_read_evidence (ld_store_t *self, const uint8_t author_key[LD_KEY_BYTES],
                        ld_store_read_fn *fn, void *arg)
{
    s_author_t *author = zhashx_lookup (self->authors, author_key);
    if (!author || !author->aid)
        return LD_OK;
    sqlite3_stmt *stmt = self->stmt[S_READ_EVIDENCE];
    sqlite3_bind_int64 (stmt, 1, author->aid);
    return s_read_rows (stmt, fn, arg);
}

ld_status_t
ld_store_head (ld_store_t *self, const uint8_t author_key[LD_KEY_BYTES], ld_head_t *head)
{
    s_author_t *author = zhashx_lookup (self->authors, author_key);
    if (!author || (author->head_seq == 0 && !author->frozen))
        return LD_ERR_NOT_FOUND;
    memcpy (head->author, author->key, LD_KEY_BYTES);
    head->seq = author->head_seq;
    memcpy (head->id, author->head_id, LD_ID_BYTES);
    head->frozen = author->frozen;
    return LD_OK;
}

static int
s_head_compare (const void *a, const void *b)
{
    return memcmp (((const ld_head_t *) a)->author, ((const ld_head_t *) b)->author, LD_KEY_BYTES);
}

ld_status_t
ld_store_heads (ld_store_t *self, ld_head_t **heads_p, size_t *count_p)
{
    *heads_p = NULL;
    *count_p = 0;
    size_t size = zhashx_size (self->authors);
    ld_head_t *heads = calloc (size ? size : 1, sizeof *heads);
    if (!heads)
        return LD_ERR_NOMEM;
    size_t count = 0;
    for (s_author_t *author = zhashx_first (self->authors); author;
         author = zhashx_next (self->authors)) {
        if (author->head_seq == 0 && !author->frozen)
            continue;
        ld_head_t *head = &heads[count++];
        memcpy (head->author, author->key, LD_KEY_BYTES);
        head->seq = author->head_seq;
        memcpy (head->id, author->head_id, LD_ID_BYTES);
        head->frozen = author->frozen;
    }
    qsort (heads, count, sizeof *heads, s_head_compare);
    *heads_p = heads;
    *count_p = count;
    return LD_OK;
}

//  --------------------------------------------------------------------------
//  Per-person secrets

ld_status_t
ld_store_person_put (ld_store_t *self, const uint8_t commitment[LD_COMMITMENT_BYTES],
                     const ld_person_secret_t *secret, const uint8_t *sealed, size_t sealed_size,
                     int64_t created_ms, char *err, size_t err_size)
{
    if (self->in_transaction)
        return ld_fail (err, err_size, LD_ERR_USAGE, "a person is stored outside transactions");
    if (sealed_size > LD_SEALED_PERSON_MAX)
        return ld_fail (err, err_size, LD_ERR_USAGE, "sealed person of %zu bytes", sealed_size);
    sqlite3_stmt *stmt = self->stmt[S_PERSON_PUT];
    //  SQLITE_STATIC: SQLite copies the secret into its page, not into a
    //  second heap buffer of its own.
    sqlite3_bind_blob (stmt, 1, commitment, LD_COMMITMENT_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 2, secret->key, LD_PERSON_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 3, secret->salt, LD_PERSON_SALT_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 4, sealed, (int) sealed_size, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 5, created_ms);
    int rc = s_step_done (stmt);
    sqlite3_clear_bindings (stmt);
    if ((rc & 0xFF) == SQLITE_CONSTRAINT)
        return ld_fail (err, err_size, LD_ERR_EXISTS, "the store already holds this person");
    return rc == SQLITE_OK ? LD_OK : s_db_fail (self, rc, "storing a person", err, err_size);
}

ld_status_t
ld_store_person_get (ld_store_t *self, const uint8_t commitment[LD_COMMITMENT_BYTES],
                     ld_person_secret_t *secret, uint8_t *sealed, size_t *sealed_size_p,
                     int64_t *erased_ms_p)
{
    *sealed_size_p = 0;
    *erased_ms_p = 0;
    sqlite3_stmt *stmt = self->stmt[S_PERSON_GET];
    sqlite3_bind_blob (stmt, 1, commitment, LD_COMMITMENT_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    ld_status_t status = LD_OK;
    if (rc == SQLITE_DONE)
        status = LD_ERR_NOT_FOUND;
    else if (rc != SQLITE_ROW)
        status = s_sqlite_status (rc);
    else if (sqlite3_column_type (stmt, 3) != SQLITE_NULL) {
        *erased_ms_p = sqlite3_column_int64 (stmt, 3);
        status = LD_ERR_NOT_FOUND;
    }
    else if (sqlite3_column_bytes (stmt, 0) != LD_PERSON_KEY_BYTES
             || sqlite3_column_bytes (stmt, 1) != LD_PERSON_SALT_BYTES
             || sqlite3_column_bytes (stmt, 2) > LD_SEALED_PERSON_MAX)
        status = LD_ERR_CORRUPT;
    else {
        memcpy (secret->key, sqlite3_column_blob (stmt, 0), LD_PERSON_KEY_BYTES);
        memcpy (secret->salt, sqlite3_column_blob (stmt, 1), LD_PERSON_SALT_BYTES);
        *sealed_size_p = (size_t) sqlite3_column_bytes (stmt, 2);
        if (*sealed_size_p)
            memcpy (sealed, sqlite3_column_blob (stmt, 2), *sealed_size_p);
    }
    sqlite3_reset (stmt);
    return status;
}

ld_status_t
ld_store_person_erase (ld_store_t *self, const uint8_t commitment[LD_COMMITMENT_BYTES],
                       int64_t erased_ms, bool *already_p, char *err, size_t err_size)
{
    *already_p = false;
    if (self->in_transaction)
        return ld_fail (err, err_size, LD_ERR_USAGE, "a person is erased outside transactions");
    sqlite3_stmt *stmt = self->stmt[S_PERSON_ERASE];
    sqlite3_bind_blob (stmt, 1, commitment, LD_COMMITMENT_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, erased_ms);
    int rc = s_step_done (stmt);
    if (rc != SQLITE_OK)
        return s_db_fail (self, rc, "erasing a person", err, err_size);
    if (sqlite3_changes (self->db) == 0) {
        //  Nothing updated: erased before, or never held.
        sqlite3_stmt *get = self->stmt[S_PERSON_GET];
        sqlite3_bind_blob (get, 1, commitment, LD_COMMITMENT_BYTES, SQLITE_STATIC);
        rc = sqlite3_step (get);
        sqlite3_reset (get);
        if (rc == SQLITE_DONE)
            return ld_fail (err, err_size, LD_ERR_NOT_FOUND, "the store never held this person");
        if (rc != SQLITE_ROW)
            return s_db_fail (self, rc, "erasing a person", err, err_size);
        *already_p = true;
    }
    //  The old versions of the row's page are still in the WAL (and the
    //  database file until the checkpoint copies the new one over them).
    int log_frames = 0, done_frames = 0;
    rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                    &done_frames);
    if ((rc & 0xFF) == SQLITE_BUSY)
        return ld_fail (err, err_size, LD_ERR_IO,
                        "erased, but a reader kept the WAL from being cleared; erase again");
    if (rc != SQLITE_OK)
        return s_db_fail (self, rc, "clearing the WAL after an erasure", err, err_size);
    return LD_OK;
}

uint64_t
ld_store_last_seq (ld_store_t *self)
{
    return self->last_seq;
}

ld_status_t
ld_store_mark_invalid (ld_store_t *self, const uint8_t author_key[LD_KEY_BYTES], uint64_t after_seq,
                       uint64_t until_seq, const char *why, size_t *changed_p)
{
    if (changed_p)
        *changed_p = 0;
    s_author_t *author = zhashx_lookup (self->authors, author_key);
    if (!author || !author->aid || after_seq >= until_seq)
        return LD_OK;
    sqlite3_stmt *stmt = self->stmt[why ? S_MARK_INVALID : S_CLEAR_INVALID];
    sqlite3_bind_int64 (stmt, 1, author->aid);
    sqlite3_bind_int64 (stmt, 2, after_seq > INT64_MAX ? INT64_MAX : (int64_t) after_seq);
    sqlite3_bind_int64 (stmt, 3, until_seq > INT64_MAX ? INT64_MAX : (int64_t) until_seq);
    if (why)
        sqlite3_bind_text (stmt, 4, why, -1, SQLITE_STATIC);
    int rc = s_step_done (stmt);
    if (rc == SQLITE_OK && changed_p)
        *changed_p = (size_t) sqlite3_changes (self->db);
    return s_sqlite_status (rc);
}

//  --------------------------------------------------------------------------
//  Digests

#define S_U64_BYTES 8

//  One author's head into the heads digest: author || seq (big-endian) ||
//  head id || frozen, as ld_store.h specifies.
static void
s_digest_head (crypto_generichash_state *state, const uint8_t key[LD_KEY_BYTES], uint64_t seq,
               const uint8_t id[LD_ID_BYTES], bool frozen)
{
    uint8_t seq_bytes[S_U64_BYTES];
    for (int i = 0; i < S_U64_BYTES; i++)
        seq_bytes[i] = (uint8_t) (seq >> (8 * (S_U64_BYTES - 1 - i)));
    uint8_t frozen_byte = frozen ? 1 : 0;
    crypto_generichash_update (state, key, LD_KEY_BYTES);
    crypto_generichash_update (state, seq_bytes, sizeof seq_bytes);
    crypto_generichash_update (state, id, LD_ID_BYTES);
    crypto_generichash_update (state, &frozen_byte, 1);
}

ld_status_t
ld_store_digest (ld_store_t *self, uint8_t heads_digest[LD_ID_BYTES],
                 uint8_t events_digest[LD_ID_BYTES], uint64_t *events_p, uint64_t *invalid_p)
{
    crypto_generichash_state heads, events;
    crypto_generichash_init (&heads, NULL, 0, LD_ID_BYTES);
    crypto_generichash_init (&events, NULL, 0, LD_ID_BYTES);
    //  The author whose rows are being read: its head is hashed when the
    //  next author's first row (or the end) shows its last event.
    uint8_t key[LD_KEY_BYTES], head_id[LD_ID_BYTES];
    uint64_t head_seq = 0, event_count = 0, invalid_count = 0;
    bool have_author = false, frozen = false;
    ld_status_t status = LD_OK;
    sqlite3_stmt *stmt = self->stmt[S_DIGEST];
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        if (sqlite3_column_bytes (stmt, 0) != LD_KEY_BYTES) {
            status = LD_ERR_CORRUPT;
            break;
        }
        const uint8_t *row_key = sqlite3_column_blob (stmt, 0);
        if (!have_author || memcmp (row_key, key, LD_KEY_BYTES) != 0) {
            //  an author with nothing stored and no fork has no head (as
            //  in ld_store_heads); the store never keeps such a row
            if (have_author && (head_seq > 0 || frozen))
                s_digest_head (&heads, key, head_seq, head_id, frozen);
            memcpy (key, row_key, LD_KEY_BYTES);
            frozen = sqlite3_column_int (stmt, 1) != 0;
            head_seq = 0;
            memset (head_id, 0, LD_ID_BYTES);
            have_author = true;
        }
        if (sqlite3_column_type (stmt, 2) == SQLITE_NULL)
            continue; //  a frozen author with no event left (forked at seq 1)
        if (sqlite3_column_bytes (stmt, 3) != LD_ID_BYTES) {
            status = LD_ERR_CORRUPT;
            break;
        }
        head_seq = (uint64_t) sqlite3_column_int64 (stmt, 2);
        memcpy (head_id, sqlite3_column_blob (stmt, 3), LD_ID_BYTES);
        const char *invalid = (const char *) sqlite3_column_text (stmt, 4);
        crypto_generichash_update (&events, head_id, LD_ID_BYTES);
        //  the mark and its NUL: "" for a valid event, so marks cannot run
        //  into the next id
        crypto_generichash_update (&events, (const uint8_t *) (invalid ? invalid : ""),
                                   invalid ? strlen (invalid) + 1 : 1);
        event_count++;
        if (invalid)
            invalid_count++;
    }
    if (status == LD_OK && rc != SQLITE_DONE)
        status = s_sqlite_status (rc);
    sqlite3_reset (stmt);
    if (status != LD_OK)
        return status;
    if (have_author && (head_seq > 0 || frozen))
        s_digest_head (&heads, key, head_seq, head_id, frozen);
    crypto_generichash_final (&heads, heads_digest, LD_ID_BYTES);
    crypto_generichash_final (&events, events_digest, LD_ID_BYTES);
    if (events_p)
        *events_p = event_count;
    if (invalid_p)
        *invalid_p = invalid_count;
    return LD_OK;
}
