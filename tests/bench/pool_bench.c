/* pool_bench.c — memkit's frame pool beside FFmpeg's AVBufferPool and
 * malloc/free, in one run.
 *
 * A cycle is what a capture loop does per frame: get a 640x480 RGB888
 * buffer (921600 bytes), write its first and last byte, give it back. Each
 * is timed on 1 thread and on 2 threads sharing one pool, in ns per cycle
 * per thread, with the minor page faults per cycle (getrusage
 * RUSAGE_THREAD, steady state: after a warm-up). Sharing is timed too:
 * one more owner and dropping it (memkit_frame_ref + release against
 * av_buffer_ref + av_buffer_unref). Rounds are interleaved and the medians
 * printed, because the machine may be busy.
 *
 * The pool's sources are linked in (as in the unit tests). With --memkit
 * LIB a child runs under LD_PRELOAD=LIB and times libmemkit.so's own pool
 * (looked up with dlsym, as a program that was only preloaded does), to
 * show what the preloaded shim costs the pool.
 *
 *   pool_bench [--quick] [--rounds N] [--cycles N] [--memkit LIB]
 *
 * Exit status 1 only when something failed (a NULL buffer, a child that
 * did not run); timings are never judged. */
#include "bench_common.h"
#include "memkit.h"

#include <dlfcn.h>
#include <errno.h>
#include <libavutil/buffer.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FRAME_SIZE  (640 * 480 * 3)
#define MAX_POOLED  8
#define WARMUP      2000
#define MAX_ROUNDS  31

static int failed;   /* a loop got no buffer: set by any thread */

static void fail_once(const char *what)
{
    if (!__atomic_exchange_n(&failed, 1, __ATOMIC_ACQ_REL))
        problem("%s returned no buffer: %s", what, strerror(errno));
}

/* ---- what is measured ------------------------------------------------------------ */

/* memkit's pool functions: the linked-in ones, or libmemkit.so's. */
struct memkit_fns {
    memkit_pool_t *(*create_size)(size_t, size_t);
    memkit_frame_t *(*acquire)(memkit_pool_t *);
    void *(*data)(const memkit_frame_t *);
    memkit_frame_t *(*ref)(memkit_frame_t *);
    void (*release)(memkit_frame_t *);
    void (*destroy)(memkit_pool_t *);
};

static struct memkit_fns memkit_fns = {
    memkit_pool_create_size, memkit_frame_acquire, memkit_frame_data,
    memkit_frame_ref,        memkit_frame_release, memkit_pool_destroy,
};

static void *memkit_setup(void)
{
    return memkit_fns.create_size(FRAME_SIZE, MAX_POOLED);
}

static void memkit_teardown(void *pool)
{
    memkit_fns.destroy(pool);
}

static void memkit_cycles(void *pool, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        memkit_frame_t *f = memkit_fns.acquire(pool);
        if (!f) {
            fail_once("memkit_frame_acquire");
            return;
        }
        unsigned char *d = memkit_fns.data(f);
        d[0] = (unsigned char)i;
        d[FRAME_SIZE - 1] = (unsigned char)i;
        bench_escape(d);
        memkit_fns.release(f);
    }
}

static void *av_setup(void)
{
    return av_buffer_pool_init(FRAME_SIZE, NULL);
}

static void av_teardown(void *pool)
{
    AVBufferPool *p = pool;
    av_buffer_pool_uninit(&p);
}

static void av_cycles(void *pool, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        AVBufferRef *b = av_buffer_pool_get(pool);
        if (!b) {
            fail_once("av_buffer_pool_get");
            return;
        }
        b->data[0] = (unsigned char)i;
        b->data[FRAME_SIZE - 1] = (unsigned char)i;
        bench_escape(b->data);
        av_buffer_unref(&b);
    }
}

static void *malloc_setup(void)
{
    return NULL;
}

static void malloc_teardown(void *pool)
{
    (void)pool;
}

static void malloc_cycles(void *pool, unsigned long n)
{
    (void)pool;
    for (unsigned long i = 0; i < n; i++) {
        unsigned char *d = malloc(FRAME_SIZE);
        if (!d) {
            fail_once("malloc");
            return;
        }
        d[0] = (unsigned char)i;
        d[FRAME_SIZE - 1] = (unsigned char)i;
        bench_escape(d);
        free(d);
    }
}

/* Sharing: the frame is held; each step adds an owner and drops it. */
struct shared_frame {
    void *pool;
    void *frame;
};

