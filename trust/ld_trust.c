/*  ld_trust.c -- the trust fold. See ld_trust.h for the rules.

    Design. The object keeps *facts* (every trust event folded, whatever
    its validity) and *derives* each key's standing from them, from
    scratch, whenever a query follows a change (s_settle). Deriving from the
    set, never updating in arrival order, is what makes the answers
    independent of the order feeds arrive in.

    The derivation is stratified by level rank (ld_authority.h): a level
    only certifies levels of a higher rank, and only keys above a subject
    may cut it, so everything a key of rank r depends on -- its certifiers'
    levels and cuts, its revokers' levels and cuts -- is settled before
    rank r is. Per rank:
      1. the certificates of that rank whose certifier (settled) stands:
         the subject takes the most senior level they give, unless it
         already holds one from a lower rank;
      2. for each key that got a level: its ancestors (the lineages of its
         certifiers and theirs), its cut (the lowest valid revocation by an
         ancestor, a fork freeze), then its first valid rotation, which ends
         its feed and hands its grants to the successor (settled at once,
         same rank, and so on down the chain).
    A key that rotates is the head of a lineage: its successors carry its
    lineage, so they may revoke what it certified.

    Nothing here can loop: ranks are finite, a key gets a level once, and a
    successor inherits only when it had none. Cycles of certificates that
    never reach a root just leave their keys without a level.

    Keys are interned into an array (indices are stable; pointers are not
    kept across an intern) with an open-addressing index hashed by
    SipHash (crypto_shorthash) under a random key, so that chosen keys
    cannot collide on purpose.
*/
#include "ld_trust.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_payload.h"
#include "ld_utf8.h"

#define S_NONE      UINT32_MAX
#define S_SLOTS_MIN 64
//  Explaining why a key stands nowhere follows certificates upwards; a
//  chain that could become valid is at most LD_LEVEL_RANK_MAX certificates
//  long plus rotations. Beyond this depth the answer is "awaiting".
#define S_REASON_DEPTH_MAX 12
//  Certificate chains strictly descend in rank; the tree is never deeper.
#define S_TREE_DEPTH_MAX (LD_LEVEL_RANK_MAX + 1)
#define S_DETAIL_MAX     512

typedef enum { S_CERTIFY, S_REVOKE, S_ROTATE } s_kind_t;

//  One folded trust event.
typedef struct {
    s_kind_t kind;
    uint32_t author;
    uint64_t seq;
    uint8_t id[LD_ID_BYTES];
    char *topic;
    uint32_t subject;                       //  certify, revoke: the subject; rotate: the successor
    ld_level_t level;                       //  certify: LD_LEVEL_COUNT if unknown
    char level_name[LD_LEVEL_NAME_MAX + 1]; //  certify: as written
    char *path;                             //  certify
    char *name;                             //  certify
    uint64_t after_seq;                     //  revoke
} s_fact_t;

//  One valid certificate a key holds (or a root's configuration).
typedef struct {
    uint32_t certifier;                  //  S_NONE for a root's own
    uint8_t certifier_key[LD_KEY_BYTES]; //  zeros for a root: sorts first
    uint64_t cert_seq;                   //  0 for a root
    uint32_t via;                        //  the predecessor it came from, or S_NONE
    ld_level_t level;
    const char *path; //  borrowed from the fact or the root's configuration
    const char *name;
} s_grant_t;

typedef struct {
    uint32_t *items;
    size_t count;
    size_t cap;
} s_ids_t;

typedef struct {
    uint8_t key[LD_KEY_BYTES];
    bool root;
    char *root_path;
    char *root_name;
    uint64_t frozen;  //  LD_TRUST_NO_CUT unless a fork was proven
    s_ids_t authored; //  facts this key wrote
    s_ids_t named;    //  facts naming this key
    //  derived by s_settle
    ld_level_t level;
    s_grant_t *grants;
    size_t grant_count;
    size_t grant_cap;
    uint32_t lineage;  //  the head of its rotation chain
    s_ids_t ancestors; //  lineages above it
    uint64_t cut;
    ld_cut_t cut_kind;
    uint32_t cut_by; //  the revoker or the successor
    uint32_t successor;
    //  as last reported by ld_trust_marks
    bool reported;
    uint64_t reported_through;
    uint8_t reported_grants[crypto_generichash_BYTES];
} s_key_t;

struct _ld_trust_t {
    s_key_t *keys;
    size_t key_count;
    size_t key_cap;
    uint32_t *slots; //  key index or S_NONE; size is a power of two
    size_t slot_count;
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
    s_fact_t *facts;
    size_t fact_count;
    size_t fact_cap;
    bool dirty; //  facts or roots changed since the last s_settle
};

//  The subject of a certificate under judgement.
typedef struct {
    ld_level_t level;
    const char *level_name;
    const char *path;
} s_subject_t;

//  ---- small containers ----

//  Returns items grown to hold at least need, or NULL (items untouched).
static void *
s_grow (void *items, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return items;
    size_t cap_new = *cap ? *cap : 8;
    while (cap_new < need)
        cap_new *= 2;
    void *grown = realloc (items, cap_new * item_size);
    if (grown)
        *cap = cap_new;
    return grown;
}

static ld_status_t
s_ids_push (s_ids_t *ids, uint32_t id)
{
    uint32_t *items = s_grow (ids->items, &ids->cap, ids->count + 1, sizeof *items);
    if (!items)
        return LD_ERR_NOMEM;
    ids->items = items;
    ids->items[ids->count++] = id;
    return LD_OK;
}

static bool
s_ids_has (const s_ids_t *ids, uint32_t id)
{
    for (size_t i = 0; i < ids->count; i++)
        if (ids->items[i] == id)
            return true;
    return false;
}

