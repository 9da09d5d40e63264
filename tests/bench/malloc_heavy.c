/* malloc_heavy.c — an allocation-bound benchmark for memkit.
 *
 *   malloc_heavy [OPS_PER_THREAD [THREADS]]     (defaults: 4000000, 2)
 *
 * Each thread keeps a live set of SLOTS blocks of 16..4096 bytes and runs
 * OPS_PER_THREAD operations. An operation picks a slot with a xorshift PRNG
 * (fixed seed per thread, so the work is the same on every run) and does
 * exactly one allocating call on it:
 *   10/16  free what is there, then malloc
 *    2/16  free what is there, then calloc (first bytes checked to be zero)
 *    4/16  realloc what is there (first bytes checked to have survived)
 * and writes the first bytes of the new block. At the end every slot is
 * freed. So a run makes exactly THREADS x OPS_PER_THREAD allocating calls.
 *
 * Prints the wall time of the whole run (CLOCK_MONOTONIC, thread creation
 * to last join) in seconds on stdout, and nothing else. A failed
 * allocation or a check that fails is reported on stderr with exit 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS     4096u            /* live blocks per thread (power of two) */
#define MIN_SIZE  16u
#define MAX_SIZE  4096u
#define TOUCH     16u              /* bytes written at the start of each block */
#define MAX_THREADS 64

struct slot {
    unsigned char *p;
    uint32_t size;
    unsigned char tag;             /* what the first TOUCH bytes hold */
};

struct worker {
    pthread_t tid;
    unsigned index;
    uint64_t ops;
    int failed;                    /* set by the thread; read after join */
    struct slot slots[SLOTS];
};

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void fail(struct worker *w, const char *what, uint64_t op)
{
    fprintf(stderr, "malloc_heavy: thread %u op %llu: %s\n", w->index,
            (unsigned long long)op, what);
    w->failed = 1;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ ((uint64_t)(w->index + 1) * 0xD1B54A32D192ED03ull);
    memset(w->slots, 0, sizeof w->slots);

    for (uint64_t op = 0; op < w->ops; op++) {
        uint64_t r = xorshift64(&seed);
        struct slot *s = &w->slots[r & (SLOTS - 1)];
        uint32_t size = MIN_SIZE + (uint32_t)((r >> 16) % (MAX_SIZE - MIN_SIZE + 1));
        unsigned kind = (unsigned)(r >> 60);          /* 0..15 */
        unsigned char tag = (unsigned char)(op | 1);  /* never 0: calloc is checked against 0 */
        unsigned char *p;

        if (kind < 10) {
            free(s->p);
            p = malloc(size);
        } else if (kind < 12) {
            free(s->p);
            p = calloc(1, size);
            if (p && (p[0] | p[TOUCH - 1] | p[size - 1])) {
                fail(w, "calloc returned memory that is not zero", op);
                return NULL;
            }
        } else {
            p = realloc(s->p, size);
            if (p && s->p && p[0] != s->tag) {
                fail(w, "realloc lost the block's contents", op);
                return NULL;
            }
        }
        if (!p) {
            s->p = NULL;   /* a failed realloc left the old block: leak it, we stop */
            fail(w, strerror(errno), op);
            return NULL;
        }
        memset(p, tag, TOUCH);   /* TOUCH <= MIN_SIZE */
        s->p = p;
        s->size = size;
        s->tag = tag;
    }
    for (unsigned i = 0; i < SLOTS; i++) {
        free(w->slots[i].p);
        w->slots[i].p = NULL;
    }
    return NULL;
}

static int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    uint64_t ops = 4000000, nthreads = 2;
    if (argc > 3 || (argc > 1 && parse_count(argv[1], 0, UINT64_MAX / 2, &ops)) ||
        (argc > 2 && parse_count(argv[2], 1, MAX_THREADS, &nthreads))) {
        fprintf(stderr, "usage: malloc_heavy [OPS_PER_THREAD [THREADS (1..%d)]]\n", MAX_THREADS);
        return 2;
    }

    /* The workers' slot tables come from the heap before the clock starts. */
    struct worker *w = calloc(nthreads, sizeof *w);
    if (!w) {
        perror("malloc_heavy: calloc");
        return 1;
    }

    double t0 = now_s();
    for (unsigned i = 0; i < nthreads; i++) {
        w[i].index = i;
        w[i].ops = ops;
        int rc = pthread_create(&w[i].tid, NULL, run, &w[i]);
        if (rc) {
            fprintf(stderr, "malloc_heavy: pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    int failed = 0;
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(w[i].tid, NULL);
        failed |= w[i].failed;
    }
    double elapsed = now_s() - t0;
    free(w);
    if (failed)
        return 1;
    printf("%.6f\n", elapsed);
    return fflush(stdout) == 0 ? 0 : 1;
}
