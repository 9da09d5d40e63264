/* bench_common.h — what the benchmark runners (bench_run, frag_run) share:
 * their messages and exit status, medians, a filtered environment for the
 * children, finding a library, stop signals, and starting, waiting for and
 * reading one child. Call bench_init() first. */
#ifndef MEMKIT_BENCH_COMMON_H
#define MEMKIT_BENCH_COMMON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* bench_wait's answers that are not a wait status. */
#define BENCH_KILLED     (-1)   /* killed on the timeout or a stop signal */
#define BENCH_WAIT_ERROR (-2)   /* wait4 failed */

/* ---- messages ---- */

/* Sets the name that prefixes every message ("frag_run"). */
void bench_init(const char *prog);

/* Shows "\r<prog>: ..." on stderr when it is a terminal; the line stays open. */
void show_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Ends an open progress line with a newline. */
void end_progress(void);

/* Prints "<prog>: ..." on stderr and counts a failure. */
void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "<prog>: note: ..." on stderr; not a failure. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Says how many problems there were, if any: the exit status (0 or 1). */
int bench_exit_status(void);

/* ---- numbers and text ---- */

/* Median of v[0..n-1] (v is left as it is); NAN when n is 0. */
/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t bench_now_ns(void);

/* Keeps the compiler from dropping a buffer it sees unused (GCC removes a
 * malloc/free pair whose memory does not escape). */
static inline void bench_escape(void *p)
{
    __asm__ __volatile__("" : : "g"(p) : "memory");
}

double median(const double *v, int n);

/* Smallest of v[0..n-1]; NAN when n is 0. */
double minimum(const double *v, int n);

/* Whether s begins with prefix. */
int starts_with(const char *s, const char *prefix);

/* Reads at most cap-1 bytes of a file, NUL-terminated; -1 if it cannot be opened. */
ssize_t slurp(const char *path, char *buf, size_t cap);

/* The 1-minute load average, to tell a quiet machine from a busy one. */
double loadavg(void);

/* ---- the children's world ---- */

/* The runner's environment less what would change what a child measures
 * (preloads, memkit's, memusage's and the allocators' options, glibc
 * tunables, meson's MALLOC_PERTURB_), plus extra (NULL-terminated, at most
 * 16). A static array, overwritten by the next call. */
char **make_env(const char *const *extra);

/* First readable path to library name in the folder libc was loaded from or
 * the usual ones, into out; -1 if none. */
int find_lib(const char *name, char *out, size_t cap);

/* The runner's private folder ("" when there is none) and, in it, the file
 * the children's stderr goes to. */
extern char bench_tmpdir[PATH_MAX - 64], bench_stderr_path[PATH_MAX];

/* Makes bench_tmpdir, $TMPDIR/name.XXXXXX (/tmp without TMPDIR), and names
 * bench_stderr_path in it; -1 after saying why it could not. */
int bench_mkdtemp(const char *name);

/* Removes bench_stderr_path and bench_tmpdir (left empty by the runner); once. */
void bench_rmdtemp(void);

/* Catches SIGALRM (bench_wait's timeout) and SIGINT, SIGTERM, SIGHUP, SIGPIPE
 * (bench_wait kills the child, stop_if_asked calls cleanup and dies). */
void bench_signals(void (*cleanup)(void));

/* After a stop signal: cleans up and dies of the same signal. */
void stop_if_asked(void);

/* ---- one child ---- */

/* Starts argv with env in folder cwd: stdin from /dev/null, stdout into a
 * pipe (*out, the end to read), stderr into bench_stderr_path; trace: under
 * ptrace from its execve (exit status 126 when ptrace is refused). Returns its
 * pid; -1 with errno set and *what naming what failed (pipe, file, fork). */
pid_t bench_spawn(char *const argv[], char *const env[], const char *cwd, int trace, int *out,
                  const char **what);

/* Waits for child pid, killing it after timeout_s or on a stop signal; traced:
 * it was started with trace, and *hwm, *anon get its VmHWM and RssAnon (KiB,
 * -1 unknown) as it exits. ru may be NULL. Returns the wait status,
 * BENCH_KILLED or BENCH_WAIT_ERROR. */
int bench_wait(pid_t pid, unsigned timeout_s, int traced, struct rusage *ru, long *hwm,
               long *anon);

/* Reads what is in pipe fd without blocking (a grandchild may still hold it)
 * into buf, NUL-terminated, and closes fd. Returns the length. */
size_t bench_drain(int fd, char *buf, size_t cap);

#endif
