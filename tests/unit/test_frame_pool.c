/* test_frame_pool.c — frame pools: every call and every error, formats and
 * alignment, reuse, the idle bound over several threads, trim, statistics,
 * destroy with frames out, frames shared across threads, thread exit,
 * fork, and what the rest of memkit gets (listing, drain). Built as it
 * ships and under ThreadSanitizer. */
#include "frame_pool.h"
#include "frame_pool_impl.h"
#include "memkit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RGB_640x480 (640u * 480u * 3u)

#if defined(__SANITIZE_THREAD__)
/* TSan's shadow pages fault on first touch: page faults are not the
 * pool's there. */
#define FAULTS_ARE_THE_POOLS 0
#else
#define FAULTS_ARE_THE_POOLS 1
#endif

/* ---- helpers ---------------------------------------------------------------------- */

static memkit_pool_stats_t stats_of(memkit_pool_t *p)
{
    memkit_pool_stats_t st = { .size = sizeof st };
    cr_assert_eq(memkit_pool_stats(p, &st), 0, "stats: %s", strerror(errno));
    return st;
}

struct found {
    uint64_t id;
    int seen;
    struct mk_pool_info info;
};

static void find_cb(const struct mk_pool_info *info, void *arg)
{
    struct found *f = arg;
    if (info->id == f->id) {
        f->seen++;
        f->info = *info;
    }
}

/* The report's entry for pool id (the last one listed with that id). */
static struct found listed(uint64_t id)
{
    struct found f = { .id = id };
    cr_assert_geq(mk_frame_pools_each(find_cb, &f, NULL), 0);
    return f;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- creation ------------------------------------------------------------------------- */

Test(create, format_sizes)
{
    static const struct {
        memkit_format_t fmt;
        size_t size;
    } cases[] = {
        { MEMKIT_FMT_RGB888, 640u * 480u * 3u },
        { MEMKIT_FMT_YUV420, 640u * 480u * 3u / 2u },
        { MEMKIT_FMT_JPEG, 640u * 480u },
        { MEMKIT_FMT_H264, 640u * 480u / 2u },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memkit_pool_t *p = memkit_pool_create(640, 480, cases[i].fmt, 2);
        cr_assert_not_null(p, "format %d: %s", (int)cases[i].fmt, strerror(errno));
        cr_assert_eq(stats_of(p).frame_size, cases[i].size, "format %d", (int)cases[i].fmt);
        memkit_frame_t *f = memkit_frame_acquire(p);
        cr_assert_not_null(f);
        cr_assert_eq(memkit_frame_size(f), cases[i].size);
        memkit_frame_release(f);
        memkit_pool_destroy(p);
    }
    /* Odd sizes round down as the formulas say: 3x3 YUV420 is 13 bytes. */
    memkit_pool_t *p = memkit_pool_create(3, 3, MEMKIT_FMT_YUV420, 1);
    cr_assert_not_null(p);
    cr_assert_eq(stats_of(p).frame_size, 13);
    memkit_pool_destroy(p);
    p = memkit_pool_create_size(12345, 3);
    cr_assert_not_null(p);
    cr_assert_eq(stats_of(p).frame_size, 12345);
    memkit_pool_destroy(p);
}

Test(create, bad_sizes_and_formats_are_einval)
{
    errno = 0;
    cr_assert_null(memkit_pool_create(0, 480, MEMKIT_FMT_RGB888, 4));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_pool_create(640, 0, MEMKIT_FMT_YUV420, 4));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_pool_create(1, 1, MEMKIT_FMT_H264, 4), "1x1 H264 is 0 bytes");
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_pool_create(640, 480, (memkit_format_t)42, 4));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_pool_create(640, 480, (memkit_format_t)-1, 4));
    cr_assert_eq(errno, EINVAL);
    /* (2^32-1)^2 * 3 does not fit in 64 bits. */
    errno = 0;
    cr_assert_null(memkit_pool_create(UINT32_MAX, UINT32_MAX, MEMKIT_FMT_RGB888, 4));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_pool_create(UINT32_MAX, UINT32_MAX, MEMKIT_FMT_YUV420, 4));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_pool_create_size(0, 4));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_pool_create_size(SIZE_MAX, 4));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_pool_create_size(SIZE_MAX - 4096, 4));
    cr_assert_eq(errno, EINVAL);
}

/* ---- every call's errors --------------------------------------------------------------- */

Test(errors, null_arguments)
{
    memkit_pool_t *p = memkit_pool_create_size(100, 2);
    cr_assert_not_null(p);
    memkit_pool_stats_t st = { .size = sizeof st };

    errno = 0;
    cr_assert_null(memkit_frame_acquire(NULL));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_frame_acquire_timeout(NULL, 10));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_frame_data(NULL));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_frame_size(NULL), 0);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_frame_ref(NULL));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_pool_stats(NULL, &st), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_pool_stats(p, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_pool_trim(NULL, 0), 0);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_pool_set_max_in_use(NULL, 3), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_pool_set_name(NULL, "x"), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_pool_set_name(p, NULL), -1);
    cr_assert_eq(errno, EINVAL);

    /* Nothing to fail: errno stays. */
    errno = 777;
    memkit_frame_release(NULL);
    memkit_pool_destroy(NULL);
    cr_assert_eq(errno, 777);
    memkit_pool_destroy(p);
}

Test(errors, stats_size_too_small_is_einval_and_small_structs_are_not_overrun)
{
    memkit_pool_t *p = memkit_pool_create_size(100, 2);
    cr_assert_not_null(p);
    memkit_pool_stats_t st = { .size = offsetof(memkit_pool_stats_t, misses) };
    errno = 0;
    cr_assert_eq(memkit_pool_stats(p, &st), -1);
    cr_assert_eq(errno, EINVAL);

    /* A caller built against the fixed fields only. */
    union {
        memkit_pool_stats_t st;
        unsigned char bytes[sizeof(memkit_pool_stats_t)];
    } u;
    memset(&u, 0xAB, sizeof u);
    u.st.size = offsetof(memkit_pool_stats_t, refused);
    cr_assert_eq(memkit_pool_stats(p, &u.st), 0);
    cr_assert_eq(u.st.size, offsetof(memkit_pool_stats_t, refused));
    cr_assert_eq(u.st.frame_size, 100);
    for (size_t i = offsetof(memkit_pool_stats_t, refused); i < sizeof u; i++)
        cr_assert_eq(u.bytes[i], 0xAB, "byte %zu past the caller's struct written", i);

    /* A caller built against a later, bigger struct gets what there is. */
    struct {
        memkit_pool_stats_t st;
        uint64_t later;
    } big;
    memset(&big, 0xCD, sizeof big);
    big.st.size = sizeof big;
    cr_assert_eq(memkit_pool_stats(p, &big.st), 0);
    cr_assert_eq(big.st.size, sizeof big);
    cr_assert_eq(big.st.max_in_use, 0);
    memkit_pool_destroy(p);
}

