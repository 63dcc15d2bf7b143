/*  ld_pbjson.c -- protobuf messages as JSON, generically. See ld_pbjson.h.

    Everything here walks protobuf-c's descriptors; no message type is named
    except Body, in ld_event_to_json, to swap the payload bytes for the
    decoded payload.

    Printing. Fields come out in descriptor order (protoc-c sorts them by
    field number) and jansson keeps insertion order, so the output is stable
    and golden files can pin it byte for byte. A field is printed when it is
    present: required always, proto2 optional by its has_ flag (or, for
    strings and messages, a pointer other than NULL and the default, the
    rule protobuf-c's own packer uses), oneof members by the case field,
    repeated when non-empty, proto3 singular fields when not zero. Floating
    point: NaN and the infinities print as "NaN", "Infinity", "-Infinity" as
    the mapping says; other values are numbers with jansson's 17 significant
    digits, which round-trip exactly but are not always the shortest form
    other tools print (no field of ours is floating point yet).

    Parsing. A message is built the way protobuf-c builds one: calloc'ed
    with the system allocator, initialised by the descriptor's
    message_init, members written at the descriptor's offsets, has_ flags,
    oneof cases and repeated counts set as the values land. Every partial
    result is a valid message at every step, so a failure anywhere frees
    with protobuf_c_message_free_unpacked (m, NULL) -- which frees strings,
    bytes, repeated arrays and sub-messages with free() and leaves default
    values alone.

    Limits. A JSON document is as hostile as wire bytes, so while building
    we bound what would make a message large (repeated counts, string and
    bytes lengths, nesting), and once built the message is packed and put
    through ld_codec_check: a message from JSON obeys exactly the limits,
    UTF-8 and required-field rules of one received from the network, and
    the limits are written down in one place only.
*/
#include "ld_pbjson.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_codec.h"
#include "ld_limits.h"
#include "ld_payload.h"
#include "ld_utf8.h"
#include "liandong.pb-c.h"

//  Coarse bounds applied while building, before the exact check by
//  ld_codec_check: no string or bytes field can be larger than an envelope.
#define S_VALUE_MAX  LD_ENVELOPE_MAX_DEFAULT
#define S_BASE64_MAX (((S_VALUE_MAX + 2) / 3) * 4) //  characters, padded
#define S_PATH_MAX   256                           //  field path in messages

//  Member of a message at a descriptor offset.
#define S_MEMBER(type, message, offset) ((type *) ((uint8_t *) (message) + (offset)))

//  --------------------------------------------------------------------------
//  Names

//  What a bytes field holds, by its name (see ld_pbjson.h).
typedef enum { S_BYTES_PLAIN, S_BYTES_KEY, S_BYTES_ID } s_bytes_kind_t;

static bool
s_ends_with (const char *name, const char *suffix)
{
    size_t len = strlen (name), suffix_len = strlen (suffix);
    return len >= suffix_len && strcmp (name + len - suffix_len, suffix) == 0;
}

static s_bytes_kind_t
s_bytes_kind (const ProtobufCFieldDescriptor *field)
{
    const char *name = field->name;
    if (strcmp (name, "author") == 0 || strcmp (name, "subject") == 0 || strcmp (name, "key") == 0
        || s_ends_with (name, "_key"))
        return S_BYTES_KEY;
    if (strcmp (name, "prev") == 0 || strcmp (name, "id") == 0 || s_ends_with (name, "_id")
        || s_ends_with (name, "_ref"))
        return S_BYTES_ID;
    return S_BYTES_PLAIN;
}

//  The JSON name protoc derives from a field name: each underscore dropped
//  and the letter after it capitalised ("time_ms" -> "timeMs"). Heap
//  string, or NULL on allocation failure.
static char *
s_json_name (const char *name)
{
    char *json_name = malloc (strlen (name) + 1);
    if (!json_name)
        return NULL;
    char *out = json_name;
    bool upper = false;
    for (const char *c = name; *c; c++) {
        if (*c == '_')
            upper = true;
        else {
            *out++ = upper && *c >= 'a' && *c <= 'z' ? (char) (*c - 'a' + 'A') : *c;
            upper = false;
        }
    }
    *out = '\0';
    return json_name;
}

//  True if key is the field's proto name or its JSON name.
static bool
s_name_matches (const ProtobufCFieldDescriptor *field, const char *key)
{
    if (strcmp (field->name, key) == 0)
        return true;
    bool upper = false;
    const char *k = key;
    for (const char *c = field->name; *c; c++) {
        if (*c == '_') {
            upper = true;
            continue;
        }
        char expected = upper && *c >= 'a' && *c <= 'z' ? (char) (*c - 'a' + 'A') : *c;
        upper = false;
        if (*k++ != expected)
            return false;
    }
    return *k == '\0';
}

