/* api_probes.c — the probe functions of memkit.h: memkit_check,
 * memkit_fast_check, memkit_probe_begin/end. They measure here and file
 * the figures in probes/ (checkpoint.h, scope.h, warn.h). Each runs with
 * the thread's busy flag set, so nothing memkit does is counted as the
 * program's, and keeps errno on success. */
#include "checkpoint.h"
#include "compact.h"
#include "counters.h"
#include "fmt.h"
#include "lifecycle.h"
#include "log.h"
#include "meminfo.h"
#include "memkit.h"
#include "monitor.h"
#include "options.h"
#include "policy.h"
#include "proc_self.h"
#include "process.h"
#include "scope.h"
#include "warn.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* fast_check warns at most this often. */
#define FAST_WARN_GAP_NS 60000000000ull

static int counting(void)
{
    if (mk_real_ready() && __atomic_load_n(&mk_mode, __ATOMIC_ACQUIRE) == MK_MODE_COUNTING)
        return 1;
    errno = ENOSYS;
    return 0;
}

static uint64_t since_start(uint64_t mono_ns)
{
    uint64_t start = mk_process()->start_mono_ns;
    return mono_ns > start ? mono_ns - start : 0;
}

/* ---- checkpoints ---------------------------------------------------------- */

MEMKIT_API int memkit_check(const char *label, memkit_memory_info_t *out)
{
    if (!label || (out && out->size < offsetof(memkit_memory_info_t, usage) + sizeof(double))) {
        errno = EINVAL;
        return -1;
    }
    if (!counting())
        return -1;
    int saved = errno;
    struct mk_thread *t = &mk_self;
    uint8_t busy = t->busy;
    t->busy = 1;
    struct mk_memory m;
    int rc = mk_memory_read(&m);
    int err = errno;
    struct mk_totals tot;
    mk_counters_snapshot(&tot);
    mk_checkpoint_record(label, since_start(mk_now_ns()), m.rss, tot.heap_in_use);
    mk_warn_check_rss(m.rss);
    t->busy = busy;
    if (out) {
        memkit_memory_info_t info = {
            .size = out->size,
            .rss = m.rss,
            .heap_in_use = tot.heap_in_use,
            .system_total = m.system_total,
            .system_available = m.system_available,
            .limit = m.limit,
            .usage = m.usage,
        };
        size_t n = out->size < sizeof info ? out->size : sizeof info;
        memcpy((char *)out + sizeof(size_t), (char *)&info + sizeof(size_t), n - sizeof(size_t));
    }
    if (rc < 0) {
        errno = err;
        return -1;
    }
    errno = saved;
    return 0;
}

/* ---- fast check ----------------------------------------------------------- */

static uint64_t fast_next_warn_ns;   /* no warning before this (monotonic) */
static uint64_t fast_quiet;          /* times over the threshold not warned of */

