/* wrap_alloc.c — the malloc family, forwarded to the allocator beneath and
 * counted.
 *
 * Every wrapper has a fast path for glibc beneath, taken while memkit is
 * counting into the thread's own counter block and nothing else is set in
 * its gate (tls.h: one compare): block sizes are read from glibc's size
 * words (real.h; an mmapped chunk, a bootstrap or a detour block goes out
 * of line), the counting is inline and split around the real call so that
 * nothing but the result is kept across it (counters.h), and free counts
 * first and ends in a jump to the real free. Rare turns (a failure, a countdown
 * that ran out, a sampled block) are out of line. Under another allocator
 * the call is made with in_real set (so an mmap it makes is the
 * allocator's) and counted by its malloc_usable_size, out of line. The
 * slow path, out of line, handles everything else: resolving the real
 * functions (the bootstrap buffer serves meanwhile), memkit's own work and
 * the allocator calling back (straight through, uncounted), pass-through
 * mode, a thread's first call (claiming its block), and the shared block.
 * Either way the result and errno are exactly what the allocator gave:
 * counting touches neither. */
#include "counters.h"
#include "detour.h"
#include "lifecycle.h"
#include "memkit.h"
#include "sample.h"

#include <errno.h>
#include <malloc.h>   /* the prototypes being defined here */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MK_MIN_ALIGN 16
#define MK_ALWAYS_INLINE inline __attribute__((always_inline))
#define MK_NOINLINE __attribute__((noinline))
/* free's caller, in the functions free reaches by a jump (their return
 * address is the one free was called from): tls.h free_caller. */
#define MK_FREE_CALLER() ((uintptr_t)__builtin_return_address(0))

/* The thread's own block when the glibc fast path may run, else NULL. A
 * thread has a block only once memkit counts (blocks are claimed on the
 * slow path after mk_should_count, and the switch to pass-through at start
 * drops the one block that may exist by then), so the mode needs no check
 * here; own_glibc says the block is the thread's own and glibc is beneath. */
static MK_ALWAYS_INLINE struct mk_counter_block *fast_block(struct mk_thread *t)
{
    if (MK_LIKELY(t->gate == MK_GATE_FAST)) {
        struct mk_counter_block *b = t->block;
        if (!b)
            __builtin_unreachable();   /* own_glibc is set only with a block */
        return b;
    }
    return NULL;
}

/* The fast path under another allocator: a block of the thread's own, the
 * rest of the gate zero (own_glibc is never set then). */
static MK_ALWAYS_INLINE int other_fast(struct mk_thread *t)
{
    return t->gate == 0 && t->block && !mk_detouring();
}

/* A new block's usable size. 0 for a block just handed out is the
 * allocator not knowing yet (tcmalloc before its constructor: real.h); its
 * size classes answer instead, so the block counts what its free will.
 * Any other answer stands, even one below the request (tcmalloc's
 * pvalloc(SIZE_MAX - 100) wraps to a one-page block). */
static MK_ALWAYS_INLINE size_t new_usable(void *p, size_t requested)
{
    size_t usable = mk_usable_size(p);
    if (MK_UNLIKELY(usable == 0))
        usable = mk_real_usable_for(requested);
    return usable;
}

/* Counts one allocating call's result. shared is a constant 0 on the fast
 * path, so the compiler drops the atomic branch there. */
static MK_ALWAYS_INLINE void note_alloc(struct mk_thread *t, struct mk_counter_block *b,
                                        int shared, enum mk_alloc_kind kind,
                                        size_t requested, void *p)
{
    if (MK_LIKELY(p != NULL))
        mk_count_alloc_in(t, b, shared, kind, requested, new_usable(p, requested), p);
    else
        mk_count_failure(t);
}

/* Slow path, step one: may this call be counted at all? Resolves the real
 * functions on the first call. Returns -1 when the bootstrap buffer must
 * serve, 0 for a call straight through, 1 to count (the thread's block is
 * then claimed). */
