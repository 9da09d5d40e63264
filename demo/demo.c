/* memkit-demo — allocates and frees like a long-running service, for a few
 * seconds, so that memkit has something to measure and give back.
 *
 *   memkit-demo [SECONDS]          (default 4; 0.5 .. 3600)
 *
 * Phases, each a share of the time:
 *   startup     long-lived tables: a few thousand small strings
 *   bursts      bursts of many small blocks, most freed at once, the rest
 *               churning through a live set
 *   big blocks  1..64 MiB blocks, half malloc'd, half mmap'd directly
 *               (one grown with realloc, one with mremap), touched, freed
 *   workers     two threads exchanging buffers: each frees what the other
 *               allocated, as stages of a pipeline do
 *   release     most memory freed, survivors scattered through the heap so
 *               the allocator cannot shrink it by itself: what a compaction
 *               gives back; then a quiet wait, as an idle service
 * Progress goes to stdout, one short line per phase. When memkit is
 * preloaded, its counters are printed at the end (found with dlsym, so the
 * program runs the same without memkit). Exit status 0, or 1 if memory ran
 * out or a buffer came back damaged. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "memkit.h"

#define MIB (1024.0 * 1024.0)

/* ---- small helpers -------------------------------------------------------------- */

static double t_start;
static uint64_t held;   /* bytes the demo holds (requested sizes), all threads */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void hold(int64_t bytes)
{
    __atomic_add_fetch(&held, (uint64_t)bytes, __ATOMIC_RELAXED);
}

static double held_mib(void)
{
    return (double)__atomic_load_n(&held, __ATOMIC_RELAXED) / MIB;
}

static double rss_mib(void)
{
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%*s %ld", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return (double)pages * (double)sysconf(_SC_PAGESIZE) / MIB;
}

static void say(const char *phase, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const char *phase, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("[%5.2fs] %-10s ", now_s() - t_start, phase);
    vprintf(fmt, ap);
    printf("; holds %.1f MiB, rss %.1f MiB\n", held_mib(), rss_mib());
    fflush(stdout);
    va_end(ap);
}

static void die(const char *what)
{
    fprintf(stderr, "memkit-demo: %s: %s\n", what, strerror(errno ? errno : ENOMEM));
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        die("malloc");
    hold((int64_t)n);
    return p;
}

static void xfree(void *p, size_t n)
{
    if (p) {
        free(p);
        hold(-(int64_t)n);
    }
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* A size from a service's typical mix: mostly small, sometimes a few KiB. */
static size_t small_size(uint64_t r)
{
    if ((r & 15) == 0)
        return 1024 + (size_t)((r >> 8) % 7168);   /* 1..8 KiB, one in 16 */
    return 16 + (size_t)((r >> 8) % 497);           /* 16..512 B */
}

/* ---- startup: long-lived tables --------------------------------------------------- */

#define TABLE 4096
static char *table[TABLE];

static void phase_startup(void)
{
    for (int i = 0; i < TABLE; i++) {
        char buf[96];
        int n = snprintf(buf, sizeof buf, "option.%d = value of option %d, default %d", i, i,
                         i * 7);
        table[i] = xmalloc((size_t)n + 1);
        memcpy(table[i], buf, (size_t)n + 1);
    }
    say("startup", "%d config entries", TABLE);
}

/* ---- bursts and a churning live set ----------------------------------------------- */

#define LIVE   65536        /* slots of the live set */
#define BURST  20000        /* blocks per burst */

struct block { void *p; size_t n; };
static struct block live[LIVE];
static struct block burst[BURST];

static void phase_bursts(double until, uint64_t *seed)
{
    long bursts = 0;
    uint64_t allocated = 0;
    do {
        for (int i = 0; i < BURST; i++) {
            uint64_t r = next_rand(seed);
            size_t n = small_size(r);
            burst[i].p = xmalloc(n);
            burst[i].n = n;
            memset(burst[i].p, (int)i, n < 64 ? n : 64);
            allocated += n;
        }
        /* One in ten joins the live set, pushing out what sat in its slot;
         * the rest are freed, newest first, as a request's scratch is. */
        for (int i = BURST - 1; i >= 0; i--) {
            uint64_t r = next_rand(seed);
            if (r % 10 == 0) {
                struct block *s = &live[(r >> 8) % LIVE];
                xfree(s->p, s->n);
                *s = burst[i];
            } else {
                xfree(burst[i].p, burst[i].n);
            }
        }
        bursts++;
    } while (now_s() < until);
    say("bursts", "%ld bursts of %d blocks, %.0f MiB allocated", bursts, BURST,
        (double)allocated / MIB);
}

/* ---- big blocks ------------------------------------------------------------------- */

#define BIG_LIVE 4          /* at most this many held at once */

struct big { void *p; size_t n; int mapped; };

static void big_free(struct big *b)
{
    if (!b->p)
        return;
    if (b->mapped) {
        munmap(b->p, b->n);
        hold(-(int64_t)b->n);
    } else {
        xfree(b->p, b->n);
    }
    b->p = NULL;
}

static void touch(void *p, size_t n)
{
    for (size_t off = 0; off < n; off += 4096)
        ((volatile char *)p)[off] = 1;
}

static void phase_big(double until, uint64_t *seed)
{
    struct big big[BIG_LIVE];
    memset(big, 0, sizeof big);
    int made = 0, maps = 0, reallocs = 0, remaps = 0;
    double top = 0;
    do {
        uint64_t r = next_rand(seed);
        struct big *b = &big[made % BIG_LIVE];
        big_free(b);
        b->n = ((size_t)1 << 20) * (1 + (size_t)((r >> 8) % 64));   /* 1..64 MiB */
        b->mapped = made & 1;
        if (b->mapped) {
            b->p = mmap(NULL, b->n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (b->p == MAP_FAILED)
                die("mmap");
            hold((int64_t)b->n);
            maps++;
        } else {
            b->p = xmalloc(b->n);
        }
        touch(b->p, b->n);
        /* Every third block grows by up to 16 MiB: realloc for a heap
         * block, mremap for a map (so both kinds grow in turn). */
        if (made % 3 == 2) {
            size_t grown = b->n + (b->n < ((size_t)16 << 20) ? b->n : ((size_t)16 << 20));
            void *q;
            if (b->mapped) {
                q = mremap(b->p, b->n, grown, MREMAP_MAYMOVE);
                if (q == MAP_FAILED)
                    die("mremap");
                remaps++;
            } else {
                q = realloc(b->p, grown);
                if (!q)
                    die("realloc");
                reallocs++;
            }
            hold((int64_t)(grown - b->n));
            b->p = q;
            touch((char *)q + b->n, grown - b->n);
            b->n = grown;
        }
        made++;
        if (held_mib() > top)
            top = held_mib();
    } while (now_s() < until);
    for (int i = 0; i < BIG_LIVE; i++)
        big_free(&big[i]);
    say("big", "%d blocks of 1..64 MiB (%d mmap'd, %d malloc'd; %d realloc, %d mremap), held up to %.0f MiB",
        made, maps, made - maps, reallocs, remaps, top);
}

/* ---- two workers exchanging buffers ------------------------------------------------ */

#define QCAP   64
#define WINDOW 32           /* buffers in flight at most: no queue ever fills */

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    void *item[QCAP];
    unsigned head, count;
};

static struct queue q_ab = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0 };
static struct queue q_ba = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0 };
static double workers_until;
static int damaged;

