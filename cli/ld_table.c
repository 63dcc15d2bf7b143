/*  ld_table.c -- terminal tables on libsmartcols. See ld_table.h. */
#include "ld_table.h"

#include <unistd.h>

#include <langinfo.h>
#include <libsmartcols.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#define S_ELLIPSIS    "\u2026" //  '…', ends a cut cell
#define S_REPLACEMENT "\uFFFD" //  stands for a byte that is not UTF-8
#define S_SEPARATOR   "  "     //  between the columns of a stream
#define S_UTF8_MAX    4        //  bytes of one character

struct _ld_table_t {
    struct libscols_table *table;
    size_t columns;
};

void
ld_table_init_locale (void)
{
    setlocale (LC_ALL, "");
    const char *codeset = nl_langinfo (CODESET);
    if (!codeset || strcmp (codeset, "UTF-8") != 0)
        setlocale (LC_CTYPE, "C.UTF-8");
}

ld_table_t *
ld_table_new (const char *name, const char *const *columns, size_t count)
{
    ld_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->table = scols_new_table ();
    if (!self->table || scols_table_set_name (self->table, name) != 0) {
        ld_table_destroy (&self);
        return NULL;
    }
    self->columns = count;
    for (size_t i = 0; i < count; i++)
        if (!scols_table_new_column (self->table, columns[i], 0, 0)) {
            ld_table_destroy (&self);
            return NULL;
        }
    return self;
}

void
ld_table_align_right (ld_table_t *self, size_t index)
{
    struct libscols_column *column = scols_table_get_column (self->table, index);
    if (column)
        scols_column_set_flags (column, scols_column_get_flags (column) | SCOLS_FL_RIGHT);
}

//  A new row holding cells; NULL on failure.
static struct libscols_line *
s_add (ld_table_t *self, const char *const *cells)
{
    struct libscols_line *line = scols_table_new_line (self->table, NULL);
    if (!line)
        return NULL;
    for (size_t i = 0; i < self->columns; i++)
        if (scols_line_set_data (line, i, cells[i] ? cells[i] : "") != 0)
            return NULL;
    return line;
}

int
ld_table_add (ld_table_t *self, const char *const *cells)
{
    return s_add (self, cells) ? 0 : -1;
}

static int s_colors = -1; //  -1 auto (a terminal), 0 never, 1 always

void
ld_table_set_colors (int mode)
{
    s_colors = mode;
}

int
ld_table_add_marked (ld_table_t *self, const char *const *cells, const char *color)
{
    struct libscols_line *line = s_add (self, cells);
    if (!line)
        return -1;
    return color ? scols_line_set_color (line, color) : 0;
}

int
ld_table_print (ld_table_t *self, FILE *out, bool json)
{
    //  Colours only on a terminal: a pipe or a file gets plain text.
    bool colors = s_colors < 0 ? isatty (fileno (out)) : s_colors > 0;
    scols_table_enable_colors (self->table, !json && colors);
    scols_table_enable_json (self->table, json);
    scols_table_set_stream (self->table, out);
    return scols_print_table (self->table);
}