static MK_NOINLINE int slow_route(struct mk_thread *t)
{
    if (!mk_real_ready())
        return -1;
    if (!mk_should_count(t))
        return 0;
    mk_block_of(t);
    return 1;
}

/* The glibc fast path's rarer turns (MK_FORWARD_ALLOC). errno stays as
 * the allocator set it. */
static MK_NOINLINE void *alloc_failed(enum mk_alloc_kind kind, size_t requested)
{
    mk_count_call_failed(&mk_self, kind, requested);
    return NULL;
}

static MK_NOINLINE void *alloc_event(void *p, size_t usable)
{
    mk_alloc_event(&mk_self, p, usable);
    return p;
}

/* An mmapped chunk (large blocks): its usable size is one word less. */
static MK_NOINLINE void *alloc_mapped(enum mk_alloc_kind kind, void *p)
{
    struct mk_thread *t = &mk_self;
    size_t usable = mk_glibc_usable(p);
    if (mk_count_own_given(t, t->block, kind, usable))
        mk_alloc_event(t, p, usable);
    return p;
}

/* One wrapper for each function that takes sizes and returns a new block.
 * `bootstrap` is what serves the call before the real function is known;
 * `detour` what serves it while a compaction holds glibc's arenas
 * (detour.h; NULL: the call goes to the allocator and may wait). */
#define MK_FORWARD_ALLOC(name, kind, params, args, requested, bootstrap, detour) \
    static MK_NOINLINE void *other_##name params;                        \
    static MK_NOINLINE void *slow_rest_##name params;                    \
    /* Pass-through first, in a function of its own that needs no stack  \
     * frame (MEMKIT_DISABLE=1 costs a few instructions a call). */      \
    static MK_NOINLINE void *slow_##name params                          \
    {                                                                    \
        if (mk_passing_through())                                        \
            return mk_real.name args;                                    \
        return slow_rest_##name args;                                    \
    }                                                                    \
    /* Everything else off the fast path. */                             \
    static MK_NOINLINE void *slow_rest_##name params                     \
    {                                                                    \
        struct mk_thread *t = &mk_self;                                  \
        if (other_fast(t))                                               \
            return other_##name args;                                    \
        int route = slow_route(t);                                       \
        if (route < 0)                                                   \
            return bootstrap;                                            \
        if (route == 0)                                                  \
            return mk_real.name args;                                    \
        void *p = mk_detouring() ? (detour) : NULL;                      \
        if (!p) {                                                        \
            t->in_real = 1;                                              \
            p = mk_real.name args;                                       \
            t->in_real = 0;                                              \
        }                                                                \
        note_alloc(t, t->block, t->shared, kind, (requested), p);        \
        return p;                                                        \
    }                                                                    \
    /* The fast path under another allocator: its mmaps are marked as   \
     * its own (in_real). Out of line, so that glibc's path needs no     \
     * stack frame for it. */                                            \
    static MK_NOINLINE void *other_##name params                         \
    {                                                                    \
        struct mk_thread *t = &mk_self;                                  \
        t->in_real = 1;                                                  \
        void *p = mk_real.name args;                                     \
        t->in_real = 0;                                                  \
        note_alloc(t, t->block, 0, kind, (requested), p);                \
        return p;                                                        \
    }                                                                    \
    MEMKIT_API void *name params                                         \
    {                                                                    \
        struct mk_thread *t = &mk_self;                                  \
        struct mk_counter_block *b = fast_block(t);                      \
        if (MK_UNLIKELY(!b || mk_detouring()))                           \
            return slow_##name args;                                     \
        {                                                                \
            /* glibc maps through internal calls, never through memkit's \
             * mmap: in_real would mark nothing. Counted in two halves   \
             * (counters.h), the block reloaded after the call: nothing  \
             * but the result is kept across it. */                      \
            mk_count_call_ahead(b, kind, (requested));                   \
            void *p = mk_real.name args;                                 \
            if (MK_UNLIKELY(p == NULL))                                  \
                return alloc_failed(kind, (requested));                  \
            size_t head = mk_glibc_head(p);                              \
            if (MK_UNLIKELY(mk_glibc_head_mapped(head)))                 \
                return alloc_mapped(kind, p);                            \
            size_t usable = mk_glibc_head_usable(head);                  \
            if (mk_count_own_given(t, __atomic_load_n(&t->block,         \
                                   __ATOMIC_RELAXED), kind, usable))     \
                return alloc_event(p, usable);                           \
            return p;                                                    \
        }                                                                \
    }