static void q_push(struct queue *q, void *p)
{
    pthread_mutex_lock(&q->lock);
    q->item[(q->head + q->count) % QCAP] = p;   /* WINDOW < QCAP: never full */
    q->count++;
    pthread_cond_signal(&q->ready);
    pthread_mutex_unlock(&q->lock);
}

static void *q_pop(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        pthread_cond_wait(&q->ready, &q->lock);
    void *p = q->item[q->head];
    q->head = (q->head + 1) % QCAP;
    q->count--;
    pthread_mutex_unlock(&q->lock);
    return p;
}

/* A message: its size, a sequence number, and a payload that depends on both. */
struct msg { size_t n; uint64_t seq; unsigned char data[]; };

static struct msg *msg_new(size_t n, uint64_t seq)
{
    struct msg *m = xmalloc(n);
    m->n = n;
    m->seq = seq;
    /* A header's worth of payload, plus the middle and the end: enough to
     * catch a damaged buffer without making this a memset benchmark. */
    size_t len = n - sizeof *m;
    memset(m->data, (int)(seq & 0xff), len < 4096 ? len : 4096);
    m->data[len / 2] = m->data[len - 1] = (unsigned char)(seq & 0xff);
    return m;
}

static int msg_ok(const struct msg *m)
{
    size_t len = m->n - sizeof *m;
    unsigned char want = (unsigned char)(m->seq & 0xff);
    return m->data[0] == want && m->data[len / 2] == want && m->data[len - 1] == want;
}

static struct msg *msg_free(struct msg *m)
{
    if (!msg_ok(m))
        __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
    xfree(m, m->n);
    return NULL;
}

static uint64_t exchanged, exchanged_bytes;

/* A: sends requests of 4..256 KiB, frees the replies B allocated. */
static void *worker_a(void *arg)
{
    uint64_t seed = 0xA5A5A5A5DEADBEEFull, sent = 0, received = 0, bytes = 0;
    (void)arg;
    while (now_s() < workers_until) {
        if (sent - received < WINDOW) {
            size_t n = 4096 + (size_t)(next_rand(&seed) % (252 * 1024));
            q_push(&q_ab, msg_new(n, sent++));
            bytes += n;
        } else {
            msg_free(q_pop(&q_ba));
            received++;
        }
    }
    q_push(&q_ab, NULL);                 /* B answers what is left, then NULL */
    for (struct msg *m; (m = q_pop(&q_ba)) != NULL; received++)
        msg_free(m);
    exchanged = sent;
    exchanged_bytes = bytes;
    return NULL;
}