static ld_status_t
s_ids_add (s_ids_t *ids, uint32_t id)
{
    return s_ids_has (ids, id) ? LD_OK : s_ids_push (ids, id);
}

//  ---- keys ----

static size_t
s_slot_of (const ld_trust_t *self, const uint8_t key[LD_KEY_BYTES])
{
    uint8_t hash[crypto_shorthash_BYTES];
    crypto_shorthash (hash, key, LD_KEY_BYTES, self->hash_key);
    uint64_t value;
    memcpy (&value, hash, sizeof value);
    return (size_t) (value & (self->slot_count - 1));
}

static uint32_t
s_find (const ld_trust_t *self, const uint8_t key[LD_KEY_BYTES])
{
    if (self->slot_count == 0)
        return S_NONE;
    for (size_t i = s_slot_of (self, key);; i = (i + 1) & (self->slot_count - 1)) {
        uint32_t index = self->slots[i];
        if (index == S_NONE || memcmp (self->keys[index].key, key, LD_KEY_BYTES) == 0)
            return index;
    }
}

static ld_status_t
s_rehash (ld_trust_t *self, size_t slot_count)
{
    uint32_t *slots = malloc (slot_count * sizeof *slots);
    if (!slots)
        return LD_ERR_NOMEM;
    free (self->slots);
    self->slots = slots;
    self->slot_count = slot_count;
    for (size_t i = 0; i < slot_count; i++)
        slots[i] = S_NONE;
    for (size_t k = 0; k < self->key_count; k++) {
        size_t i = s_slot_of (self, self->keys[k].key);
        while (slots[i] != S_NONE)
            i = (i + 1) & (slot_count - 1);
        slots[i] = (uint32_t) k;
    }
    return LD_OK;
}

//  Derived state back to "no level".
static void
s_key_reset (s_key_t *key, uint32_t index)
{
    key->level = LD_LEVEL_COUNT;
    key->grant_count = 0;
    key->lineage = index;
    key->ancestors.count = 0;
    key->cut = key->frozen;
    key->cut_kind = key->frozen == LD_TRUST_NO_CUT ? LD_CUT_NONE : LD_CUT_FROZEN;
    key->cut_by = S_NONE;
    key->successor = S_NONE;
}

//  The index of key, added if new.
static ld_status_t
s_intern (ld_trust_t *self, const uint8_t key[LD_KEY_BYTES], uint32_t *index_p)
{
    uint32_t index = s_find (self, key);
    if (index != S_NONE) {
        *index_p = index;
        return LD_OK;
    }
    if (self->key_count >= S_NONE - 1)
        return LD_ERR_NOMEM;
    //  Keep the index at most half full.
    if ((self->key_count + 1) * 2 > self->slot_count) {
        size_t count = self->slot_count ? self->slot_count * 2 : S_SLOTS_MIN;
        if (s_rehash (self, count) != LD_OK)
            return LD_ERR_NOMEM;
    }
    s_key_t *keys = s_grow (self->keys, &self->key_cap, self->key_count + 1, sizeof *keys);
    if (!keys)
        return LD_ERR_NOMEM;
    self->keys = keys;
    index = (uint32_t) self->key_count++;
    s_key_t *entry = &self->keys[index];
    memset (entry, 0, sizeof *entry);
    memcpy (entry->key, key, LD_KEY_BYTES);
    entry->frozen = LD_TRUST_NO_CUT;
    s_key_reset (entry, index);
    size_t i = s_slot_of (self, key);
    while (self->slots[i] != S_NONE)
        i = (i + 1) & (self->slot_count - 1);
    self->slots[i] = index;
    *index_p = index;
    return LD_OK;
}

//  ---- lifecycle ----

ld_trust_t *
ld_trust_new (void)
{
    if (ld_crypto_init () != 0)
        return NULL;
    ld_trust_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    crypto_shorthash_keygen (self->hash_key);
    return self;
}

