/* frag_run.c — runs the frag workload (frag.c) over glibc, jemalloc,
 * tcmalloc and mimalloc, each plain and beneath memkit, and prints how much
 * of a fragmented heap each leaves resident and how long the program's own
 * malloc/free calls stall meanwhile.
 *
 *   frag_run [--quick] [--rounds N] [--size BYTES] [--wait S] [--only NAME]
 *            [--markdown] --frag PATH --memkit PATH/libmemkit.so
 *
 * Variants, each run with --pattern oldest and --pattern random:
 *   glibc               nothing preloaded
 *   glibc+memkit        LD_PRELOAD=libmemkit.so with MEMKIT_COMPACT_THRESHOLD=256M
 *                       MEMKIT_COMPACT_MIN_GAP=0 MEMKIT_REPORT=off
 *   glibc trim-self     frag --trim-self: the program calls malloc_trim(0)
 *                       itself after the frees. The reference: what glibc
 *                       gives back when asked at the best moment. Never memkit.
 *   jemalloc, tcmalloc, mimalloc       the allocator preloaded
 *   jemalloc+memkit ...                LD_PRELOAD="libmemkit.so ALLOCATOR",
 *                                      memkit's options as above
 * (tcmalloc is libtcmalloc_minimal.so.4, as in tests/integration; a variant
 * whose library is missing is skipped, and the table says so.)
 *
 * Each round runs every (variant, pattern) once, in an order that rotates
 * from round to round, all with the same --seed (the round number), so
 * within a round every variant sees the same objects freed. The table shows
 * medians over rounds; the ratio is the median of each run's
 * rss_after_wait / floor, and for a +memkit variant "x plain" is its
 * median rss_after_wait over that of the same allocator alone (same
 * pattern). --markdown prints the header as a list and the table as
 * Markdown (for BENCHMARKS.md, see run_all.sh).
 *
 * --quick: --size 64M --wait 2 --rounds 1 unless given (a smoke test, about
 * 40 seconds). Defaults otherwise: --size 1G --wait 5 --rounds 3.
 *
 * Exit status: 0 when every variant that was not skipped ran in every round
 * and printed its line with every field, the allocator it was meant to run
 * on, and memkit loaded exactly where it should be; 1 otherwise; 2 for a
 * usage error. Ratios and timings are never judged. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

#define MAX_ROUNDS 51
#define MIB        (1024.0 * 1024.0)

/* ---- small helpers ---------------------------------------------------------- */

