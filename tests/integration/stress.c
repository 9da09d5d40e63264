/* stress.c — multi-threaded allocation stress with a deterministic output.
 *
 *   1. peak:   the main thread holds 16 blocks of 1 MiB at once, then frees
 *              them (the report's heap peak must show it).
 *   2. queues: 4 producer threads allocate messages (every allocating
 *              function but pvalloc, sizes from 1 byte to 1 MiB), fill them
 *              and pass them through 4 queues to 4 consumer threads, which
 *              check them, sometimes grow them with realloc and free them:
 *              every message is freed on another thread than the one that
 *              allocated it.
 *   3. churn:  hundreds of short-lived threads, a few at a time, each
 *              allocating, checking and freeing; half of each thread's
 *              blocks are freed by the main thread after the thread is gone.
 *
 * Output: checksums that depend only on the contents (never on timing or
 * addresses), then how many allocating calls and frees the program itself
 * made, by function, so a test can compare them with memkit's report.
 * Exit status 0 when every check passed, 1 otherwise.
 *
 * pvalloc is left out: jemalloc has none, and glibc's would hand jemalloc
 * a block it does not own. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCERS 4
#define CONSUMERS 4
#define QCAP 512

static long messages_per_producer = 20000;
static int churn_threads = 400;
#define CHURN_WAVE 8
#define CHURN_BLOCKS 64

enum kind { K_MALLOC, K_CALLOC, K_REALLOC, K_REALLOCARRAY, K_POSIX_MEMALIGN,
            K_ALIGNED_ALLOC, K_MEMALIGN, K_VALLOC, K_COUNT };
static const char *const kind_names[K_COUNT] = {
    "malloc", "calloc", "realloc", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc",
};

/* Counts of the program's own calls: allocating calls that returned memory
 * and frees of a block. Updated atomically; compared with the report. */
static uint64_t made[K_COUNT];
static uint64_t frees_made;
static int failed;

static void count(enum kind k)
{
    __atomic_fetch_add(&made[k], 1, __ATOMIC_RELAXED);
}

static void counted_free(void *p)
{
    if (p)
        __atomic_fetch_add(&frees_made, 1, __ATOMIC_RELAXED);
    free(p);
}

static void fail(const char *what, long a, long b)
{
    fprintf(stderr, "stress: FAILED %s (%ld, %ld)\n", what, a, b);
    __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void fill(unsigned char *p, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 131u);
}

static int verify(const unsigned char *p, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 131u))
            return 0;
    return 1;
}

static uint64_t digest(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* ---- 1. peak ---------------------------------------------------------------- */

#define PEAK_BLOCKS 16
#define PEAK_BLOCK (1u << 20)

static void phase_peak(void)
{
    unsigned char *b[PEAK_BLOCKS];
    for (int i = 0; i < PEAK_BLOCKS; i++) {
        b[i] = malloc(PEAK_BLOCK);
        if (!b[i]) {
            fail("peak malloc", i, 0);
            return;
        }
        count(K_MALLOC);
        fill(b[i], PEAK_BLOCK, (uint64_t)i);
    }
    int ok = 1;
    for (int i = 0; i < PEAK_BLOCKS; i++)
        ok &= verify(b[i], PEAK_BLOCK, (uint64_t)i);
    for (int i = 0; i < PEAK_BLOCKS; i++)
        counted_free(b[i]);
    if (!ok)
        fail("peak contents", 0, 0);
    printf("peak: held %u bytes at once: %s\n", PEAK_BLOCKS * PEAK_BLOCK, ok ? "ok" : "BAD");
}

/* ---- 2. queues -------------------------------------------------------------- */

struct msg {
    uint32_t producer, seq;
    size_t len;            /* payload bytes */
    unsigned char payload[];
};

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct msg *items[QCAP];
    size_t head, n;
};

static struct queue queues[CONSUMERS];

static void q_push(struct queue *q, struct msg *m)
{
    pthread_mutex_lock(&q->lock);
    while (q->n == QCAP)
        pthread_cond_wait(&q->not_full, &q->lock);
    q->items[(q->head + q->n) % QCAP] = m;
    q->n++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

static struct msg *q_pop(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->n == 0)
        pthread_cond_wait(&q->not_empty, &q->lock);
    struct msg *m = q->items[q->head];
    q->head = (q->head + 1) % QCAP;
    q->n--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return m;
}

static size_t msg_len(uint64_t h, uint32_t seq)
{
    if (seq % 1009 == 0)
        return (size_t)(1u << 20) + (h % 4096);     /* 1 MiB: mmapped by glibc */
    if (seq % 97 == 0)
        return 150000 + (h % 100000);                /* past the mmap threshold */
    if (seq % 13 == 0)
        return h % 3;                                /* 0, 1 or 2 bytes */
    return 1 + (h % 4000);
}

