/* policy.h — when to compact: a pure function of the options, the state
 * and the clock, so that every rule is tested without a thread or a heap.
 *
 * The triggers (each needs bytes released since the last compaction):
 *   threshold  released >= MEMKIT_COMPACT_THRESHOLD, and the last
 *              compaction began at least MEMKIT_COMPACT_MIN_GAP ago;
 *   interval   MEMKIT_COMPACT_INTERVAL has passed since the last one (or
 *              since start);
 *   pressure   the system or the cgroup is short of memory (MEMKIT_PRESSURE).
 * After any compaction, MEMKIT_POST_COMPACT_DELAY of quiet.
 *
 * Settling: a threshold compaction usually fires while the program is
 * still freeing, and what it frees afterwards (up to a threshold's worth)
 * would wait an hour for the interval. So once the program has stopped
 * releasing for MK_SETTLE_QUIET_NS, a threshold compaction also runs when
 * a quarter of the threshold was released since the last one, provided
 * that last one was a threshold (or settling) compaction itself.
 *
 * Back-off: a compaction is poor when it gives back (RSS before minus RSS
 * after) less than an eighth of the bytes the program released since the
 * one before (MK_POOR_SHARE); churn that the allocator reuses, or a heap
 * whose pages all keep a live object, gives such results. Each poor automatic compaction in a row doubles the back-off factor (up
 * to 64); a good one sets it back to 1. The factor multiplies the
 * threshold, the gap, the interval and, for pressure, the quiet time, so
 * a heap whose
 * pages all keep a live object stops paying for trims that return nothing,
 * while a program whose frees do come back keeps being compacted at once.
 * The back-off is waived once the heap in use has fallen to half of its
 * highest since the last compaction (and by 1 MiB or more) and the program
 * has stopped releasing for MK_SETTLE_QUIET_NS: that is a program that gave
 * memory back, not churn, and the moment a compaction pays. */
#ifndef MK_DEFRAG_POLICY_H
#define MK_DEFRAG_POLICY_H

#include <stdint.h>

enum mk_compact_reason {
    MK_REASON_THRESHOLD, MK_REASON_INTERVAL, MK_REASON_PRESSURE, MK_REASON_MANUAL,
    MK_REASON_COUNT,
    MK_REASON_NONE = -1,
};
/* "threshold", "interval", "pressure", "manual" (the report's words). */
const char *mk_reason_name(enum mk_compact_reason r);

struct mk_defrag_options {
    uint64_t threshold;        /* bytes; 0 off */
    uint64_t min_gap_ns;
    uint64_t interval_ns;      /* 0 off */
    uint64_t post_delay_ns;
    int      pressure;         /* 1: compact under pressure */
};

struct mk_defrag_state {
    uint64_t now_ns;           /* monotonic */
    uint64_t start_ns;         /* when the process started */
    int      have_last;        /* a compaction has run */
    uint64_t last_start_ns, last_end_ns;
    uint64_t released_since;   /* bytes released since the last compaction */
    int      under_pressure;
    int      last_reason;      /* enum mk_compact_reason of the last one */
    uint64_t released_changed_ns;   /* when released_since last grew */
    unsigned backoff;          /* factor, 1 = none */
    uint64_t heap_now;         /* heap in use now */
    uint64_t heap_peak_since;  /* the highest it was since the last compaction */
};

struct mk_defrag_verdict {
    enum mk_compact_reason reason;   /* MK_REASON_NONE: not now */
    uint64_t wake_ns;     /* when the answer may change by time alone; 0 never */
    int      held_back;   /* a trigger would fire now but for the back-off */
};

void mk_defrag_decide(const struct mk_defrag_options *o, const struct mk_defrag_state *s,
                      struct mk_defrag_verdict *v);

/* Whether the heap has fallen enough for the back-off to be waived. */
static inline int mk_defrag_heap_halved(uint64_t now, uint64_t peak_since)
{
    return now <= peak_since / 2 && peak_since - now >= (1u << 20);
}

#define MK_SETTLE_QUIET_NS 250000000ull   /* 250 ms with no release */

#define MK_BACKOFF_MAX 64
#define MK_POOR_SHARE 8   /* poor: returned < released / 8 */

/* The factor after an automatic compaction that returned `returned` bytes
 * when `released` had been released since the one before. */
unsigned mk_defrag_backoff_after(unsigned factor, uint64_t returned, uint64_t released);

#endif