void
ld_trust_destroy (ld_trust_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_trust_t *self = *self_p;
    for (size_t i = 0; i < self->fact_count; i++) {
        free (self->facts[i].topic);
        free (self->facts[i].path);
        free (self->facts[i].name);
    }
    free (self->facts);
    for (size_t i = 0; i < self->key_count; i++) {
        s_key_t *key = &self->keys[i];
        free (key->root_path);
        free (key->root_name);
        free (key->authored.items);
        free (key->named.items);
        free (key->grants);
        free (key->ancestors.items);
    }
    free (self->keys);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

ld_status_t
ld_trust_add_root (ld_trust_t *self, const uint8_t key[LD_KEY_BYTES], const char *path,
                   const char *name)
{
    if (!path)
        path = "";
    if (!name)
        name = ld_level_name (LD_LEVEL_DISTRICT);
    size_t path_len = strlen (path);
    if (path_len) {
        ld_status_t rc = ld_topic_check (path, path_len);
        if (rc != LD_OK)
            return rc;
    }
    size_t name_len = strlen (name);
    if (name_len > LD_NAME_MAX)
        return LD_ERR_STRING_TOO_LONG;
    if (!ld_utf8_valid ((const uint8_t *) name, name_len))
        return LD_ERR_BAD_UTF8;
    uint32_t index;
    if (s_intern (self, key, &index) != LD_OK)
        return LD_ERR_NOMEM;
    s_key_t *root = &self->keys[index];
    if (root->root)
        return LD_ERR_EXISTS;
    root->root_path = strdup (path);
    root->root_name = strdup (name);
    if (!root->root_path || !root->root_name) {
        free (root->root_path);
        free (root->root_name);
        root->root_path = root->root_name = NULL;
        return LD_ERR_NOMEM;
    }
    root->root = true;
    self->dirty = true;
    return LD_OK;
}

//  ---- folding ----

//  Decodes a trust event into a fact (strings not yet copied). LD_OK, a
//  decode status, or LD_STATUS_COUNT if the type is not a trust type.
static ld_status_t
s_decode (const ld_event_t *event, s_fact_t *fact, ld_certify_t *certify,
          uint8_t subject[LD_KEY_BYTES], char *err, size_t err_size)
{
    const char *type = ld_event_type (event);
    size_t size;
    const uint8_t *payload = ld_event_payload (event, &size);
    memset (fact, 0, sizeof *fact);
    ld_status_t rc;
    if (strcmp (type, LD_TYPE_CERTIFY) == 0) {
        fact->kind = S_CERTIFY;
        rc = ld_payload_certify_decode (payload, size, certify, err, err_size);
        if (rc == LD_OK) {
            memcpy (subject, certify->subject, LD_KEY_BYTES);
            fact->level = ld_level_from_name (certify->level);
            snprintf (fact->level_name, sizeof fact->level_name, "%s", certify->level);
        }
        return rc;
    }
    if (strcmp (type, LD_TYPE_REVOKE) == 0) {
        ld_revoke_t revoke;
        fact->kind = S_REVOKE;
        rc = ld_payload_revoke_decode (payload, size, &revoke, err, err_size);
        if (rc == LD_OK) {
            memcpy (subject, revoke.subject, LD_KEY_BYTES);
            fact->after_seq = revoke.after_seq;
        }
        return rc;
    }
    if (strcmp (type, LD_TYPE_ROTATE) == 0) {
        ld_rotate_t rotate;
        fact->kind = S_ROTATE;
        rc = ld_payload_rotate_decode (payload, size, &rotate, err, err_size);
        if (rc == LD_OK)
            memcpy (subject, rotate.successor, LD_KEY_BYTES);
        return rc;
    }
    return LD_STATUS_COUNT;
}

ld_status_t
ld_trust_fold (ld_trust_t *self, const ld_event_t *event, char *err, size_t err_size)
{
    s_fact_t fact;
    ld_certify_t certify;
    uint8_t subject[LD_KEY_BYTES];
    ld_status_t rc = s_decode (event, &fact, &certify, subject, err, err_size);
    if (rc == LD_STATUS_COUNT)
        return LD_OK; //  not a trust event
    if (rc != LD_OK)
        return rc;
    uint32_t author, subject_index;
    if (s_intern (self, ld_event_author (event), &author) != LD_OK
        || s_intern (self, subject, &subject_index) != LD_OK)
        return LD_ERR_NOMEM;
    fact.author = author;
    fact.subject = subject_index;
    fact.seq = ld_event_seq (event);
    memcpy (fact.id, ld_event_id (event), LD_ID_BYTES);

    bool fork = false;
    const s_key_t *key = &self->keys[author];
    for (size_t i = 0; i < key->authored.count; i++) {
        const s_fact_t *other = &self->facts[key->authored.items[i]];
        if (other->seq != fact.seq)
            continue;
        if (memcmp (other->id, fact.id, LD_ID_BYTES) == 0)
            return LD_OK; //  folded before
        fork = true;
    }
    s_fact_t *facts = s_grow (self->facts, &self->fact_cap, self->fact_count + 1, sizeof *facts);
    if (!facts)
        return LD_ERR_NOMEM;
    self->facts = facts;
    fact.topic = strdup (ld_event_topic (event));
    if (fact.kind == S_CERTIFY) {
        fact.path = strdup (certify.path);
        fact.name = strdup (certify.name);
    }
    uint32_t index = (uint32_t) self->fact_count;
    if (!fact.topic || (fact.kind == S_CERTIFY && (!fact.path || !fact.name))
        || s_ids_push (&self->keys[author].authored, index) != LD_OK)
        goto no_memory;
    if (s_ids_push (&self->keys[subject_index].named, index) != LD_OK) {
        self->keys[author].authored.count--;
        goto no_memory;
    }
    self->facts[self->fact_count++] = fact;
    self->dirty = true;
    if (fork) {
        //  Both versions stay as facts (evidence); neither is valid, since
        //  the author's feed now ends before them.
        s_key_t *forked = &self->keys[author];
        if (fact.seq - 1 < forked->frozen)
            forked->frozen = fact.seq - 1;
        char text[LD_KEY_TEXT_BYTES];
        ld_key_to_text (forked->key, text);
        return ld_fail (err, err_size, LD_ERR_FORK, "two trust events of %s at seq %llu", text,
                        (unsigned long long) fact.seq);
    }
    return LD_OK;

no_memory:
    free (fact.topic);
    free (fact.path);
    free (fact.name);
    return LD_ERR_NOMEM;
}

ld_status_t
ld_trust_freeze (ld_trust_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t last_seq)
{
    uint32_t index;
    if (s_intern (self, author, &index) != LD_OK)
        return LD_ERR_NOMEM;
    if (last_seq < self->keys[index].frozen) {
        self->keys[index].frozen = last_seq;
        self->dirty = true;
    }
    return LD_OK;
}

//  ---- judging one event of a key that holds a level ----

//  The feed-level check of one event against one grant.
static ld_status_t
s_check_grant (ld_level_t level, const s_grant_t *grant, const char *type, const char *topic,
               const s_subject_t *subject, const ld_authority_t **row_p, char *err, size_t err_size)
{
    const ld_authority_t *row = NULL;
    ld_status_t rc = ld_authority_check (level, grant->path, type, topic, &row, err, err_size);
    if (row_p)
        *row_p = row;
    if (rc != LD_OK || !subject)
        return rc;
    if (subject->level == LD_LEVEL_COUNT || !(row->certifies & LD_LEVEL_BIT (subject->level))) {
        char allowed[128];
        ld_levels_text (row->certifies, allowed, sizeof allowed);
        return ld_fail (err, err_size, LD_ERR_FORBIDDEN_LEVEL,
                        "a %s may not certify a %s (rule %s by %s: certifies %s only)",
                        ld_level_name (level), subject->level_name, row->type,
                        ld_level_name (level), allowed);
    }
    if (!ld_path_within (subject->path, grant->path))
        return ld_fail (err, err_size, LD_ERR_OUTSIDE_PATH,
                        "certificate path '%s' lies outside the %s's path '%s' (rule %s: %s)",
                        subject->path, ld_level_name (level), grant->path, row->type, row->text);
    return LD_OK;
}

//  Whether key (which holds a level) could emit an event of type on topic
//  at seq: within its cut, and allowed by one of its grants. The first
//  grant's refusal is the one reported.
static ld_status_t
s_judge (const s_key_t *key, uint64_t seq, const char *type, const char *topic,
         const s_subject_t *subject, const ld_authority_t **row_p, char *err, size_t err_size)
{
    if (seq > key->cut) {
        char text[LD_KEY_TEXT_BYTES];
        ld_key_to_text (key->key, text);
        return ld_fail (err, err_size, LD_ERR_REVOKED, "%s at seq %llu lies after its cut at %llu",
                        text, (unsigned long long) seq, (unsigned long long) key->cut);
    }
    ld_status_t first = LD_OK;
    const ld_authority_t *first_row = NULL;
    for (size_t i = 0; i < key->grant_count; i++) {
        const ld_authority_t *row = NULL;
        ld_status_t rc = s_check_grant (key->level, &key->grants[i], type, topic, subject, &row,
                                        i == 0 ? err : NULL, i == 0 ? err_size : 0);
        if (rc == LD_OK) {
            if (row_p)
                *row_p = row;
            return LD_OK;
        }
        if (i == 0) {
            first = rc;
            first_row = row;
        }
    }
    if (row_p)
        *row_p = first_row;
    return first;
}

static const char *
s_type_of (s_kind_t kind)
{
    return kind == S_CERTIFY ? LD_TYPE_CERTIFY : kind == S_REVOKE ? LD_TYPE_REVOKE : LD_TYPE_ROTATE;
}

//  Whether a certificate is valid by its certifier's standing alone (not
//  looking at newer certificates from the same certifier).
static ld_status_t
s_certify_judge (const ld_trust_t *self, const s_fact_t *fact, char *err, size_t err_size)
{
    const s_key_t *certifier = &self->keys[fact->author];
    if (certifier->level == LD_LEVEL_COUNT)
        return LD_ERR_AWAITING_CERT; //  the caller asks why
    if (fact->subject == fact->author)
        return ld_fail (err, err_size, LD_ERR_FORBIDDEN_LEVEL, "a key may not certify itself");
    s_subject_t subject = {fact->level, fact->level_name, fact->path};
    return s_judge (certifier, fact->seq, LD_TYPE_CERTIFY, fact->topic, &subject, NULL, err,
                    err_size);
}

//  The newer certificate from the same certifier for the same subject
//  that replaces fact, or NULL.
static const s_fact_t *
s_certify_replaced_by (const ld_trust_t *self, const s_fact_t *fact)
{
    const s_ids_t *named = &self->keys[fact->subject].named;
    for (size_t i = 0; i < named->count; i++) {
        const s_fact_t *other = &self->facts[named->items[i]];
        if (other->kind == S_CERTIFY && other->author == fact->author && other->seq > fact->seq
            && s_certify_judge (self, other, NULL, 0) == LD_OK)
            return other;
    }
    return NULL;
}

//  True if some other key also names fact's successor.
static bool
s_rotation_contested (const ld_trust_t *self, const s_fact_t *fact)
{
    const s_ids_t *named = &self->keys[fact->subject].named;
    for (size_t i = 0; i < named->count; i++) {
        const s_fact_t *other = &self->facts[named->items[i]];
        if (other->kind == S_ROTATE && other->author != fact->author)
            return true;
    }
    return false;
}

//  ---- settling ----

static int
s_grant_compare (const void *a, const void *b)
{
    const s_grant_t *x = a, *y = b;
    int order = memcmp (x->certifier_key, y->certifier_key, LD_KEY_BYTES);
    if (order)
        return order;
    return x->cert_seq < y->cert_seq ? -1 : x->cert_seq > y->cert_seq;
}

static ld_status_t
s_grant_push (s_key_t *key, const s_grant_t *grant)
{
    s_grant_t *grants = s_grow (key->grants, &key->grant_cap, key->grant_count + 1, sizeof *grants);
    if (!grants)
        return LD_ERR_NOMEM;
    key->grants = grants;
    key->grants[key->grant_count++] = *grant;
    return LD_OK;
}

//  True if a cut at seq (of kind, by) is lower than key's, ties broken so
//  that the result does not depend on the order facts are visited.
static bool
s_cut_lower (const ld_trust_t *self, const s_key_t *key, uint64_t seq, ld_cut_t kind, uint32_t by)
{
    if (seq != key->cut)
        return seq < key->cut;
    if (kind != key->cut_kind)
        return kind < key->cut_kind;
    return by != S_NONE && key->cut_by != S_NONE
           && memcmp (self->keys[by].key, self->keys[key->cut_by].key, LD_KEY_BYTES) < 0;
}

//  A key has just got its level and grants: its ancestors, its cut, its
//  rotation. Returns the successor that inherits from it (to settle next),
//  or S_NONE, through *next_p.
static ld_status_t
s_settle_key (ld_trust_t *self, uint32_t index, uint32_t *next_p)
{
    *next_p = S_NONE;
    s_key_t *key = &self->keys[index];
    qsort (key->grants, key->grant_count, sizeof *key->grants, s_grant_compare);
    for (size_t i = 0; i < key->grant_count; i++) {
        uint32_t certifier = key->grants[i].certifier;
        if (certifier == S_NONE)
            continue;
        const s_key_t *above = &self->keys[certifier];
        if (s_ids_add (&key->ancestors, above->lineage) != LD_OK)
            return LD_ERR_NOMEM;
        for (size_t j = 0; j < above->ancestors.count; j++)
            if (s_ids_add (&key->ancestors, above->ancestors.items[j]) != LD_OK)
                return LD_ERR_NOMEM;
    }
    //  Revocations by keys above it; those are settled (lower rank).
    for (size_t i = 0; i < key->named.count; i++) {
        const s_fact_t *fact = &self->facts[key->named.items[i]];
        if (fact->kind != S_REVOKE)
            continue;
        const s_key_t *revoker = &self->keys[fact->author];
        if (revoker->level == LD_LEVEL_COUNT || !s_ids_has (&key->ancestors, revoker->lineage))
            continue;
        if (s_judge (revoker, fact->seq, LD_TYPE_REVOKE, fact->topic, NULL, NULL, NULL, 0) != LD_OK)
            continue;
        if (s_cut_lower (self, key, fact->after_seq, LD_CUT_REVOKED, fact->author)) {
            key->cut = fact->after_seq;
            key->cut_kind = LD_CUT_REVOKED;
            key->cut_by = fact->author;
        }
    }
    //  The first valid rotation within the cut.
    const s_fact_t *rotation = NULL;
    for (size_t i = 0; i < key->authored.count; i++) {
        const s_fact_t *fact = &self->facts[key->authored.items[i]];
        if (fact->kind != S_ROTATE || fact->subject == index
            || (rotation && rotation->seq < fact->seq))
            continue;
        if (s_judge (key, fact->seq, LD_TYPE_ROTATE, fact->topic, NULL, NULL, NULL, 0) != LD_OK
            || s_rotation_contested (self, fact))
            continue;
        rotation = fact;
    }
    if (!rotation)
        return LD_OK;
    if (s_cut_lower (self, key, rotation->seq, LD_CUT_ROTATED, rotation->subject)) {
        key->cut = rotation->seq;
        key->cut_kind = LD_CUT_ROTATED;
        key->cut_by = rotation->subject;
    }
    key->successor = rotation->subject;
    s_key_t *successor = &self->keys[rotation->subject];
    if (successor->level != LD_LEVEL_COUNT)
        return LD_OK; //  it stands on its own
    successor->level = key->level;
    successor->lineage = key->lineage;
    for (size_t i = 0; i < key->grant_count; i++) {
        s_grant_t grant = key->grants[i];
        grant.via = index;
        if (s_grant_push (successor, &grant) != LD_OK)
            return LD_ERR_NOMEM;
    }
    *next_p = rotation->subject;
    return LD_OK;
}

//  Settles a key and the successors that inherit from it, in chain order.
static ld_status_t
s_settle_chain (ld_trust_t *self, uint32_t index)
{
    while (index != S_NONE) {
        ld_status_t rc = s_settle_key (self, index, &index);
        if (rc != LD_OK)
            return rc;
    }
    return LD_OK;
}

//  Rank r: the certificates of that rank, then the keys that got a level.
static ld_status_t
s_settle_rank (ld_trust_t *self, unsigned rank, s_ids_t *fresh)
{
    fresh->count = 0;
    for (size_t i = 0; i < self->fact_count; i++) {
        const s_fact_t *fact = &self->facts[i];
        if (fact->kind != S_CERTIFY || ld_level_rank (fact->level) != rank)
            continue;
        s_key_t *subject = &self->keys[fact->subject];
        if (subject->level != LD_LEVEL_COUNT && ld_level_rank (subject->level) < rank)
            continue; //  holds a more senior level
        if (s_certify_judge (self, fact, NULL, 0) != LD_OK || s_certify_replaced_by (self, fact))
            continue;
        if (subject->level == LD_LEVEL_COUNT || fact->level < subject->level) {
            if (subject->level == LD_LEVEL_COUNT && s_ids_push (fresh, fact->subject) != LD_OK)
                return LD_ERR_NOMEM;
            subject->level = fact->level;
            subject->grant_count = 0;
        }
        if (fact->level != subject->level)
            continue;
        s_grant_t grant = {fact->author, {0},        fact->seq, S_NONE,
                           fact->level,  fact->path, fact->name};
        memcpy (grant.certifier_key, self->keys[fact->author].key, LD_KEY_BYTES);
        if (s_grant_push (subject, &grant) != LD_OK)
            return LD_ERR_NOMEM;
    }
    for (size_t i = 0; i < fresh->count; i++) {
        ld_status_t rc = s_settle_chain (self, fresh->items[i]);
        if (rc != LD_OK)
            return rc;
    }
    return LD_OK;
}

//  Derives every key's standing from the facts (see the design comment).
static ld_status_t
s_settle (ld_trust_t *self)
{
    if (!self->dirty)
        return LD_OK;
    for (size_t i = 0; i < self->key_count; i++)
        s_key_reset (&self->keys[i], (uint32_t) i);
    s_ids_t fresh = {NULL, 0, 0};
    ld_status_t rc = LD_OK;
    for (size_t i = 0; i < self->key_count && rc == LD_OK; i++) {
        s_key_t *key = &self->keys[i];
        if (!key->root)
            continue;
        key->level = LD_LEVEL_DISTRICT;
        s_grant_t grant = {S_NONE,         {0},           0, S_NONE, LD_LEVEL_DISTRICT,
                           key->root_path, key->root_name};
        rc = s_grant_push (key, &grant);
        if (rc == LD_OK)
            rc = s_ids_push (&fresh, (uint32_t) i);
    }
    for (size_t i = 0; i < fresh.count && rc == LD_OK; i++)
        rc = s_settle_chain (self, fresh.items[i]);
    for (unsigned rank = 1; rank <= LD_LEVEL_RANK_MAX && rc == LD_OK; rank++)
        rc = s_settle_rank (self, rank, &fresh);
    free (fresh.items);
    if (rc == LD_OK)
        self->dirty = false;
    return rc;
}

//  ---- explaining a key without a level ----

static int
s_priority (ld_status_t status)
{
    return status == LD_ERR_AWAITING_CERT ? 3 : status == LD_ERR_REVOKED ? 2 : 1;
}

static ld_status_t s_reason (const ld_trust_t *self, uint32_t index, unsigned depth, char *err,
                             size_t err_size);

//  A message ld_fail wrote, without its leading "<status text>: ", for
//  nesting one reason inside another.
static const char *
s_detail (const char *message, ld_status_t status)
{
    const char *text = ld_status_text (status);
    size_t len = strlen (text);
    if (strncmp (message, text, len) == 0 && message[len] == ':' && message[len + 1] == ' ')
        return message + len + 2;
    return message;
}

//  Why a fact naming a key without a level did not give it one.
static ld_status_t
s_fact_reason (const ld_trust_t *self, const s_fact_t *fact, unsigned depth, char *err,
               size_t err_size)
{
    const s_key_t *author = &self->keys[fact->author];
    char text[LD_KEY_TEXT_BYTES];
    ld_key_to_text (author->key, text);
    char why[S_DETAIL_MAX] = "";
    ld_status_t rc;
    if (author->level == LD_LEVEL_COUNT) {
        rc = s_reason (self, fact->author, depth + 1, why, sizeof why);
        return ld_fail (
            err, err_size, rc, "%s by %s at its seq %llu, a key with no valid level: %s",
            s_type_of (fact->kind), text, (unsigned long long) fact->seq, s_detail (why, rc));
    }
    if (fact->kind == S_CERTIFY) {
        rc = s_certify_judge (self, fact, why, sizeof why);
        if (rc == LD_OK)
            snprintf (why, sizeof why, "replaced by a newer certificate from the same certifier");
    }
    else if (s_rotation_contested (self, fact)) {
        rc = LD_ERR_NOT_CERTIFIED;
        snprintf (why, sizeof why, "more than one key names it successor");
    }
    else {
        rc = s_judge (author, fact->seq, LD_TYPE_ROTATE, fact->topic, NULL, NULL, why, sizeof why);
        if (rc == LD_OK)
            snprintf (why, sizeof why, "an earlier rotation of that key names another successor");
    }
    const char *detail = s_detail (why, rc);
    if (rc != LD_ERR_REVOKED && rc != LD_ERR_AWAITING_CERT)
        rc = LD_ERR_NOT_CERTIFIED;
    return ld_fail (err, err_size, rc, "%s by %s at its seq %llu is invalid: %s",
                    s_type_of (fact->kind), text, (unsigned long long) fact->seq, detail);
}

//  Why key has no level now: LD_ERR_AWAITING_CERT (it may come),
//  LD_ERR_REVOKED or LD_ERR_NOT_CERTIFIED. The most hopeful reason wins;
//  ties go to the lowest (author key, seq), so the answer is the same
//  whatever order facts were folded in.
static ld_status_t
s_reason (const ld_trust_t *self, uint32_t index, unsigned depth, char *err, size_t err_size)
{
    char text[LD_KEY_TEXT_BYTES];
    if (index == S_NONE)
        return ld_fail (err, err_size, LD_ERR_AWAITING_CERT, "no certificate names this key yet");
    const s_key_t *key = &self->keys[index];
    ld_key_to_text (key->key, text);
    if (depth > S_REASON_DEPTH_MAX)
        return ld_fail (err, err_size, LD_ERR_AWAITING_CERT, "no chain from %s to a root yet",
                        text);
    ld_status_t best = LD_STATUS_COUNT;
    const s_fact_t *best_fact = NULL;
    char best_why[S_DETAIL_MAX] = "";
    for (size_t i = 0; i < key->named.count; i++) {
        const s_fact_t *fact = &self->facts[key->named.items[i]];
        if (fact->kind == S_REVOKE)
            continue;
        char why[S_DETAIL_MAX];
        ld_status_t rc = s_fact_reason (self, fact, depth, why, sizeof why);
        bool better = best == LD_STATUS_COUNT || s_priority (rc) > s_priority (best);
        if (!better && s_priority (rc) == s_priority (best)) {
            int order = memcmp (self->keys[fact->author].key, self->keys[best_fact->author].key,
                                LD_KEY_BYTES);
            better = order < 0 || (order == 0 && fact->seq < best_fact->seq);
        }
        if (better) {
            best = rc;
            best_fact = fact;
            snprintf (best_why, sizeof best_why, "%s", why);
        }
    }
    if (best == LD_STATUS_COUNT)
        return ld_fail (err, err_size, LD_ERR_AWAITING_CERT, "no certificate names %s yet", text);
    return ld_fail (err, err_size, best, "%s: %s", text, s_detail (best_why, best));
}

//  The standing of author at seq: LD_OK, or why not.
static ld_status_t
s_standing (const ld_trust_t *self, uint32_t index, uint64_t seq, char *err, size_t err_size)
{
    if (index == S_NONE || self->keys[index].level == LD_LEVEL_COUNT)
        return s_reason (self, index, 0, err, err_size);
    const s_key_t *key = &self->keys[index];
    if (seq <= key->cut)
        return LD_OK;
    char text[LD_KEY_TEXT_BYTES], by[LD_KEY_TEXT_BYTES] = "";
    ld_key_to_text (key->key, text);
    if (key->cut_by != S_NONE)
        ld_key_to_text (self->keys[key->cut_by].key, by);
    unsigned long long cut = key->cut, at = seq;
    switch (key->cut_kind) {
        case LD_CUT_REVOKED:
            return ld_fail (err, err_size, LD_ERR_REVOKED,
                            "%s was revoked by %s after its seq %llu; this is seq %llu", text, by,
                            cut, at);
        case LD_CUT_ROTATED:
            return ld_fail (err, err_size, LD_ERR_REVOKED,
                            "%s was rotated to %s at its seq %llu; this is seq %llu", text, by, cut,
                            at);
        default:
            return ld_fail (err, err_size, LD_ERR_FROZEN,
                            "%s is frozen after its seq %llu by a proven fork; this is seq %llu",
                            text, cut, at);
    }
}

//  ---- queries ----

ld_status_t
ld_trust_check (ld_trust_t *self, const ld_event_t *event, const ld_authority_t **row_p, char *err,
                size_t err_size)
{
    if (row_p)
        *row_p = NULL;
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    uint32_t index = s_find (self, ld_event_author (event));
    rc = s_standing (self, index, ld_event_seq (event), err, err_size);
    if (rc != LD_OK)
        return rc;
    const s_key_t *key = &self->keys[index];
    const char *type = ld_event_type (event);
    size_t size;
    const uint8_t *payload = ld_event_payload (event, &size);
    s_subject_t subject = {LD_LEVEL_COUNT, NULL, NULL};
    const s_subject_t *certified = NULL;
    ld_certify_t certify;
    if (strcmp (type, LD_TYPE_CERTIFY) == 0) {
        rc = ld_payload_certify_decode (payload, size, &certify, err, err_size);
        if (rc != LD_OK)
            return rc;
        if (memcmp (certify.subject, key->key, LD_KEY_BYTES) == 0)
            return ld_fail (err, err_size, LD_ERR_FORBIDDEN_LEVEL,
                            "a key may not certify itself (rule %s)", LD_TYPE_CERTIFY);
        subject.level = ld_level_from_name (certify.level);
        subject.level_name = certify.level;
        subject.path = certify.path;
        certified = &subject;
    }
    else if (strcmp (type, LD_TYPE_REVOKE) == 0) {
        ld_revoke_t revoke;
        rc = ld_payload_revoke_decode (payload, size, &revoke, err, err_size);
        if (rc != LD_OK)
            return rc;
    }
    else if (strcmp (type, LD_TYPE_ROTATE) == 0) {
        ld_rotate_t rotate;
        rc = ld_payload_rotate_decode (payload, size, &rotate, err, err_size);
        if (rc != LD_OK)
            return rc;
        if (memcmp (rotate.successor, key->key, LD_KEY_BYTES) == 0)
            return ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD,
                            "a key cannot name itself its successor (rule %s)", LD_TYPE_ROTATE);
    }
    return s_judge (key, ld_event_seq (event), type, ld_event_topic (event), certified, row_p, err,
                    err_size);
}

