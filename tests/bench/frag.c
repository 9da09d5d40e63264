/* frag.c — a fragmented heap, and what is left resident of it.
 *
 *   frag [--size BYTES] [--pattern oldest|random] [--wait SECONDS] [--seed N]
 *        [--trim-self]
 *
 * Two threads (the main thread and one pthread, so two glibc arenas) each
 * allocate SIZE/2 bytes (default SIZE 1G; sizes take K/M/G suffixes) of
 * objects of uniformly random size 32..1024 bytes, writing every byte, and
 * keep the pointers. Then each thread frees 90% of its own objects:
 *   oldest  the first 90% it allocated, in allocation order;
 *   random  a random 90% (the pointer array is shuffled with a seeded PRNG
 *           and the first 90% freed), in random order.
 * The program never gives memory back itself, except with --trim-self:
 * then it calls malloc_trim(0) once right after the frees. That is the
 * reference ("what glibc can do when asked"), never a memkit row.
 *
 * Then it waits SECONDS (default 5). During the wait both threads, which
 * allocate in the same arenas as the fragmented heap, keep calling free
 * and malloc (a ring of 1024 live blocks of 32..1024 bytes each) and time
 * every call with clock_gettime(CLOCK_MONOTONIC) into a histogram: the
 * stall that a compaction running meanwhile inflicts on them. The ring is
 * freed at the end of the wait, before RSS is read.
 *
 * Prints one line on stdout (bytes unless named otherwise):
 *   floor_bytes=  pages touched by the live objects, times the page size
 *   rss_after_free=  heap-only anonymous RSS right after the frees
 *   rss_after_wait=  the same after the wait
 *   stall_max_us= stall_p99_us=  longest and 99th-percentile malloc/free
 *                 call of both threads during the wait (p99: upper edge of
 *                 its histogram bucket, buckets are 1/32 of a power of two)
 *   live_objects= build_s=  objects left, seconds both threads took to build
 * and, after those: objects= (allocated in all) stall_calls= (timed calls)
 * stall_max_adj_us= stall_runq_ms= (see below) allocator= (glibc,
 * jemalloc, tcmalloc or mimalloc: which one answers malloc) memkit= (1 if
 * libmemkit.so is loaded) compactions= (memkit_stats' count at the end, -1
 * without memkit) and, with --trim-self, trim_self_ms= (how long that
 * malloc_trim took).
 *
 * Preemption: on a machine with few cores the two stall loops, memkit's
 * monitor thread and anything else running share the CPUs, so a call can
 * take milliseconds because its thread waited for a CPU, not because a
 * lock was held. The loop therefore reads the thread's run-queue wait
 * (run_delay, /proc/thread-self/schedstat) every BATCH iterations (2 x
 * BATCH timed calls, about 1 us per read); stall_max_adj_us is the largest,
 * over batches, of the batch's longest call less the run-queue wait of the
 * whole batch: a lower bound of the longest time a call spent not waiting
 * for a CPU (waiting for a lock, page faults, the call's own work), exact
 * when the run-queue wait fell inside that call. -1 without schedstat.
 * stall_runq_ms is the two threads' total run-queue wait during the loop.
 *
 * ---- Accounting (what "heap-only" means) ----
 * RSS is read from /proc/self/statm as resident - shared: the process's
 * anonymous resident pages (RssAnon), so pages of mapped files (libraries)
 * are left out. Heap-only RSS = that - rss_base - bookkeeping, where
 *   rss_base     is read once both threads exist and every page of memory
 *                this program uses for itself, except the pointer arrays
 *                below, has been touched: both stacks (128 KiB each written
 *                ahead), the histograms, the rings, the radix-sort counts
 *                (all static). Nothing has been allocated for the heap yet;
 *                what libc/the allocator/memkit hold at that point is in
 *                the base.
 *   bookkeeping  is the pointer arrays (and, while the floor is computed,
 *                its page list). They are mmap'd directly, never from
 *                malloc, so they do not perturb the heap. After the frees
 *                the live pointers are moved to the front and the rest of
 *                each array is dropped with MADV_DONTNEED; what is still
 *                resident is counted exactly with mincore() and subtracted
 *                from the after-free figure. Before the wait every array is
 *                unmapped, so the after-wait figure needs no correction.
 * So heap-only RSS counts the allocator's pages, its metadata, and what
 * memkit (when preloaded) allocates or maps after the base was taken (its
 * monitor thread's stack, for one). The after-wait figure also holds the
 * pages the stall loops touched during the wait: their blocks come from
 * the freed holes of the heap, so after a give-back they fault some pages
 * in again (about 1.5 MiB for the 1 GiB heap: glibc with --trim-self ends
 * at 1.02x the floor for "oldest", 1.008x with --wait 0).
 * That is what a program that keeps running does, and it is left in.
 *
 * ---- The floor ----
 * The distinct pages (sysconf page size) that intersect [p - 16,
 * p + malloc_usable_size(p)) for a live object p: the object and the
 * header word glibc keeps in front of it. No allocator that cannot move
 * objects can hold fewer pages than that (for allocators without a header
 * the 16 bytes overcount by at most a page per object that starts within
 * 16 bytes of a page boundary). Computed by listing every page of every
 * live object in an mmap'd array, radix-sorting it and counting distinct
 * values.
 *
 * Exit status 0, 1 when an allocation fails or a system call does, 2 for a
 * usage error. Nothing but the one line is printed on stdout. */