Test(errors, successful_calls_leave_errno_alone)
{
    memkit_pool_t *p = memkit_pool_create(64, 64, MEMKIT_FMT_RGB888, 4);
    cr_assert_not_null(p);
    errno = 4242;
    memkit_frame_t *a = memkit_frame_acquire(p);   /* a miss: maps */
    memkit_frame_t *b = memkit_frame_acquire(p);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_not_null(memkit_frame_data(a));
    cr_assert_eq(memkit_frame_ref(a), a);
    memkit_frame_release(a);
    memkit_frame_release(a);
    memkit_frame_release(b);
    memkit_pool_stats_t st = { .size = sizeof st };
    cr_assert_eq(memkit_pool_stats(p, &st), 0);
    cr_assert_eq(memkit_pool_set_max_in_use(p, 8), 0);
    cr_assert_not_null(a = memkit_frame_acquire_timeout(p, 10));
    memkit_frame_release(a);
    cr_assert_eq(memkit_pool_set_name(p, "errno"), 0);
    memkit_pool_trim(p, 0);
    mk_frame_pools_drain();
    memkit_pool_destroy(p);
    cr_assert_eq(errno, 4242);
}

/* ---- buffers ------------------------------------------------------------------------------- */

Test(buffers, aligned_to_64_bytes_and_to_the_page_from_a_page_up)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t sizes[] = { 1, 63, 64, 65, 100, 1000, (size_t)page - 1, (size_t)page,
                       (size_t)page + 1, 3 * (size_t)page + 17, RGB_640x480 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memkit_pool_t *p = memkit_pool_create_size(sizes[i], 4);
        cr_assert_not_null(p);
        memkit_frame_t *f[3];
        for (int k = 0; k < 3; k++) {
            f[k] = memkit_frame_acquire(p);
            cr_assert_not_null(f[k]);
            uintptr_t a = (uintptr_t)memkit_frame_data(f[k]);
            size_t want = sizes[i] >= (size_t)page ? (size_t)page : 64;
            cr_assert_eq(a % want, 0, "size %zu: data %p not aligned to %zu", sizes[i],
                         (void *)a, want);
            /* The whole frame is usable. */
            memset(memkit_frame_data(f[k]), 0x5A, sizes[i]);
        }
        for (int k = 0; k < 3; k++)
            memkit_frame_release(f[k]);
        memkit_pool_destroy(p);
    }
}

Test(buffers, new_buffers_are_zeroed_and_resident)
{
    memkit_pool_t *p = memkit_pool_create_size(RGB_640x480, 2);
    memkit_frame_t *f = memkit_frame_acquire(p);
    cr_assert_not_null(f);
    const unsigned char *d = memkit_frame_data(f);
    for (size_t i = 0; i < RGB_640x480; i += 4096)
        cr_assert_eq(d[i], 0);
    cr_assert_eq(d[RGB_640x480 - 1], 0);
    /* Faulted in when allocated: touching every page takes no fault. */
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    memset(memkit_frame_data(f), 1, RGB_640x480);
    getrusage(RUSAGE_THREAD, &r1);
    if (FAULTS_ARE_THE_POOLS)
        cr_assert_lt(r1.ru_minflt - r0.ru_minflt, 8, "%ld faults touching a fresh frame",
                     r1.ru_minflt - r0.ru_minflt);
    memkit_frame_release(f);
    memkit_pool_destroy(p);
}

/* ---- reuse ------------------------------------------------------------------------------------ */

Test(reuse, same_address_back_on_the_same_thread)
{
    size_t pooled[] = { 1, 2, 10 };
    for (size_t i = 0; i < 3; i++) {
        memkit_pool_t *p = memkit_pool_create(640, 480, MEMKIT_FMT_RGB888, pooled[i]);
        memkit_frame_t *f = memkit_frame_acquire(p);
        void *addr = memkit_frame_data(f);
        memkit_frame_release(f);
        f = memkit_frame_acquire(p);
        cr_assert_eq(memkit_frame_data(f), addr, "max_pooled %zu", pooled[i]);
        memkit_frame_release(f);
        memkit_pool_stats_t st = stats_of(p);
        cr_assert_eq(st.hits, 1);
        cr_assert_eq(st.misses, 1);
        cr_assert_eq(st.allocated, 1);
        memkit_pool_destroy(p);
    }
}

Test(reuse, contents_survive_a_release_and_steady_state_takes_no_fault)
{
    memkit_pool_t *p = memkit_pool_create_size(RGB_640x480, 4);
    memkit_frame_t *f = memkit_frame_acquire(p);
    unsigned char *d = memkit_frame_data(f);
    d[0] = 7;
    d[RGB_640x480 - 1] = 9;
    memkit_frame_release(f);
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    for (int i = 0; i < 10000; i++) {
        f = memkit_frame_acquire(p);
        d = memkit_frame_data(f);
        d[0]++;
        d[RGB_640x480 - 1]++;
        memkit_frame_release(f);
    }
    getrusage(RUSAGE_THREAD, &r1);
    cr_assert_eq(d[0], (unsigned char)(7 + 10000));
    cr_assert_eq(d[RGB_640x480 - 1], (unsigned char)(9 + 10000));
    if (FAULTS_ARE_THE_POOLS)
        cr_assert_eq(r1.ru_minflt - r0.ru_minflt, 0, "%ld faults in 10000 cycles",
                     r1.ru_minflt - r0.ru_minflt);
    cr_assert_eq(stats_of(p).allocated, 1);
    memkit_pool_destroy(p);
}

Test(reuse, max_pooled_zero_keeps_nothing)
{
    memkit_pool_t *p = memkit_pool_create_size(5000, 0);
    for (int i = 0; i < 5; i++)
        memkit_frame_release(memkit_frame_acquire(p));
    memkit_pool_stats_t st = stats_of(p);
    cr_assert_eq(st.pooled, 0);
    cr_assert_eq(st.misses, 5);
    cr_assert_eq(st.allocated, 5);
    cr_assert_eq(listed(p->id).info.buffers, 0);
    memkit_pool_destroy(p);
}

Test(reuse, the_idle_bound_on_one_thread)
{
    memkit_pool_t *p = memkit_pool_create_size(10000, 3);
    memkit_frame_t *f[10];
    for (int i = 0; i < 10; i++)
        f[i] = memkit_frame_acquire(p);
    cr_assert_eq(stats_of(p).in_use, 10);
    for (int i = 0; i < 10; i++)
        memkit_frame_release(f[i]);
    memkit_pool_stats_t st = stats_of(p);
    cr_assert_eq(st.pooled, 3);
    cr_assert_eq(st.in_use, 0);
    cr_assert_eq(st.allocated, 10);
    cr_assert_eq(listed(p->id).info.buffers, 3, "the other 7 went back to the system");
    /* The three come back as hits. */
    for (int i = 0; i < 3; i++)
        f[i] = memkit_frame_acquire(p);
    st = stats_of(p);
    cr_assert_eq(st.hits, 3);
    cr_assert_eq(st.misses, 10);
    for (int i = 0; i < 3; i++)
        memkit_frame_release(f[i]);
    memkit_pool_destroy(p);
}

/* More pools than thread caches have slots: the later ones work through
 * their shared stacks alone. */
Test(reuse, more_pools_than_cache_slots)
{
    enum { N = MK_SLOTS + 8 };
    static memkit_pool_t *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = memkit_pool_create_size(256, 4);
        cr_assert_not_null(p[i]);
    }
    cr_assert_eq(p[N - 1]->slot, MK_NO_SLOT);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
            memkit_frame_t *f = memkit_frame_acquire(p[i]);
            void *a = memkit_frame_data(f);
            memkit_frame_release(f);
            f = memkit_frame_acquire(p[i]);
            cr_assert_eq(memkit_frame_data(f), a, "pool %d", i);
            memkit_frame_release(f);
        }
    for (int i = 0; i < N; i++) {
        memkit_pool_stats_t st = stats_of(p[i]);
        cr_assert_eq(st.allocated, 1, "pool %d", i);
        cr_assert_eq(st.hits, 5, "pool %d", i);
        memkit_pool_destroy(p[i]);
    }
    /* Slots of destroyed pools are given to new ones. */
    memkit_pool_t *q = memkit_pool_create_size(256, 4);
    cr_assert_neq(q->slot, MK_NO_SLOT);
    memkit_pool_destroy(q);
}