ld_status_t
ld_trust_valid (ld_trust_t *self, const uint8_t author[LD_KEY_BYTES], uint64_t seq, char *err,
                size_t err_size)
{
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    return s_standing (self, s_find (self, author), seq, err, err_size);
}

ld_level_t
ld_trust_level (ld_trust_t *self, const uint8_t key[LD_KEY_BYTES])
{
    if (s_settle (self) != LD_OK)
        return LD_LEVEL_COUNT;
    uint32_t index = s_find (self, key);
    return index == S_NONE ? LD_LEVEL_COUNT : self->keys[index].level;
}

ld_level_t
ld_trust_grants (ld_trust_t *self, const uint8_t key[LD_KEY_BYTES], const char **paths, size_t max,
                 size_t *count_p)
{
    *count_p = 0;
    if (s_settle (self) != LD_OK)
        return LD_LEVEL_COUNT;
    uint32_t index = s_find (self, key);
    if (index == S_NONE)
        return LD_LEVEL_COUNT;
    const s_key_t *held = &self->keys[index];
    for (size_t i = 0; held->level != LD_LEVEL_COUNT && i < held->grant_count && *count_p < max;
         i++)
        paths[(*count_p)++] = held->grants[i].path;
    return held->level;
}

//  Keys sorted by their bytes, so that output never shows arrival order.
static int
s_key_compare (const void *a, const void *b)
{
    const s_key_t *const *x = a, *const *y = b;
    return memcmp ((*x)->key, (*y)->key, LD_KEY_BYTES);
}

