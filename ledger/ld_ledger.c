/*  ld_ledger.c -- the ledger fold. See ld_ledger.h and docs/LEDGER.md.

    Design. Like ld_trust, the object keeps *facts* -- every event added,
    sorted by id, each with its payload decoded once (through ld_pbjson, so
    that nothing outside proto/ needs the generated types) -- and derives
    the ledger from them, from scratch, on the first query after a change
    (s_settle). Deriving from the set is what makes the result independent
    of the order events arrive in.

    s_settle, step by step:
      1. The trust state (the ledger's own ld_trust_t, fed every trust.*
         event) gives each key its level, org paths and display name.
      2. Receipts whose author holds level broker and passes ld_trust_check
         give ledger times: an event's time is the earliest stored_ms of a
         receipt range naming its (author, seq); none: unconfirmed.
      3. Every event of a ledger type is checked again at feed level
         (ld_trust_check): awaiting-certificate waits (pending), any other
         failure is refused with the status name as its rule.
      4. Each ledger event references at most one other event (the task's
         resolution, the check-in, the wish, the original, ...). The events
         are processed in the canonical order -- ledger time (unconfirmed
         last), then author key, then seq -- except that an event is never
         processed before the event it references: a priority queue holds
         the events whose reference is settled (Kahn's algorithm over the
         reference forest), smallest canonical key first. An event whose
         reference is missing, or itself waits, stays pending.
      5. Each event's handler applies the ledger-level rule of its type
         (the authority table's `ledger` column, ld_authority.h) and either
         changes the records or is refused with the rule and a reason.
    Processing in ledger-time order is what lets a rule judge "at the
    event's time": an urge sees the task as it stood at the urge's receipt.

    One rule is decided from the whole set rather than by processing order:
    first-claim-only. A wish's winning claim is the earliest by ledger time,
    then id, among its claims by units; the handler only compares.

    Derived records and their strings live in an arena and arrays freed as
    a whole when the ledger settles again, so queries lend them freely.
*/
#include "ld_ledger.h"

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_authority.h"
#include "ld_payload.h"
#include "ld_pbjson.h"
#include "ld_trust.h"

#define S_NONE        UINT32_MAX
#define S_ERR_MAX     512
#define S_BLOCK_BYTES 16384
#define S_MS_PER_DAY  INT64_C (86400000)
#define S_SHANGHAI_MS INT64_C (28800000) //  UTC+8, no daylight saving time
#define S_FIELD_MAX   64

//  The rules the ledger names beside those of the authority table.
#define S_RULE_STATE     "state"     //  a transition the record's state does not allow
#define S_RULE_REFERENCE "reference" //  the referenced event is not what the type needs
#define S_RULE_PAYLOAD   "payload"   //  the payload does not decode
#define S_RULE_PENDING   "pending"

typedef enum {
    S_KIND_NONE,
    S_KIND_MEETING,
    S_KIND_RESOLUTION,
    S_KIND_CHECKIN,
    S_KIND_AGREEMENT,
    S_KIND_WISH,
    S_KIND_INCIDENT,
} s_kind_t;

typedef enum { S_UNDECIDED, S_IGNORED, S_APPLIED, S_REFUSED, S_PENDING } s_fate_t;

typedef void (s_handler_fn) (ld_ledger_t *self, uint32_t at);

//  A ledger type: its handler and the payload field that names the event
//  it references (a path through nested messages: "task.resolution").
typedef struct {
    const char *type;
    const char *ref;
    s_handler_fn *handler;
} s_type_t;

//  One event added.
typedef struct {
    ld_event_t *event;
    json_t *payload; //  decoded payload of a ledger type or a receipt, or NULL
    char *error;     //  why the payload did not decode, or NULL
    const s_type_t *type;
    bool has_ref;
    uint8_t ref[LD_ID_BYTES];
    //  derived by s_settle
    int64_t ms;
    s_fate_t fate;
    uint32_t parent; //  the referenced event's index, S_NONE if none or missing
    uint32_t child;  //  first event referencing this one
    uint32_t sibling;
    s_kind_t kind; //  the record this event created, if applied
    size_t index;
} s_event_t;

//  One valid certificate, from the trust tree.
typedef struct {
    uint8_t key[LD_KEY_BYTES];
    ld_level_t level;
    char *path;
    char *name;
} s_org_t;

//  One range of a valid receipt.
typedef struct {
    uint8_t author[LD_KEY_BYTES];
    uint64_t first_seq;
    uint64_t last_seq;
    int64_t stored_ms;
} s_range_t;

typedef struct s_block_t {
    struct s_block_t *next;
    size_t used;
    size_t size;
    char data[];
} s_block_t;

//  A growable array.
typedef struct {
    void *items;
    size_t count;
    size_t cap;
} s_vec_t;

//  A wish's first claim, decided from the set.
typedef struct {
    uint32_t wish;  //  event index of the wish.post
    uint32_t claim; //  event index of the winning claim
} s_claim_t;

struct _ld_ledger_t {
    ld_trust_t *trust;
    s_event_t *events; //  sorted by id
    size_t event_count;
    size_t event_cap;
    bool dirty;
    //  derived
    s_block_t *arena;
    s_org_t *orgs; //  sorted by key, then path
    size_t org_count;
    s_vec_t ranges;      //  s_range_t
    s_vec_t meetings;    //  ld_meeting_t
    s_vec_t resolutions; //  ld_resolution_t
    s_vec_t checkins;    //  ld_checkin_t
    s_vec_t agreements;  //  ld_agreement_t
    s_vec_t wishes;      //  ld_wish_t
    s_vec_t incidents;   //  ld_incident_t
    s_vec_t refusals;    //  ld_refusal_t
    s_vec_t pending;     //  ld_refusal_t
    s_vec_t claims;      //  s_claim_t
    ld_status_t failure; //  LD_ERR_NOMEM met while settling
};

//  ---- memory ----

static void *
s_vec_push (s_vec_t *vec, size_t item_size)
{
    if (vec->count == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 8;
        void *items = realloc (vec->items, cap * item_size);
        if (!items)
            return NULL;
        vec->items = items;
        vec->cap = cap;
    }
    void *item = (char *) vec->items + vec->count++ * item_size;
    memset (item, 0, item_size);
    return item;
}

static void
s_vec_free (s_vec_t *vec)
{
    free (vec->items);
    memset (vec, 0, sizeof *vec);
}

//  size bytes from the arena, zeroed; NULL (and self->failure) if out of memory.
static void *
s_alloc (ld_ledger_t *self, size_t size)
{
    size = (size + 7) & ~(size_t) 7;
    s_block_t *block = self->arena;
    if (!block || block->size - block->used < size) {
        size_t bytes = size > S_BLOCK_BYTES ? size : S_BLOCK_BYTES;
        block = malloc (sizeof *block + bytes);
        if (!block) {
            self->failure = LD_ERR_NOMEM;
            return NULL;
        }
        block->next = self->arena;
        block->used = 0;
        block->size = bytes;
        self->arena = block;
    }
    void *memory = block->data + block->used;
    block->used += size;
    memset (memory, 0, size);
    return memory;
}

//  A copy of text in the arena; "" if out of memory (self->failure says so).
static const char *
s_strdup (ld_ledger_t *self, const char *text)
{
    if (!text)
        text = "";
    size_t len = strlen (text);
    char *copy = s_alloc (self, len + 1);
    if (!copy)
        return "";
    memcpy (copy, text, len + 1);
    return copy;
}