void
ld_table_destroy (ld_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    scols_unref_table ((*self_p)->table);
    free (*self_p);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Streaming rows

struct _ld_table_stream_t {
    ld_table_column_t *columns; //  names are our copies
    size_t count;
};

//  One character of text as a stream prints it.
typedef struct {
    const char *bytes; //  into the text, or a replacement
    size_t size;
    size_t width; //  terminal columns
} s_glyph_t;

//  Reads the character at *p (before end) into glyph and advances *p.
//  Control characters become a space and anything wcwidth cannot place
//  (bytes that are not UTF-8, unassigned code points) U+FFFD, so that a
//  cell never breaks its line or the columns after it.
static void
s_next_glyph (const char **p, const char *end, mbstate_t *state, s_glyph_t *glyph)
{
    wchar_t wc;
    size_t n = mbrtowc (&wc, *p, (size_t) (end - *p), state);
    if (n == (size_t) -1 || n == (size_t) -2 || n == 0) {
        memset (state, 0, sizeof *state);
        *glyph = (s_glyph_t){S_REPLACEMENT, sizeof S_REPLACEMENT - 1, 1};
        *p += 1;
        return;
    }
    *p += n;
    int width = wcwidth (wc);
    if (iswcntrl ((wint_t) wc))
        *glyph = (s_glyph_t){" ", 1, 1};
    else if (width < 0)
        *glyph = (s_glyph_t){S_REPLACEMENT, sizeof S_REPLACEMENT - 1, 1};
    else
        *glyph = (s_glyph_t){*p - n, n, (size_t) width};
}

size_t
ld_table_text_width (const char *text)
{
    if (!text)
        return 0;
    const char *p = text, *end = text + strlen (text);
    mbstate_t state;
    memset (&state, 0, sizeof state);
    size_t width = 0;
    while (p < end) {
        s_glyph_t glyph;
        s_next_glyph (&p, end, &state, &glyph);
        width += glyph.width;
    }
    return width;
}

char *
ld_table_fit (const char *text, int width, bool right)
{
    if (!text)
        text = "";
    size_t size = strlen (text);
    size_t target = width > 0 ? (size_t) width : 0;
    size_t total = ld_table_text_width (text);
    bool cut = target > 0 && total > target;
    size_t ellipsis = (size_t) wcwidth (L'\u2026');
    if (ellipsis < 1 || ellipsis > target)
        ellipsis = 1;
    size_t limit = cut ? target - ellipsis : SIZE_MAX;
    //  Every byte may become a replacement (3 bytes), plus padding and '…'.
    if (size > (SIZE_MAX - target - 16) / S_UTF8_MAX)
        return NULL;
    char *out = malloc (size * S_UTF8_MAX + target + sizeof S_ELLIPSIS + 1);
    if (!out)
        return NULL;
    //  The content first, at an offset that leaves room for left padding.
    size_t used = 0, shown = 0;
    const char *p = text, *end = text + size;
    mbstate_t state;
    memset (&state, 0, sizeof state);
    char *content = out + target;
    while (p < end) {
        s_glyph_t glyph;
        s_next_glyph (&p, end, &state, &glyph);
        if (shown + glyph.width > limit)
            break;
        memcpy (content + used, glyph.bytes, glyph.size);
        used += glyph.size;
        shown += glyph.width;
    }
    if (cut) {
        memcpy (content + used, S_ELLIPSIS, sizeof S_ELLIPSIS - 1);
        used += sizeof S_ELLIPSIS - 1;
        shown += ellipsis;
    }
    size_t pad = shown < target ? target - shown : 0;
    if (right) {
        memmove (out + pad, content, used);
        memset (out, ' ', pad);
    }
    else {
        memmove (out, content, used);
        memset (out + used, ' ', pad);
    }
    out[used + pad] = '\0';
    return out;
}

ld_table_stream_t *
ld_table_stream_new (const ld_table_column_t *columns, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (columns[i].width < (i + 1 == count ? 0 : 1))
            return NULL;
    ld_table_stream_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->columns = calloc (count ? count : 1, sizeof *self->columns);
    if (!self->columns) {
        free (self);
        return NULL;
    }
    self->count = count;
    for (size_t i = 0; i < count; i++) {
        self->columns[i] = columns[i];
        self->columns[i].name = strdup (columns[i].name ? columns[i].name : "");
        if (!self->columns[i].name) {
            ld_table_stream_destroy (&self);
            return NULL;
        }
    }
    return self;
}

int
ld_table_stream_row (ld_table_stream_t *self, FILE *out, const char *const *cells)
{
    char *line = NULL;
    size_t line_size = 0;
    FILE *buffer = open_memstream (&line, &line_size);
    if (!buffer)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < self->count && rc == 0; i++) {
        const ld_table_column_t *column = &self->columns[i];
        const char *cell = cells[i] ? cells[i] : "";
        bool last = i + 1 == self->count;
        int width = column->width;
        if (column->whole && ld_table_text_width (cell) > (size_t) width)
            width = 0;
        char *fitted = ld_table_fit (cell, width, column->right);
        if (!fitted) {
            rc = -1;
            break;
        }
        //  no trailing spaces after the last cell
        if (last && !column->right) {
            size_t n = strlen (fitted);
            while (n > 0 && fitted[n - 1] == ' ')
                fitted[--n] = '\0';
        }
        if (fputs (fitted, buffer) == EOF || (!last && fputs (S_SEPARATOR, buffer) == EOF))
            rc = -1;
        free (fitted);
    }
    if (fclose (buffer) != 0)
        rc = -1;
    if (rc == 0 && (fputs (line, out) == EOF || fputc ('\n', out) == EOF || ferror (out)))
        rc = -1;
    free (line);
    return rc;
}

int
ld_table_stream_header (ld_table_stream_t *self, FILE *out)
{
    const char **names = calloc (self->count ? self->count : 1, sizeof *names);
    if (!names)
        return -1;
    for (size_t i = 0; i < self->count; i++)
        names[i] = self->columns[i].name;
    int rc = ld_table_stream_row (self, out, names);
    free (names);
    return rc;
}

void
ld_table_stream_destroy (ld_table_stream_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ld_table_stream_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free ((char *) self->columns[i].name);
    free (self->columns);
    free (self);
    *self_p = NULL;
}