//  --------------------------------------------------------------------------
//  Message -> JSON

static size_t
s_value_size (ProtobufCType type)
{
    switch (type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_ENUM: //  protobuf-c forces enums to int size
            return sizeof (int32_t);
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            return sizeof (int64_t);
        case PROTOBUF_C_TYPE_FLOAT:
            return sizeof (float);
        case PROTOBUF_C_TYPE_DOUBLE:
            return sizeof (double);
        case PROTOBUF_C_TYPE_BOOL:
            return sizeof (protobuf_c_boolean);
        case PROTOBUF_C_TYPE_STRING:
            return sizeof (char *);
        case PROTOBUF_C_TYPE_BYTES:
            return sizeof (ProtobufCBinaryData);
        case PROTOBUF_C_TYPE_MESSAGE:
            return sizeof (ProtobufCMessage *);
    }
    return 0;
}

//  True if a proto3 singular (unlabelled) value is its type's zero, which
//  the canonical mapping leaves out.
static bool
s_is_zero (const ProtobufCFieldDescriptor *field, const void *value)
{
    switch (field->type) {
        case PROTOBUF_C_TYPE_STRING: {
            const char *text = *(char *const *) value;
            return !text || !*text;
        }
        case PROTOBUF_C_TYPE_BYTES:
            return ((const ProtobufCBinaryData *) value)->len == 0;
        case PROTOBUF_C_TYPE_MESSAGE:
            return *(ProtobufCMessage *const *) value == NULL;
        case PROTOBUF_C_TYPE_FLOAT:
            return *(const float *) value == 0 && !signbit (*(const float *) value);
        case PROTOBUF_C_TYPE_DOUBLE:
            return *(const double *) value == 0 && !signbit (*(const double *) value);
        default: {
            //  integers, bools and enums: all bytes zero
            static const uint8_t zero[sizeof (int64_t)] = {0};
            return memcmp (value, zero, s_value_size (field->type)) == 0;
        }
    }
}

static bool
s_is_present (const ProtobufCMessage *message, const ProtobufCFieldDescriptor *field)
{
    const void *value = S_MEMBER (const void, message, field->offset);
    bool by_pointer =
        field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_MESSAGE;
    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        return *S_MEMBER (const size_t, message, field->quantifier_offset) > 0;
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*S_MEMBER (const uint32_t, message, field->quantifier_offset) != field->id)
            return false;
        return !by_pointer || *(void *const *) value != NULL;
    }
    switch (field->label) {
        case PROTOBUF_C_LABEL_REQUIRED:
            //  a required message left NULL by a caller has nothing to print
            return field->type != PROTOBUF_C_TYPE_MESSAGE || *(void *const *) value != NULL;
        case PROTOBUF_C_LABEL_OPTIONAL:
            if (by_pointer) {
                const void *pointer = *(void *const *) value;
                return pointer != NULL && pointer != field->default_value;
            }
            return *S_MEMBER (const protobuf_c_boolean, message, field->quantifier_offset);
        default: //  PROTOBUF_C_LABEL_NONE: proto3 implicit presence
            return !s_is_zero (field, value);
    }
}

static json_t *
s_real_to_json (double value)
{
    if (isnan (value))
        return json_string ("NaN");
    if (isinf (value))
        return json_string (value > 0 ? "Infinity" : "-Infinity");
    return json_real (value);
}

static json_t *
s_bytes_to_json (const ProtobufCFieldDescriptor *field, const ProtobufCBinaryData *bytes)
{
    s_bytes_kind_t kind = s_bytes_kind (field);
    if (kind == S_BYTES_KEY && bytes->len == LD_KEY_BYTES) {
        char text[LD_KEY_TEXT_BYTES];
        ld_key_to_text (bytes->data, text);
        return json_string (text);
    }
    if (kind == S_BYTES_ID && bytes->len == LD_ID_BYTES) {
        char text[LD_ID_TEXT_BYTES];
        ld_id_to_text (bytes->data, text);
        return json_string (text);
    }
    static const uint8_t empty[1] = {0};
    char *base64 = ld_base64_encode (bytes->len ? bytes->data : empty, bytes->len);
    if (!base64)
        return NULL;
    json_t *json = json_string (base64);
    free (base64);
    return json;
}