/* ---- the idle bound over threads --------------------------------------------------------------- */

struct bound_run {
    memkit_pool_t *pool;
    pthread_barrier_t *barrier;
    memkit_frame_t *handoff[8];   /* frames this thread got from its neighbour */
    struct bound_run *next;       /* the neighbour this thread hands frames to */
};

static void *bound_worker(void *arg)
{
    struct bound_run *r = arg;
    memkit_frame_t *mine[8];
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 8; i++)
            mine[i] = memkit_frame_acquire(r->pool);
        for (int i = 0; i < 4; i++)
            memkit_frame_release(mine[i]);   /* here: into this thread's cache */
        for (int i = 4; i < 8; i++)
            r->next->handoff[i] = mine[i];
        pthread_barrier_wait(r->barrier);
        for (int i = 4; i < 8; i++)
            memkit_frame_release(r->handoff[i]);   /* acquired elsewhere */
        pthread_barrier_wait(r->barrier);
    }
    /* Stay alive (caches full) while the main thread looks. */
    pthread_barrier_wait(r->barrier);
    pthread_barrier_wait(r->barrier);
    return NULL;
}

Test(bound, max_pooled_holds_over_all_threads_and_their_caches, .timeout = 60)
{
    enum { T = 4, MAX = 6 };
    memkit_pool_t *p = memkit_pool_create_size(70000, MAX);
    pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, T + 1);
    struct bound_run run[T];
    pthread_t th[T];
    for (int i = 0; i < T; i++)
        run[i] = (struct bound_run){ .pool = p, .barrier = &b, .next = &run[(i + 1) % T] };
    for (int i = 0; i < T; i++)
        pthread_create(&th[i], NULL, bound_worker, &run[i]);
    for (int round = 0; round < 50; round++) {
        pthread_barrier_wait(&b);
        pthread_barrier_wait(&b);
    }
    pthread_barrier_wait(&b);   /* workers alive, every frame back */
    memkit_pool_stats_t st = stats_of(p);
    struct found f = listed(p->id);
    cr_assert_eq(st.in_use, 0);
    cr_assert_leq(st.pooled, MAX, "%lu idle with max_pooled %d", (unsigned long)st.pooled, MAX);
    cr_assert_eq(f.info.buffers, st.pooled, "buffers held %lu, idle %lu",
                 (unsigned long)f.info.buffers, (unsigned long)st.pooled);
    cr_assert_eq(st.hits + st.misses, T * 50 * 8);
    cr_assert_geq(st.hits, 49 * MAX / 2, "pooling happened: %lu hits, %lu misses",
                  (unsigned long)st.hits, (unsigned long)st.misses);
    pthread_barrier_wait(&b);
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    /* Exited threads' caches went to the shared stack: still bounded. */
    st = stats_of(p);
    cr_assert_leq(st.pooled, MAX);
    cr_assert_eq(listed(p->id).info.buffers, st.pooled);
    memkit_pool_destroy(p);
    pthread_barrier_destroy(&b);
}

/* A thread that only acquires (its frames are released elsewhere) must not
 * keep units it no longer uses: with max_pooled 2 the two frames in flight
 * must both be kept and reused, round after round. */
struct relay {
    memkit_pool_t *pool;
    memkit_frame_t *f[2];
    pthread_barrier_t step;
};

static void *acquire_only(void *arg)
{
    struct relay *r = arg;
    memkit_frame_release(memkit_frame_acquire(r->pool));   /* takes credit here */
    for (int round = 0; round < 200; round++) {
        r->f[0] = memkit_frame_acquire(r->pool);
        r->f[1] = memkit_frame_acquire(r->pool);
        pthread_barrier_wait(&r->step);   /* the main thread releases them */
        pthread_barrier_wait(&r->step);
    }
    return NULL;
}

Test(bound, a_thread_that_only_acquires_gives_its_units_back, .timeout = 30)
{
    struct relay r = { .pool = memkit_pool_create_size(10000, 2) };
    pthread_barrier_init(&r.step, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, acquire_only, &r);
    for (int round = 0; round < 200; round++) {
        pthread_barrier_wait(&r.step);
        memkit_frame_release(r.f[0]);
        memkit_frame_release(r.f[1]);
        pthread_barrier_wait(&r.step);
    }
    pthread_join(t, NULL);
    memkit_pool_stats_t st = stats_of(r.pool);
    cr_assert_leq(st.allocated, 3, "%lu buffers allocated for 2 frames in flight",
                  (unsigned long)st.allocated);
    cr_assert_eq(st.pooled, 2);
    memkit_pool_destroy(r.pool);
    pthread_barrier_destroy(&r.step);
}

/* ---- trim ---------------------------------------------------------------------------------------- */

Test(trim, down_to_keep_here)
{
    memkit_pool_t *p = memkit_pool_create_size(20000, 16);
    memkit_frame_t *f[12];
    for (int i = 0; i < 12; i++)
        f[i] = memkit_frame_acquire(p);
    for (int i = 0; i < 12; i++)
        memkit_frame_release(f[i]);
    cr_assert_eq(stats_of(p).pooled, 12);
    cr_assert_eq(memkit_pool_trim(p, 5), 7);
    cr_assert_eq(stats_of(p).pooled, 5);
    cr_assert_eq(listed(p->id).info.buffers, 5);
    cr_assert_eq(memkit_pool_trim(p, 9), 0, "nothing above keep");
    cr_assert_eq(memkit_pool_trim(p, 0), 5);
    memkit_pool_stats_t st = stats_of(p);
    cr_assert_eq(st.pooled, 0);
    cr_assert_eq(st.allocated, 12);
    /* The pool still works, and its bound is intact. */
    for (int i = 0; i < 12; i++)
        f[i] = memkit_frame_acquire(p);
    for (int i = 0; i < 12; i++)
        memkit_frame_release(f[i]);
    cr_assert_eq(stats_of(p).pooled, 12);
    memkit_pool_destroy(p);
}

struct parked {
    memkit_pool_t *pool;
    int frames;
    pthread_barrier_t barrier;
    memkit_pool_t *other;   /* used after the main thread acted */
};

/* Fills this thread's cache, then waits while the main thread acts. */
static void *park_with_cache(void *arg)
{
    struct parked *k = arg;
    memkit_frame_t *f[8];
    for (int i = 0; i < k->frames; i++)
        f[i] = memkit_frame_acquire(k->pool);
    for (int i = 0; i < k->frames; i++)
        memkit_frame_release(f[i]);
    pthread_barrier_wait(&k->barrier);
    pthread_barrier_wait(&k->barrier);
    /* After the main thread trimmed, drained or destroyed: this thread's
     * cache must still be sound. */
    for (int i = 0; i < 100; i++)
        memkit_frame_release(memkit_frame_acquire(k->other));
    return NULL;
}