static void *bootstrap_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return mk_bootstrap_alloc(total, MK_MIN_ALIGN);   /* static memory is zero */
}

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* calloc's detour: glibc's answer to an overflowing count is ENOMEM. */
static void *detour_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return NULL;   /* glibc says ENOMEM for it */
    return mk_detour_alloc(total, 1);
}

MK_FORWARD_ALLOC(malloc, MK_KIND_MALLOC, (size_t size), (size), size,
                 mk_bootstrap_alloc(size, MK_MIN_ALIGN), mk_detour_alloc(size, 0))
MK_FORWARD_ALLOC(calloc, MK_KIND_CALLOC, (size_t n, size_t size), (n, size), n * size,
                 bootstrap_calloc(n, size), detour_calloc(n, size))
MK_FORWARD_ALLOC(aligned_alloc, MK_KIND_ALIGNED_ALLOC, (size_t align, size_t size),
                 (align, size), size, mk_bootstrap_alloc(size, align), NULL)
MK_FORWARD_ALLOC(memalign, MK_KIND_MEMALIGN, (size_t align, size_t size),
                 (align, size), size, mk_bootstrap_alloc(size, align), NULL)
MK_FORWARD_ALLOC(valloc, MK_KIND_VALLOC, (size_t size), (size), size,
                 mk_bootstrap_alloc(size, page_size()), NULL)
MK_FORWARD_ALLOC(pvalloc, MK_KIND_PVALLOC, (size_t size), (size), size,
                 mk_bootstrap_alloc(size, page_size()), NULL)

/* ---- free ------------------------------------------------------------------ */

static MK_NOINLINE void free_detoured(void *p);

static MK_NOINLINE void slow_free(void *p)
{
    if (MK_UNLIKELY(mk_bootstrap_owns(p)))
        return;   /* bootstrap blocks are never reused */
    if (mk_passing_through()) {   /* decided before any compaction: no detour block */
        mk_real.free(p);
        return;
    }
    if (mk_detour_owns(p) || mk_detouring()) {
        free_detoured(p);
        return;
    }
    struct mk_thread *t = &mk_self;
    int route = slow_route(t);
    if (route < 0)
        return;   /* nothing real was ever handed out */
    if (route == 0) {
        mk_real.free(p);
        return;
    }
    size_t usable = mk_usable_size(p);
    mk_sample_note_free(p);
    t->in_real = 1;
    mk_real.free(p);
    t->in_real = 0;
    t->free_caller = MK_FREE_CALLER();
    mk_count_free_in(t, t->block, t->shared, usable);
}

/* A detour block goes back to its class at any time; a glibc block freed
 * while a compaction holds the arenas is put aside until it ends. */
static MK_NOINLINE void free_detoured(void *p)
{
    if (MK_UNLIKELY(mk_bootstrap_owns(p)))
        return;
    struct mk_thread *t = &mk_self;
    int count = mk_should_count(t);
    if (count)
        mk_sample_note_free(p);
    if (mk_detour_owns(p)) {
        size_t usable = mk_detour_usable(p);
        mk_detour_free(p);
        if (count)
            mk_count_free(t, usable);
    } else if (count) {
        size_t usable = mk_usable_size(p);
        mk_detour_defer(p);
        mk_count_free(t, usable);
    } else {
        mk_real.free(p);   /* memkit's own: straight through */
    }
}

/* The glibc fast path's rarer turns, each ending in the real free. */
static MK_NOINLINE void free_after_event(struct mk_thread *t, struct mk_counter_block *b,
                                         void *p)
{
    t->free_caller = MK_FREE_CALLER();
    mk_free_event(t, b);
    mk_real.free(p);
}