#define _GNU_SOURCE
#include "memkit.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIN_OBJ     32u
#define MAX_OBJ     1024u
#define HEADER      16u            /* bytes in front of a block counted in the floor */
#define RING        1024u          /* live blocks of the stall loop, per thread (power of 2) */
#define STACK_TOUCH (128u << 10)   /* stack written ahead of the base reading */
#define SUB_BITS    5u             /* histogram: 32 buckets per power of two */
#define SUB         (1u << SUB_BITS)
#define NBUCKETS    ((64u - SUB_BITS) * SUB)
#define RADIX_BITS  12u
#define BATCH       256u           /* stall-loop iterations between two schedstat reads */

struct worker {
    pthread_t tid;
    unsigned index;
    uint64_t seed;
    size_t target;            /* bytes to request */
    void **ptrs;              /* mmap'd, cap entries */
    size_t cap, n, live;
    size_t map_len;
    int failed;
    uint64_t calls, max_ns;
    int schedstat_fd;         /* /proc/thread-self/schedstat, or -1 */
    int64_t max_adj_ns;       /* longest call less its batch's run-queue wait */
    int adj_unknown;          /* a schedstat read failed */
    uint64_t runq_ns;         /* run-queue wait during the stall loop */
    uint64_t hist[NBUCKETS];
    void *ring[RING];
};

static struct worker workers[2];
static pthread_barrier_t barrier;
static int pattern_random;
static double wait_s = 5;
static int stop_flag;         /* __atomic: the stall loops end */
static int run_wait;          /* set by main before barrier 5: the stall loops run */
static double wait_deadline;  /* CLOCK_MONOTONIC seconds, set by main before the wait */
static uint64_t radix_count[1u << RADIX_BITS];
static long page_size;

/* ---- small helpers ---------------------------------------------------------- */

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double now_s(void)
{
    return (double)now_ns() * 1e-9;
}

/* Error messages go to stderr with write(): stdio might allocate. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, "frag: ", 6);
    w = write(STDERR_FILENO, buf, (size_t)n);
    (void)w;
}

/* Anonymous resident bytes (statm resident - shared), read without stdio. */
static long long anon_rss(void)
{
    char buf[256];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    unsigned long long size, resident, shared;
    if (sscanf(buf, "%llu %llu %llu", &size, &resident, &shared) != 3)
        return -1;
    return (long long)(resident - shared) * page_size;
}

/* Resident bytes of [addr, addr + len) (page aligned start), by mincore. */
static long long resident_bytes(void *addr, size_t len)
{
    static unsigned char vec[4096];
    long long total = 0;
    size_t pages = (len + (size_t)page_size - 1) / (size_t)page_size;
    for (size_t done = 0; done < pages;) {
        size_t chunk = pages - done < sizeof vec ? pages - done : sizeof vec;
        if (mincore((char *)addr + done * (size_t)page_size, chunk * (size_t)page_size, vec) != 0)
            return -1;
        for (size_t i = 0; i < chunk; i++)
            total += vec[i] & 1;
        done += chunk;
    }
    return total * page_size;
}