static const char *s_printf (ld_ledger_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static const char *
s_printf (ld_ledger_t *self, const char *format, ...)
{
    char text[S_ERR_MAX];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    return s_strdup (self, text);
}

static const char *
s_key_text (ld_ledger_t *self, const uint8_t key[LD_KEY_BYTES])
{
    char text[LD_KEY_TEXT_BYTES];
    ld_key_to_text (key, text);
    return s_strdup (self, text);
}

static const char *
s_id_text (ld_ledger_t *self, const uint8_t id[LD_ID_BYTES])
{
    char text[LD_ID_TEXT_BYTES];
    ld_id_to_text (id, text);
    return s_strdup (self, text);
}

//  ---- payload fields (the canonical JSON mapping, ld_pbjson.h) ----

static const char *
s_json_text (const json_t *object, const char *name)
{
    const char *text = json_string_value (json_object_get (object, name));
    return text ? text : "";
}

static uint32_t
s_json_u32 (const json_t *object, const char *name)
{
    json_int_t value = json_integer_value (json_object_get (object, name));
    return value > 0 && value <= UINT32_MAX ? (uint32_t) value : 0;
}

//  64-bit integers print as decimal strings.
static int64_t
s_json_i64 (const json_t *object, const char *name)
{
    const char *text = json_string_value (json_object_get (object, name));
    return text ? strtoll (text, NULL, 10) : 0;
}

//  A 32-byte key or id: key or id text form, or base64.
static bool
s_bytes32_of (const json_t *json, uint8_t out[32])
{
    const char *text = json_string_value (json);
    if (!text)
        return false;
    if (strncmp (text, LD_KEY_PREFIX, strlen (LD_KEY_PREFIX)) == 0)
        return ld_key_from_text (text, out) == LD_OK;
    if (strncmp (text, LD_ID_PREFIX, strlen (LD_ID_PREFIX)) == 0)
        return ld_id_from_text (text, out) == LD_OK;
    size_t size = 0;
    uint8_t buffer[48];
    if (sodium_base642bin (buffer, sizeof buffer, text, strlen (text), NULL, &size, NULL,
                           sodium_base64_VARIANT_ORIGINAL)
            != 0
        || size != 32)
        return false;
    memcpy (out, buffer, 32);
    return true;
}

//  The field at a dotted path ("task.resolution") of a payload.
static bool
s_json_bytes32 (const json_t *object, const char *path, uint8_t out[32])
{
    char name[S_FIELD_MAX];
    const char *dot;
    while ((dot = strchr (path, '.')) != NULL) {
        size_t len = (size_t) (dot - path);
        if (len >= sizeof name)
            return false;
        memcpy (name, path, len);
        name[len] = '\0';
        object = json_object_get (object, name);
        path = dot + 1;
    }
    return s_bytes32_of (json_object_get (object, path), out);
}

//  ---- time ----

//  Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant).
static int64_t
s_days_from_civil (int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

static void
s_civil_from_days (int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned) (z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t) yoe + era * 400 + (*m <= 2);
}

//  Reads exactly count digits; false if any is not a digit.
static bool
s_digits (const char **text, int count, unsigned *value)
{
    *value = 0;
    for (int i = 0; i < count; i++) {
        char c = (*text)[i];
        if (c < '0' || c > '9')
            return false;
        *value = *value * 10 + (unsigned) (c - '0');
    }
    *text += count;
    return true;
}

static bool
s_expect_char (const char **text, char c)
{
    if (**text != c)
        return false;
    (*text)++;
    return true;
}

static unsigned
s_month_days (unsigned year, unsigned month)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

ld_status_t
ld_ledger_parse_time (const char *text, int64_t *ms)
{
    unsigned year, month, day, hour = 0, minute = 0, second = 0, milli = 0;
    if (!s_digits (&text, 4, &year) || !s_expect_char (&text, '-') || !s_digits (&text, 2, &month)
        || !s_expect_char (&text, '-') || !s_digits (&text, 2, &day) || month < 1 || month > 12
        || day < 1 || day > s_month_days (year, month))
        return LD_ERR_BAD_FORMAT;
    int64_t days = s_days_from_civil (year, month, day);
    if (*text == '\0') {
        //  A date: the end of that day in Asia/Shanghai.
        *ms = (days + 1) * S_MS_PER_DAY - S_SHANGHAI_MS - 1;
        return LD_OK;
    }
    if ((*text != 'T' && *text != 't' && *text != ' ') || !(text++, s_digits (&text, 2, &hour))
        || !s_expect_char (&text, ':') || !s_digits (&text, 2, &minute)
        || !s_expect_char (&text, ':') || !s_digits (&text, 2, &second) || hour > 23 || minute > 59
        || second > 60)
        return LD_ERR_BAD_FORMAT;
    if (*text == '.') {
        text++;
        int places = 0;
        while (*text >= '0' && *text <= '9') {
            if (places < 3)
                milli = milli * 10 + (unsigned) (*text - '0');
            places++;
            text++;
        }
        if (places == 0)
            return LD_ERR_BAD_FORMAT;
        for (; places < 3; places++)
            milli *= 10;
    }
    int64_t offset_ms = 0;
    if (*text == 'Z' || *text == 'z')
        text++;
    else if (*text == '+' || *text == '-') {
        int sign = *text == '-' ? -1 : 1;
        unsigned oh, om;
        text++;
        if (!s_digits (&text, 2, &oh) || !s_expect_char (&text, ':') || !s_digits (&text, 2, &om)
            || oh > 23 || om > 59)
            return LD_ERR_BAD_FORMAT;
        offset_ms = sign * ((int64_t) oh * 3600000 + (int64_t) om * 60000);
    }
    else
        return LD_ERR_BAD_FORMAT;
    if (*text != '\0')
        return LD_ERR_BAD_FORMAT;
    *ms = days * S_MS_PER_DAY + (int64_t) hour * 3600000 + (int64_t) minute * 60000
          + (int64_t) second * 1000 + milli - offset_ms;
    return LD_OK;
}

void
ld_ledger_time_text (int64_t ms, char out[LD_LEDGER_TIME_TEXT_BYTES])
{
    if (ms == LD_LEDGER_UNCONFIRMED) {
        snprintf (out, LD_LEDGER_TIME_TEXT_BYTES, "unconfirmed");
        return;
    }
    int64_t days = ms >= 0 ? ms / S_MS_PER_DAY : (ms - S_MS_PER_DAY + 1) / S_MS_PER_DAY;
    int64_t rest = ms - days * S_MS_PER_DAY;
    int64_t year;
    unsigned month, day;
    s_civil_from_days (days, &year, &month, &day);
    //  Years outside 0-9999 do not fit RFC 3339; clamp what is printed.
    if (year < 0 || year > 9999) {
        snprintf (out, LD_LEDGER_TIME_TEXT_BYTES, "out-of-range");
        return;
    }
    snprintf (out, LD_LEDGER_TIME_TEXT_BYTES, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
              (unsigned) year, month % 100, day % 100, (unsigned) (rest / 3600000) % 100,
              (unsigned) (rest / 60000 % 60), (unsigned) (rest / 1000 % 60),
              (unsigned) (rest % 1000));
}

//  ---- organisations (from the trust fold) ----

static int
s_org_compare (const void *a, const void *b)
{
    const s_org_t *x = a, *y = b;
    int order = memcmp (x->key, y->key, LD_KEY_BYTES);
    return order ? order : strcmp (x->path, y->path);
}

//  The first certificate of key (sorted by path), or NULL.
static const s_org_t *
s_org_first (const ld_ledger_t *self, const uint8_t key[LD_KEY_BYTES])
{
    size_t low = 0, high = self->org_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (memcmp (self->orgs[middle].key, key, LD_KEY_BYTES) < 0)
            low = middle + 1;
        else
            high = middle;
    }
    if (low < self->org_count && memcmp (self->orgs[low].key, key, LD_KEY_BYTES) == 0)
        return &self->orgs[low];
    return NULL;
}

static const char *
s_name (const ld_ledger_t *self, const uint8_t key[LD_KEY_BYTES])
{
    const s_org_t *org = s_org_first (self, key);
    return org ? org->name : "";
}

//  The name of the community whose path is path, or "".
static const char *
s_community_name (const ld_ledger_t *self, const char *path)
{
    for (size_t i = 0; i < self->org_count; i++)
        if (self->orgs[i].level == LD_LEVEL_COMMUNITY && strcmp (self->orgs[i].path, path) == 0)
            return self->orgs[i].name;
    return "";
}

//  True if key holds a certificate of level (LD_LEVEL_COUNT: any) at path
//  exactly, or (enclosing) at a path that encloses it.
static bool
s_holds (const ld_ledger_t *self, const uint8_t key[LD_KEY_BYTES], ld_level_t level,
         const char *path, bool enclosing)
{
    const s_org_t *org = s_org_first (self, key);
    if (!org)
        return false;
    for (; org < self->orgs + self->org_count && memcmp (org->key, key, LD_KEY_BYTES) == 0; org++) {
        if (level != LD_LEVEL_COUNT && org->level != level)
            continue;
        if (enclosing ? ld_path_within (path, org->path) : strcmp (path, org->path) == 0)
            return true;
    }
    return false;
}

//  True if actor is the convener, or holds the convener's level at one of
//  the convener's paths (the same organisation under another key, such as
//  a rotated successor).
static bool
s_same_org (const ld_ledger_t *self, const uint8_t actor[LD_KEY_BYTES],
            const uint8_t convener[LD_KEY_BYTES])
{
    if (memcmp (actor, convener, LD_KEY_BYTES) == 0)
        return true;
    const s_org_t *org = s_org_first (self, convener);
    if (!org)
        return false;
    for (; org < self->orgs + self->org_count && memcmp (org->key, convener, LD_KEY_BYTES) == 0;
         org++)
        if (s_holds (self, actor, org->level, org->path, false))
            return true;
    return false;
}

static ld_status_t
s_load_orgs (ld_ledger_t *self)
{
    ld_trust_node_t *nodes = NULL;
    size_t count = 0;
    ld_status_t rc = ld_trust_tree (self->trust, &nodes, &count);
    if (rc != LD_OK)
        return rc;
    self->orgs = count ? s_alloc (self, count * sizeof *self->orgs) : NULL;
    if (count && !self->orgs) {
        free (nodes);
        return LD_ERR_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        s_org_t *org = &self->orgs[i];
        memcpy (org->key, nodes[i].key, LD_KEY_BYTES);
        org->level = nodes[i].level;
        org->path = (char *) s_strdup (self, nodes[i].path);
        org->name = (char *) s_strdup (self, nodes[i].name);
    }
    self->org_count = count;
    free (nodes);
    qsort (self->orgs, self->org_count, sizeof *self->orgs, s_org_compare);
    return self->failure;
}

//  ---- events ----

static const uint8_t *
s_author (const ld_ledger_t *self, uint32_t at)
{
    return ld_event_author (self->events[at].event);
}

static const json_t *
s_payload (const ld_ledger_t *self, uint32_t at)
{
    return self->events[at].payload;
}

//  The org path of an event: its topic after the kind segment.
static const char *
s_topic_path (const ld_ledger_t *self, uint32_t at)
{
    const char *topic = ld_event_topic (self->events[at].event);
    const char *slash = strchr (topic, '/');
    return slash ? slash + 1 : topic;
}

//  Index of the event with id, or S_NONE.
static uint32_t
s_find (const ld_ledger_t *self, const uint8_t id[LD_ID_BYTES], size_t *insert_at)
{
    size_t low = 0, high = self->event_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = memcmp (ld_event_id (self->events[middle].event), id, LD_ID_BYTES);
        if (order == 0)
            return (uint32_t) middle;
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    if (insert_at)
        *insert_at = low;
    return S_NONE;
}

static ld_refusal_t *
s_record (ld_ledger_t *self, s_vec_t *list, uint32_t at, const char *rule, const char *reason)
{
    const ld_event_t *event = self->events[at].event;
    ld_refusal_t *entry = s_vec_push (list, sizeof *entry);
    if (!entry) {
        self->failure = LD_ERR_NOMEM;
        return NULL;
    }
    entry->id = s_id_text (self, ld_event_id (event));
    entry->type = s_strdup (self, ld_event_type (event));
    entry->author = s_key_text (self, ld_event_author (event));
    entry->author_name = s_name (self, ld_event_author (event));
    entry->seq = ld_event_seq (event);
    entry->rule = s_strdup (self, rule);
    entry->reason = s_strdup (self, reason);
    entry->ms = self->events[at].ms;
    return entry;
}