/* Sizes as frag takes them: a count with an optional K, M or G (KiB...). */
static int parse_size(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10), mul = 1;
    if (errno || end == s || s[0] == '-')
        return -1;
    switch (*end) {
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    default: break;
    }
    if (mul > 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
        end += strlen(end);
    if (*end || v > (1ull << 40) / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* ---- running one child -------------------------------------------------------- */

struct run {
    int ok;
    char line[1024];        /* frag's stdout */
    char stderr_text[512];
    char error[1024];
};

/* Says what went wrong in r->error (r->ok stays 0: run_child clears r first). */
#define run_error(r, ...) snprintf((r)->error, sizeof (r)->error, __VA_ARGS__)

/* Runs argv with env, stdout captured, stderr to a file; killed after
 * timeout_s. */
static void run_child(char *const argv[], char *const env[], unsigned timeout_s, struct run *r)
{
    memset(r, 0, sizeof *r);
    int out;
    const char *what;
    /* The private folder is the cwd: a report written despite REPORT=off
     * would land there. */
    pid_t pid = bench_spawn(argv, env, bench_tmpdir, 0, &out, &what);
    if (pid < 0) {
        run_error(r, "%s: %s", what, strerror(errno));
        return;
    }

    /* frag writes its line only at the end: read after it exits (the pipe
     * holds far more than one line). */
    int status = bench_wait(pid, timeout_s, 0, NULL, NULL, NULL);
    bench_drain(out, r->line, sizeof r->line);
    if (slurp(bench_stderr_path, r->stderr_text, sizeof r->stderr_text) < 0)
        r->stderr_text[0] = '\0';
    stop_if_asked();
    if (status == BENCH_KILLED) {
        run_error(r, "killed after %u s", timeout_s);
        return;
    }
    if (status == BENCH_WAIT_ERROR || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (status != BENCH_WAIT_ERROR && WIFSIGNALED(status))
            run_error(r, "killed by signal %d (%s); stderr: %.300s", WTERMSIG(status),
                      strsignal(WTERMSIG(status)), r->stderr_text);
        else
            run_error(r, "exit status %d; stderr: %.300s",
                      status == BENCH_WAIT_ERROR ? -1 : WEXITSTATUS(status), r->stderr_text);
        return;
    }
    r->ok = 1;
}

/* ---- frag's line ---------------------------------------------------------------- */

enum field {
    F_FLOOR, F_RSS_FREE, F_RSS_WAIT, F_STALL_MAX, F_STALL_P99, F_LIVE, F_BUILD,
    F_ADJ, F_COMPACTIONS, NFIELDS
};
static const char *const field_key[NFIELDS] = {
    "floor_bytes", "rss_after_free", "rss_after_wait", "stall_max_us", "stall_p99_us",
    "live_objects", "build_s", "stall_max_adj_us", "compactions",
};

/* The value of " key=" in line, as text (up to the next space). */
static int field_text(const char *line, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = line; (p = strstr(p, key)) != NULL; p += kl) {
        if ((p != line && p[-1] != ' ') || p[kl] != '=')
            continue;
        p += kl + 1;
        size_t n = strcspn(p, " \n");
        if (n == 0 || n >= cap)
            return -1;
        memcpy(out, p, n);
        out[n] = '\0';
        return 0;
    }
    return -1;
}

static int field_number(const char *line, const char *key, double *out)
{
    char text[64], *end;
    if (field_text(line, key, text, sizeof text))
        return -1;
    errno = 0;
    *out = strtod(text, &end);
    return errno || *end || !isfinite(*out) ? -1 : 0;
}

/* ---- variants ------------------------------------------------------------------ */

struct variant {
    const char *name;
    const char *allocator;   /* what frag must report */
    const char *soname;      /* preloaded beneath memkit or alone; NULL: glibc */
    int memkit, trim_self;
    const char *extra_env;   /* one more MEMKIT_* setting, or NULL */
    const char *skip;
    char preload[2 * PATH_MAX + 32];
};

struct config {
    struct variant *v;
    const char *pattern;
    double val[NFIELDS][MAX_ROUNDS];
    double ratio[MAX_ROUNDS];
    double trim_ms[MAX_ROUNDS];   /* --trim-self: how long malloc_trim took */
    int n;
    int stderr_noted;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: frag_run [--quick] [--rounds N] [--size BYTES] [--wait S] --frag PATH "
            "--memkit LIBMEMKIT.so\n"
            "  --quick      --size 64M --wait 2 --rounds 1 (a smoke test)\n"
            "  --rounds N   rounds, medians reported (default 3)\n"
            "  --size BYTES heap built by frag, K/M/G suffixes (default 1G)\n"
            "  --wait S     seconds frag waits after the frees (default 5)\n"
            "  --only NAME  only the variants whose name starts with NAME (e.g. glibc)\n"
            "  --markdown   print the header as a list, the table as Markdown\n");
}