Test(trim, reaches_other_threads_caches, .timeout = 30)
{
    struct parked k = { .pool = memkit_pool_create_size(30000, 8), .frames = 4 };
    k.other = k.pool;
    pthread_barrier_init(&k.barrier, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, park_with_cache, &k);
    pthread_barrier_wait(&k.barrier);
    cr_assert_eq(stats_of(k.pool).pooled, 4);
    cr_assert_eq(memkit_pool_trim(k.pool, 1), 3);
    cr_assert_eq(stats_of(k.pool).pooled, 1);
    cr_assert_eq(listed(k.pool->id).info.buffers, 1);
    pthread_barrier_wait(&k.barrier);
    pthread_join(t, NULL);
    memkit_pool_stats_t st = stats_of(k.pool);
    cr_assert_eq(st.in_use, 0);
    cr_assert_leq(st.pooled, 8);
    memkit_pool_destroy(k.pool);
    pthread_barrier_destroy(&k.barrier);
}

struct cycler {
    memkit_pool_t *pool;
    int stop, bad;
    unsigned long cycles;
};

/* Cycles frames through its own cache, checking each one is its own. */
static void *cycle_checked(void *arg)
{
    struct cycler *c = arg;
    memkit_frame_t *f[3];
    uint32_t n = 0;
    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
        for (int i = 0; i < 3; i++) {
            f[i] = memkit_frame_acquire(c->pool);
            uint32_t *d = memkit_frame_data(f[i]);
            d[0] = d[1023] = ++n;
        }
        for (int i = 0; i < 3; i++) {
            const uint32_t *d = memkit_frame_data(f[i]);
            if (d[0] != n - 2 + (uint32_t)i || d[1023] != d[0])
                c->bad++;
            memkit_frame_release(f[i]);
        }
        __atomic_add_fetch(&c->cycles, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* trim, drain and membarrier against threads in their fast paths. */
Test(trim, races_with_threads_in_their_fast_paths, .timeout = 120)
{
    memkit_pool_t *p = memkit_pool_create_size(4096, 8);
    struct cycler c[2] = { { .pool = p }, { .pool = p } };
    pthread_t t[2];
    pthread_create(&t[0], NULL, cycle_checked, &c[0]);
    pthread_create(&t[1], NULL, cycle_checked, &c[1]);
    size_t freed = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Until both threads went through many cycles and buffers were
     * actually taken from under them (timing decides when). */
    for (int i = 0; ms_since(&t0) < 30000; i++) {
        freed += memkit_pool_trim(p, (size_t)(i % 3));
        if (i % 7 == 0)
            freed += mk_frame_pools_drain();
        if (__atomic_load_n(&c[0].cycles, __ATOMIC_RELAXED) > 30000 &&
            __atomic_load_n(&c[1].cycles, __ATOMIC_RELAXED) > 30000 && i > 3000 && freed > 100)
            break;
    }
    for (int k = 0; k < 2; k++)
        __atomic_store_n(&c[k].stop, 1, __ATOMIC_RELEASE);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    cr_assert_eq(c[0].bad + c[1].bad, 0, "%d frames changed under their owner",
                 c[0].bad + c[1].bad);
    cr_assert_gt(freed, 100);
    memkit_pool_stats_t st = stats_of(p);
    cr_assert_eq(st.in_use, 0);
    cr_assert_leq(st.pooled, 8);
    cr_assert_eq(listed(p->id).info.buffers, st.pooled);
    memkit_pool_destroy(p);
}

/* ---- statistics ----------------------------------------------------------------------------------- */

Test(stats, counts_and_peak)
{
    memkit_pool_t *p = memkit_pool_create(320, 240, MEMKIT_FMT_YUV420, 4);
    memkit_pool_stats_t st = stats_of(p);
    cr_assert_eq(st.frame_size, 320u * 240u * 3u / 2u);
    cr_assert_eq(st.pooled + st.allocated + st.in_use + st.hits + st.misses + st.refused, 0);
    cr_assert_eq(st.max_in_use, 0);
    cr_assert_eq(st.peak_in_use, 0);
    memkit_frame_t *f[5];
    for (int i = 0; i < 5; i++)
        f[i] = memkit_frame_acquire(p);
    st = stats_of(p);
    cr_assert_eq(st.in_use, 5);
    cr_assert_eq(st.misses, 5);
    cr_assert_eq(st.allocated, 5);
    cr_assert_eq(st.peak_in_use, 5);
    for (int i = 0; i < 5; i++)
        memkit_frame_release(f[i]);
    for (int round = 0; round < 10; round++) {
        f[0] = memkit_frame_acquire(p);
        f[1] = memkit_frame_acquire(p);
        memkit_frame_release(f[1]);
        memkit_frame_release(f[0]);
    }
    st = stats_of(p);
    cr_assert_eq(st.in_use, 0);
    cr_assert_eq(st.hits, 20);
    cr_assert_eq(st.misses, 5);
    cr_assert_eq(st.pooled, 4);
    cr_assert_eq(st.peak_in_use, 5);
    /* A shared frame is one frame out, however many owners it has. */
    f[0] = memkit_frame_acquire(p);
    memkit_frame_ref(f[0]);
    memkit_frame_ref(f[0]);
    cr_assert_eq(stats_of(p).in_use, 1);
    memkit_frame_release(f[0]);
    memkit_frame_release(f[0]);
    cr_assert_eq(stats_of(p).in_use, 1);
    memkit_frame_release(f[0]);
    cr_assert_eq(stats_of(p).in_use, 0);
    memkit_pool_destroy(p);
}

/* ---- frames out: max_in_use ------------------------------------------------------------------------- */

Test(limit, eagain_when_exhausted_and_counts)
{
    memkit_pool_t *p = memkit_pool_create_size(4096, 8);
    cr_assert_eq(memkit_pool_set_max_in_use(p, 2), 0);
    memkit_frame_t *a = memkit_frame_acquire(p), *b = memkit_frame_acquire(p);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    errno = 0;
    cr_assert_null(memkit_frame_acquire(p));
    cr_assert_eq(errno, EAGAIN);
    errno = 0;
    cr_assert_null(memkit_frame_acquire(p));
    cr_assert_eq(errno, EAGAIN);
    memkit_pool_stats_t st = stats_of(p);
    cr_assert_eq(st.refused, 2);
    cr_assert_eq(st.max_in_use, 2);
    cr_assert_eq(st.in_use, 2);
    cr_assert_eq(st.peak_in_use, 2);
    /* A shared frame still counts once. */
    memkit_frame_ref(a);
    memkit_frame_release(a);
    errno = 0;
    cr_assert_null(memkit_frame_acquire(p));
    cr_assert_eq(errno, EAGAIN);
    memkit_frame_release(a);
    memkit_frame_t *c = memkit_frame_acquire(p);
    cr_assert_not_null(c, "one came back: %s", strerror(errno));
    cr_assert_eq(memkit_frame_data(c), memkit_frame_data(a), "and it is the same memory");
    /* Raising and removing the bound. */
    cr_assert_eq(memkit_pool_set_max_in_use(p, 3), 0);
    memkit_frame_t *d = memkit_frame_acquire(p);
    cr_assert_not_null(d);
    cr_assert_null(memkit_frame_acquire(p));
    cr_assert_eq(memkit_pool_set_max_in_use(p, 0), 0);
    memkit_frame_t *e = memkit_frame_acquire(p);
    cr_assert_not_null(e);
    st = stats_of(p);
    cr_assert_eq(st.max_in_use, 0);
    cr_assert_eq(st.in_use, 4);
    cr_assert_eq(st.peak_in_use, 4);
    /* Lowering it below what is out refuses until enough come back. */
    cr_assert_eq(memkit_pool_set_max_in_use(p, 2), 0);
    cr_assert_null(memkit_frame_acquire(p));
    memkit_frame_release(b);
    memkit_frame_release(c);
    cr_assert_null(memkit_frame_acquire(p), "2 out, bound 2");
    memkit_frame_release(d);
    memkit_frame_t *g = memkit_frame_acquire(p);
    cr_assert_not_null(g);
    memkit_frame_release(g);
    memkit_frame_release(e);
    st = stats_of(p);
    cr_assert_eq(st.in_use, 0);
    cr_assert_eq(st.refused, 6);
    memkit_pool_destroy(p);
}

Test(limit, timed_acquire_times_out)
{
    memkit_pool_t *p = memkit_pool_create_size(1000, 2);
    memkit_pool_set_max_in_use(p, 1);
    memkit_frame_t *a = memkit_frame_acquire_timeout(p, 100);
    cr_assert_not_null(a);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errno = 0;
    cr_assert_null(memkit_frame_acquire_timeout(p, 80));
    double waited = ms_since(&t0);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(waited, 79.0, "waited %.1f ms", waited);
    cr_assert_lt(waited, 5000.0, "waited %.1f ms", waited);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errno = 0;
    cr_assert_null(memkit_frame_acquire_timeout(p, 0));
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_lt(ms_since(&t0), 50.0, "a zero timeout does not wait");
    cr_assert_eq(stats_of(p).refused, 2);
    memkit_frame_release(a);
    memkit_pool_destroy(p);
}

struct late_release {
    memkit_frame_t *frame;
    unsigned delay_ms;
    memkit_pool_t *pool;
    size_t raise_to;   /* instead of releasing: raise the bound */
};

static void *release_later(void *arg)
{
    struct late_release *l = arg;
    struct timespec d = { l->delay_ms / 1000, (long)(l->delay_ms % 1000) * 1000000L };
    nanosleep(&d, NULL);
    if (l->raise_to)
        memkit_pool_set_max_in_use(l->pool, l->raise_to);
    else
        memkit_frame_release(l->frame);
    return NULL;
}

Test(limit, timed_acquire_gets_a_frame_another_thread_releases, .timeout = 30)
{
    memkit_pool_t *p = memkit_pool_create_size(RGB_640x480, 2);
    memkit_pool_set_max_in_use(p, 1);
    memkit_frame_t *a = memkit_frame_acquire(p);
    void *addr = memkit_frame_data(a);
    struct late_release l = { .frame = a, .delay_ms = 60 };
    pthread_t t;
    pthread_create(&t, NULL, release_later, &l);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memkit_frame_t *b = memkit_frame_acquire_timeout(p, 10000);
    double waited = ms_since(&t0);
    cr_assert_not_null(b, "%s after %.1f ms", strerror(errno), waited);
    cr_assert_geq(waited, 50.0, "got it before the release (%.1f ms)", waited);
    cr_assert_lt(waited, 5000.0, "woken late (%.1f ms)", waited);
    cr_assert_eq(memkit_frame_data(b), addr);
    pthread_join(t, NULL);
    memkit_frame_release(b);

    /* Raising the bound wakes a waiter too. */
    a = memkit_frame_acquire(p);
    l = (struct late_release){ .pool = p, .raise_to = 2, .delay_ms = 60 };
    pthread_create(&t, NULL, release_later, &l);
    b = memkit_frame_acquire_timeout(p, 10000);
    cr_assert_not_null(b);
    pthread_join(t, NULL);
    memkit_frame_release(a);
    memkit_frame_release(b);
    cr_assert_eq(stats_of(p).refused, 0);
    memkit_pool_destroy(p);
}

struct contender {
    memkit_pool_t *pool;
    int got, refused;
};

static void *contend(void *arg)
{
    struct contender *c = arg;
    for (int i = 0; i < 300; i++) {
        memkit_frame_t *f = memkit_frame_acquire_timeout(c->pool, 2000);
        if (!f) {
            c->refused++;
            continue;
        }
        c->got++;
        memkit_frame_release(f);
    }
    return NULL;
}

/* Many threads, a bound of 2: never more than 2 out, no one starves. */
Test(limit, bound_holds_under_contention, .timeout = 60)
{
    enum { T = 6 };
    memkit_pool_t *p = memkit_pool_create_size(8192, 4);
    memkit_pool_set_max_in_use(p, 2);
    struct contender c[T];
    pthread_t th[T];
    for (int i = 0; i < T; i++) {
        c[i] = (struct contender){ .pool = p };
        pthread_create(&th[i], NULL, contend, &c[i]);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(c[i].got, 300, "thread %d got %d, %d refused", i, c[i].got, c[i].refused);
    }
    memkit_pool_stats_t st = stats_of(p);
    cr_assert_leq(st.peak_in_use, 2);
    cr_assert_eq(st.in_use, 0);
    cr_assert_leq(listed(p->id).info.buffers, 4, "no growth past max_pooled");
    memkit_pool_destroy(p);
}

/* ---- out of memory ------------------------------------------------------------------------------------ */

Test(memory, enomem_when_the_system_refuses, .timeout = 30)
{
    memkit_pool_t *p = memkit_pool_create_size(RGB_640x480, 4);
    memkit_frame_t *keep = memkit_frame_acquire(p);
    cr_assert_not_null(keep);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);   /* a hang shows as SIGALRM */
        /* No room for another 900 KiB frame in this child. */
        struct rlimit rl = { 0, 0 };
        getrlimit(RLIMIT_AS, &rl);
        FILE *m = fopen("/proc/self/statm", "r");
        unsigned long vm_pages = 0;
        if (!m || fscanf(m, "%lu", &vm_pages) != 1)
            _exit(10);
        fclose(m);
        rl.rlim_cur = (rlim_t)vm_pages * (rlim_t)sysconf(_SC_PAGESIZE) + 256 * 1024;
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(11);
        memkit_pool_set_max_in_use(p, 3);
        errno = 0;
        memkit_frame_t *f = memkit_frame_acquire(p);
        if (f || errno != ENOMEM)
            _exit(12);
        /* The bound's count was given back: all 3 work once memory is
         * there again (`keep` went out before the bound, so it is not
         * counted). */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_AS, &rl);
        for (int i = 0; i < 3; i++)
            if (!memkit_frame_acquire(p))
                _exit(13);
        if (memkit_frame_acquire(p) || errno != EAGAIN)
            _exit(14);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died: status %d", status);
    cr_assert_eq(WEXITSTATUS(status), 0, "child step %d failed", WEXITSTATUS(status));
    memkit_frame_release(keep);
    memkit_pool_destroy(p);
}

