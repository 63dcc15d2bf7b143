/*  ld_identity.c -- Ed25519 identities in secure memory. See ld_identity.h.

    The secret file holds the 32-byte seed, not the 64-byte expanded key: the
    public key is derived again on load, so a file cannot hold a secret and
    a public key that disagree.
*/
#include "ld_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Longest secret file we read: prefix, base64, newline, some slack.
#define LD_SECRET_FILE_MAX 128

struct _ld_identity_t {
    uint8_t public_key[LD_KEY_BYTES];
    uint8_t *secret; //  LD_SECRET_BYTES in sodium_malloc memory
};

static ld_identity_t *
s_identity_alloc (void)
{
    if (ld_crypto_init () != 0)
        return NULL;
    ld_identity_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->secret = sodium_malloc (LD_SECRET_BYTES);
    if (!self->secret) {
        free (self);
        return NULL;
    }
    return self;
}

ld_identity_t *
ld_identity_new (void)
{
    ld_identity_t *self = s_identity_alloc ();
    if (self)
        crypto_sign_keypair (self->public_key, self->secret);
    return self;
}

ld_identity_t *
ld_identity_new_from_seed (const uint8_t seed[LD_SEED_BYTES])
{
    ld_identity_t *self = s_identity_alloc ();
    if (self)
        crypto_sign_seed_keypair (self->public_key, self->secret, seed);
    return self;
}

void
ld_identity_destroy (ld_identity_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_identity_t *self = *self_p;
    sodium_free (self->secret); //  wipes before unmapping
    free (self);
    *self_p = NULL;
}

const uint8_t *
ld_identity_public_key (ld_identity_t *self)
{
    return self->public_key;
}

void
ld_identity_sign (ld_identity_t *self, const uint8_t *data, size_t size, uint8_t sig[LD_SIG_BYTES])
{
    crypto_sign_detached (sig, NULL, data, size, self->secret);
}

ld_status_t
ld_identity_load (const char *path, ld_identity_t **identity_p, char *err, size_t err_size)
{
    *identity_p = NULL;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ld_fail (err, err_size, errno == ENOENT ? LD_ERR_NOT_FOUND : LD_ERR_IO,
                        "cannot open secret key '%s': %s", path, strerror (errno));
    struct stat st;
    if (fstat (fd, &st) != 0) {
        close (fd);
        return ld_fail (err, err_size, LD_ERR_IO, "cannot stat '%s'", path);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close (fd);
        return ld_fail (err, err_size, LD_ERR_PERMISSIONS, "'%s' has mode %03o", path,
                        (unsigned) (st.st_mode & 0777));
    }
    ld_status_t rc = LD_OK;
    char *text = sodium_malloc (LD_SECRET_FILE_MAX + 1);
    uint8_t *seed = sodium_malloc (LD_SEED_BYTES);
    ld_identity_t *self = s_identity_alloc ();
    if (!text || !seed || !self) {
        rc = ld_fail (err, err_size, LD_ERR_NOMEM, "cannot allocate secure memory");
        goto done;
    }
    ssize_t got = read (fd, text, LD_SECRET_FILE_MAX + 1);
    if (got < 0) {
        rc = ld_fail (err, err_size, LD_ERR_IO, "cannot read '%s': %s", path, strerror (errno));
        goto done;
    }
    size_t len = (size_t) got;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    size_t plen = strlen (LD_SECRET_PREFIX);
    size_t seed_len = 0;
    const char *end = NULL;
    if (len != plen + LD_B64_32_CHARS || memcmp (text, LD_SECRET_PREFIX, plen) != 0
        || !ld_base64url_valid (text + plen, len - plen)
        || sodium_base642bin (seed, LD_SEED_BYTES, text + plen, len - plen, NULL, &seed_len, &end,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING)
               != 0
        || seed_len != LD_SEED_BYTES) {
        rc = ld_fail (err, err_size, LD_ERR_BAD_FORMAT, "'%s' is not a Liandong secret key", path);
        goto done;
    }
    crypto_sign_seed_keypair (self->public_key, self->secret, seed);
    *identity_p = self;
    self = NULL;
done:
    ld_identity_destroy (&self);
    sodium_free (seed);
    sodium_free (text);
    close (fd);
    return rc;
}

