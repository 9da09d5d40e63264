/* bench_run.c — runs malloc_heavy (or any command) plain, under memkit and
 * under other measuring tools and allocators, and prints what each costs.
 *
 *   bench_run [--quick] [--rounds N] [--ops N] [--threads N] [--sizes MIN-MAX]
 *             [--bench PATH] [--configs LIST] [--env VAR=VALUE]... [--markdown]
 *             [--no-rss] LIBMEMKIT.so [-- COMMAND [ARG]...]
 *
 * Table 1: the time of each configuration (median and minimum of N rounds,
 * configurations run alternately, the first one rotating each round). With
 * malloc_heavy that is its own wall time (thread creation to last join,
 * printed by it) and, beside it, the wall time of the whole process (fork
 * to exit: start-up and the tool's report at exit included); with
 * "-- COMMAND" only the latter. Also the peak RSS (ru_maxrss from wait4:
 * the largest process of the tree, so heaptrack's own interpreter counts)
 * and the size of what the tool wrote (its report file, heap dump, or the
 * summary it printed on stderr). The configurations (--configs takes a
 * comma-separated list of these keys; the default is the first ten):
 *   plain              nothing preloaded
 *   memkit             LD_PRELOAD=libmemkit.so, default options, the report
 *                      written to a private temporary folder
 *   report-off         memkit, MEMKIT_REPORT=off
 *   disable            memkit, MEMKIT_DISABLE=1: loaded, passing every call through
 *   sample0, sample64k, sample4k   memkit with MEMKIT_SAMPLE=0, 64K, 4K (call-
 *                      site sampling off, 8 and 128 times denser than the
 *                      default 512K), report off
 *   memusage           glibc's libmemusage.so (skipped if absent); its output
 *                      is the summary on stderr
 *   jemalloc           libjemalloc.so.2, no profiling (reference for the next)
 *   jeprof             MALLOC_CONF=prof:true,lg_prof_sample:19,prof_final:true
 *                      (a heap profile dumped at exit; skipped if jemalloc is
 *                      absent or built without profiling)
 *   memkit-sample0, memkit-sample64k   as sample0, sample64k, report written
 *   heaptrack          heaptrack -o FILE (Debian package heaptrack; its output
 *                      is FILE.zst)
 *   mimalloc           libmimalloc.so.2 (reference for the next)
 *   mistats            mimalloc, MIMALLOC_SHOW_STATS=1 (statistics on stderr)
 * The ratio column is to plain; jeprof and mistats also give theirs to
 * the allocator alone.
 *
 * Table 2 (unless --no-rss): peak resident memory (VmHWM read when the
 * process exits, through ptrace; ru_maxrss from wait4 where ptrace is not
 * allowed, which also counts the runner's own anonymous pages copied by
 * fork) of /bin/true, a program doing one malloc, and malloc_heavy: plain,
 * under memkit, under memkit with MEMKIT_REPORT=off, and +anon, memkit's
 * private memory (RssAnon at exit).
 *
 * --markdown prints both tables as Markdown (for BENCHMARKS.md, see
 * run_all.sh). --env adds VAR=VALUE to every configuration's environment
 * (PYTHONMALLOC=malloc, LC_ALL=C). --threads and --sizes are passed to
 * malloc_heavy (defaults 2 and 16-4096).
 *
 * Exit status: 0 when every run succeeded; 1 when a child failed, printed
 * anything but one number on stdout (malloc_heavy's; heaptrack's own lines
 * are allowed beside it), or a tool did not do what its options say (no
 * memkit report under the defaults, a report when told not to write one,
 * a report that lacks the calls made; no memusage or mimalloc summary, no
 * heaptrack file, no jemalloc dump); 2 for a usage error. Timings are never
 * judged. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

#define MAX_ROUNDS   101
#define CHILD_TIMEOUT_S 600
#define MAX_ARGS     64
#define MAX_USER_ENV 4

/* ---- running one child -------------------------------------------------------- */

static char reportdir[PATH_MAX];    /* MEMKIT_REPORT points here, in bench_tmpdir */

enum want { WANT_NOTHING, WANT_NUMBER, WANT_NUMBER_LINE };

struct run {
    int ok;              /* exited 0 (and, if asked, printed its number) */
    double seconds;      /* the number printed */
    double wall;         /* fork to exit, seconds */
    double cpu;          /* user + system time of the process and its waited-for children */
    long rss_kib;        /* VmHWM at exit (traced) or ru_maxrss */
    long anon_kib;       /* RssAnon at exit (traced), else -1 */
    int traced;          /* rss_kib is VmHWM */
    long long stderr_bytes;
    char stderr_text[512];
    char error[1024];    /* what went wrong when !ok */
};

/* Says what went wrong in r->error (r->ok stays 0: run_child clears r first). */
#define run_error(r, ...) snprintf((r)->error, sizeof (r)->error, __VA_ARGS__)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The number on a line of text that holds nothing else; -1 if none or
 * more than one such line. */