/* ---- destroy ------------------------------------------------------------------------------------------- */

struct releaser {
    memkit_frame_t *frame;
};

static void *release_it(void *arg)
{
    struct releaser *r = arg;
    unsigned char *d = memkit_frame_data(r->frame);
    d[0] ^= 0xFF;   /* still valid memory after destroy */
    memkit_frame_release(r->frame);
    return NULL;
}

Test(destroy, with_frames_out_the_pool_goes_with_the_last, .timeout = 30)
{
    memkit_pool_t *p = memkit_pool_create_size(RGB_640x480, 4);
    uint64_t id = p->id;
    memkit_frame_t *f[4];
    for (int i = 0; i < 4; i++) {
        f[i] = memkit_frame_acquire(p);
        memset(memkit_frame_data(f[i]), i + 1, RGB_640x480);
    }
    memkit_frame_release(memkit_frame_acquire(p));   /* one idle too */
    memkit_frame_ref(f[3]);
    memkit_pool_destroy(p);
    struct found fd = listed(id);
    cr_assert_eq(fd.seen, 1);
    cr_assert(fd.info.destroyed);
    cr_assert_not(fd.info.retired);
    cr_assert_eq(fd.info.buffers, 4, "the idle one was freed");
    for (int i = 0; i < 4; i++) {
        const unsigned char *d = memkit_frame_data(f[i]);
        cr_assert_eq(d[0], i + 1);
        cr_assert_eq(d[RGB_640x480 - 1], i + 1);
    }
    memkit_frame_release(f[0]);
    struct releaser r = { f[1] };
    pthread_t t;
    pthread_create(&t, NULL, release_it, &r);
    pthread_join(t, NULL);
    memkit_frame_release(f[2]);
    memkit_frame_release(f[3]);
    cr_assert_eq(listed(id).info.buffers, 1);
    struct mk_pool_totals tot;
    memkit_frame_release(f[3]);   /* the last owner of the last frame */
    struct found gone = { .id = id };
    cr_assert_geq(mk_frame_pools_each(find_cb, &gone, &tot), 1);
    cr_assert_eq(gone.seen, 1);
    cr_assert(gone.info.retired, "the pool went with its last frame");
    cr_assert_eq(gone.info.buffers, 0);
    cr_assert_eq(gone.info.stats.allocated, 5);
    cr_assert_eq(gone.info.stats.in_use, 0);
    cr_assert_eq(tot.retired, 1);
    cr_assert_eq(tot.retired_allocated, 5);
}

