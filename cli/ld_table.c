/*  ld_table.c -- terminal tables on libsmartcols. See ld_table.h. */
#include "ld_table.h"

#include <langinfo.h>
#include <libsmartcols.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

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

int
ld_table_add (ld_table_t *self, const char *const *cells)
{
    struct libscols_line *line = scols_table_new_line (self->table, NULL);
    if (!line)
        return -1;
    for (size_t i = 0; i < self->columns; i++)
        if (scols_line_set_data (line, i, cells[i] ? cells[i] : "") != 0)
            return -1;
    return 0;
}

int
ld_table_print (ld_table_t *self, FILE *out, bool json)
{
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