static void s_refuse (ld_ledger_t *self, uint32_t at, const char *rule, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Marks event at refused: it stays in the record and changes nothing.
static void
s_refuse (ld_ledger_t *self, uint32_t at, const char *rule, const char *format, ...)
{
    char reason[S_ERR_MAX];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    self->events[at].fate = S_REFUSED;
    s_record (self, &self->refusals, at, rule, reason);
}

//  The rule name of the authority row governing the event's type.
static const char *
s_rule (const ld_ledger_t *self, uint32_t at)
{
    const ld_event_t *event = self->events[at].event;
    ld_level_t level = ld_trust_level (self->trust, ld_event_author (event));
    return ld_ledger_rule_name (ld_authority_find (ld_event_type (event), level)->ledger);
}

static void
s_apply (ld_ledger_t *self, uint32_t at, s_kind_t kind, size_t index)
{
    self->events[at].fate = S_APPLIED;
    self->events[at].kind = kind;
    self->events[at].index = index;
}

//  The record the event at references, if it is of kind and was applied;
//  else refuses at and returns false.
static bool
s_target (ld_ledger_t *self, uint32_t at, s_kind_t kind, const char *what, size_t *index)
{
    uint32_t parent = self->events[at].parent;
    const s_event_t *target = &self->events[parent];
    if (target->fate == S_REFUSED) {
        s_refuse (self, at, S_RULE_REFERENCE, "it references a refused %s",
                  ld_event_type (target->event));
        return false;
    }
    if (target->fate != S_APPLIED || target->kind != kind) {
        s_refuse (self, at, S_RULE_REFERENCE, "it references a %s, not a %s",
                  ld_event_type (target->event), what);
        return false;
    }
    *index = target->index;
    return true;
}

#define S_ITEM(vec, type, index) (&((type *) (vec).items)[index])

//  ---- changes (amend) ----

static bool
s_change (ld_ledger_t *self, uint32_t at, const ld_ledger_change_t **changes, size_t *count,
          const char *field, const char **slot, const char *value)
{
    ld_ledger_change_t *grown = realloc ((void *) *changes, (*count + 1) * sizeof *grown);
    if (!grown) {
        self->failure = LD_ERR_NOMEM;
        return false;
    }
    ld_ledger_change_t *change = &grown[(*count)++];
    *changes = grown;
    change->field = s_strdup (self, field);
    change->old_value = *slot;
    change->new_value = s_strdup (self, value);
    change->ms = self->events[at].ms;
    change->by = s_id_text (self, ld_event_id (self->events[at].event));
    *slot = change->new_value;
    return true;
}

//  ---- meetings and resolutions ----

static void
s_do_meeting (ld_ledger_t *self, uint32_t at)
{
    const json_t *payload = s_payload (self, at);
    ld_meeting_t *meeting = s_vec_push (&self->meetings, sizeof *meeting);
    if (!meeting) {
        self->failure = LD_ERR_NOMEM;
        return;
    }
    const ld_event_t *event = self->events[at].event;
    meeting->id = s_id_text (self, ld_event_id (event));
    meeting->convener = s_key_text (self, ld_event_author (event));
    meeting->convener_name = s_name (self, ld_event_author (event));
    meeting->path = s_strdup (self, s_topic_path (self, at));
    meeting->body = s_strdup (self, s_json_text (payload, "body"));
    meeting->date = s_strdup (self, s_json_text (payload, "date"));
    meeting->status = "held";
    meeting->ms = self->events[at].ms;
    s_apply (self, at, S_KIND_MEETING, self->meetings.count - 1);
}

static void
s_task_deadline (ld_task_t *task)
{
    if (ld_ledger_parse_time (task->deadline, &task->deadline_ms) != LD_OK)
        task->deadline_ms = INT64_MAX;
}

static void
s_do_adopt (ld_ledger_t *self, uint32_t at)
{
    size_t meeting_index;
    if (!s_target (self, at, S_KIND_MEETING, "meeting.convene", &meeting_index))
        return;
    const ld_meeting_t *meeting = S_ITEM (self->meetings, ld_meeting_t, meeting_index);
    uint32_t parent = self->events[at].parent;
    if (strcmp (meeting->status, "withdrawn") == 0) {
        s_refuse (self, at, S_RULE_STATE, "the meeting was withdrawn");
        return;
    }
    if (!s_same_org (self, s_author (self, at), s_author (self, parent))) {
        s_refuse (self, at, s_rule (self, at),
                  "only the meeting's convener (%s) adopts its resolutions",
                  meeting->convener_name);
        return;
    }
    const json_t *payload = s_payload (self, at);
    const json_t *specs = json_object_get (payload, "tasks");
    size_t task_count = json_array_size (specs);
    ld_resolution_t *resolution = s_vec_push (&self->resolutions, sizeof *resolution);
    ld_task_t *tasks = task_count ? s_alloc (self, task_count * sizeof *tasks) : NULL;
    if (!resolution || (task_count && !tasks)) {
        self->failure = LD_ERR_NOMEM;
        return;
    }
    const ld_event_t *event = self->events[at].event;
    resolution->id = s_id_text (self, ld_event_id (event));
    resolution->meeting = meeting->id;
    resolution->convener = s_key_text (self, ld_event_author (event));
    resolution->convener_name = s_name (self, ld_event_author (event));
    resolution->path = s_strdup (self, s_topic_path (self, at));
    resolution->text = s_strdup (self, s_json_text (payload, "text"));
    resolution->category = s_strdup (self, s_json_text (payload, "category"));
    resolution->status = "open";
    resolution->ms = self->events[at].ms;
    resolution->tasks = tasks;
    resolution->task_count = task_count;
    for (size_t i = 0; i < task_count; i++) {
        const json_t *spec = json_array_get (specs, i);
        ld_task_t *task = &tasks[i];
        uint8_t unit[LD_KEY_BYTES] = {0};
        s_json_bytes32 (spec, "unit", unit);
        task->index = (uint32_t) i;
        task->unit = s_key_text (self, unit);
        task->unit_name = s_name (self, unit);
        task->deadline = s_strdup (self, s_json_text (spec, "deadline"));
        s_task_deadline (task);
        task->deliverable = s_strdup (self, s_json_text (spec, "deliverable"));
        task->state = "assigned";
        task->completed_ms = LD_LEDGER_UNCONFIRMED;
        task->timing = "";
    }
    s_apply (self, at, S_KIND_RESOLUTION, self->resolutions.count - 1);
}

static bool
s_completed (const ld_task_t *task)
{
    return strcmp (task->state, "completed") == 0 || strcmp (task->state, "verified") == 0;
}

//  True if ms lies after the task's deadline.
static bool
s_past (const ld_task_t *task, int64_t ms)
{
    return ms != LD_LEDGER_UNCONFIRMED && task->deadline_ms != INT64_MAX && ms > task->deadline_ms;
}

static void
s_do_task (ld_ledger_t *self, uint32_t at)
{
    size_t index;
    if (!s_target (self, at, S_KIND_RESOLUTION, "resolution.adopt", &index))
        return;
    ld_resolution_t *resolution = S_ITEM (self->resolutions, ld_resolution_t, index);
    const json_t *ref = json_object_get (s_payload (self, at), "task");
    uint32_t task_index = s_json_u32 (ref, "index");
    const char *type = ld_event_type (self->events[at].event);
    const char *rule = s_rule (self, at);
    if (task_index >= resolution->task_count) {
        s_refuse (self, at, S_RULE_REFERENCE, "the resolution has no task %u", task_index);
        return;
    }
    if (strcmp (resolution->status, "open") != 0) {
        s_refuse (self, at, S_RULE_STATE, "the resolution is %s", resolution->status);
        return;
    }
    ld_task_t *task = &resolution->tasks[task_index];
    const uint8_t *author = s_author (self, at);
    int64_t ms = self->events[at].ms;
    char author_key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (author, author_key);
    if (strcmp (type, "task.urge") == 0) {
        if (ms == LD_LEDGER_UNCONFIRMED) {
            //  An urge is judged by its receipt: without one it waits.
            self->events[at].fate = S_PENDING;
            s_record (self, &self->pending, at, S_RULE_PENDING,
                      "unconfirmed: an urge counts only by its receipt's time");
            return;
        }
        char deadline[LD_LEDGER_TIME_TEXT_BYTES], when[LD_LEDGER_TIME_TEXT_BYTES];
        ld_ledger_time_text (task->deadline_ms, deadline);
        ld_ledger_time_text (ms, when);
        if (!s_past (task, ms))
            s_refuse (self, at, rule,
                      "task %u is not overdue at the urge's ledger time %s (deadline %s)",
                      task_index, when, deadline);
        else if (s_completed (task))
            s_refuse (self, at, rule, "task %u was %s before the urge", task_index, task->state);
        else {
            task->urges++;
            s_apply (self, at, S_KIND_NONE, 0);
        }
        return;
    }
    bool by_convener = strcmp (type, "task.verify") == 0 || strcmp (type, "task.reopen") == 0;
    if (by_convener) {
        uint32_t adopt = self->events[at].parent;
        if (!s_same_org (self, author, s_author (self, adopt))) {
            s_refuse (self, at, rule, "only the convener (%s) may %s task %u",
                      resolution->convener_name, type + strlen ("task."), task_index);
            return;
        }
    }
    else if (strcmp (author_key, task->unit) != 0) {
        s_refuse (self, at, rule, "only the assignee (%s) may %s task %u", task->unit_name,
                  type + strlen ("task."), task_index);
        return;
    }
    const char *state = task->state;
    const char *next = NULL;
    if (strcmp (type, "task.accept") == 0)
        next = strcmp (state, "assigned") == 0 ? "accepted" : NULL;
    else if (strcmp (type, "task.progress") == 0)
        next = strcmp (state, "accepted") == 0 || strcmp (state, "in-progress") == 0
                       || strcmp (state, "reopened") == 0
                   ? "in-progress"
                   : NULL;
    else if (strcmp (type, "task.complete") == 0)
        next = strcmp (state, "accepted") == 0 || strcmp (state, "in-progress") == 0
                       || strcmp (state, "reopened") == 0
                   ? "completed"
                   : NULL;
    else if (strcmp (type, "task.verify") == 0)
        next = strcmp (state, "completed") == 0 ? "verified" : NULL;
    else if (strcmp (type, "task.reopen") == 0)
        next = s_completed (task) ? "reopened" : NULL;
    if (!next) {
        s_refuse (self, at, S_RULE_STATE, "task %u is %s: no %s", task_index, state,
                  type + strlen ("task."));
        return;
    }
    task->state = next;
    if (strcmp (type, "task.progress") == 0)
        task->percent = s_json_u32 (s_payload (self, at), "percent");
    if (strcmp (type, "task.complete") == 0) {
        task->percent = 100;
        task->completed_ms = ms;
    }
    if (strcmp (type, "task.reopen") == 0)
        task->completed_ms = LD_LEDGER_UNCONFIRMED;
    s_apply (self, at, S_KIND_NONE, 0);
}

static void
s_do_close (ld_ledger_t *self, uint32_t at)
{
    size_t index;
    if (!s_target (self, at, S_KIND_RESOLUTION, "resolution.adopt", &index))
        return;
    ld_resolution_t *resolution = S_ITEM (self->resolutions, ld_resolution_t, index);
    if (!s_same_org (self, s_author (self, at), s_author (self, self->events[at].parent))) {
        s_refuse (self, at, s_rule (self, at), "only the convener (%s) closes the resolution",
                  resolution->convener_name);
        return;
    }
    if (strcmp (resolution->status, "open") != 0) {
        s_refuse (self, at, S_RULE_STATE, "the resolution is %s", resolution->status);
        return;
    }
    resolution->status = "closed";
    s_apply (self, at, S_KIND_NONE, 0);
}

//  ---- double reporting ----

static void
s_do_checkin (ld_ledger_t *self, uint32_t at)
{
    const json_t *payload = s_payload (self, at);
    ld_checkin_t *checkin = s_vec_push (&self->checkins, sizeof *checkin);
    if (!checkin) {
        self->failure = LD_ERR_NOMEM;
        return;
    }
    const ld_event_t *event = self->events[at].event;
    checkin->id = s_id_text (self, ld_event_id (event));
    checkin->community = s_strdup (self, s_json_text (payload, "community"));
    checkin->community_name = s_community_name (self, checkin->community);
    uint8_t unit[LD_KEY_BYTES];
    if (s_json_bytes32 (payload, "unit", unit)) {
        checkin->unit = s_key_text (self, unit);
        checkin->unit_name = s_name (self, unit);
        checkin->member = "";
    }
    else {
        checkin->unit = "";
        checkin->unit_name = "member";
        checkin->member =
            s_strdup (self, s_json_text (json_object_get (payload, "member"), "commitment"));
    }
    checkin->author = s_key_text (self, ld_event_author (event));
    checkin->year = s_json_u32 (payload, "year");
    //  the offers, joined: the register shows them, the figures count roles
    json_t *offers = json_object_get (payload, "offers");
    size_t length = 1;
    for (size_t i = 0; i < json_array_size (offers); i++)
        length += strlen (json_string_value (json_array_get (offers, i))) + 1;
    char *joined = calloc (1, length);
    for (size_t i = 0; joined && i < json_array_size (offers); i++) {
        if (i)
            strcat (joined, ",");
        strcat (joined, json_string_value (json_array_get (offers, i)));
    }
    checkin->offers = s_strdup (self, joined ? joined : "");
    free (joined);
    checkin->status = "checked-in";
    checkin->ms = self->events[at].ms;
    s_apply (self, at, S_KIND_CHECKIN, self->checkins.count - 1);
}

static void
s_do_report (ld_ledger_t *self, uint32_t at)
{
    size_t index;
    if (!s_target (self, at, S_KIND_CHECKIN, "report.checkin", &index))
        return;
    ld_checkin_t *checkin = S_ITEM (self->checkins, ld_checkin_t, index);
    const char *type = ld_event_type (self->events[at].event);
    const uint8_t *author = s_author (self, at);
    const json_t *payload = s_payload (self, at);
    if (strcmp (checkin->status, "withdrawn") == 0) {
        s_refuse (self, at, s_rule (self, at), "the check-in was withdrawn");
        return;
    }
    bool host = s_holds (self, author, LD_LEVEL_COMMUNITY, checkin->community, false);
    const char *id = s_id_text (self, ld_event_id (self->events[at].event));
    int64_t ms = self->events[at].ms;
    if (strcmp (type, "report.service") == 0) {
        char author_key[LD_KEY_TEXT_BYTES];
        ld_key_to_text (author, author_key);
        bool allowed = checkin->unit[0] ? strcmp (author_key, checkin->unit) == 0 : host;
        if (!allowed) {
            s_refuse (self, at, s_rule (self, at),
                      checkin->unit[0] ? "only the unit that checked in (%s) records its service"
                                       : "only the host community (%s) records a member's service",
                      checkin->unit[0] ? checkin->unit_name : checkin->community_name);
            return;
        }
        ld_service_t *grown =
            realloc ((void *) checkin->services, (checkin->service_count + 1) * sizeof *grown);
        if (!grown) {
            self->failure = LD_ERR_NOMEM;
            return;
        }
        checkin->services = grown;
        ld_service_t *service = &grown[checkin->service_count++];
        memset (service, 0, sizeof *service);
        service->id = id;
        service->date = s_strdup (self, s_json_text (payload, "date"));
        service->activity = s_strdup (self, s_json_text (payload, "activity"));
        service->minutes = s_json_u32 (payload, "minutes");
        service->people_served = s_json_u32 (payload, "peopleServed");
        service->volunteers = s_json_u32 (payload, "volunteers");
        service->team = s_strdup (self, s_json_text (payload, "team"));
        service->ms = ms;
        s_apply (self, at, S_KIND_NONE, 0);
        return;
    }
    if (!host) {
        s_refuse (self, at, s_rule (self, at),
                  "only the host community '%s' (%s) gives feedback and evaluations",
                  checkin->community, checkin->community_name);
        return;
    }
    ld_assessment_t *grown =
        realloc ((void *) checkin->assessments, (checkin->assessment_count + 1) * sizeof *grown);
    if (!grown) {
        self->failure = LD_ERR_NOMEM;
        return;
    }
    checkin->assessments = grown;
    ld_assessment_t *card = &grown[checkin->assessment_count++];
    memset (card, 0, sizeof *card);
    bool feedback = strcmp (type, "report.feedback") == 0;
    card->id = id;
    card->kind = feedback ? "feedback" : "evaluation";
    card->year = feedback ? 0 : s_json_u32 (payload, "year");
    card->grade = s_strdup (self, feedback ? "" : s_json_text (payload, "grade"));
    card->rating = feedback ? s_json_u32 (payload, "rating") : 0;
    card->text = s_strdup (self, s_json_text (payload, "text"));
    card->ms = ms;
    s_apply (self, at, S_KIND_NONE, 0);
}

//  ---- co-building ----

static void
s_do_propose (ld_ledger_t *self, uint32_t at)
{
    const json_t *payload = s_payload (self, at);
    ld_agreement_t *agreement = s_vec_push (&self->agreements, sizeof *agreement);
    if (!agreement) {
        self->failure = LD_ERR_NOMEM;
        return;
    }
    const ld_event_t *event = self->events[at].event;
    uint8_t unit[LD_KEY_BYTES] = {0};
    s_json_bytes32 (payload, "unit", unit);
    agreement->id = s_id_text (self, ld_event_id (event));
    agreement->community = s_key_text (self, ld_event_author (event));
    agreement->community_name = s_name (self, ld_event_author (event));
    agreement->path = s_strdup (self, s_topic_path (self, at));
    agreement->unit = s_key_text (self, unit);
    agreement->unit_name = s_name (self, unit);
    agreement->title = s_strdup (self, s_json_text (payload, "title"));
    agreement->until = s_strdup (self, s_json_text (payload, "until"));
    agreement->status = "proposed";
    agreement->ms = self->events[at].ms;
    agreement->signed_ms = LD_LEDGER_UNCONFIRMED;
    s_apply (self, at, S_KIND_AGREEMENT, self->agreements.count - 1);
}

static void
s_do_sign (ld_ledger_t *self, uint32_t at)
{
    size_t index;
    if (!s_target (self, at, S_KIND_AGREEMENT, "agreement.propose", &index))
        return;
    ld_agreement_t *agreement = S_ITEM (self->agreements, ld_agreement_t, index);
    char author_key[LD_KEY_TEXT_BYTES];
    ld_key_to_text (s_author (self, at), author_key);
    if (strcmp (author_key, agreement->unit) != 0) {
        s_refuse (self, at, s_rule (self, at), "only the unit the agreement names (%s) signs it",
                  agreement->unit_name);
        return;
    }
    if (strcmp (agreement->status, "proposed") != 0) {
        s_refuse (self, at, S_RULE_STATE, "the agreement is %s", agreement->status);
        return;
    }
    agreement->status = "in-force";
    agreement->signed_ms = self->events[at].ms;
    s_apply (self, at, S_KIND_NONE, 0);
}

//  ---- wishes ----

static void
s_do_wish (ld_ledger_t *self, uint32_t at)
{
    const json_t *payload = s_payload (self, at);
    ld_wish_t *wish = s_vec_push (&self->wishes, sizeof *wish);
    if (!wish) {
        self->failure = LD_ERR_NOMEM;
        return;
    }
    const ld_event_t *event = self->events[at].event;
    wish->id = s_id_text (self, ld_event_id (event));
    wish->poster = s_key_text (self, ld_event_author (event));
    wish->poster_name = s_name (self, ld_event_author (event));
    wish->path = s_strdup (self, s_topic_path (self, at));
    wish->text = s_strdup (self, s_json_text (payload, "text"));
    wish->category = s_strdup (self, s_json_text (payload, "category"));
    wish->people = s_json_u32 (payload, "people");
    wish->status = "posted";
    wish->claimant = "";
    wish->claimant_name = "";
    wish->ms = self->events[at].ms;
    wish->fulfilled_ms = LD_LEDGER_UNCONFIRMED;
    s_apply (self, at, S_KIND_WISH, self->wishes.count - 1);
}

//  True if claim a comes before claim b: earlier ledger time (unconfirmed
//  last), then smaller id.
static bool
s_claim_before (const ld_ledger_t *self, uint32_t a, uint32_t b)
{
    int64_t x = self->events[a].ms, y = self->events[b].ms;
    if (x != y) {
        if (x == LD_LEDGER_UNCONFIRMED || y == LD_LEDGER_UNCONFIRMED)
            return y == LD_LEDGER_UNCONFIRMED;
        return x < y;
    }
    return memcmp (ld_event_id (self->events[a].event), ld_event_id (self->events[b].event),
                   LD_ID_BYTES)
           < 0;
}

//  The winning claim of the wish at event index wish, or S_NONE.
static uint32_t
s_first_claim (const ld_ledger_t *self, uint32_t wish)
{
    const s_claim_t *claims = self->claims.items;
    for (size_t i = 0; i < self->claims.count; i++)
        if (claims[i].wish == wish)
            return claims[i].claim;
    return S_NONE;
}

//  first-claim-only, decided from the set: for every wish, its earliest
//  claim among those that passed the feed level.
static void
s_decide_claims (ld_ledger_t *self)
{
    for (uint32_t i = 0; i < self->event_count; i++) {
        const s_event_t *event = &self->events[i];
        if (event->fate != S_UNDECIDED || event->parent == S_NONE
            || strcmp (ld_event_type (event->event), "wish.claim") != 0)
            continue;
        s_claim_t *claims = self->claims.items;
        size_t k = 0;
        while (k < self->claims.count && claims[k].wish != event->parent)
            k++;
        if (k == self->claims.count) {
            s_claim_t *claim = s_vec_push (&self->claims, sizeof *claim);
            if (!claim) {
                self->failure = LD_ERR_NOMEM;
                return;
            }
            claim->wish = event->parent;
            claim->claim = i;
        }
        else if (s_claim_before (self, i, claims[k].claim))
            claims[k].claim = i;
    }
}

static void
s_do_wish_action (ld_ledger_t *self, uint32_t at)
{
    size_t index;
    if (!s_target (self, at, S_KIND_WISH, "wish.post", &index))
        return;
    ld_wish_t *wish = S_ITEM (self->wishes, ld_wish_t, index);
    const char *type = ld_event_type (self->events[at].event);
    if (strcmp (wish->status, "withdrawn") == 0) {
        s_refuse (self, at, S_RULE_STATE, "the wish was withdrawn");
        return;
    }
    uint32_t winner = s_first_claim (self, self->events[at].parent);
    if (strcmp (type, "wish.claim") == 0) {
        if (winner != at) {
            char id[LD_ID_TEXT_BYTES];
            ld_id_to_text (ld_event_id (self->events[winner].event), id);
            s_refuse (self, at, s_rule (self, at), "the wish was claimed first by %s (%s)",
                      s_name (self, s_author (self, winner)), id);
            return;
        }
        wish->status = "claimed";
        wish->claimant = s_key_text (self, s_author (self, at));
        wish->claimant_name = s_name (self, s_author (self, at));
        s_apply (self, at, S_KIND_NONE, 0);
        return;
    }
    if (winner == S_NONE
        || memcmp (s_author (self, winner), s_author (self, at), LD_KEY_BYTES) != 0) {
        s_refuse (self, at, s_rule (self, at), "only the claimant (%s) fulfils the wish",
                  winner == S_NONE ? "nobody yet" : s_name (self, s_author (self, winner)));
        return;
    }
    if (strcmp (wish->status, "claimed") != 0) {
        s_refuse (self, at, S_RULE_STATE, "the wish is %s", wish->status);
        return;
    }
    wish->status = "fulfilled";
    wish->fulfilled_ms = self->events[at].ms;
    s_apply (self, at, S_KIND_NONE, 0);
}

//  ---- incidents ----

static void
s_do_incident (ld_ledger_t *self, uint32_t at)
{
    const json_t *payload = s_payload (self, at);
    ld_incident_t *incident = s_vec_push (&self->incidents, sizeof *incident);
    if (!incident) {
        self->failure = LD_ERR_NOMEM;
        return;
    }
    const ld_event_t *event = self->events[at].event;
    incident->id = s_id_text (self, ld_event_id (event));
    incident->reporter = s_key_text (self, ld_event_author (event));
    incident->reporter_name = s_name (self, ld_event_author (event));
    incident->path = s_strdup (self, s_topic_path (self, at));
    incident->text = s_strdup (self, s_json_text (payload, "text"));
    incident->category = s_strdup (self, s_json_text (payload, "category"));
    incident->place = s_strdup (self, s_json_text (payload, "place"));
    incident->status = "reported";
    incident->assignee = "";
    incident->assignee_name = "";
    incident->ms = self->events[at].ms;
    incident->resolved_ms = LD_LEDGER_UNCONFIRMED;
    s_apply (self, at, S_KIND_INCIDENT, self->incidents.count - 1);
}

static void
s_do_incident_action (ld_ledger_t *self, uint32_t at)
{
    size_t index;
    if (!s_target (self, at, S_KIND_INCIDENT, "incident.report", &index))
        return;
    ld_incident_t *incident = S_ITEM (self->incidents, ld_incident_t, index);
    const char *type = ld_event_type (self->events[at].event);
    const uint8_t *author = s_author (self, at);
    const json_t *payload = s_payload (self, at);
    if (strcmp (incident->status, "withdrawn") == 0 || strcmp (incident->status, "resolved") == 0) {
        s_refuse (self, at, S_RULE_STATE, "the incident is %s", incident->status);
        return;
    }
    if (strcmp (type, "incident.resolve") == 0) {
        char author_key[LD_KEY_TEXT_BYTES];
        ld_key_to_text (author, author_key);
        if (strcmp (author_key, incident->assignee) != 0) {
            s_refuse (self, at, s_rule (self, at), "only the assignee (%s) resolves the incident",
                      incident->assignee[0] ? incident->assignee_name : "none assigned yet");
            return;
        }
        incident->status = "resolved";
        incident->resolved_ms = self->events[at].ms;
        s_apply (self, at, S_KIND_NONE, 0);
        return;
    }
    if (!s_holds (self, author, LD_LEVEL_COUNT, incident->path, true)) {
        s_refuse (self, at, s_rule (self, at), "the author's org path does not enclose '%s'",
                  incident->path);
        return;
    }
    if (strcmp (type, "incident.collect") == 0)
        incident->status = "collected";
    else if (strcmp (type, "incident.whistle") == 0)
        incident->status = "whistled";
    else {
        uint8_t unit[LD_KEY_BYTES];
        if (!s_bytes32_of (json_array_get (json_object_get (payload, "units"), 0), unit)) {
            s_refuse (self, at, S_RULE_REFERENCE, "an assignment names no assignee");
            return;
        }
        incident->status = "assigned";
        incident->tier = s_json_u32 (payload, "tier");
        incident->assignee = s_key_text (self, unit);
        incident->assignee_name = s_name (self, unit);
    }
    s_apply (self, at, S_KIND_NONE, 0);
}

//  ---- corrections ----

//  The slot of an amendable field of a record, and the record's history.
typedef struct {
    const char **slot;
    const ld_ledger_change_t **changes;
    size_t *count;
    ld_task_t *task; //  a task's deadline: re-read after the change
} s_field_t;

static bool
s_field (ld_ledger_t *self, s_kind_t kind, size_t index, const char *field, s_field_t *out)
{
    memset (out, 0, sizeof *out);
    if (kind == S_KIND_RESOLUTION) {
        ld_resolution_t *r = S_ITEM (self->resolutions, ld_resolution_t, index);
        unsigned task_index;
        char name[S_FIELD_MAX];
        int used = 0;
        if (sscanf (field, "tasks.%u.%63[a-z]%n", &task_index, name, &used) == 2
            && field[used] == '\0' && task_index < r->task_count) {
            ld_task_t *task = &r->tasks[task_index];
            out->changes = &task->changes;
            out->count = &task->change_count;
            if (strcmp (name, "deadline") == 0) {
                out->slot = &task->deadline;
                out->task = task;
            }
            else if (strcmp (name, "deliverable") == 0)
                out->slot = &task->deliverable;
            return out->slot != NULL;
        }
        out->changes = &r->changes;
        out->count = &r->change_count;
        out->slot = strcmp (field, "text") == 0       ? &r->text
                    : strcmp (field, "category") == 0 ? &r->category
                                                      : NULL;
    }
    else if (kind == S_KIND_AGREEMENT) {
        ld_agreement_t *a = S_ITEM (self->agreements, ld_agreement_t, index);
        out->changes = &a->changes;
        out->count = &a->change_count;
        out->slot = strcmp (field, "title") == 0   ? &a->title
                    : strcmp (field, "until") == 0 ? &a->until
                                                   : NULL;
    }
    else if (kind == S_KIND_WISH) {
        ld_wish_t *w = S_ITEM (self->wishes, ld_wish_t, index);
        out->changes = &w->changes;
        out->count = &w->change_count;
        out->slot = strcmp (field, "text") == 0       ? &w->text
                    : strcmp (field, "category") == 0 ? &w->category
                                                      : NULL;
    }
    else if (kind == S_KIND_INCIDENT) {
        ld_incident_t *n = S_ITEM (self->incidents, ld_incident_t, index);
        out->changes = &n->changes;
        out->count = &n->change_count;
        out->slot = strcmp (field, "text") == 0       ? &n->text
                    : strcmp (field, "category") == 0 ? &n->category
                    : strcmp (field, "place") == 0    ? &n->place
                                                      : NULL;
    }
    return out->slot != NULL;
}

//  The status slot of a record, for withdraw; NULL if it cannot be withdrawn.
static const char **
s_status_slot (ld_ledger_t *self, s_kind_t kind, size_t index)
{
    switch (kind) {
        case S_KIND_MEETING:
            return &S_ITEM (self->meetings, ld_meeting_t, index)->status;
        case S_KIND_RESOLUTION:
            return &S_ITEM (self->resolutions, ld_resolution_t, index)->status;
        case S_KIND_CHECKIN:
            return &S_ITEM (self->checkins, ld_checkin_t, index)->status;
        case S_KIND_AGREEMENT:
            return &S_ITEM (self->agreements, ld_agreement_t, index)->status;
        case S_KIND_WISH:
            return &S_ITEM (self->wishes, ld_wish_t, index)->status;
        case S_KIND_INCIDENT:
            return &S_ITEM (self->incidents, ld_incident_t, index)->status;
        default:
            return NULL;
    }
}

static void
s_do_correct (ld_ledger_t *self, uint32_t at)
{
    uint32_t parent = self->events[at].parent;
    const s_event_t *original = &self->events[parent];
    const char *type = ld_event_type (self->events[at].event);
    if (memcmp (s_author (self, at), s_author (self, parent), LD_KEY_BYTES) != 0) {
        s_refuse (self, at, s_rule (self, at), "only the original's author (%s) may %s it",
                  s_name (self, s_author (self, parent)), type);
        return;
    }
    const char **status =
        original->fate == S_APPLIED ? s_status_slot (self, original->kind, original->index) : NULL;
    if (!status) {
        s_refuse (self, at, S_RULE_REFERENCE, "%s %s cannot be corrected",
                  original->fate == S_REFUSED ? "a refused" : "a", ld_event_type (original->event));
        return;
    }
    if (strcmp (*status, "withdrawn") == 0) {
        s_refuse (self, at, S_RULE_STATE, "the original was withdrawn");
        return;
    }
    if (strcmp (type, "withdraw") == 0) {
        *status = "withdrawn";
        s_apply (self, at, S_KIND_NONE, 0);
        return;
    }
    const json_t *payload = s_payload (self, at);
    const char *field = s_json_text (payload, "field");
    s_field_t slot;
    if (!s_field (self, original->kind, original->index, field, &slot)) {
        s_refuse (self, at, S_RULE_REFERENCE, "a %s has no amendable field '%s'",
                  ld_event_type (original->event), field);
        return;
    }
    const char *name = strrchr (field, '.') ? strrchr (field, '.') + 1 : field;
    if (!s_change (self, at, slot.changes, slot.count, name, slot.slot,
                   s_json_text (payload, "value")))
        return;
    if (slot.task)
        s_task_deadline (slot.task);
    s_apply (self, at, S_KIND_NONE, 0);
}

//  ---- the types ----

static const s_type_t s_types[] = {
    {"meeting.convene", NULL, s_do_meeting},
    {"resolution.adopt", "meeting", s_do_adopt},
    {"task.accept", "task.resolution", s_do_task},
    {"task.progress", "task.resolution", s_do_task},
    {"task.complete", "task.resolution", s_do_task},
    {"task.verify", "task.resolution", s_do_task},
    {"task.reopen", "task.resolution", s_do_task},
    {"task.urge", "task.resolution", s_do_task},
    {"resolution.close", "resolution", s_do_close},
    {"report.checkin", NULL, s_do_checkin},
    {"report.service", "checkin", s_do_report},
    {"report.feedback", "checkin", s_do_report},
    {"report.evaluate", "checkin", s_do_report},
    {"agreement.propose", NULL, s_do_propose},
    {"agreement.sign", "agreement", s_do_sign},
    {"wish.post", NULL, s_do_wish},
    {"wish.claim", "wish", s_do_wish_action},
    {"wish.fulfil", "wish", s_do_wish_action},
    {"incident.report", NULL, s_do_incident},
    {"incident.collect", "incident", s_do_incident_action},
    {"incident.whistle", "incident", s_do_incident_action},
    {"incident.assign", "incident", s_do_incident_action},
    {"incident.resolve", "incident", s_do_incident_action},
    {"amend", "original", s_do_correct},
    {"withdraw", "original", s_do_correct},
};

#define S_TYPE_COUNT (sizeof s_types / sizeof s_types[0])
#define S_RECEIPT    "receipt"

static const s_type_t *
s_type_find (const char *type)
{
    for (size_t i = 0; i < S_TYPE_COUNT; i++)
        if (strcmp (s_types[i].type, type) == 0)
            return &s_types[i];
    return NULL;
}

//  ---- lifecycle ----

ld_ledger_t *
ld_ledger_new (void)
{
    if (ld_crypto_init () != 0)
        return NULL;
    ld_ledger_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->trust = ld_trust_new ();
    if (!self->trust) {
        free (self);
        return NULL;
    }
    return self;
}

//  Frees everything s_settle derived.
static void
s_reset (ld_ledger_t *self)
{
    ld_resolution_t *resolutions = self->resolutions.items;
    for (size_t i = 0; i < self->resolutions.count; i++) {
        free ((void *) resolutions[i].changes);
        for (size_t t = 0; t < resolutions[i].task_count; t++)
            free ((void *) resolutions[i].tasks[t].changes);
    }
    ld_checkin_t *checkins = self->checkins.items;
    for (size_t i = 0; i < self->checkins.count; i++) {
        free ((void *) checkins[i].services);
        free ((void *) checkins[i].assessments);
    }
    ld_agreement_t *agreements = self->agreements.items;
    for (size_t i = 0; i < self->agreements.count; i++)
        free ((void *) agreements[i].changes);
    ld_wish_t *wishes = self->wishes.items;
    for (size_t i = 0; i < self->wishes.count; i++)
        free ((void *) wishes[i].changes);
    ld_incident_t *incidents = self->incidents.items;
    for (size_t i = 0; i < self->incidents.count; i++)
        free ((void *) incidents[i].changes);
    s_vec_free (&self->ranges);
    s_vec_free (&self->meetings);
    s_vec_free (&self->resolutions);
    s_vec_free (&self->checkins);
    s_vec_free (&self->agreements);
    s_vec_free (&self->wishes);
    s_vec_free (&self->incidents);
    s_vec_free (&self->refusals);
    s_vec_free (&self->pending);
    s_vec_free (&self->claims);
    while (self->arena) {
        s_block_t *next = self->arena->next;
        free (self->arena);
        self->arena = next;
    }
    self->orgs = NULL;
    self->org_count = 0;
    self->failure = LD_OK;
}

void
ld_ledger_destroy (ld_ledger_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_ledger_t *self = *self_p;
    s_reset (self);
    for (size_t i = 0; i < self->event_count; i++) {
        ld_event_destroy (&self->events[i].event);
        json_decref (self->events[i].payload);
        free (self->events[i].error);
    }
    free (self->events);
    ld_trust_destroy (&self->trust);
    free (self);
    *self_p = NULL;
}

ld_status_t
ld_ledger_add_root (ld_ledger_t *self, const uint8_t key[LD_KEY_BYTES], const char *path,
                    const char *name)
{
    ld_status_t rc = ld_trust_add_root (self->trust, key, path, name);
    if (rc == LD_OK)
        self->dirty = true;
    return rc;
}

size_t
ld_ledger_size (const ld_ledger_t *self)
{
    return self->event_count;
}

//  Decodes the payload of a ledger type or a receipt into entry.
static ld_status_t
s_decode (s_event_t *entry)
{
    const ld_event_t *event = entry->event;
    const char *type = ld_event_type (event);
    entry->type = s_type_find (type);
    if (!entry->type && strcmp (type, S_RECEIPT) != 0)
        return LD_OK;
    size_t size;
    const uint8_t *data = ld_event_payload (event, &size);
    ProtobufCMessage *message = NULL;
    char err[S_ERR_MAX] = "";
    if (ld_payload_unpack (type, data, size, &message, err, sizeof err) != LD_OK) {
        entry->error = strdup (err[0] ? err : "payload does not decode");
        return entry->error ? LD_OK : LD_ERR_NOMEM;
    }
    entry->payload = ld_pbjson_from_message (message);
    protobuf_c_message_free_unpacked (message, NULL);
    if (!entry->payload)
        return LD_ERR_NOMEM;
    if (entry->type && entry->type->ref) {
        entry->has_ref = s_json_bytes32 (entry->payload, entry->type->ref, entry->ref);
        if (!entry->has_ref) {
            json_decref (entry->payload);
            entry->payload = NULL;
            entry->error = strdup ("the referenced id is not 32 bytes");
            return entry->error ? LD_OK : LD_ERR_NOMEM;
        }
    }
    return LD_OK;
}

ld_status_t
ld_ledger_add (ld_ledger_t *self, const ld_event_t *event)
{
    size_t at = 0;
    if (s_find (self, ld_event_id (event), &at) != S_NONE)
        return LD_OK;
    if (self->event_count == self->event_cap) {
        size_t cap = self->event_cap ? self->event_cap * 2 : 64;
        s_event_t *events = realloc (self->events, cap * sizeof *events);
        if (!events)
            return LD_ERR_NOMEM;
        self->events = events;
        self->event_cap = cap;
    }
    s_event_t entry = {0};
    entry.event = ld_event_dup (event);
    if (!entry.event)
        return LD_ERR_NOMEM;
    ld_status_t rc = s_decode (&entry);
    if (rc == LD_OK
        && strncmp (ld_event_type (event), LD_TYPE_TRUST, strlen (LD_TYPE_TRUST)) == 0) {
        //  A fork or an undecodable trust payload is ld_trust's to judge;
        //  the event is kept here either way.
        rc = ld_trust_fold (self->trust, event, NULL, 0);
        if (rc != LD_ERR_NOMEM)
            rc = LD_OK;
    }
    if (rc != LD_OK) {
        ld_event_destroy (&entry.event);
        json_decref (entry.payload);
        free (entry.error);
        return rc;
    }
    memmove (&self->events[at + 1], &self->events[at], (self->event_count - at) * sizeof entry);
    self->events[at] = entry;
    self->event_count++;
    self->dirty = true;
    return LD_OK;
}

//  ---- settling ----

//  Ledger times from the receipts of certified brokers.
static void
s_load_receipts (ld_ledger_t *self)
{
    for (uint32_t i = 0; i < self->event_count; i++) {
        const s_event_t *entry = &self->events[i];
        if (!entry->payload || entry->type)
            continue; //  not a decoded receipt
        if (ld_trust_level (self->trust, ld_event_author (entry->event)) != LD_LEVEL_BROKER
            || ld_trust_check (self->trust, entry->event, NULL, NULL, 0) != LD_OK)
            continue;
        int64_t stored_ms = s_json_i64 (entry->payload, "storedMs");
        const json_t *ranges = json_object_get (entry->payload, "ranges");
        for (size_t r = 0; r < json_array_size (ranges); r++) {
            const json_t *item = json_array_get (ranges, r);
            s_range_t *range = s_vec_push (&self->ranges, sizeof *range);
            if (!range) {
                self->failure = LD_ERR_NOMEM;
                return;
            }
            if (!s_json_bytes32 (item, "author", range->author)) {
                self->ranges.count--;
                continue;
            }
            range->first_seq = (uint64_t) s_json_i64 (item, "firstSeq");
            range->last_seq = (uint64_t) s_json_i64 (item, "lastSeq");
            range->stored_ms = stored_ms;
        }
    }
    const s_range_t *ranges = self->ranges.items;
    for (uint32_t i = 0; i < self->event_count; i++) {
        s_event_t *entry = &self->events[i];
        entry->ms = LD_LEDGER_UNCONFIRMED;
        const uint8_t *author = ld_event_author (entry->event);
        uint64_t seq = ld_event_seq (entry->event);
        for (size_t r = 0; r < self->ranges.count; r++)
            if (seq >= ranges[r].first_seq && seq <= ranges[r].last_seq
                && memcmp (ranges[r].author, author, LD_KEY_BYTES) == 0
                && (entry->ms == LD_LEDGER_UNCONFIRMED || ranges[r].stored_ms < entry->ms))
                entry->ms = ranges[r].stored_ms;
    }
}

//  The canonical order: ledger time (unconfirmed last), author key, seq.
static bool
s_before (const ld_ledger_t *self, uint32_t a, uint32_t b)
{
    const s_event_t *x = &self->events[a], *y = &self->events[b];
    if (x->ms != y->ms) {
        if (x->ms == LD_LEDGER_UNCONFIRMED || y->ms == LD_LEDGER_UNCONFIRMED)
            return y->ms == LD_LEDGER_UNCONFIRMED;
        return x->ms < y->ms;
    }
    int order = memcmp (ld_event_author (x->event), ld_event_author (y->event), LD_KEY_BYTES);
    if (order)
        return order < 0;
    if (ld_event_seq (x->event) != ld_event_seq (y->event))
        return ld_event_seq (x->event) < ld_event_seq (y->event);
    return memcmp (ld_event_id (x->event), ld_event_id (y->event), LD_ID_BYTES) < 0;
}

//  A binary min-heap of event indices in canonical order.
typedef struct {
    uint32_t *items;
    size_t count;
} s_heap_t;

static void
s_heap_push (const ld_ledger_t *self, s_heap_t *heap, uint32_t value)
{
    size_t i = heap->count++;
    heap->items[i] = value;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!s_before (self, heap->items[i], heap->items[up]))
            break;
        uint32_t swap = heap->items[i];
        heap->items[i] = heap->items[up];
        heap->items[up] = swap;
        i = up;
    }
}

