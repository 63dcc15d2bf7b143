/*  ld_action.c -- the action commands' table and their parse. See
    ld_action.h.

    Two tables. s_verbs: one row per command (group, verb, event type,
    topic kind, option list, summary). The option lists: one per payload
    message, shared by the verbs that carry it (the six task verbs all carry
    a TaskAction), each row an option (flag, proto3 JSON field, kind of
    value, rules, usage text).

    Every value is checked as it is read and written into the payload's JSON
    object in the form the proto3 mapping wants (ld_pbjson.h): keys and ids
    as base64 bytes, numbers as numbers, repeated options as arrays, "a.b"
    as member b of sub-message a. ld_pbjson then builds the message, which
    puts it through the limits and UTF-8 checks a received payload passes,
    and reports a missing required field by its name. What the proto cannot
    say is checked here: dates, categories, ranges, one of --unit/--member.

    Who may emit each type on which topic is trust/'s table: the node checks
    it before signing, so this file repeats none of it.
*/
#include "ld_action.h"

#include <assert.h>
#include <ctype.h>
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ld_cli.h"
#include "ld_codec.h"
#include "ld_crypto.h"
#include "ld_event.h"
#include "ld_identity.h"
#include "ld_payload.h"
#include "ld_pbjson.h"

#define S_OPTIONS_MAX     12   //  options of one payload
#define S_TIMEOUT_DEFAULT 5000 //  ms, --timeout
#define S_TIMEOUT_MAX     600000
#define S_FIELD_MAX       64 //  bytes of a JSON field name
#define S_HELP_COLUMN     24 //  where option help starts in a usage
#define S_SEALED_TEXT_MAX (((LD_ENVELOPE_MAX_DEFAULT + 2) / 3) * 4)
#define S_TASK_SEPARATOR  ','
#define S_YEAR_MIN        1949
#define S_YEAR_MAX        9999

//  --------------------------------------------------------------------------
//  The tables

//  What an option's value is, and what it becomes in the payload's JSON.
typedef enum {
    S_TEXT,   //  non-empty UTF-8 -> string
    S_DATE,   //  YYYY-MM-DD or RFC 3339 -> string
    S_CHOICE, //  one of choices -> string
    S_UINT,   //  decimal in [min, max] -> number
    S_KEY,    //  a .pub file or "ed25519:..." -> base64 bytes
    S_ID,     //  "blake2b:..." -> base64 bytes
    S_PATH,   //  an org path (slug segments each ending '/') -> string
    S_TASK,   //  UNIT,DEADLINE,DELIVERABLE -> TaskSpec object
    S_SEALED, //  base64 of the field's message (`member seal`) -> its object
} s_value_t;

#define S_REQUIRED (1u << 0)
#define S_REPEATED (1u << 1)
#define S_ONE_OF   (1u << 2) //  exactly one of the options so marked

typedef struct {
    const char *flag;
    const char *field; //  JSON name in the payload; "a.b": member b of a
    s_value_t value;
    unsigned rules;
    const char *arg;  //  in the usage: --flag ARG
    const char *help; //  one line
    uint32_t min, max;
    const char *const *choices; //  NULL-terminated
} s_option_t;

typedef struct {
    const char *group;
    const char *verb; //  NULL: the group is the command (amend, withdraw)
    const char *type;
    const char *kind; //  topic kind; NULL: --kind K (the original's kind)
    const s_option_t *options;
    const char *summary;
} s_verb_t;

static const char *const s_categories[] = {
    "street-vending", "lane-occupation", "parking", "garbage", "greening", "noise", "other", NULL};
static const char *const s_grades[] = {"优秀", "良好", "合格", "不合格", NULL};

//  Table rows, every member named (no field left to a silent zero).
// clang-format off
#define S_OPTION(flag, field, value, rules, arg, help) {flag, field, value, rules, arg, help, 0, 0, NULL}
#define S_NUMBER(flag, field, rules, arg, help, min, max) {flag, field, S_UINT, rules, arg, help, min, max, NULL}
#define S_CHOOSE(flag, field, rules, arg, help, choices) {flag, field, S_CHOICE, rules, arg, help, 0, 0, choices}
#define S_END {NULL, NULL, S_TEXT, 0, NULL, NULL, 0, 0, NULL}
// clang-format on

static const s_option_t s_meeting_convene[] = {
    S_OPTION ("body", "body", S_TEXT, S_REQUIRED, "TEXT",
              "the body that met, e.g. 龙广路街道大工委联席会议"),
    S_OPTION ("date", "date", S_DATE, S_REQUIRED, "DATE", "when it met"),
    S_OPTION ("place", "place", S_TEXT, 0, "TEXT", "where"),
    S_OPTION ("attendee", "attendees", S_KEY, S_REPEATED, "PUB|KEY", "a member unit present"),
    S_OPTION ("agenda", "agenda", S_TEXT, S_REPEATED, "TEXT", "an item discussed"),
    S_END,
};