static void *memkit_share_setup(void)
{
    struct shared_frame *s = calloc(1, sizeof *s);
    s->pool = memkit_setup();
    s->frame = s->pool ? memkit_fns.acquire(s->pool) : NULL;
    return s;
}

static void memkit_share_teardown(void *arg)
{
    struct shared_frame *s = arg;
    if (s->frame)
        memkit_fns.release(s->frame);
    if (s->pool)
        memkit_teardown(s->pool);
    free(s);
}

static void memkit_share(void *arg, unsigned long n)
{
    struct shared_frame *s = arg;
    if (!s->frame) {
        fail_once("memkit_frame_acquire");
        return;
    }
    for (unsigned long i = 0; i < n; i++) {
        memkit_frame_t *r = memkit_fns.ref(s->frame);
        bench_escape(r);
        memkit_fns.release(r);
    }
}

static void *av_share_setup(void)
{
    struct shared_frame *s = calloc(1, sizeof *s);
    s->pool = av_setup();
    s->frame = s->pool ? av_buffer_pool_get(s->pool) : NULL;
    return s;
}

static void av_share_teardown(void *arg)
{
    struct shared_frame *s = arg;
    AVBufferRef *b = s->frame;
    av_buffer_unref(&b);
    av_teardown(s->pool);
    free(s);
}

static void av_share(void *arg, unsigned long n)
{
    struct shared_frame *s = arg;
    if (!s->frame) {
        fail_once("av_buffer_pool_get");
        return;
    }
    for (unsigned long i = 0; i < n; i++) {
        AVBufferRef *r = av_buffer_ref(s->frame);
        if (!r) {
            fail_once("av_buffer_ref");
            return;
        }
        bench_escape(r);
        av_buffer_unref(&r);
    }
}

struct subject {
    const char *name;
    void *(*setup)(void);
    void (*teardown)(void *);
    void (*run)(void *shared, unsigned long n);
};

static const struct subject s_memkit = { "memkit pool", memkit_setup, memkit_teardown, memkit_cycles };
static const struct subject s_av = { "FFmpeg AVBufferPool", av_setup, av_teardown, av_cycles };
static const struct subject s_malloc = { "malloc/free", malloc_setup, malloc_teardown, malloc_cycles };
static const struct subject s_memkit_share = { "memkit_frame_ref + memkit_frame_release",
                                               memkit_share_setup, memkit_share_teardown,
                                               memkit_share };
static const struct subject s_av_share = { "av_buffer_ref + av_buffer_unref", av_share_setup,
                                           av_share_teardown, av_share };

/* ---- timing ------------------------------------------------------------------------ */

struct job {
    const struct subject *subject;
    void *shared;
    unsigned long cycles;
    pthread_barrier_t *start;
    double ns, faults;   /* per cycle */
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    j->subject->run(j->shared, WARMUP);
    pthread_barrier_wait(j->start);
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    uint64_t t0 = bench_now_ns();
    j->subject->run(j->shared, j->cycles);
    uint64_t t1 = bench_now_ns();
    getrusage(RUSAGE_THREAD, &r1);
    j->ns = (double)(t1 - t0) / (double)j->cycles;
    j->faults = (double)(r1.ru_minflt - r0.ru_minflt) / (double)j->cycles;
    return NULL;
}

/* One measurement: threads threads on one shared pool; the mean over them. */
static void measure(const struct subject *s, int threads, unsigned long cycles, double *ns,
                    double *faults)
{
    void *shared = s->setup();
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    struct job jobs[2];
    pthread_t tid[2];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct job){ s, shared, cycles, &start, 0, 0 };
        if (pthread_create(&tid[t], NULL, run_job, &jobs[t]) != 0) {
            problem("pthread_create: %s", strerror(errno));
            exit(bench_exit_status());
        }
    }
    *ns = *faults = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        *ns += jobs[t].ns / threads;
        *faults += jobs[t].faults / threads;
    }
    pthread_barrier_destroy(&start);
    s->teardown(shared);
}

/* ---- libmemkit.so's pool, in a child under LD_PRELOAD -------------------------------- */

/* The child's side: looks the pool up in the preloaded library, measures
 * 1 and 2 threads once, prints "threads ns faults" lines. */