static uint32_t
s_heap_pop (const ld_ledger_t *self, s_heap_t *heap)
{
    uint32_t top = heap->items[0];
    heap->items[0] = heap->items[--heap->count];
    size_t i = 0;
    for (;;) {
        size_t least = i, left = 2 * i + 1, right = left + 1;
        if (left < heap->count && s_before (self, heap->items[left], heap->items[least]))
            least = left;
        if (right < heap->count && s_before (self, heap->items[right], heap->items[least]))
            least = right;
        if (least == i)
            break;
        uint32_t swap = heap->items[i];
        heap->items[i] = heap->items[least];
        heap->items[least] = swap;
        i = least;
    }
    return top;
}

//  True if the event at settles its children's wait: anything but a
//  ledger event that is still waiting.
static bool
s_settled (const s_event_t *entry)
{
    return entry->fate != S_UNDECIDED && entry->fate != S_PENDING;
}

//  Steps 3 and 4 of the design comment: feed-level checks, references,
//  and the processing in canonical order.
static void
s_process (ld_ledger_t *self)
{
    for (uint32_t i = 0; i < self->event_count; i++) {
        s_event_t *entry = &self->events[i];
        entry->fate = entry->type ? S_UNDECIDED : S_IGNORED;
        entry->parent = entry->child = entry->sibling = S_NONE;
        entry->kind = S_KIND_NONE;
        entry->index = 0;
    }
    for (uint32_t i = 0; i < self->event_count; i++) {
        s_event_t *entry = &self->events[i];
        if (entry->fate != S_UNDECIDED)
            continue;
        if (!entry->payload) {
            s_refuse (self, i, S_RULE_PAYLOAD, "%s", entry->error ? entry->error : "no payload");
            continue;
        }
        char err[S_ERR_MAX] = "";
        ld_status_t rc = ld_trust_check (self->trust, entry->event, NULL, err, sizeof err);
        if (rc == LD_ERR_AWAITING_CERT) {
            entry->fate = S_PENDING;
            s_record (self, &self->pending, i, S_RULE_PENDING, err);
        }
        else if (rc != LD_OK)
            s_refuse (self, i, ld_status_name (rc), "%s", err);
        else if (entry->has_ref) {
            uint32_t parent = s_find (self, entry->ref, NULL);
            entry->parent = parent;
            if (parent != S_NONE) {
                entry->sibling = self->events[parent].child;
                self->events[parent].child = i;
            }
        }
    }
    s_decide_claims (self);
    s_heap_t heap = {malloc ((self->event_count + 1) * sizeof (uint32_t)), 0};
    if (!heap.items) {
        self->failure = LD_ERR_NOMEM;
        return;
    }
    for (uint32_t i = 0; i < self->event_count; i++) {
        const s_event_t *entry = &self->events[i];
        if (entry->fate == S_UNDECIDED
            && (!entry->has_ref
                || (entry->parent != S_NONE && s_settled (&self->events[entry->parent]))))
            s_heap_push (self, &heap, i);
    }
    while (heap.count && self->failure == LD_OK) {
        uint32_t at = s_heap_pop (self, &heap);
        self->events[at].type->handler (self, at);
        if (!s_settled (&self->events[at]))
            continue;
        for (uint32_t child = self->events[at].child; child != S_NONE;
             child = self->events[child].sibling)
            if (self->events[child].fate == S_UNDECIDED)
                s_heap_push (self, &heap, child);
    }
    free (heap.items);
    //  What is left waits for an event that has not arrived, or waits itself.
    for (uint32_t i = 0; i < self->event_count; i++) {
        s_event_t *entry = &self->events[i];
        if (entry->fate != S_UNDECIDED)
            continue;
        char id[LD_ID_TEXT_BYTES];
        ld_id_to_text (entry->ref, id);
        entry->fate = S_PENDING;
        s_record (self, &self->pending, i, S_RULE_PENDING,
                  entry->parent == S_NONE
                      ? s_printf (self, "waiting for %s, which has not arrived", id)
                      : s_printf (self, "waiting for %s, which waits itself", id));
    }
}