static void *map_anon(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Writes STACK_TOUCH bytes of stack so that later calls find it resident. */
static __attribute__((noinline)) void touch_stack(void)
{
    volatile char buf[STACK_TOUCH];
    for (size_t i = 0; i < sizeof buf; i += 256)
        buf[i] = (char)i;
}

/* ---- histogram -------------------------------------------------------------- */

static unsigned bucket_of(uint64_t v)
{
    if (v < 2 * SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned e = msb - SUB_BITS;                 /* >= 1 */
    return (e + 1) * SUB + (unsigned)((v >> e) - SUB);
}

/* The largest value that falls in bucket b. */
static uint64_t bucket_top(unsigned b)
{
    if (b < 2 * SUB)
        return b;
    unsigned e = b / SUB - 1;
    uint64_t m = b % SUB + SUB;
    return ((m + 1) << e) - 1;
}

static inline void record(struct worker *w, uint64_t ns)
{
    w->hist[bucket_of(ns)]++;
    w->calls++;
    if (ns > w->max_ns)
        w->max_ns = ns;
}

/* ---- the two threads' work ------------------------------------------------- */

/* The calling thread's time spent runnable but waiting for a CPU (ns), the
 * second field of /proc/thread-self/schedstat; -1 if not available. */
static int64_t run_delay(struct worker *w)
{
    char buf[96];
    if (w->schedstat_fd < 0)
        return -1;
    ssize_t n = pread(w->schedstat_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p;
    strtoull(buf, &p, 10);
    if (*p != ' ')
        return -1;
    return (int64_t)strtoull(p + 1, NULL, 10);
}

static void open_schedstat(struct worker *w)
{
    w->schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    run_delay(w);
}

static void build(struct worker *w)
{
    size_t done = 0;
    while (done < w->target) {
        if (w->n == w->cap) {
            say("thread %u: pointer array full", w->index);
            w->failed = 1;
            return;
        }
        uint64_t r = xorshift64(&w->seed);
        size_t size = MIN_OBJ + (size_t)(r % (MAX_OBJ - MIN_OBJ + 1));
        unsigned char *p = malloc(size);
        if (!p) {
            say("thread %u: malloc(%zu) failed after %zu bytes: %s", w->index, size, done,
                strerror(errno));
            w->failed = 1;
            return;
        }
        memset(p, (int)(r >> 56) | 1, size);
        w->ptrs[w->n++] = p;
        done += size;
    }
}

/* Frees 90% of the objects and moves the live pointers to the front. */
static void free_most(struct worker *w)
{
    size_t n = w->n, nfree = (size_t)((unsigned long long)n * 9 / 10);
    if (pattern_random) {
        for (size_t i = n - 1; i > 0; i--) {         /* Fisher-Yates */
            size_t j = (size_t)(xorshift64(&w->seed) % (i + 1));
            void *t = w->ptrs[i];
            w->ptrs[i] = w->ptrs[j];
            w->ptrs[j] = t;
        }
    }
    for (size_t i = 0; i < nfree; i++)
        free(w->ptrs[i]);
    memmove(w->ptrs, w->ptrs + nfree, (n - nfree) * sizeof *w->ptrs);
    w->live = n - nfree;
}

/* malloc/free in a loop, every call timed, until stop_flag. */
static void stall_loop(struct worker *w)
{
    uint64_t seed = w->seed ^ 0x5851F42D4C957F2Dull;
    for (unsigned i = 0; i < RING; i++) {
        uint64_t r = xorshift64(&seed);
        w->ring[i] = malloc(MIN_OBJ + (size_t)(r % (MAX_OBJ - MIN_OBJ + 1)));
        if (!w->ring[i]) {
            w->failed = 1;
            break;
        }
        *(volatile char *)w->ring[i] = 1;
    }
    while (!w->failed && !__atomic_load_n(&stop_flag, __ATOMIC_RELAXED)) {
        uint64_t t2 = 0, batch_max = 0;
        int64_t q0 = run_delay(w);
        for (unsigned k = 0; k < BATCH; k++) {
            uint64_t r = xorshift64(&seed);
            unsigned i = (unsigned)(r & (RING - 1));
            size_t size = MIN_OBJ + (size_t)((r >> 20) % (MAX_OBJ - MIN_OBJ + 1));
            uint64_t t0 = now_ns();
            free(w->ring[i]);
            uint64_t t1 = now_ns();
            char *p = malloc(size);
            t2 = now_ns();
            if (!p) {
                say("thread %u: malloc(%zu) failed in the wait: %s", w->index, size,
                    strerror(errno));
                w->ring[i] = NULL;
                w->failed = 1;
                break;
            }
            p[0] = (char)r;
            p[size - 1] = (char)r;
            w->ring[i] = p;
            record(w, t1 - t0);
            record(w, t2 - t1);
            if (t1 - t0 > batch_max)
                batch_max = t1 - t0;
            if (t2 - t1 > batch_max)
                batch_max = t2 - t1;
        }
        int64_t q1 = run_delay(w);
        if (q0 >= 0 && q1 >= q0) {
            int64_t adj = (int64_t)batch_max - (q1 - q0);
            if (adj > w->max_adj_ns)
                w->max_adj_ns = adj;
            w->runq_ns += (uint64_t)(q1 - q0);
        } else {
            w->adj_unknown = 1;
        }
        if (w->index == 0 && (double)t2 * 1e-9 >= wait_deadline)
            __atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
    }
    if (w->index == 0)
        __atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < RING; i++) {
        free(w->ring[i]);
        w->ring[i] = NULL;
    }
}

/* The phases, separated by barriers; main does its measuring between them
 * while the pthread waits. */
static void *run(void *arg)
{
    struct worker *w = arg;
    touch_stack();
    open_schedstat(w);
    pthread_barrier_wait(&barrier);   /* 1: both ready; main reads the base */
    pthread_barrier_wait(&barrier);   /* 2: go */
    build(w);
    pthread_barrier_wait(&barrier);   /* 3: built */
    if (!w->failed)
        free_most(w);
    pthread_barrier_wait(&barrier);   /* 4: freed; main reads RSS, computes the floor */
    pthread_barrier_wait(&barrier);   /* 5: the wait begins */
    if (run_wait)
        stall_loop(w);
    pthread_barrier_wait(&barrier);   /* 6: the wait is over */
    return NULL;
}

/* ---- the floor ---------------------------------------------------------------- */

/* LSD radix sort of v[0..n) (values < 2^bits), scratch the same size. */
static void radix_sort(uint64_t *v, uint64_t *scratch, size_t n, unsigned bits)
{
    const uint64_t mask = (1u << RADIX_BITS) - 1;
    for (unsigned shift = 0; shift < bits; shift += RADIX_BITS) {
        memset(radix_count, 0, sizeof radix_count);
        for (size_t i = 0; i < n; i++)
            radix_count[(v[i] >> shift) & mask]++;
        uint64_t sum = 0;
        for (size_t d = 0; d <= mask; d++) {
            uint64_t c = radix_count[d];
            radix_count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            scratch[radix_count[(v[i] >> shift) & mask]++] = v[i];
        uint64_t *t = v;
        v = scratch;
        scratch = t;
    }
    /* After an odd number of passes the result is in the caller's scratch. */
    unsigned passes = (bits + RADIX_BITS - 1) / RADIX_BITS;
    if (passes % 2)
        memcpy(scratch, v, n * sizeof *v);
}

/* Distinct pages touched by [p - HEADER, p + usable) over all live objects;
 * -1 if the page list cannot be mapped. */
static long long floor_pages(void)
{
    const uintptr_t pg = (uintptr_t)page_size;
    size_t entries = 0;
    uintptr_t max_page = 0;
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < workers[t].live; i++) {
            uintptr_t a = (uintptr_t)workers[t].ptrs[i];
            uintptr_t first = (a - HEADER) / pg, last = (a + malloc_usable_size((void *)a) - 1) / pg;
            entries += last - first + 1;
            if (last > max_page)
                max_page = last;
        }
    if (entries == 0)
        return 0;
    size_t len = entries * sizeof(uint64_t);
    uint64_t *v = map_anon(2 * len);
    if (!v)
        return -1;
    uint64_t *scratch = v + entries;
    size_t k = 0;
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < workers[t].live; i++) {
            uintptr_t a = (uintptr_t)workers[t].ptrs[i];
            uintptr_t first = (a - HEADER) / pg, last = (a + malloc_usable_size((void *)a) - 1) / pg;
            for (uintptr_t q = first; q <= last; q++)
                v[k++] = q;
        }
    unsigned bits = 64u - (unsigned)__builtin_clzll((unsigned long long)max_page | 1);
    radix_sort(v, scratch, entries, bits);
    long long distinct = 1;
    for (size_t i = 1; i < entries; i++)
        distinct += v[i] != v[i - 1];
    munmap(v, 2 * len);
    return distinct;
}

/* ---- main ------------------------------------------------------------------------ */

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -1;
    unsigned long long mul = 1;
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
    *out = (size_t)(v * mul);
    return 0;
}