int main(int argc, char **argv)
{
    bench_init("frag_run");
    int rounds = 3, quick = 0, have_rounds = 0, have_size = 0, have_wait = 0, markdown = 0;
    unsigned long long size = 1ull << 30;
    double wait_s = 5;
    const char *frag = NULL, *lib = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--markdown")) {
            markdown = 1;
        } else if (!strcmp(a, "--only") && i + 1 < argc) {
            only = argv[++i];
        } else if (!strcmp(a, "--rounds") && i + 1 < argc) {
            rounds = (int)strtol(argv[++i], &end, 10);
            if (*end || rounds < 1 || rounds > MAX_ROUNDS) {
                fprintf(stderr, "frag_run: --rounds takes 1..%d\n", MAX_ROUNDS);
                return 2;
            }
            have_rounds = 1;
        } else if (!strcmp(a, "--size") && i + 1 < argc) {
            if (parse_size(argv[++i], &size) || size < 4096) {
                fprintf(stderr, "frag_run: --size takes a byte count (K, M, G suffixes)\n");
                return 2;
            }
            have_size = 1;
        } else if (!strcmp(a, "--wait") && i + 1 < argc) {
            errno = 0;
            wait_s = strtod(argv[++i], &end);
            if (errno || *end || !(wait_s >= 0) || wait_s > 3600) {
                fprintf(stderr, "frag_run: --wait takes seconds\n");
                return 2;
            }
            have_wait = 1;
        } else if (!strcmp(a, "--frag") && i + 1 < argc) {
            frag = argv[++i];
        } else if (!strcmp(a, "--memkit") && i + 1 < argc) {
            lib = argv[++i];
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!frag || !lib) {
        usage(stderr);
        return 2;
    }
    if (quick) {
        if (!have_rounds)
            rounds = 1;
        if (!have_size)
            size = 64ull << 20;
        if (!have_wait)
            wait_s = 2;
    }

    char libpath[PATH_MAX], fragpath[PATH_MAX];
    if (!realpath(lib, libpath)) {
        fprintf(stderr, "frag_run: %s: %s\n", lib, strerror(errno));
        return 2;
    }
    if (!realpath(frag, fragpath) || access(fragpath, X_OK) != 0) {
        fprintf(stderr, "frag_run: %s: %s\n", frag, strerror(errno));
        return 2;
    }

    if (bench_mkdtemp("memkit-frag"))
        return 1;
    atexit(bench_rmdtemp);
    bench_signals(bench_rmdtemp);

    struct variant vars[] = {
        { .name = "glibc", .allocator = "glibc" },
        { .name = "glibc+memkit", .allocator = "glibc", .memkit = 1 },
        { .name = "glibc+memkit no detour", .allocator = "glibc", .memkit = 1,
          .extra_env = "MEMKIT_COMPACT_DETOUR=0" },
        { .name = "glibc trim-self (ref)", .allocator = "glibc", .trim_self = 1 },
        { .name = "jemalloc", .allocator = "jemalloc", .soname = "libjemalloc.so.2" },
        { .name = "jemalloc+memkit", .allocator = "jemalloc", .soname = "libjemalloc.so.2",
          .memkit = 1 },
        { .name = "tcmalloc", .allocator = "tcmalloc", .soname = "libtcmalloc_minimal.so.4" },
        { .name = "tcmalloc+memkit", .allocator = "tcmalloc",
          .soname = "libtcmalloc_minimal.so.4", .memkit = 1 },
        { .name = "mimalloc", .allocator = "mimalloc", .soname = "libmimalloc.so.2" },
        { .name = "mimalloc+memkit", .allocator = "mimalloc", .soname = "libmimalloc.so.2",
          .memkit = 1 },
    };
    const int nvar = (int)(sizeof vars / sizeof vars[0]);
    char libs_used[4096] = "";
    for (int i = 0; i < nvar; i++) {
        struct variant *v = &vars[i];
        char path[PATH_MAX];
        if (only && strncmp(v->name, only, strlen(only)) != 0) {
            v->skip = "not asked for (--only)";
            continue;
        }
        if (v->soname && find_lib(v->soname, path, sizeof path) != 0) {
            v->skip = "library not found";
            if (!v->memkit)
                note("%s: %s not found, its rows are skipped", v->name, v->soname);
            continue;
        }
        if (v->soname && !v->memkit) {
            size_t l = strlen(libs_used);
            snprintf(libs_used + l, sizeof libs_used - l, "%s%.900s", l ? ", " : "", path);
        }
        if (v->memkit && v->soname)
            snprintf(v->preload, sizeof v->preload, "LD_PRELOAD=%s %s", libpath, path);
        else if (v->memkit)
            snprintf(v->preload, sizeof v->preload, "LD_PRELOAD=%s", libpath);
        else if (v->soname)
            snprintf(v->preload, sizeof v->preload, "LD_PRELOAD=%s", path);
    }

    static struct config cfg[2 * sizeof vars / sizeof vars[0]];
    const int ncfg = 2 * nvar;
    for (int i = 0; i < nvar; i++) {
        cfg[2 * i].v = cfg[2 * i + 1].v = &vars[i];
        cfg[2 * i].pattern = "oldest";
        cfg[2 * i + 1].pattern = "random";
    }

    /* ---- header ---- */
    const char *li = markdown ? "- " : "";   /* each line a list item */
    printf("%sfrag_run:", li);
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    struct utsname un;
    char meminfo[4096], thp[256] = "?";
    long long memtotal_kib = -1;
    if (slurp("/proc/meminfo", meminfo, sizeof meminfo) > 0) {
        const char *p = strstr(meminfo, "MemTotal:");
        if (p)
            memtotal_kib = strtoll(p + 9, NULL, 10);
    }
    if (slurp("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp) > 0)
        thp[strcspn(thp, "\n")] = '\0';
    if (uname(&un) != 0)
        memset(&un, 0, sizeof un);
    printf("%smachine: %ld CPUs online, MemTotal %.1f GiB, kernel %s %s %s, THP %s, "
           "load average %.2f at start\n",
           li, sysconf(_SC_NPROCESSORS_ONLN), (double)memtotal_kib / (1024.0 * 1024.0), un.sysname,
           un.release, un.machine, thp, loadavg());
    printf("%sfrag: %s --size %llu (%.0f MiB) --wait %g, %d round%s (variants alternate)%s\n",
           li, fragpath, size, (double)size / MIB, wait_s, rounds, rounds == 1 ? "" : "s",
           quick ? ", quick mode" : "");
    printf("%smemkit: %s (MEMKIT_COMPACT_THRESHOLD=256M MEMKIT_COMPACT_MIN_GAP=0 MEMKIT_REPORT=off)\n",
           li, libpath);
    printf("%sallocators: %s\n", li, libs_used[0] ? libs_used : "(none found)");
    fflush(stdout);

    char size_arg[32], wait_arg[32], seed_arg[32];
    snprintf(size_arg, sizeof size_arg, "%llu", size);
    snprintf(wait_arg, sizeof wait_arg, "%g", wait_s);
    unsigned timeout_s = 120 + (unsigned)(2 * wait_s) + (unsigned)(size >> 30) * 180;

    for (int round = 0; round < rounds; round++) {
        snprintf(seed_arg, sizeof seed_arg, "%d", round + 1);
        int start = round * ((ncfg + rounds - 1) / rounds);
        for (int k = 0; k < ncfg; k++) {
            struct config *c = &cfg[(start + k) % ncfg];
            struct variant *v = c->v;
            if (v->skip)
                continue;
            show_progress("round %d/%d, run %d/%d: %-24s %-6s", round + 1, rounds, k + 1, ncfg,
                          v->name, c->pattern);
            char *args[16];
            int na = 0;
            args[na++] = fragpath;
            args[na++] = (char *)"--size";
            args[na++] = size_arg;
            args[na++] = (char *)"--wait";
            args[na++] = wait_arg;
            args[na++] = (char *)"--pattern";
            args[na++] = (char *)c->pattern;
            args[na++] = (char *)"--seed";
            args[na++] = seed_arg;
            if (v->trim_self)
                args[na++] = (char *)"--trim-self";
            args[na] = NULL;
            const char *env[8];
            int ne = 0;
            if (v->preload[0])
                env[ne++] = v->preload;
            if (v->memkit) {
                env[ne++] = "MEMKIT_COMPACT_THRESHOLD=256M";
                env[ne++] = "MEMKIT_COMPACT_MIN_GAP=0";
                env[ne++] = "MEMKIT_REPORT=off";
                if (v->extra_env)
                    env[ne++] = v->extra_env;
            }
            env[ne] = NULL;

            struct run r;
            run_child(args, make_env(env), timeout_s, &r);
            if (!r.ok) {
                problem("%s %s: %s", v->name, c->pattern, r.error);
                continue;
            }
            double val[NFIELDS];
            int bad = 0;
            for (int f = 0; f < NFIELDS; f++)
                if (field_number(r.line, field_key[f], &val[f])) {
                    problem("%s %s: no %s= in \"%.300s\"", v->name, c->pattern, field_key[f],
                            r.line);
                    bad = 1;
                    break;
                }
            char alloc[32];
            double mk = -1;
            if (!bad && (field_text(r.line, "allocator", alloc, sizeof alloc) ||
                         strcmp(alloc, v->allocator))) {
                problem("%s %s: ran on allocator=%s, expected %s", v->name, c->pattern,
                        field_text(r.line, "allocator", alloc, sizeof alloc) ? "?" : alloc,
                        v->allocator);
                bad = 1;
            }
            if (!bad && (field_number(r.line, "memkit", &mk) || (int)mk != v->memkit)) {
                problem("%s %s: memkit=%g, expected %d", v->name, c->pattern, mk, v->memkit);
                bad = 1;
            }
            if (!bad && strchr(r.line, '\n') != r.line + strlen(r.line) - 1) {
                problem("%s %s: expected one line on stdout, got \"%.300s\"", v->name, c->pattern,
                        r.line);
                bad = 1;
            }
            if (bad)
                continue;
            if (r.stderr_text[0] && !c->stderr_noted++)
                note("%s %s wrote on stderr: %.300s", v->name, c->pattern, r.stderr_text);
            for (int f = 0; f < NFIELDS; f++)
                c->val[f][c->n] = val[f];
            c->ratio[c->n] = val[F_FLOOR] > 0 ? val[F_RSS_WAIT] / val[F_FLOOR] : NAN;
            if (v->trim_self && field_number(r.line, "trim_self_ms", &c->trim_ms[c->n])) {
                problem("%s %s: no trim_self_ms= in \"%.300s\"", v->name, c->pattern, r.line);
                continue;
            }
            c->n++;
        }
    }
    end_progress();

    if (markdown)
        printf("\n| variant | pattern | floor MiB | RSS after frees MiB | RSS after wait MiB | "
               "wait / floor | × plain | stall p99 µs | stall max µs | max less run-queue µs | "
               "build s | compactions |\n"
               "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    else {
        printf("\n%-22s %-6s %8s %9s %9s %7s %7s %8s %9s %9s %7s %5s\n", "variant", "pattern",
               "floor", "RSS free", "RSS wait", "wait/", "x", "stall", "stall", "max-runq",
               "build", "comp-");
        printf("%-22s %-6s %8s %9s %9s %7s %7s %8s %9s %9s %7s %5s\n", "", "", "MiB", "MiB",
               "MiB", "floor", "plain", "p99 us", "max us", "us", "s", "acts");
    }
    for (int k = 0; k < ncfg; k++) {
        struct config *c = &cfg[k];
        if (c->v->skip && only && strncmp(c->v->name, only, strlen(only)) != 0)
            continue;
        if (c->v->skip) {
            printf(markdown ? "| %s | %s | skipped: %s | | | | | | | | | |\n"
                            : "%-22s %-6s skipped: %s\n",
                   c->v->name, c->pattern, c->v->skip);
            continue;
        }
        if (c->n < rounds) {
            printf(markdown ? "| %s | %s | failed in %d of %d rounds | | | | | | | | | |\n"
                            : "%-22s %-6s failed in %d of %d rounds\n",
                   c->v->name, c->pattern, rounds - c->n, rounds);
            if (c->n == 0)
                continue;
        }
        double m[NFIELDS];
        for (int f = 0; f < NFIELDS; f++)
            m[f] = median(c->val[f], c->n);
        char comp[16] = "-";
        if (m[F_COMPACTIONS] >= 0)
            snprintf(comp, sizeof comp, "%.0f", m[F_COMPACTIONS]);
        /* x plain: RSS after the wait over that of the same allocator
         * alone, same pattern ("-" for the plain variants). */
        char vs[16] = "-";
        if (c->v->memkit) {
            for (int j = 0; j < ncfg; j++) {
                struct config *b = &cfg[j];
                if (!b->v->memkit && !b->v->trim_self && !b->v->skip && b->n &&
                    !strcmp(b->v->allocator, c->v->allocator) &&
                    !strcmp(b->pattern, c->pattern)) {
                    double bw = median(b->val[F_RSS_WAIT], b->n);
                    if (bw > 0)
                        snprintf(vs, sizeof vs, "%.3f", m[F_RSS_WAIT] / bw);
                }
            }
        }
        printf(markdown ? "| %s | %s | %.1f | %.1f | %.1f | %.3f | %s | %.3f | %.1f | %.1f | %.2f | %s |\n"
                        : "%-22s %-6s %8.1f %9.1f %9.1f %7.3f %7s %8.3f %9.1f %9.1f %7.2f %5s\n",
               c->v->name, c->pattern, m[F_FLOOR] / MIB, m[F_RSS_FREE] / MIB,
               m[F_RSS_WAIT] / MIB, median(c->ratio, c->n), vs, m[F_STALL_P99], m[F_STALL_MAX],
               m[F_ADJ], m[F_BUILD], comp);
    }
    if (markdown)
        printf("\nMedians of %d round%s. RSS: heap-only anonymous RSS (see frag.c); wait / floor: "
               "median of each run's RSS after the wait over its floor (the pages the live "
               "objects touch); × plain: RSS after the wait over the same allocator's without "
               "memkit; stall: every malloc/free of the two heap-building threads during the "
               "wait; max less run-queue: the longest call less the time its thread waited for a "
               "CPU around it (a lower bound of lock and fault stalls); compactions: "
               "memkit_stats() at the end. Load average %.2f at the end.\n",
               rounds, rounds == 1 ? "" : "s", loadavg());
    else
    printf("(medians of %d round%s; heap-only anonymous RSS, see frag.c; wait/floor: median of\n"
           " each run's RSS after the wait over its floor; x plain: RSS after the wait over the\n"
           " same allocator's without memkit; stall: every malloc/free of the two\n"
           " heap-building threads during the wait; max-runq: longest call less the time its\n"
           " thread waited for a CPU around it (a lower bound of lock and fault stalls);\n"
           " compactions: memkit_stats() at the end;\n"
           " load average %.2f at the end)\n",
           rounds, rounds == 1 ? "" : "s", loadavg());
    if (markdown)
        printf("\n");
    for (int k = 0; k < ncfg; k++)
        if (cfg[k].v->trim_self && cfg[k].n)
            printf("%s%s %s: its malloc_trim(0) took %.1f ms (median)\n", li, cfg[k].v->name,
                   cfg[k].pattern, median(cfg[k].trim_ms, cfg[k].n));

    return bench_exit_status();
}
