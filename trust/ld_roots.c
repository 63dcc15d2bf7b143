/*  ld_roots.c -- trust root files. See ld_roots.h for the format. */
#include "ld_roots.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ld_event.h"
#include "ld_utf8.h"

//  Checks an org path ("" = anywhere) and a display name.
static ld_status_t
s_check (const char *path, const char *name, const char *what, char *err, size_t err_size)
{
    size_t path_len = path ? strlen (path) : 0;
    if (path_len) {
        ld_status_t rc = ld_topic_check (path, path_len);
        if (rc != LD_OK)
            return ld_fail (err, err_size, rc,
                            "%s: path '%s' is not an org path (slug segments each ending '/')",
                            what, path);
    }
    if (name) {
        size_t name_len = strlen (name);
        if (name_len == 0)
            return ld_fail (err, err_size, LD_ERR_BAD_PAYLOAD, "%s: empty name", what);
        if (name_len > LD_NAME_MAX)
            return ld_fail (err, err_size, LD_ERR_STRING_TOO_LONG, "%s: name longer than %d bytes",
                            what, LD_NAME_MAX);
        if (!ld_utf8_valid ((const uint8_t *) name, name_len))
            return ld_fail (err, err_size, LD_ERR_BAD_UTF8, "%s: name is not UTF-8", what);
    }
    return LD_OK;
}

//  Reads the whole file into buffer (LD_ROOT_FILE_MAX + 1 bytes).
static ld_status_t
s_read (const char *file_path, char *buffer, char *err, size_t err_size)
{
    FILE *file = fopen (file_path, "re");
    if (!file)
        return ld_fail (err, err_size, errno == ENOENT ? LD_ERR_NOT_FOUND : LD_ERR_IO,
                        "cannot open trust root '%s': %s", file_path, strerror (errno));
    size_t got = fread (buffer, 1, LD_ROOT_FILE_MAX + 1, file);
    bool failed = ferror (file);
    fclose (file);
    if (failed)
        return ld_fail (err, err_size, LD_ERR_IO, "cannot read trust root '%s'", file_path);
    if (got > LD_ROOT_FILE_MAX)
        return ld_fail (err, err_size, LD_ERR_TOO_BIG, "trust root '%s' is larger than %d bytes",
                        file_path, LD_ROOT_FILE_MAX);
    buffer[got] = '\0';
    return LD_OK;
}

//  Strips ASCII spaces, tabs and a CR at both ends, in place.
static char *
s_trim (char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strlen (text);
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
        text[--len] = '\0';
    return text;
}

ld_status_t
ld_root_load (const char *path_or_text, uint8_t key[LD_KEY_BYTES], char path[LD_TOPIC_MAX + 1],
              char name[LD_NAME_MAX + 1], char *err, size_t err_size)
{
    char buffer[LD_ROOT_FILE_MAX + 1];
    const char *what = path_or_text;
    bool is_text = strncmp (path_or_text, LD_KEY_PREFIX, strlen (LD_KEY_PREFIX)) == 0;
    if (is_text) {
        if (strlen (path_or_text) > LD_ROOT_FILE_MAX)
            return ld_fail (err, err_size, LD_ERR_TOO_BIG, "trust root text is too long");
        snprintf (buffer, sizeof buffer, "%s", path_or_text);
        what = "trust root";
    }
    else {
        ld_status_t rc = s_read (path_or_text, buffer, err, err_size);
        if (rc != LD_OK)
            return rc;
    }
    path[0] = '\0';
    snprintf (name, LD_NAME_MAX + 1, "%s", LD_ROOT_NAME_DEFAULT);
    bool has_path = false, has_name = false;
    char *save = NULL;
    size_t number = 0;
    for (char *line = strtok_r (buffer, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        number++;
        char *text = s_trim (line);
        if (number == 1) {
            if (ld_key_from_text (text, key) != LD_OK)
                return ld_fail (err, err_size, LD_ERR_BAD_FORMAT,
                                "'%s' does not start with a public key line (ed25519:...)", what);
            continue;
        }
        if (*text == '\0' || *text == '#')
            continue;
        bool is_path = strncmp (text, LD_ROOT_PATH_LABEL, strlen (LD_ROOT_PATH_LABEL)) == 0;
        bool is_name = strncmp (text, LD_ROOT_NAME_LABEL, strlen (LD_ROOT_NAME_LABEL)) == 0;
        if ((!is_path && !is_name) || (is_path && has_path) || (is_name && has_name))
            return ld_fail (err, err_size, LD_ERR_BAD_FORMAT,
                            "'%s' line %zu: expected one 'path: P' and one 'name: N' after the key",
                            what, number);
        char *value = s_trim (text + strlen (is_path ? LD_ROOT_PATH_LABEL : LD_ROOT_NAME_LABEL));
        size_t len = strlen (value);
        if (is_path) {
            if (len > LD_TOPIC_MAX)
                return ld_fail (err, err_size, LD_ERR_TOPIC_TOO_LONG,
                                "'%s' line %zu: path too long", what, number);
            memcpy (path, value, len + 1);
            has_path = true;
        }
        else {
            if (len > LD_NAME_MAX)
                return ld_fail (err, err_size, LD_ERR_STRING_TOO_LONG,
                                "'%s' line %zu: name longer than %d bytes", what, number,
                                LD_NAME_MAX);
            memcpy (name, value, len + 1);
            has_name = true;
        }
    }
    if (number == 0)
        return ld_fail (err, err_size, LD_ERR_BAD_FORMAT, "'%s' is empty", what);
    return s_check (path, name, what, err, err_size);
}

ld_status_t
ld_root_format (const uint8_t key[LD_KEY_BYTES], const char *path, const char *name, char *out,
                size_t out_size, char *err, size_t err_size)
{
    ld_status_t rc = s_check (path, name, "trust root", err, err_size);
    if (rc != LD_OK)
        return rc;
    char text[LD_KEY_TEXT_BYTES];
    ld_key_to_text (key, text);
    int used = snprintf (out, out_size, "%s\n%s%s%s%s%s%s", text, path && *path ? "path: " : "",
                         path && *path ? path : "", path && *path ? "\n" : "", name ? "name: " : "",
                         name ? name : "", name ? "\n" : "");
    if (used < 0 || (size_t) used >= out_size)
        return ld_fail (err, err_size, LD_ERR_TOO_BIG, "trust root text does not fit");
    return LD_OK;
}

ld_status_t
ld_trust_add_root_file (ld_trust_t *trust, const char *path_or_text, char *err, size_t err_size)
{
    uint8_t key[LD_KEY_BYTES];
    char path[LD_TOPIC_MAX + 1], name[LD_NAME_MAX + 1];
    ld_status_t rc = ld_root_load (path_or_text, key, path, name, err, err_size);
    if (rc != LD_OK)
        return rc;
    rc = ld_trust_add_root (trust, key, path, name);
    if (rc == LD_ERR_EXISTS)
        return ld_fail (err, err_size, rc, "'%s' names a key that is a trust root already",
                        path_or_text);
    if (rc != LD_OK)
        return ld_fail (err, err_size, rc, "cannot add trust root '%s'", path_or_text);
    return LD_OK;
}