static const s_option_t s_resolution_adopt[] = {
    S_OPTION ("meeting", "meeting", S_ID, S_REQUIRED, "ID", "the meeting.convene that decided it"),
    S_OPTION ("text", "text", S_TEXT, S_REQUIRED, "TEXT", "what was resolved"),
    S_CHOOSE ("category", "category", S_REQUIRED, "CATEGORY", "the matter", s_categories),
    S_OPTION ("task", "tasks", S_TASK, S_REPEATED, "UNIT,DEADLINE,DELIVERABLE",
              "a task for a unit (PUB|KEY), by DATE; task N is the Nth --task, from 0"),
    S_END,
};

static const s_option_t s_resolution_close[] = {
    S_OPTION ("resolution", "resolution", S_ID, S_REQUIRED, "ID", "the resolution.adopt"),
    S_OPTION ("text", "text", S_TEXT, 0, "TEXT", "why"),
    S_END,
};

static const s_option_t s_task_action[] = {
    S_OPTION ("resolution", "task.resolution", S_ID, S_REQUIRED, "ID", "the resolution.adopt"),
    S_NUMBER ("task", "task.index", S_REQUIRED, "N", "the task's position in it, from 0", 0,
              LD_LEDGER_LIST_MAX - 1),
    S_OPTION ("text", "text", S_TEXT, 0, "TEXT", "what was done, why reopened, ..."),
    S_NUMBER ("percent", "percent", 0, "P", "progress, 0-100", 0, 100),
    S_END,
};

static const s_option_t s_checkin[] = {
    S_OPTION ("community", "community", S_PATH, S_REQUIRED, "PATH", "the community's org path"),
    S_OPTION ("unit", "unit", S_KEY, S_ONE_OF, "PUB|KEY", "the unit that checks in, or"),
    S_OPTION ("member", "member", S_SEALED, S_ONE_OF, "SEALED",
              "a member, as `liandong member seal` prints it (base64)"),
    S_OPTION ("offer", "offers", S_TEXT, S_REPEATED, "TEXT", "what it offers: 义诊, 法律咨询, ..."),
    S_NUMBER ("year", "year", 0, "Y", "the year", S_YEAR_MIN, S_YEAR_MAX),
    S_END,
};

static const s_option_t s_service[] = {
    S_OPTION ("checkin", "checkin", S_ID, S_REQUIRED, "ID", "the report.checkin"),
    S_OPTION ("date", "date", S_DATE, S_REQUIRED, "DATE", "when"),
    S_OPTION ("activity", "activity", S_TEXT, S_REQUIRED, "TEXT", "what was done"),
    S_NUMBER ("minutes", "minutes", S_REQUIRED, "N", "how long", 1, UINT32_MAX),
    S_NUMBER ("people", "peopleServed", S_REQUIRED, "N", "residents served", 0, UINT32_MAX),
    S_NUMBER ("volunteers", "volunteers", 0, "N", "volunteers who took part", 0, UINT32_MAX),
    S_OPTION ("team", "team", S_TEXT, 0, "TEXT", "the volunteer team"),
    S_END,
};

static const s_option_t s_feedback[] = {
    S_OPTION ("checkin", "checkin", S_ID, S_REQUIRED, "ID", "the report.checkin"),
    S_OPTION ("text", "text", S_TEXT, S_REQUIRED, "TEXT", "the feedback"),
    S_NUMBER ("rating", "rating", 0, "1-5", "the rating", 1, 5),
    S_END,
};

static const s_option_t s_evaluate[] = {
    S_OPTION ("checkin", "checkin", S_ID, S_REQUIRED, "ID", "the report.checkin"),
    S_NUMBER ("year", "year", S_REQUIRED, "Y", "the year evaluated", S_YEAR_MIN, S_YEAR_MAX),
    S_CHOOSE ("grade", "grade", S_REQUIRED, "GRADE", "the grade", s_grades),
    S_OPTION ("text", "text", S_TEXT, 0, "TEXT", "remarks"),
    S_END,
};

static const s_option_t s_agreement_propose[] = {
    S_OPTION ("unit", "unit", S_KEY, S_REQUIRED, "PUB|KEY", "the partner unit"),
    S_OPTION ("title", "title", S_TEXT, S_REQUIRED, "TEXT", "the agreement's title"),
    S_OPTION ("term", "terms", S_TEXT, S_REPEATED, "TEXT", "a term"),
    S_OPTION ("until", "until", S_DATE, 0, "DATE", "in force until"),
    S_END,
};

static const s_option_t s_agreement_sign[] = {
    S_OPTION ("agreement", "agreement", S_ID, S_REQUIRED, "ID", "the agreement.propose"),
    S_END,
};

