/* timeline.h — heap in use, the program's maps and RSS over the life of a
 * process, bounded in size.
 *
 * Points are appended no closer than the resolution apart (events always
 * get theirs). The table holds MK_TIMELINE_POINTS; when it fills, every
 * other point is dropped (events are kept before plain points) and the
 * resolution doubles. It starts at MK_TIMELINE_FIRST_NS, so a process
 * that lives T seconds ends with a resolution of at most about
 * 2 * T / MK_TIMELINE_POINTS (an hour: under 8 s; a minute: 10 ms).
 *
 * Who appends: the release check on the free path (every MiB a thread
 * frees, so an allocation-heavy program is followed closely at no cost
 * between checks), the monitor thread when it wakes, each compaction
 * (an event point before and after), and the report (a last point).
 * Appending never blocks: a writer that finds the table busy skips its
 * point. */
#ifndef MK_TIMELINE_H
#define MK_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#define MK_TIMELINE_POINTS   1024
#define MK_TIMELINE_FIRST_NS 10000000ull   /* 10 ms */

enum mk_timeline_event {
    MK_TL_SAMPLE,            /* a plain point */
    MK_TL_COMPACT_BEGIN,
    MK_TL_COMPACT_END,
    MK_TL_END,               /* the report's last point */
};

struct mk_timeline_point {
    uint64_t t_ns;           /* since the process started */
    uint64_t heap, maps, rss;   /* rss 0: not read for this point */
    uint32_t event;          /* enum mk_timeline_event */
};

/* Whether a plain point at t_ns would be kept (one load; lets a caller
 * skip reading RSS for nothing). */
int mk_timeline_due(uint64_t t_ns);
/* Appends a point (skipped when the table is busy or a plain point comes
 * within the resolution of the last). */
void mk_timeline_add(const struct mk_timeline_point *p);
/* The points, oldest first, at most max; the resolution now in *res_ns. */
size_t mk_timeline_copy(struct mk_timeline_point *out, size_t max, uint64_t *res_ns);
/* Fork child: a timeline of its own (async-signal-safe). */
void mk_timeline_reset(void);

#endif
