/* gst_pool_bench.c — frame pools side by side at two frame formats:
 * memkit's pool, FFmpeg's AVBufferPool, GStreamer's GstBufferPool and
 * plain malloc/free, for 640x480 RGB888 (921600 bytes) and 1920x1080
 * YUV420 (I420, 3110400 bytes), on 1 thread and on 2 threads sharing one
 * pool.
 *
 *   gst_pool_bench [--quick] [--rounds N] [--cycles N]
 *
 * A cycle is what a capture loop does per frame: get a buffer, write its
 * first and last byte, give it back. For GstBufferPool that is
 * gst_buffer_pool_acquire_buffer, gst_buffer_map(GST_MAP_WRITE), the two
 * writes, gst_buffer_unmap and gst_buffer_unref (which returns it to the
 * pool): a GstBuffer's memory is only reached through a map. Each pool
 * keeps up to 8 idle buffers (GstBufferPool: max_buffers 8). Printed: ns
 * per cycle per thread and minor page faults per cycle (getrusage
 * RUSAGE_THREAD, after a warm-up), medians of N rounds (default 7 of
 * 100000 cycles per thread; --quick: 1 of 5000); every round measures
 * every (format, threads, subject), the subjects' order rotating from
 * round to round. "x memkit" is the median over memkit's median.
 *
 * memkit's pool is linked in (its sources, as tests/bench/pool_bench and
 * the unit tests do); pool_bench times libmemkit.so's own pool under
 * LD_PRELOAD, and sharing a frame, at 640x480. Without libavutil (built
 * without HAVE_AVUTIL) the AVBufferPool rows are left out.
 *
 * Output: a Markdown table on stdout. Exit status 1 when a pool gave no
 * buffer or a thread could not start; timings are never judged. */
#include "bench_common.h"
#include "memkit.h"

#include <errno.h>
#include <gst/gst.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_AVUTIL
#include <libavutil/buffer.h>
#endif

#define MAX_POOLED 8
#define WARMUP     2000
#define MAX_ROUNDS 51

static int failed;

static void fail_once(const char *what)
{
    if (!__atomic_exchange_n(&failed, 1, __ATOMIC_ACQ_REL))
        problem("%s returned no buffer: %s", what, strerror(errno));
}

/* ---- the formats ------------------------------------------------------------------- */

struct format {
    const char *name;
    uint32_t width, height;
    memkit_format_t mk;
    size_t size;   /* set from memkit_pool_create's rule: RGB888 w*h*3, YUV420 w*h*3/2 */
};

static struct format formats[] = {
    { "640x480 RGB888", 640, 480, MEMKIT_FMT_RGB888, 640 * 480 * 3 },
    { "1920x1080 YUV420", 1920, 1080, MEMKIT_FMT_YUV420, 1920 * 1080 * 3 / 2 },
};
#define NFORMATS ((int)(sizeof formats / sizeof formats[0]))

/* ---- the subjects --------------------------------------------------------------------- */

static void *memkit_setup(const struct format *f)
{
    return memkit_pool_create(f->width, f->height, f->mk, MAX_POOLED);
}

static void memkit_teardown(void *pool)
{
    memkit_pool_destroy(pool);
}

static void memkit_cycles(void *pool, size_t size, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        memkit_frame_t *f = memkit_frame_acquire(pool);
        if (!f) {
            fail_once("memkit_frame_acquire");
            return;
        }
        unsigned char *d = memkit_frame_data(f);
        d[0] = (unsigned char)i;
        d[size - 1] = (unsigned char)i;
        bench_escape(d);
        memkit_frame_release(f);
    }
}

#ifdef HAVE_AVUTIL
static void *av_setup(const struct format *f)
{
    return av_buffer_pool_init(f->size, NULL);
}

static void av_teardown(void *pool)
{
    AVBufferPool *p = pool;
    av_buffer_pool_uninit(&p);
}

static void av_cycles(void *pool, size_t size, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        AVBufferRef *b = av_buffer_pool_get(pool);
        if (!b) {
            fail_once("av_buffer_pool_get");
            return;
        }
        b->data[0] = (unsigned char)i;
        b->data[size - 1] = (unsigned char)i;
        bench_escape(b->data);
        av_buffer_unref(&b);
    }
}
#endif

static void *gst_setup(const struct format *f)
{
    GstBufferPool *pool = gst_buffer_pool_new();
    GstStructure *config = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_set_params(config, NULL, (guint)f->size, 0, MAX_POOLED);
    if (!gst_buffer_pool_set_config(pool, config) || !gst_buffer_pool_set_active(pool, TRUE)) {
        problem("GstBufferPool: configuring or activating the pool failed");
        gst_object_unref(pool);
        return NULL;
    }
    return pool;
}

static void gst_teardown(void *pool)
{
    if (!pool)
        return;
    gst_buffer_pool_set_active(pool, FALSE);
    gst_object_unref(pool);
}

static void gst_cycles(void *pool, size_t size, unsigned long n)
{
    if (!pool) {
        fail_once("GstBufferPool");
        return;
    }
    for (unsigned long i = 0; i < n; i++) {
        GstBuffer *b = NULL;
        GstMapInfo map;
        if (gst_buffer_pool_acquire_buffer(pool, &b, NULL) != GST_FLOW_OK || !b ||
            !gst_buffer_map(b, &map, GST_MAP_WRITE)) {
            fail_once("gst_buffer_pool_acquire_buffer");
            if (b)
                gst_buffer_unref(b);
            return;
        }
        map.data[0] = (unsigned char)i;
        map.data[size - 1] = (unsigned char)i;
        bench_escape(map.data);
        gst_buffer_unmap(b, &map);
        gst_buffer_unref(b);
    }
}