static const s_option_t s_wish_post[] = {
    S_OPTION ("text", "text", S_TEXT, S_REQUIRED, "TEXT", "the residents' wish"),
    S_OPTION ("category", "category", S_TEXT, 0, "TEXT", "its category"),
    S_NUMBER ("people", "people", 0, "N", "residents it helps", 0, UINT32_MAX),
    S_END,
};

static const s_option_t s_wish_action[] = {
    S_OPTION ("wish", "wish", S_ID, S_REQUIRED, "ID", "the wish.post"),
    S_OPTION ("text", "text", S_TEXT, 0, "TEXT", "what was done"),
    S_END,
};

static const s_option_t s_incident_report[] = {
    S_OPTION ("text", "text", S_TEXT, S_REQUIRED, "TEXT", "what was found"),
    S_OPTION ("category", "category", S_TEXT, S_REQUIRED, "TEXT", "its category"),
    S_OPTION ("place", "place", S_TEXT, 0, "TEXT", "where"),
    S_END,
};

static const s_option_t s_incident_action[] = {
    S_OPTION ("incident", "incident", S_ID, S_REQUIRED, "ID", "the incident.report"),
    S_OPTION ("text", "text", S_TEXT, 0, "TEXT", "what was done"),
    S_OPTION ("unit", "units", S_KEY, S_REPEATED, "PUB|KEY",
              "whistle: a unit called; assign: the assignee"),
    S_NUMBER ("tier", "tier", 0, "N", "assign: 1 grid, 2 community, 3 street, 4 units", 1, 4),
    S_OPTION ("deadline", "deadline", S_DATE, 0, "DATE", "answer by"),
    S_END,
};

static const s_option_t s_amend[] = {
    S_OPTION ("original", "original", S_ID, S_REQUIRED, "ID",
              "the event corrected (one of your own)"),
    S_OPTION ("field", "field", S_TEXT, S_REQUIRED, "F", "the field, e.g. tasks.0.deadline, text"),
    S_OPTION ("value", "value", S_TEXT, S_REQUIRED, "V", "its new value"),
    S_OPTION ("reason", "reason", S_TEXT, 0, "TEXT", "why"),
    S_END,
};

static const s_option_t s_withdraw[] = {
    S_OPTION ("original", "original", S_ID, S_REQUIRED, "ID",
              "the event withdrawn (one of your own)"),
    S_OPTION ("reason", "reason", S_TEXT, 0, "TEXT", "why"),
    S_END,
};

static const s_verb_t s_verbs[] = {
    {"meeting", "convene", "meeting.convene", "meeting", s_meeting_convene,
     "a street or community convenes a joint meeting"},
    {"meeting", "resolve", "resolution.adopt", "resolution", s_resolution_adopt,
     "the meeting's host adopts a resolution, split into tasks"},
    {"meeting", "close", "resolution.close", "resolution", s_resolution_close,
     "the convener closes a resolution"},
    {"task", "accept", "task.accept", "resolution", s_task_action, "the assignee accepts its task"},
    {"task", "progress", "task.progress", "resolution", s_task_action,
     "the assignee reports progress"},
    {"task", "complete", "task.complete", "resolution", s_task_action,
     "the assignee reports its task done"},
    {"task", "verify", "task.verify", "resolution", s_task_action,
     "the convener verifies a completed task"},
    {"task", "reopen", "task.reopen", "resolution", s_task_action, "the convener reopens a task"},
    {"task", "urge", "task.urge", "resolution", s_task_action,
     "a supervisor (or the street) urges an overdue task"},
    {"report", "checkin", "report.checkin", "report", s_checkin,
     "a unit (or a community, for a member) checks in at a community"},
    {"report", "service", "report.service", "report", s_service,
     "one entry of the service register"},
    {"report", "feedback", "report.feedback", "report", s_feedback,
     "the host community gives feedback"},
    {"report", "evaluate", "report.evaluate", "report", s_evaluate,
     "the host community's annual evaluation"},
    {"agreement", "propose", "agreement.propose", "agreement", s_agreement_propose,
     "a community proposes a co-building agreement"},
    {"agreement", "sign", "agreement.sign", "agreement", s_agreement_sign,
     "the unit named countersigns"},
    {"wish", "post", "wish.post", "wish", s_wish_post,
     "a community, compound or grid posts a residents' wish"},
    {"wish", "claim", "wish.claim", "wish", s_wish_action, "a unit claims a wish"},
    {"wish", "fulfil", "wish.fulfil", "wish", s_wish_action, "the claimant fulfils the wish"},
    {"incident", "report", "incident.report", "incident", s_incident_report,
     "a grid, compound or community reports an incident"},
    {"incident", "collect", "incident.collect", "incident", s_incident_action,
     "the community collects its grids' incidents"},
    {"incident", "whistle", "incident.whistle", "incident", s_incident_action,
     "the street blows the whistle: calls the units in"},
    {"incident", "assign", "incident.assign", "incident", s_incident_action,
     "a street or community assigns the response, in tiers"},
    {"incident", "resolve", "incident.resolve", "incident", s_incident_action,
     "the assigned responder resolves the incident"},
    {"amend", NULL, "amend", NULL, s_amend, "the original's author corrects one field"},
    {"withdraw", NULL, "withdraw", NULL, s_withdraw, "the original's author withdraws it"},
};