//  Writes size bytes to path with mode, refusing to replace an existing file
//  unless force. Written to a temporary name and renamed, so a crash never
//  leaves half a key behind.
static ld_status_t
s_write_file (const char *path, const char *data, size_t size, mode_t mode, char *err,
              size_t err_size)
{
    char tmp[PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
        return ld_fail (err, err_size, LD_ERR_USAGE, "path too long: '%s'", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return ld_fail (err, err_size, LD_ERR_IO, "cannot create '%s': %s", tmp, strerror (errno));
    //  O_CREAT's mode is filtered by umask and ignored for an existing file.
    bool ok = fchmod (fd, mode) == 0 && write (fd, data, size) == (ssize_t) size && fsync (fd) == 0;
    ok = (close (fd) == 0) && ok;
    if (!ok || rename (tmp, path) != 0) {
        int e = errno;
        unlink (tmp);
        return ld_fail (err, err_size, LD_ERR_IO, "cannot write '%s': %s", path, strerror (e));
    }
    return LD_OK;
}

ld_status_t
ld_identity_save (ld_identity_t *self, const char *dir, bool force, char *err, size_t err_size)
{
    char secret_path[PATH_MAX], public_path[PATH_MAX];
    if (snprintf (secret_path, sizeof secret_path, "%s/%s", dir, LD_IDENTITY_SECRET)
            >= (int) sizeof secret_path
        || snprintf (public_path, sizeof public_path, "%s/%s", dir, LD_IDENTITY_PUBLIC)
               >= (int) sizeof public_path)
        return ld_fail (err, err_size, LD_ERR_USAGE, "directory path too long: '%s'", dir);
    if (mkdir (dir, 0700) != 0 && errno != EEXIST)
        return ld_fail (err, err_size, LD_ERR_IO, "cannot create directory '%s': %s", dir,
                        strerror (errno));
    if (!force) {
        if (access (secret_path, F_OK) == 0)
            return ld_fail (err, err_size, LD_ERR_EXISTS,
                            "'%s' exists; a second key under one name forks its history "
                            "(use --force to replace it)",
                            secret_path);
        if (access (public_path, F_OK) == 0)
            return ld_fail (err, err_size, LD_ERR_EXISTS, "'%s' exists (use --force)", public_path);
    }
    size_t plen = strlen (LD_SECRET_PREFIX);
    size_t text_size = plen + LD_B64_32_CHARS + 2;
    char *text = sodium_malloc (text_size);
    if (!text)
        return ld_fail (err, err_size, LD_ERR_NOMEM, "cannot allocate secure memory");
    memcpy (text, LD_SECRET_PREFIX, plen);
    //  The seed is the first half of libsodium's expanded secret key.
    sodium_bin2base64 (text + plen, text_size - plen, self->secret, LD_SEED_BYTES,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t len = strlen (text);
    text[len++] = '\n';
    ld_status_t rc = s_write_file (secret_path, text, len, 0600, err, err_size);
    sodium_free (text);
    if (rc != LD_OK)
        return rc;
    char pub[LD_KEY_TEXT_BYTES + 1];
    ld_key_to_text (self->public_key, pub);
    len = strlen (pub);
    pub[len++] = '\n';
    return s_write_file (public_path, pub, len, 0644, err, err_size);
}

ld_status_t
ld_public_key_load (const char *path_or_text, uint8_t key[LD_KEY_BYTES], char *err, size_t err_size)
{
    if (strncmp (path_or_text, LD_KEY_PREFIX, strlen (LD_KEY_PREFIX)) == 0) {
        //  The text of a whole key file: the key is its first line.
        char first[LD_KEY_TEXT_BYTES + 16];
        size_t len = strcspn (path_or_text, "\n");
        if (len >= sizeof first)
            len = sizeof first - 1;
        memcpy (first, path_or_text, len);
        first[len] = '\0';
        if (ld_key_from_text (first, key) != LD_OK)
            return ld_fail (err, err_size, LD_ERR_BAD_FORMAT, "'%s' is not a public key",
                            path_or_text);
        return LD_OK;
    }
    FILE *file = fopen (path_or_text, "re");
    if (!file)
        return ld_fail (err, err_size, errno == ENOENT ? LD_ERR_NOT_FOUND : LD_ERR_IO,
                        "cannot open public key '%s': %s", path_or_text, strerror (errno));
    //  Only the first line: a trust root file (trust/ld_roots.h) adds
    //  "path:" and "name:" lines after it.
    char line[LD_KEY_TEXT_BYTES + 16];
    bool ok = fgets (line, sizeof line, file) != NULL && ld_key_from_text (line, key) == LD_OK;
    fclose (file);
    if (!ok)
        return ld_fail (err, err_size, LD_ERR_BAD_FORMAT, "'%s' holds no public key", path_or_text);
    return LD_OK;
}

//  --------------------------------------------------------------------------
//  The Curve25519 form, for CurveZMQ

struct _ld_curve_t {
    uint8_t public_key[crypto_scalarmult_curve25519_BYTES];
    uint8_t *secret; //  crypto_scalarmult_curve25519_BYTES in sodium_malloc memory
};

ld_curve_t *
ld_curve_new (ld_identity_t *identity)
{
    if (!identity || ld_crypto_init () != 0)
        return NULL;
    ld_curve_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->secret = sodium_malloc (crypto_scalarmult_curve25519_BYTES);
    if (!self->secret
        || crypto_sign_ed25519_pk_to_curve25519 (self->public_key, identity->public_key) != 0
        || crypto_sign_ed25519_sk_to_curve25519 (self->secret, identity->secret) != 0) {
        ld_curve_destroy (&self);
        return NULL;
    }
    return self;
}

void
ld_curve_destroy (ld_curve_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_curve_t *self = *self_p;
    sodium_free (self->secret); //  wipes; NULL-safe
    free (self);
    *self_p = NULL;
}

const uint8_t *
ld_curve_public (const ld_curve_t *self)
{
    return self->public_key;
}

const uint8_t *
ld_curve_secret (const ld_curve_t *self)
{
    return self->secret;
}

ld_status_t
ld_curve_public_from_key (const uint8_t key[LD_KEY_BYTES], uint8_t curve[LD_KEY_BYTES])
{
    if (ld_crypto_init () != 0)
        return LD_ERR_NOMEM;
    return crypto_sign_ed25519_pk_to_curve25519 (curve, key) == 0 ? LD_OK : LD_ERR_BAD_KEY;
}
