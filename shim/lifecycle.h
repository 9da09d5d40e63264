/* lifecycle.h — memkit's mode, and when it starts counting.
 *
 * Start happens in two steps. The first call into any wrapper (which may
 * come from the dynamic loader, before any constructor) resolves the real
 * functions and starts counting with default options. The constructor
 * then reads the environment, and may switch to pass-through for good
 * (MEMKIT_DISABLE=1, or a setuid program: AT_SECURE). */
#ifndef MK_LIFECYCLE_H
#define MK_LIFECYCLE_H

#include "mk_common.h"

#include "real.h"
#include "tls.h"

enum mk_mode {
    MK_MODE_UNINIT,       /* nothing resolved yet */
    MK_MODE_RESOLVING,    /* one thread is resolving; others use bootstrap */
    MK_MODE_COUNTING,
    MK_MODE_PASSTHROUGH,  /* calls go straight through; nothing is written */
};

extern int mk_mode MK_HIDDEN;

/* Resolves the real functions if nobody has; returns at once if another
 * thread (or this one, re-entered from dlsym) is at it. */
void mk_init_early(void);

#define MK_LIKELY(x)   __builtin_expect(!!(x), 1)
#define MK_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Whether this call is the program's and must be counted: not memkit's own
 * work, not the real allocator calling back, and memkit counting. */
static inline int mk_should_count(const struct mk_thread *t)
{
    return MK_LIKELY(__atomic_load_n(&mk_mode, __ATOMIC_RELAXED) == MK_MODE_COUNTING) &&
           !(t->busy | t->in_real);
}

/* Pass-through for good (MEMKIT_DISABLE=1, AT_SECURE): the slow paths'
 * first test, so that a pass-through call costs a compare or two more
 * than the allocator's own. */
static inline int mk_passing_through(void)
{
    return MK_UNLIKELY(__atomic_load_n(&mk_mode, __ATOMIC_RELAXED) == MK_MODE_PASSTHROUGH);
}

/* Whether the real functions can be called (resolving them if need be).
 * 0 means: serve this call from the bootstrap buffer. */
static inline int mk_real_ready(void)
{
    if (MK_UNLIKELY(__atomic_load_n(&mk_mode, __ATOMIC_ACQUIRE) < MK_MODE_COUNTING))
        mk_init_early();
    return __atomic_load_n(&mk_mode, __ATOMIC_ACQUIRE) >= MK_MODE_COUNTING;
}

#endif
