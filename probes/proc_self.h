/* proc_self.h — the process's own memory figures from /proc, read with
 * open/read into a stack buffer (no stdio, no allocation; errno kept). */
#ifndef MK_PROC_SELF_H
#define MK_PROC_SELF_H

#include <stdint.h>

/* Resident set now, in bytes, from /proc/self/statm: one open, one short
 * read, one close (about 5 us). 0 when it cannot be read. */
uint64_t mk_proc_rss(void);

/* Highest resident set so far (VmHWM), in bytes, from /proc/self/status:
 * a 1-2 KiB read the kernel formats line by line (about 15 us). 0 when it
 * cannot be read. */
uint64_t mk_proc_rss_peak(void);

/* Threads of this process still running, from /proc/self/stat: its
 * num_threads, less the main thread when that has ended (pthread_exit)
 * and waits as a zombie for the others. -1 when it cannot be read. */
int mk_proc_live_threads(void);

#endif