static void usage(void)
{
    say("usage: frag [--size BYTES(1G)] [--pattern oldest|random] [--wait SECONDS(5)] "
        "[--seed N] [--trim-self]");
}

static void hist_merge(uint64_t *calls, double *p99_us, double *max_us)
{
    uint64_t total = workers[0].calls + workers[1].calls;
    uint64_t max_ns = workers[0].max_ns > workers[1].max_ns ? workers[0].max_ns : workers[1].max_ns;
    *calls = total;
    *max_us = (double)max_ns / 1000.0;
    *p99_us = 0;
    if (!total)
        return;
    uint64_t rank = total - total / 100;   /* the call at or below which 99% fall */
    uint64_t seen = 0;
    for (unsigned b = 0; b < NBUCKETS; b++) {
        seen += workers[0].hist[b] + workers[1].hist[b];
        if (seen >= rank) {
            uint64_t top = bucket_top(b);
            *p99_us = (double)(top < max_ns ? top : max_ns) / 1000.0;
            return;
        }
    }
}

int main(int argc, char **argv)
{
    size_t size = 1ull << 30;
    uint64_t seed = 1;
    int trim_self = 0;
    page_size = sysconf(_SC_PAGESIZE);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        if (!strcmp(a, "--size") && i + 1 < argc) {
            if (parse_size(argv[++i], &size) || size < 2 * MAX_OBJ) {
                say("--size takes a byte count of at least %u (K, M, G suffixes)", 2 * MAX_OBJ);
                return 2;
            }
        } else if (!strcmp(a, "--pattern") && i + 1 < argc) {
            const char *p = argv[++i];
            if (!strcmp(p, "oldest"))
                pattern_random = 0;
            else if (!strcmp(p, "random"))
                pattern_random = 1;
            else {
                say("--pattern takes oldest or random");
                return 2;
            }
        } else if (!strcmp(a, "--wait") && i + 1 < argc) {
            errno = 0;
            wait_s = strtod(argv[++i], &end);
            if (errno || *end || end == argv[i] || !(wait_s >= 0) || wait_s > 86400) {
                say("--wait takes seconds");
                return 2;
            }
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            errno = 0;
            seed = strtoull(argv[++i], &end, 10);
            if (errno || *end || end == argv[i]) {
                say("--seed takes a number");
                return 2;
            }
        } else if (!strcmp(a, "--trim-self")) {
            trim_self = 1;
        } else {
            usage();
            return 2;
        }
    }

    /* Who answers malloc, and memkit's statistics if it is loaded. Looked up
     * now: a failed dlsym allocates its error message. */
    const char *allocator = "glibc";
    if (dlsym(RTLD_DEFAULT, "mallctl"))
        allocator = "jemalloc";
    else if (dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"))
        allocator = "tcmalloc";
    else if (dlsym(RTLD_DEFAULT, "mi_malloc"))
        allocator = "mimalloc";
    int (*mk_stats)(memkit_stats_t *) = (int (*)(memkit_stats_t *))dlsym(RTLD_DEFAULT, "memkit_stats");
    dlerror();

    /* Pointer arrays: room for the most objects SIZE/2 can hold. Reserved
     * (MAP_NORESERVE), resident only as far as they are written. */
    for (unsigned t = 0; t < 2; t++) {
        struct worker *w = &workers[t];
        w->index = t;
        w->seed = (seed + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)(t + 1) * 0xD1B54A32D192ED03ull);
        for (int k = 0; k < 8; k++)
            xorshift64(&w->seed);
        w->target = t == 0 ? size / 2 : size - size / 2;
        w->cap = w->target / MIN_OBJ + 2;
        w->map_len = (w->cap * sizeof(void *) + (size_t)page_size - 1) & ~((size_t)page_size - 1);
        w->ptrs = map_anon(w->map_len);
        if (!w->ptrs) {
            say("mmap %zu bytes: %s", w->map_len, strerror(errno));
            return 1;
        }
    }
    /* Make this program's own static memory resident before the base. */
    memset(workers[0].hist, 0, sizeof workers[0].hist);
    memset(workers[1].hist, 0, sizeof workers[1].hist);
    memset(workers[0].ring, 0, sizeof workers[0].ring);
    memset(workers[1].ring, 0, sizeof workers[1].ring);
    memset(radix_count, 0, sizeof radix_count);
    if (resident_bytes(workers[0].ptrs, (size_t)page_size) < 0) {   /* and mincore's vec */
        say("mincore: %s", strerror(errno));
        return 1;
    }
    touch_stack();
    { char tmp[64]; snprintf(tmp, sizeof tmp, "%f", 1.5); }   /* stdio's number code, once */
    anon_rss();

    pthread_barrier_init(&barrier, NULL, 2);
    int rc = pthread_create(&workers[1].tid, NULL, run, &workers[1]);
    if (rc) {
        say("pthread_create: %s", strerror(rc));
        return 1;
    }
    struct worker *w = &workers[0];
    open_schedstat(w);

    pthread_barrier_wait(&barrier);                              /* 1 */
    long long rss_base = anon_rss();
    double t0 = now_s();
    pthread_barrier_wait(&barrier);                              /* 2 */
    build(w);
    pthread_barrier_wait(&barrier);                              /* 3 */
    double build_s = now_s() - t0;
    int failed = workers[0].failed | workers[1].failed;
    if (!failed)
        free_most(w);
    pthread_barrier_wait(&barrier);                              /* 4 */

    /* Drop the freed part of the pointer arrays, then read RSS and take
     * off what is left of them (exactly, by mincore). */
    long long rss_free = -1, book = 0;
    for (unsigned t = 0; t < 2 && !failed; t++) {
        struct worker *x = &workers[t];
        size_t keep = (x->live * sizeof(void *) + (size_t)page_size - 1) & ~((size_t)page_size - 1);
        if (keep < x->map_len)
            madvise((char *)x->ptrs + keep, x->map_len - keep, MADV_DONTNEED);
    }
    if (!failed) {
        rss_free = anon_rss();
        for (unsigned t = 0; t < 2; t++)
            book += resident_bytes(workers[t].ptrs, workers[t].map_len);
        rss_free -= rss_base + book;
    }
    double trim_ms = 0;
    if (trim_self && !failed) {
        double ts = now_s();
        malloc_trim(0);
        trim_ms = (now_s() - ts) * 1000.0;
    }
    long long floor_p = failed ? 0 : floor_pages();
    if (floor_p < 0) {
        say("mmap for the floor's page list: %s", strerror(errno));
        failed = 1;
    }
    size_t live = workers[0].live + workers[1].live, objects = workers[0].n + workers[1].n;
    /* The live objects stay allocated to the end; their pointers are no
     * longer needed. */
    for (unsigned t = 0; t < 2; t++)
        munmap(workers[t].ptrs, workers[t].map_len);

    run_wait = wait_s > 0 && !failed;
    wait_deadline = now_s() + wait_s;
    pthread_barrier_wait(&barrier);                              /* 5 */
    if (run_wait)
        stall_loop(w);
    pthread_barrier_wait(&barrier);                              /* 6 */
    long long rss_wait = anon_rss() - rss_base;
    pthread_join(workers[1].tid, NULL);
    failed |= workers[0].failed | workers[1].failed;
    if (failed)
        return 1;

    long long compactions = -1;
    if (mk_stats) {
        memkit_stats_t st;
        memset(&st, 0, sizeof st);
        st.size = sizeof st;
        if (mk_stats(&st) == 0)
            compactions = (long long)st.compactions;
    }
    uint64_t calls;
    double p99_us, max_us;
    hist_merge(&calls, &p99_us, &max_us);

    int64_t adj = workers[0].max_adj_ns > workers[1].max_adj_ns ? workers[0].max_adj_ns
                                                                : workers[1].max_adj_ns;
    if (workers[0].adj_unknown || workers[1].adj_unknown || workers[0].schedstat_fd < 0 ||
        workers[1].schedstat_fd < 0)
        adj = -1000;                               /* printed as -1: unknown */
    else if (adj < 0)
        adj = 0;
    char line[768];
    int n = snprintf(line, sizeof line,
                     "floor_bytes=%lld rss_after_free=%lld rss_after_wait=%lld stall_max_us=%.1f "
                     "stall_p99_us=%.3f live_objects=%zu build_s=%.3f objects=%zu stall_calls=%llu "
                     "stall_max_adj_us=%.1f stall_runq_ms=%.1f "
                     "allocator=%s memkit=%d compactions=%lld",
                     floor_p * page_size, rss_free, rss_wait, max_us, p99_us, live, build_s,
                     objects, (unsigned long long)calls, (double)adj / 1000.0,
                     (double)(workers[0].runq_ns + workers[1].runq_ns) / 1e6, allocator,
                     mk_stats != NULL, compactions);
    if (trim_self)
        n += snprintf(line + n, sizeof line - (size_t)n, " trim_self_ms=%.1f", trim_ms);
    line[n++] = '\n';
    return write(STDOUT_FILENO, line, (size_t)n) == n ? 0 : 1;
}
