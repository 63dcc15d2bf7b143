/*  ld_codec.c -- bounded scan of protobuf wire bytes. See ld_codec.h.

    Wire format (protobuf encoding): a message is a sequence of
    (key varint, value) where key = field_number << 3 | wire_type and the
    value is a varint (0), 8 bytes (1), a length-delimited run (2) or
    4 bytes (5). Groups (3, 4) are obsolete and refused. Packed repeated
    scalars are one length-delimited run; their element count is checked
    like any other repeated field.
*/
#include "ld_codec.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ld_crypto.h"
#include "ld_limits.h"
#include "ld_utf8.h"

//  No message of ours has more fields than this; checked by assert because
//  it is a property of our schema, not of the input.
#define LD_CODEC_FIELDS_MAX 64

//  Fields of the event schema whose limit differs from the defaults.
//  SIZE_MAX: bounded only by the enclosing envelope.
static const ld_codec_limit_t s_limits[] = {
    {"liandong.Envelope", "body", SIZE_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Body", "payload", SIZE_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Body", "topic", LD_TOPIC_MAX, LD_ERR_TOPIC_TOO_LONG, 0},
    {"liandong.Body", "type", LD_TYPE_MAX, LD_ERR_BAD_TYPE, 0},
    {"liandong.Note", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Receipt", "ranges", 0, 0, LD_RECEIPT_RANGES_MAX},
    {"liandong.Certify", "subject", LD_KEY_BYTES, LD_ERR_BAD_KEY, 0},
    {"liandong.Certify", "level", LD_LEVEL_NAME_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Certify", "path", LD_TOPIC_MAX, LD_ERR_TOPIC_TOO_LONG, 0},
    {"liandong.Certify", "name", LD_NAME_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Revoke", "subject", LD_KEY_BYTES, LD_ERR_BAD_KEY, 0},
    {"liandong.Rotate", "successor_key", LD_KEY_BYTES, LD_ERR_BAD_KEY, 0},
    {"liandong.MeetingConvene", "attendees", LD_KEY_BYTES, LD_ERR_BAD_KEY, 0},
    {"liandong.TaskSpec", "unit", LD_KEY_BYTES, LD_ERR_BAD_KEY, 0},
    {"liandong.Checkin", "unit", LD_KEY_BYTES, LD_ERR_BAD_KEY, 0},
    {"liandong.AgreementPropose", "unit", LD_KEY_BYTES, LD_ERR_BAD_KEY, 0},
    {"liandong.ResolutionAdopt", "meeting", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.TaskRef", "resolution", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.ResolutionClose", "resolution", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.Service", "checkin", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.Feedback", "checkin", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.Evaluate", "checkin", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.AgreementSign", "agreement", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.WishAction", "wish", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.IncidentAction", "incident", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.Amend", "original", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.Withdraw", "original", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.SealedPerson", "commitment", LD_ID_BYTES, LD_ERR_BAD_PAYLOAD, 0},
    {"liandong.IncidentAction", "units", LD_KEY_BYTES, LD_ERR_BAD_KEY, LD_LEDGER_LIST_MAX},
    {"liandong.MeetingConvene", "agenda", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, LD_LEDGER_LIST_MAX},
    {"liandong.ResolutionAdopt", "tasks", 0, 0, LD_LEDGER_LIST_MAX},
    {"liandong.ResolutionAdopt", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.TaskAction", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.ResolutionClose", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.WishPost", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.WishAction", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.IncidentReport", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.IncidentAction", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Feedback", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.Evaluate", "text", LD_TEXT_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.SealedPerson", "sealed", LD_STRING_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.SealedPerson", "nonce", 24, LD_ERR_BAD_PAYLOAD, 0},
};

typedef struct {
    const ld_codec_limit_t *extra;
    size_t extra_count;
    char *err;
    size_t err_size;
} s_scan_t;

static const ld_codec_limit_t *
s_find_limit (const ld_codec_limit_t *table, size_t count, const ProtobufCMessageDescriptor *desc,
              const ProtobufCFieldDescriptor *field)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp (table[i].message, desc->name) == 0 && strcmp (table[i].field, field->name) == 0)
            return &table[i];
    return NULL;
}

static void
s_limit_for (const s_scan_t *scan, const ProtobufCMessageDescriptor *desc,
             const ProtobufCFieldDescriptor *field, size_t *max, ld_status_t *status,
             size_t *max_count)
{
    *max = LD_STRING_MAX;
    *status = LD_ERR_STRING_TOO_LONG;
    *max_count = LD_REPEATED_MAX;
    const ld_codec_limit_t *limit = s_find_limit (scan->extra, scan->extra_count, desc, field);
    if (!limit)
        limit = s_find_limit (s_limits, sizeof s_limits / sizeof s_limits[0], desc, field);
    if (!limit)
        return;
    if (limit->max_bytes)
        *max = limit->max_bytes;
    if (limit->status)
        *status = limit->status;
    if (limit->max_count)
        *max_count = limit->max_count;
}

//  Reads one varint; false if truncated or longer than 10 bytes.
static bool
s_varint (const uint8_t **cursor, const uint8_t *end, uint64_t *value)
{
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*cursor >= end)
            return false;
        uint8_t byte = *(*cursor)++;
        if (shift == 63 && byte > 1)
            return false;
        result |= (uint64_t) (byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            *value = result;
            return true;
        }
    }
    return false;
}

