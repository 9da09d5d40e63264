/* counters.c — per-thread cumulative counters and their exact sum.
 * The design and its error bound are in counters.h. */
#include "counters.h"
#include "real.h"
#include "tls.h"
#include "monitor.h"
#include "timeline.h"

#include <pthread.h>
#include <string.h>

__thread struct mk_thread mk_self __attribute__((tls_model("initial-exec")));

const char *const mk_kind_names[MK_KIND_COUNT] = {
    "malloc", "calloc", "realloc", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc",
};

/* ---- blocks ------------------------------------------------------------------ */

struct chunk {
    struct chunk *next;
    size_t count;
    struct mk_counter_block *blocks;
};

#define FIRST_BLOCKS 128
#define MORE_BLOCKS  255

static struct mk_counter_block first_blocks[FIRST_BLOCKS];
static struct chunk first_chunk = { NULL, FIRST_BLOCKS, first_blocks };
static struct chunk *chunks = &first_chunk;
/* For a thread that could get no block of its own (no memory for another
 * chunk, or allocating after its exit hook): updated with atomic adds. */
static struct mk_counter_block shared_block = { .state = MK_BLOCK_SHARED,
                                                 .release_mark = UINT64_MAX };

/* Fork baseline: a child reports its own calls, so the sums at fork time
 * are subtracted from what it reports. */
static struct mk_counter_block baseline;

static int64_t  heap_live;   /* folded heap in use (see counters.h) */
static uint64_t heap_peak;
static uint64_t heap_peak_recent;   /* since the last compaction (monitor.c) */

static pthread_key_t exit_key;
static int exit_key_ok;

static int owned(const struct mk_counter_block *b)
{
    return __atomic_load_n(&b->state, __ATOMIC_RELAXED) > MK_BLOCK_SHARED;
}

