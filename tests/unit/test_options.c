/* test_options.c — every value form, every error, and the live values. */
#include "log.h"
#include "options.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define SEC 1000000000ull

Test(parse, sizes_in_every_documented_form)
{
    struct { const char *in; uint64_t want; } ok[] = {
        { "4096", 4096 }, { "64K", 64 * KiB }, { "64k", 64 * KiB }, { "64KB", 64 * KiB },
        { "64KiB", 64 * KiB }, { "500M", 500 * MiB }, { "500MB", 500 * MiB },
        { "1G", GiB }, { "1GiB", GiB }, { "1.5G", GiB + GiB / 2 }, { " 2T ", 2048 * GiB },
        { "0", 0 }, { "off", 0 }, { "OFF", 0 }, { "10b", 10 }, { "3 M", 3 * MiB },
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint64_t v = 7;
        cr_assert_eq(mk_parse_size(ok[i].in, &v), 0, "'%s' should parse", ok[i].in);
        cr_assert_eq(v, ok[i].want, "'%s' gave %llu", ok[i].in, (unsigned long long)v);
    }
    const char *bad[] = { "", "abc", "-1", "1X", "1KK", "1.5", "M", "1e9",
                          "99999999999999999999", "20000000000G", "1 K B", "5 0" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint64_t v = 7;
        cr_assert_eq(mk_parse_size(bad[i], &v), -1, "'%s' should not parse", bad[i]);
        cr_assert_eq(v, 7, "a failed parse must leave the output alone");
    }
}

