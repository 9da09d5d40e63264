/* test_log.c — one line per message, the cap, the kept warnings, and
 * never a word into a file that took stderr's place. */
#include "log.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int capture_fd;
static int saved_stderr;
static char capture_path[] = "/tmp/memkit-test-log-XXXXXX";

static void capture_begin(void)
{
    strcpy(capture_path, "/tmp/memkit-test-log-XXXXXX");
    capture_fd = mkstemp(capture_path);
    cr_assert_geq(capture_fd, 0);
    saved_stderr = dup(2);
    dup2(capture_fd, 2);
    mk_log_init();
}

static size_t capture_end(char *out, size_t len)
{
    dup2(saved_stderr, 2);
    close(saved_stderr);
    ssize_t n = pread(capture_fd, out, len - 1, 0);
    close(capture_fd);
    unlink(capture_path);
    out[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

Test(log, one_prefixed_line_and_errno_kept)
{
    capture_begin();
    mk_log_set_level(MK_LOG_WARN);
    errno = 1234;
    mk_log(MK_LOG_WARN, "value %d of %s", 7, "x");
    cr_assert_eq(errno, 1234);
    mk_log(MK_LOG_INFO, "not shown at warn");
    char out[256];
    capture_end(out, sizeof out);
    cr_assert_str_eq(out, "memkit: value 7 of x\n");
}

Test(log, at_most_the_cap_then_one_notice)
{
    capture_begin();
    mk_log_set_level(MK_LOG_DEBUG);
    for (int i = 0; i < MK_LOG_MAX_LINES + 20; i++)
        mk_log(MK_LOG_DEBUG, "line %d", i);
    static char out[64 * 1024];
    capture_end(out, sizeof out);
    int lines = 0;
    for (char *c = out; *c; c++)
        lines += *c == '\n';
    cr_assert_eq(lines, MK_LOG_MAX_LINES + 1);
    cr_assert(strstr(out, "memkit: further messages suppressed\n"));
}

Test(log, nothing_written_into_a_file_that_replaced_stderr)
{
    capture_begin();
    /* The program closes stderr and a file of its own lands on fd 2. */
    char path[] = "/tmp/memkit-test-own-XXXXXX";
    int own = mkstemp(path);
    dup2(own, 2);
    mk_log(MK_LOG_ERROR, "must not appear");
    char out[64];
    capture_end(out, sizeof out);
    cr_assert_eq(lseek(own, 0, SEEK_END), 0, "the program's file got memkit's text");
    close(own);
    unlink(path);
}

Test(log, warnings_are_kept_for_the_report_newest_last)
{
    mk_log_set_level(MK_LOG_WARN);
    int fd = open("/dev/null", O_WRONLY);
    int saved = dup(2);
    dup2(fd, 2);
    mk_log_init();
    for (int i = 0; i < MK_LOG_KEEP + 5; i++)
        mk_log(MK_LOG_WARN, "warning %d", i);
    mk_log(MK_LOG_DEBUG, "dropped: above the level");
    dup2(saved, 2);
    static struct mk_warning kept[MK_LOG_KEEP];
    size_t n = mk_log_kept(kept, MK_LOG_KEEP);
    cr_assert_eq(n, MK_LOG_KEEP);
    cr_assert_str_eq(kept[0].text, "warning 5");
    char last[32];
    snprintf(last, sizeof last, "warning %d", MK_LOG_KEEP + 4);
    cr_assert_str_eq(kept[n - 1].text, last);
}
