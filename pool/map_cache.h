/* map_cache.h — what the rest of memkit may know of the mapping caches
 * (memkit_map_* in memkit.h): their figures for the report, and a way to
 * give their idle mappings back for aggressive compaction. */
#ifndef MK_MAP_CACHE_H
#define MK_MAP_CACHE_H

#include "memkit.h"
#include "pool_common.h"

#include <stddef.h>

struct mk_map_cache_info {
    size_t             max_bytes, max_mappings;   /* 0: no limit of that kind */
    int                stats_read;    /* 0: the cache was busy; destroyed and stats are zero */
    int                destroyed;     /* by the program, kept alive by held mappings */
    memkit_map_stats_t stats;
};

/* Fills out[0 .. min(n, max)) with the live caches (destroyed ones whose
 * mappings are still held included) and returns n, how many there are; -1
 * when the list could not be read without waiting (this thread is inside
 * a cache's creation or end, or another thread held the list for 50 ms).
 * A cache whose own lock is not free within 10 ms is listed with its
 * limits only. Safe in a fork child and, in practice, in a signal
 * handler. */
MK_POOL_HIDDEN long   mk_map_caches_list(struct mk_map_cache_info *out, size_t max);

/* Unmaps every cache's idle mappings (as memkit_map_clear on each); held
 * ones stay. Returns the bytes unmapped. Waits for the caches' locks
 * (they are held only for list work, never across a system call), except
 * those this very thread holds, which it skips. */
MK_POOL_HIDDEN size_t mk_map_caches_drain(void);

#endif
