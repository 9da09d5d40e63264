/* thread_cache.c — the per-thread caches of idle buffers: made on a
 * thread's first pool call, emptied when the thread exits, and reachable
 * from other threads (destroy, trim, drain) while their owners run on.
 *
 * Reaching another thread's cache. Its owner touches it with plain stores
 * between mk_tcache_enter and mk_tcache_leave (frame_pool_impl.h). A
 * flusher, holding the thread-caches lock, raises flush_req on every other
 * cache and calls membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): every
 * thread of the process then executes a full memory barrier. After it, an
 * owner that enters sees flush_req and waits for the lock; one that was
 * already inside is seen busy, and the flusher waits for it to leave (up
 * to 20 ms; a thread preempted that long inside is skipped). Without
 * membarrier (kernels before 4.14, some sandboxes) other threads' caches
 * are not touched: they are emptied at their thread's next pool call that
 * misses its cache, or at its exit. */
#include "frame_pool_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#if defined(__has_include)
#if __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#define HAVE_MEMBARRIER 1
#endif
#endif

__thread struct mk_tcache *mk_tcache_self __attribute__((tls_model("initial-exec")));
uint64_t mk_pool_deaths;

static pthread_mutex_t tcs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mk_tcache *tcs;        /* every thread's cache */
static __thread uint8_t tcs_held __attribute__((tls_model("initial-exec")));
static uint8_t fork_took_lock;       /* the prepare handler took tcs_lock */

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static int exit_key_ok;

void mk_tcaches_lock(void)
{
    pthread_mutex_lock(&tcs_lock);
    tcs_held = 1;
}

void mk_tcaches_unlock(void)
{
    tcs_held = 0;
    pthread_mutex_unlock(&tcs_lock);
}

int mk_tcaches_trylock(void)
{
    if (mk_trylock_bounded(&tcs_lock) != 0)
        return -1;
    tcs_held = 1;
    return 0;
}

void mk_tcache_wait_flush(void)
{
    /* The flusher raises flush_req and lowers it under the lock. */
    mk_tcaches_lock();
    mk_tcaches_unlock();
}

/* ---- a slot's buffers ---------------------------------------------------------- */

/* Moves up to max of s's idle buffers, oldest first, to r; drop_credit
 * also gives up the slot's credit. Returns how many moved. The caller
 * holds the slot's thread out of it (or is that thread). */
static size_t slot_take(struct mk_slot *s, size_t max, int drop_credit, struct mk_reclaim *r)
{
    uint32_t n = s->count, had = s->credit, credit = had;
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++) {
        s->items[i]->next = r->idle;
        r->idle = s->items[i];
    }
    memmove(s->items, s->items + k, (n - k) * sizeof s->items[0]);
    __atomic_store_n(&s->count, n - (uint32_t)k, __ATOMIC_RELAXED);
    r->count += k;
    credit -= (uint32_t)k;   /* the units go with the buffers, freed by r */
    if (drop_credit && credit) {
        __atomic_add_fetch(&s->pool->units_free, credit, __ATOMIC_RELAXED);
        credit = 0;
    }
    __atomic_store_n(&s->credit, credit, __ATOMIC_RELAXED);
    if (had && !credit) {
        mk_slot_fold(s);
        mk_pool_unref_later(s->pool, r);   /* the slot's reference */
    }
    return k;
}

void mk_tcache_forget_dead(struct mk_tcache *tc, struct mk_reclaim *r)
{
    uint64_t deaths = __atomic_load_n(&mk_pool_deaths, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < MK_SLOTS; i++) {
        struct mk_slot *s = &tc->slots[i];
        if (s->credit && __atomic_load_n(&s->pool->dead, __ATOMIC_ACQUIRE))
            slot_take(s, SIZE_MAX, 1, r);
    }
    tc->deaths_seen = deaths;
}

/* ---- a thread's cache: birth and exit --------------------------------------------- */

static void unlink_tcache(struct mk_tcache *tc)
{
    if (tc->prev)
        tc->prev->next = tc->next;
    else
        tcs = tc->next;
    if (tc->next)
        tc->next->prev = tc->prev;
}

/* At thread exit: idle buffers go to their pools' shared stacks with their
 * units, the rest of the credit back to the pools. */
static void tcache_exit(void *arg)
{
    struct mk_tcache *tc = arg;
    int saved = errno;
    struct mk_reclaim r = { 0 };
    for (;;) {
        mk_tcache_enter(tc);
        if (!mk_tcache_flush_requested(tc))
            break;
        mk_tcache_leave(tc);
        mk_tcache_wait_flush();
    }
    for (unsigned i = 0; i < MK_SLOTS; i++)
        if (tc->slots[i].credit)
            slot_take(&tc->slots[i], SIZE_MAX, 1, &r);
    mk_tcache_leave(tc);
    mk_tcaches_lock();
    unlink_tcache(tc);
    mk_tcaches_unlock();
    mk_tcache_self = NULL;
    free(tc);
    mk_reclaim_keep(&r);
    errno = saved;
}

static void make_exit_key(void)
{
    exit_key_ok = pthread_key_create(&exit_key, tcache_exit) == 0;
}

