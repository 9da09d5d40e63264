/* counters.h — what the wrappers count, and the exact totals built from it.
 *
 * Each thread owns a block of cumulative counters (never reset) that only
 * it writes, with plain relaxed stores: no locked instruction and no shared
 * cache line on the malloc path. A snapshot sums every block, so counts
 * and byte totals are exact for every call that had returned when the
 * snapshot was taken. Blocks outlive their threads and are handed to new
 * threads, which keep adding to them; a sum never loses a dead thread.
 *
 * The heap's peak needs a running global, and that one is batched: a
 * thread folds its block's net change into it (MK_FOLD_STEP, below; and
 * at thread exit), so what it has not folded lies between -MK_FOLD_BYTES
 * and +MK_FOLD_BYTES.
 * The recorded peak is therefore within (threads allocating or freeing at
 * that moment) x MK_FOLD_BYTES of the true one, either way (a thread that
 * has freed more than it folded leaves the global figure above the true
 * heap until it folds); every snapshot also raises it to the exact
 * current figure (counters.c reads it so that it is never above one). Neither side keeps a running heap
 * figure per call: the fold reads it from the block's own counters, and
 * the trigger is a countdown the wrappers already keep (the sample
 * countdown on the allocation side, the release check's mark on the free
 * side). mmap calls are system calls already and update globals directly. */
#ifndef MK_COUNTERS_H
#define MK_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "tls.h"

#define MK_FOLD_BYTES (256u * 1024u)
/* A thread looks at its unfolded change every MK_FOLD_STEP bytes it
 * allocates or frees, and folds it only when it is at least that much
 * either way: then what it has not folded stays within MK_FOLD_BYTES, and
 * a program whose heap holds steady never touches the shared figure. */
#define MK_FOLD_STEP (MK_FOLD_BYTES / 2)

enum mk_alloc_kind {
    MK_KIND_MALLOC, MK_KIND_CALLOC, MK_KIND_REALLOC, MK_KIND_REALLOCARRAY,
    MK_KIND_POSIX_MEMALIGN, MK_KIND_ALIGNED_ALLOC, MK_KIND_MEMALIGN,
    MK_KIND_VALLOC, MK_KIND_PVALLOC,
    MK_KIND_COUNT
};
/* "malloc", "calloc", ... as in the report. */
extern const char *const mk_kind_names[MK_KIND_COUNT];

struct mk_kind_totals {
    uint64_t calls;      /* calls that returned memory */
    uint64_t bytes;      /* usable bytes handed out */
    uint64_t requested;  /* bytes asked for */
};

/* Who made an mmap: the program itself, or the allocator beneath memkit
 * (an mmap made while memkit was inside the real malloc/free). */
enum mk_map_owner { MK_MAP_PROGRAM, MK_MAP_ALLOCATOR, MK_MAP_OWNERS };

struct mk_map_totals {
    uint64_t mmap_calls, mmap_bytes;
    uint64_t munmap_calls, munmap_bytes;
    uint64_t mremap_calls;
    uint64_t in_use, peak;         /* mapped minus unmapped, never below 0 */
};

struct mk_totals {
    struct mk_kind_totals kind[MK_KIND_COUNT];
    uint64_t alloc_calls, alloc_bytes, requested_bytes;  /* sums over kinds */
    uint64_t free_calls;      /* free() of a block, realloc(p, 0) */
    uint64_t free_bytes;      /* usable bytes given back (= released bytes) */
    uint64_t failures;        /* calls that returned NULL or an error */
    uint64_t heap_in_use, heap_peak;
    struct mk_map_totals map[MK_MAP_OWNERS];
};

/* ---- recording (wrappers; the calling thread's own block) ----------------
 * Inline: these run on every malloc and free. Only the owner writes its
 * block, so a load and a store suffice (no locked instruction); readers see
 * each 64-bit word whole. The shared block is the exception and takes
 * atomic adds (t->shared). state and the frees sit before the kinds so that a malloc
 * and a free touch only the block's first cache line. */
