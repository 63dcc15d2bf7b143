/*  ld_status.h -- status codes shared by every layer of Liandong.

    Every action that a caller must be able to tell apart returns an
    ld_status_t; 0 is success. Each code has one stable name (used on the
    wire and in logs, e.g. "string-too-long") and one message a sender can
    read. The table in ld_status.c is checked against this enum at compile
    time, so a code cannot exist without its text.
*/
#ifndef LD_STATUS_H_INCLUDED
#define LD_STATUS_H_INCLUDED

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LD_STATUS_LIST(X)                                                                          \
    X (LD_OK, "ok", "ok")                                                                          \
    /* codec: the bytes themselves */                                                              \
    X (LD_ERR_TOO_BIG, "too-big", "envelope is larger than the size limit")                        \
    X (LD_ERR_MALFORMED, "malformed", "bytes are not a well-formed protobuf message")              \
    X (LD_ERR_MISSING_FIELD, "missing-field", "a required field is missing")                       \
    X (LD_ERR_STRING_TOO_LONG, "string-too-long", "a string or bytes field exceeds its limit")     \
    X (LD_ERR_TOO_MANY, "too-many", "a repeated field has more elements than its limit")           \
    X (LD_ERR_TOO_DEEP, "too-deep", "messages are nested deeper than the limit")                   \
    X (LD_ERR_BAD_UTF8, "bad-utf8", "a string field is not valid UTF-8")                           \
    X (LD_ERR_BAD_TOPIC, "bad-topic",                                                              \
       "topic must be ASCII slug segments [a-z0-9._-] each ending in '/'")                         \
    X (LD_ERR_TOPIC_TOO_LONG, "topic-too-long", "topic exceeds its length limit")                  \
    X (LD_ERR_BAD_TYPE, "bad-type", "event type must be 1-64 chars of [a-z0-9._-]")                \
    X (LD_ERR_BAD_KEY, "bad-key", "author key must be 32 bytes")                                   \
    X (LD_ERR_BAD_SEQ, "bad-seq", "seq must start at 1")                                           \
    X (LD_ERR_BAD_PREV, "bad-prev",                                                                \
       "prev must be absent at seq 1 and a 32-byte event id after it")                             \
    X (LD_ERR_BAD_SIGNATURE, "bad-signature", "signature does not verify against the author key")  \
    X (LD_ERR_BAD_PAYLOAD, "bad-payload", "payload does not decode as its event type")             \
    /* store: the chain */                                                                         \
    X (LD_ERR_GAP, "gap", "event is ahead of the author's feed; resend from the needed seq")       \
    X (LD_ERR_CHAIN, "chain-broken", "prev does not match the id of the author's stored event")    \
    X (LD_ERR_FORK, "fork", "a different event with this author and seq is stored; author frozen") \
    X (LD_ERR_FROZEN, "frozen", "author is frozen by a proven fork; no later event is accepted")   \
    /* resources and environment */                                                                \
    X (LD_ERR_IO, "io-error", "storage I/O error")                                                 \
    X (LD_ERR_FULL, "disk-full", "storage is full; new events are refused until space returns")    \
    X (LD_ERR_CORRUPT, "corrupt", "stored data is corrupt")                                        \
    X (LD_ERR_NOMEM, "no-memory", "out of memory")                                                 \
    X (LD_ERR_EXISTS, "exists", "refusing to overwrite an existing file")                          \
    X (LD_ERR_NOT_FOUND, "not-found", "not found")                                                 \
    X (LD_ERR_PERMISSIONS, "bad-permissions",                                                      \
       "secret key file is readable by group or others (chmod 600 it)")                            \
    X (LD_ERR_BAD_FORMAT, "bad-format", "file or text is not in the expected format")              \
    X (LD_ERR_SCHEMA, "schema", "store schema is newer than this program")                         \
    X (LD_ERR_USAGE, "usage", "invalid usage")                                                     \
    /* trust: feed-level authority (trust/ld_trust.h, docs/TRUST.md) */                            \
    X (LD_ERR_AWAITING_CERT, "awaiting-certificate",                                               \
       "author's certificate has not arrived yet; the event is held back and retried")             \
    X (LD_ERR_NOT_CERTIFIED, "not-certified",                                                      \
       "author holds no valid certificate chain to a trust root")                                  \
    X (LD_ERR_REVOKED, "revoked",                                                                  \
       "event lies after its author's revocation cut, or its certificate after its certifier's")   \
    X (LD_ERR_FORBIDDEN_TYPE, "forbidden-type", "the author's level may not emit this event type") \
    X (LD_ERR_FORBIDDEN_LEVEL, "forbidden-level", "the author's level may not certify this level") \
    X (LD_ERR_OUTSIDE_PATH, "outside-path",                                                        \
       "topic or certificate path lies outside the author's org path")                             \
    X (LD_ERR_WRONG_KIND, "wrong-kind", "this event type belongs under another topic kind")        \
    /* transport: who may ask the broker what (broker/ld_zap.h) */                                 \
    X (LD_ERR_UNAUTHORIZED, "unauthorized", "the sender's key may not make this request")          \
    /* federation (broker/ld_peer.h) */                                                            \
    X (LD_ERR_NOT_SELECTED, "not-selected",                                                        \
       "this broker does not hold the author's feed (its org path lies outside the selection)")

typedef enum {
#define LD_STATUS_ENUM(code, name, text) code,
    LD_STATUS_LIST (LD_STATUS_ENUM)
#undef LD_STATUS_ENUM
        LD_STATUS_COUNT
} ld_status_t;

//  Stable short name of a status (e.g. "bad-utf8"); "unknown" if out of
//  range. Static storage, valid forever.
const char *ld_status_name (ld_status_t status);

//  Human-readable message for a status. Static storage, valid forever.
const char *ld_status_text (ld_status_t status);

//  Status from its stable name, or LD_STATUS_COUNT if the name is unknown.
ld_status_t ld_status_from_name (const char *name);

//  Writes "text: detail" (or just the text) into a caller's error buffer;
//  returns status so that callers can `return ld_fail (err, size, code, ...)`.
//  err may be NULL.
ld_status_t ld_fail (char *err, size_t err_size, ld_status_t status, const char *detail_fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

#ifdef __cplusplus
}
#endif

#endif
