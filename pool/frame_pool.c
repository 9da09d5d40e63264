/* frame_pool.c — frame pools (memkit.h, "frame pools"): create, acquire,
 * share, release, the bound on frames out, statistics, trim, destroy.
 *
 * A frame acquired and released on one thread goes through that thread's
 * cache only: no lock, no atomic read-modify-write. Frames that cross
 * threads, and everything else, take the slow paths below. The idle bound
 * and the lock order are explained in frame_pool_impl.h. */
#include "frame_pool_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- references and freeing ---------------------------------------------------- */

static void pool_free(struct memkit_pool *p)
{
    mk_registry_remove(p);
    pthread_cond_destroy(&p->returned);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void mk_pool_unref(struct memkit_pool *p)
{
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
        pool_free(p);
}

void mk_pool_unref_later(struct memkit_pool *p, struct mk_reclaim *r)
{
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        p->gone_next = r->gone;   /* no reference left: no one else reaches it */
        r->gone = p;
    }
}

/* A buffer nobody holds and that holds no unit goes back to the system. */
static void buffer_drop(struct memkit_frame *f)
{
    struct memkit_pool *p = f->pool;
    mk_buffer_free(f);
    mk_pool_unref(p);
}

void mk_reclaim_finish(struct mk_reclaim *r)
{
    while (r->idle) {
        struct memkit_frame *f = r->idle;
        struct memkit_pool *p = f->pool;
        r->idle = f->next;
        mk_buffer_free(f);
        __atomic_add_fetch(&p->units_free, 1, __ATOMIC_RELAXED);   /* its unit is free again */
        mk_pool_unref(p);
    }
    while (r->gone) {
        struct memkit_pool *p = r->gone;
        r->gone = p->gone_next;
        pool_free(p);
    }
}

void mk_slot_fold(struct mk_slot *s)
{
    struct memkit_pool *p = s->pool;
    uint64_t hits = __atomic_load_n(&s->hits, __ATOMIC_RELAXED);
    uint64_t releases = __atomic_load_n(&s->releases, __ATOMIC_RELAXED);
    /* Added before cleared: a reader summing meanwhile counts some twice
     * rather than lose them (in_use errs towards "out", never negative). */
    __atomic_add_fetch(&p->hits, hits, __ATOMIC_RELAXED);
    __atomic_add_fetch(&p->releases, releases, __ATOMIC_RELAXED);
    __atomic_store_n(&s->hits, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->releases, 0, __ATOMIC_RELAXED);
}

/* ---- units: the idle bound ------------------------------------------------------ */

