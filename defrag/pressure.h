/* pressure.h — is this process short of memory? For the monitor thread.
 *
 * Two ways to know. Where the kernel has PSI, a trigger on
 * /proc/pressure/memory wakes the monitor at once: "some" stall of
 * MK_PSI_STALL_US within a MK_PSI_WINDOW_US window (the smallest window a
 * trigger takes here, 2 s). Without PSI, and for the cgroup in any case,
 * the monitor samples every MEMKIT_MONITOR_INTERVAL: short means
 * MemAvailable below MK_LOW_AVAILABLE_PCT of MemTotal, or the cgroup's
 * usage at MK_CGROUP_FULL_PCT of its limit (usage counts page cache too,
 * which the kernel reclaims first; hence the high mark). */
#ifndef MK_DEFRAG_PRESSURE_H
#define MK_DEFRAG_PRESSURE_H

#define MK_PSI_STALL_US   150000u   /* 150 ms of stall ... */
#define MK_PSI_WINDOW_US 2000000u   /* ... within 2 s */
#define MK_LOW_AVAILABLE_PCT 10
#define MK_CGROUP_FULL_PCT   95

/* Finds the cgroup files once (reads /proc/self/cgroup and mountinfo;
 * about 30 KiB of stack: the monitor thread calls it). Until then the
 * cgroup is not looked at, and the trigger watches the whole system. */
void mk_pressure_init(void);
/* A PSI trigger to poll for POLLPRI, or -1 (no PSI, or not allowed). */
int mk_pressure_trigger_open(void);
/* 1 when the system or the cgroup is short of memory now, from
 * /proc/meminfo and the cgroup's files (tens of microseconds). */
int mk_pressure_sample(void);

#endif
