/* process.h — facts about this process that the report needs, taken once
 * at start (and again in a fork child). Filled by lifecycle.c. */
#ifndef MK_PROCESS_H
#define MK_PROCESS_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

struct mk_process {
    pid_t    pid;               /* at start, or at fork for a child */
    pid_t    ppid;
    int64_t  start_unix_ns;     /* CLOCK_REALTIME at start */
    uint64_t start_mono_ns;     /* CLOCK_MONOTONIC at start */
    char     start_cwd[PATH_MAX];  /* relative report paths are taken from here; "" if unknown */
    char     name[256];         /* program name for %e: program_invocation_short_name */
};

/* Takes the facts now: at start, and in a fork child. Async-signal-safe
 * (a child forked from a signal handler calls it). */
void mk_process_capture(void);
const struct mk_process *mk_process(void);

/* CLOCK_MONOTONIC now, in ns. */
uint64_t mk_now_ns(void);

#endif