//  A digest of a key's grants (level, certifier, seq, path, name), in
//  their canonical order.
static void
s_grants_digest (const s_key_t *key, uint8_t digest[crypto_generichash_BYTES])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, crypto_generichash_BYTES);
    for (size_t i = 0; i < key->grant_count; i++) {
        const s_grant_t *grant = &key->grants[i];
        uint8_t level = (uint8_t) grant->level;
        crypto_generichash_update (&state, &level, 1);
        crypto_generichash_update (&state, grant->certifier_key, LD_KEY_BYTES);
        crypto_generichash_update (&state, (const uint8_t *) &grant->cert_seq,
                                   sizeof grant->cert_seq);
        crypto_generichash_update (&state, (const uint8_t *) grant->path, strlen (grant->path) + 1);
        crypto_generichash_update (&state, (const uint8_t *) grant->name, strlen (grant->name) + 1);
    }
    crypto_generichash_final (&state, digest, crypto_generichash_BYTES);
}

ld_status_t
ld_trust_marks (ld_trust_t *self, ld_trust_mark_t **marks_p, size_t *count_p)
{
    *marks_p = NULL;
    *count_p = 0;
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    if (self->key_count == 0)
        return LD_OK;
    s_key_t **order = malloc (self->key_count * sizeof *order);
    ld_trust_mark_t *marks = malloc (self->key_count * sizeof *marks);
    if (!order || !marks) {
        free (order);
        free (marks);
        return LD_ERR_NOMEM;
    }
    for (size_t i = 0; i < self->key_count; i++)
        order[i] = &self->keys[i];
    qsort (order, self->key_count, sizeof *order, s_key_compare);
    size_t count = 0;
    for (size_t i = 0; i < self->key_count; i++) {
        s_key_t *key = order[i];
        uint64_t through = key->level == LD_LEVEL_COUNT ? 0 : key->cut;
        uint8_t digest[crypto_generichash_BYTES];
        s_grants_digest (key, digest);
        bool grants_changed =
            !key->reported || memcmp (digest, key->reported_grants, sizeof digest) != 0;
        if (key->reported && !grants_changed && through == key->reported_through)
            continue;
        bool grew = !key->reported || through > key->reported_through;
        memcpy (marks[count].author, key->key, LD_KEY_BYTES);
        marks[count].valid_through = through;
        marks[count].recheck = grants_changed || grew;
        count++;
        key->reported = true;
        key->reported_through = through;
        memcpy (key->reported_grants, digest, sizeof digest);
    }
    free (order);
    if (count == 0) {
        free (marks);
        return LD_OK;
    }
    *marks_p = marks;
    *count_p = count;
    return LD_OK;
}