/* Allocates a message by one of the allocating functions. */
static struct msg *msg_alloc(uint32_t producer, uint32_t seq, size_t len)
{
    size_t total = sizeof(struct msg) + len;
    enum kind k = (enum kind)(mix(((uint64_t)producer << 32) | seq) % K_COUNT);
    void *p = NULL;
    switch (k) {
    case K_MALLOC:
        p = malloc(total);
        break;
    case K_CALLOC:
        p = calloc(1, total);
        if (p) {
            for (size_t i = 0; i < total; i++)
                if (((unsigned char *)p)[i]) {
                    fail("calloc not zero", producer, seq);
                    break;
                }
        }
        break;
    case K_REALLOC: {
        /* small first, then grown: two allocating calls */
        void *first = malloc(8);
        if (!first)
            break;
        count(K_MALLOC);
        p = realloc(first, total);
        if (!p)
            counted_free(first);
        break;
    }
    case K_REALLOCARRAY:
        p = reallocarray(NULL, 1, total);
        break;
    case K_POSIX_MEMALIGN:
        if (posix_memalign(&p, 64, total) != 0)
            p = NULL;
        if (p && (uintptr_t)p % 64)
            fail("posix_memalign alignment", producer, seq);
        break;
    case K_ALIGNED_ALLOC:
        p = aligned_alloc(32, (total + 31) & ~(size_t)31);
        if (p && (uintptr_t)p % 32)
            fail("aligned_alloc alignment", producer, seq);
        break;
    case K_MEMALIGN:
        p = memalign(128, total);
        if (p && (uintptr_t)p % 128)
            fail("memalign alignment", producer, seq);
        break;
    case K_VALLOC:
        p = valloc(total);
        if (p && (uintptr_t)p % 4096)
            fail("valloc alignment", producer, seq);
        break;
    default:
        break;
    }
    if (!p) {
        fail("allocation", producer, seq);
        return NULL;
    }
    count(k);
    if (malloc_usable_size(p) < total)
        fail("usable size below request", producer, seq);
    return p;
}

static void *producer(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    for (uint32_t seq = 0; seq < (uint32_t)messages_per_producer; seq++) {
        uint64_t h = mix(((uint64_t)id << 32) ^ seq ^ 0x9e3779b97f4a7c15ULL);
        size_t len = msg_len(h, seq);
        struct msg *m = msg_alloc(id, seq, len);
        if (!m)
            continue;
        m->producer = id;
        m->seq = seq;
        m->len = len;
        fill(m->payload, len, h);
        q_push(&queues[(id + seq) % CONSUMERS], m);
    }
    for (int c = 0; c < CONSUMERS; c++)
        q_push(&queues[c], NULL);   /* this producer is done */
    return NULL;
}

struct consumer_result {
    uint64_t checksum, messages, grown;
};

struct consumer_arg {
    int id;
    struct consumer_result res;
};

static void *consumer_main(void *arg)
{
    struct consumer_arg *a = arg;
    struct queue *q = &queues[a->id];
    int done = 0;
    while (done < PRODUCERS) {
        struct msg *m = q_pop(q);
        if (!m) {
            done++;
            continue;
        }
        uint64_t h = mix(((uint64_t)m->producer << 32) ^ m->seq ^ 0x9e3779b97f4a7c15ULL);
        if (m->len != msg_len(h, m->seq) || !verify(m->payload, m->len, h))
            fail("message contents", m->producer, m->seq);
        a->res.checksum += digest(m->payload, m->len) ^ mix(((uint64_t)m->producer << 32) | m->seq);
        a->res.messages++;
        /* one message in five is grown before it is freed */
        if (mix(h) % 5 == 0) {
            size_t len = m->len;
            struct msg *g = realloc(m, sizeof(struct msg) + len * 2 + 16);
            if (!g) {
                fail("realloc grow", m->producer, m->seq);
            } else {
                count(K_REALLOC);
                m = g;
                if (!verify(m->payload, len, h))
                    fail("contents after realloc", m->producer, m->seq);
                memset(m->payload + len, 0x77, len + 16);
                a->res.grown++;
            }
        }
        counted_free(m);
    }
    return NULL;
}