static int unit_take(struct memkit_pool *p)
{
    uint64_t u = __atomic_load_n(&p->units_free, __ATOMIC_RELAXED);
    while (u)
        if (__atomic_compare_exchange_n(&p->units_free, &u, u - 1, 1, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return 1;
    return 0;
}

static void units_give(struct memkit_pool *p, uint64_t n)
{
    if (n)
        __atomic_add_fetch(&p->units_free, n, __ATOMIC_RELAXED);
}

/* ---- the shared stack ----------------------------------------------------------- */

/* Pushes n idle buffers that hold units; a destroyed pool's go to r. */
static void shared_push(struct memkit_pool *p, struct memkit_frame **fs, size_t n,
                        struct mk_reclaim *r)
{
    mk_pool_lock(p);
    int dead = __atomic_load_n(&p->dead, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n; i++) {
        struct memkit_frame **head = dead ? &r->idle : &p->top;
        fs[i]->next = *head;
        *head = fs[i];
    }
    if (dead)
        r->count += n;
    else
        __atomic_store_n(&p->shared, p->shared + n, __ATOMIC_RELAXED);
    mk_pool_unlock(p);
}

static struct memkit_frame *shared_pop(struct memkit_pool *p)
{
    /* An empty stack is seen without the lock; a push racing with the look
     * costs one allocation, not a wrong answer. */
    if (!__atomic_load_n(&p->shared, __ATOMIC_RELAXED))
        return NULL;
    mk_pool_lock(p);
    struct memkit_frame *f = p->top;
    if (f) {
        p->top = f->next;
        __atomic_store_n(&p->shared, p->shared - 1, __ATOMIC_RELAXED);
    }
    mk_pool_unlock(p);
    if (f)
        units_give(p, 1);   /* frames out hold no unit outside a thread cache */
    return f;
}

void mk_reclaim_keep(struct mk_reclaim *r)
{
    struct memkit_frame *f = r->idle;
    r->idle = NULL;
    r->count = 0;
    while (f) {
        struct memkit_frame *next = f->next;
        shared_push(f->pool, &f, 1, r);
        f = next;
    }
    mk_reclaim_finish(r);
}

/* ---- this thread's slot ----------------------------------------------------------- */

/* Enters tc, after any flusher that holds it out is done. */
static void enter(struct mk_tcache *tc, struct mk_reclaim *r)
{
    for (;;) {
        mk_tcache_enter(tc);
        if (!mk_tcache_flush_requested(tc))
            break;
        mk_tcache_leave(tc);
        mk_tcache_wait_flush();
    }
    if (tc->deaths_seen != __atomic_load_n(&mk_pool_deaths, __ATOMIC_ACQUIRE))
        mk_tcache_forget_dead(tc, r);
}

/* p's slot in tc. A slot still marked with another pool is free: that pool
 * is gone (a pool keeps its slot while any thread holds credit for it),
 * and a slot without credit is empty with its counts folded. */
static struct mk_slot *slot_of(struct mk_tcache *tc, struct memkit_pool *p)
{
    struct mk_slot *s = &tc->slots[p->slot];
    if (__atomic_load_n(&s->id, __ATOMIC_RELAXED) != p->id) {
        s->pool = p;
        __atomic_store_n(&s->id, p->id, __ATOMIC_RELAXED);
    }
    return s;
}

static void slot_credit_set(struct mk_slot *s, uint32_t credit, struct mk_reclaim *r)
{
    uint32_t was = __atomic_load_n(&s->credit, __ATOMIC_RELAXED);
    __atomic_store_n(&s->credit, credit, __ATOMIC_RELAXED);
    if (!was && credit) {
        __atomic_add_fetch(&s->pool->refs, 1, __ATOMIC_RELAXED);
    } else if (was && !credit) {
        mk_slot_fold(s);
        mk_pool_unref_later(s->pool, r);
    }
}

/* An idle buffer from this thread's slot, or NULL. A slot found empty
 * gives its credit back: its frames went to other threads. */
static struct memkit_frame *cache_take(struct mk_tcache *tc, struct memkit_pool *p)
{
    struct mk_reclaim r = { 0 };
    struct memkit_frame *f = NULL;
    enter(tc, &r);
    struct mk_slot *s = slot_of(tc, p);
    uint32_t n = s->count;
    if (n) {
        f = s->items[n - 1];
        __atomic_store_n(&s->count, n - 1, __ATOMIC_RELAXED);
    } else {
        units_give(p, s->credit);
        slot_credit_set(s, 0, &r);
    }
    mk_tcache_leave(tc);
    mk_reclaim_finish(&r);
    return f;
}

/* Keeps f, acquired on this thread, in this thread's slot; 0 when no unit
 * is left for it. A full slot moves its older half to the shared stack. */
static int cache_put(struct mk_tcache *tc, struct memkit_pool *p, struct memkit_frame *f)
{
    struct mk_reclaim r = { 0 };
    int kept = 0;
    enter(tc, &r);
    if (!__atomic_load_n(&p->dead, __ATOMIC_ACQUIRE)) {
        struct mk_slot *s = slot_of(tc, p);
        uint32_t n = s->count, credit = s->credit;
        if (n < credit) {
            kept = 1;
        } else if (unit_take(p)) {
            if (credit == p->cap) {
                uint32_t half = (n + 1) / 2;
                shared_push(p, s->items, half, &r);
                memmove(s->items, s->items + half, (n - half) * sizeof s->items[0]);
                n -= half;
                credit -= half;
            }
            slot_credit_set(s, credit + 1, &r);
            kept = 1;
        }
        if (kept) {
            s->items[n] = f;
            __atomic_store_n(&s->count, n + 1, __ATOMIC_RELAXED);
        }
    }
    mk_tcache_leave(tc);
    mk_reclaim_finish(&r);
    return kept;
}

/* ---- frames out: the max_in_use bound --------------------------------------------- */

static void peak_raise(struct memkit_pool *p, uint64_t v)
{
    uint64_t peak = __atomic_load_n(&p->peak, __ATOMIC_RELAXED);
    while (v > peak &&
           !__atomic_compare_exchange_n(&p->peak, &peak, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static int out_try(struct memkit_pool *p)
{
    uint64_t max = __atomic_load_n(&p->max_in_use, __ATOMIC_SEQ_CST);
    uint64_t out = __atomic_load_n(&p->out, __ATOMIC_SEQ_CST);
    do {
        if (max && out >= max)
            return -1;
    } while (!__atomic_compare_exchange_n(&p->out, &out, out + 1, 1, __ATOMIC_SEQ_CST,
                                          __ATOMIC_SEQ_CST));
    peak_raise(p, out + 1);
    return 0;
}

static struct timespec deadline_after(unsigned ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Counts one more frame out, waiting up to timeout_ms when timed; -1 with
 * errno EAGAIN (not timed) or ETIMEDOUT when max_in_use are out.
 * A waiter registers before it looks and a release looks for waiters after
 * it returns its frame (both sequentially consistent), so a frame that
 * comes back is never missed by every waiter. */
static int out_reserve(struct memkit_pool *p, int timed, unsigned timeout_ms)
{
    if (out_try(p) == 0)
        return 0;
    if (timed && timeout_ms) {
        struct timespec deadline = deadline_after(timeout_ms);
        int got = -1;
        mk_pool_lock(p);
        __atomic_add_fetch(&p->waiters, 1, __ATOMIC_SEQ_CST);
        while ((got = out_try(p)) != 0 &&
               pthread_cond_timedwait(&p->returned, &p->lock, &deadline) != ETIMEDOUT)
            ;
        if (got != 0)
            got = out_try(p);
        __atomic_sub_fetch(&p->waiters, 1, __ATOMIC_SEQ_CST);
        mk_pool_unlock(p);
        if (got == 0)
            return 0;
    }
    __atomic_add_fetch(&p->refused, 1, __ATOMIC_RELAXED);
    errno = timed ? ETIMEDOUT : EAGAIN;
    return -1;
}

static void out_return(struct memkit_pool *p)
{
    __atomic_sub_fetch(&p->out, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&p->waiters, __ATOMIC_SEQ_CST)) {
        mk_pool_lock(p);
        pthread_cond_signal(&p->returned);
        mk_pool_unlock(p);
    }
}

/* ---- figures ------------------------------------------------------------------ */

void mk_pool_figures(struct memkit_pool *p, int tcaches, memkit_pool_stats_t *st)
{
    /* Releases are read before acquires: a frame that comes and goes
     * meanwhile shows as out, never as a negative count. */
    uint64_t idle = 0, hits = 0, releases = __atomic_load_n(&p->releases, __ATOMIC_ACQUIRE);
    if (tcaches)
        mk_tcaches_sum(p, &idle, &hits, &releases);
    hits += __atomic_load_n(&p->hits, __ATOMIC_ACQUIRE);
    uint64_t misses = __atomic_load_n(&p->misses, __ATOMIC_ACQUIRE);
    uint64_t in_use = hits + misses > releases ? hits + misses - releases : 0;
    uint64_t peak = __atomic_load_n(&p->peak, __ATOMIC_RELAXED);

    st->frame_size = p->frame_size;
    st->pooled = idle + __atomic_load_n(&p->shared, __ATOMIC_RELAXED);
    st->allocated = __atomic_load_n(&p->allocated, __ATOMIC_RELAXED);
    st->in_use = in_use;
    st->hits = hits;
    st->misses = misses;
    st->refused = __atomic_load_n(&p->refused, __ATOMIC_RELAXED);
    st->max_in_use = __atomic_load_n(&p->max_in_use, __ATOMIC_RELAXED);
    /* Counted frames give an exact peak; otherwise in_use as read now may
     * be a new one. */
    int exact = __atomic_load_n(&p->counting, __ATOMIC_ACQUIRE);
    st->peak_in_use = !exact && in_use > peak ? in_use : peak;
}

/* Without a max_in_use the frames out are not counted as they go; their
 * number is taken when a buffer had to be allocated (the moments a new
 * peak needs more buffers) and when statistics are read. */
static void peak_sample(struct memkit_pool *p)
{
    memkit_pool_stats_t st;
    mk_tcaches_lock();
    mk_pool_figures(p, 1, &st);
    mk_tcaches_unlock();
    peak_raise(p, st.in_use);
}

/* ---- acquire and release --------------------------------------------------------- */

/* The slow paths stay out of line: the fast paths then need no stack frame. */
__attribute__((noinline, cold))
static struct memkit_frame *acquire_slow(struct memkit_pool *p, int timed, unsigned timeout_ms)
{
    if (!p) {
        errno = EINVAL;
        return NULL;
    }
    int saved = errno;
    uint8_t counted = 0;
    if (__atomic_load_n(&p->counting, __ATOMIC_ACQUIRE)) {
        if (out_reserve(p, timed, timeout_ms) != 0)
            return NULL;
        counted = 1;
    }
    struct mk_tcache *tc = p->slot != MK_NO_SLOT ? mk_tcache_get() : NULL;
    struct memkit_frame *f = tc ? cache_take(tc, p) : NULL;
    if (!f)
        f = shared_pop(p);
    if (f) {
        __atomic_add_fetch(&p->hits, 1, __ATOMIC_RELAXED);
    } else {
        f = mk_buffer_new(p);
        if (!f) {
            if (counted)
                out_return(p);
            errno = ENOMEM;
            return NULL;
        }
        __atomic_add_fetch(&p->misses, 1, __ATOMIC_RELAXED);
        if (!counted)
            peak_sample(p);
    }
    f->owner = tc;
    f->counted = counted;
    __atomic_store_n(&f->refs, 1, __ATOMIC_RELAXED);
    errno = saved;
    return f;
}

MEMKIT_API memkit_frame_t *memkit_frame_acquire(memkit_pool_t *p)
{
    struct mk_tcache *tc = mk_tcache_self;
    if (likely(p && tc)) {
        uint32_t i = __atomic_load_n(&p->fast_slot, __ATOMIC_RELAXED);
        if (likely(i < MK_SLOTS)) {
            struct mk_slot *s = &tc->slots[i];
            uint32_t n;
            mk_tcache_enter(tc);
            /* The slot is read only after the flush check: a flusher's
             * changes are ordered before it by that acquire. */
            if (likely(!mk_tcache_flush_requested(tc) && s->id == p->id && (n = s->count))) {
                /* Items of this slot were released here: owner is this
                 * thread; one owner again (idle buffers hold 0). */
                struct memkit_frame *f = s->items[n - 1];
                __atomic_store_n(&f->refs, 1, __ATOMIC_RELAXED);
                __atomic_store_n(&s->count, n - 1, __ATOMIC_RELAXED);
                __atomic_store_n(&s->hits, s->hits + 1, __ATOMIC_RELAXED);
                mk_tcache_leave(tc);
                return f;
            }
            mk_tcache_leave(tc);
        }
    }
    return acquire_slow(p, 0, 0);
}

MEMKIT_API memkit_frame_t *memkit_frame_acquire_timeout(memkit_pool_t *p, unsigned timeout_ms)
{
    if (p && !__atomic_load_n(&p->counting, __ATOMIC_ACQUIRE))
        return memkit_frame_acquire(p);
    return acquire_slow(p, 1, timeout_ms);
}

__attribute__((noinline, cold))
static void release_slow(struct memkit_frame *f)
{
    int saved = errno;
    struct memkit_pool *p = f->pool;
    uint8_t counted = f->counted;
    f->counted = 0;
    __atomic_add_fetch(&p->releases, 1, __ATOMIC_RELAXED);
    /* A counted frame is counted back only once its buffer is where a
     * waiter woken by it will look; meanwhile p must outlive f. */
    if (counted)
        __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    struct mk_tcache *tc = mk_tcache_self;
    if (!(tc && f->owner == tc && p->slot != MK_NO_SLOT && cache_put(tc, p, f))) {
        struct mk_reclaim r = { 0 };
        if (!__atomic_load_n(&p->dead, __ATOMIC_ACQUIRE) && unit_take(p)) {
            shared_push(p, &f, 1, &r);
            mk_reclaim_finish(&r);   /* f itself, if the pool died meanwhile */
        } else {
            buffer_drop(f);
        }
    }
    if (counted) {
        out_return(p);
        mk_pool_unref(p);
    }
    errno = saved;
}

MEMKIT_API void memkit_frame_release(memkit_frame_t *f)
{
    if (unlikely(!f))
        return;
    /* A count of 1 is the caller's own: no one else can change it, so the
     * last owner needs no read-modify-write. Idle buffers hold 0: a frame
     * released again (a second release by the same code, the classic
     * mistake) is left alone, not put in a cache twice and handed to two
     * owners. */
    uint32_t refs = __atomic_load_n(&f->refs, __ATOMIC_ACQUIRE);
    if (likely(refs == 1))
        __atomic_store_n(&f->refs, 0, __ATOMIC_RELAXED);
    else if (unlikely(refs == 0) || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    struct mk_tcache *tc = mk_tcache_self;
    struct memkit_pool *p = f->pool;
    if (likely(tc && f->owner == tc && !f->counted)) {
        uint32_t i = __atomic_load_n(&p->fast_slot, __ATOMIC_RELAXED);
        if (likely(i < MK_SLOTS)) {
            struct mk_slot *s = &tc->slots[i];
            uint32_t n;
            mk_tcache_enter(tc);
            if (likely(!mk_tcache_flush_requested(tc) && s->id == p->id &&
                       (n = s->count) < s->credit)) {
                s->items[n] = f;
                __atomic_store_n(&s->count, n + 1, __ATOMIC_RELAXED);
                __atomic_store_n(&s->releases, s->releases + 1, __ATOMIC_RELAXED);
                mk_tcache_leave(tc);
                return;
            }
            mk_tcache_leave(tc);
        }
    }
    release_slow(f);
}

MEMKIT_API memkit_frame_t *memkit_frame_ref(memkit_frame_t *f)
{
    if (!f) {
        errno = EINVAL;
        return NULL;
    }
    /* The caller owns f; when it is the only owner no other thread can
     * touch the count, and a plain store does. */
    if (__atomic_load_n(&f->refs, __ATOMIC_RELAXED) == 1)
        __atomic_store_n(&f->refs, 2, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
    return f;
}

MEMKIT_API void *memkit_frame_data(const memkit_frame_t *f)
{
    if (!f) {
        errno = EINVAL;
        return NULL;
    }
    return f->data;
}

MEMKIT_API size_t memkit_frame_size(const memkit_frame_t *f)
{
    if (!f) {
        errno = EINVAL;
        return 0;
    }
    return f->size;
}

/* ---- pools ------------------------------------------------------------------------- */

MEMKIT_API memkit_pool_t *memkit_pool_create_size(size_t frame_size, size_t max_pooled)
{
    if (!frame_size || frame_size > mk_buffer_max_size()) {
        errno = EINVAL;
        return NULL;
    }
    void *mem;
    if (posix_memalign(&mem, 64, sizeof(struct memkit_pool)) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    struct memkit_pool *p = mem;
    memset(p, 0, sizeof *p);
    pthread_condattr_t ca;
    int bad = pthread_condattr_init(&ca);
    if (!bad) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        bad = pthread_cond_init(&p->returned, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (bad || pthread_mutex_init(&p->lock, NULL) != 0) {
        if (!bad)
            pthread_cond_destroy(&p->returned);
        free(p);
        errno = ENOMEM;
        return NULL;
    }
    p->frame_size = frame_size;
    p->max_pooled = max_pooled;
    p->units_free = max_pooled;
    p->cap = max_pooled / 2 < MK_CACHE_MAX ? (uint32_t)(max_pooled / 2) : MK_CACHE_MAX;
    p->refs = 1;
    mk_registry_add(p);
    return p;
}

MEMKIT_API memkit_pool_t *memkit_pool_create(uint32_t width, uint32_t height,
                                             memkit_format_t format, size_t max_pooled)
{
    uint64_t px = (uint64_t)width * height, size;   /* 32 x 32 bits fit in 64 */
    int overflow = 0;
    switch ((int)format) {
    case MEMKIT_FMT_RGB888:
        overflow = __builtin_mul_overflow(px, 3, &size);
        break;
    case MEMKIT_FMT_YUV420:
        overflow = __builtin_mul_overflow(px, 3, &size);
        size /= 2;
        break;
    case MEMKIT_FMT_JPEG:
        size = px;
        break;
    case MEMKIT_FMT_H264:
        size = px / 2;
        break;
    default:
        errno = EINVAL;
        return NULL;
    }
    if (overflow || size > SIZE_MAX) {
        errno = EINVAL;
        return NULL;
    }
    return memkit_pool_create_size((size_t)size, max_pooled);
}

MEMKIT_API int memkit_pool_set_max_in_use(memkit_pool_t *p, size_t max_in_use)
{
    if (!p) {
        errno = EINVAL;
        return -1;
    }
    if (max_in_use && !__atomic_load_n(&p->counting, __ATOMIC_ACQUIRE)) {
        /* From here on every frame is counted as it goes out. The fast
         * paths are closed first, so a thread that sees `counting` also
         * sees them closed. Frames already out are not counted. */
        __atomic_store_n(&p->fast_slot, MK_NO_SLOT, __ATOMIC_RELEASE);
        __atomic_store_n(&p->counting, 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&p->max_in_use, (uint64_t)max_in_use, __ATOMIC_SEQ_CST);
    mk_pool_lock(p);
    pthread_cond_broadcast(&p->returned);   /* a higher bound, or none, lets waiters in */
    mk_pool_unlock(p);
    return 0;
}

MEMKIT_API int memkit_pool_set_name(memkit_pool_t *p, const char *name)
{
    if (!p || !name) {
        errno = EINVAL;
        return -1;
    }
    mk_registry_set_name(p, name);
    return 0;
}

MEMKIT_API int memkit_pool_stats(memkit_pool_t *p, memkit_pool_stats_t *out)
{
    if (!p || !out || out->size < offsetof(memkit_pool_stats_t, refused)) {
        errno = EINVAL;
        return -1;
    }
    memkit_pool_stats_t st;
    mk_tcaches_lock();
    mk_pool_figures(p, 1, &st);
    mk_tcaches_unlock();
    peak_raise(p, st.peak_in_use);
    st.size = out->size;
    memcpy(out, &st, out->size < sizeof st ? out->size : sizeof st);
    return 0;
}

/* Moves the whole shared stack to r. */
static void shared_take_all(struct memkit_pool *p, size_t keep, struct mk_reclaim *r)
{
    mk_pool_lock(p);
    while (p->shared > keep) {
        struct memkit_frame *f = p->top;
        p->top = f->next;
        f->next = r->idle;
        r->idle = f;
        r->count++;
        __atomic_store_n(&p->shared, p->shared - 1, __ATOMIC_RELAXED);
    }
    mk_pool_unlock(p);
}

MEMKIT_API size_t memkit_pool_trim(memkit_pool_t *p, size_t keep)
{
    if (!p) {
        errno = EINVAL;
        return 0;
    }
    int saved = errno;
    struct mk_reclaim r = { 0 };
    uint64_t cached = 0, hits = 0, releases = 0;
    mk_tcaches_lock();
    mk_tcaches_sum(p, &cached, &hits, &releases);
    /* The shared stack goes first (no thread counts on it), then the
     * caches, this thread's before the others'. */
    shared_take_all(p, cached >= keep ? 0 : keep - cached, &r);
    uint64_t idle = cached + __atomic_load_n(&p->shared, __ATOMIC_RELAXED);
    if (idle > keep)
        mk_tcaches_take(p, idle - keep, 0, &r);
    mk_tcaches_unlock();
    size_t freed = r.count;
    mk_reclaim_finish(&r);
    errno = saved;
    return freed;
}

MEMKIT_API void memkit_pool_destroy(memkit_pool_t *p)
{
    if (!p)
        return;
    int saved = errno;
    struct mk_reclaim r = { 0 };
    /* dead first: a release that sees it frees its buffer; one that
     * missed it is still in a cache or on the stack, taken below. */
    __atomic_store_n(&p->fast_slot, MK_NO_SLOT, __ATOMIC_RELEASE);
    __atomic_store_n(&p->dead, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&mk_pool_deaths, 1, __ATOMIC_SEQ_CST);
    mk_tcaches_lock();
    mk_tcaches_take(p, SIZE_MAX, 1, &r);
    mk_tcaches_unlock();
    shared_take_all(p, 0, &r);
    mk_reclaim_finish(&r);
    mk_pool_unref(p);   /* the handle; frames still out hold the rest */
    errno = saved;
}
