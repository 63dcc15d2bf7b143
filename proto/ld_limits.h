/*  ld_limits.h -- hard limits on everything decoded from strangers.

    Each limit is checked before any allocation the input would drive: the
    envelope size first, then every length and count while scanning the
    wire bytes (ld_codec.c), and only then does protobuf-c unpack.
*/
#ifndef LD_LIMITS_H_INCLUDED
#define LD_LIMITS_H_INCLUDED

#define LD_ENVELOPE_MAX_DEFAULT 65536 //  bytes of one serialized envelope
#define LD_TOPIC_MAX            256   //  bytes of a topic
#define LD_TOPIC_SEGMENT_MAX    64    //  bytes of one topic segment
#define LD_TYPE_MAX             64    //  bytes of an event type name
#define LD_STRING_MAX           1024  //  bytes of an ordinary string or bytes field
#define LD_TEXT_MAX             16384 //  bytes of a free-text field (Note.text, ...)
#define LD_REPEATED_MAX         256   //  elements of one repeated field
#define LD_RECEIPT_RANGES_MAX   1024  //  authors named by one receipt
#define LD_DEPTH_MAX            8     //  nesting of messages within a payload
#define LD_NAME_MAX             256   //  bytes of a display name (Certify.name)
#define LD_LEVEL_NAME_MAX       16    //  bytes of a level name (Certify.level)
#define LD_LEDGER_LIST_MAX      64    //  tasks of a resolution, agenda items, units called

#endif
