/*  ld_guard.c -- the broker's authority. See ld_guard.h. */
#include "ld_guard.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_identity.h"
#include "ld_roots.h"
#include "ld_trust.h"

#define S_TRUST_PREFIX "trust/"
#define S_TRUST_TYPE   "trust."

struct _ld_guard_t {
    ld_store_t *store; //  borrowed
    ld_trust_t *trust;
    ld_guard_root_t *roots;
    size_t root_count;
    bool dirty;   //  something was folded since the last settle
    bool settled; //  the start-up settle is done
};

static int
s_fold_stored (void *arg, const ld_stored_t *stored)
{
    ld_guard_t *self = arg;
    ld_event_t *event = NULL;
    if (ld_event_decode (stored->envelope, stored->size, 0, &event, NULL, 0) == LD_OK) {
        ld_guard_note (self, event);
        ld_event_destroy (&event);
    }
    return 0;
}

ld_guard_t *
ld_guard_new (ld_store_t *store, const char *const *roots, size_t root_count, char *err,
              size_t err_size)
{
    ld_guard_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->trust = ld_trust_new ();
    self->roots = calloc (root_count ? root_count : 1, sizeof *self->roots);
    if (!self->trust || !self->roots) {
        snprintf (err, err_size, "out of memory");
        ld_guard_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < root_count; i++) {
        ld_guard_root_t *root = &self->roots[i];
        char why[256];
        ld_status_t rc =
            ld_root_load (roots[i], root->key, root->path, root->name, why, sizeof why);
        if (rc == LD_OK)
            rc = ld_trust_add_root (self->trust, root->key, root->path, root->name);
        if (rc != LD_OK) {
            snprintf (err, err_size, "trust root '%s': %s", roots[i],
                      rc == LD_ERR_EXISTS ? "given twice" : why);
            ld_guard_destroy (&self);
            return NULL;
        }
        self->root_count++;
    }
    //  Everything stored before: the same decisions as before the restart.
    ld_status_t rc = ld_store_read_after (store, 0, S_TRUST_PREFIX, 0, s_fold_stored, self);
    ld_head_t *heads = NULL;
    size_t count = 0;
    if (rc == LD_OK)
        rc = ld_store_heads (store, &heads, &count);
    for (size_t i = 0; rc == LD_OK && i < count; i++)
        if (heads[i].frozen)
            ld_guard_fork (self, heads[i].author, heads[i].seq);
    free (heads);
    if (rc == LD_OK) {
        bool changed;
        rc = ld_guard_settle (self, NULL, NULL, &changed, err, err_size);
    }
    else
        snprintf (err, err_size, "cannot read the trust feeds: %s", ld_status_text (rc));
    if (rc != LD_OK) {
        ld_guard_destroy (&self);
        return NULL;
    }
    return self;
}

void
ld_guard_destroy (ld_guard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_guard_t *self = *self_p;
    ld_trust_destroy (&self->trust);
    free (self->roots);
    free (self);
    *self_p = NULL;
}

const ld_guard_root_t *
ld_guard_roots (ld_guard_t *self, size_t *count_p)
{
    *count_p = self->root_count;
    return self->roots;
}

ld_status_t
ld_guard_check (ld_guard_t *self, const ld_event_t *event, char *reason, size_t reason_size)
{
    return ld_trust_check (self->trust, event, NULL, reason, reason_size);
}

void
ld_guard_note (ld_guard_t *self, const ld_event_t *event)
{
    if (strncmp (ld_event_type (event), S_TRUST_TYPE, strlen (S_TRUST_TYPE)) != 0)
        return;
    char err[256];
    ld_status_t rc = ld_trust_fold (self->trust, event, err, sizeof err);
    if (rc == LD_ERR_NOMEM)
        zsys_error ("broker: cannot fold a trust event: out of memory");
    self->dirty = true;
}

void
ld_guard_fork (ld_guard_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t last_seq)
{
    if (ld_trust_freeze (self->trust, author, last_seq) == LD_OK)
        self->dirty = true;
}

//  The next seq the key would publish: one past its stored head.
static uint64_t
s_next_seq (ld_guard_t *self, const uint8_t key[LD_KEY_BYTES])
{
    ld_head_t head;
    return ld_store_head (self->store, key, &head) == LD_OK ? head.seq + 1 : 1;
}

bool
ld_guard_admits (ld_guard_t *self, const uint8_t key[LD_KEY_BYTES])
{
    if (ld_trust_level (self->trust, key) == LD_LEVEL_COUNT)
        return false;
    char err[256];
    return ld_trust_valid (self->trust, key, s_next_seq (self, key), err, sizeof err) == LD_OK;
}

typedef struct {
    ld_guard_t *self;
    uint64_t until;
    ld_status_t status;
} s_recheck_t;

//  Judges one stored event of a key whose grants changed, and marks or
//  clears it.
static int
s_recheck_one (void *arg, const ld_stored_t *stored)
{
    s_recheck_t *recheck = arg;
    ld_event_t *event = NULL;
    if (ld_event_decode (stored->envelope, stored->size, 0, &event, NULL, 0) != LD_OK)
        return 0;
    uint64_t seq = ld_event_seq (event);
    if (seq > recheck->until) {
        ld_event_destroy (&event);
        return 1;
    }
    char err[256];
    ld_status_t verdict = ld_trust_check (recheck->self->trust, event, NULL, err, sizeof err);
    const char *why = verdict == LD_OK ? NULL : ld_status_name (verdict);
    bool same = why ? stored->invalid && strcmp (stored->invalid, why) == 0 : !stored->invalid;
    ld_status_t rc = LD_OK;
    //  The statement binds `why` statically: a status name, never freed.
    if (!same)
        rc = ld_store_mark_invalid (recheck->self->store, ld_event_author (event), seq - 1, seq,
                                    why, NULL);
    ld_event_destroy (&event);
    if (rc != LD_OK) {
        recheck->status = rc;
        return 1;
    }
    return 0;
}