static ld_status_t
s_settle (ld_ledger_t *self)
{
    if (!self->dirty && self->failure == LD_OK)
        return LD_OK;
    s_reset (self);
    ld_status_t rc = s_load_orgs (self);
    if (rc == LD_OK) {
        s_load_receipts (self);
        if (self->failure == LD_OK)
            s_process (self);
        rc = self->failure;
    }
    if (rc != LD_OK) {
        s_reset (self);
        self->failure = rc; //  settle again on the next query
        return rc;
    }
    self->dirty = false;
    return LD_OK;
}

//  ---- queries ----

//  Time-dependent fields at at_ms.
static void
s_derive (ld_ledger_t *self, int64_t at_ms)
{
    ld_resolution_t *resolutions = self->resolutions.items;
    for (size_t i = 0; i < self->resolutions.count; i++)
        for (size_t t = 0; t < resolutions[i].task_count; t++) {
            ld_task_t *task = &resolutions[i].tasks[t];
            bool done = s_completed (task) && task->completed_ms != LD_LEDGER_UNCONFIRMED
                        && task->completed_ms <= at_ms;
            task->overdue =
                strcmp (resolutions[i].status, "open") == 0 && !done && s_past (task, at_ms);
            if (!s_completed (task))
                task->timing = "";
            else if (task->completed_ms == LD_LEDGER_UNCONFIRMED)
                task->timing = "unconfirmed";
            else
                task->timing = s_past (task, task->completed_ms) ? "late" : "on-time";
        }
}