static void *malloc_setup(const struct format *f)
{
    (void)f;
    return NULL;
}

static void malloc_teardown(void *pool)
{
    (void)pool;
}

static void malloc_cycles(void *pool, size_t size, unsigned long n)
{
    (void)pool;
    for (unsigned long i = 0; i < n; i++) {
        unsigned char *d = malloc(size);
        if (!d) {
            fail_once("malloc");
            return;
        }
        d[0] = (unsigned char)i;
        d[size - 1] = (unsigned char)i;
        bench_escape(d);
        free(d);
    }
}

struct subject {
    const char *name;
    void *(*setup)(const struct format *);
    void (*teardown)(void *);
    void (*run)(void *pool, size_t size, unsigned long n);
};

static const struct subject subjects[] = {
    { "memkit pool", memkit_setup, memkit_teardown, memkit_cycles },
#ifdef HAVE_AVUTIL
    { "FFmpeg AVBufferPool", av_setup, av_teardown, av_cycles },
#endif
    { "GstBufferPool (+ map/unmap)", gst_setup, gst_teardown, gst_cycles },
    { "malloc/free", malloc_setup, malloc_teardown, malloc_cycles },
};
#define NSUBJECTS ((int)(sizeof subjects / sizeof subjects[0]))

/* ---- timing ------------------------------------------------------------------------------ */

struct job {
    const struct subject *subject;
    void *pool;
    size_t size;
    unsigned long cycles;
    pthread_barrier_t *start;
    double ns, faults;   /* per cycle */
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    j->subject->run(j->pool, j->size, WARMUP);
    pthread_barrier_wait(j->start);
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    uint64_t t0 = bench_now_ns();
    j->subject->run(j->pool, j->size, j->cycles);
    uint64_t t1 = bench_now_ns();
    getrusage(RUSAGE_THREAD, &r1);
    j->ns = (double)(t1 - t0) / (double)j->cycles;
    j->faults = (double)(r1.ru_minflt - r0.ru_minflt) / (double)j->cycles;
    return NULL;
}

/* threads threads on one pool; the mean over them. */
static void measure(const struct subject *s, const struct format *f, int threads,
                    unsigned long cycles, double *ns, double *faults)
{
    void *pool = s->setup(f);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    struct job jobs[2];
    pthread_t tid[2];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct job){ s, pool, f->size, cycles, &start, 0, 0 };
        int rc = pthread_create(&tid[t], NULL, run_job, &jobs[t]);
        if (rc) {
            problem("pthread_create: %s", strerror(rc));
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
    s->teardown(pool);
}

/* ---- the run ------------------------------------------------------------------------------- */

static double ns_v[NFORMATS][2][NSUBJECTS][MAX_ROUNDS], flt_v[NFORMATS][2][NSUBJECTS][MAX_ROUNDS];

static void usage(void)
{
    fprintf(stderr, "usage: gst_pool_bench [--quick] [--rounds N (1..%d)] [--cycles N]\n",
            MAX_ROUNDS);
    exit(2);
}

int main(int argc, char **argv)
{
    bench_init("gst_pool_bench");
    int rounds = 7, have_rounds = 0, have_cycles = 0, quick = 0;
    unsigned long cycles = 100000;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds = (int)strtol(argv[++i], &end, 10);
            if (*end || rounds < 1 || rounds > MAX_ROUNDS)
                usage();
            have_rounds = 1;
        } else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) {
            cycles = strtoul(argv[++i], &end, 10);
            if (*end || cycles < 1)
                usage();
            have_cycles = 1;
        } else {
            usage();
        }
    }
    if (quick) {
        if (!have_rounds)
            rounds = 1;
        if (!have_cycles)
            cycles = 5000;
    }
    /* meson test sets MALLOC_PERTURB_: glibc would then fill every block. */
    mallopt(M_PERTURB, 0);
    gst_init(NULL, NULL);
    bench_signals(NULL);

    double load_start = loadavg();
    for (int r = 0; r < rounds && !failed; r++) {
        show_progress("round %d of %d", r + 1, rounds);
        for (int f = 0; f < NFORMATS; f++)
            for (int t = 1; t <= 2; t++)
                for (int k = 0; k < NSUBJECTS; k++) {
                    int s = (k + r) % NSUBJECTS;
                    measure(&subjects[s], &formats[f], t, cycles, &ns_v[f][t - 1][s][r],
                            &flt_v[f][t - 1][s][r]);
                    stop_if_asked();
                }
    }
    end_progress();
    if (failed)
        return bench_exit_status();

    printf("Median of %d round%s of %lu cycles per thread (acquire, write the first and last "
           "byte, release); pools keep up to %d idle buffers; %s.\n\n",
           rounds, rounds == 1 ? "" : "s", cycles, MAX_POOLED, gst_version_string());
    printf("| frame | pool | 1 thread: ns/cycle | faults/cycle | × memkit | "
           "2 threads: ns/cycle per thread | faults/cycle | × memkit |\n"
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int f = 0; f < NFORMATS; f++) {
        double mk[2];
        for (int t = 0; t < 2; t++)
            mk[t] = median(ns_v[f][t][0], rounds);
        for (int s = 0; s < NSUBJECTS; s++) {
            printf("| %s (%zu B) | %s", formats[f].name, formats[f].size, subjects[s].name);
            for (int t = 0; t < 2; t++) {
                double m = median(ns_v[f][t][s], rounds);
                printf(" | %.1f | %.4f | %.2f", m, median(flt_v[f][t][s], rounds), m / mk[t]);
            }
            printf(" |\n");
        }
    }
    printf("\nLoad average %.2f at the start, %.2f at the end; %ld CPUs.\n", load_start, loadavg(),
           sysconf(_SC_NPROCESSORS_ONLN));
    return bench_exit_status();
}
