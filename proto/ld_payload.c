/*  ld_payload.c -- the payload catalogue. See ld_payload.h.

    To add an event type: add its message to liandong.proto and one row to
    s_types. Nothing else in the codec changes.
*/
#include "ld_payload.h"

#include <stdlib.h>
#include <string.h>

#include "ld_codec.h"
#include "liandong.pb-c.h"

typedef struct {
    const char *type;
    const ProtobufCMessageDescriptor *descriptor;
} s_type_t;

static const s_type_t s_types[] = {
    {"note", &liandong__note__descriptor},
    {"receipt", &liandong__receipt__descriptor},
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
