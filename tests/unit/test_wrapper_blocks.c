/* test_wrapper_blocks.c — blocks the wrappers' fast paths must not take
 * for glibc's ordinary chunks: the bootstrap buffer's (handed out before
 * the real functions are known; glibc's loader frees some of them later),
 * the detour heap's (handed out while a compaction holds glibc's arenas,
 * freed at any time after) and glibc's mmapped chunks. The fast paths read
 * the word below a block and send all three out of line on its bit 2.
 *
 * The wrappers are linked into this program itself (not preloaded), so
 * the test reaches memkit's internals: it hands out bootstrap blocks as
 * the resolution does and checks that the thread is on the fast path. */
#include "counters.h"
#include "detour.h"
#include "memkit.h"
#include "real.h"
#include "tls.h"

#include <criterion/criterion.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static memkit_stats_t stats_now(void)
{
    memkit_stats_t s = { .size = sizeof s };
    cr_assert_eq(memkit_stats(&s), 0);
    return s;
}

static void *volatile sink;

/* The thread counts on the glibc fast path: a call has claimed its block. */
static void on_the_fast_path(void)
{
    sink = malloc(16);
    free(sink);
    cr_assert_eq(mk_self.gate, MK_GATE_FAST, "gate %#llx", (unsigned long long)mk_self.gate);
}

Test(wrapper_blocks, a_bootstrap_block_freed_on_the_fast_path_is_ignored)
{
    on_the_fast_path();
    unsigned char *p = mk_bootstrap_alloc(100, 16);
    cr_assert_not_null(p);
    memset(p, 0x5a, 100);
    cr_assert_geq(malloc_usable_size(p), 100);
    memkit_stats_t a = stats_now();
    free(p);   /* glibc's free would abort on it */
    memkit_stats_t b = stats_now();
    cr_assert_eq(b.free_calls, a.free_calls, "not the program's block: not counted");
    cr_assert_eq(b.heap_in_use, a.heap_in_use);
    cr_assert_eq(p[99], 0x5a, "never reused");
}

Test(wrapper_blocks, a_bootstrap_block_reallocated_moves_to_the_heap)
{
    on_the_fast_path();
    unsigned char *p = mk_bootstrap_alloc(64, 16);
    for (int i = 0; i < 64; i++)
        p[i] = (unsigned char)i;
    unsigned char *q = realloc(p, 1000);
    cr_assert_not_null(q);
    cr_assert_neq(q, p);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(q[i], i);
    cr_assert_geq(malloc_usable_size(q), 1000);
    free(q);
}

Test(wrapper_blocks, mmapped_chunks_count_their_own_usable_size)
{
    on_the_fast_path();
    memkit_stats_t a = stats_now();
    unsigned char *p = malloc(4u << 20);   /* above glibc's mmap threshold */
    cr_assert_not_null(p);
    size_t u0 = malloc_usable_size(p);
    sink = p;   /* the compiler would know p starts an object */
    cr_assert(mk_glibc_head_mapped(mk_glibc_head(sink)), "glibc mapped it");
    memkit_stats_t b = stats_now();
    cr_assert_eq(b.alloc_bytes - a.alloc_bytes, u0);
    cr_assert_eq(b.heap_in_use - a.heap_in_use, u0);

    p[0] = 7;
    unsigned char *q = realloc(p, 8u << 20);
    cr_assert_not_null(q);
    cr_assert_eq(q[0], 7);
    size_t u1 = malloc_usable_size(q);
    memkit_stats_t c = stats_now();
    cr_assert_eq((int64_t)(c.heap_in_use - b.heap_in_use), (int64_t)u1 - (int64_t)u0);

    free(q);
    memkit_stats_t d = stats_now();
    cr_assert_eq(d.free_calls - c.free_calls, 1);
    cr_assert_eq(d.released_bytes - c.released_bytes, u1);
    cr_assert_eq(d.heap_in_use, a.heap_in_use);
}

Test(wrapper_blocks, detour_blocks_freed_after_the_window_go_back_to_the_detour_heap)
{
    on_the_fast_path();
    cr_assert_eq(mk_detour_open(), 0);
    unsigned char *p = malloc(100);
    unsigned char *q = malloc(200);
    mk_detour_close();
    cr_assert(mk_detour_owns(p) && mk_detour_owns(q), "served by the detour heap");
    cr_assert_eq(malloc_usable_size(p), 104, "the usable size glibc would give");
    memset(q, 0x3c, 200);

    memkit_stats_t a = stats_now();
    free(p);   /* on the fast path: glibc's free would abort on it */
    memkit_stats_t b = stats_now();
    cr_assert_eq(b.free_calls - a.free_calls, 1);
    cr_assert_eq(b.free_bytes - a.free_bytes, 104);

    unsigned char *r = realloc(q, 5000);   /* out of the detour heap */
    cr_assert_not_null(r);
    cr_assert_not(mk_detour_owns(r));
    for (int i = 0; i < 200; i++)
        cr_assert_eq(r[i], 0x3c);
    cr_assert_eq(mk_detour_try_empty(), 1, "both blocks are back in the detour heap");
    free(r);
}
