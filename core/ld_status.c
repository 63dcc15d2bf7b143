/*  ld_status.c -- the status table. See ld_status.h. */
#include "ld_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *text;
} s_status_entry_t;

static const s_status_entry_t s_table[] = {
#define LD_STATUS_ROW(code, name, text) [code] = {name, text},
    LD_STATUS_LIST (LD_STATUS_ROW)
#undef LD_STATUS_ROW
};

_Static_assert(sizeof (s_table) / sizeof (s_table[0]) == LD_STATUS_COUNT,
               "every ld_status_t needs a row in the status table");

const char *
ld_status_name (ld_status_t status)
{
    if ((unsigned) status >= LD_STATUS_COUNT)
        return "unknown";
    return s_table[status].name;
}

const char *
ld_status_text (ld_status_t status)
{
    if ((unsigned) status >= LD_STATUS_COUNT)
        return "unknown status";
    return s_table[status].text;
}

ld_status_t
ld_status_from_name (const char *name)
{
    for (int i = 0; i < LD_STATUS_COUNT; i++)
        if (strcmp (s_table[i].name, name) == 0)
            return (ld_status_t) i;
    return LD_STATUS_COUNT;
}

ld_status_t
ld_fail (char *err, size_t err_size, ld_status_t status, const char *detail_fmt, ...)
{
    if (!err || err_size == 0)
        return status;
    if (!detail_fmt || !*detail_fmt) {
        snprintf (err, err_size, "%s", ld_status_text (status));
        return status;
    }
    char detail[512];
    va_list args;
    va_start (args, detail_fmt);
    vsnprintf (detail, sizeof detail, detail_fmt, args);
    va_end (args);
    snprintf (err, err_size, "%s: %s", ld_status_text (status), detail);
    return status;
}
