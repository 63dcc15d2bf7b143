/*  ld_offline.c -- offline signing and envelope files. See ld_offline.h
    for the formats and for why the steps run in this order.
*/
#include "ld_offline.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ld_crypto.h"
#include "ld_identity.h"

#define S_HEADER        "# liandong offline feed position; do not edit\n"
#define S_SEQ_LABEL     "seq: "
#define S_HEAD_LABEL    "head: "
#define S_PENDING_LABEL "pending: "
#define S_B64_MAX       (LD_ENVELOPE_MAX_DEFAULT / 3 * 4 + 8)
#define S_POSITION_MAX  (LD_OFFLINE_PENDING_MAX * (S_B64_MAX + 16) + 1024)
#define S_VARINT_MAX    10

//  The position of one key's offline feed, as read under the lock.
typedef struct {
    int fd; //  the locked position file
    char path[PATH_MAX];
    uint64_t seq;
    uint8_t head[LD_ID_BYTES];
    ld_event_t *pending[LD_OFFLINE_PENDING_MAX + 1];
    size_t pending_count;
} s_position_t;

//  --------------------------------------------------------------------------
//  Durable files

//  fsync of the directory that holds path, so that a rename or link in it
//  survives a crash.
static int
s_sync_dir (const char *path)
{
    char copy[PATH_MAX];
    snprintf (copy, sizeof copy, "%s", path);
    int fd = open (dirname (copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

//  Writes data to path through a temporary name: fsync, then rename (or,
//  unless replace, link, which refuses an existing path), then fsync of the
//  directory.
static ld_status_t
s_write_durably (const char *path, const uint8_t *data, size_t size, mode_t mode, bool replace,
                 char *err, size_t err_size)
{
    char tmp[PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s.%ld.tmp", path, (long) getpid ()) >= (int) sizeof tmp)
        return ld_fail (err, err_size, LD_ERR_USAGE, "path too long: '%s'", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return ld_fail (err, err_size, LD_ERR_IO, "cannot create '%s': %s", tmp, strerror (errno));
    size_t done = 0;
    bool ok = fchmod (fd, mode) == 0;
    while (ok && done < size) {
        ssize_t n = write (fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        if (ok)
            done += (size_t) n;
    }
    ok = ok && fsync (fd) == 0;
    ok = close (fd) == 0 && ok;
    if (!ok) {
        int e = errno;
        unlink (tmp);
        return ld_fail (err, err_size, LD_ERR_IO, "cannot write '%s': %s", tmp, strerror (e));
    }
    if (replace ? rename (tmp, path) != 0 : link (tmp, path) != 0) {
        int e = errno;
        unlink (tmp);
        if (e == EEXIST)
            return ld_fail (err, err_size, LD_ERR_EXISTS, "'%s' exists (use --force)", path);
        return ld_fail (err, err_size, LD_ERR_IO, "cannot write '%s': %s", path, strerror (e));
    }
    if (!replace)
        unlink (tmp);
    if (s_sync_dir (path) != 0)
        return ld_fail (err, err_size, LD_ERR_IO, "cannot sync the directory of '%s': %s", path,
                        strerror (errno));
    return LD_OK;
}

//  --------------------------------------------------------------------------
//  Envelope files

static size_t
s_put_varint (uint8_t *out, uint64_t value)
{
    size_t n = 0;
    do {
        out[n] = (uint8_t) (value & 0x7F);
        value >>= 7;
        if (value)
            out[n] |= 0x80;
        n++;
    } while (value);
    return n;
}

ld_status_t
ld_offline_write (const char *path, ld_event_t *const *events, size_t count, bool force, char *err,
                  size_t err_size)
{
    if (count == 0 || count > LD_OFFLINE_EVENTS_MAX)
        return ld_fail (err, err_size, LD_ERR_TOO_MANY, "an envelope file holds 1..%d events",
                        LD_OFFLINE_EVENTS_MAX);
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        size_t size;
        ld_event_envelope (events[i], &size);
        total += S_VARINT_MAX + size;
    }
    uint8_t *data = malloc (total);
    if (!data)
        return ld_fail (err, err_size, LD_ERR_NOMEM, "cannot write '%s'", path);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        size_t size;
        const uint8_t *envelope = ld_event_envelope (events[i], &size);
        used += s_put_varint (data + used, size);
        memcpy (data + used, envelope, size);
        used += size;
    }
    ld_status_t rc = s_write_durably (path, data, used, 0644, force, err, err_size);
    free (data);
    return rc;
}

void
ld_offline_events_free (ld_event_t ***events_p, size_t count)
{
    if (!events_p || !*events_p)
        return;
    for (size_t i = 0; i < count; i++)
        ld_event_destroy (&(*events_p)[i]);
    free (*events_p);
    *events_p = NULL;
}

//  Decodes and verifies one envelope into events[*count].
static ld_status_t
s_take (const uint8_t *data, size_t size, ld_event_t **events, size_t *count, const char *path,
        char *err, size_t err_size)
{
    if (*count >= LD_OFFLINE_EVENTS_MAX)
        return ld_fail (err, err_size, LD_ERR_TOO_MANY, "'%s' holds more than %d envelopes", path,
                        LD_OFFLINE_EVENTS_MAX);
    char detail[256];
    ld_event_t *event = NULL;
    ld_status_t rc = ld_event_decode (data, size, 0, &event, detail, sizeof detail);
    if (rc == LD_OK && (rc = ld_event_verify (event)) != LD_OK)
        snprintf (detail, sizeof detail, "%s", ld_status_text (rc));
    if (rc != LD_OK) {
        ld_event_destroy (&event);
        return ld_fail (err, err_size, rc, "envelope %zu of '%s': %s", *count + 1, path, detail);
    }
    events[(*count)++] = event;
    return LD_OK;
}

ld_status_t
ld_offline_read (const char *path, ld_event_t ***events_p, size_t *count_p, char *err,
                 size_t err_size)
{
    *events_p = NULL;
    *count_p = 0;
    FILE *file = fopen (path, "rbe");
    if (!file)
        return ld_fail (err, err_size, errno == ENOENT ? LD_ERR_NOT_FOUND : LD_ERR_IO,
                        "cannot open '%s': %s", path, strerror (errno));
    size_t max = (size_t) LD_OFFLINE_EVENTS_MAX * (LD_ENVELOPE_MAX_DEFAULT + S_VARINT_MAX);
    struct stat st;
    if (fstat (fileno (file), &st) != 0 || (uint64_t) st.st_size > max) {
        fclose (file);
        return ld_fail (err, err_size, LD_ERR_TOO_BIG, "'%s' is larger than %zu bytes", path, max);
    }
    size_t size = (size_t) st.st_size;
    uint8_t *data = malloc (size ? size : 1);
    ld_event_t **events = calloc (LD_OFFLINE_EVENTS_MAX, sizeof *events);
    ld_status_t rc = LD_OK;
    if (!data || !events)
        rc = ld_fail (err, err_size, LD_ERR_NOMEM, "cannot read '%s'", path);
    else if (fread (data, 1, size, file) != size)
        rc = ld_fail (err, err_size, LD_ERR_IO, "cannot read '%s'", path);
    fclose (file);
    size_t count = 0;
    ld_event_t *whole = NULL;
    if (rc != LD_OK)
        ; //  reported
    else if (size == 0)
        rc = ld_fail (err, err_size, LD_ERR_MALFORMED, "'%s' is empty", path);
    else if (ld_event_decode (data, size, 0, &whole, NULL, 0) == LD_OK) {
        //  One bare envelope.
        ld_event_destroy (&whole);
        rc = s_take (data, size, events, &count, path, err, err_size);
    }
    else {
        size_t at = 0;
        while (rc == LD_OK && at < size) {
            uint64_t length = 0;
            unsigned shift = 0;
            bool ended = false;
            while (at < size && shift < 7 * S_VARINT_MAX) {
                uint8_t byte = data[at++];
                length |= (uint64_t) (byte & 0x7F) << shift;
                shift += 7;
                if (!(byte & 0x80)) {
                    ended = true;
                    break;
                }
            }
            if (!ended || length == 0 || length > size - at)
                rc = ld_fail (err, err_size, LD_ERR_MALFORMED,
                              "'%s' is cut short or not an envelope file (record %zu)", path,
                              count + 1);
            else {
                rc = s_take (data + at, (size_t) length, events, &count, path, err, err_size);
                at += (size_t) length;
            }
        }
    }
    free (data);
    if (rc != LD_OK) {
        ld_offline_events_free (&events, count);
        return rc;
    }
    *events_p = events;
    *count_p = count;
    return LD_OK;
}

//  --------------------------------------------------------------------------
//  The position file

static void
s_position_close (s_position_t *self)
{
    for (size_t i = 0; i < self->pending_count; i++)
        ld_event_destroy (&self->pending[i]);
    self->pending_count = 0;
    if (self->fd >= 0)
        close (self->fd); //  releases the flock
    self->fd = -1;
}

static ld_status_t
s_position_path (const char *secret_path, char out[PATH_MAX], char *err, size_t err_size)
{
    char copy[PATH_MAX];
    if (snprintf (copy, sizeof copy, "%s", secret_path) >= (int) sizeof copy
        || snprintf (out, PATH_MAX, "%s/%s", dirname (copy), LD_OFFLINE_POSITION) >= PATH_MAX)
        return ld_fail (err, err_size, LD_ERR_USAGE, "path too long: '%s'", secret_path);
    return LD_OK;
}

//  Parses the position text (NUL-terminated, modified) for key.
static ld_status_t
s_position_parse (s_position_t *self, char *text, const uint8_t *key, char *err, size_t err_size)
{
    bool has_seq = false, has_head = false;
    char *save = NULL;
    uint8_t *bytes = NULL;
    ld_status_t rc = LD_OK;
    for (char *line = strtok_r (text, "\n", &save); line && rc == LD_OK;
         line = strtok_r (NULL, "\n", &save)) {
        if (*line == '#' || *line == '\0')
            continue;
        if (strncmp (line, S_SEQ_LABEL, strlen (S_SEQ_LABEL)) == 0 && !has_seq) {
            char *end;
            errno = 0;
            self->seq = strtoull (line + strlen (S_SEQ_LABEL), &end, 10);
            has_seq = errno == 0 && *end == '\0';
            if (!has_seq)
                rc = LD_ERR_CORRUPT;
        }
        else if (strncmp (line, S_HEAD_LABEL, strlen (S_HEAD_LABEL)) == 0 && !has_head) {
            has_head = ld_id_from_text (line + strlen (S_HEAD_LABEL), self->head) == LD_OK;
            if (!has_head)
                rc = LD_ERR_CORRUPT;
        }
        else if (strncmp (line, S_PENDING_LABEL, strlen (S_PENDING_LABEL)) == 0
                 && self->pending_count < LD_OFFLINE_PENDING_MAX) {
            const char *b64 = line + strlen (S_PENDING_LABEL);
            size_t b64_len = strlen (b64), size = 0;
            if (!bytes)
                bytes = malloc (LD_ENVELOPE_MAX_DEFAULT);
            ld_event_t *event = NULL;
            if (!bytes)
                rc = LD_ERR_NOMEM;
            else if (!ld_base64url_valid (b64, b64_len)
                     || sodium_base642bin (bytes, LD_ENVELOPE_MAX_DEFAULT, b64, b64_len, NULL,
                                           &size, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
                            != 0
                     || ld_event_decode (bytes, size, 0, &event, NULL, 0) != LD_OK
                     || ld_event_verify (event) != LD_OK
                     || memcmp (ld_event_author (event), key, LD_KEY_BYTES) != 0) {
                ld_event_destroy (&event);
                rc = LD_ERR_CORRUPT;
            }
            else
                self->pending[self->pending_count++] = event;
        }
        else
            rc = LD_ERR_CORRUPT;
    }
    free (bytes);
    if (rc == LD_OK && has_seq != has_head)
        rc = LD_ERR_CORRUPT;
    if (rc == LD_OK && !has_seq && self->pending_count)
        rc = LD_ERR_CORRUPT;
    //  The last pending event is the head: the position was advanced with it.
    if (rc == LD_OK && self->pending_count) {
        ld_event_t *last = self->pending[self->pending_count - 1];
        if (ld_event_seq (last) != self->seq
            || memcmp (ld_event_id (last), self->head, LD_ID_BYTES) != 0)
            rc = LD_ERR_CORRUPT;
    }
    if (rc == LD_ERR_NOMEM)
        return ld_fail (err, err_size, rc, "cannot read '%s'", self->path);
    if (rc != LD_OK)
        return ld_fail (err, err_size, rc,
                        "'%s' is not a feed position of this key; refusing to sign (a wrong "
                        "seq would fork the feed)",
                        self->path);
    return LD_OK;
}

//  Opens and locks the position file (creating it empty), then reads it.
//  A writer replaces the file by rename, so after waiting for the lock the
//  file at the path may be a newer one: then lock that one instead.
static ld_status_t
s_position_open (s_position_t *self, const char *secret_path, const uint8_t *key, bool create,
                 char *err, size_t err_size)
{
    memset (self, 0, sizeof *self);
    self->fd = -1;
    ld_status_t rc = s_position_path (secret_path, self->path, err, err_size);
    if (rc != LD_OK)
        return rc;
    while (true) {
        self->fd = open (self->path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
        if (self->fd < 0 && errno == ENOENT && !create)
            return LD_OK; //  never signed offline
        if (self->fd < 0)
            return ld_fail (err, err_size, LD_ERR_IO, "cannot open '%s': %s", self->path,
                            strerror (errno));
        if (flock (self->fd, LOCK_EX) != 0) {
            s_position_close (self);
            return ld_fail (err, err_size, LD_ERR_IO, "cannot lock '%s': %s", self->path,
                            strerror (errno));
        }
        struct stat held, now;
        if (fstat (self->fd, &held) == 0 && stat (self->path, &now) == 0
            && held.st_ino == now.st_ino && held.st_dev == now.st_dev)
            break;
        close (self->fd);
        self->fd = -1;
    }
    char *text = malloc (S_POSITION_MAX + 1);
    if (!text) {
        s_position_close (self);
        return ld_fail (err, err_size, LD_ERR_NOMEM, "cannot read '%s'", self->path);
    }
    ssize_t got = pread (self->fd, text, S_POSITION_MAX + 1, 0);
    if (got < 0 || got > S_POSITION_MAX)
        rc = ld_fail (err, err_size, got < 0 ? LD_ERR_IO : LD_ERR_CORRUPT, "cannot read '%s'",
                      self->path);
    else {
        text[got] = '\0';
        rc = s_position_parse (self, text, key, err, err_size);
    }
    free (text);
    if (rc != LD_OK)
        s_position_close (self);
    return rc;
}

//  Writes the position: seq, head and pending[0..pending_count).
static ld_status_t
s_position_save (s_position_t *self, char *err, size_t err_size)
{
    size_t max = S_POSITION_MAX;
    char *text = malloc (max);
    if (!text)
        return ld_fail (err, err_size, LD_ERR_NOMEM, "cannot write '%s'", self->path);
    char head[LD_ID_TEXT_BYTES];
    ld_id_to_text (self->head, head);
    int used = snprintf (text, max, "%s%s%" PRIu64 "\n%s%s\n", S_HEADER, S_SEQ_LABEL, self->seq,
                         S_HEAD_LABEL, head);
    for (size_t i = 0; i < self->pending_count && used > 0; i++) {
        size_t size;
        const uint8_t *envelope = ld_event_envelope (self->pending[i], &size);
        used += snprintf (text + used, max - (size_t) used, "%s", S_PENDING_LABEL);
        sodium_bin2base64 (text + used, max - (size_t) used, envelope, size,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        used += (int) strlen (text + used);
        text[used++] = '\n';
    }
    ld_status_t rc = s_write_durably (self->path, (const uint8_t *) text, (size_t) used, 0600, true,
                                      err, err_size);
    free (text);
    return rc;
}

ld_status_t
ld_offline_position (const char *secret_path, uint64_t *seq_p, size_t *pending_p, char *err,
                     size_t err_size)
{
    ld_identity_t *identity = NULL;
    ld_status_t rc = ld_identity_load (secret_path, &identity, err, err_size);
    if (rc != LD_OK)
        return rc;
    s_position_t position;
    rc = s_position_open (&position, secret_path, ld_identity_public_key (identity), false, err,
                          err_size);
    ld_identity_destroy (&identity);
    if (rc != LD_OK)
        return rc;
    *seq_p = position.seq;
    *pending_p = position.pending_count;
    s_position_close (&position);
    return LD_OK;
}

ld_status_t
ld_offline_sign (const char *secret_path, const char *topic, const char *type,
                 const uint8_t *payload, size_t payload_size, int64_t time_ms, const char *out_path,
                 bool force, ld_offline_result_t *result, char *err, size_t err_size)
{
    memset (result, 0, sizeof *result);
    if (!force && access (out_path, F_OK) == 0)
        return ld_fail (err, err_size, LD_ERR_EXISTS, "'%s' exists (use --force)", out_path);
    ld_identity_t *identity = NULL;
    ld_status_t rc = ld_identity_load (secret_path, &identity, err, err_size);
    if (rc != LD_OK)
        return rc;
    s_position_t position;
    rc = s_position_open (&position, secret_path, ld_identity_public_key (identity), true, err,
                          err_size);
    if (rc != LD_OK) {
        ld_identity_destroy (&identity);
        return rc;
    }
    ld_event_t *event = NULL;
    //  1-2: the next seq of the feed.
    if (position.pending_count >= LD_OFFLINE_PENDING_MAX)
        rc = ld_fail (err, err_size, LD_ERR_TOO_MANY,
                      "'%s' holds %d unfinished signings; write them out first", position.path,
                      LD_OFFLINE_PENDING_MAX);
    else
        rc = ld_event_sign (identity, position.seq + 1, position.seq ? position.head : NULL,
                            time_ms, topic, type, payload, payload_size, &event, err, err_size);
    ld_identity_destroy (&identity);
    if (rc != LD_OK)
        goto done;
    //  3: spend the seq, keeping the event until a file holds it.
    position.seq = ld_event_seq (event);
    memcpy (position.head, ld_event_id (event), LD_ID_BYTES);
    result->recovered = position.pending_count;
    position.pending[position.pending_count++] = event;
    result->seq = ld_event_seq (event);
    memcpy (result->id, ld_event_id (event), LD_ID_BYTES);
    rc = s_position_save (&position, err, err_size);
    if (rc != LD_OK)
        goto done;
    //  4: the output file, durable.
    rc =
        ld_offline_write (out_path, position.pending, position.pending_count, force, err, err_size);
    if (rc != LD_OK)
        goto done;
    //  5: nothing pending any more.
    for (size_t i = 0; i < position.pending_count; i++)
        ld_event_destroy (&position.pending[i]);
    position.pending_count = 0;
    rc = s_position_save (&position, err, err_size);
done:
    s_position_close (&position);
    return rc;
}
