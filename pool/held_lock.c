/* held_lock.c — a mutex that knows which thread holds it (held_lock.h). */
#include "held_lock.h"

#include <errno.h>
#include <time.h>

static uintptr_t self(void)
{
    return (uintptr_t)pthread_self();
}

void mk_held_lock_init(struct mk_held_lock *l)
{
    pthread_mutex_init(&l->mutex, NULL);
    atomic_init(&l->holder, 0);
    l->taken_for_fork = 0;
}

void mk_held_lock_destroy(struct mk_held_lock *l)
{
    pthread_mutex_destroy(&l->mutex);
}

void mk_held_lock(struct mk_held_lock *l)
{
    pthread_mutex_lock(&l->mutex);
    atomic_store_explicit(&l->holder, self(), memory_order_relaxed);
}

void mk_held_unlock(struct mk_held_lock *l)
{
    atomic_store_explicit(&l->holder, 0, memory_order_relaxed);
    pthread_mutex_unlock(&l->mutex);
}

int mk_held_here(struct mk_held_lock *l)
{
    /* Only this thread ever stores its own id, so a relaxed load that sees
     * it is never stale; any other value means "not this thread". */
    return atomic_load_explicit(&l->holder, memory_order_relaxed) == self();
}

int mk_held_lock_within(struct mk_held_lock *l, unsigned wait_ms)
{
    if (mk_held_here(l))
        return 0;
    const struct timespec step = { 0, 100 * 1000 };   /* 100 us */
    for (unsigned waited_us = 0;; waited_us += 100) {
        if (pthread_mutex_trylock(&l->mutex) == 0) {
            atomic_store_explicit(&l->holder, self(), memory_order_relaxed);
            return 1;
        }
        if (waited_us >= wait_ms * 1000u)
            return 0;
        int saved = errno;
        nanosleep(&step, NULL);   /* async-signal-safe, unlike a timed lock */
        errno = saved;
    }
}

int mk_held_lock_before_fork(struct mk_held_lock *l)
{
    l->taken_for_fork = 0;
    if (mk_held_here(l))
        return 0;
    mk_held_lock(l);
    l->taken_for_fork = 1;
    return 1;
}

void mk_held_unlock_after_fork(struct mk_held_lock *l)
{
    if (!l->taken_for_fork)
        return;
    l->taken_for_fork = 0;
    mk_held_unlock(l);
}
