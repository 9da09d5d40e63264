/* test_probes_psi.c — pressure stall information: the parser, the reader
 * and triggers. */
#include "psi.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static const char sample[] =
    "some avg10=1.50 avg60=0.25 avg300=100.00 total=123456789\n"
    "full avg10=0.00 avg60=0.01 avg300=12.34 total=42\n";

/* ---- parsing --------------------------------------------------------------- */

Test(probes_psi, both_lines)
{
    struct mk_psi p;
    cr_assert_eq(mk_psi_parse(sample, &p), 0);
    cr_assert_float_eq(p.some.avg10, 1.50, 1e-9);
    cr_assert_float_eq(p.some.avg60, 0.25, 1e-9);
    cr_assert_float_eq(p.some.avg300, 100.0, 1e-9);
    cr_assert_eq(p.some.total_us, 123456789);
    cr_assert_eq(p.has_full, 1);
    cr_assert_float_eq(p.full.avg10, 0.0, 1e-9);
    cr_assert_float_eq(p.full.avg60, 0.01, 1e-9);
    cr_assert_float_eq(p.full.avg300, 12.34, 1e-9);
    cr_assert_eq(p.full.total_us, 42);
}

Test(probes_psi, without_a_full_line)
{
    struct mk_psi p;
    memset(&p, 0x55, sizeof p);
    cr_assert_eq(mk_psi_parse("some avg10=2.00 avg60=1.00 avg300=0.50 total=9\n", &p), 0);
    cr_assert_eq(p.has_full, 0);
    cr_assert_eq(p.full.total_us, 0);
    cr_assert_float_eq(p.some.avg10, 2.0, 1e-9);
    /* A full line cut short is as good as none. */
    cr_assert_eq(mk_psi_parse("some avg10=2.00 avg60=1.00 avg300=0.50 total=9\n"
                              "full avg10=0.00 avg60=0.00 avg300=0.00 total=12", &p), 0);
    cr_assert_eq(p.has_full, 0);
}

Test(probes_psi, garbage_and_cut_text_are_refused)
{
    const char *bad[] = {
        "",
        "garbage\n",
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",     /* no some */
        "some avg10=0.00 avg60=",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=123",      /* no newline */
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=1x\n",
        "some avg10=x avg60=0.00 avg300=0.00 total=1\n",
        "some avg60=0.00 avg10=0.00 avg300=0.00 total=1\n",      /* wrong order */
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=99999999999999999999\n",
        "Some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mk_psi p;
        errno = 0;
        cr_assert_eq(mk_psi_parse(bad[i], &p), -1, "taken: '%s'", bad[i]);
        cr_assert_eq(errno, EINVAL);
    }
}

/* ---- reading --------------------------------------------------------------- */

Test(probes_psi, a_missing_file_is_enoent)
{
    struct mk_psi p;
    errno = 0;
    cr_assert_eq(mk_psi_read_path("/nonexistent/pressure/memory", &p), -1);
    cr_assert_eq(errno, ENOENT);
}

Test(probes_psi, this_machine)
{
    struct mk_psi p;
    errno = 4321;
    int rc = mk_psi_read(&p);
    if (rc != 0) {
        cr_assert(errno == ENOENT || errno == EOPNOTSUPP,
                  "no PSI but errno %d (%s)", errno, strerror(errno));
        cr_skip_test("no PSI on this kernel (errno %d)", errno);
    }
    cr_assert_eq(errno, 4321, "errno changed to %d", errno);
    cr_assert_eq(p.has_full, 1, "memory PSI always has a full line");
    double avgs[] = {p.some.avg10, p.some.avg60, p.some.avg300,
                     p.full.avg10, p.full.avg60, p.full.avg300};
    for (size_t i = 0; i < 6; i++)
        cr_assert(avgs[i] >= 0 && avgs[i] <= 100, "avg %zu is %f", i, avgs[i]);
    cr_assert_geq(p.some.total_us, p.full.total_us);
}

/* ---- triggers -------------------------------------------------------------- */