Test(parse, durations_in_every_documented_form)
{
    struct { const char *in; uint64_t want; } ok[] = {
        { "500ms", 500000000ull }, { "60", 60 * SEC }, { "60s", 60 * SEC }, { "5m", 300 * SEC },
        { "1h", 3600 * SEC }, { "1.5s", 1500000000ull }, { "250us", 250000 }, { "2d", 172800 * SEC },
        { "0", 0 }, { "off", 0 }, { " 10 s ", 10 * SEC }, { "7ns", 7 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint64_t v = 7;
        cr_assert_eq(mk_parse_duration(ok[i].in, &v), 0, "'%s' should parse", ok[i].in);
        cr_assert_eq(v, ok[i].want, "'%s' gave %llu", ok[i].in, (unsigned long long)v);
    }
    const char *bad[] = { "", "soon", "-5s", "5x", "1hour", "s", "99999999999999999999d" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint64_t v = 7;
        cr_assert_eq(mk_parse_duration(bad[i], &v), -1, "'%s' should not parse", bad[i]);
        cr_assert_eq(v, 7);
    }
}

Test(parse, booleans)
{
    const char *yes[] = { "1", "on", "ON", "yes", "true", " True " };
    const char *no[] = { "0", "off", "no", "false", "FALSE" };
    uint64_t v;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        cr_assert_eq(mk_parse_bool(yes[i], &v), 0);
        cr_assert_eq(v, 1, "'%s'", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        cr_assert_eq(mk_parse_bool(no[i], &v), 0);
        cr_assert_eq(v, 0, "'%s'", no[i]);
    }
    const char *bad[] = { "", "2", "y", "onn", "on off", "-1" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(mk_parse_bool(bad[i], &v), -1, "'%s'", bad[i]);
}

Test(parse, percentages_in_hundredths)
{
    uint64_t v;
    cr_assert_eq(mk_parse_percent("25", &v), 0);
    cr_assert_eq(v, 2500);
    cr_assert_eq(mk_parse_percent("25%", &v), 0);
    cr_assert_eq(v, 2500);
    cr_assert_eq(mk_parse_percent("12.5%", &v), 0);
    cr_assert_eq(v, 1250);
    cr_assert_eq(mk_parse_percent("100", &v), 0);
    cr_assert_eq(v, 10000);
    const char *bad[] = { "", "101", "100.5", "-3", "50%%", "half", "%" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(mk_parse_percent(bad[i], &v), -1, "'%s'", bad[i]);
}

Test(parse, levels)
{
    uint64_t v;
    cr_assert_eq(mk_parse_level("error", &v), 0);
    cr_assert_eq(v, MK_LOG_ERROR);
    cr_assert_eq(mk_parse_level("WARN", &v), 0);
    cr_assert_eq(v, MK_LOG_WARN);
    cr_assert_eq(mk_parse_level("warning", &v), 0);
    cr_assert_eq(v, MK_LOG_WARN);
    cr_assert_eq(mk_parse_level("debug", &v), 0);
    cr_assert_eq(v, MK_LOG_DEBUG);
    cr_assert_eq(mk_parse_level("loud", &v), -1);
    cr_assert_eq(mk_parse_level("", &v), -1);
}

Test(parse, counts)
{
    struct { const char *in; uint64_t want; } ok[] = {
        { "0", 0 }, { "32", 32 }, { " 128 ", 128 }, { "18446744073709551615", UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint64_t v = 7;
        cr_assert_eq(mk_parse_count(ok[i].in, &v), 0, "'%s' should parse", ok[i].in);
        cr_assert_eq(v, ok[i].want, "'%s' gave %llu", ok[i].in, (unsigned long long)v);
    }
    const char *bad[] = { "", "  ", "abc", "-1", "1.5", "3.", "32K", "1 2", "off",
                          "18446744073709551616" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint64_t v = 7;
        cr_assert_eq(mk_parse_count(bad[i], &v), -1, "'%s' should not parse", bad[i]);
        cr_assert_eq(v, 7, "a failed parse must leave the output alone");
    }
}

Test(parse, lists_are_normalised)
{
    char out[64];
    cr_assert_eq(mk_parse_list(" load_model , parse_file,,ns::f ", out, sizeof out), 0);
    cr_assert_str_eq(out, "load_model,parse_file,ns::f");
    cr_assert_eq(mk_parse_list("none", out, sizeof out), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(mk_parse_list("", out, sizeof out), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(mk_parse_list("a b", out, sizeof out), -1, "blank inside a name");
    cr_assert_eq(mk_parse_list("f(x)", out, sizeof out), -1);
    cr_assert_eq(mk_parse_list("abcdef", out, 4), -1, "does not fit");
}

Test(parse, report_path_templates)
{
    char out[64];
    cr_assert_eq(mk_parse_path_template("memkit.%e.%p.json", out, sizeof out), 0);
    cr_assert_str_eq(out, "memkit.%e.%p.json");
    cr_assert_eq(mk_parse_path_template(" /tmp/r-%t-%%.json ", out, sizeof out), 0);
    cr_assert_str_eq(out, "/tmp/r-%t-%%.json");
    cr_assert_eq(mk_parse_path_template("OFF", out, sizeof out), 0);
    cr_assert_str_eq(out, "off");
    const char *bad[] = { "", "  ", "r.%x.json", "r.%", "dir/", "a\nb" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(mk_parse_path_template(bad[i], out, sizeof out), -1, "'%s'", bad[i]);
}

Test(parse, canonical_text_reads_back_as_the_same_value)
{
    struct { enum mk_opt_type type; const char *in, *text; } cases[] = {
        { MK_TYPE_SIZE, "524288", "512K" }, { MK_TYPE_SIZE, "500MB", "500M" },
        { MK_TYPE_SIZE, "1000", "1000" }, { MK_TYPE_SIZE, "off", "0" },
        { MK_TYPE_DURATION, "60", "1m" }, { MK_TYPE_DURATION, "90s", "90s" },
        { MK_TYPE_DURATION, "1.5s", "1500ms" }, { MK_TYPE_DURATION, "120m", "2h" },
        { MK_TYPE_BOOL, "yes", "1" }, { MK_TYPE_PERCENT, "12.5", "12.5%" },
        { MK_TYPE_PERCENT, "7.25%", "7.25%" }, { MK_TYPE_LEVEL, "DEBUG", "debug" },
        { MK_TYPE_COUNT, " 32 ", "32" }, { MK_TYPE_COUNT, "0", "0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct mk_opt_value v, again;
        cr_assert_eq(mk_parse_value(cases[i].type, cases[i].in, &v), 0);
        cr_assert_str_eq(v.text, cases[i].text, "'%s'", cases[i].in);
        cr_assert_eq(mk_parse_value(cases[i].type, v.text, &again), 0);
        cr_assert_eq(again.num, v.num, "'%s' does not read back", v.text);
    }
}

Test(table, every_default_parses_and_every_row_is_complete)
{
    for (int i = 0; i < MK_OPT_COUNT; i++) {
        struct mk_opt_value v;
        cr_assert(strncmp(mk_options[i].name, "MEMKIT_", 7) == 0);
        cr_assert(mk_options[i].help[0] != '\0', "%s has no help", mk_options[i].name);
        cr_assert_eq(mk_parse_value(mk_options[i].type, mk_options[i].def, &v), 0,
                     "default of %s does not parse", mk_options[i].name);
        /* One spelling everywhere: the warning, the report, the README. */
        cr_assert_str_eq(v.text, mk_options[i].def, "default of %s is not in canonical form",
                         mk_options[i].name);
        cr_assert_eq(mk_option_find(mk_options[i].name), i);
        cr_assert_neq(strcmp(mk_type_expectation(mk_options[i].type), "a value"), 0);
    }
    cr_assert_eq(mk_option_find("MEMKIT_NOPE"), -1);
}

/* ---- live values ---- */

/* Captures what memkit writes to stderr during fn. */
static size_t stderr_of(void (*fn)(void), char *out, size_t len)
{
    char path[] = "/tmp/memkit-test-stderr-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    int saved = dup(2);
    dup2(fd, 2);
    mk_log_init();
    fn();
    dup2(saved, 2);
    close(saved);
    mk_log_init();
    ssize_t n = pread(fd, out, len - 1, 0);
    close(fd);
    unlink(path);
    out[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

static void load(void) { mk_options_load_env(); }

Test(live, a_bad_value_warns_once_and_keeps_the_default)
{
    setenv("MEMKIT_LOG", "loud", 1);
    char err[1024];
    stderr_of(load, err, sizeof err);
    unsetenv("MEMKIT_LOG");
    cr_assert_str_eq(err, "memkit: MEMKIT_LOG='loud' is not a level (error, warn, info, debug); "
                          "using warn\n");
    char buf[32];
    cr_assert_eq(mk_options_get("MEMKIT_LOG", buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "warn");
}

Test(live, a_misspelt_variable_is_named)
{
    setenv("MEMKIT_REPROT", "x.json", 1);
    char err[1024];
    stderr_of(load, err, sizeof err);
    unsetenv("MEMKIT_REPROT");
    cr_assert(strstr(err, "memkit: MEMKIT_REPROT is not a memkit option"), "got: %s", err);
}

Test(live, good_values_from_the_environment_are_used)
{
    setenv("MEMKIT_REPORT", " /tmp/x.%p.json ", 1);
    setenv("MEMKIT_DISABLE", "yes", 1);
    char err[256];
    stderr_of(load, err, sizeof err);
    unsetenv("MEMKIT_REPORT");
    unsetenv("MEMKIT_DISABLE");
    cr_assert_str_eq(err, "");
    char buf[64];
    cr_assert_eq(mk_opt_text(MK_OPT_REPORT, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "/tmp/x.%p.json");
    cr_assert_eq(mk_opt_num(MK_OPT_DISABLE), 1);
}

Test(live, set_and_get_with_every_error)
{
    mk_options_reset();
    char buf[64];
    cr_assert_eq(mk_options_set("MEMKIT_LOG", "debug"), 0);
    cr_assert_eq(mk_options_get("MEMKIT_LOG", buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "debug");
    cr_assert_eq(mk_opt_num(MK_OPT_LOG), MK_LOG_DEBUG);

    errno = 0;
    cr_assert_eq(mk_options_set("MEMKIT_LOG", "loud"), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(mk_options_get("MEMKIT_LOG", buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "debug", "a refused value leaves the option as it was");

    errno = 0;
    cr_assert_eq(mk_options_set("MEMKIT_NOPE", "1"), -1);
    cr_assert_eq(errno, ENOENT);
    errno = 0;
    cr_assert_eq(mk_options_get("MEMKIT_NOPE", buf, sizeof buf), -1);
    cr_assert_eq(errno, ENOENT);

    errno = 0;
    cr_assert_eq(mk_options_get("MEMKIT_LOG", buf, 5), -1, "\"debug\" needs 6 bytes");
    cr_assert_eq(errno, ERANGE);
    cr_assert_eq(mk_options_get("MEMKIT_LOG", buf, 6), 0);
    mk_options_reset();
    cr_assert_eq(mk_options_get("MEMKIT_LOG", buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "warn");
}
