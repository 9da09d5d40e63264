/* test_probes_sysmem.c — MemTotal and MemAvailable from /proc/meminfo. */
#include "sysmem.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#define KIB UINT64_C(1024)

static const char modern[] =
    "MemTotal:       24684092 kB\n"
    "MemFree:        24244352 kB\n"
    "MemAvailable:   24292308 kB\n"
    "Buffers:            1712 kB\n"
    "Cached:           251444 kB\n"
    "SwapCached:            0 kB\n"
    "Active:            96688 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

/* A 3.10 kernel: no MemAvailable line. */
static const char old_kernel[] =
    "MemTotal:        2048000 kB\n"
    "MemFree:          100000 kB\n"
    "Buffers:           20000 kB\n"
    "Cached:           300000 kB\n"
    "SwapCached:        99999 kB\n";

Test(probes_sysmem, modern_kernel)
{
    struct mk_sysmem m;
    cr_assert_eq(mk_sysmem_parse(modern, &m), 0);
    cr_assert_eq(m.total, 24684092 * KIB);
    cr_assert_eq(m.available, 24292308 * KIB);
    cr_assert_eq(m.estimated, 0);
}

Test(probes_sysmem, without_memavailable_it_is_estimated_and_says_so)
{
    struct mk_sysmem m;
    cr_assert_eq(mk_sysmem_parse(old_kernel, &m), 0);
    cr_assert_eq(m.total, 2048000 * KIB);
    /* MemFree + Buffers + Cached; SwapCached is not Cached. */
    cr_assert_eq(m.available, (100000 + 20000 + 300000) * KIB);
    cr_assert_eq(m.estimated, 1);
}

Test(probes_sysmem, fields_in_any_order_and_first_one_wins)
{
    struct mk_sysmem m;
    cr_assert_eq(mk_sysmem_parse("Cached: 1 kB\nMemAvailable: 500 kB\n"
                                 "MemTotal: 1000 kB\nMemAvailable: 7 kB\n", &m), 0);
    cr_assert_eq(m.total, 1000 * KIB);
    cr_assert_eq(m.available, 500 * KIB);
}

Test(probes_sysmem, available_never_above_total)
{
    struct mk_sysmem m;
    cr_assert_eq(mk_sysmem_parse("MemTotal: 100 kB\nMemFree: 90 kB\n"
                                 "Cached: 50 kB\n", &m), 0);
    cr_assert_eq(m.available, 100 * KIB);
    cr_assert_eq(m.estimated, 1);
}

Test(probes_sysmem, a_value_cut_short_is_not_taken)
{
    struct mk_sysmem m;
    /* MemAvailable cut in its number: fall back to the estimate. */
    cr_assert_eq(mk_sysmem_parse("MemTotal: 1000 kB\nMemFree: 500 kB\n"
                                 "MemAvailable:  12", &m), 0);
    cr_assert_eq(m.available, 500 * KIB);
    cr_assert_eq(m.estimated, 1);
    /* Cut before its unit, or in it. */
    cr_assert_eq(mk_sysmem_parse("MemTotal: 1000 kB\nMemFree: 500 kB\n"
                                 "MemAvailable: 600 k", &m), 0);
    cr_assert_eq(m.estimated, 1);
    errno = 0;
    cr_assert_eq(mk_sysmem_parse("MemTotal:       2468", &m), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(mk_sysmem_parse("MemTotal: 1000 kB\nMemAvai", &m), -1);
}

Test(probes_sysmem, garbage_and_missing_fields_are_refused)
{
    const char *bad[] = {
        "",
        "hello\nworld\n",
        "MemFree: 500 kB\nMemAvailable: 400 kB\n",            /* no total */
        "MemTotal: 1000 kB\n",                                /* no free */
        "MemTotal: 0 kB\nMemAvailable: 0 kB\n",
        "MemTotal: abc kB\nMemAvailable: 1 kB\n",
        "MemTotal 1000 kB\nMemAvailable: 1 kB\n",             /* no colon */
        " MemTotal: 1000 kB\nMemAvailable: 1 kB\n",           /* not at start */
        "XMemTotal: 1000 kB\nMemAvailable: 1 kB\n",
        "MemTotal: 1000 MB\nMemAvailable: 1 kB\n",            /* not kB */
        "MemTotal: 1000 kBx\nMemAvailable: 1 kB\n",
        "MemTotal: 99999999999999999999 kB\nMemAvailable: 1 kB\n",
        "MemTotal: 18014398509481984 kB\nMemAvailable: 1 kB\n", /* bytes overflow */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mk_sysmem m;
        errno = 0;
        cr_assert_eq(mk_sysmem_parse(bad[i], &m), -1, "taken: '%s'", bad[i]);
        cr_assert_eq(errno, EINVAL);
    }
}

Test(probes_sysmem, this_machine)
{
    struct mk_sysmem m;
    errno = 4321;
    cr_assert_eq(mk_sysmem_read(&m), 0);
    cr_assert_eq(errno, 4321, "errno changed to %d", errno);
    cr_assert_gt(m.total, 0);
    cr_assert_gt(m.available, 0);
    cr_assert_leq(m.available, m.total);
    cr_assert_eq(m.estimated, 0, "a kernel since 3.14 has MemAvailable");
}
