/*  ld_sync.c -- protocol messages: bounded decode, send, receive. */
#include "ld_sync.h"

#include <string.h>

#include "ld_codec.h"
#include "ld_person.h"

//  Limits of the protocol messages beyond the codec's defaults.
static const ld_codec_limit_t s_limits[] = {
    {"liandong.sync.Publish", "events", LD_ENVELOPE_MAX_DEFAULT, 0, LD_SYNC_BATCH_MAX},
    {"liandong.sync.Stored", "envelope", LD_ENVELOPE_MAX_DEFAULT, 0, 0},
    {"liandong.sync.Events", "events", 0, 0, LD_SYNC_BATCH_MAX},
    {"liandong.sync.FeedReply", "events", LD_ENVELOPE_MAX_DEFAULT, 0, LD_SYNC_BATCH_MAX},
    {"liandong.sync.HeadsReply", "heads", 0, 0, 1000000},
    {"liandong.sync.HeadsReply", "select", LD_TOPIC_MAX, LD_ERR_TOPIC_TOO_LONG, 64},
    {"liandong.sync.BrokerStatus", "select", LD_TOPIC_MAX, LD_ERR_TOPIC_TOO_LONG, 64},
    {"liandong.sync.BrokerStatus", "peers", 0, 0, 64},
    {"liandong.sync.PeerStatus", "endpoint", 256, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.sync.PeerStatus", "error", 512, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.sync.Ack", "heads", 0, 0, LD_SYNC_BATCH_MAX},
    {"liandong.sync.Ack", "refusals", 0, 0, LD_SYNC_BATCH_MAX},
    {"liandong.sync.Catchup", "prefix", LD_TOPIC_MAX, LD_ERR_TOPIC_TOO_LONG, 0},
    {"liandong.sync.Author", "topic", LD_TOPIC_MAX, LD_ERR_TOPIC_TOO_LONG, 0},
    {"liandong.sync.Author", "type", LD_TYPE_MAX, LD_ERR_BAD_TYPE, 0},
    {"liandong.sync.Author", "payload", LD_ENVELOPE_MAX_DEFAULT, 0, 0},
    {"liandong.sync.Fetch", "prefix", LD_TOPIC_MAX, LD_ERR_TOPIC_TOO_LONG, 0},
    {"liandong.sync.Relay", "envelopes", LD_ENVELOPE_MAX_DEFAULT, 0, LD_SYNC_BATCH_MAX},
    {"liandong.sync.Relayed", "refusals", 0, 0, LD_SYNC_BATCH_MAX},
    {"liandong.sync.Welcome", "roots", 0, 0, 64},
    {"liandong.sync.Root", "path", LD_TOPIC_MAX, LD_ERR_TOPIC_TOO_LONG, 0},
    {"liandong.sync.Root", "name", LD_NAME_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.sync.NodeStatus", "paths", LD_TOPIC_MAX, LD_ERR_TOPIC_TOO_LONG, 64},
    //  erasable personal data (ld_person.h)
    {"liandong.sync.Seal", "person", LD_PERSON_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.sync.Sealed", "sealed_person", LD_SEALED_PERSON_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.sync.Open", "sealed_person", LD_SEALED_PERSON_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.sync.Open", "commitment", LD_COMMITMENT_BYTES, LD_ERR_BAD_FORMAT, 0},
    {"liandong.sync.Opened", "person", LD_PERSON_MAX, LD_ERR_STRING_TOO_LONG, 0},
    {"liandong.sync.Erase", "commitment", LD_COMMITMENT_BYTES, LD_ERR_BAD_FORMAT, 0},
};

#define S_LIMIT_COUNT (sizeof s_limits / sizeof s_limits[0])

//  Decodes a message made of one oneof (`kind`), which must be set.
static ld_status_t
s_decode (const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t size,
          ProtobufCMessage **message_p, char *err, size_t err_size)
{
    *message_p = NULL;
    ld_status_t rc = ld_codec_unpack_limited (desc, data, size, s_limits, S_LIMIT_COUNT, message_p,
                                              err, err_size);
    if (rc != LD_OK)
        return rc;
    //  protobuf-c keeps the oneof's case where the quantifier offset of any
    //  of its fields points; 0 means none of them was set.
    const ProtobufCFieldDescriptor *first = &desc->fields[0];
    uint32_t kind = *(const uint32_t *) ((const char *) *message_p + first->quantifier_offset);
    if (kind == 0) {
        protobuf_c_message_free_unpacked (*message_p, NULL);
        *message_p = NULL;
        return ld_fail (err, err_size, LD_ERR_MALFORMED, "%s of no known kind", desc->name);
    }
    return LD_OK;
}

static void
s_free (ProtobufCMessage **message_p)
{
    if (message_p && *message_p) {
        protobuf_c_message_free_unpacked (*message_p, NULL);
        *message_p = NULL;
    }
}

//  Packs message into one frame and sends it, after the routing id if any.
static int
s_send (zsock_t *sock, zframe_t *routing_id, const ProtobufCMessage *message)
{
    size_t size = protobuf_c_message_get_packed_size (message);
    zframe_t *frame = zframe_new (NULL, size);
    if (!frame)
        return -1;
    protobuf_c_message_pack (message, zframe_data (frame));
    if (routing_id) {
        zframe_t *copy = zframe_dup (routing_id);
        if (zframe_send (&copy, sock, ZFRAME_MORE | ZFRAME_DONTWAIT) != 0) {
            zframe_destroy (&copy);
            zframe_destroy (&frame);
            return -1;
        }
    }
    if (zframe_send (&frame, sock, ZFRAME_DONTWAIT) != 0) {
        zframe_destroy (&frame);
        return -1;
    }
    return 0;
}

ld_status_t
ld_request_decode (const uint8_t *data, size_t size, ld_request_t **request_p, char *err,
                   size_t err_size)
{
    return s_decode (&liandong__sync__request__descriptor, data, size,
                     (ProtobufCMessage **) request_p, err, err_size);
}

ld_status_t
ld_reply_decode (const uint8_t *data, size_t size, ld_reply_t **reply_p, char *err, size_t err_size)
{
    return s_decode (&liandong__sync__reply__descriptor, data, size, (ProtobufCMessage **) reply_p,
                     err, err_size);
}

ld_status_t
ld_control_request_decode (const uint8_t *data, size_t size, ld_control_request_t **request_p,
                           char *err, size_t err_size)
{
    return s_decode (&liandong__sync__control_request__descriptor, data, size,
                     (ProtobufCMessage **) request_p, err, err_size);
}

ld_status_t
ld_control_reply_decode (const uint8_t *data, size_t size, ld_control_reply_t **reply_p, char *err,
                         size_t err_size)
{
    return s_decode (&liandong__sync__control_reply__descriptor, data, size,
                     (ProtobufCMessage **) reply_p, err, err_size);
}

void
ld_request_free (ld_request_t **request_p)
{
    s_free ((ProtobufCMessage **) request_p);
}

void
ld_reply_free (ld_reply_t **reply_p)
{
    s_free ((ProtobufCMessage **) reply_p);
}

void
ld_control_request_free (ld_control_request_t **request_p)
{
    s_free ((ProtobufCMessage **) request_p);
}

void
ld_control_reply_free (ld_control_reply_t **reply_p)
{
    s_free ((ProtobufCMessage **) reply_p);
}

int
ld_request_send (zsock_t *sock, const ld_request_t *request)
{
    return s_send (sock, NULL, &request->base);
}

int
ld_reply_send (zsock_t *sock, zframe_t *routing_id, const ld_reply_t *reply)
{
    return s_send (sock, routing_id, &reply->base);
}

int
ld_control_request_send (zsock_t *sock, const ld_control_request_t *request)
{
    return s_send (sock, NULL, &request->base);
}

int
ld_control_reply_send (zsock_t *sock, zframe_t *routing_id, const ld_control_reply_t *reply)
{
    return s_send (sock, routing_id, &reply->base);
}

ld_reply_t *
ld_reply_recv (zsock_t *sock, char *err, size_t err_size)
{
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg) {
        snprintf (err, err_size, "interrupted");
        return NULL;
    }
    ld_reply_t *reply = NULL;
    zframe_t *frame = zmsg_first (msg);
    if (zmsg_size (msg) != 1 || !frame)
        snprintf (err, err_size, "reply of %zu frames", zmsg_size (msg));
    else
        ld_reply_decode (zframe_data (frame), zframe_size (frame), &reply, err, err_size);
    zmsg_destroy (&msg);
    return reply;
}

void
ld_sync_put_u64 (uint8_t out[8], uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t) (value & 0xFF);
        value >>= 8;
    }
}

uint64_t
ld_sync_get_u64 (const uint8_t in[8])
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | in[i];
    return value;
}