static int number_line(const char *text, double *out)
{
    int found = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (n && end == p + n && !errno && isfinite(v) && v >= 0 && (p[0] >= '0' && p[0] <= '9')) {
            *out = v;
            found++;
        }
        p += n + (p[n] == '\n');
    }
    return found == 1 ? 0 : -1;
}

/* Runs argv with env. want: WANT_NUMBER, stdout must be exactly one number
 * (the benchmark's time); WANT_NUMBER_LINE, exactly one line of stdout is a
 * number (a wrapper prints its own lines too); otherwise stdout is
 * discarded. trace: measure VmHWM. */
static void run_child(char *const argv[], char *const env[], enum want want, int trace,
                      struct run *r)
{
    memset(r, 0, sizeof *r);
    /* The reports folder is the cwd too, so a report written to the
     * default relative path is seen (and removed) as well. */
    int out;
    const char *what;
    double t0 = now_s();
    pid_t pid = bench_spawn(argv, env, reportdir, trace, &out, &what);
    if (pid < 0) {
        run_error(r, "%s: %s", what, strerror(errno));
        return;
    }

    struct rusage ru;
    long hwm = -1, anon = -1;
    memset(&ru, 0, sizeof ru);
    int status = bench_wait(pid, CHILD_TIMEOUT_S, trace, &ru, &hwm, &anon);
    r->wall = now_s() - t0;

    char text[4096];
    bench_drain(out, text, sizeof text);
    if (slurp(bench_stderr_path, r->stderr_text, sizeof r->stderr_text) < 0)
        r->stderr_text[0] = '\0';
    struct stat st;
    r->stderr_bytes = stat(bench_stderr_path, &st) == 0 ? (long long)st.st_size : 0;

    r->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    r->traced = hwm > 0;
    r->rss_kib = hwm > 0 ? hwm : ru.ru_maxrss;
    r->anon_kib = hwm > 0 ? anon : -1;

    stop_if_asked();
    if (status < 0) {
        run_error(r, "%s: killed after %d s", argv[0], CHILD_TIMEOUT_S);
        return;
    }
    if (trace && WIFEXITED(status) && WEXITSTATUS(status) == 126) {
        /* ptrace refused (container, Yama): measure with ru_maxrss. */
        run_child(argv, env, want, 0, r);
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            run_error(r, "%s: killed by signal %d (%s); stderr: %.300s", argv[0], WTERMSIG(status),
                    strsignal(WTERMSIG(status)), r->stderr_text);
        else
            run_error(r, "%s: exit status %d; stderr: %.300s", argv[0], WEXITSTATUS(status),
                    r->stderr_text);
        return;
    }
    if (want == WANT_NUMBER) {
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || errno || !isfinite(v) || v < 0 || strcmp(end, "\n") != 0) {
            run_error(r, "%s: expected one number on stdout, got \"%.200s\"", argv[0], text);
            return;
        }
        r->seconds = v;
    } else if (want == WANT_NUMBER_LINE && number_line(text, &r->seconds)) {
        run_error(r, "%s: expected one line with a number on stdout, got \"%.300s\"", argv[0],
                  text);
        return;
    }
    r->ok = 1;
}

/* ---- what the tools wrote ------------------------------------------------------- */

