/*  ld_table.h -- terminal tables for the CLI, on libsmartcols.

    libsmartcols (the library behind lsblk) measures cell widths in
    terminal columns, so CJK text (社区, two columns per character) aligns;
    padding by bytes or by characters does not. The same table prints as
    JSON (an array of objects under `name`) when asked.

    The process must run in a UTF-8 locale for the widths to be right; see
    ld_table_init_locale.
*/
#ifndef LD_TABLE_H_INCLUDED
#define LD_TABLE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct _ld_table_t ld_table_t;

//  Selects the user's locale, falling back to C.UTF-8 if it is not UTF-8
//  (minimal systems often run in the POSIX locale). Call once from main.
void ld_table_init_locale (void);

//  A table named `name` (the JSON key) with columns[0..count) as headers.
//  Returns NULL on allocation failure.
ld_table_t *ld_table_new (const char *name, const char *const *columns, size_t count);

//  Right-aligns column `index` (numbers).
void ld_table_align_right (ld_table_t *self, size_t index);

//  Appends a row; cells[0..count) are copied. Returns 0 or -1.
int ld_table_add (ld_table_t *self, const char *const *cells);

//  Prints to out as an aligned table, or as JSON if json is true.
int ld_table_print (ld_table_t *self, FILE *out, bool json);

//  NULL-safe; sets *self_p to NULL.
void ld_table_destroy (ld_table_t **self_p);

#endif
