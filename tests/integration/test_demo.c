/*  test_demo.c -- the README's main job, `liandong demo`, run as a new user
    would: it plays the seed scenario (deploy/scenario/wudang.json) on a
    local federation, exits 0, prints a ledger that matches the scenario
    data -- the article's figures, the named resolutions with their task
    status -- and leaves no process behind. */
#include <dirent.h>
#include <locale.h>
#include <time.h>
#include <wchar.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ld_test_util.h"

#define S_OUT_MAX (1024 * 1024)

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

//  The display column (terminal cells: a CJK character takes two) at which
//  needle starts in line, or -1.
static int
s_column (const char *line, size_t line_len, const char *needle)
{
    char copy[4096];
    snprintf (copy, sizeof copy, "%.*s", (int) (line_len < sizeof copy ? line_len : 4095), line);
    char *at = strstr (copy, needle);
    if (!at)
        return -1;
    *at = '\0';
    wchar_t wide[4096];
    size_t n = mbstowcs (wide, copy, 4096);
    return n == (size_t) -1 ? -1 : wcswidth (wide, n);
}

//  In the resolutions table, every row's category starts at the column of
//  the header's "category", whatever CJK text stands before it.
static void
s_assert_aligned (const char *out)
{
    const char *header = strstr (out, "resolution ");
    assert_non_null (header);
    const char *end = strchr (header, '\n');
    int column = s_column (header, (size_t) (end - header), "category");
    assert_true (column > 0);
    static const char *categories[] = {"street-vending", "lane-occupation", "parking",
                                       "garbage",        "greening",        "noise"};
    size_t rows = 0;
    for (const char *line = end + 1; *line && *line != '\n';) {
        const char *next = strchr (line, '\n');
        size_t len = next ? (size_t) (next - line) : strlen (line);
        for (size_t c = 0; c < sizeof categories / sizeof categories[0]; c++) {
            int at = s_column (line, len, categories[c]);
            if (at >= 0) {
                assert_int_equal (at, column);
                rows++;
                break;
            }
        }
        line = next ? next + 1 : line + len;
    }
    assert_true (rows >= 9);
}

//  Some line of out holds all of a, b and c (c and b may be NULL).
static void
s_assert_row (const char *out, const char *a, const char *b, const char *c)
{
    for (const char *line = out; line && *line;) {
        const char *end = strchr (line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen (line);
        char row[4096];
        snprintf (row, sizeof row, "%.*s", (int) (len < sizeof row ? len : sizeof row - 1), line);
        if (strstr (row, a) && (!b || strstr (row, b)) && (!c || strstr (row, c)))
            return;
        line = end ? end + 1 : NULL;
    }
    fail_msg ("no line holds '%s' '%s' '%s'", a, b ? b : "", c ? c : "");
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
    //  the supervisor's tail saw every resolution event once
    assert_non_null (strstr (out, "follows resolution/wudang/"));
    //  the federation: each street's broker in step with the district's,
    //  holding its own street's feeds (not the other street's broker's)
    s_assert_row (out, "龙广路街道联动代理", "wudang/longguanglu/", "in step");
    s_assert_row (out, "观溪路街道联动代理", "wudang/guanxilu/", "in step");
    //  the article's figures, from the ledger
    const char *figures[][2] = {
        {"paired units", "75"},     {"volunteer teams", "190"},
        {"people served", "55000"}, {"practical matters done", "357"},
        {"problems solved", "11"},  {"grid party groups", "47"},
        {"grid workers", "483"},    {"party building captains", "89"},
        {"tasks overdue", "2"},     {"tasks completed late", "2"},
        {"events refused", "0"},    {"events waiting", "0"},
    };
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++)
        s_assert_row (out, figures[i][0], figures[i][1], NULL);
    //  named resolutions and their tasks' status at the play's moment
    s_assert_row (out, "整治占道经营", "closed", "late");
    s_assert_row (out, "夜间施工噪音污染联合巡查", "closed", "late");
    s_assert_row (out, "垃圾杂物清运日产日清", "accepted", "OVERDUE");
    s_assert_row (out, "优化停车管理", "(amended)", "in-progress 40%");
    s_assert_row (out, "补植行道树", "verified", "on-time");
    //  the register and the agreements
    s_assert_row (out, "振华集团", "190", "55000");
    s_assert_row (out, "生活桥社区与振华集团结对共建协议", "in-force", NULL);
    s_assert_row (out, "金江苑社区与物勘院结对共建协议", "proposed", NULL);
    //  personal details never printed: members show sealed
    assert_null (strstr (out, "彭锡荣"));
    s_assert_aligned (out);
    //  every daemon it started has stopped
    assert_false (s_process_mentions (demo_dir));
    free (out);
    free (err);
    assert_int_equal (ld_test_remove_tree (dir), 0);
}

//  The same play judged two months on (--at): every task not verified by
//  then is overdue.
static void
test_demo_judges_overdue_at_a_given_time (void **state)
{
    (void) state;
    char dir[256], demo_dir[300], at[16];
    assert_int_equal (ld_test_tempdir (dir, sizeof dir), 0);
    snprintf (demo_dir, sizeof demo_dir, "%s/d", dir);
    time_t later = time (NULL) + 60 * 24 * 3600 + 8 * 3600; //  Asia/Shanghai
    struct tm tm;
    gmtime_r (&later, &tm);
    strftime (at, sizeof at, "%Y-%m-%d", &tm);
    char *out = malloc (S_OUT_MAX), *err = malloc (S_OUT_MAX);
    const char *argv[] = {"demo", "--dir", demo_dir, "--at", at, NULL};
    int code = ld_test_run (argv, out, S_OUT_MAX, err, S_OUT_MAX);
    if (code != 0)
        fprintf (stderr, "%s", err);
    assert_int_equal (code, 0);
    //  on time, late and the in-progress task amended to +21d: 5 open tasks
    s_assert_row (out, "tasks overdue", "5", NULL);
    s_assert_row (out, "优化停车管理", "in-progress 40%", "OVERDUE");
    s_assert_row (out, "补植行道树", "物勘院", "OVERDUE");
    s_assert_row (out, "整治占道经营", "late", NULL);
    assert_false (s_process_mentions (demo_dir));
    free (out);
    free (err);
    assert_int_equal (ld_test_remove_tree (dir), 0);
}

int
main (void)
{
    setlocale (LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_demo_runs_the_local_district_and_leaves_nothing_running),
        cmocka_unit_test (test_demo_judges_overdue_at_a_given_time),
    };
    return cmocka_run_group_tests_name ("demo", tests, NULL, NULL);
}