enum { MK_BLOCK_FREE, MK_BLOCK_SHARED };

struct mk_counter_block {
    /* MK_BLOCK_FREE, MK_BLOCK_SHARED (a thread on it has t->shared set), or
     * the owner's struct mk_thread address: claimed with one compare-and-
     * swap, so that a fork child (forked by a signal handler between the
     * claim and t->block) still knows its own block. */
    uintptr_t state;
    uint64_t free_calls, free_bytes;
    /* When free_bytes reaches this, the owner's free goes out of line
     * (mk_free_event): the smaller of release_due and fold_mark, or 0 when
     * the monitor asks for the release check at once (mimalloc's collect
     * requests). The shared block never goes. */
    uint64_t release_mark;
    uint64_t failures;
    struct mk_kind_totals kind[MK_KIND_COUNT];
    /* Slow path only. The release check (monitor.c) is due when
     * free_bytes reaches release_due (every MK_RELEASE_STEP bytes freed);
     * release_told is how much of free_bytes the global released-bytes
     * figure has been told of, collect_epoch the collect request this
     * block's thread answered last. The fold is due when free_bytes
     * reaches fold_mark; folded is the block's net heap change (bytes
     * handed out less bytes given back) the global figure holds. */
    uint64_t release_due, release_told;
    uint64_t fold_mark;
    int64_t folded;
    unsigned collect_epoch;
} __attribute__((aligned(64)));

/* The calling thread's block, claimed on first use (out of line). */
struct mk_counter_block *mk_claim_block(struct mk_thread *t);

static inline struct mk_counter_block *mk_block_of(struct mk_thread *t)
{
    struct mk_counter_block *b = t->block;
    return __builtin_expect(b != NULL, 1) ? b : mk_claim_block(t);
}

/* Adds v to a counter only this thread writes. On x86-64 one add to
 * memory (no lock prefix): a single aligned 8-byte store, which readers on
 * other threads see whole, and a third of the instructions of the load,
 * add and store the compiler makes of the portable form (kept for other
 * machines and ThreadSanitizer, which cannot see into the asm). */