/* B: frees each request A allocated and answers with a smaller reply of its own. */
static void *worker_b(void *arg)
{
    (void)arg;
    for (struct msg *m; (m = q_pop(&q_ab)) != NULL;) {
        size_t n = sizeof *m + 64 + m->n / 4;
        uint64_t seq = m->seq;
        msg_free(m);
        q_push(&q_ba, msg_new(n, seq));
    }
    q_push(&q_ba, NULL);
    return NULL;
}

static void phase_workers(double until)
{
    pthread_t a, b;
    workers_until = until;
    if (pthread_create(&b, NULL, worker_b, NULL) || pthread_create(&a, NULL, worker_a, NULL)) {
        fprintf(stderr, "memkit-demo: pthread_create failed\n");
        exit(1);
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    if (damaged) {
        fprintf(stderr, "memkit-demo: a buffer came back damaged\n");
        exit(1);
    }
    say("workers", "2 threads exchanged %llu buffers of 4..256 KiB (%.1f GiB) and replies",
        (unsigned long long)exchanged, (double)exchanged_bytes / MIB / 1024);
}

/* ---- release: most memory given back to the allocator ------------------------------ */

static void phase_release(double until, uint64_t *seed)
{
    /* Fill the live set so there is something to free, then free all but
     * one block in twenty: the survivors are scattered through the heap,
     * so the allocator cannot hand the freed pages back by itself. */
    for (int i = 0; i < LIVE; i++)
        if (!live[i].p) {
            live[i].n = small_size(next_rand(seed));
            live[i].p = xmalloc(live[i].n);
            memset(live[i].p, 1, live[i].n);
        }
    double before = held_mib(), rss_before = rss_mib();
    int kept = 0;
    for (int i = 0; i < LIVE; i++) {
        if (i % 20 == 0) {
            kept++;
            continue;
        }
        xfree(live[i].p, live[i].n);
        live[i].p = NULL;
    }
    say("release", "freed %.1f of %.1f MiB, kept %d scattered blocks (rss was %.1f MiB)",
        before - held_mib(), before, kept, rss_before);

    /* Idle, as a service between requests: a compaction would run now. */
    double idle_from = now_s();
    while (now_s() < until) {
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    say("idle", "quiet for %.1f s", now_s() - idle_from);
}

/* ---- the end ---------------------------------------------------------------------- */

static void free_everything(void)
{
    for (int i = 0; i < LIVE; i++) {
        xfree(live[i].p, live[i].n);
        live[i].p = NULL;
    }
    for (int i = 0; i < TABLE; i++) {
        xfree(table[i], strlen(table[i]) + 1);
        table[i] = NULL;
    }
}

static void print_memkit_stats(void)
{
    int (*stats)(memkit_stats_t *) = (int (*)(memkit_stats_t *))dlsym(RTLD_DEFAULT, "memkit_stats");
    if (!stats) {
        printf("memkit: not loaded (run with LD_PRELOAD=libmemkit.so to see its counters)\n");
        return;
    }
    memkit_stats_t s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    if (stats(&s) != 0) {
        printf("memkit: loaded, no counters (%s)\n",
               errno == ENOSYS ? "passing calls through" : strerror(errno));
        return;
    }
    printf("memkit: %llu allocations, %llu frees, heap in use %.1f MiB (peak %.1f MiB), "
           "%llu maps (peak %.1f MiB), %.1f MiB released, rss peak %.1f MiB\n",
           (unsigned long long)s.alloc_calls, (unsigned long long)s.free_calls,
           (double)s.heap_in_use / MIB, (double)s.heap_peak / MIB,
           (unsigned long long)s.mmap_calls, (double)s.mmap_peak / MIB,
           (double)s.released_bytes / MIB, (double)s.rss_peak / MIB);
}

int main(int argc, char **argv)
{
    double seconds = 4.0;
    if (argc > 2 || (argc == 2 && (seconds = strtod(argv[1], NULL), !(seconds >= 0.5 && seconds <= 3600)))) {
        fprintf(stderr, "usage: memkit-demo [SECONDS]   (0.5 .. 3600, default 4)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_start = now_s();
    uint64_t seed = 0x0123456789ABCDEFull;
    printf("memkit-demo: pid %d, %.1f s of service-like allocation\n", (int)getpid(), seconds);

    /* Shares of the time: startup is as long as it takes. */
    phase_startup();
    phase_bursts(t_start + seconds * 0.25, &seed);
    phase_big(t_start + seconds * 0.45, &seed);
    phase_workers(t_start + seconds * 0.75);
    phase_release(t_start + seconds, &seed);
    free_everything();
    say("done", "everything freed");
    print_memkit_stats();
    return 0;
}
