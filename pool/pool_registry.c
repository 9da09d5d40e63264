/* pool_registry.c — the list of pools and what is done to all of them at
 * once: slots and ids, the report's listing, draining, and fork. */
#include "frame_pool_impl.h"
#include "frame_pool.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct memkit_pool *pools;         /* alive, destroyed-but-held included */
static uint64_t slots_used;               /* bit i: slot i belongs to a pool */
static uint64_t last_id;
static struct mk_pool_info retired[MK_POOLS_RETIRED_KEPT];
static unsigned retired_count;            /* entries ever written to retired[] */
static struct mk_pool_totals totals;

/* What this thread holds, so that a fork from a signal handler that
 * interrupted it there does not wait for itself. */
static __thread uint8_t registry_held __attribute__((tls_model("initial-exec")));
static __thread struct memkit_pool *pool_held __attribute__((tls_model("initial-exec")));

static void registry_lock_take(void)
{
    pthread_mutex_lock(&registry_lock);
    registry_held = 1;
}

static void registry_lock_give(void)
{
    registry_held = 0;
    pthread_mutex_unlock(&registry_lock);
}

void mk_pool_lock(struct memkit_pool *p)
{
    pthread_mutex_lock(&p->lock);
    pool_held = p;
}

void mk_pool_unlock(struct memkit_pool *p)
{
    pool_held = NULL;
    pthread_mutex_unlock(&p->lock);
}

int mk_trylock_bounded(pthread_mutex_t *m)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (pthread_mutex_trylock(m) == 0)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) > 10000000L)
            return -1;
        sched_yield();
    }
}

/* ---- fork ----------------------------------------------------------------------------
 * prepare takes every pool lock there is (after the registry's and the
 * thread caches'), so the child gets each shared stack whole and each lock
 * free; a lock this very thread holds (a signal handler forked inside a
 * pool call) is left alone: the interrupted call finishes in the child
 * too. In the child the locks are made anew rather than unlocked, and the
 * condition variables too (threads that waited on them are gone). */
static uint8_t fork_took_registry;

static void fork_prepare(void)
{
    fork_took_registry = !registry_held;
    if (fork_took_registry)
        pthread_mutex_lock(&registry_lock);
    mk_tcaches_fork_prepare();
    for (struct memkit_pool *p = pools; p; p = p->next)
        if (p != pool_held)
            pthread_mutex_lock(&p->lock);
}

static void fork_parent(void)
{
    for (struct memkit_pool *p = pools; p; p = p->next)
        if (p != pool_held)
            pthread_mutex_unlock(&p->lock);
    mk_tcaches_fork_parent();
    if (fork_took_registry)
        pthread_mutex_unlock(&registry_lock);
}

static void fork_child(void)
{
    for (struct memkit_pool *p = pools; p; p = p->next) {
        if (p == pool_held)
            continue;
        pthread_mutex_init(&p->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->returned, &ca);
        pthread_condattr_destroy(&ca);
        __atomic_store_n(&p->waiters, 0, __ATOMIC_RELAXED);
    }
    struct mk_reclaim r = { 0 };
    mk_tcaches_fork_child(&r);
    if (fork_took_registry)
        pthread_mutex_init(&registry_lock, NULL);
    mk_reclaim_keep(&r);   /* every lock is usable again */
}

static void fork_handlers_add(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- the list -------------------------------------------------------------------------- */

void mk_registry_add(struct memkit_pool *p)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fork_handlers_add);
    registry_lock_take();
    p->id = ++last_id;
    p->slot = MK_NO_SLOT;
    if (p->cap && ~slots_used) {
        unsigned i = (unsigned)__builtin_ctzll(~slots_used);
        slots_used |= 1ull << i;
        p->slot = i;
    }
    p->fast_slot = p->slot;
    p->next = pools;
    if (pools)
        pools->prev = p;
    pools = p;
    totals.created++;
    registry_lock_give();
}

