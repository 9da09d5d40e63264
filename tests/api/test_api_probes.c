/* test_api_probes.c — memkit_check, memkit_fast_check, memkit_probe_* and
 * MEMKIT_PROBE seen from a program that links libmemkit. The report side
 * (sections, MEMKIT_WARN's warnings) is tests/integration/test_probes.sh. */
#include "memkit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *volatile sink;

Test(api_probes, check_fills_the_struct_sensibly)
{
    memkit_memory_info_t info = { .size = sizeof info };
    cr_assert_eq(memkit_check("test.check", &info), 0, "errno %d", errno);
    cr_assert_gt(info.rss, 0);
    cr_assert_gt(info.system_total, 0);
    cr_assert_leq(info.system_available, info.system_total);
    cr_assert_gt(info.limit, 0);
    cr_assert_leq(info.limit, info.system_total);
    cr_assert(info.usage >= 0.0 && info.usage <= 1.0, "usage %f", info.usage);
    cr_assert_eq(info.size, sizeof info, "size left as the caller set it");

    /* heap_in_use is exact: 1 MiB more after a 1 MiB block. */
    memkit_memory_info_t a = { .size = sizeof a }, b = { .size = sizeof b };
    cr_assert_eq(memkit_check("test.check", &a), 0);
    char *p = malloc(1 << 20);
    cr_assert_eq(memkit_check("test.check", &b), 0);
    cr_assert_geq(b.heap_in_use - a.heap_in_use, 1 << 20);
    cr_assert_lt(b.heap_in_use - a.heap_in_use, (1 << 20) + 8192);
    free(p);
}

Test(api_probes, check_errors)
{
    memkit_memory_info_t info = { .size = sizeof info };
    errno = 0;
    cr_assert_eq(memkit_check(NULL, &info), -1);
    cr_assert_eq(errno, EINVAL);
    info.size = sizeof(size_t) + 8;
    errno = 0;
    cr_assert_eq(memkit_check("x", &info), -1);
    cr_assert_eq(errno, EINVAL, "a struct too small for the fixed fields");
    errno = 1234;
    cr_assert_eq(memkit_check("out may be NULL", NULL), 0);
    cr_assert_eq(errno, 1234, "errno kept on success");
}

Test(api_probes, fast_check_over_and_under)
{
    memkit_memory_info_t info = { .size = sizeof info };
    cr_assert_eq(memkit_check("fast", &info), 0);
    cr_assert_eq(memkit_fast_check(UINT64_MAX), 0);
    cr_assert_eq(memkit_fast_check(0), 1, "heap in use %llu", (unsigned long long)info.heap_in_use);
    /* 64 MiB more than now: under; then allocate past it: over. The folded
     * figure lags by at most 256 KiB per thread. */
    uint64_t line = info.heap_in_use + (64u << 20);
    cr_assert_eq(memkit_fast_check(line), 0);
    char *big = malloc(80u << 20);
    cr_assert_not_null(big);
    cr_assert_eq(memkit_fast_check(line), 1);
    free(big);
    cr_assert_eq(memkit_fast_check(line), 0);
}

Test(api_probes, fast_check_costs_nanoseconds)
{
    enum { N = 10 * 1000 * 1000 };
    struct timespec a, b;
    int over = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < N; i++)
        over += memkit_fast_check(UINT64_MAX);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / N;
    cr_log_info("memkit_fast_check: %.2f ns/call", ns);
    fprintf(stderr, "memkit_fast_check: %.2f ns/call\n", ns);
    cr_assert_eq(over, 0);
}

Test(api_probes, begin_end_errors)
{
    errno = 0;
    cr_assert_null(memkit_probe_begin(NULL, MEMKIT_LEVEL_LOW));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_probe_begin("x", (memkit_level_t)7));
    cr_assert_eq(errno, EINVAL);
    memkit_probe_end(NULL);   /* nothing happens */
}

Test(api_probes, nested_probes_every_level)
{
    errno = 4321;
    memkit_probe_t *outer = memkit_probe_begin("outer", MEMKIT_LEVEL_MEDIUM);
    cr_assert_not_null(outer);
    cr_assert_eq(errno, 4321);
    for (int lv = MEMKIT_LEVEL_LOW; lv <= MEMKIT_LEVEL_CRITICAL; lv++) {
        memkit_probe_t *inner = memkit_probe_begin("inner", (memkit_level_t)lv);
        cr_assert_not_null(inner, "level %d", lv);
        cr_assert_neq(inner, outer);
        sink = malloc(1000);
        free(sink);
        memkit_probe_end(inner);
    }
    memkit_probe_end(outer);
    cr_assert_eq(errno, 4321);
}

static int ran;

static int leave_early(void)
{
    MEMKIT_PROBE("early", MEMKIT_LEVEL_LOW) {
        ran++;
        return 5;   /* the cleanup attribute ends the probe */
    }
    return 0;
}

Test(api_probes, probe_macro_runs_the_block_once)
{
    ran = 0;
    MEMKIT_PROBE("macro", MEMKIT_LEVEL_MEDIUM) {
        ran++;
        MEMKIT_PROBE("macro.inner", MEMKIT_LEVEL_HIGH) {
            ran++;
        }
    }
    cr_assert_eq(ran, 2);
    for (int i = 0; i < 3; i++) {
        MEMKIT_PROBE("macro.break", MEMKIT_LEVEL_LOW) {
            ran++;
            break;
        }
    }
    cr_assert_eq(ran, 5);
    cr_assert_eq(leave_early(), 5);
    cr_assert_eq(ran, 6);
}

/* 4 threads, each nesting three probes many times while allocating; a
 * probe must never be handed to two threads at once. */
#define THREADS 4
#define ROUNDS 20000

static void *probe_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        memkit_probe_t *a = memkit_probe_begin("thread.a", MEMKIT_LEVEL_LOW);
        memkit_probe_t *b = memkit_probe_begin("thread.b", MEMKIT_LEVEL_MEDIUM);
        void *p = malloc(64);
        memkit_probe_t *c = i % 1000 ? NULL : memkit_probe_begin("thread.c", MEMKIT_LEVEL_HIGH);
        if (!a || !b || a == b || a == c || b == c)
            return (void *)1;
        free(p);
        memkit_probe_end(c);
        memkit_probe_end(b);
        memkit_probe_end(a);
    }
    return NULL;
}

Test(api_probes, probes_on_four_threads)
{
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, probe_thread, NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        cr_assert_null(rc, "thread %d", i);
    }
}

/* More probes open at once than the static pool holds: the rest come from
 * memkit's pages, and all end cleanly. */
Test(api_probes, deep_nesting_past_the_pool)
{
    enum { N = 3000 };
    static memkit_probe_t *open[N];
    for (int i = 0; i < N; i++) {
        open[i] = memkit_probe_begin("deep", MEMKIT_LEVEL_LOW);
        cr_assert_not_null(open[i], "probe %d", i);
    }
    for (int i = N - 1; i >= 0; i--)
        memkit_probe_end(open[i]);
}