static json_t *
s_value_to_json (const ProtobufCFieldDescriptor *field, const void *value)
{
    char number[24]; //  a 64-bit integer in decimal, with sign and NUL
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            return json_integer (*(const int32_t *) value);
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            return json_integer (*(const uint32_t *) value);
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            //  64-bit integers are strings: JSON numbers lose precision past 2^53
            snprintf (number, sizeof number, "%" PRId64, *(const int64_t *) value);
            return json_string (number);
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            snprintf (number, sizeof number, "%" PRIu64, *(const uint64_t *) value);
            return json_string (number);
        case PROTOBUF_C_TYPE_FLOAT:
            return s_real_to_json (*(const float *) value);
        case PROTOBUF_C_TYPE_DOUBLE:
            return s_real_to_json (*(const double *) value);
        case PROTOBUF_C_TYPE_BOOL:
            return json_boolean (*(const protobuf_c_boolean *) value);
        case PROTOBUF_C_TYPE_ENUM: {
            int number_value = *(const int *) value;
            const ProtobufCEnumValue *known =
                protobuf_c_enum_descriptor_get_value (field->descriptor, number_value);
            //  a value this build has no name for prints as its number
            return known ? json_string (known->name) : json_integer (number_value);
        }
        case PROTOBUF_C_TYPE_STRING: {
            const char *text = *(char *const *) value;
            //  json_string refuses invalid UTF-8 (impossible after
            //  ld_codec_check): NULL then, never a broken document
            return json_string (text ? text : "");
        }
        case PROTOBUF_C_TYPE_BYTES:
            return s_bytes_to_json (field, value);
        case PROTOBUF_C_TYPE_MESSAGE: {
            const ProtobufCMessage *child = *(ProtobufCMessage *const *) value;
            return child ? ld_pbjson_from_message (child) : json_object ();
        }
    }
    return NULL;
}

static json_t *
s_field_to_json (const ProtobufCMessage *message, const ProtobufCFieldDescriptor *field)
{
    const void *value = S_MEMBER (const void, message, field->offset);
    if (field->label != PROTOBUF_C_LABEL_REPEATED)
        return s_value_to_json (field, value);
    json_t *array = json_array ();
    if (!array)
        return NULL;
    size_t count = *S_MEMBER (const size_t, message, field->quantifier_offset);
    const uint8_t *element = *(uint8_t *const *) value;
    size_t element_size = s_value_size (field->type);
    for (size_t i = 0; i < count; i++, element += element_size)
        if (json_array_append_new (array, s_value_to_json (field, element)) != 0) {
            json_decref (array);
            return NULL;
        }
    return array;
}

json_t *
ld_pbjson_from_message (const ProtobufCMessage *message)
{
    const ProtobufCMessageDescriptor *desc = message->descriptor;
    json_t *object = json_object ();
    if (!object)
        return NULL;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (!s_is_present (message, field))
            continue;
        char *name = s_json_name (field->name);
        //  json_object_set_new takes the value's reference even on failure
        int rc = name ? json_object_set_new (object, name, s_field_to_json (message, field)) : -1;
        free (name);
        if (rc != 0) {
            json_decref (object);
            return NULL;
        }
    }
    return object;
}

//  --------------------------------------------------------------------------
//  JSON -> message

//  The parse in progress: the caller's error buffer and the path of the
//  value being read ("liandong.Body.timeMs", "x.Sample.children[2].tags").
typedef struct {
    char *err;
    size_t err_size;
    char path[S_PATH_MAX];
    size_t path_len;
} s_parser_t;

static ld_status_t s_parse_message (s_parser_t *self, const ProtobufCMessageDescriptor *desc,
                                    const json_t *json, int depth, ProtobufCMessage **message_p);