#define S_VERB_COUNT (sizeof s_verbs / sizeof s_verbs[0])

//  --------------------------------------------------------------------------
//  Usage

static size_t
s_option_count (const s_option_t *options)
{
    size_t count = 0;
    while (options[count].flag)
        count++;
    return count;
}

static void
s_usage_line (FILE *out, const char *flag, const char *arg, const char *help)
{
    char left[128];
    snprintf (left, sizeof left, "  --%s%s%s", flag, arg ? " " : "", arg ? arg : "");
    if (strlen (left) + 2 > S_HELP_COLUMN)
        fprintf (out, "%s\n%*s%s\n", left, S_HELP_COLUMN, "", help);
    else
        fprintf (out, "%-*s%s\n", S_HELP_COLUMN, left, help);
}

static void
s_usage_verb (FILE *out, const s_verb_t *verb)
{
    char command[64];
    snprintf (command, sizeof command, "%s%s%s", verb->group, verb->verb ? " " : "",
              verb->verb ? verb->verb : "");
    fprintf (out, "usage: liandong %s --control ipc://NODE%s [options]\n\n", command,
             verb->kind ? "" : " --kind K");
    fprintf (out, "%c%s.\nSigned by the node: type %s, topic %s/P.\n\n",
             toupper ((unsigned char) verb->summary[0]), verb->summary + 1, verb->type,
             verb->kind ? verb->kind : "K");
    for (const s_option_t *option = verb->options; option->flag; option++) {
        char help[512];
        int n = snprintf (help, sizeof help, "%s%s%s", option->help,
                          option->rules & S_REQUIRED ? " (required)"
                          : option->rules & S_ONE_OF ? " (one of these two)"
                                                     : "",
                          option->rules & S_REPEATED ? " (repeatable)" : "");
        if (option->value == S_CHOICE && n > 0)
            for (const char *const *choice = option->choices; *choice; choice++)
                n += snprintf (help + n, sizeof help - (size_t) n, "%s%s",
                               choice == option->choices ? ": " : "|", *choice);
        else if (option->value == S_DATE)
            snprintf (help + n, sizeof help - (size_t) n, ": YYYY-MM-DD or RFC 3339");
        s_usage_line (out, option->flag, option->arg, help);
    }
    fprintf (out, "\n");
    s_usage_line (out, "control", "ipc://NODE", "the node that signs (required)");
    if (!verb->kind)
        s_usage_line (out, "kind", "K",
                      "the original's topic kind: meeting, resolution, report, agreement, "
                      "wish, incident (required)");
    s_usage_line (out, "path", "P", "the topic's org path (default: the node's first)");
    s_usage_line (out, "json", NULL, "print {\"id\", \"seq\", \"status\", ...} as JSON");
    s_usage_line (out, "no-wait", NULL, "answer once committed to the node's feed");
    char timeout[64];
    snprintf (timeout, sizeof timeout, "how long to wait for the broker (default %d)",
              S_TIMEOUT_DEFAULT);
    s_usage_line (out, "timeout", "MS", timeout);
    fprintf (out, "\n"
                  "IDs are 'blake2b:...' (as commands print them), keys a .pub file or\n"
                  "'ed25519:...'. Prints '<id> <seq>'. Exit codes: 0 acknowledged (committed\n"
                  "with --no-wait), 64 usage, 65 refused (the rule on stderr), 66 a key file\n"
                  "missing, 69 node not reachable, 75 queued or awaiting certificate.\n");
}

static void
s_usage_group (FILE *out, const char *group)
{
    fprintf (out, "usage: liandong %s VERB --control ipc://NODE [options]\n\nverbs:\n", group);
    for (size_t i = 0; i < S_VERB_COUNT; i++)
        if (streq (s_verbs[i].group, group))
            fprintf (out, "  %-10s %s (%s)\n", s_verbs[i].verb, s_verbs[i].summary,
                     s_verbs[i].type);
    fprintf (out, "\n'liandong %s VERB --help' shows a verb's options.\n", group);
}

//  --------------------------------------------------------------------------
//  Values

static bool
s_digits (const char *text, size_t count, int *value)
{
    *value = 0;
    for (size_t i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        *value = *value * 10 + (text[i] - '0');
    }
    return true;
}