/* Bit 2 of the size word: an mmapped chunk, or a bootstrap or detour
 * block, whose marks carry it (real.h, detour.h). */
static MK_NOINLINE void free_mapped(struct mk_thread *t, struct mk_counter_block *b, void *p)
{
    if (mk_bootstrap_owns(p))
        return;   /* bootstrap blocks are never reused */
    if (mk_detour_owns(p)) {
        free_detoured(p);
        return;
    }
    if (mk_count_own_free(b, mk_glibc_usable(p))) {
        t->free_caller = MK_FREE_CALLER();
        mk_free_event(t, b);
    }
    mk_real.free(p);
}

static MK_ALWAYS_INLINE void free_glibc_counted(struct mk_thread *t,
                                                struct mk_counter_block *b, void *p)
{
    /* Counted before the call (free cannot fail), so that every way out
     * is a jump to the real free, without a stack frame here. glibc
     * unmaps through internal calls: no in_real. */
    size_t head = mk_glibc_head(p);
    if (MK_UNLIKELY(mk_glibc_head_mapped(head)))
        free_mapped(t, b, p);
    else if (mk_count_own_free(b, mk_glibc_head_usable(head)))
        free_after_event(t, b, p);
    else
        mk_real.free(p);
}

static MK_NOINLINE void free_sampled(struct mk_thread *t, struct mk_counter_block *b,
                                     void *p)
{
    mk_sample_forget(p);
    free_glibc_counted(t, b, p);
}

/* Bootstrap and detour blocks are recognised off the fast path: by
 * their marks, or on the slow path, which looks for them first. While a
 * compaction holds glibc's arenas every free takes the detour path. */
MEMKIT_API void free(void *p)
{
    if (!p)
        return;
    struct mk_thread *t = &mk_self;
    struct mk_counter_block *b = fast_block(t);
    if (MK_UNLIKELY(!b))
        slow_free(p);
    else if (mk_detouring())
        free_detoured(p);
    else if (MK_UNLIKELY(mk_sampled_maybe(p)))
        free_sampled(t, b, p);
    else
        free_glibc_counted(t, b, p);
}

/* ---- realloc ------------------------------------------------------------------
 * The old block's usable size is taken before the call (afterwards it may be
 * gone). A NULL result with size 0 means the block was freed (glibc's rule,
 * followed by the other allocators here); any other NULL is a failure that
 * left the block as it was. reallocarray is rarer and takes the same route
 * as realloc's slow path. */

static MK_ALWAYS_INLINE void note_realloc(struct mk_thread *t, struct mk_counter_block *b,
                                          int shared, enum mk_alloc_kind kind, void *old,
                                          size_t old_usable, size_t requested, void *p,
                                          size_t usable)
{
    if (MK_LIKELY(p != NULL))
        mk_count_realloc_in(t, b, shared, kind, requested, old_usable, usable,
                            old && p != old, p);
    else if (old && requested == 0)
        mk_count_free_in(t, b, shared, old_usable);
    else
        mk_count_failure(t);
}

/* A block from the bootstrap buffer moves to the real heap on realloc. */
static void *realloc_from_bootstrap(void *old, size_t size)
{
    size_t have = mk_bootstrap_usable(old);
    void *p = malloc(size);
    if (p)
        memcpy(p, old, have < size ? have : size);
    return p;
}

/* realloc of a detour block, or of any block while a compaction holds the
 * arenas: a new block (from the detour heap while it is open), the bytes
 * copied, the old one freed as free() would. glibc's rules hold: size 0
 * frees and gives NULL; a failure leaves the old block as it was. */
