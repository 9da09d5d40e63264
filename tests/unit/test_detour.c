/* test_detour.c — the detour heap (shim/detour.h) at the edges of a
 * window: a thread that saw the window open and comes late is never handed
 * a block of the heap being emptied; a free that comes late is finished
 * at the next tidy; a failed request is not counted as served. */
#include "detour.h"
#include "real.h"

#include <criterion/criterion.h>
#include <dlfcn.h>
#include <string.h>
#include <sys/mman.h>

/* madvise, interposed: while armed, the first call (mk_detour_try_empty
 * giving the heap's pages back) first runs what a thread held up since
 * the last window would run now: its detour allocation. */
static int late_alloc_armed;
static void *late_block;

int madvise(void *addr, size_t len, int advice)
{
    static int (*real_madvise)(void *, size_t, int);
    if (!real_madvise)
        real_madvise = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "madvise");
    if (late_alloc_armed) {
        late_alloc_armed = 0;
        late_block = mk_detour_alloc(24, 0);
    }
    return real_madvise(addr, len, advice);
}

static int glibc_frees;
static void (*glibc_free)(void *);

static void counting_free(void *p)
{
    glibc_frees++;
    glibc_free(p);
}

static void setup(void)
{
    cr_assert_eq(mk_real_resolve(), 0);
}

TestSuite(detour, .init = setup);

Test(detour, a_late_allocation_is_never_served_from_the_heap_being_emptied)
{
    cr_assert_eq(mk_detour_open(), 0);
    void *a = mk_detour_alloc(24, 0);
    cr_assert_not_null(a);
    mk_detour_close();
    mk_detour_free(a);   /* nothing held: the heap may be emptied */

    late_alloc_armed = 1;
    cr_assert_eq(mk_detour_try_empty(), 1);
    cr_assert_eq(late_alloc_armed, 0, "the heap's pages were given back");
    cr_assert_null(late_block,
                   "a block was handed out of the heap being emptied (the caller must go to glibc)");

    /* The next window starts afresh and hands out distinct blocks. */
    cr_assert_eq(mk_detour_open(), 0);
    char *b = mk_detour_alloc(24, 0), *c = mk_detour_alloc(24, 0);
    cr_assert(b && c && b != c);
    memset(b, 0xb, 24);
    memset(c, 0xc, 24);
    cr_assert_eq(b[23], 0xb);
    cr_assert_eq(mk_detour_usable(b), 24);
    mk_detour_close();
    mk_detour_free(b);
    mk_detour_free(c);
}

Test(detour, an_allocation_after_the_window_closed_goes_to_glibc)
{
    cr_assert_eq(mk_detour_open(), 0);
    mk_detour_close();
    struct mk_detour_stats before, after;
    mk_detour_stats(&before);
    cr_assert_null(mk_detour_alloc(100, 1));
    mk_detour_stats(&after);
    cr_assert_eq(after.allocations, before.allocations);
    cr_assert_eq(mk_detour_try_empty(), 1, "nothing is held");
}

Test(detour, a_request_it_cannot_serve_is_not_counted_as_served)
{
    cr_assert_eq(mk_detour_open(), 0);
    struct mk_detour_stats before, after;
    mk_detour_stats(&before);
    cr_assert_null(mk_detour_alloc((size_t)512 << 20, 0));   /* above its largest class */
    void *small = mk_detour_alloc(64, 0);
    cr_assert_not_null(small);
    mk_detour_stats(&after);
    cr_assert_eq(after.allocations, before.allocations + 1);
    mk_detour_close();
    mk_detour_free(small);
}

Test(detour, a_free_that_ends_after_the_window_is_finished_at_the_next_tidy)
{
    glibc_free = mk_real.free;
    mk_real.free = counting_free;
    cr_assert_eq(mk_detour_open(), 0);
    mk_detour_close();
    /* A free that saw the window open, held up until it closed. */
    void *p = mk_real.malloc(40);   /* the allocator's own, as a program block is */
    cr_assert_not_null(p);
    glibc_frees = 0;
    mk_detour_defer(p);
    cr_assert_eq(glibc_frees, 0);
    mk_detour_try_empty();
    cr_assert_eq(glibc_frees, 1, "the deferred block went back to glibc at the tidy");
    mk_real.free = glibc_free;
}
