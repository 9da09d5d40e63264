/* held_lock.h — a mutex that knows which thread holds it.
 *
 * The pool's registries and mapping caches are read by the report writer,
 * which may run in a signal handler or a fork child: it must neither wait
 * for the very thread it interrupted nor wait for long on another. And a
 * fork must not leave a child with a lock that a thread it does not have
 * took in the parent. Knowing the holder answers both. */
#ifndef MK_HELD_LOCK_H
#define MK_HELD_LOCK_H

#include "pool_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct mk_held_lock {
    pthread_mutex_t   mutex;
    _Atomic uintptr_t holder;          /* pthread_self() of the holder, 0 when free */
    int               taken_for_fork;  /* by the forking thread, before fork */
};

#define MK_HELD_LOCK_INIT { PTHREAD_MUTEX_INITIALIZER, 0, 0 }

MK_POOL_HIDDEN void mk_held_lock_init(struct mk_held_lock *l);
MK_POOL_HIDDEN void mk_held_lock_destroy(struct mk_held_lock *l);
MK_POOL_HIDDEN void mk_held_lock(struct mk_held_lock *l);
MK_POOL_HIDDEN void mk_held_unlock(struct mk_held_lock *l);
/* This thread holds l (a signal handler interrupted it inside). */
MK_POOL_HIDDEN int  mk_held_here(struct mk_held_lock *l);
/* For readers that may run in a signal handler or a fork child: 1 with l
 * taken; 0 without it when this thread holds it already (what it guards
 * may be half changed) or another thread held it for wait_ms. */
MK_POOL_HIDDEN int  mk_held_lock_within(struct mk_held_lock *l, unsigned wait_ms);
/* pthread_atfork prepare: takes l unless this thread holds it (a signal
 * handler forking in the middle of this thread's own change: the change
 * finishes, and unlocks, in both processes when the handler returns).
 * 1 when it took l. */
MK_POOL_HIDDEN int  mk_held_lock_before_fork(struct mk_held_lock *l);
/* pthread_atfork parent and child: releases what before_fork took. */
MK_POOL_HIDDEN void mk_held_unlock_after_fork(struct mk_held_lock *l);

#endif
