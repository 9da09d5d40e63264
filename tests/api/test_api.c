/* test_api.c — memkit_stats and memkit_config_* seen from a program that
 * links libmemkit: every allocation here goes through the real wrappers. */
#include "memkit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static memkit_stats_t stats_now(void)
{
    memkit_stats_t s = { .size = sizeof s };
    cr_assert_eq(memkit_stats(&s), 0, "memkit_stats: errno %d", errno);
    return s;
}

/* Keeps the compiler from pairing a malloc with its free and removing both. */
static void *volatile sink;

Test(api, counts_this_threads_calls_exactly)
{
    memkit_stats_t a = stats_now();
    void *blocks[100];
    size_t usable = 0;
    for (int i = 0; i < 100; i++) {
        blocks[i] = malloc(100);
        usable += malloc_usable_size(blocks[i]);
    }
    memkit_stats_t b = stats_now();
    for (int i = 0; i < 100; i++)
        free(blocks[i]);
    memkit_stats_t c = stats_now();

    cr_assert_eq(b.alloc_calls - a.alloc_calls, 100);
    cr_assert_eq(b.alloc_bytes - a.alloc_bytes, usable);
    cr_assert_eq(b.requested_bytes - a.requested_bytes, 100 * 100);
    cr_assert_eq(b.heap_in_use - a.heap_in_use, usable);
    cr_assert_geq(b.heap_peak, b.heap_in_use);
    cr_assert_eq(c.free_calls - b.free_calls, 100);
    cr_assert_eq(c.free_bytes - b.free_bytes, usable);
    cr_assert_eq(c.released_bytes - b.released_bytes, usable);
    cr_assert_eq(c.heap_in_use, a.heap_in_use);
}

Test(api, every_allocating_function_is_counted)
{
    memkit_stats_t a = stats_now();
    void *p;
    sink = calloc(10, 10);
    free(sink);
    sink = realloc(NULL, 64);
    sink = realloc(sink, 4096);
    free(sink);
    cr_assert_eq(posix_memalign(&p, 64, 100), 0);
    free(p);
    sink = aligned_alloc(64, 128);
    free(sink);
    sink = memalign(64, 100);
    free(sink);
    sink = valloc(100);
    free(sink);
    sink = pvalloc(100);
    free(sink);
    sink = reallocarray(NULL, 10, 10);
    free(sink);
    memkit_stats_t b = stats_now();
    cr_assert_eq(b.alloc_calls - a.alloc_calls, 9);
    cr_assert_eq(b.free_calls - a.free_calls, 8);
    cr_assert_eq(b.heap_in_use, a.heap_in_use);
}

/* A realloc hands out what it adds and gives back what it drops: all of
 * both blocks when it moves, the difference when it stays in place. */
static void check_realloc_moved_bytes(memkit_stats_t a, memkit_stats_t b, void *old,
                                      size_t old_usable, void *now, size_t now_usable)
{
    cr_assert_eq(b.alloc_calls - a.alloc_calls, 1);
    cr_assert_eq(b.free_calls, a.free_calls, "a realloc that returns a block is no free");
    cr_assert_eq((int64_t)(b.heap_in_use - a.heap_in_use), (int64_t)now_usable - (int64_t)old_usable);
    if (now != old) {
        cr_assert_eq(b.alloc_bytes - a.alloc_bytes, now_usable);
        cr_assert_eq(b.released_bytes - a.released_bytes, old_usable);
    } else if (now_usable >= old_usable) {
        cr_assert_eq(b.alloc_bytes - a.alloc_bytes, now_usable - old_usable);
        cr_assert_eq(b.released_bytes, a.released_bytes);
    } else {
        cr_assert_eq(b.alloc_bytes, a.alloc_bytes);
        cr_assert_eq(b.released_bytes - a.released_bytes, old_usable - now_usable);
    }
}

Test(api, realloc_counts_what_it_moved)
{
    /* Shrinking stays in place in glibc; growing past a neighbour moves. */
    unsigned char *p = malloc(1000);
    unsigned char *fence = malloc(16);
    size_t u0 = malloc_usable_size(p);
    memkit_stats_t a = stats_now();
    unsigned char *q = realloc(p, 100);
    size_t u1 = malloc_usable_size(q);
    memkit_stats_t b = stats_now();
    cr_assert_eq(b.requested_bytes - a.requested_bytes, 100);
    check_realloc_moved_bytes(a, b, p, u0, q, u1);

    unsigned char *r = realloc(q, 64 * 1024);
    size_t u2 = malloc_usable_size(r);
    memkit_stats_t c = stats_now();
    check_realloc_moved_bytes(b, c, q, u1, r, u2);

    /* realloc(p, 0) frees the block: a free, not an allocating call. */
    errno = 0;
    cr_assert_null(realloc(r, 0));
    memkit_stats_t d = stats_now();
    cr_assert_eq(d.alloc_calls, c.alloc_calls);
    cr_assert_eq(d.requested_bytes, c.requested_bytes);
    cr_assert_eq(d.free_calls - c.free_calls, 1);
    cr_assert_eq(d.released_bytes - c.released_bytes, u2);
    cr_assert_eq(c.heap_in_use - d.heap_in_use, u2);

    /* A failed realloc leaves the block and every count but failures. */
    unsigned char *s = malloc(64);
    memkit_stats_t e = stats_now();
    errno = 0;
    cr_assert_null(realloc(s, SIZE_MAX - 100000));
    cr_assert_eq(errno, ENOMEM);
    memkit_stats_t f = stats_now();
    cr_assert_eq(f.alloc_failures - e.alloc_failures, 1);
    cr_assert_eq(f.alloc_calls, e.alloc_calls);
    cr_assert_eq(f.requested_bytes, e.requested_bytes);
    cr_assert_eq(f.released_bytes, e.released_bytes);
    cr_assert_eq(f.heap_in_use, e.heap_in_use);
    free(s);
    free(fence);
}