//  ---- the tree ----

//  One grant placed in the tree: the certifier it hangs under.
typedef struct {
    uint32_t parent_key; //  certifier, S_NONE for the top
    const s_key_t *key;
    const s_grant_t *grant;
} s_place_t;

static int
s_place_compare (const void *a, const void *b)
{
    const s_place_t *x = a, *y = b;
    if (x->parent_key != y->parent_key)
        return x->parent_key < y->parent_key ? -1 : 1;
    int order = strcmp (x->grant->path, y->grant->path);
    if (!order)
        order = strcmp (x->grant->name, y->grant->name);
    if (!order)
        order = memcmp (x->key->key, y->key->key, LD_KEY_BYTES);
    if (!order)
        order = s_grant_compare (x->grant, y->grant);
    return order;
}

typedef struct {
    const ld_trust_t *trust;
    const s_place_t *places;
    size_t place_count;
    ld_trust_node_t *nodes;
    size_t count;
    size_t cap;
} s_tree_t;

//  Adds the places under parent_key (and theirs), depth-first.
static ld_status_t
s_tree_add (s_tree_t *tree, uint32_t parent_key, size_t parent, size_t depth)
{
    if (depth > S_TREE_DEPTH_MAX)
        return LD_OK;
    //  The places are sorted by parent: find the first of this parent's run.
    size_t low = 0, high = tree->place_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (tree->places[middle].parent_key < parent_key)
            low = middle + 1;
        else
            high = middle;
    }
    for (size_t i = low; i < tree->place_count && tree->places[i].parent_key == parent_key; i++) {
        const s_place_t *place = &tree->places[i];
        ld_trust_node_t *nodes =
            s_grow (tree->nodes, &tree->cap, tree->count + 1, sizeof *tree->nodes);
        if (!nodes)
            return LD_ERR_NOMEM;
        tree->nodes = nodes;
        size_t at = tree->count++;
        ld_trust_node_t *node = &tree->nodes[at];
        memset (node, 0, sizeof *node);
        node->depth = depth;
        node->parent = parent;
        memcpy (node->key, place->key->key, LD_KEY_BYTES);
        node->level = place->grant->level;
        snprintf (node->path, sizeof node->path, "%s", place->grant->path);
        snprintf (node->name, sizeof node->name, "%s", place->grant->name);
        node->cert_seq = place->grant->cert_seq;
        node->valid_through = place->key->cut;
        node->cut = place->key->cut_kind;
        if (place->key->successor != S_NONE) {
            node->has_successor = true;
            memcpy (node->successor, tree->trust->keys[place->key->successor].key, LD_KEY_BYTES);
        }
        if (place->grant->via != S_NONE) {
            node->inherited = true;
            memcpy (node->predecessor, tree->trust->keys[place->grant->via].key, LD_KEY_BYTES);
        }
        uint32_t key_index = (uint32_t) (place->key - tree->trust->keys);
        ld_status_t rc = s_tree_add (tree, key_index, at, depth + 1);
        if (rc != LD_OK)
            return rc;
    }
    return LD_OK;
}

ld_status_t
ld_trust_tree (ld_trust_t *self, ld_trust_node_t **nodes_p, size_t *count_p)
{
    *nodes_p = NULL;
    *count_p = 0;
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    size_t place_count = 0;
    for (size_t i = 0; i < self->key_count; i++)
        place_count += self->keys[i].grant_count;
    if (place_count == 0)
        return LD_OK;
    s_place_t *places = malloc (place_count * sizeof *places);
    if (!places)
        return LD_ERR_NOMEM;
    size_t at = 0;
    for (size_t i = 0; i < self->key_count; i++)
        for (size_t g = 0; g < self->keys[i].grant_count; g++) {
            const s_grant_t *grant = &self->keys[i].grants[g];
            places[at++] = (s_place_t){grant->certifier, &self->keys[i], grant};
        }
    qsort (places, place_count, sizeof *places, s_place_compare);
    s_tree_t tree = {self, places, place_count, NULL, 0, 0};
    rc = s_tree_add (&tree, S_NONE, SIZE_MAX, 0);
    free (places);
    if (rc != LD_OK) {
        free (tree.nodes);
        return rc;
    }
    *nodes_p = tree.nodes;
    *count_p = tree.count;
    return LD_OK;
}