static inline __attribute__((always_inline)) void mk_add_own(uint64_t *field, uint64_t v)
{
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
    __asm__("addq %1, %0" : "+m"(*field) : "er"(v));
#else
    __atomic_store_n(field, __atomic_load_n(field, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
#endif
}

/* Takes v off the thread's own countdown; 1 when it is used up (<= 0).
 * On x86-64 one subtract to memory and a jump on its flags. */
static inline __attribute__((always_inline)) int mk_countdown(int64_t *left, int64_t v)
{
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__)
    int out;
    __asm__("subq %2, %0" : "+m"(*left), "=@ccle"(out) : "er"(v));
    return out;
#else
    return (*left -= v) <= 0;
#endif
}

/* Adds v to a counter; returns the new figure. */
static inline __attribute__((always_inline)) uint64_t mk_bump(int shared, uint64_t *field, uint64_t v)
{
    if (shared)
        return __atomic_add_fetch(field, v, __ATOMIC_RELAXED);
    mk_add_own(field, v);
    return __atomic_load_n(field, __ATOMIC_RELAXED);
}

/* Sampling (probes/sample.h), out of line: records p's stack and draws
 * the next sample_left. */
void mk_sample_alloc(struct mk_thread *t, void *p, size_t usable);

/* A change of the heap counted on the shared block: folded at once (the
 * shared block is rare, and several threads add to it). */
void mk_heap_change_now(int64_t delta);

/* The allocation side's countdown ran out (tls.h alloc_left): samples the
 * block that crossed a sample point, folds the heap when due, re-arms. */
void mk_alloc_event(struct mk_thread *t, void *p, size_t usable);
/* The free side's mark was reached (release_mark): folds the heap and
 * takes the release check (monitor.c) when due, sets the next mark. */
void mk_free_event(struct mk_thread *t, struct mk_counter_block *b);
/* The defragmenter's part of it (monitor.c): tells the released bytes and
 * sets release_due. */
void mk_release_check(struct mk_thread *t, struct mk_counter_block *b);

/* Bytes handed out by an allocating call, for the countdown. */
static inline __attribute__((always_inline)) void
mk_count_given(struct mk_thread *t, int shared, void *p, size_t given)
{
    if (shared)
        mk_heap_change_now((int64_t)given);
    if (__builtin_expect(mk_countdown(&t->alloc_left, (int64_t)given), 0))
        mk_alloc_event(t, p, given);
}

/* Bytes given back (free_bytes already raised to freed): the free side's
 * mark. */
static inline __attribute__((always_inline)) void
mk_count_taken(struct mk_thread *t, struct mk_counter_block *b, int shared,
               uint64_t freed, size_t taken)
{
    if (shared)
        mk_heap_change_now(-(int64_t)taken);
    else if (__builtin_expect(freed >= __atomic_load_n(&b->release_mark, __ATOMIC_RELAXED), 0))
        mk_free_event(t, b);
}

/* The wrappers' fast path passes the thread's own block and shared = 0 as
 * constants, so the counting there is a handful of loads and stores and
 * one countdown: the thread's byte countdown (tls.h) runs out about once
 * per MEMKIT_SAMPLE bytes or MK_FOLD_BYTES, whichever is less. */
static inline __attribute__((always_inline)) void
mk_count_alloc_in(struct mk_thread *t, struct mk_counter_block *b, int shared,
                  enum mk_alloc_kind kind, size_t requested, size_t usable, void *p)
{
    mk_bump(shared, &b->kind[kind].calls, 1);
    mk_bump(shared, &b->kind[kind].bytes, usable);
    mk_bump(shared, &b->kind[kind].requested, requested);
    mk_count_given(t, shared, p, usable);
}

static inline __attribute__((always_inline)) void
mk_count_free_in(struct mk_thread *t, struct mk_counter_block *b, int shared, size_t usable)
{
    mk_bump(shared, &b->free_calls, 1);
    mk_count_taken(t, b, shared, mk_bump(shared, &b->free_bytes, usable), usable);
}

/* The counting of an allocating call on the thread's own block, in two
 * halves around the real call, so that little has to be kept across it:
 * the call and the bytes asked for before it (taken back by
 * mk_count_call_failed if it fails: a snapshot may see a call in progress
 * as made), the bytes handed out after. mk_count_own_given returns 1 when
 * the caller must call mk_alloc_event. */
static inline __attribute__((always_inline)) void
mk_count_call_ahead(struct mk_counter_block *b, enum mk_alloc_kind kind, size_t requested)
{
    mk_add_own(&b->kind[kind].calls, 1);
    mk_add_own(&b->kind[kind].requested, requested);
}

void mk_count_call_failed(struct mk_thread *t, enum mk_alloc_kind kind, size_t requested);

static inline __attribute__((always_inline)) int
mk_count_own_given(struct mk_thread *t, struct mk_counter_block *b, enum mk_alloc_kind kind,
                   size_t usable)
{
    mk_add_own(&b->kind[kind].bytes, usable);
    return __builtin_expect(mk_countdown(&t->alloc_left, (int64_t)usable), 0);
}

/* Bytes given back on the thread's own block, leaving the free side's
 * event to the caller: 1 when it must call mk_free_event (so that free's
 * fast path can end in a jump to the real free whichever way it goes). */
static inline __attribute__((always_inline)) int
mk_count_own_released(struct mk_counter_block *b, size_t taken)
{
    uint64_t freed = mk_bump(0, &b->free_bytes, taken);
    return __builtin_expect(freed >= __atomic_load_n(&b->release_mark, __ATOMIC_RELAXED), 0);
}

/* mk_count_free_in on the thread's own block: a free call and its bytes,
 * the event left to the caller as above. */
static inline __attribute__((always_inline)) int
mk_count_own_free(struct mk_counter_block *b, size_t usable)
{
    mk_add_own(&b->free_calls, 1);
    return mk_count_own_released(b, usable);
}

/* A realloc that returned memory. Moved: the new block is handed out and
 * the old one given back. In place: only the difference moves. Both are
 * "all but the bytes that stayed", which keeps it free of branches. For
 * sampling, what it hands out is a new allocation at p. */
static inline __attribute__((always_inline)) void
mk_realloc_bytes(size_t old_usable, size_t new_usable, int moved, size_t *given, size_t *taken)
{
    size_t stayed = moved ? 0 : (old_usable < new_usable ? old_usable : new_usable);
    *given = new_usable - stayed;
    *taken = old_usable - stayed;
}

static inline __attribute__((always_inline)) void
mk_count_realloc_in(struct mk_thread *t, struct mk_counter_block *b, int shared,
                    enum mk_alloc_kind kind, size_t requested, size_t old_usable,
                    size_t new_usable, int moved, void *p)
{
    size_t given, taken;
    mk_realloc_bytes(old_usable, new_usable, moved, &given, &taken);
    mk_bump(shared, &b->kind[kind].calls, 1);
    mk_bump(shared, &b->kind[kind].bytes, given);
    mk_bump(shared, &b->kind[kind].requested, requested);
    if (taken) {
        mk_count_taken(t, b, shared, mk_bump(shared, &b->free_bytes, taken), taken);
    }
    mk_count_given(t, shared, p, given);
}

/* Counts without a block to sample (p unknown: the countdown still runs). */
static inline void mk_count_alloc(struct mk_thread *t, enum mk_alloc_kind kind,
                                  size_t requested, size_t usable)
{
    struct mk_counter_block *b = mk_block_of(t);
    mk_count_alloc_in(t, b, t->shared, kind, requested, usable, NULL);
}

static inline void mk_count_free(struct mk_thread *t, size_t usable)
{
    struct mk_counter_block *b = mk_block_of(t);
    mk_count_free_in(t, b, t->shared, usable);
}

/* mk_count_realloc_in on the thread's block, out of line (slow paths). */
void mk_count_realloc(struct mk_thread *t, enum mk_alloc_kind kind,
                      size_t requested, size_t old_usable, size_t new_usable,
                      int moved, void *p);
void mk_count_failure(struct mk_thread *t);
void mk_count_mmap(enum mk_map_owner who, size_t len);
/* Bytes mapped and not unmapped now (one load). */
uint64_t mk_maps_in_use(enum mk_map_owner who);
void mk_count_munmap(enum mk_map_owner who, size_t len);
void mk_count_mremap(enum mk_map_owner who, size_t old_len, size_t new_len);

/* Heap in use as folded so far: one load, off by at most MK_FOLD_BYTES per
 * thread (the free path's release check reads it). */
uint64_t mk_heap_in_use_folded(void);
/* The highest folded heap in use since the last reset (each compaction
 * resets it to the figure then): how far the heap has fallen since. */
uint64_t mk_heap_recent_peak(void);
void mk_heap_recent_peak_reset(void);
/* Makes every thread's next free take the release check (monitor.c). */
void mk_counters_request_checks(void);

/* ---- reading ---- */
/* Exact totals now (see the banner). Lock-free; safe from any thread. */
void mk_counters_snapshot(struct mk_totals *out);

/* ---- lifecycle ---- */
/* Once, at start: the thread-exit hook. Without it (no key left) blocks
 * are simply not reused. */
void mk_counters_init(void);
/* Thread exit: fold the block's heap change and free the block for reuse. */
void mk_counters_thread_exit(struct mk_thread *t);
/* Fork child: blocks of threads that did not survive are freed; counts
 * restart from zero for the child while heap in use stays what it is. */
void mk_counters_after_fork_child(struct mk_thread *self);

#endif
