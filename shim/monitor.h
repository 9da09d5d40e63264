/* monitor.h — memkit's monitor thread and the free path's hook into it.
 *
 * The thread runs the automatic compactions (defrag/policy.h decides), so
 * that no trim ever runs inside the program's malloc or free. It starts
 * lazily, from the release check a thread's free takes every
 * MK_RELEASE_STEP bytes it frees, only once the process has work for it:
 * MEMKIT_THREAD_MIN bytes released, or bytes released and the compaction
 * interval due, or bytes released under memory pressure — or, when a
 * periodic output is asked for (MEMKIT_REPORT_INTERVAL snapshots,
 * MEMKIT_PROM metrics), at the program's first timeline point (its heap
 * moved by 256 KiB), which it then writes on time. Short commands
 * never get a thread: a thread would make glibc take its malloc locks at
 * every fork, and a single-threaded program forking from a signal handler
 * could then hang. It starts with every signal blocked, is detached, and
 * sleeps in poll() on a pipe (the free path's wake-up) and, where the
 * kernel has PSI, a memory pressure trigger. A fork child has no monitor;
 * it starts one the same way when it has work of its own. */
#ifndef MK_MONITOR_H
#define MK_MONITOR_H

#include <stdint.h>

#define MK_RELEASE_STEP (1u << 20)

/* Bytes released by the program since start (or since fork, in a child):
 * frees, realloc shrinks and memkit_notify_released. Exact (a snapshot). */
uint64_t mk_released_total(void);
/* The memkit_notify_released part of it. */
uint64_t mk_notified_total(void);
struct mk_compaction;
/* One compaction now on the calling thread (memkit_compact, and the
 * monitor's own): defrag/compact.h's mk_compact_run plus what the monitor
 * keeps. 0, or -1 when another compaction held on for too long. */
int mk_monitor_compact(int reason, struct mk_compaction *out);
/* memkit_notify_released: counts towards the threshold. */
void mk_monitor_notify_released(uint64_t bytes);
/* An option changed: the monitor, if running, looks at its triggers again. */
void mk_monitor_poke(void);
/* Appends a timeline point of the heap, the program's maps and, when
 * read_rss is set, RSS (a /proc read: never from inside the program's
 * calls, where points carry RSS 0, "not read") — a plain one (event
 * MK_TL_SAMPLE) only when one is due. */
void mk_timeline_point_now(int event, int read_rss);
/* Whether this process (not its parent) started a monitor thread. */
int mk_monitor_started(void);
/* At exit: no compaction starts from now on. */
void mk_monitor_stop(void);
/* Fork child: no monitor, no inherited descriptors, released bytes from 0.
 * Async-signal-safe. */
void mk_monitor_after_fork_child(void);

#endif