static void fast_warn(uint64_t heap, uint64_t threshold)
{
    uint64_t now = mk_now_ns();   /* the vDSO: no system call */
    uint64_t next = __atomic_load_n(&fast_next_warn_ns, __ATOMIC_RELAXED);
    if (now < next || !__atomic_compare_exchange_n(&fast_next_warn_ns, &next,
                                                   now + FAST_WARN_GAP_NS, 0,
                                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        __atomic_fetch_add(&fast_quiet, 1, __ATOMIC_RELAXED);
        return;
    }
    uint64_t quiet = __atomic_exchange_n(&fast_quiet, 0, __ATOMIC_RELAXED);
    struct mk_thread *t = &mk_self;
    uint8_t busy = t->busy;
    t->busy = 1;
    char more[64] = "";
    if (quiet)
        mk_snprintf(more, sizeof more, " (over %llu more times since the last warning)",
                    (unsigned long long)quiet);
    mk_log(MK_LOG_WARN, "heap in use %.1f MiB is over memkit_fast_check's %.1f MiB%s",
           (double)heap / 1048576.0, (double)threshold / 1048576.0, more);
    t->busy = busy;
}

MEMKIT_API int memkit_fast_check(uint64_t threshold_bytes)
{
    if (__builtin_expect(__atomic_load_n(&mk_mode, __ATOMIC_RELAXED) != MK_MODE_COUNTING, 0)) {
        errno = ENOSYS;
        return -1;
    }
    uint64_t heap = mk_heap_in_use_folded();
    if (__builtin_expect(heap <= threshold_bytes, 1))
        return 0;
    fast_warn(heap, threshold_bytes);
    return 1;
}

/* ---- scopes ------------------------------------------------------------------ */

/* The heap now: the folded figure at level low, an exact snapshot above
 * (with the process's peak, which a snapshot also brings up to date). */
static void heap_now(int level, uint64_t *heap, uint64_t *peak)
{
    if (level == MEMKIT_LEVEL_LOW) {
        *heap = mk_heap_in_use_folded();
        *peak = 0;
        return;
    }
    struct mk_totals tot;
    mk_counters_snapshot(&tot);
    *heap = tot.heap_in_use;
    *peak = tot.heap_peak;
}

/* A critical scope ended under pressure: compact now, on this thread,
 * unless the program said no (MEMKIT_PRESSURE=0) or a compaction ended
 * within MEMKIT_POST_COMPACT_DELAY (a critical scope in a loop must not
 * trim at every turn). 1 when one ran. */
static int compact_for_pressure(uint64_t now)
{
    if (!mk_opt_num(MK_OPT_PRESSURE))
        return 0;
    struct mk_compact_totals ct;
    mk_compact_totals(&ct);
    uint64_t quiet = mk_opt_num(MK_OPT_POST_COMPACT_DELAY);
    if (ct.have_last && now < ct.last_end_ns + quiet)
        return 0;
    struct mk_compaction c;
    return mk_monitor_compact(MK_REASON_PRESSURE, &c) == 0 && c.ran;
}

MEMKIT_API memkit_probe_t *memkit_probe_begin(const char *label, memkit_level_t level)
{
    if (!label || (int)level < MEMKIT_LEVEL_LOW || (int)level > MEMKIT_LEVEL_CRITICAL) {
        errno = EINVAL;
        return NULL;
    }
    if (!counting())
        return NULL;
    int saved = errno;
    struct mk_thread *t = &mk_self;
    uint8_t busy = t->busy;
    t->busy = 1;
    struct mk_scope *s = mk_scope_alloc();
    if (!s) {
        t->busy = busy;
        return NULL;   /* ENOMEM */
    }
    s->level = (int)level;
    mk_label_copy(s->label, label);
    if (level == MEMKIT_LEVEL_CRITICAL) {
        struct mk_memory m;
        mk_memory_read(&m);
        s->rss_begin = m.rss;
        s->pressure_begin = mk_memory_short(&m);
    } else if (level >= MEMKIT_LEVEL_HIGH) {
        s->rss_begin = mk_proc_rss();
    }
    /* The heap and the clock last, nearest to the program's code. */
    heap_now(s->level, &s->heap_begin, &s->peak_begin);
    s->start_ns = mk_now_ns();
    __atomic_store_n(&s->magic, MK_SCOPE_MAGIC, __ATOMIC_RELEASE);
    t->busy = busy;
    errno = saved;
    return (memkit_probe_t *)s;
}

MEMKIT_API void memkit_probe_end(memkit_probe_t *probe)
{
    struct mk_scope *s = (struct mk_scope *)probe;
    if (!s || __atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) != MK_SCOPE_MAGIC)
        return;
    int saved = errno;
    struct mk_thread *t = &mk_self;
    uint8_t busy = t->busy;
    t->busy = 1;
    uint64_t end_ns = mk_now_ns();
    uint64_t heap, peak;
    heap_now(s->level, &heap, &peak);
    struct mk_scope_result r = {
        .level = s->level,
        .ns = end_ns > s->start_ns ? end_ns - s->start_ns : 0,
        .growth = (int64_t)(heap - s->heap_begin),
        .peak = heap > s->heap_begin ? heap : s->heap_begin,
    };
    /* A new high of the process inside the scope is the scope's peak. */
    if (peak > s->peak_begin && s->level > MEMKIT_LEVEL_LOW && peak > r.peak)
        r.peak = peak;
    if (s->level == MEMKIT_LEVEL_CRITICAL) {
        struct mk_memory m;
        mk_memory_read(&m);
        r.rss_end = m.rss;
        int short_now = mk_memory_short(&m);
        r.pressure = s->pressure_begin || short_now;
        if (short_now)
            r.compacted = compact_for_pressure(end_ns);
    } else if (s->level >= MEMKIT_LEVEL_HIGH) {
        r.rss_end = mk_proc_rss();
    }
    mk_warn_check_rss(r.rss_end);
    mk_scope_record(s->label, &r);
    mk_scope_free(s);
    t->busy = busy;
    errno = saved;
}
