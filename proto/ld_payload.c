/*  ld_payload.c -- the payload catalogue. See ld_payload.h.

    To add an event type: add its message to liandong.proto and one row to
    s_types. Nothing else in the codec changes.
*/
#include "ld_payload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_codec.h"
#include "ld_event.h"
#include "ld_utf8.h"
#include "liandong.pb-c.h"

typedef struct {
    const char *type;
    const ProtobufCMessageDescriptor *descriptor;
} s_type_t;

static const s_type_t s_types[] = {
    {"note", &liandong__note__descriptor},
    {"receipt", &liandong__receipt__descriptor},
    {LD_TYPE_CERTIFY, &liandong__certify__descriptor},
    {LD_TYPE_REVOKE, &liandong__revoke__descriptor},
    {LD_TYPE_ROTATE, &liandong__rotate__descriptor},
    {"meeting.convene", &liandong__meeting_convene__descriptor},
    {"resolution.adopt", &liandong__resolution_adopt__descriptor},
    {"resolution.close", &liandong__resolution_close__descriptor},
    {"task.accept", &liandong__task_action__descriptor},
    {"task.progress", &liandong__task_action__descriptor},
    {"task.complete", &liandong__task_action__descriptor},
    {"task.verify", &liandong__task_action__descriptor},
    {"task.reopen", &liandong__task_action__descriptor},
    {"task.urge", &liandong__task_action__descriptor},
    {"report.checkin", &liandong__checkin__descriptor},
    {"report.service", &liandong__service__descriptor},
    {"report.feedback", &liandong__feedback__descriptor},
    {"report.evaluate", &liandong__evaluate__descriptor},
    {"agreement.propose", &liandong__agreement_propose__descriptor},
    {"agreement.sign", &liandong__agreement_sign__descriptor},
    {"wish.post", &liandong__wish_post__descriptor},
    {"wish.claim", &liandong__wish_action__descriptor},
    {"wish.fulfil", &liandong__wish_action__descriptor},
    {"incident.report", &liandong__incident_report__descriptor},
    {"incident.collect", &liandong__incident_action__descriptor},
    {"incident.whistle", &liandong__incident_action__descriptor},
    {"incident.assign", &liandong__incident_action__descriptor},
    {"incident.resolve", &liandong__incident_action__descriptor},
    {"amend", &liandong__amend__descriptor},
    {"withdraw", &liandong__withdraw__descriptor},
};

#define S_TYPE_COUNT (sizeof s_types / sizeof s_types[0])

const ProtobufCMessageDescriptor *
ld_payload_descriptor (const char *type)
{
    for (size_t i = 0; i < S_TYPE_COUNT; i++)
        if (strcmp (s_types[i].type, type) == 0)
            return s_types[i].descriptor;
    return NULL;
}

const char *
ld_payload_type_at (size_t index)
{
    return index < S_TYPE_COUNT ? s_types[index].type : NULL;
}

ld_status_t
ld_payload_unpack (const char *type, const uint8_t *data, size_t size, ProtobufCMessage **message_p,
                   char *err, size_t err_size)
{
    *message_p = NULL;
    const ProtobufCMessageDescriptor *desc = ld_payload_descriptor (type);
    if (!desc)
        return ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD, "unknown event type '%s'", type);
    return ld_codec_unpack (desc, data, size, message_p, err, err_size);
}

ld_status_t
ld_payload_pack (const ProtobufCMessage *message, uint8_t **data_p, size_t *size_p)
{
    size_t size = protobuf_c_message_get_packed_size (message);
    //  malloc (0) may return NULL; an empty message is a valid payload.
    uint8_t *data = malloc (size ? size : 1);
    if (!data)
        return LD_ERR_NOMEM;
    protobuf_c_message_pack (message, data);
    *data_p = data;
    *size_p = size;
    return LD_OK;
}

