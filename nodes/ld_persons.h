/*  ld_persons.h -- a node's keeper of erasable personal data (DESIGN.md
    section 3): seals a person's details under a new per-person secret that
    it keeps in the node's store, opens them again, and erases the secret.

    The secret (key and salt) exists in memory only in libsodium guarded
    pages, for the length of one call, and is wiped before the call
    returns; the store keeps it until ld_persons_erase (ld_store.h says how
    the erasure reaches the files). Plain functions over the store, so the
    node actor's control handler stays a dispatcher and the behaviour is
    testable without sockets. Not thread-safe beyond the store's rule: the
    store's owning thread calls these.
*/
#ifndef LD_PERSONS_H_INCLUDED
#define LD_PERSONS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_person.h"
#include "ld_status.h"
#include "ld_store.h"

//  Seals person (a serialized Person) under a new random key and salt,
//  stores them with the sealed bytes, and writes the serialized
//  SealedPerson into *sealed_p (malloc'ed, the caller's) and its
//  commitment. Errors: ld_person_seal's (LD_ERR_BAD_PAYLOAD and the codec
//  statuses for details that are not a valid Person), LD_ERR_NOMEM, and
//  ld_store_person_put's (LD_ERR_FULL, LD_ERR_IO: the store failed).
ld_status_t ld_persons_seal (ld_store_t *store, const uint8_t *person, size_t size, int64_t now_ms,
                             uint8_t commitment[LD_COMMITMENT_BYTES], uint8_t **sealed_p,
                             size_t *sealed_size_p, char *err, size_t err_size);

//  Opens a person's details, given the serialized SealedPerson (sealed,
//  sealed_size) or, when sealed is NULL, only its commitment (the store
//  keeps the sealed bytes). Writes them into person[0..*size_p) (a buffer
//  of LD_PERSON_MAX bytes the caller wipes after use). Returns LD_OK;
//  LD_ERR_NOT_FOUND if the store never held the person (*erased_ms_p 0) or
//  it was erased (*erased_ms_p > 0: when); LD_ERR_BAD_PAYLOAD and the codec
//  statuses for a SealedPerson that does not decode or does not open;
//  LD_ERR_NOMEM, LD_ERR_CORRUPT, LD_ERR_IO.
ld_status_t ld_persons_open (ld_store_t *store, const uint8_t *sealed, size_t sealed_size,
                             const uint8_t commitment[LD_COMMITMENT_BYTES],
                             uint8_t person[LD_PERSON_MAX], size_t *size_p, int64_t *erased_ms_p,
                             char *err, size_t err_size);

//  Destroys a person's secret (ld_store_person_erase: same results).
ld_status_t ld_persons_erase (ld_store_t *store, const uint8_t commitment[LD_COMMITMENT_BYTES],
                              int64_t now_ms, bool *already_p, char *err, size_t err_size);

#endif
