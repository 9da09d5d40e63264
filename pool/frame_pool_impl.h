/* frame_pool_impl.h — what the frame pool's own files share: the pool, the
 * frame header, the per-thread caches, the bound on idle buffers and the
 * locks. The rest of memkit uses frame_pool.h instead.
 *
 * The idle bound. A pool has max_pooled "units"; every idle buffer holds
 * one, so idle buffers never outnumber them. A unit is free (units_free),
 * held by a buffer on the shared stack, or held by a thread cache slot as
 * "credit". A slot's credit covers the buffers idle in it and the frames
 * it handed out that will come back to it, so a thread that acquires and
 * releases its own frames never touches a shared counter: the unit stays
 * in its slot while the frame is out. A slot hands its credit back when it
 * runs empty on an acquire (its frames went elsewhere), so units are not
 * stranded on threads that only acquire.
 *
 * Lock order: the registry lock, then the thread-caches lock, then one
 * pool's lock; never two pools' locks at once. Nothing that can take long
 * (mapping, unmapping, a timed wait) runs under them, so fork's prepare
 * handler may simply wait for each. */
#ifndef MK_FRAME_POOL_IMPL_H
#define MK_FRAME_POOL_IMPL_H

#include "memkit.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define MK_POOL_INTERNAL __attribute__((visibility("hidden")))

#define MK_SLOTS     64          /* pools at once that get per-thread caches */
#define MK_NO_SLOT   UINT32_MAX
#define MK_CACHE_MAX 4           /* idle buffers a thread keeps for one pool */

struct mk_tcache;

/* The header of one buffer; memkit_frame_t to the program. */
struct memkit_frame {
    uint32_t refs;               /* owners (atomic); 0 while it is idle */
    uint8_t  counted;            /* counted in pool->out: acquired under a max_in_use */
    size_t   size;
    void    *data;
    struct memkit_pool  *pool;
    struct mk_tcache    *owner;  /* cache of the thread that acquired it */
    struct memkit_frame *next;   /* link on the shared stack or in a list to free */
} __attribute__((aligned(64)));

struct memkit_pool {
    /* Read by every fast path; written at most twice in the pool's life. */
    uint64_t id;                 /* unique in the process, never 0 */
    uint32_t fast_slot;          /* slot the fast paths may use, else MK_NO_SLOT */
    uint32_t slot;               /* the pool's slot in every thread cache, or MK_NO_SLOT */
    uint32_t cap;                /* credit one slot may hold: min(MK_CACHE_MAX, max_pooled / 2) */
    uint8_t  counting;           /* frames are counted in `out` (a max_in_use was set) */
    uint8_t  dead;               /* memkit_pool_destroy was called */
    size_t   frame_size;
    size_t   max_pooled;

    /* The shared stack, and the wait for frames to come back. */
    pthread_mutex_t lock __attribute__((aligned(64)));
    pthread_cond_t  returned;    /* a counted frame came back, or the bound rose */
    struct memkit_frame *top;
    uint64_t shared;             /* buffers on the stack (atomic: read without the lock) */
    uint32_t waiters;            /* threads in a timed acquire (atomic) */

    /* Off the fast paths: all atomic. */
    uint64_t units_free __attribute__((aligned(64)));
    uint64_t refs;               /* the handle + each live buffer + each slot with credit */
    uint64_t out;                /* counted frames out */
    uint64_t max_in_use, peak;
    uint64_t hits, misses, releases, refused;   /* those not counted in a slot */
    uint64_t allocated, freed;   /* buffers obtained from and given back to the system */

    /* Under the registry lock. */
    struct memkit_pool *prev, *next;
    char name[48];
    struct memkit_pool *gone_next;   /* in a mk_reclaim's gone list, once unreferenced */
};

/* One pool's corner of a thread cache. Written only by its thread, except
 * by a flusher that holds the thread out (see mk_tcaches_take). */
struct mk_slot {
    uint64_t id;                 /* pool served, 0 none (atomic: readers match on it) */
    struct memkit_pool *pool;
    uint32_t count;              /* idle buffers in items (atomic: stats read it) */
    uint32_t credit;             /* units held: count <= credit <= pool->cap */
    struct memkit_frame *items[MK_CACHE_MAX];
    uint64_t hits, releases;     /* fast-path counts not yet folded into the pool (atomic) */
};

struct mk_tcache {
    uint32_t busy;               /* the thread is inside its slots (atomic) */
    uint32_t flush_req;          /* another thread wants the slots (atomic) */
    uint64_t deaths_seen;        /* mk_pool_deaths when the slots were last checked */
    struct mk_tcache *prev, *next;   /* list of caches: the thread-caches lock */
    struct mk_slot slots[MK_SLOTS];
};

/* This thread's cache, NULL until its first pool call that needs one. */
extern __thread struct mk_tcache *mk_tcache_self
    __attribute__((tls_model("initial-exec"))) MK_POOL_INTERNAL;

/* Pools destroyed so far: a thread cache that saw a different figure looks
 * for destroyed pools' buffers in its slots. */
extern uint64_t mk_pool_deaths MK_POOL_INTERNAL;

/* ---- the fast paths' guard --------------------------------------------------
 * The owner marks itself busy with a plain store; a flusher raises
 * flush_req and then makes every thread of the process execute a full
 * barrier (membarrier), so either the owner sees the request or the flusher
 * sees it busy. The owner pays no atomic read-modify-write. */
