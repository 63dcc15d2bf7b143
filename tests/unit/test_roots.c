/*  test_roots.c -- trust root files (trust/ld_roots.h): a public key with
    optional path and name lines, read by ld_root_load, by
    ld_trust_add_root_file and (first line only) by ld_public_key_load.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ld_identity.h"
#include "ld_roots.h"
#include "ld_test_util.h"

#define S_TEXT_MAX 1024

typedef struct {
    char dir[PATH_MAX / 2];
    char file[PATH_MAX];
    uint8_t key[LD_KEY_BYTES];
    char key_text[LD_KEY_TEXT_BYTES];
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    snprintf (fx->file, sizeof fx->file, "%s/root.pub", fx->dir);
    ld_identity_t *identity = ld_identity_new ();
    memcpy (fx->key, ld_identity_public_key (identity), LD_KEY_BYTES);
    ld_identity_destroy (&identity);
    ld_key_to_text (fx->key, fx->key_text);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *fx = *state;
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

static void
s_write (s_fixture_t *fx, const char *extra)
{
    char text[S_TEXT_MAX];
    snprintf (text, sizeof text, "%s\n%s", fx->key_text, extra);
    assert_int_equal (ld_test_write_file (fx->file, text, strlen (text), 0644), 0);
}

static void
test_root_file_gives_key_path_and_name (void **state)
{
    s_fixture_t *fx = *state;
    s_write (fx, "path: wudang/\nname: 乌当区\n");
    uint8_t key[LD_KEY_BYTES];
    char path[LD_TOPIC_MAX + 1], name[LD_NAME_MAX + 1], err[256];
    assert_int_equal (ld_root_load (fx->file, key, path, name, err, sizeof err), LD_OK);
    assert_memory_equal (key, fx->key, LD_KEY_BYTES);
    assert_string_equal (path, "wudang/");
    assert_string_equal (name, "乌当区");
    //  A key file reader takes the first line only.
    assert_int_equal (ld_public_key_load (fx->file, key, err, sizeof err), LD_OK);
    assert_memory_equal (key, fx->key, LD_KEY_BYTES);
}

static void
test_root_without_lines_is_a_district_anywhere (void **state)
{
    s_fixture_t *fx = *state;
    uint8_t key[LD_KEY_BYTES];
    char path[LD_TOPIC_MAX + 1], name[LD_NAME_MAX + 1], err[256];
    assert_int_equal (ld_root_load (fx->key_text, key, path, name, err, sizeof err), LD_OK);
    assert_memory_equal (key, fx->key, LD_KEY_BYTES);
    assert_string_equal (path, "");
    assert_string_equal (name, "district");
}

static void
test_root_refuses_bad_path_name_and_unknown_lines (void **state)
{
    s_fixture_t *fx = *state;
    uint8_t key[LD_KEY_BYTES];
    char path[LD_TOPIC_MAX + 1], name[LD_NAME_MAX + 1], err[256];
    s_write (fx, "path: Wudang\n");
    assert_int_equal (ld_root_load (fx->file, key, path, name, err, sizeof err), LD_ERR_BAD_TOPIC);
    s_write (fx, "name: \xff\xfe\n");
    assert_int_equal (ld_root_load (fx->file, key, path, name, err, sizeof err), LD_ERR_BAD_UTF8);
    s_write (fx, "paht: wudang/\n");
    assert_int_equal (ld_root_load (fx->file, key, path, name, err, sizeof err), LD_ERR_BAD_FORMAT);
    s_write (fx, "path: wudang/\npath: baiyun/\n");
    assert_int_equal (ld_root_load (fx->file, key, path, name, err, sizeof err), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_test_write_file (fx->file, "path: wudang/\n", 14, 0644), 0);
    assert_int_equal (ld_root_load (fx->file, key, path, name, err, sizeof err), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_root_load ("/nonexistent/root.pub", key, path, name, err, sizeof err),
                      LD_ERR_NOT_FOUND);
}

static void
test_root_file_configures_a_trust_root_once (void **state)
{
    s_fixture_t *fx = *state;
    s_write (fx, "path: wudang/\nname: 乌当区\n");
    ld_trust_t *trust = ld_trust_new ();
    char err[256];
    assert_int_equal (ld_trust_add_root_file (trust, fx->file, err, sizeof err), LD_OK);
    assert_int_equal (ld_trust_level (trust, fx->key), LD_LEVEL_DISTRICT);
    assert_int_equal (ld_trust_add_root_file (trust, fx->file, err, sizeof err), LD_ERR_EXISTS);
    ld_trust_destroy (&trust);
}

static void
test_root_format_round_trips (void **state)
{
    s_fixture_t *fx = *state;
    char text[S_TEXT_MAX], err[256], path[LD_TOPIC_MAX + 1], name[LD_NAME_MAX + 1];
    assert_int_equal (
        ld_root_format (fx->key, "wudang/", "乌当区", text, sizeof text, err, sizeof err), LD_OK);
    uint8_t key[LD_KEY_BYTES];
    assert_int_equal (ld_root_load (text, key, path, name, err, sizeof err), LD_OK);
    assert_string_equal (path, "wudang/");
    assert_string_equal (name, "乌当区");
    assert_int_equal (ld_root_format (fx->key, "x", NULL, text, sizeof text, err, sizeof err),
                      LD_ERR_BAD_TOPIC);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_root_file_gives_key_path_and_name, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_root_without_lines_is_a_district_anywhere, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_root_refuses_bad_path_name_and_unknown_lines, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_root_file_configures_a_trust_root_once, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_root_format_round_trips, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
