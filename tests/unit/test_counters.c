/* test_counters.c — per-thread counters: exact sums, peak bound, thread
 * exit and block reuse, fork. The counters are driven directly, as the
 * wrappers drive them. */
#include "counters.h"
#include "tls.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static struct mk_totals before;

static void setup(void)
{
    mk_counters_init();
    mk_counters_snapshot(&before);
}

TestSuite(counters, .init = setup);

Test(counters, single_thread_sums_are_exact)
{
    for (int i = 0; i < 1000; i++)
        mk_count_alloc(&mk_self, MK_KIND_MALLOC, 100, 104);
    for (int i = 0; i < 400; i++)
        mk_count_free(&mk_self, 104);
    mk_count_alloc(&mk_self, MK_KIND_CALLOC, 30, 40);
    mk_count_failure(&mk_self);

    struct mk_totals now;
    mk_counters_snapshot(&now);
    cr_assert_eq(now.kind[MK_KIND_MALLOC].calls - before.kind[MK_KIND_MALLOC].calls, 1000);
    cr_assert_eq(now.kind[MK_KIND_MALLOC].bytes - before.kind[MK_KIND_MALLOC].bytes, 104000);
    cr_assert_eq(now.kind[MK_KIND_MALLOC].requested - before.kind[MK_KIND_MALLOC].requested, 100000);
    cr_assert_eq(now.alloc_calls - before.alloc_calls, 1001);
    cr_assert_eq(now.free_calls - before.free_calls, 400);
    cr_assert_eq(now.free_bytes - before.free_bytes, 400 * 104);
    cr_assert_eq(now.failures - before.failures, 1);
    cr_assert_eq(now.heap_in_use - before.heap_in_use, 600 * 104 + 40);
}

Test(counters, realloc_in_place_moves_only_the_difference)
{
    mk_count_alloc(&mk_self, MK_KIND_MALLOC, 100, 104);
    mk_count_realloc(&mk_self, MK_KIND_REALLOC, 200, 104, 216, 0, NULL);   /* grew in place */
    mk_count_realloc(&mk_self, MK_KIND_REALLOC, 50, 216, 56, 0, NULL);    /* shrank in place */
    mk_count_realloc(&mk_self, MK_KIND_REALLOC, 5000, 56, 5016, 1, NULL);  /* moved */

    struct mk_totals now;
    mk_counters_snapshot(&now);
    cr_assert_eq(now.kind[MK_KIND_REALLOC].calls - before.kind[MK_KIND_REALLOC].calls, 3);
    cr_assert_eq(now.kind[MK_KIND_REALLOC].bytes - before.kind[MK_KIND_REALLOC].bytes,
                 (216 - 104) + 5016);
    cr_assert_eq(now.free_bytes - before.free_bytes, (216 - 56) + 56);
    cr_assert_eq(now.free_calls - before.free_calls, 0, "a realloc is not a free call");
    cr_assert_eq(now.heap_in_use - before.heap_in_use, 5016);
}

/* ---- threads ---- */

#define THREADS 4
#define PER_THREAD 100000

static void *allocate_and_free(void *arg)
{
    size_t size = (size_t)(uintptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        mk_count_alloc(&mk_self, MK_KIND_MALLOC, size, size);
        if (i % 2)
            mk_count_free(&mk_self, size);
    }
    return NULL;
}

Test(counters, threads_sum_exactly_after_they_exit)
{
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, allocate_and_free, (void *)(uintptr_t)(16 * (i + 1)));
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);

    struct mk_totals now;
    mk_counters_snapshot(&now);
    uint64_t bytes = 0;
    for (int i = 0; i < THREADS; i++)
        bytes += (uint64_t)16 * (i + 1) * PER_THREAD;
    cr_assert_eq(now.alloc_calls - before.alloc_calls, (uint64_t)THREADS * PER_THREAD);
    cr_assert_eq(now.free_calls - before.free_calls, (uint64_t)THREADS * PER_THREAD / 2);
    cr_assert_eq(now.alloc_bytes - before.alloc_bytes, bytes);
    cr_assert_eq(now.heap_in_use - before.heap_in_use, bytes / 2);
}