//  Pointers to the records of vec whose path (a const char * at
//  path_offset) starts with prefix.
static ld_status_t
s_collect (const s_vec_t *vec, size_t item_size, size_t path_offset, const char *prefix,
           const void ***list_p, size_t *count_p)
{
    *list_p = NULL;
    *count_p = 0;
    if (vec->count == 0)
        return LD_OK;
    const void **list = malloc (vec->count * sizeof *list);
    if (!list)
        return LD_ERR_NOMEM;
    size_t count = 0;
    size_t prefix_len = prefix ? strlen (prefix) : 0;
    for (size_t i = 0; i < vec->count; i++) {
        const char *item = (const char *) vec->items + i * item_size;
        const char *path = *(const char *const *) (item + path_offset);
        if (prefix_len == 0 || strncmp (path, prefix, prefix_len) == 0)
            list[count++] = item;
    }
    if (count == 0) {
        free (list);
        return LD_OK;
    }
    *list_p = list;
    *count_p = count;
    return LD_OK;
}

#define S_COLLECT(self, vec, type, field, prefix, list_p, count_p)                                 \
    s_collect (&(self)->vec, sizeof (type), offsetof (type, field), prefix,                        \
               (const void ***) (list_p), count_p)

ld_status_t
ld_ledger_meetings (ld_ledger_t *self, const char *path_prefix, const ld_meeting_t ***list_p,
                    size_t *count_p)
{
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    return S_COLLECT (self, meetings, ld_meeting_t, path, path_prefix, list_p, count_p);
}