static ld_status_t s_fail (s_parser_t *self, ld_status_t status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static ld_status_t
s_fail (s_parser_t *self, ld_status_t status, const char *fmt, ...)
{
    char detail[256];
    va_list args;
    va_start (args, fmt);
    vsnprintf (detail, sizeof detail, fmt, args);
    va_end (args);
    return ld_fail (self->err, self->err_size, status, "'%s' %s", self->path, detail);
}

//  Appends ".name" or "[index]" to the path; returns the length to restore.
static size_t
s_path_push_name (s_parser_t *self, const char *name)
{
    size_t saved = self->path_len;
    int n = snprintf (self->path + saved, sizeof self->path - saved, ".%s", name);
    if (n > 0)
        self->path_len =
            saved + (size_t) n < sizeof self->path ? saved + (size_t) n : sizeof self->path - 1;
    return saved;
}

static size_t
s_path_push_index (s_parser_t *self, size_t index)
{
    size_t saved = self->path_len;
    int n = snprintf (self->path + saved, sizeof self->path - saved, "[%zu]", index);
    if (n > 0)
        self->path_len =
            saved + (size_t) n < sizeof self->path ? saved + (size_t) n : sizeof self->path - 1;
    return saved;
}

static void
s_path_pop (s_parser_t *self, size_t saved)
{
    self->path_len = saved;
    self->path[saved] = '\0';
}

static const char *
s_json_type_name (const json_t *json)
{
    switch (json_typeof (json)) {
        case JSON_OBJECT:
            return "an object";
        case JSON_ARRAY:
            return "an array";
        case JSON_STRING:
            return "a string";
        case JSON_INTEGER:
        case JSON_REAL:
            return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
            return "a boolean";
        case JSON_NULL:
            return "null";
    }
    return "a value";
}

//  Decimal text -> sign and magnitude: an optional '-' and digits, nothing
//  else (no spaces, '+' or exponent). False if malformed; *overflow is set
//  if the magnitude passes UINT64_MAX.
static bool
s_decimal_parse (const char *text, bool *negative, uint64_t *magnitude, bool *overflow)
{
    *negative = *text == '-';
    if (*negative)
        text++;
    if (!*text)
        return false;
    uint64_t value = 0;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return false;
        unsigned digit = (unsigned) (*text - '0');
        if (value > (UINT64_MAX - digit) / 10)
            *overflow = true;
        value = value * 10 + digit;
    }
    *magnitude = value;
    return true;
}

//  Reads an integer given as a JSON number or a decimal string, within
//  [min, max] (signed) or [0, umax] (is_unsigned).
static ld_status_t
s_integer_parse (s_parser_t *self, const json_t *json, bool is_unsigned, int64_t min, int64_t max,
                 uint64_t umax, uint64_t *bits)
{
    bool negative, overflow = false;
    uint64_t magnitude;
    if (json_is_integer (json)) {
        json_int_t value = json_integer_value (json);
        negative = value < 0;
        magnitude = negative ? (uint64_t) 0 - (uint64_t) value : (uint64_t) value;
    }
    else if (json_is_real (json)) {
        //  1e3 or 5.0 are integers written as reals; 2.5 is not
        double value = json_real_value (json);
        if (value != trunc (value) || fabs (value) >= 18446744073709551616.0)
            return s_fail (self, LD_ERR_BAD_FORMAT, "is not an integer");
        negative = value < 0;
        magnitude = (uint64_t) fabs (value);
    }
    else if (json_is_string (json)) {
        if (!s_decimal_parse (json_string_value (json), &negative, &magnitude, &overflow))
            return s_fail (self, LD_ERR_BAD_FORMAT, "is not a decimal integer: \"%.40s\"",
                           json_string_value (json));
    }
    else
        return s_fail (self, LD_ERR_BAD_FORMAT, "must be an integer, not %s",
                       s_json_type_name (json));

    if (is_unsigned) {
        if (overflow || (negative && magnitude != 0) || magnitude > umax)
            return s_fail (self, LD_ERR_BAD_FORMAT, "is out of range 0..%" PRIu64, umax);
        *bits = magnitude;
        return LD_OK;
    }
    bool in_range =
        !overflow
        && (negative ? magnitude <= (uint64_t) 0 - (uint64_t) min : magnitude <= (uint64_t) max);
    if (!in_range)
        return s_fail (self, LD_ERR_BAD_FORMAT, "is out of range %" PRId64 "..%" PRId64, min, max);
    *bits = negative ? (uint64_t) 0 - magnitude : magnitude;
    return LD_OK;
}

static ld_status_t
s_real_parse (s_parser_t *self, const json_t *json, bool is_float, double *value)
{
    if (json_is_number (json))
        *value = json_number_value (json);
    else if (json_is_string (json)) {
        const char *text = json_string_value (json);
        char *end = NULL;
        if (strcmp (text, "NaN") == 0)
            *value = NAN;
        else if (strcmp (text, "Infinity") == 0)
            *value = INFINITY;
        else if (strcmp (text, "-Infinity") == 0)
            *value = -INFINITY;
        else {
            //  a finite number written as a string, as the mapping allows;
            //  the charset keeps out strtod's "inf", "nan" and hex forms
            bool decimal = *text && strspn (text, "0123456789+-.eE") == strlen (text);
            *value = decimal ? strtod (text, &end) : 0;
            if (!decimal || *end != '\0' || !isfinite (*value))
                return s_fail (self, LD_ERR_BAD_FORMAT, "is not a number: \"%.40s\"", text);
        }
    }
    else
        return s_fail (self, LD_ERR_BAD_FORMAT, "must be a number, not %s",
                       s_json_type_name (json));
    if (is_float && isfinite (*value) && fabs (*value) > FLT_MAX)
        return s_fail (self, LD_ERR_BAD_FORMAT, "is out of range for a float");
    return LD_OK;
}