Test(destroy, while_another_threads_cache_holds_its_buffers, .timeout = 30)
{
    struct parked k = { .pool = memkit_pool_create_size(50000, 8), .frames = 4 };
    k.other = memkit_pool_create_size(999, 4);
    uint64_t id = k.pool->id;
    pthread_barrier_init(&k.barrier, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, park_with_cache, &k);
    pthread_barrier_wait(&k.barrier);
    cr_assert_eq(stats_of(k.pool).pooled, 4);
    memkit_pool_destroy(k.pool);
    struct found f = listed(id);
    cr_assert_eq(f.seen, 1);
    cr_assert(f.info.retired, "the other thread's cached buffers were taken back "
                              "(buffers %lu)", (unsigned long)f.info.buffers);
    cr_assert_eq(f.info.buffers, 0);
    /* The other thread goes on with another pool, then exits. */
    pthread_barrier_wait(&k.barrier);
    pthread_join(t, NULL);
    memkit_pool_stats_t st = stats_of(k.other);
    cr_assert_eq(st.hits + st.misses, 100);
    cr_assert_eq(st.allocated, 1);
    memkit_pool_destroy(k.other);
}

struct holder {
    memkit_frame_t *f[64];
    pthread_barrier_t go;
};

static void *release_all(void *arg)
{
    struct holder *h = arg;
    pthread_barrier_wait(&h->go);
    for (int i = 0; i < 64; i++)
        memkit_frame_release(h->f[i]);
    return NULL;
}

Test(destroy, races_with_releases_on_other_threads, .timeout = 60)
{
    for (int round = 0; round < 50; round++) {
        memkit_pool_t *p = memkit_pool_create_size(2000, 16);
        uint64_t id = p->id;
        struct holder h[2];
        pthread_t t[2];
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < 64; i++)
                h[k].f[i] = memkit_frame_acquire(p);
            pthread_barrier_init(&h[k].go, NULL, 2);
            pthread_create(&t[k], NULL, release_all, &h[k]);
        }
        for (int i = 0; i < 8; i++)   /* some idle ones in this thread's cache */
            memkit_frame_release(memkit_frame_acquire(p));
        pthread_barrier_wait(&h[0].go);
        pthread_barrier_wait(&h[1].go);
        memkit_pool_destroy(p);
        for (int k = 0; k < 2; k++) {
            pthread_join(t[k], NULL);
            pthread_barrier_destroy(&h[k].go);
        }
        struct found f = listed(id);
        cr_assert(f.info.retired, "round %d: pool not gone, %lu buffers held", round,
                  (unsigned long)f.info.buffers);
    }
}

/* ---- threads ---------------------------------------------------------------------------------------------- */

static void *cycle_and_exit(void *arg)
{
    memkit_pool_t *p = arg;
    memkit_frame_t *f[3];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 3; i++)
            f[i] = memkit_frame_acquire(p);
        for (int i = 0; i < 3; i++)
            memkit_frame_release(f[i]);
    }
    return NULL;
}

Test(threads, exit_hands_the_cache_to_the_pool, .timeout = 30)
{
    memkit_pool_t *p = memkit_pool_create_size(RGB_640x480, 8);
    pthread_t t;
    pthread_create(&t, NULL, cycle_and_exit, p);
    pthread_join(t, NULL);
    memkit_pool_stats_t st = stats_of(p);
    cr_assert_eq(st.allocated, 3);
    cr_assert_eq(st.pooled, 3, "the exited thread's buffers are still pooled");
    cr_assert_eq(st.hits, 19 * 3);
    /* ... and serve this thread without allocating. */
    memkit_frame_t *f[3];
    for (int i = 0; i < 3; i++)
        f[i] = memkit_frame_acquire(p);
    st = stats_of(p);
    cr_assert_eq(st.allocated, 3);
    cr_assert_eq(st.hits, 20 * 3);
    for (int i = 0; i < 3; i++)
        memkit_frame_release(f[i]);
    /* Many short threads leave no buffer and no cache behind. */
    for (int i = 0; i < 40; i++) {
        pthread_create(&t, NULL, cycle_and_exit, p);
        pthread_join(t, NULL);
    }
    st = stats_of(p);
    cr_assert_leq(st.pooled, 8);
    cr_assert_eq(st.in_use, 0);
    cr_assert_eq(listed(p->id).info.buffers, st.pooled);
    memkit_pool_destroy(p);
}

/* Producer/consumer: frames acquired on one thread, shared with two
 * consumers by reference, released on whichever thread is last. */
enum { QCAP = 8, FRAMES = 2000, FSIZE = 64 * 1024 };

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    memkit_frame_t *item[QCAP];
    unsigned head, tail;
};

static void q_init(struct queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
}

static void q_put(struct queue *q, memkit_frame_t *f)
{
    pthread_mutex_lock(&q->lock);
    while (q->tail - q->head == QCAP)
        pthread_cond_wait(&q->cond, &q->lock);
    q->item[q->tail++ % QCAP] = f;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

static memkit_frame_t *q_get(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->tail == q->head)
        pthread_cond_wait(&q->cond, &q->lock);
    memkit_frame_t *f = q->item[q->head++ % QCAP];
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return f;
}

struct pipeline {
    memkit_pool_t *pool;
    struct queue q[2];
    int bad[2];
};

struct consumer_arg {
    struct pipeline *pl;
    int which;
};

static void *consume(void *arg)
{
    struct consumer_arg *c = arg;
    for (uint32_t n = 0; n < FRAMES; n++) {
        memkit_frame_t *f = q_get(&c->pl->q[c->which]);
        const uint32_t *d = memkit_frame_data(f);
        if (memkit_frame_size(f) != FSIZE || d[0] != n || d[FSIZE / 4 - 1] != ~n ||
            d[FSIZE / 8] != n * 7)
            c->pl->bad[c->which]++;
        memkit_frame_release(f);
    }
    return NULL;
}