static MK_NOINLINE void *realloc_detoured(enum mk_alloc_kind kind, void *old, size_t size)
{
    if (old && MK_UNLIKELY(mk_bootstrap_owns(old)))
        return realloc_from_bootstrap(old, size);
    struct mk_thread *t = &mk_self;
    int count = mk_should_count(t);
    if (!count && !(old && mk_detour_owns(old)))
        return mk_real.realloc(old, size);   /* memkit's own */
    if (old && size == 0) {
        free(old);
        return NULL;
    }
    void *p = mk_detouring() ? mk_detour_alloc(size, 0) : NULL;
    if (!p) {
        t->in_real = 1;
        p = mk_real.malloc(size);
        t->in_real = 0;
    }
    if (!p) {
        if (count)
            mk_count_failure(t);
        return NULL;
    }
    size_t old_usable = 0;
    if (old) {
        if (count)
            mk_sample_note_free(old);
        old_usable = mk_detour_owns(old) ? mk_detour_usable(old) : mk_usable_size(old);
        memcpy(p, old, old_usable < size ? old_usable : size);
        if (mk_detour_owns(old))
            mk_detour_free(old);
        else if (mk_detouring())
            mk_detour_defer(old);
        else
            mk_real.free(old);
    }
    if (count)
        mk_count_realloc(t, kind, size, old_usable, mk_usable_size(p), old != NULL, p);
    return p;
}

/* The glibc realloc fast path's rarer turns. NULL: the block was freed
 * (size 0: a free, not a realloc that handed something out) or the call
 * failed and left it as it was. */
static MK_NOINLINE void *realloc_null(void *old, size_t old_usable, size_t size)
{
    struct mk_thread *t = &mk_self;
    if (old && size == 0) {
        mk_add_own(&t->block->kind[MK_KIND_REALLOC].calls, (uint64_t)-1);
        mk_count_free_in(t, t->block, 0, old_usable);
        return NULL;
    }
    return alloc_failed(MK_KIND_REALLOC, size);
}

/* The old block's bytes reached the free side's mark: the free side's
 * event, then the rest of the counting (what the realloc handed out), and
 * the allocation side's event if that is due too. */
static MK_NOINLINE void *realloc_free_due(void *p, size_t given)
{
    struct mk_thread *t = &mk_self;
    mk_free_event(t, t->block);
    if (mk_count_own_given(t, t->block, MK_KIND_REALLOC, given))
        mk_alloc_event(t, p, given);
    return p;
}

/* realloc's slow path: resolving, memkit's own calls, pass-through, a
 * thread's first call, the shared block, allocators other than glibc. */
static MK_NOINLINE void *slow_realloc(void *old, size_t size)
{
    if (old && MK_UNLIKELY(mk_bootstrap_owns(old)))
        return realloc_from_bootstrap(old, size);
    if (mk_passing_through())
        return mk_real.realloc(old, size);
    if ((old && mk_detour_owns(old)) || mk_detouring())
        return realloc_detoured(MK_KIND_REALLOC, old, size);
    struct mk_thread *t = &mk_self;
    if (MK_UNLIKELY(!fast_block(t))) {
        int route = slow_route(t);
        if (route < 0)
            return old ? NULL : mk_bootstrap_alloc(size, MK_MIN_ALIGN);
        if (route == 0)
            return mk_real.realloc(old, size);
    }
    size_t old_usable = 0;
    struct mk_sample_taken taken = { 0 };
    if (old) {
        old_usable = mk_usable_size(old);
        mk_sample_take(old, &taken);
    }
    t->in_real = 1;
    void *p = mk_real.realloc(old, size);
    t->in_real = 0;
    if (!p && size)
        mk_sample_put_back(old, &taken);   /* failed: the block is as it was */
    note_realloc(t, t->block, t->shared, MK_KIND_REALLOC, old, old_usable, size, p,
                 p ? new_usable(p, size) : 0);
    return p;
}