static inline void mk_tcache_enter(struct mk_tcache *tc)
{
    __atomic_store_n(&tc->busy, 1, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline int mk_tcache_flush_requested(const struct mk_tcache *tc)
{
    return __atomic_load_n(&tc->flush_req, __ATOMIC_ACQUIRE) != 0;
}

static inline void mk_tcache_leave(struct mk_tcache *tc)
{
    __atomic_store_n(&tc->busy, 0, __ATOMIC_RELEASE);
}

/* What an operation under locks took out, to be freed once every lock is
 * released (freeing unmaps, and a pool's last reference takes the registry
 * lock). */
struct mk_reclaim {
    struct memkit_frame *idle;   /* idle buffers taken: each held a unit */
    size_t count;
    struct memkit_pool *gone;    /* pools whose last reference went (linked by next) */
};

/* ---- frame_buffer.c ---- */

/* A new buffer of p's frame size, aligned and faulted in; NULL with errno
 * ENOMEM. Takes a reference on p. */
MK_POOL_INTERNAL struct memkit_frame *mk_buffer_new(struct memkit_pool *p);
/* Gives the buffer back to the system. Does not touch p's references. */
MK_POOL_INTERNAL void mk_buffer_free(struct memkit_frame *f);
/* Bytes one buffer of frame_size takes from the system. */
MK_POOL_INTERNAL size_t mk_buffer_footprint(size_t frame_size);
/* Largest frame size a pool accepts. */
MK_POOL_INTERNAL size_t mk_buffer_max_size(void);

/* ---- frame_pool.c ---- */

/* Drops a reference; the last one frees the pool. No pool lock held. */
MK_POOL_INTERNAL void mk_pool_unref(struct memkit_pool *p);
/* Drops a reference under locks: a pool left with none goes on r->gone. */
MK_POOL_INTERNAL void mk_pool_unref_later(struct memkit_pool *p, struct mk_reclaim *r);
/* Moves a slot's fast-path counts into its pool's counters. */
MK_POOL_INTERNAL void mk_slot_fold(struct mk_slot *s);
/* Frees what r holds. No lock held. */
MK_POOL_INTERNAL void mk_reclaim_finish(struct mk_reclaim *r);
/* Puts r's idle buffers back on their pools' shared stacks (a destroyed
 * pool's are freed), then finishes r. No lock held. */
MK_POOL_INTERNAL void mk_reclaim_keep(struct mk_reclaim *r);
/* Figures of p (stats->size set by the caller); tcaches: the caller holds
 * the thread-caches lock, so thread caches are counted in. */
MK_POOL_INTERNAL void mk_pool_figures(struct memkit_pool *p, int tcaches, memkit_pool_stats_t *st);

/* ---- thread_cache.c ---- */

/* This thread's cache, made on first use; NULL when memory ran out. */
MK_POOL_INTERNAL struct mk_tcache *mk_tcache_get(void);
/* Waits until a flusher that raised this thread's flush_req is done. */
MK_POOL_INTERNAL void mk_tcache_wait_flush(void);
/* Frees the slots' buffers of destroyed pools (call with tc entered). */
MK_POOL_INTERNAL void mk_tcache_forget_dead(struct mk_tcache *tc, struct mk_reclaim *r);
MK_POOL_INTERNAL void mk_tcaches_lock(void);
MK_POOL_INTERNAL void mk_tcaches_unlock(void);
MK_POOL_INTERNAL int  mk_tcaches_trylock(void);
/* With the thread-caches lock held: takes up to max idle buffers of p
 * (every pool when p is NULL) out of the thread caches, this thread's
 * first, into r. Another thread's cache is reached only where the kernel
 * offers membarrier and the thread is not inside a pool call; it is
 * skipped otherwise. drop_credit: the slots' credit goes too (p is dead). */
MK_POOL_INTERNAL size_t mk_tcaches_take(struct memkit_pool *p, size_t max, int drop_credit,
                                        struct mk_reclaim *r);
/* With the thread-caches lock held: sums p's slots over every thread. */
MK_POOL_INTERNAL void mk_tcaches_sum(const struct memkit_pool *p, uint64_t *idle, uint64_t *hits,
                                     uint64_t *releases);
/* Fork: prepare takes the thread-caches lock (unless this thread holds
 * it), parent gives it back. In the child the parent's other threads are
 * gone: their caches go as at thread exit, idle buffers into r (the
 * child's private copies, which it may use) and the slots' references to
 * their pools with them; the caller keeps r once its locks are usable. */
MK_POOL_INTERNAL void mk_tcaches_fork_prepare(void);
MK_POOL_INTERNAL void mk_tcaches_fork_parent(void);
MK_POOL_INTERNAL void mk_tcaches_fork_child(struct mk_reclaim *r);

/* ---- pool_registry.c ---- */

/* Lists p and gives it an id and a slot; sets up fork handling once. */
MK_POOL_INTERNAL void mk_registry_add(struct memkit_pool *p);
/* Unlists p (its last reference went), keeping its final figures. */
MK_POOL_INTERNAL void mk_registry_remove(struct memkit_pool *p);
MK_POOL_INTERNAL void mk_registry_set_name(struct memkit_pool *p, const char *name);

/* Pool locks, marked per thread so that a fork from a signal handler that
 * interrupted this thread inside one does not wait for itself. */
MK_POOL_INTERNAL void mk_pool_lock(struct memkit_pool *p);
MK_POOL_INTERNAL void mk_pool_unlock(struct memkit_pool *p);

/* Tries a lock for up to about 10 ms without blocking: 0 when taken.
 * Usable from a signal handler. */
MK_POOL_INTERNAL int mk_trylock_bounded(pthread_mutex_t *m);

#endif
