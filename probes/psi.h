/* psi.h — memory pressure stall information (PSI, Linux 4.20+): the share
 * of time tasks waited for memory, from /proc/pressure/memory or, on cgroup
 * v2, a cgroup's memory.pressure (mk_cgroup's pressure_path). Reads use
 * open/read into a stack buffer (no stdio, no allocation; errno kept). */
#ifndef MK_PSI_H
#define MK_PSI_H

#include <stddef.h>
#include <stdint.h>

#define MK_PSI_MEMORY "/proc/pressure/memory"

struct mk_psi_line {
    double   avg10, avg60, avg300;  /* percent of wall time, 0..100 */
    uint64_t total_us;              /* stalled time since boot, microseconds */
};

struct mk_psi {
    struct mk_psi_line some;  /* at least one task stalled */
    struct mk_psi_line full;  /* every non-idle task stalled */
    int has_full;             /* 0 when the text had no "full" line */
};

/* Fills *out from the text of a pressure file. 0, or -1 with errno EINVAL
 * when the "some" line is missing or malformed (a malformed "full" line
 * only clears has_full). */
int mk_psi_parse(const char *text, struct mk_psi *out);

/* Reads and parses a pressure file at path (about 110 bytes; one open, one
 * read, one close: about 6 us). 0, or -1 with errno set: ENOENT where the
 * kernel has no PSI, EOPNOTSUPP where it was built in but is off (psi=0),
 * EINVAL for text that does not parse. */
int mk_psi_read_path(const char *path, struct mk_psi *out);

/* mk_psi_read_path(MK_PSI_MEMORY, out): the whole system's memory PSI. */
int mk_psi_read(struct mk_psi *out);

/* ---- triggers ------------------------------------------------------------
 * A trigger asks the kernel to wake a poller when tasks stalled for at least
 * stall_us within any window_us. Poll the fd for POLLPRI; each POLLPRI is one
 * event (at most one per window); POLLERR means the file went away (the
 * cgroup was removed): close the fd. Keep the fd open while the trigger is
 * wanted; closing it removes the trigger. Opening costs about 3 us, but the
 * close that removes a trigger waits for an RCU grace period (about 9 ms
 * here): close it on the monitor thread or leave it to exit, never on a
 * program's thread. A forked child shares the trigger through the fd. */

#define MK_PSI_WINDOW_MIN_US   500000u   /* the kernel's range for window_us */
#define MK_PSI_WINDOW_MAX_US 10000000u
#define MK_PSI_WINDOW_STEP_US 2000000u   /* unprivileged triggers (and this
                                          * kernel's, even for root) need a
                                          * multiple of 2 s */

/* The window the trigger functions use for a wanted one: rounded up to a
 * multiple of 2 s, then kept within 500 ms..10 s (so 2, 4, 6, 8 or 10 s). */
uint64_t mk_psi_window(uint64_t window_us);

/* Writes the trigger text, "some <stall> <window>" or "full ...", with the
 * window from mk_psi_window and the stall lowered to it, into buf with its
 * NUL. The length written including the NUL (what goes to the kernel), or 0
 * when stall_us is 0 or buf is too small. */
size_t mk_psi_trigger_format(char *buf, size_t len, int full,
                             uint64_t stall_us, uint64_t window_us);

/* Opens path (a pressure file) O_RDWR|O_NONBLOCK|O_CLOEXEC and registers the
 * trigger mk_psi_trigger_format gives. The fd to poll, or -1 with errno set
 * and nothing left open: EINVAL (stall 0, or refused by the kernel: one
 * before 5.2 has no triggers), ENOENT (no PSI), EOPNOTSUPP (PSI off),
 * EACCES/EPERM (not allowed). */
int mk_psi_trigger_open(const char *path, int full, uint64_t stall_us,
                        uint64_t window_us);

#endif