static int child_main(const char *lib, unsigned long cycles)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
    if (!h) {
        fprintf(stderr, "%s is not loaded: %s\n", lib, dlerror());
        return 2;
    }
    struct memkit_fns f = {
        dlsym(h, "memkit_pool_create_size"), dlsym(h, "memkit_frame_acquire"),
        dlsym(h, "memkit_frame_data"),       dlsym(h, "memkit_frame_ref"),
        dlsym(h, "memkit_frame_release"),    dlsym(h, "memkit_pool_destroy"),
    };
    if (!f.create_size || !f.acquire || !f.data || !f.ref || !f.release || !f.destroy) {
        fprintf(stderr, "%s lacks the pool functions\n", lib);
        return 3;
    }
    memkit_fns = f;
    for (int threads = 1; threads <= 2; threads++) {
        double ns, faults;
        measure(&s_memkit, threads, cycles, &ns, &faults);
        printf("%d %.4f %.6f\n", threads, ns, faults);
    }
    return failed ? 4 : 0;
}

static char self_path[PATH_MAX];

/* The parent's side: one child run; ns[t-1], faults[t-1] for t threads. */
static int run_child(const char *lib, unsigned long cycles, double ns[2], double faults[2])
{
    char preload[PATH_MAX + 16], cyc[32];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lib);
    snprintf(cyc, sizeof cyc, "%lu", cycles);
    const char *extra[] = { preload, "MEMKIT_REPORT=off", NULL };
    char *argv[] = { self_path, "--child", (char *)lib, "--cycles", cyc, NULL };
    int out;
    const char *what;
    pid_t pid = bench_spawn(argv, make_env(extra), ".", 0, &out, &what);
    if (pid < 0) {
        problem("cannot start the preloaded run (%s): %s", what, strerror(errno));
        return -1;
    }
    int status = bench_wait(pid, 300, 0, NULL, NULL, NULL);
    char buf[512], err[512] = "";
    bench_drain(out, buf, sizeof buf);
    int n = 0;
    for (char *line = strtok(buf, "\n"); line && n < 2; line = strtok(NULL, "\n"), n++)
        if (sscanf(line, "%*d %lf %lf", &ns[n], &faults[n]) != 2)
            break;
    if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || n != 2) {
        slurp(bench_stderr_path, err, sizeof err);
        problem("the run under LD_PRELOAD=%s failed (status %d): %s", lib, status, err);
        return -1;
    }
    return 0;
}

/* ---- the run -------------------------------------------------------------------------- */

enum { MK, MK_SHIM, AV, MALLOC, ROWS };
static const char *const row_name[ROWS] = {
    [MK] = "memkit pool (linked in)",
    [MK_SHIM] = "memkit pool (libmemkit.so preloaded)",
    [AV] = "FFmpeg AVBufferPool",
    [MALLOC] = "malloc/free",
};

static double cyc_ns[ROWS][2][MAX_ROUNDS], cyc_faults[ROWS][2][MAX_ROUNDS];
static double share_ns[2][MAX_ROUNDS];

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [--quick] [--rounds N] [--cycles N] [--memkit LIBMEMKIT]\n", prog);
    exit(2);
}

static const char *verdict(int met)
{
    return met ? "met" : "MISSED";
}

