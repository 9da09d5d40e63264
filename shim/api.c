/* api.c — the public functions of memkit.h that belong to the shim. */
#include "counters.h"
#include "lifecycle.h"
#include "memkit.h"
#include "options.h"
#include "monitor.h"
#include "compact.h"
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
    uint64_t released = tot.free_bytes + mk_notified_total();
    struct mk_compact_totals ct;
    mk_compact_totals(&ct);
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
        .released_bytes = released,
        .released_since_compact = released > ct.released_at_last ? released - ct.released_at_last : 0,
        .rss = mk_proc_rss(),
        .rss_peak = mk_proc_rss_peak(),
        .compactions = ct.count,
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
    int rc = mk_options_set(name, value);
    if (rc == 0)
        mk_monitor_poke();   /* a trigger may have changed */
    return rc;
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

MEMKIT_API int memkit_compact(memkit_compact_result_t *out)
{
    if (out && out->size < offsetof(memkit_compact_result_t, seconds) + sizeof(double)) {
        errno = EINVAL;
        return -1;
    }
    if (!counting())
        return -1;
    struct mk_thread *t = &mk_self;
    uint8_t busy = t->busy;
    t->busy = 1;   /* what the release call allocates is the allocator's */
    struct mk_compaction c;
    int rc = mk_monitor_compact(MK_REASON_MANUAL, &c);
    t->busy = busy;
    if (rc < 0) {
        errno = EBUSY;
        return -1;
    }
    if (out) {
        out->ran = c.ran;
        out->rss_before = c.rss_before;
        out->rss_after = c.rss_after;
        out->seconds = (double)c.seconds_ns / 1e9;
    }
    return 0;
}

MEMKIT_API void memkit_notify_released(size_t bytes)
{
    int saved = errno;
    if (bytes && mk_real_ready() &&
        __atomic_load_n(&mk_mode, __ATOMIC_ACQUIRE) == MK_MODE_COUNTING) {
        struct mk_thread *t = &mk_self;
        uint8_t busy = t->busy;
        t->busy = 1;
        mk_monitor_notify_released(bytes);
        t->busy = busy;
    }
    errno = saved;
}
