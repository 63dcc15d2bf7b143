/*  test_utf8.c -- the strict UTF-8 validator (core/ld_utf8.h).

    Every string in an event passes through ld_utf8_valid, so each class of
    ill-formed sequence of Unicode table 3-7 has its own test, with the
    nearest well-formed neighbour accepted beside it: a validator that
    refuses everything would otherwise pass.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ld_utf8.h"

//  Literal byte strings without their terminating NUL.
#define S_VALID(literal) ld_utf8_valid ((const uint8_t *) (literal), sizeof (literal) - 1)

static void
test_utf8_accepts_empty_string (void **state)
{
    (void) state;
    assert_true (ld_utf8_valid ((const uint8_t *) "", 0));
}

static void
test_utf8_accepts_ascii (void **state)
{
    (void) state;
    assert_true (S_VALID ("resolution/wudang/longguanglu/"));
    assert_true (S_VALID ("\x01 ~\x7f")); //  lowest and highest one-byte code points
}

static void
test_utf8_accepts_chinese (void **state)
{
    (void) state;
    assert_true (S_VALID ("\xe8\x81\x94\xe5\x8a\xa8"));        //  联动
    assert_true (S_VALID ("\xe6\xad\xa6\xe5\xbd\x93 road 7")); //  武当, mixed with ASCII
}

static void
test_utf8_accepts_four_byte_sequences (void **state)
{
    (void) state;
    assert_true (S_VALID ("\xf0\x9f\x98\x80")); //  U+1F600
    assert_true (S_VALID ("\xf0\x90\x80\x80")); //  U+10000, the lowest
    assert_true (S_VALID ("\xf4\x8f\xbf\xbf")); //  U+10FFFF, the highest
}

static void
test_utf8_accepts_neighbours_of_the_surrogates (void **state)
{
    (void) state;
    assert_true (S_VALID ("\xed\x9f\xbf")); //  U+D7FF
    assert_true (S_VALID ("\xee\x80\x80")); //  U+E000
}

static void
test_utf8_refuses_overlong_two_byte_forms (void **state)
{
    (void) state;
    assert_false (S_VALID ("\xc0\x80")); //  NUL, overlong
    assert_false (S_VALID ("\xc1\xbf")); //  U+007F, overlong
    assert_true (S_VALID ("\xc2\x80"));  //  U+0080, the shortest form
}

static void
test_utf8_refuses_overlong_three_byte_forms (void **state)
{
    (void) state;
    assert_false (S_VALID ("\xe0\x80\x80")); //  NUL
    assert_false (S_VALID ("\xe0\x9f\xbf")); //  U+07FF
    assert_true (S_VALID ("\xe0\xa0\x80"));  //  U+0800
}

static void
test_utf8_refuses_overlong_four_byte_forms (void **state)
{
    (void) state;
    assert_false (S_VALID ("\xf0\x80\x80\x80")); //  NUL
    assert_false (S_VALID ("\xf0\x8f\xbf\xbf")); //  U+FFFF
}

static void
test_utf8_refuses_surrogates (void **state)
{
    (void) state;
    assert_false (S_VALID ("\xed\xa0\x80"));             //  U+D800
    assert_false (S_VALID ("\xed\xbf\xbf"));             //  U+DFFF
    assert_false (S_VALID ("\xed\xa0\xbd\xed\xb8\x80")); //  CESU-8 pair for U+1F600
}

static void
test_utf8_refuses_code_points_above_u10ffff (void **state)
{
    (void) state;
    assert_false (S_VALID ("\xf4\x90\x80\x80")); //  U+110000
    assert_false (S_VALID ("\xf5\x80\x80\x80"));
    assert_false (S_VALID ("\xf7\xbf\xbf\xbf"));
}

static void
test_utf8_refuses_bytes_that_never_appear (void **state)
{
    (void) state;
    assert_false (S_VALID ("\xf8\x88\x80\x80\x80")); //  old five-byte form
    assert_false (S_VALID ("\xfc\x84\x80\x80\x80\x80"));
    assert_false (S_VALID ("\xfe"));
    assert_false (S_VALID ("\xff"));
}

static void
test_utf8_refuses_truncated_sequences (void **state)
{
    (void) state;
    assert_false (S_VALID ("\xc3"));
    assert_false (S_VALID ("\xe8\x81"));
    assert_false (S_VALID ("\xf0\x9f\x98"));
    assert_false (S_VALID ("ok \xe5\x8a")); //  cut at the end of a longer string
}

static void
test_utf8_refuses_non_continuation_inside_a_sequence (void **state)
{
    (void) state;
    assert_false (S_VALID ("\xe8\x41\x94"));
    assert_false (S_VALID ("\xe8\x81\x41"));
    assert_false (S_VALID ("\xf0\x9f\x41\x80"));
    assert_false (S_VALID ("\xf0\x9f\x98\xc0"));
}

static void
test_utf8_refuses_stray_continuation_bytes (void **state)
{
    (void) state;
    assert_false (S_VALID ("\x80"));
    assert_false (S_VALID ("\xbf"));
    assert_false (S_VALID ("a\x80z"));
    assert_false (S_VALID ("\xe8\x81\x94\x94")); //  one continuation too many
}

static void
test_utf8_refuses_nul (void **state)
{
    (void) state;
    assert_false (S_VALID ("\0"));
    assert_false (S_VALID ("abc\0def"));
    assert_false (S_VALID ("abc\0"));
}

static void
test_utf8_reads_only_the_given_size (void **state)
{
    (void) state;
    //  The bytes after size would be refused; they must not be looked at.
    const uint8_t data[] = {'o', 'k', 0xe8, 0x81};
    assert_true (ld_utf8_valid (data, 2));
    assert_false (ld_utf8_valid (data, 3));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_utf8_accepts_empty_string),
        cmocka_unit_test (test_utf8_accepts_ascii),
        cmocka_unit_test (test_utf8_accepts_chinese),
        cmocka_unit_test (test_utf8_accepts_four_byte_sequences),
        cmocka_unit_test (test_utf8_accepts_neighbours_of_the_surrogates),
        cmocka_unit_test (test_utf8_refuses_overlong_two_byte_forms),
        cmocka_unit_test (test_utf8_refuses_overlong_three_byte_forms),
        cmocka_unit_test (test_utf8_refuses_overlong_four_byte_forms),
        cmocka_unit_test (test_utf8_refuses_surrogates),
        cmocka_unit_test (test_utf8_refuses_code_points_above_u10ffff),
        cmocka_unit_test (test_utf8_refuses_bytes_that_never_appear),
        cmocka_unit_test (test_utf8_refuses_truncated_sequences),
        cmocka_unit_test (test_utf8_refuses_non_continuation_inside_a_sequence),
        cmocka_unit_test (test_utf8_refuses_stray_continuation_bytes),
        cmocka_unit_test (test_utf8_refuses_nul),
        cmocka_unit_test (test_utf8_reads_only_the_given_size),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