//  "YYYY-MM-DD", optionally followed by an RFC 3339 time
//  ("THH:MM:SS[.frac](Z|+HH:MM|-HH:MM)").
static bool
s_date_valid (const char *text)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day, hour, minute, second;
    if (strlen (text) < 10 || !s_digits (text, 4, &year) || text[4] != '-'
        || !s_digits (text + 5, 2, &month) || text[7] != '-' || !s_digits (text + 8, 2, &day))
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1]
        || (month == 2 && day == 29 && !leap))
        return false;
    const char *at = text + 10;
    if (*at == '\0')
        return true;
    if ((*at != 'T' && *at != 't') || strlen (at) < 9 || !s_digits (at + 1, 2, &hour)
        || at[3] != ':' || !s_digits (at + 4, 2, &minute) || at[6] != ':'
        || !s_digits (at + 7, 2, &second) || hour > 23 || minute > 59 || second > 60)
        return false;
    at += 9;
    if (*at == '.') {
        size_t fraction = strspn (at + 1, "0123456789");
        if (fraction == 0)
            return false;
        at += 1 + fraction;
    }
    if ((*at == 'Z' || *at == 'z') && at[1] == '\0')
        return true;
    return (*at == '+' || *at == '-') && strlen (at) == 6 && s_digits (at + 1, 2, &hour)
           && at[3] == ':' && s_digits (at + 4, 2, &minute) && hour <= 23 && minute <= 59;
}

//  Bytes as the proto3 mapping writes them: base64, padded.
static json_t *
s_base64 (const uint8_t *data, size_t size)
{
    char *text = ld_base64_encode (data, size);
    json_t *json = text ? json_string (text) : NULL;
    free (text);
    return json;
}

//  A key from a .pub file or its text form. Exit code on failure (said).
static int
s_key (const char *flag, const char *text, json_t **json_p)
{
    uint8_t key[LD_KEY_BYTES];
    char err[512];
    ld_status_t rc = ld_public_key_load (text, key, err, sizeof err);
    if (rc != LD_OK) {
        ld_cli_error ("bad --%s: %s", flag, err);
        return rc == LD_ERR_NOT_FOUND ? EX_NOINPUT : EX_USAGE;
    }
    *json_p = s_base64 (key, sizeof key);
    return *json_p ? EX_OK : EX_OSERR;
}

//  "UNIT,DEADLINE,DELIVERABLE" as a TaskSpec object; the deliverable is
//  everything after the second comma, commas included.
static int
s_task (const char *flag, const char *text, json_t **json_p)
{
    const char *first = strchr (text, S_TASK_SEPARATOR);
    const char *second = first ? strchr (first + 1, S_TASK_SEPARATOR) : NULL;
    if (!second || first == text || second == first + 1 || second[1] == '\0') {
        ld_cli_error ("bad --%s '%s': expected UNIT,DEADLINE,DELIVERABLE (a .pub file or key, "
                      "a date, a text)",
                      flag, text);
        return EX_USAGE;
    }
    char unit[PATH_MAX], deadline[64];
    if ((size_t) (first - text) >= sizeof unit
        || (size_t) (second - first - 1) >= sizeof deadline) {
        ld_cli_error ("bad --%s '%s': the unit or the deadline is too long", flag, text);
        return EX_USAGE;
    }
    snprintf (unit, sizeof unit, "%.*s", (int) (first - text), text);
    snprintf (deadline, sizeof deadline, "%.*s", (int) (second - first - 1), first + 1);
    if (!s_date_valid (deadline)) {
        ld_cli_error ("bad --%s deadline '%s': expected YYYY-MM-DD or an RFC 3339 time", flag,
                      deadline);
        return EX_USAGE;
    }
    json_t *key = NULL;
    int code = s_key (flag, unit, &key);
    if (code != EX_OK)
        return code;
    *json_p =
        json_pack ("{s:o, s:s, s:s}", "unit", key, "deadline", deadline, "deliverable", second + 1);
    if (!*json_p) {
        ld_cli_error ("bad --%s '%s': the deliverable is not UTF-8", flag, text);
        return EX_USAGE;
    }
    return EX_OK;
}

