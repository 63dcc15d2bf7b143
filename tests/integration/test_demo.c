/*  test_demo.c -- the README's main job, `liandong demo`, run as a new user
    would: it exits 0, prints every note acknowledged and verified with its
    receipt, and leaves no process behind. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ld_test_util.h"

#define S_OUT_MAX (256 * 1024)

//  True if some running process has `needle` in its command line.
static bool
s_process_mentions (const char *needle)
{
    DIR *proc = opendir ("/proc");
    assert_non_null (proc);
    bool found = false;
    struct dirent *entry;
    while (!found && (entry = readdir (proc))) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        char path[300], cmdline[4096];
        snprintf (path, sizeof path, "/proc/%s/cmdline", entry->d_name);
        ssize_t size = ld_test_read_file (path, cmdline, sizeof cmdline);
        for (ssize_t i = 0; i < size; i++)
            if (cmdline[i] == '\0')
                cmdline[i] = ' ';
        found = size > 0 && strstr (cmdline, needle) != NULL;
    }
    closedir (proc);
    return found;
}

static void
test_demo_runs_the_local_district_and_leaves_nothing_running (void **state)
{
    (void) state;
    char dir[256], demo_dir[300];
    assert_int_equal (ld_test_tempdir (dir, sizeof dir), 0);
    snprintf (demo_dir, sizeof demo_dir, "%s/d", dir);
    char *out = malloc (S_OUT_MAX), *err = malloc (S_OUT_MAX);
    const char *argv[] = {"demo", "--dir", demo_dir, NULL};
    int code = ld_test_run (argv, out, S_OUT_MAX, err, S_OUT_MAX);
    if (code != 0)
        fprintf (stderr, "%s", err);
    assert_int_equal (code, 0);
    assert_non_null (strstr (out, "published 4 certificates and 8 notes through their nodes"));
    assert_non_null (strstr (out, "acknowledged 12 after fsync"));
    assert_non_null (strstr (out, "12 receipts; 24 of 24 events read back"));
    //  the certificates went out first, each through its certifier
    assert_non_null (strstr (out, "证书：金江苑社区（community）"));
    assert_non_null (strstr (out, "金江苑社区"));
    assert_non_null (strstr (out, "把12个小区党支部建在楼栋上"));
    //  every daemon it started has stopped
    assert_false (s_process_mentions (demo_dir));
    free (out);
    free (err);
    assert_int_equal (ld_test_remove_tree (dir), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_demo_runs_the_local_district_and_leaves_nothing_running),
    };
    return cmocka_run_group_tests_name ("demo", tests, NULL, NULL);
}
