/*  test_table.c -- the streaming table: cells fitted to terminal columns,
    CJK counted as two, cut at a character boundary with '…', rows aligned
    whatever script each cell is in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ld_table.h"

static int
setup_locale (void **state)
{
    (void) state;
    ld_table_init_locale ();
    return 0;
}

//  ld_table_fit, checked against the exact expected bytes.
static void
s_assert_fit (const char *text, int width, bool right, const char *expected)
{
    char *fitted = ld_table_fit (text, width, right);
    assert_non_null (fitted);
    assert_string_equal (fitted, expected);
    free (fitted);
}

static void
test_table_counts_cjk_as_two_columns (void **state)
{
    (void) state;
    assert_int_equal (ld_table_text_width ("street"), 6);
    assert_int_equal (ld_table_text_width ("金江苑社区"), 10);
    assert_int_equal (ld_table_text_width ("龙广路街道 no.1"), 15);
    assert_int_equal (ld_table_text_width (""), 0);
}

static void
test_table_pads_ascii_to_its_width (void **state)
{
    (void) state;
    s_assert_fit ("note", 8, false, "note    ");
    s_assert_fit ("42", 6, true, "    42");
}

static void
test_table_pads_cjk_by_terminal_columns_not_bytes (void **state)
{
    (void) state;
    //  10 columns of text, 15 bytes: two spaces make 12 columns
    s_assert_fit ("金江苑社区", 12, false, "金江苑社区  ");
    s_assert_fit ("龙广路街道", 12, true, "  龙广路街道");
}

static void
test_table_cuts_cjk_at_a_character_boundary_with_an_ellipsis (void **state)
{
    (void) state;
    //  7 columns: three characters (6) and '…' (1)
    s_assert_fit ("龙广路街道", 7, false, "龙广路…");
    //  6 columns: the third character would not fit beside '…': 5 and a space
    s_assert_fit ("龙广路街道", 6, false, "龙广… ");
    s_assert_fit ("金江苑社区", 6, true, " 金江…");
    //  exactly the width: kept whole
    s_assert_fit ("金江苑社区", 10, false, "金江苑社区");
}

static void
test_table_cuts_ascii_with_an_ellipsis (void **state)
{
    (void) state;
    s_assert_fit ("resolution/wudang/longguanglu/", 12, false, "resolution/…");
    s_assert_fit ("abc", 1, false, "…");
}

static void
test_table_keeps_each_row_on_one_line (void **state)
{
    (void) state;
    s_assert_fit ("第一行\n第二行", 0, false, "第一行 第二行");
    s_assert_fit ("a\tb", 4, false, "a b ");
    //  a byte that is not UTF-8 is shown as U+FFFD, one column
    s_assert_fit ("a\xff"
                  "b",
                  4, false,
                  "a\xef\xbf\xbd"
                  "b ");
}

static void
test_table_width_zero_prints_the_text_as_it_is (void **state)
{
    (void) state;
    s_assert_fit ("金江苑社区 has a long name", 0, false, "金江苑社区 has a long name");
}

//  Display column at which the first occurrence of marker starts in line.
static size_t
s_column_of (const char *line, const char *marker)
{
    const char *at = strstr (line, marker);
    assert_non_null (at);
    char *prefix = strndup (line, (size_t) (at - line));
    assert_non_null (prefix);
    size_t column = ld_table_text_width (prefix);
    free (prefix);
    return column;
}

static void
test_table_stream_aligns_rows_of_chinese_and_ascii (void **state)
{
    (void) state;
    const ld_table_column_t columns[] = {
        {"SEQ", 5, true, true},
        {"NAME", 8, false, false},
        {"TEXT", 10, false, false},
        {"ID", 0, false, false},
    };
    ld_table_stream_t *table = ld_table_stream_new (columns, 4);
    assert_non_null (table);
    char *output = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&output, &size);
    assert_non_null (out);
    assert_int_equal (ld_table_stream_header (table, out), 0);
    const char *rows[][4] = {
        {"1", "金江苑社区", "把12个小区党支部建在楼栋上", "#a"},
        {"22", "龙广路街道", "ok", "#b"},
        {"333", "wudang", "构建五级联动体系", "#c"},
        {"4444", "乌当", "x", "#d"},
    };
    for (size_t i = 0; i < 4; i++)
        assert_int_equal (ld_table_stream_row (table, out, rows[i]), 0);
    assert_int_equal (fclose (out), 0);

    //  Every row's TEXT and ID start at the header's columns.
    char *saveptr = NULL;
    char *line = strtok_r (output, "\n", &saveptr);
    assert_non_null (line);
    size_t text_at = s_column_of (line, "TEXT");
    size_t id_at = s_column_of (line, "ID");
    assert_int_equal (text_at, 5 + 2 + 8 + 2);
    assert_int_equal (id_at, text_at + 10 + 2);
    const char *markers[] = {"#a", "#b", "#c", "#d"};
    for (size_t i = 0; i < 4; i++) {
        line = strtok_r (NULL, "\n", &saveptr);
        assert_non_null (line);
        assert_int_equal (s_column_of (line, markers[i]), id_at);
        //  no trailing spaces
        assert_int_not_equal (line[strlen (line) - 1], ' ');
    }
    assert_null (strtok_r (NULL, "\n", &saveptr));
    free (output);
    ld_table_stream_destroy (&table);
    assert_null (table);
}

static void
test_table_stream_never_cuts_a_whole_column (void **state)
{
    (void) state;
    const ld_table_column_t columns[] = {{"SEQ", 3, true, true}, {"TEXT", 0, false, false}};
    ld_table_stream_t *table = ld_table_stream_new (columns, 2);
    assert_non_null (table);
    char *output = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&output, &size);
    assert_non_null (out);
    const char *row[] = {"1234567", "社区"};
    assert_int_equal (ld_table_stream_row (table, out, row), 0);
    assert_int_equal (fclose (out), 0);
    assert_string_equal (output, "1234567  社区\n");
    free (output);
    ld_table_stream_destroy (&table);
}

static void
test_table_stream_refuses_a_zero_width_before_the_last_column (void **state)
{
    (void) state;
    const ld_table_column_t columns[] = {{"A", 0, false, false}, {"B", 4, false, false}};
    assert_null (ld_table_stream_new (columns, 2));
    ld_table_stream_destroy (NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_table_counts_cjk_as_two_columns),
        cmocka_unit_test (test_table_pads_ascii_to_its_width),
        cmocka_unit_test (test_table_pads_cjk_by_terminal_columns_not_bytes),
        cmocka_unit_test (test_table_cuts_cjk_at_a_character_boundary_with_an_ellipsis),
        cmocka_unit_test (test_table_cuts_ascii_with_an_ellipsis),
        cmocka_unit_test (test_table_keeps_each_row_on_one_line),
        cmocka_unit_test (test_table_width_zero_prints_the_text_as_it_is),
        cmocka_unit_test (test_table_stream_aligns_rows_of_chinese_and_ascii),
        cmocka_unit_test (test_table_stream_never_cuts_a_whole_column),
        cmocka_unit_test (test_table_stream_refuses_a_zero_width_before_the_last_column),
    };
    return cmocka_run_group_tests (tests, setup_locale, NULL);
}