MEMKIT_API void *realloc(void *old, size_t size)
{
    struct mk_thread *t = &mk_self;
    struct mk_counter_block *b = fast_block(t);
    if (MK_UNLIKELY(!b || mk_detouring()))
        return slow_realloc(old, size);
    /* glibc: sizes from the blocks' size words; it maps through internal
     * calls, so in_real would mark nothing. Counted in two halves, as
     * malloc is. */
    size_t old_usable = 0;
    if (old) {
        size_t head = mk_glibc_head(old);
        /* mmapped, a bootstrap or detour block; or a sampled one, which a
         * failed call must leave sampled (slow_realloc) */
        if (MK_UNLIKELY(mk_glibc_head_mapped(head) || mk_sampled_maybe(old)))
            return slow_realloc(old, size);
        old_usable = mk_glibc_head_usable(head);
    }
    mk_count_call_ahead(b, MK_KIND_REALLOC, size);
    void *p = mk_real.realloc(old, size);
    if (MK_UNLIKELY(p == NULL))
        return realloc_null(old, old_usable, size);
    size_t given, taken;
    mk_realloc_bytes(old_usable, mk_glibc_usable(p), p != old, &given, &taken);
    b = __atomic_load_n(&t->block, __ATOMIC_RELAXED);
    /* Given back first (0 bytes cannot reach the mark), each side's event
     * out of line on its own branch. */
    if (MK_UNLIKELY(mk_count_own_released(b, taken)))
        return realloc_free_due(p, given);
    if (mk_count_own_given(t, b, MK_KIND_REALLOC, given))
        return alloc_event(p, given);
    return p;
}

MEMKIT_API void *reallocarray(void *old, size_t n, size_t size)
{
    size_t total;
    int overflow = __builtin_mul_overflow(n, size, &total);
    if (old && MK_UNLIKELY(mk_bootstrap_owns(old))) {
        if (overflow) {
            errno = ENOMEM;
            return NULL;
        }
        return realloc_from_bootstrap(old, total);
    }
    if (MK_UNLIKELY((old && mk_detour_owns(old)) || mk_detouring())) {
        if (overflow) {
            errno = ENOMEM;
            return NULL;
        }
        return realloc_detoured(MK_KIND_REALLOCARRAY, old, total);
    }
    struct mk_thread *t = &mk_self;
    int route = slow_route(t);
    if (route < 0)
        return old ? NULL : bootstrap_calloc(n, size);
    if (route == 0)
        return mk_real.reallocarray(old, n, size);
    size_t old_usable = 0;
    struct mk_sample_taken taken = { 0 };
    if (old) {
        old_usable = mk_usable_size(old);
        mk_sample_take(old, &taken);
    }
    t->in_real = 1;
    void *p = mk_real.reallocarray(old, n, size);
    t->in_real = 0;
    if (!p && (overflow || total))
        mk_sample_put_back(old, &taken);   /* failed: the block is as it was */
    /* On overflow the result is NULL and the requested size never mattered. */
    note_realloc(t, t->block, t->shared, MK_KIND_REALLOCARRAY, old, old_usable,
                 overflow ? SIZE_MAX : total, p, p ? new_usable(p, total) : 0);
    return p;
}

/* ---- posix_memalign ------------------------------------------------------- */

MEMKIT_API int posix_memalign(void **out, size_t align, size_t size)
{
    struct mk_thread *t = &mk_self;
    int route = slow_route(t);
    if (route < 0) {
        if (align < sizeof(void *) || align & (align - 1))
            return EINVAL;
        void *p = mk_bootstrap_alloc(size, align);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    if (route == 0)
        return mk_real.posix_memalign(out, align, size);
    t->in_real = 1;
    int rc = mk_real.posix_memalign(out, align, size);
    t->in_real = 0;
    note_alloc(t, t->block, t->shared, MK_KIND_POSIX_MEMALIGN, size, rc == 0 ? *out : NULL);
    return rc;
}

/* ---- malloc_usable_size ------------------------------------------------------ */

MEMKIT_API size_t malloc_usable_size(void *p)
{
    if (p && MK_UNLIKELY(mk_bootstrap_owns(p)))
        return mk_bootstrap_usable(p);
    if (p && MK_UNLIKELY(mk_detour_owns(p)))
        return mk_detour_usable(p);
    if (!mk_real_ready())
        return 0;
    return mk_real_usable_size(p);
}
