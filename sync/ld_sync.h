/*  ld_sync.h -- the client <-> broker protocol (ld_sync.proto).

    The protocol messages are used as protobuf-c structs by the broker, the
    node and the CLI, so this header exposes the generated types. (Event
    payloads stay private to proto/: they are signed bytes and must go
    through ld_event.) Every frame received is checked by the bounded codec
    before it is unpacked; the limits are the LD_SYNC_* constants below.

    Sending packs one message into one frame. On a ROUTER, pass the routing
    id frame of the peer (borrowed; it is copied).
*/
#ifndef LD_SYNC_H_INCLUDED
#define LD_SYNC_H_INCLUDED

#include <czmq.h>

#include "ld_limits.h"
#include "ld_status.h"
#include "ld_sync.pb-c.h"

#define LD_SYNC_VERSION     1
#define LD_SYNC_BATCH_MAX   1024              //  events in one Publish or Events chunk
#define LD_SYNC_CHUNK_BYTES (4 * 1024 * 1024) //  envelope bytes in one chunk or batch
//  Largest frame a peer may send: a full batch plus protobuf overhead.
#define LD_SYNC_FRAME_MAX (LD_SYNC_CHUNK_BYTES + LD_ENVELOPE_MAX_DEFAULT + 64 * 1024)

typedef Liandong__Sync__Request ld_request_t;
typedef Liandong__Sync__Reply ld_reply_t;
typedef Liandong__Sync__ControlRequest ld_control_request_t;
typedef Liandong__Sync__ControlReply ld_control_reply_t;

//  Decodes one frame. *message_p is owned by the caller; free it with
//  ld_request_free / ld_reply_free. Errors: the codec's statuses, and
//  LD_ERR_MALFORMED for a message with no kind set.
ld_status_t ld_request_decode (const uint8_t *data, size_t size, ld_request_t **request_p,
                               char *err, size_t err_size);
ld_status_t ld_reply_decode (const uint8_t *data, size_t size, ld_reply_t **reply_p, char *err,
                             size_t err_size);
ld_status_t ld_control_request_decode (const uint8_t *data, size_t size,
                                       ld_control_request_t **request_p, char *err,
                                       size_t err_size);
ld_status_t ld_control_reply_decode (const uint8_t *data, size_t size, ld_control_reply_t **reply_p,
                                     char *err, size_t err_size);
void ld_control_request_free (ld_control_request_t **request_p);
void ld_control_reply_free (ld_control_reply_t **reply_p);
void ld_request_free (ld_request_t **request_p);
void ld_reply_free (ld_reply_t **reply_p);

//  Packs and sends; routing_id is NULL except on a ROUTER. Does not block
//  (ZMQ_DONTWAIT): returns 0, or -1 if the message could not be queued
//  (no peer, high-water mark), which callers treat as "not delivered".
int ld_request_send (zsock_t *sock, const ld_request_t *request);
int ld_reply_send (zsock_t *sock, zframe_t *routing_id, const ld_reply_t *reply);
int ld_control_request_send (zsock_t *sock, const ld_control_request_t *request);
int ld_control_reply_send (zsock_t *sock, zframe_t *routing_id, const ld_control_reply_t *reply);

//  Receives one reply frame on a DEALER/SUB-free socket and decodes it.
//  NULL if the frame is not a valid reply (err says why).
ld_reply_t *ld_reply_recv (zsock_t *sock, char *err, size_t err_size);

//  Writes / reads a store seq as 8 bytes big-endian (the live feed frame).
void ld_sync_put_u64 (uint8_t out[8], uint64_t value);
uint64_t ld_sync_get_u64 (const uint8_t in[8]);

#endif