ld_status_t
ld_guard_settle (ld_guard_t *self, ld_guard_cut_fn *cut_fn, void *arg, bool *changed_p, char *err,
                 size_t err_size)
{
    *changed_p = false;
    if (!self->dirty && self->settled)
        return LD_OK;
    bool first = !self->settled; //  at start-up every key comes back once
    self->settled = true;
    self->dirty = false;
    ld_trust_mark_t *marks = NULL;
    size_t count = 0;
    ld_status_t rc = ld_trust_marks (self->trust, &marks, &count);
    for (size_t i = 0; rc == LD_OK && i < count; i++) {
        ld_trust_mark_t *mark = &marks[i];
        uint64_t through = mark->valid_through;
        if (through != LD_TRUST_NO_CUT) {
            char why[256];
            ld_status_t cut =
                ld_trust_valid (self->trust, mark->author, through + 1, why, sizeof why);
            size_t marked = 0;
            rc = ld_store_mark_invalid (self->store, mark->author, through, UINT64_MAX,
                                        ld_status_name (cut == LD_OK ? LD_ERR_REVOKED : cut),
                                        &marked);
            if (marked)
                zsys_info ("broker: %zu stored events marked invalid after seq %" PRIu64
                           " of a key: %s",
                           marked, through, why);
        }
        if (rc != LD_OK)
            break;
        if (mark->recheck && !first) {
            //  Grants changed: judge again what this key stored up to its
            //  cut (a narrower path, a certificate that became valid).
            s_recheck_t recheck = {self, through, LD_OK};
            rc = ld_store_read_feed (self->store, mark->author, 1, 0, s_recheck_one, &recheck);
            if (rc == LD_OK)
                rc = recheck.status;
        }
        else if (first && through > 0)
            //  At start-up, marks left by a cut that no longer holds.
            rc = ld_store_mark_invalid (self->store, mark->author, 0,
                                        through == LD_TRUST_NO_CUT ? UINT64_MAX : through, NULL,
                                        NULL);
        if (rc == LD_OK && cut_fn && !ld_guard_admits (self, mark->author))
            cut_fn (arg, mark->author);
    }
    free (marks);
    if (rc != LD_OK) {
        snprintf (err, err_size, "cannot mark invalid events: %s", ld_status_text (rc));
        return rc;
    }
    *changed_p = count > 0;
    return LD_OK;
}

ld_status_t
ld_guard_keys (ld_guard_t *self, uint8_t (**keys_p)[LD_KEY_BYTES], size_t *count_p)
{
    *keys_p = NULL;
    *count_p = 0;
    ld_trust_node_t *nodes = NULL;
    size_t count = 0;
    ld_status_t rc = ld_trust_tree (self->trust, &nodes, &count);
    if (rc != LD_OK)
        return rc;
    uint8_t (*keys)[LD_KEY_BYTES] = calloc (count ? count : 1, sizeof *keys);
    if (!keys) {
        free (nodes);
        return LD_ERR_NOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (nodes[i].cut != LD_CUT_NONE || !ld_guard_admits (self, nodes[i].key))
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = memcmp (keys[k], nodes[i].key, LD_KEY_BYTES) == 0;
        if (!seen)
            memcpy (keys[n++], nodes[i].key, LD_KEY_BYTES);
    }
    free (nodes);
    *keys_p = keys;
    *count_p = n;
    return LD_OK;
}

//  ---- replication: which feeds a broker holds ----

#define S_GRANTS_MAX 16

static bool
s_certifies (ld_level_t level)
{
    const ld_authority_t *row = ld_authority_find ("trust.certify", level);
    return ld_authority_allows (row, level) && row->certifies != 0;
}

static bool
s_prefix (const char *prefix, const char *text)
{
    return strncmp (prefix, text, strlen (prefix)) == 0;
}

ld_select_t
ld_guard_selects (ld_guard_t *self, const uint8_t author[LD_KEY_BYTES], const char *const *paths,
                  size_t count)
{
    const char *held[S_GRANTS_MAX];
    size_t held_count = 0;
    ld_level_t level = ld_trust_grants (self->trust, author, held, S_GRANTS_MAX, &held_count);
    if (level == LD_LEVEL_COUNT)
        return LD_SELECT_UNKNOWN;
    if (s_certifies (level))
        return LD_SELECT_YES;
    for (size_t i = 0; i < held_count; i++)
        for (size_t j = 0; j < count; j++)
            if (s_prefix (paths[j], held[i]) || s_prefix (held[i], paths[j]))
                return LD_SELECT_YES;
    return LD_SELECT_NO;
}

size_t
ld_guard_paths (ld_guard_t *self, const uint8_t key[LD_KEY_BYTES], const char **paths, size_t max)
{
    size_t count = 0;
    ld_trust_grants (self->trust, key, paths, max, &count);
    return count;
}

unsigned
ld_guard_rank (ld_guard_t *self, const uint8_t author[LD_KEY_BYTES])
{
    for (size_t i = 0; i < self->root_count; i++)
        if (memcmp (self->roots[i].key, author, LD_KEY_BYTES) == 0)
            return 0;
    ld_level_t level = ld_trust_level (self->trust, author);
    if (level == LD_LEVEL_COUNT)
        return 3;
    return s_certifies (level) ? 1 : 2;
}

ld_level_t
ld_guard_level (ld_guard_t *self, const uint8_t key[LD_KEY_BYTES])
{
    return ld_trust_level (self->trust, key);
}