static bool
s_is_packable (ProtobufCType type)
{
    return type != PROTOBUF_C_TYPE_STRING && type != PROTOBUF_C_TYPE_BYTES
           && type != PROTOBUF_C_TYPE_MESSAGE;
}

//  Number of elements in a packed run of scalars, or -1 if malformed.
static long
s_packed_count (ProtobufCType type, const uint8_t *data, size_t size)
{
    switch (type) {
        case PROTOBUF_C_TYPE_FIXED64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_DOUBLE:
            return size % 8 ? -1 : (long) (size / 8);
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_FLOAT:
            return size % 4 ? -1 : (long) (size / 4);
        default: {
            long count = 0;
            for (size_t i = 0; i < size; i++)
                if (!(data[i] & 0x80))
                    count++;
            //  the last byte must end a varint
            return (size && (data[size - 1] & 0x80)) ? -1 : count;
        }
    }
}

static ld_status_t
s_check (const s_scan_t *scan, const ProtobufCMessageDescriptor *desc, const uint8_t *data,
         size_t size, int depth)
{
    char *err = scan->err;
    size_t err_size = scan->err_size;
    if (depth > LD_DEPTH_MAX)
        return ld_fail (err, err_size, LD_ERR_TOO_DEEP, "in %s (limit %d)", desc->name,
                        LD_DEPTH_MAX);
    assert (desc->n_fields <= LD_CODEC_FIELDS_MAX);
    uint32_t counts[LD_CODEC_FIELDS_MAX] = {0};
    const uint8_t *cursor = data;
    //  protobuf-c unpacks an empty bytes field as NULL, and NULL + 0 is
    //  undefined behaviour (UBSan aborts on it): an empty message has no end.
    const uint8_t *end = size ? data + size : data;
    while (cursor < end) {
        uint64_t key;
        if (!s_varint (&cursor, end, &key))
            return ld_fail (err, err_size, LD_ERR_MALFORMED, "truncated field key in %s",
                            desc->name);
        uint64_t number = key >> 3;
        unsigned wire_type = key & 7;
        if (number == 0 || number > 536870911)
            return ld_fail (err, err_size, LD_ERR_MALFORMED, "field number %llu in %s",
                            (unsigned long long) number, desc->name);
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field (desc, (unsigned) number);
        size_t index = field ? (size_t) (field - desc->fields) : 0;
        uint64_t value;
        switch (wire_type) {
            case 0:
                if (!s_varint (&cursor, end, &value))
                    return ld_fail (err, err_size, LD_ERR_MALFORMED, "truncated varint in %s",
                                    desc->name);
                if (field)
                    counts[index]++;
                break;
            case 1:
            case 5: {
                size_t width = wire_type == 1 ? 8 : 4;
                if ((size_t) (end - cursor) < width)
                    return ld_fail (err, err_size, LD_ERR_MALFORMED, "truncated fixed in %s",
                                    desc->name);
                cursor += width;
                if (field)
                    counts[index]++;
                break;
            }
            case 2: {
                uint64_t length;
                if (!s_varint (&cursor, end, &length) || length > (uint64_t) (end - cursor))
                    return ld_fail (err, err_size, LD_ERR_MALFORMED, "bad length in %s",
                                    desc->name);
                const uint8_t *value_data = cursor;
                cursor += length;
                if (!field)
                    break;
                if (field->label == PROTOBUF_C_LABEL_REPEATED && s_is_packable (field->type)) {
                    long n = s_packed_count (field->type, value_data, (size_t) length);
                    if (n < 0)
                        return ld_fail (err, err_size, LD_ERR_MALFORMED, "bad packed %s.%s",
                                        desc->name, field->name);
                    counts[index] += (uint32_t) n;
                    break;
                }
                counts[index]++;
                if (field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_BYTES) {
                    size_t max, max_count;
                    ld_status_t status;
                    s_limit_for (scan, desc, field, &max, &status, &max_count);
                    if (length > max)
                        return ld_fail (err, err_size, status, "%s.%s is %llu bytes (limit %zu)",
                                        desc->name, field->name, (unsigned long long) length, max);
                    if (field->type == PROTOBUF_C_TYPE_STRING
                        && !ld_utf8_valid (value_data, (size_t) length))
                        return ld_fail (err, err_size, LD_ERR_BAD_UTF8, "in %s.%s", desc->name,
                                        field->name);
                }
                else if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
                    ld_status_t rc =
                        s_check (scan, field->descriptor, value_data, (size_t) length, depth + 1);
                    if (rc != LD_OK)
                        return rc;
                }
                else
                    return ld_fail (err, err_size, LD_ERR_MALFORMED, "wrong wire type for %s.%s",
                                    desc->name, field->name);
                break;
            }
            default:
                return ld_fail (err, err_size, LD_ERR_MALFORMED, "wire type %u in %s", wire_type,
                                desc->name);
        }
        //  A singular field given twice is legal protobuf (the last one
        //  wins, and messages merge), but it lets two byte strings carry one
        //  meaning and merged messages escape the repeated limits: refused.
        if (field && field->label != PROTOBUF_C_LABEL_REPEATED && counts[index] > 1)
            return ld_fail (err, err_size, LD_ERR_MALFORMED, "%s.%s given more than once",
                            desc->name, field->name);
        if (field && field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t max, max_count;
            ld_status_t status;
            s_limit_for (scan, desc, field, &max, &status, &max_count);
            if (counts[index] > max_count)
                return ld_fail (err, err_size, LD_ERR_TOO_MANY, "%s.%s has more than %zu elements",
                                desc->name, field->name, max_count);
        }
    }
    for (unsigned i = 0; i < desc->n_fields; i++)
        if (desc->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && counts[i] == 0)
            return ld_fail (err, err_size, LD_ERR_MISSING_FIELD, "%s.%s", desc->name,
                            desc->fields[i].name);
    return LD_OK;
}

ld_status_t
ld_codec_check (const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t size, char *err,
                size_t err_size)
{
    s_scan_t scan = {NULL, 0, err, err_size};
    return s_check (&scan, desc, data, size, 0);
}

ld_status_t
ld_codec_unpack_limited (const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t size,
                         const ld_codec_limit_t *limits, size_t limit_count,
                         ProtobufCMessage **message_p, char *err, size_t err_size)
{
    *message_p = NULL;
    s_scan_t scan = {limits, limit_count, err, err_size};
    ld_status_t rc = s_check (&scan, desc, data, size, 0);
    if (rc != LD_OK)
        return rc;
    *message_p = protobuf_c_message_unpack (desc, NULL, size, data);
    if (!*message_p)
        return ld_fail (err, err_size, LD_ERR_MALFORMED, "%s does not unpack", desc->name);
    return LD_OK;
}

ld_status_t
ld_codec_unpack (const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t size,
                 ProtobufCMessage **message_p, char *err, size_t err_size)
{
    return ld_codec_unpack_limited (desc, data, size, NULL, 0, message_p, err, err_size);
}
