/* frame_pool.h — what the rest of memkit needs from the frame pools: the
 * report lists them, aggressive compaction drains them. The pools
 * themselves are memkit.h's. */
#ifndef MK_FRAME_POOL_H
#define MK_FRAME_POOL_H

#include "memkit.h"

#include <stddef.h>
#include <stdint.h>

/* One pool as the report shows it. */
struct mk_pool_info {
    uint64_t id;                 /* 1, 2, ... in order of creation */
    char     name[48];           /* memkit_pool_set_name's, "" when none was given */
    size_t   max_pooled;
    int      destroyed;          /* memkit_pool_destroy was called; frames out keep it */
    int      retired;            /* gone: its figures when its last buffer went */
    int      partial;            /* thread caches were busy: pooled, hits and in_use
                                    leave out what sits in them */
    uint64_t buffers;            /* buffers held from the system now, idle and out */
    uint64_t bytes;              /* the memory those take */
    memkit_pool_stats_t stats;   /* every field set, size included */
};

/* Gone pools whose figures the list keeps, newest replacing oldest. */
#define MK_POOLS_RETIRED_KEPT 8

/* Over the process's life. */
struct mk_pool_totals {
    uint64_t created, retired;   /* pools created, and gone (their last buffer freed) */
    uint64_t retired_allocated, retired_hits, retired_misses, retired_refused;
};

/* Calls fn for every pool alive (destroyed ones that frames still hold
 * included), then for up to MK_POOLS_RETIRED_KEPT gone ones, oldest
 * first, and fills *totals (may be NULL). fn runs under the pools' lock and
 * must not call pool functions. Waits on no lock for more than about 10 ms
 * and allocates nothing, so a signal handler or a fork child may call it;
 * where the thread caches' lock stays busy, entries are marked partial.
 * Returns how many entries fn got, or -1 when the list stayed locked
 * (nothing was listed). */
__attribute__((visibility("hidden")))
int mk_frame_pools_each(void (*fn)(const struct mk_pool_info *info, void *arg), void *arg,
                        struct mk_pool_totals *totals);

/* Frees the idle buffers of every pool: the shared stacks, this thread's
 * cache, and other threads' caches where the kernel offers membarrier
 * (Linux 4.14+) and the thread is not inside a pool call at that moment
 * (it is waited for up to 20 ms); what is not reached now goes at its
 * thread's next pool call that misses its cache, or its exit. Frames out
 * are untouched. Returns the number of buffers freed. Call with no pool
 * lock held (not from inside fn above). */
__attribute__((visibility("hidden")))
size_t mk_frame_pools_drain(void);

#endif
