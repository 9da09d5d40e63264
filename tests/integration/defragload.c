/* defragload.c — a heap that fragments on command, for the defragmenter's
 * tests. The arguments are steps, run in order:
 *
 *   alloc SIZE        allocate SIZE bytes of 32..1024 B blocks (main thread)
 *   free PCT          free the oldest PCT percent of what is held
 *   holes N           free every held block but each Nth: nearly every page
 *                     keeps a live block, so a trim gives back little
 *   thread SIZE       a thread allocates SIZE, frees the oldest 90% and exits
 *                     (its arena keeps the holes: glibc's other-thread case)
 *   churn SIZE N      N rounds of allocating and freeing SIZE in blocks the
 *                     allocator reuses at once (trims give back nothing)
 *   notify SIZE       memkit_notify_released(SIZE)
 *   compact           memkit_compact(); prints "compact ran=R"
 *   set NAME VALUE    memkit_config_set; prints "set NAME=<get> rc=R"
 *   wait N SECONDS    until memkit_stats says N compactions, or the time is
 *                     up; prints "compactions=C" (C as seen)
 *   sleep SECONDS     (fractions allowed)
 *   forks N           N children while a thread compacts: each child
 *                     allocates, frees and leaves with exit(0); all reaped
 *   fork-child SIZE   a child allocates and frees SIZE, waits up to 5 s for
 *                     a compaction of its own and exits; prints
 *                     "child compactions=C rc=R"
 *   verify SECONDS    two threads allocate, reallocate, check and free
 *                     blocks with known contents (every allocating call,
 *                     malloc_usable_size: at least glibc's figure, and all
 *                     of it written) while the main thread compacts
 *                     over and over; prints "verify errors=E compactions=C"
 *   exit-compacting   a thread starts a compaction and the program exits
 *                     while it runs (exit status 0)
 *   rss               prints "rss_mib=M"
 *
 * memkit's functions are found with dlsym, so the program also runs
 * without memkit (they are then skipped and say so). Sizes take K, M, G. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memkit.h"

static int (*p_stats)(memkit_stats_t *);
static int (*p_compact)(memkit_compact_result_t *);
static void (*p_notify)(size_t);
static int (*p_set)(const char *, const char *);
static int (*p_get)(const char *, char *, size_t);

struct heap {
    void **blocks;
    size_t count, cap, first;   /* live blocks are blocks[first, count) */
};
static struct heap held;
static unsigned long long rng = 88172645463325252ull;

static unsigned next_size(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return 32 + (unsigned)(rng % 993);
}

static size_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    switch (*end) {
    case 'K': case 'k': v *= 1024; break;
    case 'M': case 'm': v *= 1024 * 1024; break;
    case 'G': case 'g': v *= 1024.0 * 1024 * 1024; break;
    }
    return (size_t)v;
}

static void heap_alloc(struct heap *h, size_t bytes)
{
    for (size_t got = 0; got < bytes;) {
        if (h->count == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 65536;
            h->blocks = realloc(h->blocks, h->cap * sizeof *h->blocks);
            if (!h->blocks) {
                perror("realloc");
                exit(3);
            }
        }
        unsigned n = next_size();
        char *p = malloc(n);
        if (!p) {
            perror("malloc");
            exit(3);
        }
        memset(p, 0x5a, n);   /* touched, so resident */
        h->blocks[h->count++] = p;
        got += n;
    }
}

static void heap_free_oldest(struct heap *h, unsigned pct)
{
    size_t live = h->count - h->first;
    size_t n = live * pct / 100;
    for (size_t i = 0; i < n; i++)
        free(h->blocks[h->first + i]);
    h->first += n;
}

static void heap_holes(struct heap *h, unsigned every)
{
    size_t kept = h->first;
    for (size_t i = h->first; i < h->count; i++) {
        if ((i - h->first) % every == 0)
            h->blocks[kept++] = h->blocks[i];
        else
            free(h->blocks[i]);
    }
    h->count = kept;
}

static void *thread_heap(void *arg)
{
    struct heap h = { 0 };
    heap_alloc(&h, *(size_t *)arg);
    heap_free_oldest(&h, 90);
    return NULL;   /* the 10% left stay allocated: holes in this arena */
}