static void *produce(void *arg)
{
    struct pipeline *pl = arg;
    for (uint32_t n = 0; n < FRAMES; n++) {
        memkit_frame_t *f = memkit_frame_acquire(pl->pool);
        uint32_t *d = memkit_frame_data(f);
        d[0] = n;
        d[FSIZE / 8] = n * 7;
        d[FSIZE / 4 - 1] = ~n;
        q_put(&pl->q[0], memkit_frame_ref(f));
        q_put(&pl->q[1], memkit_frame_ref(f));
        memkit_frame_release(f);
    }
    return NULL;
}

Test(threads, producer_and_consumers_share_frames_by_reference, .timeout = 120)
{
    struct pipeline pl = { .pool = memkit_pool_create_size(FSIZE, 24) };
    q_init(&pl.q[0]);
    q_init(&pl.q[1]);
    struct consumer_arg ca[2] = { { &pl, 0 }, { &pl, 1 } };
    pthread_t prod, cons[2];
    pthread_create(&cons[0], NULL, consume, &ca[0]);
    pthread_create(&cons[1], NULL, consume, &ca[1]);
    pthread_create(&prod, NULL, produce, &pl);
    pthread_join(prod, NULL);
    pthread_join(cons[0], NULL);
    pthread_join(cons[1], NULL);
    cr_assert_eq(pl.bad[0] + pl.bad[1], 0, "%d and %d frames with wrong contents", pl.bad[0],
                 pl.bad[1]);
    memkit_pool_stats_t st = stats_of(pl.pool);
    cr_assert_eq(st.in_use, 0);
    cr_assert_eq(st.hits + st.misses, FRAMES);
    cr_assert_leq(st.pooled, 24);
    /* At most QCAP frames wait in each queue, one is being filled and one
     * read per consumer: 2 * 8 + 3 out at most, all reused. */
    cr_assert_leq(st.allocated, 2 * QCAP + 3 + 24, "allocated %lu", (unsigned long)st.allocated);
    cr_assert_leq(st.peak_in_use, 2 * QCAP + 3);
    cr_assert_eq(listed(pl.pool->id).info.buffers, st.pooled);
    memkit_pool_destroy(pl.pool);
}

/* ---- fork ---------------------------------------------------------------------------------------------------- */

struct lock_holder {
    memkit_pool_t *pool;
    pthread_barrier_t held, forked;
};

static void *hold_pool_lock(void *arg)
{
    struct lock_holder *h = arg;
    mk_pool_lock(h->pool);
    pthread_barrier_wait(&h->held);
    struct timespec d = { 0, 100 * 1000000L };
    nanosleep(&d, NULL);   /* the main thread forks meanwhile */
    mk_pool_unlock(h->pool);
    /* Alive until the fork is done: a child that inherits a finished,
     * unjoined thread gets a thread-leak report from TSan. */
    pthread_barrier_wait(&h->forked);
    return NULL;
}

static int child_uses(memkit_pool_t *p, uint64_t max_pooled)
{
    alarm(10);   /* a hang shows as SIGALRM */
    memkit_frame_t *f[6];
    for (int i = 0; i < 6; i++)
        if (!(f[i] = memkit_frame_acquire(p)))
            return 1;
    for (int i = 0; i < 6; i++)
        memkit_frame_release(f[i]);
    memkit_pool_stats_t st = { .size = sizeof st };
    if (memkit_pool_stats(p, &st) != 0 || st.pooled > max_pooled)
        return 2;
    memkit_pool_trim(p, 0);
    mk_frame_pools_drain();
    memkit_pool_t *q = memkit_pool_create_size(100, 2);
    if (!q)
        return 3;
    memkit_frame_release(memkit_frame_acquire(q));
    memkit_pool_destroy(q);
    memkit_pool_destroy(p);
    return 0;
}

static void assert_child_ok(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child killed by signal %d", WTERMSIG(status));
    cr_assert_eq(WEXITSTATUS(status), 0, "child failed at step %d", WEXITSTATUS(status));
}

Test(fork, child_uses_a_pool_whose_lock_another_thread_held, .timeout = 60)
{
    struct lock_holder h = { .pool = memkit_pool_create_size(RGB_640x480, 4) };
    memkit_frame_t *out = memkit_frame_acquire(h.pool);
    memkit_frame_release(memkit_frame_acquire(h.pool));
    pthread_barrier_init(&h.held, NULL, 2);
    pthread_barrier_init(&h.forked, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, hold_pool_lock, &h);
    pthread_barrier_wait(&h.held);
    fflush(NULL);
    pid_t pid = fork();   /* waits for the holder, then forks */
    if (pid == 0)
        _exit(child_uses(h.pool, 4));
    pthread_barrier_wait(&h.forked);
    assert_child_ok(pid);
    pthread_join(t, NULL);
    pthread_barrier_destroy(&h.forked);
    memkit_frame_release(out);
    cr_assert_eq(stats_of(h.pool).in_use, 0);
    memkit_pool_destroy(h.pool);
    pthread_barrier_destroy(&h.held);
}

struct churn {
    memkit_pool_t *pool;
    int stop;
};

/* Frames crossing threads: the pool lock and the caches are busy all the time. */
static void *churn(void *arg)
{
    struct churn *c = arg;
    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
        memkit_frame_t *f[6];
        for (int i = 0; i < 6; i++)
            f[i] = memkit_frame_acquire(c->pool);
        for (int i = 0; i < 6; i++)
            memkit_frame_release(f[i]);
        memkit_pool_trim(c->pool, 2);
    }
    return NULL;
}

Test(fork, children_of_a_busy_multithreaded_parent, .timeout = 120)
{
    struct churn c = { .pool = memkit_pool_create_size(40000, 8) };
    pthread_t t[2];
    pthread_create(&t[0], NULL, churn, &c);
    pthread_create(&t[1], NULL, churn, &c);
    for (int i = 0; i < 30; i++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
            _exit(child_uses(c.pool, 8));
        assert_child_ok(pid);
    }
    __atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    memkit_pool_stats_t st = stats_of(c.pool);
    cr_assert_eq(st.in_use, 0);
    cr_assert_leq(st.pooled, 8);
    memkit_pool_destroy(c.pool);
}

/* ---- for the rest of memkit: names, the listing, drain ------------------------------------------------------------ */

Test(report, names_are_cut_at_47_bytes_not_inside_a_character)
{
    memkit_pool_t *p = memkit_pool_create_size(64, 1);
    cr_assert_eq(memkit_pool_set_name(p, "camera0"), 0);
    cr_assert_str_eq(listed(p->id).info.name, "camera0");
    char longname[100];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_assert_eq(memkit_pool_set_name(p, longname), 0);
    cr_assert_eq(strlen(listed(p->id).info.name), 47);
    /* "é" (2 bytes) straddling byte 47 is dropped whole. */
    memset(longname, 'a', 46);
    memcpy(longname + 46, "\xc3\xa9zz", 5);
    cr_assert_eq(memkit_pool_set_name(p, longname), 0);
    struct found f = listed(p->id);
    cr_assert_eq(strlen(f.info.name), 46, "name cut to %zu bytes", strlen(f.info.name));
    memkit_pool_destroy(p);
}

static void count_cb(const struct mk_pool_info *info, void *arg)
{
    (void)info;
    ++*(int *)arg;
}