Test(api, failures_are_counted_and_errno_is_the_allocators)
{
    memkit_stats_t a = stats_now();
    errno = 0;
    sink = malloc(SIZE_MAX);
    cr_assert_null(sink);
    cr_assert_eq(errno, ENOMEM);
    errno = 0;
    sink = calloc(SIZE_MAX / 2, 3);
    cr_assert_null(sink);
    cr_assert_eq(errno, ENOMEM);
    memkit_stats_t b = stats_now();
    cr_assert_eq(b.alloc_failures - a.alloc_failures, 2);
    cr_assert_eq(b.alloc_calls, a.alloc_calls);
}

Test(api, the_programs_maps_are_counted)
{
    memkit_stats_t a = stats_now();
    char *m = mmap(NULL, 3 * 4096 + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    memkit_stats_t b = stats_now();
    m = mremap(m, 4 * 4096, 8 * 4096, MREMAP_MAYMOVE);
    cr_assert_neq(m, MAP_FAILED);
    memkit_stats_t c = stats_now();
    cr_assert_eq(munmap(m, 8 * 4096), 0);
    memkit_stats_t d = stats_now();

    cr_assert_eq(b.mmap_calls - a.mmap_calls, 1);
    cr_assert_eq(b.mmap_in_use - a.mmap_in_use, 4 * 4096, "lengths count in whole pages");
    cr_assert_eq(c.mremap_calls - b.mremap_calls, 1);
    cr_assert_eq(c.mmap_in_use - a.mmap_in_use, 8 * 4096);
    cr_assert_eq(d.munmap_calls - c.munmap_calls, 1);
    cr_assert_eq(d.mmap_in_use, a.mmap_in_use);
    cr_assert_geq(d.mmap_peak, a.mmap_in_use + 8 * 4096);
}

static void *allocate_in_thread(void *arg)
{
    for (int i = 0; i < 1000; i++)
        free(malloc(32));
    return malloc(1000);   /* handed to the main thread */
}

Test(api, other_threads_calls_are_folded_in)
{
    memkit_stats_t a = stats_now();
    pthread_t th;
    void *handed;
    pthread_create(&th, NULL, allocate_in_thread, NULL);
    pthread_join(th, &handed);
    memkit_stats_t b = stats_now();
    free(handed);
    memkit_stats_t c = stats_now();
    /* pthread_create allocates the thread's own structures too. */
    cr_assert_geq(b.alloc_calls - a.alloc_calls, 1001);
    cr_assert_geq(b.free_calls - a.free_calls, 1000);
    cr_assert_eq(c.free_calls - b.free_calls, 1);
}

Test(api, size_field_bounds_what_is_filled)
{
    memkit_stats_t s;
    memset(&s, 0xab, sizeof s);
    s.size = offsetof(memkit_stats_t, requested_bytes);   /* an older caller */
    cr_assert_eq(memkit_stats(&s), 0);
    cr_assert_neq(s.alloc_calls, 0xababababababababull);
    cr_assert_eq(s.requested_bytes, 0xababababababababull, "past out->size is untouched");

    s.size = 8;
    errno = 0;
    cr_assert_eq(memkit_stats(&s), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(memkit_stats(NULL), -1);
}

Test(api, config_set_and_get)
{
    char buf[256];
    cr_assert_eq(memkit_config_set("MEMKIT_REPORT", "/tmp/x.%p.json"), 0);
    cr_assert_eq(memkit_config_get("MEMKIT_REPORT", buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "/tmp/x.%p.json");
    cr_assert_eq(memkit_config_set("MEMKIT_REPORT", "off"), 0);   /* no report at exit */

    errno = 0;
    cr_assert_eq(memkit_config_set("MEMKIT_LOG", "loud"), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(memkit_config_get("MEMKIT_LOG", buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "warn", "a bad value keeps the old one");

    errno = 0;
    cr_assert_eq(memkit_config_set("MEMKIT_NO_SUCH", "1"), -1);
    cr_assert_eq(errno, ENOENT);
    errno = 0;
    cr_assert_eq(memkit_config_get("MEMKIT_REPORT", buf, 3), -1);
    cr_assert_eq(errno, ERANGE);
}