static uint64_t compactions(void)
{
    memkit_stats_t s = { .size = sizeof s };
    return p_stats && p_stats(&s) == 0 ? s.compactions : 0;
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long rss_mib(void)
{
    long pages = 0, size;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &pages) != 2)
            pages = 0;
        fclose(f);
    }
    return pages * sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

static void *compact_thread(void *arg)
{
    int *stop = arg;
    do {
        if (p_compact)
            p_compact(NULL);
    } while (stop && !__atomic_load_n(stop, __ATOMIC_ACQUIRE));
    return NULL;
}

static void forks(int n)
{
    int stop = 0;
    pthread_t tid;
    pthread_create(&tid, NULL, compact_thread, &stop);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct heap h = { 0 };
            heap_alloc(&h, 1 << 20);
            heap_free_oldest(&h, 100);
            exit(0);
        }
        int status;
        if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0)
            ok++;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    pthread_join(tid, NULL);
    printf("forks=%d ok=%d\n", n, ok);
}

/* ---- verify: contents survive compactions (and memkit's detour) ---- */

#define SLOTS 4096
struct slot { unsigned char *p; size_t n; unsigned char fill; };
static int verify_stop;
static unsigned long verify_errors;

static int intact(const struct slot *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->p[i] != s->fill)
            return 0;
    return 1;
}

/* The least malloc_usable_size glibc answers for a block of n bytes: the
 * request plus its size word, rounded up to 16, at least 32, less the size
 * word (a mapped or a larger free chunk gives more). memkit's detour heap
 * must answer at least as much, and the program may use it all. */
static size_t least_usable(size_t n)
{
    size_t chunk = (n + 8 + 15) & ~(size_t)15;
    return (chunk < 32 ? 32 : chunk) - 8;
}

static void *verify_worker(void *arg)
{
    unsigned long long r = (uintptr_t)arg * 2654435761u + 1;
    struct slot *slots = calloc(SLOTS, sizeof *slots);
    while (!__atomic_load_n(&verify_stop, __ATOMIC_ACQUIRE)) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        struct slot *s = &slots[(r >> 20) % SLOTS];
        size_t n = (r >> 40) % 3 == 0 ? (r >> 8) % 300000 : (r >> 8) % 2048;
        unsigned op = (unsigned)(r >> 60) % 6;
        if (s->p && !intact(s))
            verify_errors++;
        if (s->p && malloc_usable_size(s->p) < s->n)
            verify_errors++;
        unsigned char *q = NULL;
        switch (op) {
        case 0: q = malloc(n); break;
        case 1:
            q = calloc(1, n);
            for (size_t i = 0; q && i < n; i++)
                if (q[i])
                    verify_errors++;
            break;
        case 2: case 3:   /* grow or shrink in place of the old block */
            q = realloc(s->p, n);
            if (q && n) {
                size_t keep = s->n < n ? s->n : n;
                for (size_t i = 0; i < keep; i++)
                    if (q[i] != s->fill)
                        verify_errors++;
                s->p = NULL;
            } else if (!q && n == 0) {
                s->p = NULL;   /* realloc(p, 0) freed it */
            }
            break;
        case 4: q = reallocarray(NULL, n, 1); break;
        case 5: {
            void *a = NULL;
            if (posix_memalign(&a, 64, n) == 0) {
                if ((uintptr_t)a % 64)
                    verify_errors++;
                q = a;
            }
            break;
        }
        }
        free(s->p);
        s->p = q;
        s->n = q ? n : 0;
        s->fill = (unsigned char)(r >> 24);
        if (q) {
            size_t usable = malloc_usable_size(q);
            if (usable < least_usable(n))
                verify_errors++;
            memset(q, s->fill, usable);   /* all of it is the program's */
        }
    }
    for (size_t i = 0; i < SLOTS; i++) {
        if (slots[i].p && !intact(&slots[i]))
            verify_errors++;
        free(slots[i].p);
    }
    free(slots);
    return NULL;
}

