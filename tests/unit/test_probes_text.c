/* test_probes_text.c — the pieces the /proc readers stand on: numbers
 * scanned by hand (scan.h) and files read line by line through a fixed
 * buffer (line_reader.h). */
#include "line_reader.h"
#include "scan.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- scan ---------------------------------------------------------------- */

Test(probes_scan, u64_reads_digits_and_stops_after_them)
{
    const char *s = "  \t12345 kB";
    uint64_t v = 0;
    cr_assert_eq(mk_scan_u64(&s, &v), 0);
    cr_assert_eq(v, 12345);
    cr_assert_str_eq(s, " kB");

    s = "18446744073709551615\n";
    cr_assert_eq(mk_scan_u64(&s, &v), 0);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_str_eq(s, "\n");
}

Test(probes_scan, u64_refuses_no_digits_and_overflow_without_moving)
{
    const char *cases[] = {"", "   ", "abc", "-1", "18446744073709551616",
                           "99999999999999999999999"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *s = cases[i];
        uint64_t v = 7;
        cr_assert_eq(mk_scan_u64(&s, &v), -1, "'%s' was taken", cases[i]);
        cr_assert_eq(s, cases[i], "'%s' moved the cursor", cases[i]);
        cr_assert_eq(v, 7);
    }
}

Test(probes_scan, decimals_as_the_kernel_prints_them)
{
    struct { const char *in; double want; const char *rest; } cases[] = {
        {"0.00 avg60", 0.0, " avg60"},
        {"12.34", 12.34, ""},
        {"100.00\n", 100.0, "\n"},
        {" 7", 7.0, ""},
        {".5x", 0.5, "x"},
        {"3.", 3.0, ""},
        {"0.000383", 0.000383, ""},
        {"123456789012345678901234", 123456789012345678901234.0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *s = cases[i].in;
        double v = -1;
        cr_assert_eq(mk_scan_decimal(&s, &v), 0, "'%s' refused", cases[i].in);
        cr_assert_float_eq(v, cases[i].want, cases[i].want * 1e-12 + 1e-15,
                           "'%s' gave %.17g", cases[i].in, v);
        cr_assert_str_eq(s, cases[i].rest);
    }
    const char *bad[] = {"", ".", " .x", "x1", "-1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *s = bad[i];
        double v = 0;
        cr_assert_eq(mk_scan_decimal(&s, &v), -1, "'%s' was taken", bad[i]);
        cr_assert_eq(s, bad[i]);
    }
}

/* ---- line reader ---------------------------------------------------------- */

static char tmp_path[64];

static void write_tmp(const char *text, size_t len)
{
    strcpy(tmp_path, "/tmp/memkit-lines-XXXXXX");
    int fd = mkstemp(tmp_path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void remove_tmp(void)
{
    if (tmp_path[0])
        unlink(tmp_path);
}

TestSuite(probes_lines, .fini = remove_tmp);

Test(probes_lines, every_line_in_order_with_a_last_one_unterminated)
{
    write_tmp("one\n\nthree\nlast", 15);
    char buf[64];
    struct mk_lines r;
    cr_assert_eq(mk_lines_open(&r, tmp_path, buf, sizeof buf), 0);
    const char *want[] = {"one", "", "three", "last"};
    for (size_t i = 0; i < 4; i++) {
        size_t len = 99;
        char *line = mk_lines_next(&r, &len);
        cr_assert_not_null(line, "line %zu missing", i);
        cr_assert_str_eq(line, want[i]);
        cr_assert_eq(len, strlen(want[i]));
    }
    cr_assert_null(mk_lines_next(&r, NULL));
    cr_assert_null(mk_lines_next(&r, NULL));
    cr_assert_eq(r.skipped, 0);
    mk_lines_close(&r);
}

Test(probes_lines, lines_longer_than_the_buffer_are_skipped_and_counted)
{
    /* cap 8 keeps lines of up to 6 characters. */
    const char text[] = "abc\n123456\n1234567\nx\nthis one is far too long\nok\n"
                        "tail that is too long";
    write_tmp(text, sizeof text - 1);
    char buf[8];
    struct mk_lines r;
    cr_assert_eq(mk_lines_open(&r, tmp_path, buf, sizeof buf), 0);
    const char *want[] = {"abc", "123456", "x", "ok"};
    for (size_t i = 0; i < 4; i++) {
        char *line = mk_lines_next(&r, NULL);
        cr_assert_not_null(line, "line %zu missing", i);
        cr_assert_str_eq(line, want[i]);
    }
    cr_assert_null(mk_lines_next(&r, NULL));
    cr_assert_eq(r.skipped, 3);
    mk_lines_close(&r);
}

Test(probes_lines, a_file_many_times_the_buffer_is_read_whole)
{
    /* 200 KiB of numbered lines through 16 KiB: every chunk boundary falls
     * somewhere inside a line. */
    size_t cap = 220 * 1024, n = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    int lines = 0;
    while (n < 200 * 1024)
        n += (size_t)snprintf(text + n, cap - n, "line %d %.*s\n", lines,
                              lines % 97, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        lines++;
    write_tmp(text, n);
    free(text);

    char buf[16384];
    struct mk_lines r;
    cr_assert_eq(mk_lines_open(&r, tmp_path, buf, sizeof buf), 0);
    int seen = 0;
    char *line;
    while ((line = mk_lines_next(&r, NULL)) != NULL) {
        char want[160];
        snprintf(want, sizeof want, "line %d %.*s", seen, seen % 97,
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        cr_assert_str_eq(line, want);
        seen++;
    }
    cr_assert_eq(seen, lines);
    cr_assert_eq(r.skipped, 0);
    cr_assert_eq(r.error, 0);
    mk_lines_close(&r);
}

Test(probes_lines, open_failures_set_errno)
{
    char buf[16];
    struct mk_lines r;
    errno = 0;
    cr_assert_eq(mk_lines_open(&r, "/nonexistent/memkit", buf, sizeof buf), -1);
    cr_assert_eq(errno, ENOENT);
    cr_assert_null(mk_lines_next(&r, NULL));
    mk_lines_close(&r);
    errno = 0;
    cr_assert_eq(mk_lines_open(&r, "/proc/self/status", buf, 1), -1);
    cr_assert_eq(errno, EINVAL);
}

Test(probes_lines, close_keeps_errno)
{
    char buf[64];
    struct mk_lines r;
    cr_assert_eq(mk_lines_open(&r, "/proc/self/mountinfo", buf, sizeof buf), 0);
    errno = 4321;
    mk_lines_close(&r);
    cr_assert_eq(errno, 4321);
}