static void phase_queues(void)
{
    pthread_t prod[PRODUCERS], cons[CONSUMERS];
    struct consumer_arg cargs[CONSUMERS];
    for (int c = 0; c < CONSUMERS; c++) {
        pthread_mutex_init(&queues[c].lock, NULL);
        pthread_cond_init(&queues[c].not_empty, NULL);
        pthread_cond_init(&queues[c].not_full, NULL);
        memset(&cargs[c], 0, sizeof cargs[c]);
        cargs[c].id = c;
        if (pthread_create(&cons[c], NULL, consumer_main, &cargs[c]) != 0) {
            fail("pthread_create consumer", c, 0);
            exit(1);
        }
    }
    for (int p = 0; p < PRODUCERS; p++)
        if (pthread_create(&prod[p], NULL, producer, (void *)(uintptr_t)p) != 0) {
            fail("pthread_create producer", p, 0);
            exit(1);
        }
    for (int p = 0; p < PRODUCERS; p++)
        pthread_join(prod[p], NULL);
    uint64_t checksum = 0, messages = 0, grown = 0;
    for (int c = 0; c < CONSUMERS; c++) {
        pthread_join(cons[c], NULL);
        checksum += cargs[c].res.checksum;
        messages += cargs[c].res.messages;
        grown += cargs[c].res.grown;
    }
    printf("queues: messages=%llu grown=%llu checksum=%016llx\n", (unsigned long long)messages,
           (unsigned long long)grown, (unsigned long long)checksum);
}

/* ---- 3. churn --------------------------------------------------------------- */

struct churn_arg {
    int id;
    uint64_t checksum;
    void *keep[CHURN_BLOCKS / 2];   /* freed by the main thread later */
};

static void *churn_thread(void *arg)
{
    struct churn_arg *a = arg;
    void *blocks[CHURN_BLOCKS];
    size_t lens[CHURN_BLOCKS];
    for (int i = 0; i < CHURN_BLOCKS; i++) {
        uint64_t h = mix(((uint64_t)a->id << 20) | (uint64_t)i);
        lens[i] = (i % 16 == 15) ? 70000 + h % 70000 : 1 + h % 2000;
        blocks[i] = (i % 3 == 0) ? calloc(1, lens[i]) : malloc(lens[i]);
        if (!blocks[i]) {
            fail("churn allocation", a->id, i);
            continue;
        }
        count(i % 3 == 0 ? K_CALLOC : K_MALLOC);
        fill(blocks[i], lens[i], h);
    }
    for (int i = 0; i < CHURN_BLOCKS; i++) {
        if (!blocks[i])
            continue;
        uint64_t h = mix(((uint64_t)a->id << 20) | (uint64_t)i);
        if (!verify(blocks[i], lens[i], h))
            fail("churn contents", a->id, i);
        a->checksum += digest(blocks[i], lens[i]);
        if (i % 2)
            counted_free(blocks[i]);
        else
            a->keep[i / 2] = blocks[i];
    }
    return NULL;
}

static void phase_churn(void)
{
    struct churn_arg *args = calloc((size_t)churn_threads, sizeof *args);
    if (!args) {
        fail("calloc churn args", 0, 0);
        return;
    }
    count(K_CALLOC);
    uint64_t checksum = 0;
    for (int base = 0; base < churn_threads; base += CHURN_WAVE) {
        pthread_t t[CHURN_WAVE];
        int n = 0;
        for (int i = base; i < base + CHURN_WAVE && i < churn_threads; i++) {
            args[i].id = i;
            if (pthread_create(&t[n], NULL, churn_thread, &args[i]) != 0) {
                fail("pthread_create churn", i, 0);
                exit(1);
            }
            n++;
        }
        for (int j = 0; j < n; j++)
            pthread_join(t[j], NULL);
        for (int i = base; i < base + n; i++) {
            checksum += args[i].checksum;
            for (int k = 0; k < CHURN_BLOCKS / 2; k++)
                counted_free(args[i].keep[k]);
        }
    }
    counted_free(args);
    printf("churn: threads=%d checksum=%016llx\n", churn_threads, (unsigned long long)checksum);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        messages_per_producer = atol(argv[1]);
    if (argc > 2)
        churn_threads = atoi(argv[2]);
    phase_peak();
    phase_queues();
    phase_churn();
    uint64_t total = 0;
    for (int k = 0; k < K_COUNT; k++) {
        printf("made.%s=%llu\n", kind_names[k], (unsigned long long)made[k]);
        total += made[k];
    }
    printf("allocs_made=%llu\n", (unsigned long long)total);
    printf("frees_made=%llu\n", (unsigned long long)frees_made);
    printf("peak_held_bytes=%u\n", PEAK_BLOCKS * PEAK_BLOCK);
    printf("result: %s\n", failed ? "FAILED" : "ok");
    return failed ? 1 : 0;
}