//  Base64 bytes of the message type of field `field` of type's payload,
//  as the object the proto3 mapping gives it: another command's output
//  (`liandong member seal`) passes through as it was given.
static int
s_sealed (const char *type, const s_option_t *option, const char *text, json_t **json_p)
{
    const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field_by_name (
        ld_payload_descriptor (type), option->field);
    //  the table names a message field of a known type: our own mistake otherwise
    if (!field || field->type != PROTOBUF_C_TYPE_MESSAGE)
        abort ();
    size_t length = strlen (text);
    uint8_t *data = length <= S_SEALED_TEXT_MAX ? malloc (length / 4 * 3 + 3) : NULL;
    size_t size = 0;
    //  libsodium takes any byte >= 0x80 as a digit: the alphabet first
    //  Standard or URL-safe alphabet (member seal prints base64url).
    bool url = strpbrk (text, "-_") != NULL;
    int variant = text[length ? length - 1 : 0] == '='
                      ? (url ? sodium_base64_VARIANT_URLSAFE : sodium_base64_VARIANT_ORIGINAL)
                      : (url ? sodium_base64_VARIANT_URLSAFE_NO_PADDING
                             : sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    bool base64 =
        data && length > 0
        && strspn (text, url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789-_="
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789+/=")
               == length
        && sodium_base642bin (data, length / 4 * 3 + 3, text, length, NULL, &size, NULL, variant)
               == 0;
    ProtobufCMessage *message = NULL;
    char err[256] = "not base64";
    ld_status_t rc =
        base64 ? ld_codec_unpack (field->descriptor, data, size, &message, err, sizeof err)
               : LD_ERR_BAD_FORMAT;
    free (data);
    if (rc != LD_OK) {
        ld_cli_error ("bad --%s: not a %s in base64 (%s)", option->flag,
                      ((const ProtobufCMessageDescriptor *) field->descriptor)->short_name, err);
        return EX_USAGE;
    }
    *json_p = ld_pbjson_from_message (message);
    protobuf_c_message_free_unpacked (message, NULL);
    return *json_p ? EX_OK : EX_OSERR;
}

//  The JSON value of one option's argument. Exit code on failure (said).
static int
s_value (const char *type, const s_option_t *option, const char *text, json_t **json_p)
{
    *json_p = NULL;
    const char *flag = option->flag;
    switch (option->value) {
        case S_TEXT:
            if (!*text) {
                ld_cli_error ("--%s must not be empty", flag);
                return EX_USAGE;
            }
            break;
        case S_DATE:
            if (!s_date_valid (text)) {
                ld_cli_error ("bad --%s '%s': expected YYYY-MM-DD or an RFC 3339 time", flag, text);
                return EX_USAGE;
            }
            break;
        case S_CHOICE: {
            const char *const *choice = option->choices;
            while (*choice && !streq (*choice, text))
                choice++;
            if (!*choice) {
                char list[256] = "";
                for (choice = option->choices; *choice; choice++)
                    snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s",
                              choice == option->choices ? "" : ", ", *choice);
                ld_cli_error ("bad --%s '%s': expected one of %s", flag, text, list);
                return EX_USAGE;
            }
            break;
        }
        case S_UINT: {
            char *end;
            errno = 0;
            unsigned long long number = strtoull (text, &end, 10);
            if (errno || end == text || *end || text[0] == '-' || number < option->min
                || number > option->max) {
                ld_cli_error ("bad --%s '%s': expected a whole number from %u to %u", flag, text,
                              option->min, option->max);
                return EX_USAGE;
            }
            *json_p = json_integer ((json_int_t) number);
            return *json_p ? EX_OK : EX_OSERR;
        }
        case S_KEY:
            return s_key (flag, text, json_p);
        case S_ID: {
            uint8_t id[LD_ID_BYTES];
            if (ld_id_from_text (text, id) != LD_OK) {
                ld_cli_error ("bad --%s '%s': expected an event id 'blake2b:...'", flag, text);
                return EX_USAGE;
            }
            *json_p = s_base64 (id, sizeof id);
            return *json_p ? EX_OK : EX_OSERR;
        }
        case S_PATH:
            if (ld_topic_check (text, strlen (text)) != LD_OK) {
                ld_cli_error ("bad --%s '%s': an org path is ASCII slug segments [a-z0-9._-] "
                              "each ending in '/' (e.g. wudang/longguanglu/jinjiangyuan/)",
                              flag, text);
                return EX_USAGE;
            }
            break;
        case S_TASK:
            return s_task (flag, text, json_p);
        case S_SEALED:
            return s_sealed (type, option, text, json_p);
    }
    *json_p = json_string (text);
    if (!*json_p) {
        ld_cli_error ("bad --%s: not UTF-8", flag);
        return EX_USAGE;
    }
    return EX_OK;
}

//  Puts value (whose reference it takes) at field of object: "a.b" is
//  member b of the object at a; a repeated field is an array appended to.
static int
s_place (json_t *object, const char *field, json_t *value, bool repeated)
{
    const char *dot = strchr (field, '.');
    if (dot) {
        char head[S_FIELD_MAX];
        snprintf (head, sizeof head, "%.*s", (int) (dot - field), field);
        json_t *child = json_object_get (object, head);
        if (!child && json_object_set_new (object, head, child = json_object ()) != 0) {
            json_decref (value);
            return -1;
        }
        return s_place (child, dot + 1, value, repeated);
    }
    if (!repeated)
        return json_object_set_new (object, field, value);
    json_t *array = json_object_get (object, field);
    if (!array && json_object_set_new (object, field, array = json_array ()) != 0) {
        json_decref (value);
        return -1;
    }
    return json_array_append_new (array, value);
}

//  --------------------------------------------------------------------------
//  The parse

//  Common flags: getopt values below the table's.
enum {
    S_FLAG_CONTROL = 1,
    S_FLAG_PATH,
    S_FLAG_KIND,
    S_FLAG_JSON,
    S_FLAG_NO_WAIT,
    S_FLAG_TIMEOUT,
    S_FLAG_HELP,
    S_FLAG_TABLE = 256, //  + the option's index
};

//  A topic kind: one slug segment.
static bool
s_kind_valid (const char *kind)
{
    char topic[LD_ACTION_KIND_MAX + 2];
    if (!*kind || strlen (kind) > LD_ACTION_KIND_MAX || strchr (kind, '/'))
        return false;
    snprintf (topic, sizeof topic, "%s/", kind);
    return ld_topic_check (topic, strlen (topic)) == LD_OK;
}

//  The flags every verb takes, checked once the table's are read.
static int
s_check_common (const s_verb_t *verb, const char *kind, ld_action_t *action)
{
    if (!action->control) {
        ld_cli_error ("missing --control ipc://NODE (the node that signs)");
        return EX_USAGE;
    }
    if (verb->kind && kind) {
        ld_cli_error ("--kind is for amend and withdraw; %s events go under %s/", verb->type,
                      verb->kind);
        return EX_USAGE;
    }
    if (!verb->kind && !kind) {
        ld_cli_error ("missing --kind K: the topic kind of the original (meeting, resolution, "
                      "report, agreement, wish, incident)");
        return EX_USAGE;
    }
    if (kind && !s_kind_valid (kind)) {
        ld_cli_error ("bad --kind '%s': one slug segment [a-z0-9._-], e.g. resolution", kind);
        return EX_USAGE;
    }
    snprintf (action->kind, sizeof action->kind, "%s", verb->kind ? verb->kind : kind);
    if (action->path && ld_topic_check (action->path, strlen (action->path)) != LD_OK) {
        ld_cli_error ("bad --path '%s': an org path is ASCII slug segments [a-z0-9._-] each "
                      "ending in '/' (e.g. wudang/longguanglu/)",
                      action->path);
        return EX_USAGE;
    }
    return EX_OK;
}

//  The table's rules once every option is read.
static int
s_check_table (const s_verb_t *verb, const size_t *given)
{
    size_t one_of = 0, one_of_given = 0;
    char names[128] = "";
    for (size_t i = 0; verb->options[i].flag; i++) {
        const s_option_t *option = &verb->options[i];
        if ((option->rules & S_REQUIRED) && !given[i]) {
            ld_cli_error ("missing --%s %s (%s); see 'liandong %s%s%s --help'", option->flag,
                          option->arg, option->help, verb->group, verb->verb ? " " : "",
                          verb->verb ? verb->verb : "");
            return EX_USAGE;
        }
        if (option->rules & S_ONE_OF) {
            one_of++;
            one_of_given += given[i] ? 1 : 0;
            snprintf (names + strlen (names), sizeof names - strlen (names), "%s--%s",
                      names[0] ? " or " : "", option->flag);
        }
    }
    if (one_of && one_of_given != 1) {
        ld_cli_error ("give exactly one of %s", names);
        return EX_USAGE;
    }
    return EX_OK;
}

//  Builds the payload from its JSON object.
static int
s_pack (const s_verb_t *verb, const json_t *json, ld_action_t *action)
{
    ProtobufCMessage *message = NULL;
    char err[512];
    ld_status_t rc =
        ld_pbjson_to_message (ld_payload_descriptor (verb->type), json, &message, err, sizeof err);
    if (rc == LD_OK) {
        rc = ld_payload_pack (message, &action->payload, &action->payload_size);
        ld_pbjson_message_free (message);
        if (rc != LD_OK)
            return EX_OSERR;
        return EX_OK;
    }
    //  The limits (string lengths, counts) are the wire's, judged here.
    ld_cli_error ("cannot build the %s payload: %s: %s", verb->type, ld_status_name (rc), err);
    return rc == LD_ERR_NOMEM ? EX_OSERR : EX_DATAERR;
}

static int
s_parse_verb (const s_verb_t *verb, int argc, char **argv, ld_action_t *action)
{
    size_t count = s_option_count (verb->options);
    assert (count <= S_OPTIONS_MAX);
    struct option long_options[S_OPTIONS_MAX + 8] = {
        {"control", required_argument, NULL, S_FLAG_CONTROL},
        {"path", required_argument, NULL, S_FLAG_PATH},
        {"kind", required_argument, NULL, S_FLAG_KIND},
        {"json", no_argument, NULL, S_FLAG_JSON},
        {"no-wait", no_argument, NULL, S_FLAG_NO_WAIT},
        {"timeout", required_argument, NULL, S_FLAG_TIMEOUT},
        {"help", no_argument, NULL, S_FLAG_HELP},
    };
    size_t common = 7;
    for (size_t i = 0; i < count; i++)
        long_options[common + i] =
            (struct option){verb->options[i].flag, required_argument, NULL, S_FLAG_TABLE + (int) i};
    size_t given[S_OPTIONS_MAX] = {0};
    const char *kind = NULL;
    json_t *payload = json_object ();
    if (!payload)
        return EX_OSERR;
    int code = EX_OK, opt;
    opterr = 0; //  our own message, naming the command
    while (code == EX_OK && (opt = getopt_long (argc, argv, ":h", long_options, NULL)) != -1) {
        if (opt >= S_FLAG_TABLE) {
            size_t index = (size_t) (opt - S_FLAG_TABLE);
            const s_option_t *option = &verb->options[index];
            if (given[index]++ && !(option->rules & S_REPEATED)) {
                ld_cli_error ("--%s is given twice", option->flag);
                code = EX_USAGE;
                break;
            }
            json_t *value = NULL;
            code = s_value (verb->type, option, optarg, &value);
            if (code == EX_OK
                && s_place (payload, option->field, value, option->rules & S_REPEATED) != 0)
                code = EX_OSERR;
            continue;
        }
        switch (opt) {
            case S_FLAG_CONTROL:
                action->control = optarg;
                break;
            case S_FLAG_PATH:
                action->path = optarg;
                break;
            case S_FLAG_KIND:
                kind = optarg;
                break;
            case S_FLAG_JSON:
                action->json = true;
                break;
            case S_FLAG_NO_WAIT:
                action->wait = false;
                break;
            case S_FLAG_TIMEOUT: {
                char *end;
                errno = 0;
                long value = strtol (optarg, &end, 10);
                if (errno || end == optarg || *end || value < 1 || value > S_TIMEOUT_MAX) {
                    ld_cli_error ("bad --timeout '%s': expected 1..%d ms", optarg, S_TIMEOUT_MAX);
                    code = EX_USAGE;
                }
                action->timeout_ms = (uint32_t) value;
                break;
            }
            case 'h':
            case S_FLAG_HELP:
                s_usage_verb (stdout, verb);
                code = -1;
                break;
            case ':':
                ld_cli_error ("%s needs a value; see --help", argv[optind - 1]);
                code = EX_USAGE;
                break;
            default:
                ld_cli_error ("unknown option '%s'; see 'liandong %s%s%s --help'", argv[optind - 1],
                              verb->group, verb->verb ? " " : "", verb->verb ? verb->verb : "");
                code = EX_USAGE;
                break;
        }
    }
    if (code == EX_OK && optind != argc) {
        ld_cli_error ("unexpected argument '%s'", argv[optind]);
        code = EX_USAGE;
    }
    if (code == EX_OK)
        code = s_check_table (verb, given);
    if (code == EX_OK)
        code = s_check_common (verb, kind, action);
    if (code == EX_OK) {
        action->type = verb->type;
        code = s_pack (verb, payload, action);
    }
    json_decref (payload);
    return code;
}

bool
ld_action_group_known (const char *name)
{
    for (size_t i = 0; i < S_VERB_COUNT; i++)
        if (streq (s_verbs[i].group, name))
            return true;
    return false;
}

int
ld_action_parse (int argc, char **argv, ld_action_t *action)
{
    *action = (ld_action_t){.wait = true, .timeout_ms = S_TIMEOUT_DEFAULT};
    const char *group = argv[0];
    const s_verb_t *verb = NULL;
    for (size_t i = 0; i < S_VERB_COUNT && !verb; i++)
        if (streq (s_verbs[i].group, group) && !s_verbs[i].verb)
            verb = &s_verbs[i];
    if (!verb) {
        //  A group of verbs: the verb comes first.
        if (argc < 2) {
            s_usage_group (stderr, group);
            return EX_USAGE;
        }
        if (streq (argv[1], "--help") || streq (argv[1], "-h") || streq (argv[1], "help")) {
            s_usage_group (stdout, group);
            return -1;
        }
        for (size_t i = 0; i < S_VERB_COUNT && !verb; i++)
            if (streq (s_verbs[i].group, group) && streq (s_verbs[i].verb, argv[1]))
                verb = &s_verbs[i];
        if (!verb) {
            ld_cli_error ("unknown %s verb '%s'; see 'liandong %s --help'", group, argv[1], group);
            return EX_USAGE;
        }
        argc--;
        argv++;
    }
    int code = s_parse_verb (verb, argc, argv, action);
    if (code != EX_OK)
        ld_action_clear (action);
    return code;
}

void
ld_action_clear (ld_action_t *action)
{
    free (action->payload);
    action->payload = NULL;
    action->payload_size = 0;
}
