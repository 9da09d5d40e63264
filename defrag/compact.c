/* compact.c — one compaction at a time, and its record (compact.h).
 *
 * The record is guarded by a sequence counter, not a lock: a fork child or
 * a signal handler may read it, and a reader never blocks a compaction.
 * Writers are already serialised by the `running` flag. */
#include "compact.h"
#include "detour.h"
#include "frame_pool.h"
#include "map_cache.h"
#include "tls.h"
#include "options.h"
#include "real.h"
#include "proc_self.h"
#include "process.h"
#include "release.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MK_DETOUR_MIN_RSS (64u << 20)

static int running;               /* a compaction is under way */
static unsigned seq;              /* odd while the record changes */
static struct mk_compact_totals totals = { .backoff = 1 };
static struct mk_compaction first[MK_COMPACT_FIRST];
static struct mk_compaction last[MK_COMPACT_LAST];   /* ring */
static uint64_t listed;           /* compactions recorded in first + last */
static uint64_t skipped;          /* held back by the back-off (atomic) */

static void write_begin(void)
{
    __atomic_add_fetch(&seq, 1, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void write_end(void)
{
    __atomic_add_fetch(&seq, 1, __ATOMIC_RELEASE);
}

/* Runs `copy` under the sequence counter; after many failed tries the
 * last (possibly torn) copy is kept rather than spinning for ever. */
#define READ_CONSISTENT(copy)                                              \
    for (int tries_ = 0; tries_ < 1000; tries_++) {                        \
        unsigned s0_ = __atomic_load_n(&seq, __ATOMIC_ACQUIRE);            \
        if (s0_ & 1) { sched_yield(); continue; }                          \
        copy;                                                              \
        __atomic_thread_fence(__ATOMIC_ACQUIRE);                           \
        if (__atomic_load_n(&seq, __ATOMIC_RELAXED) == s0_) break;         \
    }

/* Waits for a running compaction to end: at most about 10 s, then gives up
 * (a compaction never takes that long unless the machine is thrashing). */
static int acquire(void)
{
    struct timespec pause = { 0, 1000000 };
    for (int i = 0; i < 10000; i++) {
        int expect = 0;
        if (__atomic_compare_exchange_n(&running, &expect, 1, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return 0;
        nanosleep(&pause, NULL);
    }
    return -1;
}

static void record(const struct mk_compaction *c, uint64_t start_mono, uint64_t end_mono,
                   const struct mk_compact_input *in, int automatic)
{
    write_begin();
    uint64_t returned = c->rss_before > c->rss_after ? c->rss_before - c->rss_after : 0;
    totals.count++;
    totals.by_reason[c->reason]++;
    totals.returned_bytes += returned;
    totals.ns += c->seconds_ns;
    if (c->seconds_ns > totals.max_ns)
        totals.max_ns = c->seconds_ns;
    if (automatic)
        totals.backoff = mk_defrag_backoff_after(totals.backoff, returned, c->released_before);
    totals.have_last = 1;
    totals.last_reason = c->reason;
    totals.last_start_ns = start_mono;
    totals.last_end_ns = end_mono;
    totals.released_at_last = in->released_total;
    if (listed < MK_COMPACT_FIRST) {
        first[listed] = *c;
    } else {
        if (listed >= MK_COMPACT_FIRST + MK_COMPACT_LAST)
            totals.dropped++;
        last[(listed - MK_COMPACT_FIRST) % MK_COMPACT_LAST] = *c;
    }
    listed++;
    write_end();
}

/* MEMKIT_AGGRESSIVE: the idle buffers of the program's frame pools and its
 * idle file mappings go first, so that the release call finds their
 * memory free. They are the program's memory (counted when its threads
 * took them), so their frees and unmaps count as the program's, even on
 * the monitor thread, whose own calls memkit otherwise leaves out. */
static void drain_pools(struct mk_compaction *c)
{
    struct mk_thread *t = &mk_self;
    uint8_t busy = t->busy;
    t->busy = 0;
    c->pool_buffers_drained = mk_frame_pools_drain();
    c->map_bytes_drained = mk_map_caches_drain();
    t->busy = busy;
}

int mk_compact_run(const struct mk_compact_input *in, struct mk_compaction *out)
{
    int saved = errno;
    if (acquire() < 0) {
        errno = saved;
        return -1;
    }
    struct mk_compaction c = { .reason = in->reason };
    uint64_t released_at_last = __atomic_load_n(&totals.released_at_last, __ATOMIC_RELAXED);
    c.released_before = in->released_total > released_at_last
                        ? in->released_total - released_at_last : 0;
    uint64_t t0 = mk_now_ns();
    c.t_ns = t0 > in->start_ns ? t0 - in->start_ns : 0;
    /* What the last window's detour heap held goes back first: its pages
     * are not what this compaction returns (and would inflate the figure
     * the back-off judges by). */
    mk_detour_try_empty();
    c.rss_before = mk_proc_rss();
    if (in->aggressive)
        drain_pools(&c);
    /* malloc_trim holds each arena's lock through its walk of it: the
     * program's calls go around the arenas meanwhile (detour.h), when the
     * heap is big enough for the walk to be felt (about 90-170 ms per
     * GiB here: a few ms below MK_DETOUR_MIN_RSS, where the side heap
     * would cost more memory than the wait is worth). */
    int detour = mk_release_kind() == MK_RELEASE_MALLOC_TRIM && mk_glibc_chunks &&
                 c.rss_before >= MK_DETOUR_MIN_RSS && mk_opt_num(MK_OPT_COMPACT_DETOUR) &&
                 mk_detour_open() == 0;
    if (detour) {
        /* A call that looked at the window just before it opened is on its
         * way into glibc: a moment to get through before the trim takes the
         * arenas, rather than waiting through the whole trim. */
        struct timespec pause = { 0, 1000000 };
        nanosleep(&pause, NULL);
    }
    c.ran = mk_release_run();
    c.rss_after = mk_proc_rss();   /* what the call gave back, before the deferred frees */
    if (detour)
        mk_detour_close();
    if (in->aggressive)
        sync();
    uint64_t t1 = mk_now_ns();
    c.seconds_ns = t1 - t0;
    record(&c, t0, t1, in, in->reason != MK_REASON_MANUAL);
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    if (out)
        *out = c;
    errno = saved;
    return 0;
}

int mk_compact_tidy(void)
{
    int expect = 0;
    if (!__atomic_compare_exchange_n(&running, &expect, 1, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return 0;
    int done = mk_detour_try_empty();
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    return done;
}

void mk_compact_totals(struct mk_compact_totals *out)
{
    READ_CONSISTENT(*out = totals);
    out->backoff_skipped = __atomic_load_n(&skipped, __ATOMIC_RELAXED);
}

size_t mk_compact_list(struct mk_compaction *out, size_t max)
{
    size_t n = 0;
    READ_CONSISTENT({
        uint64_t have = listed;
        n = 0;
        for (uint64_t i = 0; i < have && i < MK_COMPACT_FIRST && n < max; i++)
            out[n++] = first[i];
        if (have > MK_COMPACT_FIRST) {
            uint64_t in_ring = have - MK_COMPACT_FIRST;
            uint64_t from = in_ring > MK_COMPACT_LAST ? in_ring - MK_COMPACT_LAST : 0;
            for (uint64_t i = from; i < in_ring && n < max; i++)
                out[n++] = last[(i) % MK_COMPACT_LAST];
        }
    });
    return n;
}

void mk_compact_note_skipped(void)
{
    __atomic_add_fetch(&skipped, 1, __ATOMIC_RELAXED);
}

void mk_compact_after_fork_child(uint64_t released_total)
{
    running = 0;
    seq = 0;
    memset(&totals, 0, sizeof totals);
    totals.backoff = 1;
    totals.released_at_last = released_total;
    listed = 0;
    skipped = 0;
}
