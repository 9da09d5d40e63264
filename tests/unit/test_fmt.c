/* test_fmt.c — mk_snprintf agrees with snprintf on every form memkit uses. */
#include "fmt.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SAME(...)                                                            \
    do {                                                                     \
        char want[256], got[256];                                            \
        int wn = snprintf(want, sizeof want, __VA_ARGS__);                   \
        size_t gn = mk_snprintf(got, sizeof got, __VA_ARGS__);               \
        cr_assert_str_eq(got, want);                                         \
        cr_assert_eq(gn, (size_t)wn);                                        \
    } while (0)

Test(fmt, integers_with_widths_and_flags)
{
    SAME("%d %i %u", -42, 7, 4000000000u);
    SAME("%ld %lld %llu", -1234567890123L, (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
    SAME("%zu %jd", (size_t)123, (intmax_t)-5);
    SAME("[%5d] [%-5d] [%05d] [%03u]", 42, 42, 42, 7u);
    SAME("%x %X %lx %04x", 255u, 255u, 0xdeadbeefUL, 10u);
    SAME("%p", (void *)0x1234);
}

Test(fmt, strings_chars_and_percent)
{
    SAME("%s|%10s|%-6s|%.3s|%.*s", "abc", "right", "left", "truncate", 2, "xyz");
    SAME("%c%c 100%%", 'o', 'k');
}

Test(fmt, fixed_point)
{
    SAME("%f", 1.5);
    SAME("%.3f", 2.0005);
    SAME("%.0f", 2.4);
    SAME("%.6f", 0.000383);
    SAME("%.2f", -3.14159);
    SAME("%.3f", 1795355401.25);
    SAME("%.2f", 0.999);
}

Test(fmt, truncates_and_reports_the_full_length)
{
    char buf[8];
    size_t n = mk_snprintf(buf, sizeof buf, "%s-%d", "abcdef", 12345);
    cr_assert_eq(n, 12);
    cr_assert_str_eq(buf, "abcdef-");
    cr_assert_eq(mk_snprintf(NULL, 0, "%d", 100), 3, "length only, nothing written");
}

#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
Test(fmt, unknown_conversions_are_copied_through)
{
    char buf[32];
    mk_snprintf(buf, sizeof buf, "a %q b");
    cr_assert_str_eq(buf, "a %q b");
    mk_snprintf(buf, sizeof buf, "end %");
    cr_assert_str_eq(buf, "end %");
}