struct mk_tcache *mk_tcache_get(void)
{
    struct mk_tcache *tc = mk_tcache_self;
    if (tc)
        return tc;
    /* Without the exit hook a thread's cache would outlive it: no cache. */
    pthread_once(&exit_key_once, make_exit_key);
    if (!exit_key_ok)
        return NULL;
    void *mem;
    if (posix_memalign(&mem, 64, sizeof *tc) != 0)
        return NULL;
    tc = mem;
    memset(tc, 0, sizeof *tc);
    tc->deaths_seen = __atomic_load_n(&mk_pool_deaths, __ATOMIC_ACQUIRE);
    if (pthread_setspecific(exit_key, tc) != 0) {
        free(tc);
        return NULL;
    }
    mk_tcaches_lock();
    tc->next = tcs;
    if (tcs)
        tcs->prev = tc;
    tcs = tc;
    mk_tcaches_unlock();
    mk_tcache_self = tc;
    return tc;
}

/* ---- other threads' caches ---------------------------------------------------------- */

/* Makes every running thread of the process execute a full memory barrier;
 * -1 where the kernel cannot. */
static int fence_all_threads(void)
{
#if defined(HAVE_MEMBARRIER) && defined(SYS_membarrier)
    int saved = errno;
    int ok = syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
    if (!ok && errno == EPERM &&   /* not registered yet: once per process */
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
        ok = syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
    errno = saved;
    return ok ? 0 : -1;
#else
    return -1;
#endif
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Waits for tc's owner to leave its slots; 0 if it stays inside 20 ms. */
static int wait_not_busy(struct mk_tcache *tc)
{
    uint64_t start = 0;
    for (unsigned spin = 0; __atomic_load_n(&tc->busy, __ATOMIC_ACQUIRE); spin++) {
        if (spin < 128) {
            cpu_relax();
            continue;
        }
        if (!start)
            start = now_ns();
        else if (now_ns() - start > 20000000u)
            return 0;
        sched_yield();
    }
    return 1;
}

static size_t take_from_cache(struct mk_tcache *tc, struct memkit_pool *p, size_t max,
                         int drop_credit, struct mk_reclaim *r)
{
    size_t taken = 0;
    unsigned from = p ? p->slot : 0, to = p ? p->slot + 1 : MK_SLOTS;
    for (unsigned i = from; i < to && taken < max; i++) {
        struct mk_slot *s = &tc->slots[i];
        if (!s->credit || (p && s->id != p->id))
            continue;
        int dead = __atomic_load_n(&s->pool->dead, __ATOMIC_ACQUIRE);
        taken += slot_take(s, max - taken, drop_credit || dead, r);
    }
    return taken;
}

size_t mk_tcaches_take(struct memkit_pool *p, size_t max, int drop_credit, struct mk_reclaim *r)
{
    if (p && p->slot == MK_NO_SLOT)
        return 0;
    struct mk_tcache *self = mk_tcache_self;
    size_t taken = self ? take_from_cache(self, p, max, drop_credit, r) : 0;
    if (taken >= max || !tcs || (tcs == self && !self->next))
        return taken;
    for (struct mk_tcache *tc = tcs; tc; tc = tc->next)
        if (tc != self)
            __atomic_store_n(&tc->flush_req, 1, __ATOMIC_RELAXED);
    if (fence_all_threads() == 0) {
        for (struct mk_tcache *tc = tcs; tc && taken < max; tc = tc->next)
            if (tc != self && wait_not_busy(tc))
                taken += take_from_cache(tc, p, max - taken, drop_credit, r);
    }
    for (struct mk_tcache *tc = tcs; tc; tc = tc->next)
        if (tc != self)
            __atomic_store_n(&tc->flush_req, 0, __ATOMIC_RELEASE);
    return taken;
}

void mk_tcaches_sum(const struct memkit_pool *p, uint64_t *idle, uint64_t *hits,
                    uint64_t *releases)
{
    if (p->slot == MK_NO_SLOT)
        return;
    for (struct mk_tcache *tc = tcs; tc; tc = tc->next) {
        struct mk_slot *s = &tc->slots[p->slot];
        if (__atomic_load_n(&s->id, __ATOMIC_RELAXED) != p->id)
            continue;
        *releases += __atomic_load_n(&s->releases, __ATOMIC_RELAXED);
        *hits += __atomic_load_n(&s->hits, __ATOMIC_RELAXED);
        *idle += __atomic_load_n(&s->count, __ATOMIC_RELAXED);
    }
}

/* ---- fork ------------------------------------------------------------------------------ */

void mk_tcaches_fork_prepare(void)
{
    fork_took_lock = !tcs_held;
    if (fork_took_lock)
        pthread_mutex_lock(&tcs_lock);
}

void mk_tcaches_fork_parent(void)
{
    if (fork_took_lock)
        pthread_mutex_unlock(&tcs_lock);
}

void mk_tcaches_fork_child(struct mk_reclaim *r)
{
    if (!fork_took_lock)
        return;   /* a signal handler forked inside this thread's own use of the list */
    pthread_mutex_init(&tcs_lock, NULL);
    /* The other threads are gone: their caches go as at thread exit, idle
     * buffers (into r, for their pools) and the slots' pool references
     * with them (a pool destroyed in the child must not stay held). */
    struct mk_tcache *self = mk_tcache_self, *tc = tcs, *next;
    for (; tc; tc = next) {
        next = tc->next;
        if (tc == self)
            continue;
        for (unsigned i = 0; i < MK_SLOTS; i++)
            if (tc->slots[i].credit)
                slot_take(&tc->slots[i], SIZE_MAX, 1, r);
        unlink_tcache(tc);
        free(tc);
    }
}
