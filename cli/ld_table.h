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

//  As ld_table_add, and the row is shown in color (a libsmartcols color
//  name: "red", "bold", ...) when printed to a terminal. NULL: plain.
int ld_table_add_marked (ld_table_t *self, const char *const *cells, const char *color);

//  Colours of marked rows: -1 on a terminal only (the default), 0 never,
//  1 always (a parent that shows our output on its terminal).
void ld_table_set_colors (int mode);

//  Prints to out as an aligned table, or as JSON if json is true.
int ld_table_print (ld_table_t *self, FILE *out, bool json);

//  NULL-safe; sets *self_p to NULL.
void ld_table_destroy (ld_table_t **self_p);

//  ---- Streaming rows ----
//
//  libsmartcols measures every row before it prints the first, so it cannot
//  print a row the moment it arrives (`liandong tail`). A stream prints each
//  row at once against fixed column widths instead, measured in terminal
//  columns with wcwidth (a CJK character takes two): cells are padded with
//  spaces to their width, and an over-long cell is cut at a character
//  boundary and ends with '…', so that 金江苑社区 and 龙广路街道 line up with
//  ASCII. Control characters (a newline in a note) print as a space and
//  bytes that are not UTF-8 as U+FFFD, so one row is always one line. Needs
//  a UTF-8 locale (ld_table_init_locale).

//  One column of a stream.
typedef struct {
    const char *name; //  header
    int width;        //  terminal columns, >= 1; the last column may be 0:
                      //  printed as it is, neither padded nor cut
    bool right;       //  right-aligned (numbers)
    bool whole;       //  never cut (numbers): a longer cell pushes the rest
                      //  of its row to the right instead
} ld_table_column_t;

typedef struct _ld_table_stream_t ld_table_stream_t;

//  A stream of rows with columns[0..count); the array and the names are
//  copied. Returns NULL on allocation failure or a width below 1 (0 is
//  allowed for the last column).
ld_table_stream_t *ld_table_stream_new (const ld_table_column_t *columns, size_t count);

//  Prints the header row (the column names) to out. Returns 0, or -1 on
//  allocation failure or if out reports an error.
int ld_table_stream_header (ld_table_stream_t *self, FILE *out);

//  Prints one row, cells[0..count) (NULL prints as empty), to out. Returns
//  0, or -1 on allocation failure or if out reports an error.
int ld_table_stream_row (ld_table_stream_t *self, FILE *out, const char *const *cells);

//  NULL-safe; sets *self_p to NULL.
void ld_table_stream_destroy (ld_table_stream_t **self_p);

//  text fitted to exactly width terminal columns: padded with spaces (on
//  the left if right is true), or cut at a character boundary and ended with
//  '…' (then one column short when a two-column character did not fit, and
//  padded back). width 0: no padding or cutting, only the control and
//  invalid characters replaced as above. A new string the caller frees, or
//  NULL on allocation failure.
char *ld_table_fit (const char *text, int width, bool right);

//  Terminal columns text takes as ld_table_fit prints it.
size_t ld_table_text_width (const char *text);

#endif
