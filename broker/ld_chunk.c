/*  ld_chunk.c -- see ld_chunk.h. */
#include "ld_chunk.h"

#include <stdlib.h>
#include <string.h>

int
ld_chunk_init (ld_chunk_t *self, size_t max)
{
    memset (self, 0, sizeof *self);
    self->max = max;
    self->events = calloc (max ? max : 1, sizeof *self->events);
    return self->events ? 0 : -1;
}

int
ld_chunk_collect (void *arg, const ld_stored_t *stored)
{
    ld_chunk_t *self = arg;
    if (self->only_seq && stored->store_seq != self->only_seq)
        return 0;
    if (self->count == self->max
        || (self->count > 0 && self->bytes + stored->size > LD_SYNC_CHUNK_BYTES))
        return 1;
    uint8_t *copy = malloc (stored->size ? stored->size : 1);
    if (!copy)
        return 1;
    memcpy (copy, stored->envelope, stored->size);
    self->events[self->count].data = copy;
    self->events[self->count].len = stored->size;
    self->count++;
    self->bytes += stored->size;
    return 0;
}

void
ld_chunk_clear (ld_chunk_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free (self->events[i].data);
    free (self->events);
    memset (self, 0, sizeof *self);
}
