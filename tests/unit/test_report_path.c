/* test_report_path.c — MEMKIT_REPORT templates. */
#include "report.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

static const char *expand(const char *tpl, const char *dir, const char *prog)
{
    static char out[256];
    cr_assert_eq(mk_report_path_expand(tpl, dir, 4242, prog, 1795355401LL, out, sizeof out), 0,
                 "'%s' failed: errno %d", tpl, errno);
    return out;
}

Test(report_path, every_conversion)
{
    cr_assert_str_eq(expand("memkit.%e.%p.json", "", "sort"), "memkit.sort.4242.json");
    cr_assert_str_eq(expand("/r/%t-%p-%%.json", "", "x"), "/r/1795355401-4242-%.json");
    cr_assert_str_eq(expand("plain.json", "", "x"), "plain.json");
}

Test(report_path, relative_paths_are_taken_from_the_start_folder)
{
    cr_assert_str_eq(expand("memkit.%e.json", "/home/me", "a"), "/home/me/memkit.a.json");
    cr_assert_str_eq(expand("sub/r.json", "/home/me/", "a"), "/home/me/sub/r.json");
    cr_assert_str_eq(expand("/abs/r.json", "/home/me", "a"), "/abs/r.json");
}

Test(report_path, program_names_cannot_escape_the_folder)
{
    cr_assert_str_eq(expand("r.%e.json", "", "../../etc/x"), "r..._.._etc_x.json");
    cr_assert_str_eq(expand("r.%e.json", "", "a\nb"), "r.a_b.json");
    cr_assert_str_eq(expand("%e", "/d", ".."), "/d/unknown");
    cr_assert_str_eq(expand("%e", "/d", ""), "/d/unknown");
}

Test(report_path, errors)
{
    char out[16];
    errno = 0;
    cr_assert_eq(mk_report_path_expand("r.%q", "", 1, "p", 0, out, sizeof out), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(mk_report_path_expand("a-long-name-%p.json", "", 123456, "p", 0, out, sizeof out), -1);
    cr_assert_eq(errno, ENAMETOOLONG);
    cr_assert_str_eq(out, "", "nothing half-expanded is left");
    errno = 0;
    cr_assert_eq(mk_report_path_expand("r.json", "/a/very/long/folder", 1, "p", 0, out, sizeof out), -1);
    cr_assert_eq(errno, ENAMETOOLONG);
}