ld_status_t
ld_payload_note (const char *text, uint8_t **data_p, size_t *size_p)
{
    Liandong__Note note = LIANDONG__NOTE__INIT;
    note.text = (char *) text;
    return ld_payload_pack (&note.base, data_p, size_p);
}

ld_status_t
ld_payload_receipt (int64_t stored_ms, uint64_t first_store_seq, uint64_t last_store_seq,
                    const ld_receipt_range_t *ranges, size_t range_count,
                    const uint8_t ids_digest[LD_ID_BYTES], uint8_t **data_p, size_t *size_p)
{
    if (range_count > LD_RECEIPT_RANGES_MAX)
        return LD_ERR_TOO_MANY;
    Liandong__ReceiptRange *items = calloc (range_count ? range_count : 1, sizeof *items);
    Liandong__ReceiptRange **pointers = calloc (range_count ? range_count : 1, sizeof *pointers);
    if (!items || !pointers) {
        free (items);
        free (pointers);
        return LD_ERR_NOMEM;
    }
    for (size_t i = 0; i < range_count; i++) {
        liandong__receipt_range__init (&items[i]);
        items[i].author.data = (uint8_t *) ranges[i].author;
        items[i].author.len = LD_KEY_BYTES;
        items[i].first_seq = ranges[i].first_seq;
        items[i].last_seq = ranges[i].last_seq;
        pointers[i] = &items[i];
    }
    Liandong__Receipt receipt = LIANDONG__RECEIPT__INIT;
    receipt.stored_ms = stored_ms;
    receipt.first_store_seq = first_store_seq;
    receipt.last_store_seq = last_store_seq;
    receipt.n_ranges = range_count;
    receipt.ranges = pointers;
    receipt.ids_digest.data = (uint8_t *) ids_digest;
    receipt.ids_digest.len = LD_ID_BYTES;
    ld_status_t rc = ld_payload_pack (&receipt.base, data_p, size_p);
    free (items);
    free (pointers);
    return rc;
}

//  ---- trust payloads ----

//  The checks a certificate's strings must pass, on both sides of the wire.
static ld_status_t
s_certify_check (const char *level, const char *path, const char *name, char *err, size_t err_size)
{
    size_t level_len = strlen (level);
    if (level_len == 0 || level_len > LD_LEVEL_NAME_MAX)
        return ld_fail (err, err_size, LD_ERR_BAD_FORMAT, "level '%.*s' is not 1-%d letters",
                        LD_LEVEL_NAME_MAX, level, LD_LEVEL_NAME_MAX);
    for (size_t i = 0; i < level_len; i++)
        if (level[i] < 'a' || level[i] > 'z')
            return ld_fail (err, err_size, LD_ERR_BAD_FORMAT, "level '%s' is not [a-z]", level);
    ld_status_t rc = ld_topic_check (path, strlen (path));
    if (rc != LD_OK)
        return ld_fail (err, err_size, rc, "certificate path '%.*s'", LD_TOPIC_MAX, path);
    size_t name_len = strlen (name);
    if (name_len == 0)
        return ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD, "certificate name is empty");
    if (name_len > LD_NAME_MAX)
        return ld_fail (err, err_size, LD_ERR_STRING_TOO_LONG,
                        "certificate name is %zu bytes (limit %d)", name_len, LD_NAME_MAX);
    if (!ld_utf8_valid ((const uint8_t *) name, name_len))
        return ld_fail (err, err_size, LD_ERR_BAD_UTF8, "certificate name");
    return LD_OK;
}

ld_status_t
ld_payload_certify (const uint8_t subject[LD_KEY_BYTES], const char *level, const char *path,
                    const char *name, uint8_t **data_p, size_t *size_p)
{
    ld_status_t rc = s_certify_check (level, path, name, NULL, 0);
    if (rc != LD_OK)
        return rc;
    Liandong__Certify certify = LIANDONG__CERTIFY__INIT;
    certify.subject.data = (uint8_t *) subject;
    certify.subject.len = LD_KEY_BYTES;
    certify.level = (char *) level;
    certify.path = (char *) path;
    certify.name = (char *) name;
    return ld_payload_pack (&certify.base, data_p, size_p);
}