int main(int argc, char **argv)
{
    bench_init("pool_bench");
    /* Many short rounds: on a busy machine most escape preemption, and
     * the median is theirs. */
    int rounds = 11;
    unsigned long cycles = 500000;
    const char *lib = NULL, *child_lib = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            rounds = 2;
            cycles = 20000;
        } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) {
            cycles = strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--memkit") && i + 1 < argc) {
            lib = argv[++i];
        } else if (!strcmp(argv[i], "--child") && i + 1 < argc) {
            child_lib = argv[++i];
        } else {
            usage(argv[0]);
        }
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || cycles < 1)
        usage(argv[0]);
    /* meson test sets MALLOC_PERTURB_: glibc would then fill every block,
     * and malloc/free (and AVBufferPool's allocations) would time a memset. */
    mallopt(M_PERTURB, 0);
    if (child_lib)
        return child_main(child_lib, cycles);

    char abs_lib[PATH_MAX];
    if (lib) {
        if (!realpath(lib, abs_lib)) {
            problem("%s: %s", lib, strerror(errno));
            return bench_exit_status();
        }
        lib = abs_lib;
        ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
        if (n <= 0 || bench_mkdtemp("pool_bench") != 0) {
            problem("cannot prepare the preloaded run");
            lib = NULL;
        } else {
            self_path[n] = '\0';
        }
    }
    bench_signals(bench_rmdtemp);

    for (int r = 0; r < rounds && !failed; r++) {
        show_progress("round %d of %d", r + 1, rounds);
        for (int t = 1; t <= 2; t++) {
            measure(&s_memkit, t, cycles, &cyc_ns[MK][t - 1][r], &cyc_faults[MK][t - 1][r]);
            measure(&s_av, t, cycles, &cyc_ns[AV][t - 1][r], &cyc_faults[AV][t - 1][r]);
            measure(&s_malloc, t, cycles, &cyc_ns[MALLOC][t - 1][r], &cyc_faults[MALLOC][t - 1][r]);
        }
        double unused;
        measure(&s_memkit_share, 1, cycles, &share_ns[0][r], &unused);
        measure(&s_av_share, 1, cycles, &share_ns[1][r], &unused);
        if (lib) {
            double ns[2], faults[2];
            if (run_child(lib, cycles, ns, faults) != 0) {
                lib = NULL;
            } else {
                for (int t = 0; t < 2; t++) {
                    cyc_ns[MK_SHIM][t][r] = ns[t];
                    cyc_faults[MK_SHIM][t][r] = faults[t];
                }
            }
        }
        stop_if_asked();
    }
    end_progress();
    bench_rmdtemp();
    if (failed)
        return bench_exit_status();

    double med[ROWS][2], flt[ROWS][2];
    for (int row = 0; row < ROWS; row++)
        for (int t = 0; t < 2; t++) {
            med[row][t] = median(cyc_ns[row][t], rounds);
            flt[row][t] = median(cyc_faults[row][t], rounds);
        }
    double share[2] = { median(share_ns[0], rounds), median(share_ns[1], rounds) };

    printf("pool_bench: 640x480 RGB888 frames (%d bytes), pools of up to %d idle buffers\n",
           FRAME_SIZE, MAX_POOLED);
    printf("median of %d rounds of %lu cycles per thread; load average %.2f on %ld CPUs\n\n",
           rounds, cycles, loadavg(), sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-40s %23s %23s\n", "acquire, write first+last byte, release", "1 thread",
           "2 threads, per thread");
    printf("%-40s %12s %10s %12s %10s\n", "", "ns/cycle", "faults", "ns/cycle", "faults");
    for (int row = 0; row < ROWS; row++) {
        if (row == MK_SHIM && !lib)
            continue;
        printf("%-40s %12.1f %10.4f %12.1f %10.4f\n", row_name[row], med[row][0], flt[row][0],
               med[row][1], flt[row][1]);
    }
    printf("\n%-40s %12s\n", "share a frame: add an owner, drop it", "ns/pair");
    printf("%-40s %12.1f\n", s_memkit_share.name, share[0]);
    printf("%-40s %12.1f\n", s_av_share.name, share[1]);

    double x1 = med[AV][0] / med[MK][0], x2 = med[AV][1] / med[MK][1];
    double m1 = med[MALLOC][0] / med[MK][0], m2 = med[MALLOC][1] / med[MK][1];
    double worst_faults = flt[MK][0] > flt[MK][1] ? flt[MK][0] : flt[MK][1];
    char v[6][48];
    snprintf(v[0], sizeof v[0], "%.1f ns", med[MK][0]);
    snprintf(v[1], sizeof v[1], "%.1f ns", med[MK][1]);
    snprintf(v[2], sizeof v[2], "%.1fx / %.1fx", x1, x2);
    snprintf(v[3], sizeof v[3], "%.1fx / %.1fx", m1, m2);
    snprintf(v[4], sizeof v[4], "%.1f ns", share[0]);
    snprintf(v[5], sizeof v[5], "%.4f", worst_faults);
    printf("\ngoals (memkit pool, linked in; n threads: 1 / 2)\n");
    printf("  %-42s %-18s %s\n", "<= 9 ns per cycle, 1 thread", v[0], verdict(med[MK][0] <= 9));
    printf("  %-42s %-18s %s\n", "<= 10 ns per cycle per thread, 2 threads", v[1],
           verdict(med[MK][1] <= 10));
    printf("  %-42s %-18s %s\n", ">= 10x faster than AVBufferPool", v[2],
           verdict(x1 >= 10 && x2 >= 10));
    printf("  %-42s %-18s %s\n", "not slower than malloc/free", v[3],
           verdict(m1 >= 1 && m2 >= 1));
    printf("  %-42s %-18s %s\n", "share (ref + release) <= 5 ns", v[4], verdict(share[0] <= 5));
    printf("  %-42s %-18s %s\n", "0 page faults per cycle", v[5], verdict(worst_faults == 0));
    return bench_exit_status();
}
