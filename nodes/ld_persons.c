/*  ld_persons.c -- a node's keeper of erasable personal data. See
    ld_persons.h; the format is ld_person.h's, the erasure ld_store.c's.
*/
#include "ld_persons.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

ld_status_t
ld_persons_seal (ld_store_t *store, const uint8_t *person, size_t size, int64_t now_ms,
                 uint8_t commitment[LD_COMMITMENT_BYTES], uint8_t **sealed_p, size_t *sealed_size_p,
                 char *err, size_t err_size)
{
    *sealed_p = NULL;
    *sealed_size_p = 0;
    ld_person_secret_t *secret = ld_person_secret_new ();
    if (!secret)
        return ld_fail (err, err_size, LD_ERR_NOMEM, "no guarded memory for a person's key");
    uint8_t *sealed = NULL;
    size_t sealed_size = 0;
    ld_status_t rc =
        ld_person_seal (person, size, secret, commitment, &sealed, &sealed_size, err, err_size);
    if (rc == LD_OK)
        rc = ld_store_person_put (store, commitment, secret, sealed, sealed_size, now_ms, err,
                                  err_size);
    ld_person_secret_destroy (&secret);
    if (rc != LD_OK) {
        free (sealed);
        return rc;
    }
    *sealed_p = sealed;
    *sealed_size_p = sealed_size;
    return LD_OK;
}

ld_status_t
ld_persons_open (ld_store_t *store, const uint8_t *sealed, size_t sealed_size,
                 const uint8_t commitment[LD_COMMITMENT_BYTES], uint8_t person[LD_PERSON_MAX],
                 size_t *size_p, int64_t *erased_ms_p, char *err, size_t err_size)
{
    *size_p = 0;
    *erased_ms_p = 0;
    ld_sealed_person_t *given = malloc (sizeof *given);
    uint8_t *stored = malloc (LD_SEALED_PERSON_MAX);
    ld_person_secret_t *secret = sodium_malloc (sizeof *secret);
    ld_status_t rc = LD_OK;
    if (!given || !stored || !secret) {
        rc = ld_fail (err, err_size, LD_ERR_NOMEM, "no memory to open a person");
        goto done;
    }
    if (sealed) {
        rc = ld_sealed_person_decode (sealed, sealed_size, given, err, err_size);
        if (rc != LD_OK)
            goto done;
        commitment = given->commitment;
    }
    size_t stored_size = 0;
    rc = ld_store_person_get (store, commitment, secret, stored, &stored_size, erased_ms_p);
    if (rc == LD_ERR_NOT_FOUND) {
        rc = ld_fail (err, err_size, rc,
                      *erased_ms_p ? "the person was erased" : "this node never held the person");
        goto done;
    }
    if (rc != LD_OK) {
        rc = ld_fail (err, err_size, rc, "cannot read the person's key");
        goto done;
    }
    //  Only the commitment given: open what the store kept beside the key.
    if (!sealed) {
        rc = ld_sealed_person_decode (stored, stored_size, given, err, err_size);
        if (rc != LD_OK)
            goto done;
    }
    rc = ld_person_open (given, secret, person, size_p, err, err_size);
done:
    if (secret)
        sodium_free (secret); //  wipes the key and salt
    free (stored);
    free (given);
    return rc;
}

ld_status_t
ld_persons_erase (ld_store_t *store, const uint8_t commitment[LD_COMMITMENT_BYTES], int64_t now_ms,
                  bool *already_p, char *err, size_t err_size)
{
    return ld_store_person_erase (store, commitment, now_ms, already_p, err, err_size);
}