static ld_status_t
s_string_parse (s_parser_t *self, const json_t *json, char **text_p)
{
    if (!json_is_string (json))
        return s_fail (self, LD_ERR_BAD_FORMAT, "must be a string, not %s",
                       s_json_type_name (json));
    size_t len = json_string_length (json);
    if (len > S_VALUE_MAX)
        return s_fail (self, LD_ERR_STRING_TOO_LONG, "is %zu bytes (limit %d)", len, S_VALUE_MAX);
    //  jansson has checked UTF-8, but a string built with json_stringn may
    //  hold NUL, which C readers of the message would silently cut at
    const char *text = json_string_value (json);
    if (!ld_utf8_valid ((const uint8_t *) text, len))
        return s_fail (self, LD_ERR_BAD_UTF8, "holds a NUL byte or invalid UTF-8");
    char *copy = malloc (len + 1);
    if (!copy)
        return s_fail (self, LD_ERR_NOMEM, "cannot be allocated");
    memcpy (copy, text, len + 1);
    *text_p = copy;
    return LD_OK;
}

//  The libsodium variant for base64 text: standard or URL-safe alphabet
//  (not both), padded or not; -1 if a character is outside both. The
//  alphabet is checked here because libsodium 1.0.18 (Debian 12) takes any
//  byte >= 0x80 for a digit.
static int
s_base64_variant (const char *text, size_t len)
{
    size_t digits = len;
    while (digits > 0 && text[digits - 1] == '=')
        digits--;
    bool standard = false, url_safe = false;
    for (size_t i = 0; i < digits; i++) {
        char c = text[i];
        if (c == '+' || c == '/')
            standard = true;
        else if (c == '-' || c == '_')
            url_safe = true;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return -1;
    }
    bool padded = digits < len;
    if (standard && url_safe)
        return -1;
    if (url_safe)
        return padded ? sodium_base64_VARIANT_URLSAFE : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    return padded ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
}

//  Bytes: standard or URL-safe base64, padded or not; for fields named as
//  keys or ids, also their text forms.
static ld_status_t
s_bytes_parse (s_parser_t *self, const ProtobufCFieldDescriptor *field, const json_t *json,
               ProtobufCBinaryData *bytes)
{
    if (!json_is_string (json))
        return s_fail (self, LD_ERR_BAD_FORMAT, "must be a base64 string, not %s",
                       s_json_type_name (json));
    const char *text = json_string_value (json);
    size_t len = json_string_length (json);
    s_bytes_kind_t kind = s_bytes_kind (field);
    const char *prefix = kind == S_BYTES_KEY  ? LD_KEY_PREFIX
                         : kind == S_BYTES_ID ? LD_ID_PREFIX
                                              : NULL;
    if (prefix && strncmp (text, prefix, strlen (prefix)) == 0) {
        //  LD_KEY_BYTES == LD_ID_BYTES: one buffer fits both forms
        uint8_t *data = malloc (LD_KEY_BYTES);
        if (!data)
            return s_fail (self, LD_ERR_NOMEM, "cannot be allocated");
        ld_status_t rc =
            kind == S_BYTES_KEY ? ld_key_from_text (text, data) : ld_id_from_text (text, data);
        if (rc != LD_OK) {
            free (data);
            return s_fail (self, LD_ERR_BAD_FORMAT, "is not a valid %s text form",
                           kind == S_BYTES_KEY ? "key" : "event id");
        }
        bytes->data = data;
        bytes->len = LD_KEY_BYTES;
        return LD_OK;
    }
    if (len > S_BASE64_MAX)
        return s_fail (self, LD_ERR_STRING_TOO_LONG, "is %zu base64 characters (limit %d)", len,
                       S_BASE64_MAX);
    int variant = s_base64_variant (text, len);
    if (variant < 0)
        return s_fail (self, LD_ERR_BAD_FORMAT, "is not valid base64");
    size_t max = len / 4 * 3 + 3;
    uint8_t *data = malloc (max);
    if (!data)
        return s_fail (self, LD_ERR_NOMEM, "cannot be allocated");
    size_t size = 0;
    const char *end = NULL;
    if (sodium_base642bin (data, max, text, len, NULL, &size, &end, variant) != 0
        || end != text + len) {
        free (data);
        return s_fail (self, LD_ERR_BAD_FORMAT, "is not valid base64");
    }
    bytes->data = data;
    bytes->len = size;
    return LD_OK;
}

