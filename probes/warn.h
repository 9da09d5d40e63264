/* warn.h — MEMKIT_WARN: one warning per crossing of an RSS threshold.
 *
 * Whoever has just read the resident set hands it here: memkit_check,
 * probe ends at level high and critical, and the monitor thread when it
 * samples. A warning is logged (mk_log WARN, so the report keeps it) when
 * RSS reaches the threshold while armed; the warning disarms it, and RSS
 * below 90% of the threshold arms it again (hysteresis: a process hovering
 * at the line warns once, not at every read). Lock-free: one
 * compare-and-swap decides which of two racing readers warns. */
#ifndef MK_WARN_H
#define MK_WARN_H

#include <stdint.h>

#define MK_WARN_REARM_PCT 90

/* Looks at one RSS reading (bytes); 0 is "not read" and ignored. */
void mk_warn_check_rss(uint64_t rss);
/* Warnings given since start (tests, the report). */
uint64_t mk_warn_crossings(void);
/* Armed again, count from 0 (tests; a fork child). */
void mk_warn_reset(void);

#endif
