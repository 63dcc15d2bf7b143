/*  ld_crypto.c -- hashing, verification, text forms. See ld_crypto.h. */
#include "ld_crypto.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int
ld_crypto_init (void)
{
    return sodium_init () < 0 ? -1 : 0;
}

void
ld_hash_id (const uint8_t *data, size_t size, uint8_t id[LD_ID_BYTES])
{
    crypto_generichash (id, LD_ID_BYTES, data, size, NULL, 0);
}

bool
ld_verify (const uint8_t key[LD_KEY_BYTES], const uint8_t *data, size_t size,
           const uint8_t sig[LD_SIG_BYTES])
{
    return crypto_sign_verify_detached (sig, data, size, key) == 0;
}

static void
s_to_text (const char *prefix, const uint8_t bin[32], char out[LD_KEY_TEXT_BYTES])
{
    size_t plen = strlen (prefix);
    memcpy (out, prefix, plen);
    sodium_bin2base64 (out + plen, LD_KEY_TEXT_BYTES - plen, bin, 32,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

//  libsodium 1.0.18 (Debian 12) accepts any byte >= 0x80 as a base64 digit,
//  so the alphabet is checked here: one key, one text.
bool
ld_base64url_valid (const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
              || c == '_'))
            return false;
    }
    return true;
}

static ld_status_t
s_from_text (const char *prefix, const char *text, uint8_t bin[32])
{
    if (!text)
        return LD_ERR_BAD_FORMAT;
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    size_t plen = strlen (prefix);
    if (strncmp (text, prefix, plen) != 0)
        return LD_ERR_BAD_FORMAT;
    text += plen;
    size_t len = strlen (text);
    while (len > 0
           && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n'
               || text[len - 1] == '\r'))
        len--;
    if (len != LD_B64_32_CHARS || !ld_base64url_valid (text, len))
        return LD_ERR_BAD_FORMAT;
    size_t bin_len = 0;
    const char *end = NULL;
    if (sodium_base642bin (bin, 32, text, len, NULL, &bin_len, &end,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING)
            != 0
        || bin_len != 32 || end != text + len)
        return LD_ERR_BAD_FORMAT;
    return LD_OK;
}

void
ld_key_to_text (const uint8_t key[LD_KEY_BYTES], char out[LD_KEY_TEXT_BYTES])
{
    s_to_text (LD_KEY_PREFIX, key, out);
}

void
ld_id_to_text (const uint8_t id[LD_ID_BYTES], char out[LD_ID_TEXT_BYTES])
{
    s_to_text (LD_ID_PREFIX, id, out);
}

ld_status_t
ld_key_from_text (const char *text, uint8_t key[LD_KEY_BYTES])
{
    return s_from_text (LD_KEY_PREFIX, text, key);
}

ld_status_t
ld_id_from_text (const char *text, uint8_t id[LD_ID_BYTES])
{
    return s_from_text (LD_ID_PREFIX, text, id);
}

char *
ld_base64_encode (const uint8_t *data, size_t size)
{
    size_t len = sodium_base64_encoded_len (size, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc (len);
    if (out)
        sodium_bin2base64 (out, len, data, size, sodium_base64_VARIANT_ORIGINAL);
    return out;
}
