/* bench_common.c — what the benchmark runners share; see bench_common.h. */
#define _GNU_SOURCE
#include "bench_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_ENV 512

static const char *prog = "bench";
static int failures;   /* problem() calls so far; the exit status */
static int progress;   /* a progress line is open on stderr (a terminal) */

/* ---- messages ------------------------------------------------------------------ */

void bench_init(const char *name)
{
    prog = name;
}

void show_progress(const char *fmt, ...)
{
    if (!isatty(STDERR_FILENO))
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\r%s: ", prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    progress = 1;
}

void end_progress(void)
{
    if (progress)
        fputc('\n', stderr);
    progress = 0;
}

/* "<prog>: <label>...", on a line of its own after what stdout printed. */
static void say(const char *label, const char *fmt, va_list ap)
{
    fflush(stdout);
    end_progress();
    fprintf(stderr, "%s: %s", prog, label);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void problem(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("", fmt, ap);
    va_end(ap);
    failures++;
}

void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("note: ", fmt, ap);
    va_end(ap);
}

int bench_exit_status(void)
{
    fflush(stdout);
    if (failures)
        fprintf(stderr, "%s: %d problem%s (see above)\n", prog, failures,
                failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}

/* ---- numbers and text ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median(const double *v, int n)
{
    if (n <= 0)
        return NAN;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return NAN;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

double minimum(const double *v, int n)
{
    if (n <= 0)
        return NAN;
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

ssize_t slurp(const char *path, char *buf, size_t cap)
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

double loadavg(void)
{
    char buf[128];
    return slurp("/proc/loadavg", buf, sizeof buf) > 0 ? strtod(buf, NULL) : NAN;
}

/* ---- the children's world ---------------------------------------------------------- */

char **make_env(const char *const *extra)
{
    static const char *const drop[] = {
        "LD_PRELOAD=", "MEMKIT_", "MALLOC_", "MEMUSAGE_", "GLIBC_TUNABLES=", "MIMALLOC_",
        "TCMALLOC_", "_RJEM_MALLOC_CONF=", "JE_MALLOC_CONF=",
    };
    static char *env[MAX_ENV + 16];
    int n = 0;
    for (char **e = environ; *e && n < MAX_ENV; e++) {
        size_t d = 0;
        while (d < sizeof drop / sizeof drop[0] && !starts_with(*e, drop[d]))
            d++;
        if (d == sizeof drop / sizeof drop[0])
            env[n++] = *e;
    }
    for (int i = 0; extra && extra[i] && i < 16; i++)
        env[n++] = (char *)extra[i];
    env[n] = NULL;
    return env;
}

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

int find_lib(const char *name, char *out, size_t cap)
{
    char dir[PATH_MAX];
    libc_dir(dir, sizeof dir);
    const char *dirs[] = { dir, "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
                           "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                           "/usr/local/lib", "/lib64", "/lib" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i][0])
            continue;
        snprintf(out, cap, "%s/%s", dirs[i], name);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

char bench_tmpdir[PATH_MAX - 64], bench_stderr_path[PATH_MAX];

int bench_mkdtemp(const char *name)
{
    const char *base = getenv("TMPDIR");
    snprintf(bench_tmpdir, sizeof bench_tmpdir, "%s/%s.XXXXXX", base && *base ? base : "/tmp",
             name);
    if (!mkdtemp(bench_tmpdir)) {
        fprintf(stderr, "%s: mkdtemp %s: %s\n", prog, bench_tmpdir, strerror(errno));
        bench_tmpdir[0] = '\0';
        return -1;
    }
    snprintf(bench_stderr_path, sizeof bench_stderr_path, "%s/stderr", bench_tmpdir);
    return 0;
}

void bench_rmdtemp(void)
{
    if (!bench_tmpdir[0])
        return;
    unlink(bench_stderr_path);
    rmdir(bench_tmpdir);
    bench_tmpdir[0] = '\0';
}

static volatile sig_atomic_t alarm_fired;   /* the child's time is up */
static volatile sig_atomic_t stop_signal;   /* a stop signal came: its number */
static void (*stop_cleanup)(void);

static void on_alarm(int sig) { (void)sig; alarm_fired = 1; }
static void on_stop(int sig) { stop_signal = sig; }

void bench_signals(void (*cleanup)(void))
{
    stop_cleanup = cleanup;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;   /* no SA_RESTART: wait4 returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
}

void stop_if_asked(void)
{
    int sig = stop_signal;
    if (!sig)
        return;
    if (stop_cleanup)
        stop_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

/* ---- one child ------------------------------------------------------------------- */

pid_t bench_spawn(char *const argv[], char *const env[], const char *cwd, int trace, int *out,
                  const char **what)
{
    int p[2], saved;
    if (pipe2(p, O_CLOEXEC) < 0) {
        *what = "pipe";
        return -1;
    }
    int errfd = open(bench_stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (errfd < 0) {
        saved = errno;
        close(p[0]);
        close(p[1]);
        errno = saved;
        *what = bench_stderr_path;
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        dup2(errfd, STDERR_FILENO);
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, STDIN_FILENO);
        if (chdir(cwd) != 0)
            _exit(125);
        if (trace && ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
            _exit(126);
        execve(argv[0], argv, env);
        dprintf(STDERR_FILENO, "execve %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    saved = errno;
    close(p[1]);
    close(errfd);
    if (pid < 0) {
        close(p[0]);
        errno = saved;
        *what = "fork";
        return -1;
    }
    *out = p[0];
    return pid;
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

int bench_wait(pid_t pid, unsigned timeout_s, int traced, struct rusage *ru, long *hwm,
               long *anon)
{
    int status, opts_set = 0, killed = 0;
    alarm_fired = 0;
    alarm(timeout_s);
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
            return killed ? BENCH_KILLED : BENCH_WAIT_ERROR;
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
    return killed ? BENCH_KILLED : status;
}

size_t bench_drain(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
    return len;
}

uint64_t bench_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