ld_status_t
ld_ledger_resolutions (ld_ledger_t *self, int64_t at_ms, const char *path_prefix,
                       const ld_resolution_t ***list_p, size_t *count_p)
{
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    s_derive (self, at_ms);
    return S_COLLECT (self, resolutions, ld_resolution_t, path, path_prefix, list_p, count_p);
}

ld_status_t
ld_ledger_register (ld_ledger_t *self, const char *path_prefix, const ld_checkin_t ***list_p,
                    size_t *count_p)
{
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    return S_COLLECT (self, checkins, ld_checkin_t, community, path_prefix, list_p, count_p);
}

ld_status_t
ld_ledger_agreements (ld_ledger_t *self, const char *path_prefix, const ld_agreement_t ***list_p,
                      size_t *count_p)
{
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    return S_COLLECT (self, agreements, ld_agreement_t, path, path_prefix, list_p, count_p);
}

ld_status_t
ld_ledger_wishes (ld_ledger_t *self, const char *path_prefix, const ld_wish_t ***list_p,
                  size_t *count_p)
{
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    return S_COLLECT (self, wishes, ld_wish_t, path, path_prefix, list_p, count_p);
}

ld_status_t
ld_ledger_incidents (ld_ledger_t *self, const char *path_prefix, const ld_incident_t ***list_p,
                     size_t *count_p)
{
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    return S_COLLECT (self, incidents, ld_incident_t, path, path_prefix, list_p, count_p);
}

