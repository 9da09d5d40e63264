/* bench_run.c — runs malloc_heavy plain, under memkit and under other
 * measuring allocators, and prints what each costs.
 *
 *   bench_run [--quick] [--rounds N] [--ops N] [--bench PATH] LIBMEMKIT.so
 *
 * Table 1: malloc_heavy's own wall time (median and minimum of N rounds,
 * configurations run alternately, the first one rotating each round) for:
 *   plain                 nothing preloaded
 *   memkit                LD_PRELOAD=libmemkit.so, default options, the
 *                         report written to a private temporary folder
 *   memkit REPORT=off     no report
 *   memkit DISABLE=1      memkit loaded, passing every call through
 *   glibc memusage        libmemusage.so (skipped if absent)
 *   jemalloc              libjemalloc.so.2, no profiling (reference for the next)
 *   jemalloc prof         MALLOC_CONF=prof:true,lg_prof_sample:19 (skipped if
 *                         jemalloc is absent or built without profiling)
 * Table 2: peak resident memory (VmHWM read when the process exits, through
 * ptrace; ru_maxrss from wait4 where ptrace is not allowed, which also counts
 * the runner's own anonymous pages copied by fork) of /bin/true, a program
 * doing one malloc, and malloc_heavy: plain, under memkit, under memkit with
 * MEMKIT_REPORT=off, and +anon, memkit's private memory (RssAnon at exit).
 *
 * Exit status: 0 when every run succeeded; 1 when a child failed, printed
 * anything but one number on stdout, or memkit did not do what its options
 * say (no report under the defaults, a report when told not to write one,
 * a report that lacks the calls made); 2 for a usage error. Timings are
 * never judged. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_ROUNDS   101
#define MAX_ENV      512
#define CHILD_TIMEOUT_S 300
#define BENCH_THREADS "2"

/* ---- small helpers ---------------------------------------------------------- */

static int failures;   /* runs that went wrong; the exit status */
static int progress;   /* a "round i/n" line is open on stderr (a terminal) */