struct outputs {
    int memkit_reports;              /* memkit.*.json */
    unsigned long long alloc_calls;  /* from the first one */
    int heaptrack, jeprof;           /* heaptrack*.zst, jeprof*.heap */
    long long bytes;                 /* all files, in all */
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* Looks at what is in reportdir (memkit's reports, heaptrack's file,
 * jemalloc's dumps), reads alloc_calls from the first memkit report, and
 * empties the folder. */
static void collect_reports(struct outputs *o)
{
    memset(o, 0, sizeof *o);
    DIR *d = opendir(reportdir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", reportdir, de->d_name);
        struct stat st;
        if (stat(path, &st) == 0)
            o->bytes += (long long)st.st_size;
        if (starts_with(de->d_name, "memkit.") && ends_with(de->d_name, ".json")) {
            static char buf[1 << 20];
            if (o->memkit_reports++ == 0 && slurp(path, buf, sizeof buf) > 0) {
                const char *t = strstr(buf, "\"totals\"");
                const char *a = t ? strstr(t, "\"alloc_calls\"") : NULL;
                if (a) {
                    a += strlen("\"alloc_calls\"");
                    while (*a == ' ' || *a == ':' || *a == '\n' || *a == '\t')
                        a++;
                    o->alloc_calls = strtoull(a, NULL, 10);
                }
            }
        }
        o->heaptrack += starts_with(de->d_name, "heaptrack") && ends_with(de->d_name, ".zst");
        o->jeprof += starts_with(de->d_name, "jeprof") && ends_with(de->d_name, ".heap");
        unlink(path);
    }
    closedir(d);
}

/* ---- configurations ------------------------------------------------------------- */

enum expect {
    EXPECT_NOTHING, EXPECT_REPORT, EXPECT_NO_REPORT, EXPECT_MEMUSAGE, EXPECT_HEAPTRACK,
    EXPECT_JEPROF, EXPECT_MISTATS
};

/* What a tool writes: files in reportdir, or text on stderr. */
enum output { OUT_NONE, OUT_FILES, OUT_STDERR };

struct config {
    const char *key, *name;
    const char *env[6];     /* extra environment, NULL-terminated */
    enum expect expect;
    enum output output;
    const char *output_name;   /* what the output is */
    const char *base;          /* the key of the allocator it runs on, or NULL (plain) */
    int heaptrack;             /* run under heaptrack -o */
    const char *skip;       /* why the row is skipped, or NULL */
    int selected;
    double t[MAX_ROUNDS], wall[MAX_ROUNDS], cpu[MAX_ROUNDS], rss[MAX_ROUNDS], out[MAX_ROUNDS];
    int n;
    int stderr_noted;
};

static char preload_memkit[PATH_MAX + 16], preload_memusage[PATH_MAX + 16],
    preload_jemalloc[PATH_MAX + 16], preload_mimalloc[PATH_MAX + 16], report_env[PATH_MAX + 32],
    jeprof_env[PATH_MAX + 96], heaptrack_path[PATH_MAX], heaptrack_out[PATH_MAX + 16];

#define DEFAULT_CONFIGS \
    "plain,memkit,report-off,disable,sample0,sample64k,sample4k,memusage,jemalloc,jeprof"

/* ---- helpers ------------------------------------------------------------------- */

/* The first executable file called name in $PATH (or name itself when it
 * holds a slash), as an absolute path; -1 if none. */
static int find_program(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/'))
        return realpath(name, out) && access(out, X_OK) == 0 ? 0 : -1;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        char cand[PATH_MAX];
        snprintf(cand, sizeof cand, "%.*s/%s", (int)n, p, name);
        struct stat st;
        if (n && stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0 &&
            realpath(cand, out))
            return 0;
        p += n + (p[n] == ':');
    }
    return -1;
}

/* Bytes as "812 B", "24.0 KiB", "3.1 MiB". */
static const char *human_bytes(double b, char *buf, size_t cap)
{
    if (!(b >= 0))
        snprintf(buf, cap, "-");
    else if (b < 1024)
        snprintf(buf, cap, "%.0f B", b);
    else if (b < 1024.0 * 1024)
        snprintf(buf, cap, "%.1f KiB", b / 1024);
    else if (b < 1024.0 * 1024 * 1024)
        snprintf(buf, cap, "%.1f MiB", b / (1024.0 * 1024));
    else
        snprintf(buf, cap, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    return buf;
}

static struct config *find_config(struct config *cfg, int n, const char *key)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(cfg[k].key, key))
            return &cfg[k];
    return NULL;
}

/* --env's settings, added to every configuration's environment. */
static const char *user_env[MAX_USER_ENV + 1];
static int n_user_env;

/* The children's environment: the runner's, filtered (make_env), plus c's
 * own settings (c may be NULL: none) and --env's. */
static char **config_env(const struct config *c)
{
    const char *extra[6 + MAX_USER_ENV + 1];
    int n = 0;
    for (int i = 0; c && c->env[i]; i++)
        extra[n++] = c->env[i];
    for (int i = 0; i < n_user_env; i++)
        extra[n++] = user_env[i];
    extra[n] = NULL;
    return make_env(extra);
}