static void *one_alloc(void *arg)
{
    mk_count_alloc(&mk_self, MK_KIND_MALLOC, 8, 24);
    return NULL;
}

Test(counters, thread_churn_reuses_blocks_and_loses_nothing)
{
    /* Far more threads than the static blocks (128): without reuse the
     * counters would need a new chunk per 255 threads. */
    for (int i = 0; i < 3000; i++) {
        pthread_t th;
        cr_assert_eq(pthread_create(&th, NULL, one_alloc, NULL), 0);
        pthread_join(th, NULL);
    }
    struct mk_totals now;
    mk_counters_snapshot(&now);
    cr_assert_eq(now.alloc_calls - before.alloc_calls, 3000);
    cr_assert_eq(now.alloc_bytes - before.alloc_bytes, 3000 * 24);
}

/* ---- peak ---- */

Test(counters, peak_is_within_the_documented_bound)
{
    const uint64_t block = 1024, count = 10240;   /* 10 MiB */
    for (uint64_t i = 0; i < count; i++)
        mk_count_alloc(&mk_self, MK_KIND_MALLOC, block, block);
    for (uint64_t i = 0; i < count; i++)
        mk_count_free(&mk_self, block);

    struct mk_totals now;
    mk_counters_snapshot(&now);
    uint64_t true_peak = before.heap_in_use + block * count;
    cr_assert_leq(now.heap_peak, true_peak);
    cr_assert_geq(now.heap_peak, true_peak - MK_FOLD_BYTES,
                  "peak %lu, true %lu", (unsigned long)now.heap_peak, (unsigned long)true_peak);
    cr_assert_eq(now.heap_in_use, before.heap_in_use);
}

/* ---- maps ---- */

Test(counters, maps_are_counted_by_owner_and_never_go_below_zero)
{
    mk_count_mmap(MK_MAP_PROGRAM, 1 << 20);
    mk_count_mmap(MK_MAP_ALLOCATOR, 4096);
    mk_count_mremap(MK_MAP_PROGRAM, 1 << 20, 2 << 20);
    mk_count_munmap(MK_MAP_PROGRAM, 2 << 20);
    mk_count_munmap(MK_MAP_PROGRAM, 8 << 20);   /* something memkit never saw mapped */

    struct mk_totals now;
    mk_counters_snapshot(&now);
    const struct mk_map_totals *p = &now.map[MK_MAP_PROGRAM], *b = &before.map[MK_MAP_PROGRAM];
    cr_assert_eq(p->mmap_calls - b->mmap_calls, 1);
    cr_assert_eq(p->mremap_calls - b->mremap_calls, 1);
    cr_assert_eq(p->munmap_calls - b->munmap_calls, 2);
    cr_assert_eq(p->in_use, 0);
    cr_assert_geq(p->peak, 2 << 20);
    cr_assert_eq(now.map[MK_MAP_ALLOCATOR].mmap_calls - before.map[MK_MAP_ALLOCATOR].mmap_calls, 1);
    cr_assert_eq(now.map[MK_MAP_ALLOCATOR].in_use - before.map[MK_MAP_ALLOCATOR].in_use, 4096);
}

/* ---- fork ---- */

Test(counters, fork_child_counts_its_own_calls_and_keeps_what_it_inherited)
{
    for (int i = 0; i < 100; i++)
        mk_count_alloc(&mk_self, MK_KIND_MALLOC, 64, 64);
    struct mk_totals parent;
    mk_counters_snapshot(&parent);

    pid_t pid = fork();
    if (pid == 0) {
        mk_counters_after_fork_child(&mk_self);
        mk_count_alloc(&mk_self, MK_KIND_MALLOC, 64, 64);
        mk_count_free(&mk_self, 64);
        mk_count_free(&mk_self, 64);
        struct mk_totals child;
        mk_counters_snapshot(&child);
        int ok = child.alloc_calls == 1 && child.free_calls == 2 &&
                 child.heap_in_use == parent.heap_in_use - 64;
        _exit(ok ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the child's counts restart while its heap in use is inherited");
}