//  Reads one value of the field's type into slot (a member, or an element
//  of a repeated array). On failure slot is unchanged.
static ld_status_t
s_value_parse (s_parser_t *self, const ProtobufCFieldDescriptor *field, const json_t *json,
               int depth, void *slot)
{
    uint64_t bits = 0;
    double real = 0;
    ld_status_t rc;
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            rc = s_integer_parse (self, json, false, INT32_MIN, INT32_MAX, 0, &bits);
            if (rc == LD_OK)
                *(int32_t *) slot = (int32_t) (int64_t) bits;
            return rc;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            rc = s_integer_parse (self, json, true, 0, 0, UINT32_MAX, &bits);
            if (rc == LD_OK)
                *(uint32_t *) slot = (uint32_t) bits;
            return rc;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            rc = s_integer_parse (self, json, false, INT64_MIN, INT64_MAX, 0, &bits);
            if (rc == LD_OK)
                *(int64_t *) slot = (int64_t) bits;
            return rc;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            rc = s_integer_parse (self, json, true, 0, 0, UINT64_MAX, &bits);
            if (rc == LD_OK)
                *(uint64_t *) slot = bits;
            return rc;
        case PROTOBUF_C_TYPE_FLOAT:
            rc = s_real_parse (self, json, true, &real);
            if (rc == LD_OK)
                *(float *) slot = (float) real;
            return rc;
        case PROTOBUF_C_TYPE_DOUBLE:
            rc = s_real_parse (self, json, false, &real);
            if (rc == LD_OK)
                *(double *) slot = real;
            return rc;
        case PROTOBUF_C_TYPE_BOOL:
            if (!json_is_boolean (json))
                return s_fail (self, LD_ERR_BAD_FORMAT, "must be true or false, not %s",
                               s_json_type_name (json));
            *(protobuf_c_boolean *) slot = json_is_true (json);
            return LD_OK;
        case PROTOBUF_C_TYPE_ENUM: {
            const ProtobufCEnumDescriptor *enum_desc = field->descriptor;
            const ProtobufCEnumValue *value = NULL;
            if (json_is_string (json))
                value = protobuf_c_enum_descriptor_get_value_by_name (enum_desc,
                                                                      json_string_value (json));
            else if (json_is_integer (json) && json_integer_value (json) >= INT32_MIN
                     && json_integer_value (json) <= INT32_MAX)
                value = protobuf_c_enum_descriptor_get_value (enum_desc,
                                                              (int) json_integer_value (json));
            else
                return s_fail (self, LD_ERR_BAD_FORMAT, "must be a %s name, not %s",
                               enum_desc->name, s_json_type_name (json));
            if (!value)
                return s_fail (self, LD_ERR_BAD_FORMAT, "is not a value of %s", enum_desc->name);
            *(int *) slot = value->value;
            return LD_OK;
        }
        case PROTOBUF_C_TYPE_STRING:
            return s_string_parse (self, json, (char **) slot);
        case PROTOBUF_C_TYPE_BYTES:
            return s_bytes_parse (self, field, json, (ProtobufCBinaryData *) slot);
        case PROTOBUF_C_TYPE_MESSAGE:
            return s_parse_message (self, field->descriptor, json, depth + 1,
                                    (ProtobufCMessage **) slot);
    }
    return s_fail (self, LD_ERR_BAD_FORMAT, "has a type this build cannot read");
}

static ld_status_t
s_repeated_parse (s_parser_t *self, ProtobufCMessage *message,
                  const ProtobufCFieldDescriptor *field, const json_t *json, int depth)
{
    if (!json_is_array (json))
        return s_fail (self, LD_ERR_BAD_FORMAT, "must be an array, not %s",
                       s_json_type_name (json));
    size_t count = json_array_size (json);
    if (count > LD_REPEATED_MAX)
        return s_fail (self, LD_ERR_TOO_MANY, "has %zu elements (limit %d)", count,
                       LD_REPEATED_MAX);
    if (count == 0)
        return LD_OK;
    size_t element_size = s_value_size (field->type);
    uint8_t *array = calloc (count, element_size);
    if (!array)
        return s_fail (self, LD_ERR_NOMEM, "cannot be allocated");
    //  The array and its count go into the message first and the count
    //  grows as elements land, so a failure half-way frees cleanly.
    *S_MEMBER (uint8_t *, message, field->offset) = array;
    size_t *filled = S_MEMBER (size_t, message, field->quantifier_offset);
    for (size_t i = 0; i < count; i++) {
        size_t saved = s_path_push_index (self, i);
        const json_t *element = json_array_get (json, i);
        ld_status_t rc =
            json_is_null (element)
                ? s_fail (self, LD_ERR_BAD_FORMAT, "is null in an array")
                : s_value_parse (self, field, element, depth, array + i * element_size);
        if (rc != LD_OK)
            return rc;
        s_path_pop (self, saved);
        (*filled)++;
    }
    return LD_OK;
}