void mk_registry_set_name(struct memkit_pool *p, const char *name)
{
    /* Cut at 47 bytes, and not inside a UTF-8 sequence. */
    size_t n = strnlen(name, sizeof p->name);
    if (n == sizeof p->name) {
        n = sizeof p->name - 1;
        while (n && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
    }
    registry_lock_take();
    memcpy(p->name, name, n);
    p->name[n] = '\0';
    registry_lock_give();
}

static void info_fill(struct memkit_pool *p, int tcaches, struct mk_pool_info *info)
{
    memset(info, 0, sizeof *info);
    info->id = p->id;
    memcpy(info->name, p->name, sizeof info->name);
    info->max_pooled = p->max_pooled;
    info->destroyed = __atomic_load_n(&p->dead, __ATOMIC_ACQUIRE);
    info->partial = !tcaches;
    uint64_t allocated = __atomic_load_n(&p->allocated, __ATOMIC_RELAXED);
    uint64_t freed = __atomic_load_n(&p->freed, __ATOMIC_RELAXED);
    info->buffers = allocated > freed ? allocated - freed : 0;
    info->bytes = info->buffers * mk_buffer_footprint(p->frame_size);
    info->stats.size = sizeof info->stats;
    mk_pool_figures(p, tcaches, &info->stats);
}

void mk_registry_remove(struct memkit_pool *p)
{
    registry_lock_take();
    struct mk_pool_info *r = &retired[retired_count++ % MK_POOLS_RETIRED_KEPT];
    /* No thread holds credit for p any more, so its slots' counts are
     * folded in: the pool's own figures are the whole. */
    info_fill(p, 0, r);
    r->partial = 0;
    r->retired = 1;
    r->destroyed = 1;
    totals.retired++;
    totals.retired_allocated += r->stats.allocated;
    totals.retired_hits += r->stats.hits;
    totals.retired_misses += r->stats.misses;
    totals.retired_refused += r->stats.refused;
    if (p->prev)
        p->prev->next = p->next;
    else
        pools = p->next;
    if (p->next)
        p->next->prev = p->prev;
    if (p->slot != MK_NO_SLOT)
        slots_used &= ~(1ull << p->slot);
    registry_lock_give();
}

int mk_frame_pools_each(void (*fn)(const struct mk_pool_info *info, void *arg), void *arg,
                        struct mk_pool_totals *out)
{
    if (mk_trylock_bounded(&registry_lock) != 0)
        return -1;
    registry_held = 1;
    int tcaches = mk_tcaches_trylock() == 0;
    int n = 0;
    struct mk_pool_info info;
    for (struct memkit_pool *p = pools; p; p = p->next, n++) {
        info_fill(p, tcaches, &info);
        fn(&info, arg);
    }
    if (tcaches)
        mk_tcaches_unlock();
    unsigned kept = retired_count < MK_POOLS_RETIRED_KEPT ? retired_count : MK_POOLS_RETIRED_KEPT;
    for (unsigned i = retired_count - kept; i != retired_count; i++, n++)
        fn(&retired[i % MK_POOLS_RETIRED_KEPT], arg);
    if (out)
        *out = totals;
    registry_lock_give();
    return n;
}

size_t mk_frame_pools_drain(void)
{
    int saved = errno;
    struct mk_reclaim r = { 0 };
    registry_lock_take();
    mk_tcaches_lock();
    mk_tcaches_take(NULL, SIZE_MAX, 0, &r);
    mk_tcaches_unlock();
    for (struct memkit_pool *p = pools; p; p = p->next) {
        mk_pool_lock(p);
        while (p->top) {
            struct memkit_frame *f = p->top;
            p->top = f->next;
            f->next = r.idle;
            r.idle = f;
            r.count++;
        }
        __atomic_store_n(&p->shared, 0, __ATOMIC_RELAXED);
        mk_pool_unlock(p);
    }
    registry_lock_give();
    size_t freed = r.count;
    mk_reclaim_finish(&r);
    errno = saved;
    return freed;
}