static void verify(double seconds)
{
    pthread_t tid[2];
    for (uintptr_t i = 0; i < 2; i++)
        pthread_create(&tid[i], NULL, verify_worker, (void *)(i + 1));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long n = 0;
    do {
        if (p_compact && p_compact(NULL) == 0)
            n++;
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
    __atomic_store_n(&verify_stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(tid[i], NULL);
    printf("verify errors=%lu compactions=%s\n", verify_errors, n > 10 ? "many" : "few");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    p_stats = (int (*)(memkit_stats_t *))dlsym(RTLD_DEFAULT, "memkit_stats");
    p_compact = (int (*)(memkit_compact_result_t *))dlsym(RTLD_DEFAULT, "memkit_compact");
    p_notify = (void (*)(size_t))dlsym(RTLD_DEFAULT, "memkit_notify_released");
    p_set = (int (*)(const char *, const char *))dlsym(RTLD_DEFAULT, "memkit_config_set");
    p_get = (int (*)(const char *, char *, size_t))dlsym(RTLD_DEFAULT, "memkit_config_get");

    for (int i = 1; i < argc; i++) {
        const char *step = argv[i];
        const char *a = i + 1 < argc ? argv[i + 1] : "0";
        const char *b = i + 2 < argc ? argv[i + 2] : "0";
        if (!strcmp(step, "alloc")) {
            heap_alloc(&held, parse_size(a));
            i++;
        } else if (!strcmp(step, "free")) {
            heap_free_oldest(&held, (unsigned)atoi(a));
            i++;
        } else if (!strcmp(step, "holes")) {
            heap_holes(&held, (unsigned)atoi(a));
            i++;
        } else if (!strcmp(step, "thread")) {
            size_t bytes = parse_size(a);
            pthread_t tid;
            pthread_create(&tid, NULL, thread_heap, &bytes);
            pthread_join(tid, NULL);
            i++;
        } else if (!strcmp(step, "churn")) {
            size_t bytes = parse_size(a);
            for (int r = 0; r < atoi(b); r++) {
                struct heap h = { 0 };
                rng = 42;   /* the same sizes each round: the allocator reuses */
                heap_alloc(&h, bytes);
                heap_free_oldest(&h, 100);
                free(h.blocks);
            }
            i += 2;
        } else if (!strcmp(step, "notify")) {
            if (p_notify)
                p_notify(parse_size(a));
            i++;
        } else if (!strcmp(step, "compact")) {
            memkit_compact_result_t r = { .size = sizeof r };
            int rc = p_compact ? p_compact(&r) : -1;
            printf("compact rc=%d ran=%d\n", rc, rc == 0 ? r.ran : 0);
        } else if (!strcmp(step, "set")) {
            char got[64] = "";
            int rc = p_set ? p_set(a, b) : -1;
            if (p_get)
                p_get(a, got, sizeof got);
            printf("set %s=%s rc=%d\n", a, got, rc);
            i += 2;
        } else if (!strcmp(step, "wait")) {
            uint64_t want = strtoull(a, NULL, 10);
            double limit = atof(b), waited = 0;
            while (compactions() < want && waited < limit) {
                sleep_s(0.02);
                waited += 0.02;
            }
            printf("compactions=%llu\n", (unsigned long long)compactions());
            i += 2;
        } else if (!strcmp(step, "sleep")) {
            sleep_s(atof(a));
            i++;
        } else if (!strcmp(step, "forks")) {
            forks(atoi(a));
            i++;
        } else if (!strcmp(step, "fork-child")) {
            size_t bytes = parse_size(a);
            pid_t pid = fork();
            if (pid == 0) {
                struct heap h = { 0 };
                heap_alloc(&h, bytes);
                heap_free_oldest(&h, 100);
                for (int w = 0; w < 250 && compactions() < 1; w++)
                    sleep_s(0.02);
                exit(compactions() >= 1 ? 0 : 1);
            }
            int status = -1;
            waitpid(pid, &status, 0);
            printf("child compactions=%d rc=%d\n", WIFEXITED(status) && !WEXITSTATUS(status),
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            i++;
        } else if (!strcmp(step, "verify")) {
            verify(atof(a));
            i++;
        } else if (!strcmp(step, "exit-compacting")) {
            pthread_t tid;
            pthread_create(&tid, NULL, compact_thread, NULL);
            sleep_s(0.005);   /* inside malloc_trim by now, on a big heap */
            exit(0);
        } else if (!strcmp(step, "rss")) {
            printf("rss_mib=%ld\n", rss_mib());
        } else {
            fprintf(stderr, "defragload: unknown step %s\n", step);
            return 2;
        }
    }
    return 0;
}