Test(report, lists_live_destroyed_and_retired_pools_with_their_figures)
{
    memkit_pool_t *a = memkit_pool_create(640, 480, MEMKIT_FMT_RGB888, 4);
    memkit_pool_t *b = memkit_pool_create_size(1000, 2);
    memkit_pool_set_name(a, "a");
    memkit_frame_t *fa = memkit_frame_acquire(a);
    memkit_frame_release(memkit_frame_acquire(b));
    struct found f = listed(a->id);
    cr_assert_eq(f.seen, 1);
    cr_assert_str_eq(f.info.name, "a");
    cr_assert_eq(f.info.stats.size, sizeof f.info.stats);
    cr_assert_eq(f.info.stats.frame_size, RGB_640x480);
    cr_assert_eq(f.info.stats.in_use, 1);
    cr_assert_eq(f.info.max_pooled, 4);
    cr_assert_eq(f.info.buffers, 1);
    cr_assert_geq(f.info.bytes, RGB_640x480);
    cr_assert_not(f.info.partial);
    cr_assert_not(f.info.destroyed);
    uint64_t bid = b->id;
    memkit_pool_destroy(b);
    struct mk_pool_totals tot;
    int n = 0;
    cr_assert_eq(mk_frame_pools_each(count_cb, &n, &tot), 2);
    cr_assert_eq(n, 2, "a alive, b retired");
    cr_assert_eq(tot.created, 2);
    cr_assert_eq(tot.retired, 1);
    cr_assert_eq(tot.retired_hits + tot.retired_misses, 1);
    cr_assert(listed(bid).info.retired);
    memkit_frame_release(fa);
    memkit_pool_destroy(a);
    /* Only the last MK_POOLS_RETIRED_KEPT gone ones are listed. */
    for (int i = 0; i < MK_POOLS_RETIRED_KEPT + 3; i++)
        memkit_pool_destroy(memkit_pool_create_size(10, 1));
    n = 0;
    cr_assert_eq(mk_frame_pools_each(count_cb, &n, &tot), MK_POOLS_RETIRED_KEPT);
    cr_assert_eq(tot.retired, 2 + MK_POOLS_RETIRED_KEPT + 3);
}

static void *hold_a_pool_lock(void *arg)
{
    pthread_barrier_t *b = arg;
    memkit_pool_t *p = memkit_pool_create_size(10, 1);
    mk_pool_lock(p);   /* not the registry's: the listing does not need it */
    pthread_barrier_wait(b);
    pthread_barrier_wait(b);
    mk_pool_unlock(p);
    memkit_pool_destroy(p);
    return NULL;
}

Test(report, the_listing_never_waits_on_a_pool_lock, .timeout = 30)
{
    pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, hold_a_pool_lock, &b);
    pthread_barrier_wait(&b);
    int n = 0;
    cr_assert_eq(mk_frame_pools_each(count_cb, &n, NULL), 1);
    pthread_barrier_wait(&b);
    pthread_join(t, NULL);
    pthread_barrier_destroy(&b);
}

Test(report, drain_frees_idle_buffers_of_every_pool, .timeout = 30)
{
    memkit_pool_t *a = memkit_pool_create_size(RGB_640x480, 8);
    memkit_pool_t *b = memkit_pool_create_size(500, 8);
    memkit_frame_t *out = memkit_frame_acquire(a);
    memkit_frame_t *f[5];
    for (int i = 0; i < 5; i++)
        f[i] = memkit_frame_acquire(a);
    for (int i = 0; i < 5; i++)
        memkit_frame_release(f[i]);
    for (int i = 0; i < 3; i++)
        f[i] = memkit_frame_acquire(b);
    for (int i = 0; i < 3; i++)
        memkit_frame_release(f[i]);
    /* Another thread's cache too. */
    struct parked k = { .pool = b, .other = b, .frames = 2 };
    pthread_barrier_init(&k.barrier, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, park_with_cache, &k);
    pthread_barrier_wait(&k.barrier);
    cr_assert_eq(stats_of(b).pooled, 5, "b: 3 idle here, 2 there");
    cr_assert_eq(mk_frame_pools_drain(), 5 + 5);
    cr_assert_eq(stats_of(a).pooled, 0);
    cr_assert_eq(stats_of(b).pooled, 0);
    cr_assert_eq(listed(a->id).info.buffers, 1, "the frame out stays");
    cr_assert_eq(listed(b->id).info.buffers, 0);
    pthread_barrier_wait(&k.barrier);
    pthread_join(t, NULL);
    memkit_frame_release(out);
    cr_assert_eq(stats_of(a).pooled, 1);
    memkit_pool_destroy(a);
    memkit_pool_destroy(b);
    pthread_barrier_destroy(&k.barrier);
}

/* The classic mistake: a frame released twice. The second release is
 * ignored, so the buffer is not cached twice and handed to two owners
 * (on this thread and on another). */
static void *release_again(void *f)
{
    memkit_frame_release(f);
    return NULL;
}

Test(frame_pool, a_frame_released_twice_is_not_handed_to_two_owners)
{
    memkit_pool_t *p = memkit_pool_create_size(256, 8);
    cr_assert_not_null(p);
    memkit_frame_t *f = memkit_frame_acquire(p);
    cr_assert_not_null(f);
    memkit_frame_release(f);
    memkit_frame_release(f);   /* the mistake, on the same thread */
    memkit_frame_t *a = memkit_frame_acquire(p), *b = memkit_frame_acquire(p);
    cr_assert(a && b);
    cr_assert_neq(a, b, "one buffer handed to two owners");
    memkit_frame_release(a);
    pthread_t t;   /* and on another thread */
    cr_assert_eq(pthread_create(&t, NULL, release_again, a), 0);
    pthread_join(t, NULL);
    memkit_frame_t *c = memkit_frame_acquire(p), *d = memkit_frame_acquire(p);
    cr_assert(c && d);
    cr_assert_neq(c, d, "one buffer handed to two owners");
    cr_assert_neq(c, b);
    cr_assert_neq(d, b);
    memkit_frame_release(b);
    memkit_frame_release(c);
    memkit_frame_release(d);
    cr_assert_eq(stats_of(p).in_use, 0);
    memkit_pool_destroy(p);
}

/* A thread whose cache holds a pool's buffer (and so a reference to the
 * pool) is gone in a fork child: the child destroys the pool, and it must
 * go (not stay listed, held by a cache nobody will ever empty). */
struct cache_holder {
    memkit_pool_t *pool;
    pthread_barrier_t filled, forked;
};

static void *fill_own_cache(void *arg)
{
    struct cache_holder *h = arg;
    memkit_frame_release(memkit_frame_acquire(h->pool));   /* idle in this thread's cache */
    pthread_barrier_wait(&h->filled);
    pthread_barrier_wait(&h->forked);
    return NULL;
}

Test(fork, a_pool_destroyed_in_the_child_goes_even_though_a_gone_thread_cached_it, .timeout = 60)
{
    struct cache_holder h = { .pool = memkit_pool_create_size(256, 8) };
    uint64_t id = h.pool->id;
    pthread_barrier_init(&h.filled, NULL, 2);
    pthread_barrier_init(&h.forked, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, fill_own_cache, &h);
    pthread_barrier_wait(&h.filled);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        memkit_pool_destroy(h.pool);
        struct found f = { .id = id };
        mk_frame_pools_each(find_cb, &f, NULL);
        _exit(f.seen && !f.info.retired ? 1 : 0);
    }
    assert_child_ok(pid);
    pthread_barrier_wait(&h.forked);
    pthread_join(t, NULL);
    memkit_pool_destroy(h.pool);
    pthread_barrier_destroy(&h.filled);
    pthread_barrier_destroy(&h.forked);
}