static void end_progress(void)
{
    if (progress)
        fputc('\n', stderr);
    progress = 0;
}

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    end_progress();
    fputs("bench_run: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    end_progress();
    fputs("bench_run: note: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[MAX_ROUNDS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double minimum(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Reads at most cap-1 bytes of a file; -1 if it cannot be opened. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* The 1-minute load average, to tell a quiet machine from a busy one. */
static double loadavg(void)
{
    char buf[128];
    return slurp("/proc/loadavg", buf, sizeof buf) > 0 ? strtod(buf, NULL) : NAN;
}

/* ---- running one child -------------------------------------------------------- */

static volatile sig_atomic_t alarm_fired, stop_signal;
static void on_alarm(int sig) { (void)sig; alarm_fired = 1; }
/* SIGINT, SIGTERM, SIGHUP, SIGPIPE: the child is killed, the temporary
 * folder removed, and the runner dies of the same signal. */
static void on_stop(int sig) { stop_signal = sig; }
static void cleanup(void);
static void stop_if_asked(void)
{
    int sig = stop_signal;
    if (!sig)
        return;
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

static char tmpdir[PATH_MAX - 64];     /* private folder, removed at the end */
static char reportdir[PATH_MAX];    /* MEMKIT_REPORT points here */
static char stderr_path[PATH_MAX];  /* the last child's stderr */

struct run {
    int ok;              /* exited 0 (and, if asked, printed one number) */
    double seconds;      /* the number printed */
    long rss_kib;        /* VmHWM at exit (traced) or ru_maxrss */
    long anon_kib;       /* RssAnon at exit (traced), else -1 */
    int traced;          /* rss_kib is VmHWM */
    char stderr_text[512];
    char error[1024];    /* what went wrong when !ok */
};

static void run_error(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_error(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    r->ok = 0;
}

/* VmHWM (peak resident) and RssAnon (private memory now) of a process. */
static void read_status_kib(pid_t pid, long *hwm, long *anon)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    *hwm = *anon = -1;
    if (slurp(path, buf, sizeof buf) < 0)
        return;
    const char *p = strstr(buf, "\nVmHWM:");
    if (p)
        *hwm = strtol(p + 7, NULL, 10);
    p = strstr(buf, "\nRssAnon:");
    if (p)
        *anon = strtol(p + 9, NULL, 10);
}

/* Waits for the child, forwarding signals and catching its exit event when
 * traced. Returns the wait status, or -1 if it had to be killed. */
static int wait_child(pid_t pid, int traced, struct rusage *ru, long *hwm, long *anon)
{
    int status, opts_set = 0, killed = 0;
    alarm_fired = 0;
    alarm(CHILD_TIMEOUT_S);
    for (;;) {
        pid_t w = wait4(pid, &status, 0, ru);
        if (w < 0) {
            if (errno == EINTR && (alarm_fired || stop_signal) && !killed) {
                kill(pid, SIGKILL);
                killed = 1;
            }
            if (errno == EINTR)
                continue;
            alarm(0);
            return -1;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status))
            break;
        if (!WIFSTOPPED(status) || !traced)
            continue;
        int sig = WSTOPSIG(status), event = status >> 16;
        if (!opts_set && sig == SIGTRAP) {   /* stopped after execve */
            ptrace(PTRACE_SETOPTIONS, pid, 0,
                   (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
            opts_set = 1;
            sig = 0;
        } else if (event == PTRACE_EVENT_EXIT) {
            read_status_kib(pid, hwm, anon);
            sig = 0;
        } else if (sig == SIGTRAP) {
            sig = 0;
        }
        ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig);
    }
    alarm(0);
    return killed ? -1 : status;
}

/* Runs argv with env. want_number: stdout must be exactly one number (the
 * benchmark's time); otherwise stdout is discarded. trace: measure VmHWM. */
static void run_child(char *const argv[], char *const env[], int want_number, int trace,
                      struct run *r)
{
    memset(r, 0, sizeof *r);
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        run_error(r, "pipe: %s", strerror(errno));
        return;
    }
    int errfd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (errfd < 0) {
        run_error(r, "%s: %s", stderr_path, strerror(errno));
        close(out[0]);
        close(out[1]);
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(errfd, STDERR_FILENO);
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, STDIN_FILENO);
        /* The reports folder is the cwd too, so a report written to the
         * default relative path is seen (and removed) as well. */
        if (chdir(reportdir) != 0)
            _exit(125);
        if (trace && ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
            _exit(126);
        execve(argv[0], argv, env);
        dprintf(STDERR_FILENO, "execve %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(errfd);
    if (pid < 0) {
        run_error(r, "fork: %s", strerror(errno));
        close(out[0]);
        return;
    }

    struct rusage ru;
    long hwm = -1, anon = -1;
    memset(&ru, 0, sizeof ru);
    int status = wait_child(pid, trace, &ru, &hwm, &anon);

    char text[4096];
    size_t len = 0;
    ssize_t n;
    fcntl(out[0], F_SETFL, O_NONBLOCK);   /* a grandchild may still hold the pipe */
    while (len < sizeof text - 1 && (n = read(out[0], text + len, sizeof text - 1 - len)) > 0)
        len += (size_t)n;
    text[len] = '\0';
    close(out[0]);
    if (slurp(stderr_path, r->stderr_text, sizeof r->stderr_text) < 0)
        r->stderr_text[0] = '\0';

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
        run_child(argv, env, want_number, 0, r);
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
    if (want_number) {
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (end == text || errno || !isfinite(v) || v < 0 || strcmp(end, "\n") != 0) {
            run_error(r, "%s: expected one number on stdout, got \"%.200s\"", argv[0], text);
            return;
        }
        r->seconds = v;
    }
    r->ok = 1;
}

/* ---- environments ------------------------------------------------------------- */

/* The runner's environment less anything that would change what a child
 * measures (preloads, allocator and memkit options, meson's
 * MALLOC_PERTURB_), plus extra (NULL-terminated). */
static char **make_env(const char *const *extra)
{
    static char *env[MAX_ENV + 16];
    int n = 0;
    for (char **e = environ; *e && n < MAX_ENV; e++) {
        if (starts_with(*e, "LD_PRELOAD=") || starts_with(*e, "MEMKIT_") ||
            starts_with(*e, "MALLOC_") || starts_with(*e, "MEMUSAGE_"))
            continue;
        env[n++] = *e;
    }
    for (int i = 0; extra && extra[i]; i++)
        env[n++] = (char *)extra[i];
    env[n] = NULL;
    return env;
}

/* ---- memkit's reports ---------------------------------------------------------- */

/* Counts the reports in reportdir, reads alloc_calls from the first one,
 * and empties the folder. */
static int collect_reports(unsigned long long *alloc_calls)
{
    int reports = 0;
    *alloc_calls = 0;
    DIR *d = opendir(reportdir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", reportdir, de->d_name);
        size_t nl = strlen(de->d_name);
        if (starts_with(de->d_name, "memkit.") && nl > 5 &&
            !strcmp(de->d_name + nl - 5, ".json")) {
            static char buf[1 << 20];
            if (reports++ == 0 && slurp(path, buf, sizeof buf) > 0) {
                const char *t = strstr(buf, "\"totals\"");
                const char *a = t ? strstr(t, "\"alloc_calls\"") : NULL;
                if (a) {
                    a += strlen("\"alloc_calls\"");
                    while (*a == ' ' || *a == ':' || *a == '\n' || *a == '\t')
                        a++;
                    *alloc_calls = strtoull(a, NULL, 10);
                }
            }
        }
        unlink(path);
    }
    closedir(d);
    return reports;
}

/* ---- configurations ------------------------------------------------------------- */

enum expect { EXPECT_NOTHING, EXPECT_REPORT, EXPECT_NO_REPORT, EXPECT_MEMUSAGE };

struct config {
    const char *name;
    const char *env[6];     /* extra environment, NULL-terminated */
    enum expect expect;
    const char *skip;       /* why the row is skipped, or NULL */
    double t[MAX_ROUNDS];
    int n;
    int stderr_noted;
};

static char preload_memkit[PATH_MAX + 16], preload_memusage[PATH_MAX + 16],
    preload_jemalloc[PATH_MAX + 16], report_env[PATH_MAX + 32];

/* The folder the C library was loaded from (e.g. /lib/x86_64-linux-gnu). */
static void libc_dir(char *out, size_t cap)
{
    Dl_info info;
    out[0] = '\0';
    if (dladdr((void *)printf, &info) && info.dli_fname) {
        snprintf(out, cap, "%s", info.dli_fname);
        char *slash = strrchr(out, '/');
        if (slash)
            *slash = '\0';
        else
            out[0] = '\0';
    }
}

/* First readable path among the folder of libc and the usual ones. */
static int find_lib(const char *name, char *out, size_t cap)
{
    char dir[PATH_MAX];
    libc_dir(dir, sizeof dir);
    const char *dirs[] = { dir, "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
                           "/usr/lib64", "/usr/lib", "/lib64", "/lib" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i][0])
            continue;
        snprintf(out, cap, "%s/%s", dirs[i], name);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

/* ---- main --------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_run [--quick] [--rounds N] [--ops N] [--bench PATH] LIBMEMKIT.so\n"
            "  --quick      3 rounds of 200000 operations per thread (a smoke test)\n"
            "  --rounds N   rounds per configuration, median reported (default 7)\n"
            "  --ops N      malloc_heavy operations per thread (default 4000000)\n"
            "  --bench PATH the malloc_heavy program (default: beside bench_run)\n");
}

static void cleanup(void)
{
    if (!tmpdir[0])
        return;
    fflush(stdout);
    collect_reports(&(unsigned long long){ 0 });
    rmdir(reportdir);
    unlink(stderr_path);
    rmdir(tmpdir);
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

    int rounds = 7, quick = 0;
    long long ops = 4000000;
    const char *bench = NULL, *lib = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--rounds") && i + 1 < argc) {
            rounds = (int)strtol(argv[++i], &end, 10);
            if (*end || rounds < 1 || rounds > MAX_ROUNDS) {
                fprintf(stderr, "bench_run: --rounds takes 1..%d\n", MAX_ROUNDS);
                return 2;
            }
        } else if (!strcmp(a, "--ops") && i + 1 < argc) {
            ops = strtoll(argv[++i], &end, 10);
            if (*end || ops < 0) {
                fprintf(stderr, "bench_run: --ops takes a count\n");
                return 2;
            }
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
        int explicit_rounds = 0, explicit_ops = 0;
        for (int i = 1; i < argc; i++) {
            explicit_rounds |= !strcmp(argv[i], "--rounds");
            explicit_ops |= !strcmp(argv[i], "--ops");
        }
        if (!explicit_rounds)
            rounds = 3;
        if (!explicit_ops)
            ops = 200000;
    }

    /* Absolute paths: children run with the same cwd, but LD_PRELOAD and
     * the report folder must not depend on it. */
    char libpath[PATH_MAX], benchpath[PATH_MAX], self[PATH_MAX];
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
    if (access(benchpath, X_OK) != 0) {
        fprintf(stderr, "bench_run: %s: %s\n", benchpath, strerror(errno));
        return 2;
    }

    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/memkit-bench.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "bench_run: mkdtemp %s: %s\n", tmpdir, strerror(errno));
        return 1;
    }
    snprintf(reportdir, sizeof reportdir, "%s/reports", tmpdir);
    snprintf(stderr_path, sizeof stderr_path, "%s/stderr", tmpdir);
    mkdir(reportdir, 0700);
    atexit(cleanup);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;   /* no SA_RESTART: wait4 returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);

    snprintf(preload_memkit, sizeof preload_memkit, "LD_PRELOAD=%s", libpath);
    snprintf(report_env, sizeof report_env, "MEMKIT_REPORT=%s/memkit.%%e.%%p.json", reportdir);

    char path[PATH_MAX];
    const char *memusage_skip = NULL, *jemalloc_skip = NULL, *jeprof_skip = NULL;
    if (find_lib("libmemusage.so", path, sizeof path) == 0)
        snprintf(preload_memusage, sizeof preload_memusage, "LD_PRELOAD=%s", path);
    else
        memusage_skip = "libmemusage.so not found (Debian: libc-devtools)";
    if (find_lib("libjemalloc.so.2", path, sizeof path) == 0)
        snprintf(preload_jemalloc, sizeof preload_jemalloc, "LD_PRELOAD=%s", path);
    else
        jemalloc_skip = jeprof_skip = "libjemalloc.so.2 not found (Debian: libjemalloc2)";

    struct config cfg[] = {
        { .name = "plain", .expect = EXPECT_NOTHING },
        { .name = "memkit (defaults)", .env = { preload_memkit, report_env }, .expect = EXPECT_REPORT },
        { .name = "memkit REPORT=off", .env = { preload_memkit, "MEMKIT_REPORT=off" },
          .expect = EXPECT_NO_REPORT },
        { .name = "memkit DISABLE=1", .env = { preload_memkit, report_env, "MEMKIT_DISABLE=1" },
          .expect = EXPECT_NO_REPORT },
        { .name = "glibc libmemusage.so", .env = { preload_memusage }, .expect = EXPECT_MEMUSAGE,
          .skip = memusage_skip },
        { .name = "jemalloc (no prof)", .env = { preload_jemalloc }, .skip = jemalloc_skip },
        { .name = "jemalloc prof:true,lg_prof_sample:19",
          .env = { preload_jemalloc, "MALLOC_CONF=prof:true,lg_prof_sample:19" },
          .skip = jeprof_skip },
    };
    const int ncfg = (int)(sizeof cfg / sizeof cfg[0]);

    char ops_arg[32];
    snprintf(ops_arg, sizeof ops_arg, "%lld", ops);
    char *bench_argv[] = { benchpath, ops_arg, (char *)BENCH_THREADS, NULL };

    /* jemalloc answers a profiling option it was built without with
     * "<jemalloc>: Invalid conf pair" on stderr: try it once first. */
    if (!jeprof_skip) {
        char small[] = "1000";
        char *probe_argv[] = { benchpath, small, (char *)"1", NULL };
        struct run r;
        run_child(probe_argv, make_env(cfg[ncfg - 1].env), 1, 0, &r);
        if (!r.ok || r.stderr_text[0]) {
            note("jemalloc profiling probe: %s", r.ok ? r.stderr_text : r.error);
            cfg[ncfg - 1].skip = "this libjemalloc has no profiling (or would not load)";
        }
    }

    printf("malloc_heavy %s ops x %s threads, %d rounds (configurations alternate), %s\n",
           ops_arg, BENCH_THREADS, rounds, quick ? "quick mode" : "full");
    printf("bench: %s\nmemkit: %s\n", benchpath, libpath);
    printf("%ld CPUs online, load average %.2f at start\n", sysconf(_SC_NPROCESSORS_ONLN),
           loadavg());
    fflush(stdout);

    /* One untimed run so the first configuration does not pay for a cold
     * page cache. */
    struct run r;
    run_child(bench_argv, make_env(NULL), 1, 0, &r);
    if (!r.ok)
        problem("warm-up run: %s", r.error);

    for (int round = 0; round < rounds; round++) {
        if (isatty(STDERR_FILENO)) {
            fprintf(stderr, "\rbench_run: round %d/%d", round + 1, rounds);
            progress = 1;
        }
        for (int k = 0; k < ncfg; k++) {
            struct config *c = &cfg[(k + round) % ncfg];
            if (c->skip)
                continue;
            run_child(bench_argv, make_env(c->env), 1, 0, &r);
            unsigned long long calls;
            int reports = collect_reports(&calls);
            if (!r.ok) {
                problem("%s: %s", c->name, r.error);
                continue;
            }
            c->t[c->n++] = r.seconds;
            if (c->expect == EXPECT_REPORT && reports != 1)
                problem("%s: %d reports written, expected 1", c->name, reports);
            else if (c->expect == EXPECT_REPORT && calls < 2ull * (unsigned long long)ops)
                problem("%s: the report counts %llu alloc_calls, expected at least %llu",
                        c->name, calls, 2ull * (unsigned long long)ops);
            else if (c->expect != EXPECT_REPORT && reports)
                problem("%s: %d memkit report(s) written, expected none", c->name, reports);
            if (c->expect == EXPECT_MEMUSAGE && !strstr(r.stderr_text, "Memory usage summary"))
                problem("%s: no memusage summary on stderr: was it loaded? (%.200s)", c->name,
                        r.stderr_text);
            if (c->expect != EXPECT_MEMUSAGE && r.stderr_text[0] && !c->stderr_noted++)
                note("%s: the benchmark wrote on stderr: %.300s", c->name, r.stderr_text);
        }
    }
    end_progress();
    double load_end = loadavg();

    double plain_median = cfg[0].n ? median(cfg[0].t, cfg[0].n) : NAN;
    printf("\n%-38s %9s %9s %8s\n", "configuration", "median s", "min s", "ratio");
    for (int k = 0; k < ncfg; k++) {
        struct config *c = &cfg[k];
        if (c->skip) {
            printf("%-38s skipped: %s\n", c->name, c->skip);
        } else if (c->n < rounds) {
            printf("%-38s failed in %d of %d rounds\n", c->name, rounds - c->n, rounds);
        } else {
            double m = median(c->t, c->n);
            printf("%-38s %9.4f %9.4f %8.3f\n", c->name, m, minimum(c->t, c->n), m / plain_median);
        }
    }
    printf("(wall time printed by malloc_heavy; load average %.2f at the end)\n", load_end);

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
    const char *const *envs[] = { NULL, cfg[1].env, cfg[2].env };
    int traced_all = 1;
    printf("\n%-38s %9s %9s %9s %9s %9s %9s\n", "peak RSS (KiB)", "plain", "memkit", "+memkit",
           "rep=off", "+rep=off", "+anon");
    for (size_t p = 0; p < sizeof progs / sizeof progs[0]; p++) {
        double kib[3] = { 0, 0, 0 }, anon[3] = { 0, 0, 0 };
        int ok = 1;
        for (int e = 0; e < 3; e++) {
            double v[MAX_ROUNDS], a[MAX_ROUNDS];
            for (int i = 0; i < rss_runs; i++) {
                run_child(progs[p].argv, make_env(envs[e]), progs[p].argv == bench_argv, 1, &r);
                unsigned long long calls;
                collect_reports(&calls);
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
            printf("%-38s failed\n", progs[p].name);
            continue;
        }
        char anon_diff[32] = "-";
        if (anon[0] >= 0 && anon[1] >= 0)
            snprintf(anon_diff, sizeof anon_diff, "%+.0f", anon[1] - anon[0]);
        printf("%-38s %9.0f %9.0f %+9.0f %9.0f %+9.0f %9s\n", progs[p].name, kib[0], kib[1],
               kib[1] - kib[0], kib[2], kib[2] - kib[0], anon_diff);
    }
    printf("(%s, median of %d run%s; +anon: memkit's private memory,\n"
           " RssAnon at exit under memkit minus plain; the rest is shared file pages)\n",
           traced_all ? "VmHWM of the process when it exits" : "ru_maxrss from wait4",
           rss_runs, rss_runs == 1 ? "" : "s");

    if (failures)
        fprintf(stderr, "bench_run: %d problem%s (see above)\n", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}
