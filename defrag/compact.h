/* compact.h — running one compaction and keeping its record.
 *
 * A compaction reads RSS (/proc/self/statm, about 5 us; never smaps_rollup,
 * which takes 100 ms at 2 GiB), makes the allocator's release call
 * (release.h), reads RSS again, and records reason, RSS before and after,
 * time taken and the bytes the program had released since the one before.
 * One compaction runs at a time in a process; a second caller waits for the
 * first to finish, then runs its own.
 *
 * The record: totals, and a list bounded to the first MK_COMPACT_FIRST and
 * the last MK_COMPACT_LAST compactions (the ones between are counted as
 * dropped), readable from any thread while compactions go on. */
#ifndef MK_DEFRAG_COMPACT_H
#define MK_DEFRAG_COMPACT_H

#include "policy.h"

#include <stddef.h>
#include <stdint.h>

#define MK_COMPACT_FIRST 64
#define MK_COMPACT_LAST  192

struct mk_compaction {
    uint64_t t_ns;             /* start, since the process started */
    int      reason;           /* enum mk_compact_reason */
    int      ran;              /* a release call was made */
    uint64_t rss_before, rss_after;
    uint64_t seconds_ns;
    uint64_t released_before;  /* released since the previous compaction */
    /* MEMKIT_AGGRESSIVE: idle frame-pool buffers freed and idle file
     * mappings unmapped (bytes) before the release call. */
    uint64_t pool_buffers_drained, map_bytes_drained;
};

struct mk_compact_totals {
    uint64_t count;
    uint64_t by_reason[MK_REASON_COUNT];
    uint64_t returned_bytes;   /* sum of max(0, before - after) */
    uint64_t ns, max_ns;
    uint64_t backoff_skipped;
    uint64_t dropped;          /* not in the list */
    unsigned backoff;          /* factor now */
    int      have_last;
    int      last_reason;
    uint64_t last_start_ns, last_end_ns;   /* monotonic */
    uint64_t released_at_last; /* the released-bytes total when the last began */
};

/* What the caller knows and compact does not: the released-bytes total
 * now (exact), and the process's start (monotonic). */
struct mk_compact_input {
    int      reason;
    int      aggressive;       /* also drain idle pool buffers and file mappings, and sync() */
    uint64_t released_total;
    uint64_t start_ns;
};

/* Runs one compaction now, on the calling thread (waiting while another
 * runs). Fills *out when out is not NULL. 0, or -1 when another thread
 * was compacting for longer than memkit waits (then nothing ran). */
int mk_compact_run(const struct mk_compact_input *in, struct mk_compaction *out);

/* Tidies up after compactions, unless one is running: gives back the
 * detour heap's pages once nothing holds them. 1 when there is nothing
 * left to tidy, 0 when there is (try later). */
int mk_compact_tidy(void);

/* A consistent copy of the totals. */
void mk_compact_totals(struct mk_compact_totals *out);
/* The listed compactions, oldest first, at most max; the count copied. */
size_t mk_compact_list(struct mk_compaction *out, size_t max);

/* An automatic trigger was held back by the back-off. */
void mk_compact_note_skipped(void);

/* Fork child: a compaction another thread was running is gone; the child's
 * record starts empty (its report is its own). Async-signal-safe. */
void mk_compact_after_fork_child(uint64_t released_total);

#endif