/* ---- main --------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_run [options] LIBMEMKIT.so [-- COMMAND [ARG]...]\n"
            "  --quick         3 rounds of 200000 operations per thread (a smoke test)\n"
            "  --rounds N      rounds per configuration, median reported (default 7)\n"
            "  --ops N         malloc_heavy operations per thread (default 4000000)\n"
            "  --threads N     malloc_heavy threads (default 2)\n"
            "  --sizes MIN-MAX malloc_heavy block sizes, K/M suffixes (default 16-4096)\n"
            "  --bench PATH    the malloc_heavy program (default: beside bench_run)\n"
            "  --configs LIST  comma-separated configurations (default " DEFAULT_CONFIGS
            "; also memkit-sample0, memkit-sample64k, heaptrack, mimalloc, mistats)\n"
            "  --env VAR=VAL   add to every configuration's environment (up to %d)\n"
            "  --markdown      print the tables as Markdown\n"
            "  --no-rss        leave out the resident-memory table\n"
            "  -- COMMAND...   time COMMAND (its wall time) instead of malloc_heavy\n",
            MAX_USER_ENV);
}

static void cleanup(void)
{
    if (!bench_tmpdir[0])
        return;
    fflush(stdout);
    struct outputs o;
    collect_reports(&o);
    rmdir(reportdir);
    bench_rmdtemp();
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--one-malloc")) {
        /* The "one malloc" program of the resident-memory table. */
        volatile char *p = malloc(100);
        if (!p)
            return 1;
        p[0] = 1;
        free((void *)p);
        return 0;
    }

    bench_init("bench_run");
    int rounds = 7, quick = 0, markdown = 0, no_rss = 0, have_rounds = 0, have_ops = 0;
    long long ops = 4000000, threads = 2;
    const char *bench = NULL, *lib = NULL, *sizes = NULL, *configs = DEFAULT_CONFIGS;
    char **command = NULL;   /* after "--" */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        if (!strcmp(a, "--")) {
            command = &argv[i + 1];
            if (!*command) {
                usage(stderr);
                return 2;
            }
            break;
        } else if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--markdown")) {
            markdown = 1;
        } else if (!strcmp(a, "--no-rss")) {
            no_rss = 1;
        } else if (!strcmp(a, "--rounds") && i + 1 < argc) {
            rounds = (int)strtol(argv[++i], &end, 10);
            if (*end || rounds < 1 || rounds > MAX_ROUNDS) {
                fprintf(stderr, "bench_run: --rounds takes 1..%d\n", MAX_ROUNDS);
                return 2;
            }
            have_rounds = 1;
        } else if (!strcmp(a, "--ops") && i + 1 < argc) {
            ops = strtoll(argv[++i], &end, 10);
            if (*end || ops < 0) {
                fprintf(stderr, "bench_run: --ops takes a count\n");
                return 2;
            }
            have_ops = 1;
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            threads = strtoll(argv[++i], &end, 10);
            if (*end || threads < 1 || threads > 64) {
                fprintf(stderr, "bench_run: --threads takes 1..64\n");
                return 2;
            }
        } else if (!strcmp(a, "--sizes") && i + 1 < argc) {
            sizes = argv[++i];
        } else if (!strcmp(a, "--configs") && i + 1 < argc) {
            configs = argv[++i];
        } else if (!strcmp(a, "--env") && i + 1 < argc) {
            if (n_user_env == MAX_USER_ENV || !strchr(argv[i + 1], '=')) {
                fprintf(stderr, "bench_run: --env takes VAR=VALUE, up to %d times\n",
                        MAX_USER_ENV);
                return 2;
            }
            user_env[n_user_env++] = argv[++i];
        } else if (!strcmp(a, "--bench") && i + 1 < argc) {
            bench = argv[++i];
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' || lib) {
            usage(stderr);
            return 2;
        } else {
            lib = a;
        }
    }
    if (!lib) {
        usage(stderr);
        return 2;
    }
    if (quick) {
        if (!have_rounds)
            rounds = 3;
        if (!have_ops)
            ops = 200000;
    }

    /* Absolute paths: children run with the same cwd, but LD_PRELOAD and
     * the report folder must not depend on it. */
    char libpath[PATH_MAX], benchpath[PATH_MAX], self[PATH_MAX], cmdpath[PATH_MAX];
    if (!realpath(lib, libpath)) {
        fprintf(stderr, "bench_run: %s: %s\n", lib, strerror(errno));
        return 2;
    }
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        fprintf(stderr, "bench_run: /proc/self/exe: %s\n", strerror(errno));
        return 2;
    }
    self[sl] = '\0';
    if (bench) {
        if (!realpath(bench, benchpath)) {
            fprintf(stderr, "bench_run: %s: %s\n", bench, strerror(errno));
            return 2;
        }
    } else {
        snprintf(benchpath, sizeof benchpath, "%s", self);
        char *slash = strrchr(benchpath, '/');
        snprintf(slash + 1, sizeof benchpath - (size_t)(slash + 1 - benchpath), "malloc_heavy");
    }
    if (!command && access(benchpath, X_OK) != 0) {
        fprintf(stderr, "bench_run: %s: %s\n", benchpath, strerror(errno));
        return 2;
    }
    if (command && find_program(command[0], cmdpath, sizeof cmdpath) != 0) {
        fprintf(stderr, "bench_run: %s: not found\n", command[0]);
        return 2;
    }

    if (bench_mkdtemp("memkit-bench"))
        return 1;
    snprintf(reportdir, sizeof reportdir, "%s/reports", bench_tmpdir);
    mkdir(reportdir, 0700);
    atexit(cleanup);
    /* SIGINT, SIGTERM, SIGHUP, SIGPIPE: the child is killed, the temporary
     * folder removed, and the runner dies of the same signal. */
    bench_signals(cleanup);

    snprintf(preload_memkit, sizeof preload_memkit, "LD_PRELOAD=%s", libpath);
    snprintf(report_env, sizeof report_env, "MEMKIT_REPORT=%s/memkit.%%e.%%p.json", reportdir);
    snprintf(jeprof_env, sizeof jeprof_env,
             "MALLOC_CONF=prof:true,lg_prof_sample:19,prof_final:true,prof_prefix:%s/jeprof",
             reportdir);
    snprintf(heaptrack_out, sizeof heaptrack_out, "%s/heaptrack", reportdir);

    char path[PATH_MAX];
    const char *memusage_skip = NULL, *jemalloc_skip = NULL, *mimalloc_skip = NULL,
               *heaptrack_skip = NULL;
    if (find_lib("libmemusage.so", path, sizeof path) == 0)
        snprintf(preload_memusage, sizeof preload_memusage, "LD_PRELOAD=%s", path);
    else
        memusage_skip = "libmemusage.so not found (Debian: libc-devtools)";
    if (find_lib("libjemalloc.so.2", path, sizeof path) == 0)
        snprintf(preload_jemalloc, sizeof preload_jemalloc, "LD_PRELOAD=%s", path);
    else
        jemalloc_skip = "libjemalloc.so.2 not found (Debian: libjemalloc2)";
    if (find_lib("libmimalloc.so.2", path, sizeof path) == 0)
        snprintf(preload_mimalloc, sizeof preload_mimalloc, "LD_PRELOAD=%s", path);
    else
        mimalloc_skip = "libmimalloc.so.2 not found (Debian: libmimalloc2.0)";
    if (find_program("heaptrack", heaptrack_path, sizeof heaptrack_path) != 0)
        heaptrack_skip = "heaptrack not found (Debian: heaptrack)";

    struct config cfg[] = {
        { .key = "plain", .name = "plain", .expect = EXPECT_NOTHING },
        { .key = "memkit", .name = "memkit (defaults)", .env = { preload_memkit, report_env },
          .expect = EXPECT_REPORT, .output = OUT_FILES, .output_name = "report" },
        { .key = "report-off", .name = "memkit REPORT=off",
          .env = { preload_memkit, "MEMKIT_REPORT=off" }, .expect = EXPECT_NO_REPORT },
        { .key = "disable", .name = "memkit DISABLE=1",
          .env = { preload_memkit, report_env, "MEMKIT_DISABLE=1" }, .expect = EXPECT_NO_REPORT },
        { .key = "sample0", .name = "memkit SAMPLE=0 (no call sites)",
          .env = { preload_memkit, "MEMKIT_REPORT=off", "MEMKIT_SAMPLE=0" },
          .expect = EXPECT_NO_REPORT },
        { .key = "sample64k", .name = "memkit SAMPLE=64K",
          .env = { preload_memkit, "MEMKIT_REPORT=off", "MEMKIT_SAMPLE=64K" },
          .expect = EXPECT_NO_REPORT },
        { .key = "sample4k", .name = "memkit SAMPLE=4K",
          .env = { preload_memkit, "MEMKIT_REPORT=off", "MEMKIT_SAMPLE=4K" },
          .expect = EXPECT_NO_REPORT },
        { .key = "memkit-sample0", .name = "memkit SAMPLE=0 (no call sites)",
          .env = { preload_memkit, report_env, "MEMKIT_SAMPLE=0" }, .expect = EXPECT_REPORT,
          .output = OUT_FILES, .output_name = "report" },
        { .key = "memkit-sample64k", .name = "memkit SAMPLE=64K",
          .env = { preload_memkit, report_env, "MEMKIT_SAMPLE=64K" }, .expect = EXPECT_REPORT,
          .output = OUT_FILES, .output_name = "report" },
        { .key = "memusage", .name = "glibc libmemusage.so", .env = { preload_memusage },
          .expect = EXPECT_MEMUSAGE, .output = OUT_STDERR, .output_name = "summary on stderr",
          .skip = memusage_skip },
        { .key = "heaptrack", .name = "heaptrack", .expect = EXPECT_HEAPTRACK, .heaptrack = 1,
          .output = OUT_FILES, .output_name = ".zst", .skip = heaptrack_skip },
        { .key = "jemalloc", .name = "jemalloc (no prof)", .env = { preload_jemalloc },
          .skip = jemalloc_skip },
        { .key = "jeprof", .name = "jemalloc prof:true", .env = { preload_jemalloc, jeprof_env },
          .expect = EXPECT_JEPROF, .output = OUT_FILES, .output_name = "heap dump",
          .base = "jemalloc", .skip = jemalloc_skip },
        { .key = "mimalloc", .name = "mimalloc (no stats)", .env = { preload_mimalloc },
          .skip = mimalloc_skip },
        { .key = "mistats", .name = "mimalloc SHOW_STATS=1",
          .env = { preload_mimalloc, "MIMALLOC_SHOW_STATS=1" }, .expect = EXPECT_MISTATS,
          .output = OUT_STDERR, .output_name = "stats on stderr", .base = "mimalloc",
          .skip = mimalloc_skip },
    };
    const int nall = (int)(sizeof cfg / sizeof cfg[0]);

    /* The selected configurations, in the order asked. */
    struct config *sel[sizeof cfg / sizeof cfg[0]];
    int ncfg = 0;
    {
        char list[512];
        snprintf(list, sizeof list, "%s", configs);
        for (char *save, *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
            struct config *c = find_config(cfg, nall, k);
            if (!c) {
                fprintf(stderr, "bench_run: --configs: no configuration \"%s\"\n", k);
                return 2;
            }
            if (!c->selected++)
                sel[ncfg++] = c;
        }
        if (!ncfg) {
            usage(stderr);
            return 2;
        }
    }

    char ops_arg[32], threads_arg[32];
    snprintf(ops_arg, sizeof ops_arg, "%lld", ops);
    snprintf(threads_arg, sizeof threads_arg, "%lld", threads);
    char *bench_argv[8] = { benchpath, ops_arg, threads_arg, (char *)sizes, NULL };
    char **work_argv = bench_argv;
    char *cmd_argv[MAX_ARGS];
    if (command) {
        int n = 0;
        cmd_argv[n++] = cmdpath;
        for (char **c = command + 1; *c && n < MAX_ARGS - 1; c++)
            cmd_argv[n++] = *c;
        cmd_argv[n] = NULL;
        work_argv = cmd_argv;
    }
    /* The same under heaptrack -o FILE. */
    char *ht_argv[MAX_ARGS + 4];
    {
        int n = 0;
        ht_argv[n++] = heaptrack_path;
        ht_argv[n++] = (char *)"-o";
        ht_argv[n++] = heaptrack_out;
        for (char **c = work_argv; *c; c++)
            ht_argv[n++] = *c;
        ht_argv[n] = NULL;
    }

    /* jemalloc answers a profiling option it was built without with
     * "<jemalloc>: Invalid conf pair" on stderr: try it once first. */
    struct config *jeprof = find_config(cfg, nall, "jeprof");
    if (jeprof->selected && !jeprof->skip) {
        char one_arg[] = "--one-malloc";
        char *probe_argv[] = { self, one_arg, NULL };
        struct run r;
        run_child(probe_argv, config_env(jeprof), WANT_NOTHING, 0, &r);
        struct outputs o;
        collect_reports(&o);
        if (!r.ok || r.stderr_text[0] || !o.jeprof) {
            note("jemalloc profiling probe: %s", r.ok ? r.stderr_text : r.error);
            jeprof->skip = "this libjemalloc has no profiling (or would not load)";
        }
    }

    char workload[1024] = "";
    for (char **a = command ? command : work_argv; *a; a++) {
        size_t l = strlen(workload);
        const char *shown = a == work_argv && !command ? "malloc_heavy" : *a;
        const char *q = strpbrk(shown, " \t\"$;&|<>(){}*?") ? "'" : "";
        snprintf(workload + l, sizeof workload - l, "%s%s%s%s", l ? " " : "", q, shown, q);
    }
    char envtext[512] = "";
    for (int i = 0; i < n_user_env; i++) {
        size_t l = strlen(envtext);
        snprintf(envtext + l, sizeof envtext - l, "%s ", user_env[i]);
    }
    double load_start = loadavg();
    if (markdown) {
        printf("Workload: `%s%s`; %d round%s, configurations alternating (the first one rotates "
               "each round)%s.\n\n",
               envtext, workload, rounds, rounds == 1 ? "" : "s", quick ? "; quick mode" : "");
    } else {
        printf("%s%s, %d round%s (configurations alternate), %s\n", envtext, workload, rounds,
               rounds == 1 ? "" : "s", quick ? "quick mode" : "full");
        printf("bench: %s\nmemkit: %s\n", command ? cmdpath : benchpath, libpath);
        printf("%ld CPUs online, load average %.2f at start\n", sysconf(_SC_NPROCESSORS_ONLN),
               load_start);
    }
    fflush(stdout);

    enum want want = command ? WANT_NOTHING : WANT_NUMBER;

    /* One untimed run so the first configuration does not pay for a cold
     * page cache. */
    struct run r;
    run_child(work_argv, config_env(NULL), want, 0, &r);
    if (!r.ok)
        problem("warm-up run: %s", r.error);

    for (int round = 0; round < rounds; round++) {
        show_progress("round %d/%d", round + 1, rounds);
        for (int k = 0; k < ncfg; k++) {
            struct config *c = sel[(k + round) % ncfg];
            if (c->skip)
                continue;
            if (c->heaptrack)
                run_child(ht_argv, config_env(c), command ? WANT_NOTHING : WANT_NUMBER_LINE, 0,
                          &r);
            else
                run_child(work_argv, config_env(c), want, 0, &r);
            struct outputs o;
            collect_reports(&o);
            if (!r.ok) {
                problem("%s: %s", c->name, r.error);
                continue;
            }
            c->t[c->n] = command ? r.wall : r.seconds;
            c->wall[c->n] = r.wall;
            c->cpu[c->n] = r.cpu;
            c->rss[c->n] = (double)r.rss_kib;
            c->out[c->n] = c->output == OUT_FILES ? (double)o.bytes
                           : c->output == OUT_STDERR ? (double)r.stderr_bytes
                                                     : 0;
            c->n++;
            if (c->expect == EXPECT_REPORT && (command ? o.memkit_reports < 1 : o.memkit_reports != 1))
                problem("%s: %d reports written, expected %s", c->name, o.memkit_reports,
                        command ? "at least 1" : "1");
            else if (c->expect == EXPECT_REPORT && !command &&
                     o.alloc_calls < (unsigned long long)threads * (unsigned long long)ops)
                problem("%s: the report counts %llu alloc_calls, expected at least %llu",
                        c->name, o.alloc_calls,
                        (unsigned long long)threads * (unsigned long long)ops);
            else if (c->expect != EXPECT_REPORT && o.memkit_reports)
                problem("%s: %d memkit report(s) written, expected none", c->name,
                        o.memkit_reports);
            /* A command may close its stderr before exit (coreutils' sort
             * does, at exit, before these tools write their summary):
             * then there is nothing to see, and the table says so. */
            if (command && c->output == OUT_STDERR && r.stderr_bytes == 0) {
                if (!c->stderr_noted++)
                    note("%s: nothing on stderr: %s closed it before the summary", c->name,
                         command[0]);
            } else if (c->expect == EXPECT_MEMUSAGE &&
                       !strstr(r.stderr_text, "Memory usage summary")) {
                problem("%s: no memusage summary on stderr: was it loaded? (%.200s)", c->name,
                        r.stderr_text);
            } else if (c->expect == EXPECT_MISTATS && !strstr(r.stderr_text, "heap stats")) {
                problem("%s: no mimalloc statistics on stderr: was it loaded? (%.200s)", c->name,
                        r.stderr_text);
            }
            if (c->expect == EXPECT_HEAPTRACK && o.heaptrack != 1)
                problem("%s: %d heaptrack files written, expected 1", c->name, o.heaptrack);
            if (c->expect == EXPECT_JEPROF && o.jeprof < 1)
                problem("%s: no jemalloc heap dump written", c->name);
            if (c->output != OUT_STDERR && !c->heaptrack && r.stderr_text[0] && !c->stderr_noted++)
                note("%s: the benchmark wrote on stderr: %.300s", c->name, r.stderr_text);
        }
    }
    end_progress();
    double load_end = loadavg();

    /* ---- the time table ---- */
    struct config *plain = find_config(cfg, nall, "plain");
    int have_plain = plain->selected && plain->n;
    double plain_t = have_plain ? median(plain->t, plain->n) : NAN;
    double plain_wall = have_plain ? median(plain->wall, plain->n) : NAN;
    double plain_cpu = have_plain ? median(plain->cpu, plain->n) : NAN;
    if (markdown) {
        if (command)
            printf("| configuration | CPU s (median) | × plain | wall s (median) | min s | × plain | "
                   "peak RSS MiB | output (median size) |\n"
                   "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        else
            printf("| configuration | CPU s (median) | × plain | malloc_heavy's time s (median) | "
                   "min s | × plain | wall s (median) | × plain | peak RSS MiB | "
                   "output (median size) |\n"
                   "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    } else {
        printf("\n%-34s %8s %7s %9s %9s %7s %9s %7s %8s  %s\n", "configuration", "CPU s", "ratio",
               command ? "wall s" : "median s", "min s", "ratio", command ? "" : "wall s",
               command ? "" : "ratio", "peak MiB", "output");
    }
    char base_notes[1024] = "";
    for (int k = 0; k < ncfg; k++) {
        struct config *c = sel[k];
        if (c->skip || c->n < rounds) {
            char why[160];
            if (c->skip)
                snprintf(why, sizeof why, "skipped: %s", c->skip);
            else
                snprintf(why, sizeof why, "failed in %d of %d rounds", rounds - c->n, rounds);
            if (markdown)
                printf("| %s | %s |%s\n", c->name, why,
                       command ? " | | | | | |" : " | | | | | | | |");
            else
                printf("%-34s %s\n", c->name, why);
            continue;
        }
        double m = median(c->t, c->n), w = median(c->wall, c->n), u = median(c->cpu, c->n);
        char ratio[96], wratio[96], cratio[96], outtext[64] = "-", hb[32];
        snprintf(ratio, sizeof ratio, "%.3f", m / plain_t);
        snprintf(wratio, sizeof wratio, "%.3f", w / plain_wall);
        snprintf(cratio, sizeof cratio, "%.3f", u / plain_cpu);
        struct config *b = c->base ? find_config(cfg, nall, c->base) : NULL;
        if (b && !b->skip && b->n && !markdown) {
            snprintf(base_notes + strlen(base_notes), sizeof base_notes - strlen(base_notes),
                     "%s: %.2f× %s alone (CPU %.2f×, wall %.2f×)\n", c->name,
                     m / median(b->t, b->n), c->base, u / median(b->cpu, b->n),
                     w / median(b->wall, b->n));
        } else if (b && !b->skip && b->n) {
            size_t l = strlen(ratio);
            snprintf(ratio + l, sizeof ratio - l, " (%.2f× %s)", m / median(b->t, b->n), c->base);
            l = strlen(wratio);
            snprintf(wratio + l, sizeof wratio - l, " (%.2f× %s)", w / median(b->wall, b->n),
                     c->base);
            l = strlen(cratio);
            snprintf(cratio + l, sizeof cratio - l, " (%.2f× %s)", u / median(b->cpu, b->n),
                     c->base);
        }
        if (c->output == OUT_STDERR && median(c->out, c->n) == 0)
            snprintf(outtext, sizeof outtext, "none: the program closed stderr first");
        else if (c->output != OUT_NONE)
            snprintf(outtext, sizeof outtext, "%s %s", human_bytes(median(c->out, c->n), hb,
                     sizeof hb), c->output_name);
        double rss_mib = median(c->rss, c->n) / 1024.0;
        if (markdown && command)
            printf("| %s | %.3f | %s | %.3f | %.3f | %s | %.1f | %s |\n", c->name, u, cratio, m,
                   minimum(c->t, c->n), ratio, rss_mib, outtext);
        else if (markdown)
            printf("| %s | %.3f | %s | %.4f | %.4f | %s | %.3f | %s | %.1f | %s |\n", c->name, u,
                   cratio, m, minimum(c->t, c->n), ratio, w, wratio, rss_mib, outtext);
        else if (command)
            printf("%-34s %8.3f %7s %9.4f %9.4f %7s %9s %7s %8.1f  %s\n", c->name, u, cratio, m,
                   minimum(c->t, c->n), ratio, "", "", rss_mib, outtext);
        else
            printf("%-34s %8.3f %7s %9.4f %9.4f %7s %9.4f %7s %8.1f  %s\n", c->name, u, cratio,
                   m, minimum(c->t, c->n), ratio, w, wratio, rss_mib, outtext);
    }
    if (markdown)
        printf("\nCPU: user + system time of the process and of the children it waited for "
               "(heaptrack's interpreter and compressor included), from wait4: less sensitive "
               "than wall time to waiting for a CPU on a busy machine. %s: fork to exit of "
               "the whole process, start-up and the tool's own output at exit included. Peak "
               "RSS: ru_maxrss of the largest process of the tree. Ratios: of the medians. Load "
               "average %.2f at the start, %.2f at the end.\n",
               command ? "Wall" : "malloc_heavy's time: what it prints, thread creation to last "
               "join; wall",
               load_start, load_end);
    else
        printf("%s(CPU: user+system of the process tree; %s; load average %.2f at the end)\n",
               base_notes,
               command ? "wall time of the whole command" : "time printed by malloc_heavy, then "
               "wall time of the process",
               load_end);

    if (no_rss || command)
        return bench_exit_status();

    /* ---- resident memory ---- */
    int rss_runs = quick ? 1 : 5;
    char *true_argv[] = { (char *)"/bin/true", NULL };
    char one_arg[] = "--one-malloc";
    char *one_argv[] = { self, one_arg, NULL };
    struct { const char *name; char **argv; } progs[] = {
        { "/bin/true", true_argv },
        { "one malloc (bench_run --one-malloc)", one_argv },
        { "malloc_heavy", bench_argv },
    };
    struct config *rss_cfg[3] = { NULL, find_config(cfg, nall, "memkit"),
                                  find_config(cfg, nall, "report-off") };
    int traced_all = 1;
    if (markdown)
        printf("\nPeak RSS (KiB): plain, under memkit, under memkit with MEMKIT_REPORT=off; "
               "+anon is memkit's private memory.\n\n"
               "| program | plain | memkit | +memkit | REPORT=off | +REPORT=off | +anon |\n"
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    else
        printf("\n%-38s %9s %9s %9s %9s %9s %9s\n", "peak RSS (KiB)", "plain", "memkit",
               "+memkit", "rep=off", "+rep=off", "+anon");
    for (size_t p = 0; p < sizeof progs / sizeof progs[0]; p++) {
        double kib[3] = { 0, 0, 0 }, anon[3] = { 0, 0, 0 };
        int ok = 1;
        for (int e = 0; e < 3; e++) {
            double v[MAX_ROUNDS], a[MAX_ROUNDS];
            for (int i = 0; i < rss_runs; i++) {
                run_child(progs[p].argv, config_env(rss_cfg[e]),
                          progs[p].argv == bench_argv ? WANT_NUMBER : WANT_NOTHING, 1, &r);
                struct outputs o;
                collect_reports(&o);
                if (!r.ok)
                    problem("peak RSS of %s: %s", progs[p].name, r.error);
                ok &= r.ok;
                traced_all &= r.traced;
                v[i] = (double)r.rss_kib;
                a[i] = (double)r.anon_kib;
            }
            kib[e] = median(v, rss_runs);
            anon[e] = median(a, rss_runs);
        }
        if (!ok) {
            printf(markdown ? "| %s | failed | | | | | |\n" : "%-38s failed\n", progs[p].name);
            continue;
        }
        char anon_diff[32] = "-";
        if (anon[0] >= 0 && anon[1] >= 0)
            snprintf(anon_diff, sizeof anon_diff, "%+.0f", anon[1] - anon[0]);
        printf(markdown ? "| %s | %.0f | %.0f | %+.0f | %.0f | %+.0f | %s |\n"
                        : "%-38s %9.0f %9.0f %+9.0f %9.0f %+9.0f %9s\n",
               progs[p].name, kib[0], kib[1], kib[1] - kib[0], kib[2], kib[2] - kib[0],
               anon_diff);
    }
    printf(markdown ? "\n(%s, median of %d run%s; +anon: RssAnon at exit under memkit minus "
                      "plain; the rest is shared file pages.)\n"
                    : "(%s, median of %d run%s; +anon: memkit's private memory,\n"
                      " RssAnon at exit under memkit minus plain; the rest is shared file pages)\n",
           traced_all ? "VmHWM of the process when it exits" : "ru_maxrss from wait4",
           rss_runs, rss_runs == 1 ? "" : "s");

    return bench_exit_status();
}