static const ProtobufCFieldDescriptor *
s_field_find (const ProtobufCMessageDescriptor *desc, const char *key)
{
    for (unsigned i = 0; i < desc->n_fields; i++)
        if (s_name_matches (&desc->fields[i], key))
            return &desc->fields[i];
    return NULL;
}

#define S_GIVEN_NULL  1
#define S_GIVEN_VALUE 2

//  Reads one member (json is not null) into message.
static ld_status_t
s_field_parse (s_parser_t *self, ProtobufCMessage *message, const ProtobufCFieldDescriptor *field,
               const json_t *json, int depth)
{
    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        return s_repeated_parse (self, message, field, json, depth);
    uint32_t *oneof_case = NULL;
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        oneof_case = S_MEMBER (uint32_t, message, field->quantifier_offset);
        if (*oneof_case != 0) {
            //  the members of a oneof share storage: only one may be set
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field (message->descriptor, *oneof_case);
            return s_fail (self, LD_ERR_BAD_FORMAT, "cannot be set with '%s' (oneof)",
                           other ? other->name : "?");
        }
    }
    //  Parse into a local first so that the member changes only on success.
    //  A string or bytes member may hold its field's static default: it is
    //  replaced, never freed.
    union {
        int32_t i32;
        int64_t i64;
        float f;
        double d;
        protobuf_c_boolean b;
        char *string;
        ProtobufCBinaryData bytes;
        ProtobufCMessage *message;
    } value;
    memset (&value, 0, sizeof value);
    ld_status_t rc = s_value_parse (self, field, json, depth, &value);
    if (rc != LD_OK)
        return rc;
    memcpy (S_MEMBER (void, message, field->offset), &value, s_value_size (field->type));
    if (oneof_case)
        *oneof_case = field->id;
    else if (field->label == PROTOBUF_C_LABEL_OPTIONAL && field->type != PROTOBUF_C_TYPE_STRING
             && field->type != PROTOBUF_C_TYPE_MESSAGE)
        *S_MEMBER (protobuf_c_boolean, message, field->quantifier_offset) = 1;
    return LD_OK;
}

static ld_status_t
s_parse_message (s_parser_t *self, const ProtobufCMessageDescriptor *desc, const json_t *json,
                 int depth, ProtobufCMessage **message_p)
{
    if (depth > LD_DEPTH_MAX)
        return s_fail (self, LD_ERR_TOO_DEEP, "nests messages deeper than %d", LD_DEPTH_MAX);
    if (!json_is_object (json))
        return s_fail (self, LD_ERR_BAD_FORMAT, "must be an object (%s), not %s", desc->name,
                       s_json_type_name (json));
    ProtobufCMessage *message = calloc (1, desc->sizeof_message);
    if (!message)
        return s_fail (self, LD_ERR_NOMEM, "cannot be allocated");
    //  From here on the message is valid, so free_unpacked can free it.
    if (desc->message_init)
        desc->message_init (message);
    else
        message->descriptor = desc;
    //  per field: 0 not given, S_GIVEN_NULL, S_GIVEN_VALUE
    uint8_t *seen = calloc (desc->n_fields ? desc->n_fields : 1, sizeof *seen);
    ld_status_t rc;
    if (!seen) {
        rc = s_fail (self, LD_ERR_NOMEM, "cannot be allocated");
        goto free_partial;
    }

    const char *key;
    json_t *value;
    //  json_object_foreach wants a non-const object; it only reads it
    json_object_foreach ((json_t *) json, key, value)
    {
        size_t saved = s_path_push_name (self, key);
        const ProtobufCFieldDescriptor *field = s_field_find (desc, key);
        if (!field) {
            rc = s_fail (self, LD_ERR_BAD_FORMAT, "is not a field of %s", desc->name);
            goto free_partial;
        }
        size_t index = (size_t) (field - desc->fields);
        if (seen[index]) {
            rc = s_fail (self, LD_ERR_BAD_FORMAT, "is given twice (as '%s' and its other name)",
                         field->name);
            goto free_partial;
        }
        //  null means "absent", as in the canonical mapping
        seen[index] = json_is_null (value) ? S_GIVEN_NULL : S_GIVEN_VALUE;
        if (seen[index] == S_GIVEN_VALUE) {
            rc = s_field_parse (self, message, field, value, depth);
            if (rc != LD_OK)
                goto free_partial;
        }
        s_path_pop (self, saved);
    }
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (field->label != PROTOBUF_C_LABEL_REQUIRED || field->default_value)
            continue;
        if (seen[i] != S_GIVEN_VALUE) {
            char *name = s_json_name (field->name);
            size_t saved = s_path_push_name (self, name ? name : field->name);
            free (name);
            rc = s_fail (self, LD_ERR_MISSING_FIELD, "is required");
            s_path_pop (self, saved);
            goto free_partial;
        }
    }
    free (seen);
    *message_p = message;
    return LD_OK;

