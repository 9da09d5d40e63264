/* stress_stop.h — how memkit-stress is stopped: SIGINT, SIGTERM or SIGHUP,
 * or the end of --for. The signals are blocked and taken with sigtimedwait,
 * so no handler runs in the middle of an munmap and a stop that comes
 * while memory is being written is seen at the next check. */
#ifndef MKT_STRESS_STOP_H
#define MKT_STRESS_STOP_H

#include <stdint.h>

/* Blocks the stop signals. Call before any memory is held. */
void mkt_stop_init(void);

/* The stop signal taken, or 0 while none came; once one came, keeps
 * returning it. Costs one system call. Fits mkt_hold_add's stop. */
int mkt_stop_requested(void);

/* Waits until a stop signal comes (returns it) or `until` passes (returns
 * 0). until is a CLOCK_MONOTONIC time in ns; 0 waits for a signal alone. */
int mkt_stop_wait(uint64_t until);

/* CLOCK_MONOTONIC now, in ns. */
uint64_t mkt_now_ns(void);

#endif
