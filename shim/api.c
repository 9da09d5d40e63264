/* api.c — the public functions of memkit.h that belong to the shim. */
#include "counters.h"
#include "lifecycle.h"
#include "memkit.h"
#include "options.h"
#include "proc_self.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static int counting(void)
{
    if (mk_real_ready() && __atomic_load_n(&mk_mode, __ATOMIC_ACQUIRE) == MK_MODE_COUNTING)
        return 1;
    errno = ENOSYS;
    return 0;
}

MEMKIT_API int memkit_stats(memkit_stats_t *out)
{
    if (!out || out->size < offsetof(memkit_stats_t, requested_bytes)) {
        errno = EINVAL;
        return -1;
    }
    if (!counting())
        return -1;
    struct mk_totals tot;
    mk_counters_snapshot(&tot);
    const struct mk_map_totals *prog = &tot.map[MK_MAP_PROGRAM];
    const struct mk_map_totals *alloc = &tot.map[MK_MAP_ALLOCATOR];
    memkit_stats_t s = {
        .size = out->size,
        .alloc_calls = tot.alloc_calls,
        .free_calls = tot.free_calls,
        .alloc_bytes = tot.alloc_bytes,
        .free_bytes = tot.free_bytes,
        .heap_in_use = tot.heap_in_use,
        .heap_peak = tot.heap_peak,
        .mmap_calls = prog->mmap_calls,
        .munmap_calls = prog->munmap_calls,
        .mmap_in_use = prog->in_use,
        .mmap_peak = prog->peak,
        .released_bytes = tot.free_bytes,
        .released_since_compact = tot.free_bytes,   /* no compaction has run */
        .rss = mk_proc_rss(),
        .rss_peak = mk_proc_rss_peak(),
        .compactions = 0,
        .requested_bytes = tot.requested_bytes,
        .alloc_failures = tot.failures,
        .mremap_calls = prog->mremap_calls,
        .allocator_mmap_calls = alloc->mmap_calls,
        .allocator_mmap_in_use = alloc->in_use,
    };
    size_t n = out->size < sizeof s ? out->size : sizeof s;
    memcpy((char *)out + sizeof(size_t), (char *)&s + sizeof(size_t), n - sizeof(size_t));
    return 0;
}

MEMKIT_API int memkit_config_set(const char *name, const char *value)
{
    if (!counting())
        return -1;
    if (!name || !value) {
        errno = EINVAL;
        return -1;
    }
    return mk_options_set(name, value);
}

MEMKIT_API int memkit_config_get(const char *name, char *buf, size_t len)
{
    if (!counting())
        return -1;
    if (!name || !buf) {
        errno = EINVAL;
        return -1;
    }
    return mk_options_get(name, buf, len);
}