static int claim(struct mk_counter_block *b, struct mk_thread *t)
{
    uintptr_t expect = MK_BLOCK_FREE;
    return __atomic_compare_exchange_n(&b->state, &expect, (uintptr_t)t, 0,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static struct mk_counter_block *claim_in_chunks(struct mk_thread *t)
{
    for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next)
        for (size_t i = 0; i < c->count; i++)
            if (__atomic_load_n(&c->blocks[i].state, __ATOMIC_RELAXED) == MK_BLOCK_FREE &&
                claim(&c->blocks[i], t))
                return &c->blocks[i];
    return NULL;
}

static struct mk_counter_block *add_chunk_and_claim(struct mk_thread *t)
{
    size_t bytes = sizeof(struct chunk) + 63 + MORE_BLOCKS * sizeof(struct mk_counter_block);
    struct chunk *c = mk_pages_alloc(bytes);
    if (!c)
        return NULL;
    c->count = MORE_BLOCKS;
    c->blocks = (struct mk_counter_block *)(((uintptr_t)(c + 1) + 63) & ~(uintptr_t)63);
    c->blocks[0].state = (uintptr_t)t;   /* ours before anyone can see it */
    c->next = __atomic_load_n(&chunks, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&chunks, &c->next, c, 1,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
    return &c->blocks[0];
}

/* Runs with busy set: pthread_setspecific may allocate, and that
 * allocation must not recurse into claiming. */
struct mk_counter_block *mk_claim_block(struct mk_thread *t)
{
    if (t->block)
        return t->block;
    if (t->exiting) {
        t->shared = 1;
        return &shared_block;
    }
    uint8_t busy = t->busy;
    t->busy = 1;
    struct mk_counter_block *b = claim_in_chunks(t);
    if (!b)
        b = add_chunk_and_claim(t);
    if (!b) {
        b = &shared_block;
        t->shared = 1;
    } else {
        /* The new owner's first free takes the release check. */
        __atomic_store_n(&b->release_due, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->release_mark, 0, __ATOMIC_RELAXED);
        if (exit_key_ok)
            pthread_setspecific(exit_key, t);
    }
    t->block = b;
    t->own_glibc = b != &shared_block && mk_glibc_chunks;
    t->busy = busy;
    return b;
}

/* ---- recording ---------------------------------------------------------------- */

static void raise_peak(uint64_t *peak, uint64_t value)
{
    uint64_t seen = __atomic_load_n(peak, __ATOMIC_RELAXED);
    while (value > seen &&
           !__atomic_compare_exchange_n(peak, &seen, value, 1,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static void raise_heap_peaks(int64_t live)
{
    if (live > 0) {
        raise_peak(&heap_peak, (uint64_t)live);
        raise_peak(&heap_peak_recent, (uint64_t)live);
    }
}

void mk_heap_change_now(int64_t delta)
{
    raise_heap_peaks(__atomic_add_fetch(&heap_live, delta, __ATOMIC_RELAXED));
}

static uint64_t alloc_bytes_of(const struct mk_counter_block *b)
{
    uint64_t bytes = 0;
    for (int k = 0; k < MK_KIND_COUNT; k++)
        bytes += __atomic_load_n(&b->kind[k].bytes, __ATOMIC_RELAXED);
    return bytes;
}

/* The block's net heap change: bytes handed out less bytes given back. */
static int64_t net_of(const struct mk_counter_block *b)
{
    return (int64_t)(alloc_bytes_of(b) - __atomic_load_n(&b->free_bytes, __ATOMIC_RELAXED));
}

/* Adds what the thread's own block changed since its last fold to the
 * global: always, or only when that is MK_FOLD_STEP or more either way
 * (counters.h). The shared block's changes are folded as they happen. */
static void fold(struct mk_thread *t, int always)
{
    struct mk_counter_block *b = t->block;
    if (!b || t->shared)
        return;
    int64_t net = net_of(b);
    int64_t delta = net - b->folded;
    if (!always && delta < (int64_t)MK_FOLD_STEP && delta > -(int64_t)MK_FOLD_STEP)
        return;
    b->folded = net;
    raise_heap_peaks(__atomic_add_fetch(&heap_live, delta, __ATOMIC_RELAXED));
    /* The heap moved by up to 256 KiB: a timeline point, when one is due
     * (inside malloc: without RSS, which would take a /proc read). */
    mk_timeline_point_now(MK_TL_SAMPLE, 0);
}

void mk_alloc_event(struct mk_thread *t, void *p, size_t usable)
{
    /* Armed with the smaller of the two: what ran down since, this call's
     * bytes included. */
    int64_t armed = t->sample_left < t->fold_left ? t->sample_left : t->fold_left;
    int64_t used = armed - t->alloc_left;
    t->sample_left -= used;
    t->fold_left -= used;
    if (t->sample_left <= 0)
        mk_sample_alloc(t, p, usable);   /* draws the next sample_left */
    if (t->fold_left <= 0) {
        fold(t, 0);
        t->fold_left = MK_FOLD_STEP;
    }
    int64_t next = t->sample_left < t->fold_left ? t->sample_left : t->fold_left;
    t->alloc_left = next;
}

void mk_free_event(struct mk_thread *t, struct mk_counter_block *b)
{
    uint64_t freed = __atomic_load_n(&b->free_bytes, __ATOMIC_RELAXED);
    if (freed >= b->fold_mark) {
        fold(t, 0);
        b->fold_mark = freed + MK_FOLD_STEP;
    }
    if (freed >= __atomic_load_n(&b->release_due, __ATOMIC_SEQ_CST))
        mk_release_check(t, b);   /* sets release_due */
    uint64_t due = __atomic_load_n(&b->release_due, __ATOMIC_SEQ_CST);
    __atomic_store_n(&b->release_mark, due < b->fold_mark ? due : b->fold_mark,
                     __ATOMIC_SEQ_CST);
    /* The monitor may have asked (release_due = 0, then release_mark = 0)
     * between the two: its request stands. */
    if (__atomic_load_n(&b->release_due, __ATOMIC_SEQ_CST) <= freed)
        __atomic_store_n(&b->release_mark, 0, __ATOMIC_SEQ_CST);
}

void mk_count_realloc(struct mk_thread *t, enum mk_alloc_kind kind,
                      size_t requested, size_t old_usable, size_t new_usable,
                      int moved, void *p)
{
    struct mk_counter_block *b = mk_block_of(t);
    mk_count_realloc_in(t, b, t->shared, kind, requested, old_usable, new_usable, moved, p);
}

void mk_count_call_failed(struct mk_thread *t, enum mk_alloc_kind kind, size_t requested)
{
    struct mk_counter_block *b = t->block;
    mk_bump(0, &b->kind[kind].calls, (uint64_t)-1);
    mk_bump(0, &b->kind[kind].requested, (uint64_t)0 - requested);
    mk_count_failure(t);
}

void mk_count_failure(struct mk_thread *t)
{
    struct mk_counter_block *b = mk_block_of(t);
    int sh = t->shared;
    mk_bump(sh, &b->failures, 1);
}

/* ---- maps -----------------------------------------------------------------
 * mmap is a system call already: plain atomics on globals cost nothing
 * next to it. In use never goes below zero (a program may unmap what the
 * loader mapped, which memkit never saw). */

struct map_counters {
    uint64_t mmap_calls, mmap_bytes, munmap_calls, munmap_bytes, mremap_calls;
    uint64_t in_use, peak;
};
static struct map_counters maps[MK_MAP_OWNERS];
static struct map_counters maps_baseline[MK_MAP_OWNERS];

static void map_grow(struct map_counters *m, size_t len)
{
    uint64_t now = __atomic_add_fetch(&m->in_use, len, __ATOMIC_RELAXED);
    raise_peak(&m->peak, now);
}

static void map_shrink(struct map_counters *m, size_t len)
{
    uint64_t seen = __atomic_load_n(&m->in_use, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&m->in_use, &seen, seen > len ? seen - len : 0,
                                        1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

uint64_t mk_maps_in_use(enum mk_map_owner who)
{
    return __atomic_load_n(&maps[who].in_use, __ATOMIC_RELAXED);
}

void mk_count_mmap(enum mk_map_owner who, size_t len)
{
    __atomic_fetch_add(&maps[who].mmap_calls, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&maps[who].mmap_bytes, len, __ATOMIC_RELAXED);
    map_grow(&maps[who], len);
}

void mk_count_munmap(enum mk_map_owner who, size_t len)
{
    __atomic_fetch_add(&maps[who].munmap_calls, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&maps[who].munmap_bytes, len, __ATOMIC_RELAXED);
    map_shrink(&maps[who], len);
}

void mk_count_mremap(enum mk_map_owner who, size_t old_len, size_t new_len)
{
    __atomic_fetch_add(&maps[who].mremap_calls, 1, __ATOMIC_RELAXED);
    if (new_len > old_len)
        map_grow(&maps[who], new_len - old_len);
    else
        map_shrink(&maps[who], old_len - new_len);
}

uint64_t mk_heap_in_use_folded(void)
{
    int64_t live = __atomic_load_n(&heap_live, __ATOMIC_RELAXED);
    return live > 0 ? (uint64_t)live : 0;
}

uint64_t mk_heap_recent_peak(void)
{
    return __atomic_load_n(&heap_peak_recent, __ATOMIC_RELAXED);
}

void mk_heap_recent_peak_reset(void)
{
    __atomic_store_n(&heap_peak_recent, mk_heap_in_use_folded(), __ATOMIC_RELAXED);
}

void mk_counters_request_checks(void)
{
    for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next)
        for (size_t i = 0; i < c->count; i++)
            if (owned(&c->blocks[i])) {
                __atomic_store_n(&c->blocks[i].release_due, 0, __ATOMIC_SEQ_CST);
                __atomic_store_n(&c->blocks[i].release_mark, 0, __ATOMIC_SEQ_CST);
            }
}

/* ---- reading --------------------------------------------------------------- */

#define ADD(field) sum->field += __atomic_load_n(&b->field, __ATOMIC_RELAXED)
static void add_allocated(struct mk_counter_block *sum, const struct mk_counter_block *b)
{
    ADD(failures);
    for (int k = 0; k < MK_KIND_COUNT; k++) {
        ADD(kind[k].calls);
        ADD(kind[k].bytes);
        ADD(kind[k].requested);
    }
}

static void add_freed(struct mk_counter_block *sum, const struct mk_counter_block *b)
{
    ADD(free_calls);
    ADD(free_bytes);
}
#undef ADD

/* Every block's cumulative counters, summed: everything allocated first,
 * then everything freed. Read the other way, a snapshot held up between
 * the two (preempted, or a signal) would count blocks handed out
 * meanwhile and not their frees, and put a heap in use that never was
 * into the peak; read this way, it is never above the heap at the moment
 * between the two passes. Each count is still one read: exact. */
static void sum_blocks(struct mk_counter_block *sum)
{
    memset(sum, 0, sizeof *sum);
    for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next)
        for (size_t i = 0; i < c->count; i++)
            add_allocated(sum, &c->blocks[i]);
    add_allocated(sum, &shared_block);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (struct chunk *c = __atomic_load_n(&chunks, __ATOMIC_ACQUIRE); c; c = c->next)
        for (size_t i = 0; i < c->count; i++)
            add_freed(sum, &c->blocks[i]);
    add_freed(sum, &shared_block);
}

void mk_counters_snapshot(struct mk_totals *out)
{
    struct mk_counter_block raw;
    sum_blocks(&raw);
    memset(out, 0, sizeof *out);

    for (int k = 0; k < MK_KIND_COUNT; k++) {
        struct mk_kind_totals *o = &out->kind[k];
        o->calls = raw.kind[k].calls - baseline.kind[k].calls;
        o->bytes = raw.kind[k].bytes - baseline.kind[k].bytes;
        o->requested = raw.kind[k].requested - baseline.kind[k].requested;
        out->alloc_calls += o->calls;
        out->alloc_bytes += o->bytes;
        out->requested_bytes += o->requested;
    }
    out->free_calls = raw.free_calls - baseline.free_calls;
    out->free_bytes = raw.free_bytes - baseline.free_bytes;
    out->failures = raw.failures - baseline.failures;

    /* In use is absolute (a fork child holds what it inherited). */
    uint64_t given = alloc_bytes_of(&raw);
    out->heap_in_use = given > raw.free_bytes ? given - raw.free_bytes : 0;
    raise_peak(&heap_peak, out->heap_in_use);
    out->heap_peak = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);

    for (int w = 0; w < MK_MAP_OWNERS; w++) {
        const struct map_counters *m = &maps[w], *base = &maps_baseline[w];
        struct mk_map_totals *o = &out->map[w];
        o->mmap_calls = __atomic_load_n(&m->mmap_calls, __ATOMIC_RELAXED) - base->mmap_calls;
        o->mmap_bytes = __atomic_load_n(&m->mmap_bytes, __ATOMIC_RELAXED) - base->mmap_bytes;
        o->munmap_calls = __atomic_load_n(&m->munmap_calls, __ATOMIC_RELAXED) - base->munmap_calls;
        o->munmap_bytes = __atomic_load_n(&m->munmap_bytes, __ATOMIC_RELAXED) - base->munmap_bytes;
        o->mremap_calls = __atomic_load_n(&m->mremap_calls, __ATOMIC_RELAXED) - base->mremap_calls;
        o->in_use = __atomic_load_n(&m->in_use, __ATOMIC_RELAXED);
        o->peak = __atomic_load_n(&m->peak, __ATOMIC_RELAXED);
    }
}

/* ---- lifecycle ------------------------------------------------------------- */

static void on_thread_exit(void *arg)
{
    mk_counters_thread_exit(arg);
}

void mk_counters_init(void)
{
    if (!exit_key_ok && pthread_key_create(&exit_key, on_thread_exit) == 0)
        exit_key_ok = 1;
}

void mk_counters_thread_exit(struct mk_thread *t)
{
    struct mk_counter_block *b = t->block;
    fold(t, 1);
    t->own_glibc = 0;
    t->exiting = 1;
    t->shared = 1;
    t->block = &shared_block;   /* whatever it still allocates counts there */
    if (b && b != &shared_block)
        __atomic_store_n(&b->state, MK_BLOCK_FREE, __ATOMIC_RELEASE);
}

void mk_counters_after_fork_child(struct mk_thread *self)
{
    /* Every block but this thread's goes free: their threads are gone.
     * This thread's is known by its owner mark, even when a signal
     * handler forked between the claim and t->block. */
    for (struct chunk *c = chunks; c; c = c->next)
        for (size_t i = 0; i < c->count; i++)
            if (owned(&c->blocks[i]) && c->blocks[i].state != (uintptr_t)self)
                c->blocks[i].state = MK_BLOCK_FREE;

    /* Released bytes restart from zero for the child's release checks. */
    for (struct chunk *c = chunks; c; c = c->next)
        for (size_t i = 0; i < c->count; i++) {
            c->blocks[i].release_told = c->blocks[i].free_bytes;
            c->blocks[i].release_due = 0;
            c->blocks[i].release_mark = 0;
            c->blocks[i].folded = net_of(&c->blocks[i]);   /* all in heap_live below */
        }

    struct mk_counter_block raw;
    sum_blocks(&raw);
    baseline = raw;
    uint64_t given = alloc_bytes_of(&raw);
    int64_t in_use = given > raw.free_bytes ? (int64_t)(given - raw.free_bytes) : 0;
    heap_live = in_use;
    heap_peak = (uint64_t)in_use;
    heap_peak_recent = (uint64_t)in_use;

    for (int w = 0; w < MK_MAP_OWNERS; w++) {
        maps_baseline[w] = maps[w];
        maps[w].peak = maps[w].in_use;
    }
}