ld_status_t
ld_payload_revoke (const uint8_t subject[LD_KEY_BYTES], uint64_t after_seq, uint8_t **data_p,
                   size_t *size_p)
{
    Liandong__Revoke revoke = LIANDONG__REVOKE__INIT;
    revoke.subject.data = (uint8_t *) subject;
    revoke.subject.len = LD_KEY_BYTES;
    revoke.after_seq = after_seq;
    return ld_payload_pack (&revoke.base, data_p, size_p);
}

ld_status_t
ld_payload_rotate (const uint8_t successor[LD_KEY_BYTES], uint8_t **data_p, size_t *size_p)
{
    Liandong__Rotate rotate = LIANDONG__ROTATE__INIT;
    rotate.successor_key.data = (uint8_t *) successor;
    rotate.successor_key.len = LD_KEY_BYTES;
    return ld_payload_pack (&rotate.base, data_p, size_p);
}

//  Copies a 32-byte key field; the codec bounded it from above only.
static ld_status_t
s_key_field (const ProtobufCBinaryData *field, const char *what, uint8_t key[LD_KEY_BYTES],
             char *err, size_t err_size)
{
    if (field->len != LD_KEY_BYTES)
        return ld_fail (err, err_size, LD_ERR_BAD_KEY, "%s is %zu bytes", what, field->len);
    memcpy (key, field->data, LD_KEY_BYTES);
    return LD_OK;
}

ld_status_t
ld_payload_certify_decode (const uint8_t *data, size_t size, ld_certify_t *certify, char *err,
                           size_t err_size)
{
    ProtobufCMessage *message = NULL;
    ld_status_t rc =
        ld_codec_unpack (&liandong__certify__descriptor, data, size, &message, err, err_size);
    if (rc != LD_OK)
        return rc;
    const Liandong__Certify *wire = (const Liandong__Certify *) message;
    //  The codec bounded every string by the sizes of the struct's arrays.
    rc = s_key_field (&wire->subject, "Certify.subject", certify->subject, err, err_size);
    if (rc == LD_OK)
        rc = s_certify_check (wire->level, wire->path, wire->name, err, err_size);
    if (rc == LD_OK) {
        snprintf (certify->level, sizeof certify->level, "%s", wire->level);
        snprintf (certify->path, sizeof certify->path, "%s", wire->path);
        snprintf (certify->name, sizeof certify->name, "%s", wire->name);
    }
    protobuf_c_message_free_unpacked (message, NULL);
    return rc;
}

ld_status_t
ld_payload_revoke_decode (const uint8_t *data, size_t size, ld_revoke_t *revoke, char *err,
                          size_t err_size)
{
    ProtobufCMessage *message = NULL;
    ld_status_t rc =
        ld_codec_unpack (&liandong__revoke__descriptor, data, size, &message, err, err_size);
    if (rc != LD_OK)
        return rc;
    const Liandong__Revoke *wire = (const Liandong__Revoke *) message;
    rc = s_key_field (&wire->subject, "Revoke.subject", revoke->subject, err, err_size);
    revoke->after_seq = wire->after_seq;
    protobuf_c_message_free_unpacked (message, NULL);
    return rc;
}

ld_status_t
ld_payload_rotate_decode (const uint8_t *data, size_t size, ld_rotate_t *rotate, char *err,
                          size_t err_size)
{
    ProtobufCMessage *message = NULL;
    ld_status_t rc =
        ld_codec_unpack (&liandong__rotate__descriptor, data, size, &message, err, err_size);
    if (rc != LD_OK)
        return rc;
    const Liandong__Rotate *wire = (const Liandong__Rotate *) message;
    rc = s_key_field (&wire->successor_key, "Rotate.successor_key", rotate->successor, err,
                      err_size);
    protobuf_c_message_free_unpacked (message, NULL);
    return rc;
}