free_partial:
    free (seen);
    protobuf_c_message_free_unpacked (message, NULL);
    return rc;
}

//  The wire rules, once the message is whole: pack it and scan the bytes
//  with the same checks a received message passes.
static ld_status_t
s_check_as_wire (const ProtobufCMessage *message, char *err, size_t err_size)
{
    uint8_t *data = NULL;
    size_t size = 0;
    ld_status_t rc = ld_payload_pack (message, &data, &size);
    if (rc != LD_OK)
        return rc;
    rc = ld_codec_check (message->descriptor, data, size, err, err_size);
    free (data);
    return rc;
}

ld_status_t
ld_pbjson_to_message (const ProtobufCMessageDescriptor *desc, const json_t *json,
                      ProtobufCMessage **message_p, char *err, size_t err_size)
{
    *message_p = NULL;
    s_parser_t parser = {.err = err, .err_size = err_size};
    snprintf (parser.path, sizeof parser.path, "%s", desc->name);
    parser.path_len = strlen (parser.path);
    ProtobufCMessage *message = NULL;
    ld_status_t rc = s_parse_message (&parser, desc, json, 0, &message);
    if (rc != LD_OK)
        return rc;
    rc = s_check_as_wire (message, err, err_size);
    if (rc != LD_OK) {
        ld_pbjson_message_free (message);
        return rc;
    }
    *message_p = message;
    return LD_OK;
}

void
ld_pbjson_message_free (ProtobufCMessage *message)
{
    //  Everything ld_pbjson_to_message allocates comes from malloc/calloc,
    //  which is what protobuf-c's default (NULL) allocator frees with.
    protobuf_c_message_free_unpacked (message, NULL);
}

//  --------------------------------------------------------------------------
//  Events

//  The body object with "payload" replaced by the decoded payload when the
//  type is known. NULL on allocation failure.
static json_t *
s_body_to_json (const ld_event_t *event)
{
    size_t body_size;
    const uint8_t *body_bytes = ld_event_body (event, &body_size);
    //  These bytes passed ld_event_decode's checks when the event was made.
    Liandong__Body *body = liandong__body__unpack (NULL, body_size, body_bytes);
    if (!body)
        return NULL;
    json_t *json = ld_pbjson_from_message (&body->base);
    if (json && body->has_payload && ld_event_type_known (event)) {
        ProtobufCMessage *payload = NULL;
        if (ld_payload_unpack (body->type, body->payload.data, body->payload.len, &payload, NULL, 0)
            == LD_OK) {
            //  replacing a key keeps its place in jansson's order
            if (json_object_set_new (json, "payload", ld_pbjson_from_message (payload)) != 0) {
                json_decref (json);
                json = NULL;
            }
            protobuf_c_message_free_unpacked (payload, NULL);
        }
    }
    liandong__body__free_unpacked (body, NULL);
    return json;
}

json_t *
ld_event_to_json (const ld_event_t *event)
{
    char id[LD_ID_TEXT_BYTES];
    ld_id_to_text (ld_event_id (event), id);
    char *signature = ld_base64_encode (ld_event_signature (event), LD_SIG_BYTES);
    json_t *json = json_object ();
    if (!signature || !json || json_object_set_new (json, "id", json_string (id)) != 0
        || json_object_set_new (json, "signature", json_string (signature)) != 0
        || json_object_set_new (json, "body", s_body_to_json (event)) != 0) {
        json_decref (json);
        json = NULL;
    }
    free (signature);
    return json;
}
