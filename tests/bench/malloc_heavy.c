/* malloc_heavy.c — an allocation-bound benchmark for memkit.
 *
 *   malloc_heavy [OPS_PER_THREAD [THREADS [MIN-MAX]]]
 *                                    (defaults: 4000000, 2, 16-4096)
 *
 * Each thread keeps a live set of SLOTS blocks of MIN..MAX bytes (sizes
 * take K and M suffixes: 16K-256K) and runs OPS_PER_THREAD operations.
 * SLOTS is 4096, or for large blocks the largest power of two (at least
 * 64) that keeps a thread's live set within 32 MiB on average: 4096 for
 * the default sizes, 128 for 16K-256K. An operation picks a slot with a
 * xorshift PRNG (fixed seed per thread, so the work is the same on every
 * run) and does
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

#define MAX_SLOTS 4096u            /* live blocks per thread (power of two) */
#define MIN_SLOTS 64u
#define LIVE_BYTES (32u << 20)     /* average live set per thread, at most */
#define TOUCH     16u              /* bytes written at the start of each block */
#define SIZE_LIMIT (1u << 30)
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
    struct slot slots[MAX_SLOTS];
};

static uint32_t min_size = 16, max_size = 4096;   /* block sizes, inclusive */
static unsigned nslots = MAX_SLOTS;                /* a power of two */

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
        struct slot *s = &w->slots[r & (nslots - 1)];
        uint32_t size = min_size + (uint32_t)((r >> 16) % (max_size - min_size + 1));
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
        memset(p, tag, TOUCH);   /* TOUCH <= min_size */
        s->p = p;
        s->size = size;
        s->tag = tag;
    }
    for (unsigned i = 0; i < nslots; i++) {
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

/* A size with an optional K or M suffix (KiB, MiB). */
static int parse_size(const char *s, char **end, uint32_t *out)
{
    errno = 0;
    unsigned long long v = strtoull(s, end, 10);
    if (errno || *end == s || s[0] == '-')
        return -1;
    if (**end == 'K' || **end == 'k')
        v <<= 10, (*end)++;
    else if (**end == 'M' || **end == 'm')
        v <<= 20, (*end)++;
    if (v > SIZE_LIMIT)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* "MIN-MAX" with TOUCH <= MIN <= MAX; sets min_size, max_size and nslots. */
static int parse_range(const char *s)
{
    char *end;
    uint32_t lo, hi;
    if (parse_size(s, &end, &lo) || *end != '-' || parse_size(end + 1, &end, &hi) || *end ||
        lo < TOUCH || hi < lo)
        return -1;
    min_size = lo;
    max_size = hi;
    uint64_t avg = ((uint64_t)lo + hi) / 2;
    nslots = MAX_SLOTS;
    while (nslots > MIN_SLOTS && (uint64_t)nslots * avg > LIVE_BYTES)
        nslots /= 2;
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
    if (argc > 4 || (argc > 1 && parse_count(argv[1], 0, UINT64_MAX / 2, &ops)) ||
        (argc > 2 && parse_count(argv[2], 1, MAX_THREADS, &nthreads)) ||
        (argc > 3 && parse_range(argv[3]))) {
        fprintf(stderr,
                "usage: malloc_heavy [OPS_PER_THREAD [THREADS (1..%d) [MIN-MAX (bytes, K/M; "
                "MIN >= %u)]]]\n",
                MAX_THREADS, TOUCH);
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