//  Refusals and pending entries whose event topic (after its kind) starts
//  with prefix.
static ld_status_t
s_collect_events (ld_ledger_t *self, const s_vec_t *vec, const char *prefix,
                  const ld_refusal_t ***list_p, size_t *count_p)
{
    *list_p = NULL;
    *count_p = 0;
    if (vec->count == 0)
        return LD_OK;
    const ld_refusal_t **list = malloc (vec->count * sizeof *list);
    if (!list)
        return LD_ERR_NOMEM;
    size_t count = 0, prefix_len = prefix ? strlen (prefix) : 0;
    const ld_refusal_t *items = vec->items;
    for (size_t i = 0; i < vec->count; i++) {
        uint8_t id[LD_ID_BYTES];
        uint32_t at = ld_id_from_text (items[i].id, id) == LD_OK ? s_find (self, id, NULL) : S_NONE;
        if (prefix_len == 0
            || (at != S_NONE && strncmp (s_topic_path (self, at), prefix, prefix_len) == 0))
            list[count++] = &items[i];
    }
    if (count == 0) {
        free (list);
        return LD_OK;
    }
    *list_p = list;
    *count_p = count;
    return LD_OK;
}

ld_status_t
ld_ledger_refusals (ld_ledger_t *self, const char *path_prefix, const ld_refusal_t ***list_p,
                    size_t *count_p)
{
    *list_p = NULL;
    *count_p = 0;
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    return s_collect_events (self, &self->refusals, path_prefix, list_p, count_p);
}

ld_status_t
ld_ledger_pending (ld_ledger_t *self, const char *path_prefix, const ld_refusal_t ***list_p,
                   size_t *count_p)
{
    *list_p = NULL;
    *count_p = 0;
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    return s_collect_events (self, &self->pending, path_prefix, list_p, count_p);
}

static int
s_text_compare (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

//  The number of distinct strings among count (sorted in place).
static size_t
s_distinct (const char **texts, size_t count)
{
    if (count == 0)
        return 0;
    qsort (texts, count, sizeof *texts, s_text_compare);
    size_t distinct = 1;
    for (size_t i = 1; i < count; i++)
        distinct += strcmp (texts[i], texts[i - 1]) != 0;
    return distinct;
}

//  Distinct keys holding level.
static size_t
s_level_count (const ld_ledger_t *self, ld_level_t level, const char *prefix)
{
    size_t count = 0;
    for (size_t i = 0; i < self->org_count; i++)
        if (self->orgs[i].level == level
            && strncmp (self->orgs[i].path, prefix, strlen (prefix)) == 0
            && (i == 0 || memcmp (self->orgs[i].key, self->orgs[i - 1].key, LD_KEY_BYTES) != 0
                || self->orgs[i - 1].level != level))
            count++;
    return count;
}

#define S_ROLE_GRID_WORKER      "网格员"
#define S_ROLE_BUILDING_CAPTAIN "楼栋长"

//  True if the comma-joined offers hold role exactly.
static bool
s_offers (const char *offers, const char *role)
{
    size_t len = strlen (role);
    for (const char *at = strstr (offers, role); at; at = strstr (at + 1, role))
        if ((at == offers || at[-1] == ',') && (at[len] == ',' || at[len] == '\0'))
            return true;
    return false;
}

//  True if path lies under prefix ("" : everything).
static bool
s_under (const char *path, const char *prefix)
{
    return strncmp (path, prefix, strlen (prefix)) == 0;
}

ld_status_t
ld_ledger_stats (ld_ledger_t *self, int64_t at_ms, ld_ledger_stats_t *stats)
{
    return ld_ledger_stats_under (self, at_ms, "", stats);
}

ld_status_t
ld_ledger_stats_under (ld_ledger_t *self, int64_t at_ms, const char *prefix,
                       ld_ledger_stats_t *stats)
{
    memset (stats, 0, sizeof *stats);
    if (!prefix)
        prefix = "";
    ld_status_t rc = s_settle (self);
    if (rc != LD_OK)
        return rc;
    s_derive (self, at_ms);
    const ld_checkin_t *checkins = self->checkins.items;
    const ld_agreement_t *agreements = self->agreements.items;
    size_t services = 0;
    for (size_t i = 0; i < self->checkins.count; i++)
        services += checkins[i].service_count;
    const char **units =
        malloc ((self->checkins.count + self->agreements.count + 1) * sizeof *units);
    const char **teams = malloc ((services + 1) * sizeof *teams);
    if (!units || !teams) {
        free (units);
        free (teams);
        return LD_ERR_NOMEM;
    }
    size_t unit_count = 0, team_count = 0;
    for (size_t i = 0; i < self->checkins.count; i++) {
        const ld_checkin_t *checkin = &checkins[i];
        if (strcmp (checkin->status, "withdrawn") == 0 || !s_under (checkin->community, prefix))
            continue;
        if (checkin->unit[0])
            units[unit_count++] = checkin->unit;
        else {
            stats->members++;
            stats->grid_workers += s_offers (checkin->offers, S_ROLE_GRID_WORKER);
            stats->building_captains += s_offers (checkin->offers, S_ROLE_BUILDING_CAPTAIN);
        }
        for (size_t s = 0; s < checkin->service_count; s++) {
            stats->people_served += checkin->services[s].people_served;
            if (checkin->services[s].team[0])
                teams[team_count++] = checkin->services[s].team;
        }
    }
    for (size_t i = 0; i < self->agreements.count; i++)
        if (strcmp (agreements[i].status, "in-force") == 0 && s_under (agreements[i].path, prefix))
            units[unit_count++] = agreements[i].unit;
    stats->paired_units = s_distinct (units, unit_count);
    stats->volunteer_teams = s_distinct (teams, team_count);
    free (units);
    free (teams);
    const ld_wish_t *wishes = self->wishes.items;
    for (size_t i = 0; i < self->wishes.count; i++) {
        if (strcmp (wishes[i].status, "withdrawn") == 0 || !s_under (wishes[i].path, prefix))
            continue;
        stats->opinions_collected++;
        if (strcmp (wishes[i].status, "fulfilled") == 0) {
            stats->matters_done++;
            stats->opinions_resolved++;
        }
    }
    const ld_incident_t *incidents = self->incidents.items;
    for (size_t i = 0; i < self->incidents.count; i++) {
        if (strcmp (incidents[i].status, "withdrawn") == 0 || !s_under (incidents[i].path, prefix))
            continue;
        stats->opinions_collected++;
        if (strcmp (incidents[i].status, "resolved") == 0) {
            stats->problems_solved++;
            stats->opinions_resolved++;
        }
    }
    const ld_resolution_t *resolutions = self->resolutions.items;
    for (size_t i = 0; i < self->resolutions.count; i++) {
        if (strcmp (resolutions[i].status, "withdrawn") == 0
            || !s_under (resolutions[i].path, prefix))
            continue;
        for (size_t t = 0; t < resolutions[i].task_count; t++) {
            const ld_task_t *task = &resolutions[i].tasks[t];
            stats->tasks++;
            stats->tasks_overdue += task->overdue;
            stats->tasks_late += strcmp (task->timing, "late") == 0;
            stats->matters_done += strcmp (task->state, "verified") == 0;
        }
    }
    stats->grids = s_level_count (self, LD_LEVEL_GRID, prefix);
    stats->compounds = s_level_count (self, LD_LEVEL_COMPOUND, prefix);
    stats->communities = s_level_count (self, LD_LEVEL_COMMUNITY, prefix);
    stats->units = s_level_count (self, LD_LEVEL_UNIT, prefix);
    stats->refused = self->refusals.count;
    stats->pending = self->pending.count;
    return LD_OK;
}
