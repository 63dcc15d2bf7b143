/*  ld_utf8.h -- strict UTF-8 validation (RFC 3629).

    Rejects overlong forms, surrogates (U+D800..U+DFFF), code points above
    U+10FFFF and truncated sequences. NUL bytes are rejected too: no string
    in a Liandong event may carry one, because C consumers would truncate it.
*/
#ifndef LD_UTF8_H_INCLUDED
#define LD_UTF8_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  True if data[0..size) is valid UTF-8 without NUL bytes.
bool ld_utf8_valid (const uint8_t *data, size_t size);

#endif