Test(probes_psi, windows_round_up_to_two_seconds_within_the_kernel_range)
{
    struct { uint64_t in, want; } cases[] = {
        {0, 2000000},
        {1, 2000000},
        {500000, 2000000},
        {1000000, 2000000},          /* 1 s: this kernel refuses it */
        {2000000, 2000000},
        {2000001, 4000000},
        {5000000, 6000000},
        {10000000, 10000000},
        {10000001, 10000000},
        {60000000, 10000000},
        {UINT64_MAX, 10000000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(mk_psi_window(cases[i].in), cases[i].want,
                     "%llu us gave %llu", (unsigned long long)cases[i].in,
                     (unsigned long long)mk_psi_window(cases[i].in));
}

Test(probes_psi, trigger_text_has_its_nul_and_a_stall_within_the_window)
{
    char buf[64];
    size_t n = mk_psi_trigger_format(buf, sizeof buf, 0, 150000, 1000000);
    cr_assert_eq(n, sizeof "some 150000 2000000");
    cr_assert_str_eq(buf, "some 150000 2000000");
    cr_assert_eq(buf[n - 1], '\0');

    n = mk_psi_trigger_format(buf, sizeof buf, 1, 100000, 10000000);
    cr_assert_str_eq(buf, "full 100000 10000000");
    cr_assert_eq(n, strlen(buf) + 1);

    mk_psi_trigger_format(buf, sizeof buf, 0, 5000000, 3000000);
    cr_assert_str_eq(buf, "some 4000000 4000000");
    mk_psi_trigger_format(buf, sizeof buf, 0, UINT64_MAX, UINT64_MAX);
    cr_assert_str_eq(buf, "some 10000000 10000000");

    cr_assert_eq(mk_psi_trigger_format(buf, sizeof buf, 0, 0, 2000000), 0);
    cr_assert_eq(mk_psi_trigger_format(buf, 19, 0, 150000, 2000000), 0);
    cr_assert_eq(mk_psi_trigger_format(buf, 20, 0, 150000, 2000000), 20);
}

/* The lowest descriptor free now. */
static int next_fd(void)
{
    int fd = dup(0);
    cr_assert(fd >= 0);
    close(fd);
    return fd;
}

Test(probes_psi, trigger_failures_leave_nothing_open)
{
    int before = next_fd();
    errno = 0;
    cr_assert_eq(mk_psi_trigger_open("/nonexistent/memory", 0, 100000, 2000000), -1);
    cr_assert_eq(errno, ENOENT);
    errno = 0;
    cr_assert_eq(mk_psi_trigger_open(MK_PSI_MEMORY, 0, 0, 2000000), -1);
    cr_assert_eq(errno, EINVAL);
    /* Opens, then the write fails. */
    errno = 0;
    cr_assert_eq(mk_psi_trigger_open("/dev/full", 0, 100000, 2000000), -1);
    cr_assert_eq(errno, ENOSPC);
    cr_assert_eq(next_fd(), before, "a descriptor was left open");
}

Test(probes_psi, a_real_trigger_opens_and_polls)
{
    if (access(MK_PSI_MEMORY, R_OK | W_OK) != 0)
        cr_skip_test(MK_PSI_MEMORY " is not there or not writable");
    errno = 4321;
    /* Asked for 1 s, which the kernel alone would refuse. */
    int fd = mk_psi_trigger_open(MK_PSI_MEMORY, 0, 150000, 1000000);
    if (fd < 0 && (errno == EACCES || errno == EPERM))
        cr_skip_test("triggers not allowed here (errno %d)", errno);
    cr_assert_geq(fd, 0, "trigger refused: errno %d (%s)", errno, strerror(errno));
    cr_assert_eq(errno, 4321);
    cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    struct pollfd pfd = {.fd = fd, .events = POLLPRI};
    int n = poll(&pfd, 1, 0);
    cr_assert_geq(n, 0);
    cr_assert_eq(pfd.revents & (POLLERR | POLLNVAL), 0, "revents %#x", pfd.revents);
    close(fd);

    fd = mk_psi_trigger_open(MK_PSI_MEMORY, 1, 50000, 2000000);
    cr_assert_geq(fd, 0, "full trigger refused: errno %d", errno);
    close(fd);
}
