/* meminfo.h — the figures memkit_check reports: this process's RSS, the
 * machine's memory, and the limit the process is held to (its memory
 * cgroup's, where it has one below the machine's memory).
 *
 * The cgroup is found once, on first use, by one thread (others meanwhile
 * go on without it); finding it needs about 54 KiB of stack, more than a
 * program's thread may spare, so it runs on a stack memkit maps for the
 * purpose. Reads use open/read into stack buffers: no stdio, no
 * allocation, errno kept. */
#ifndef MK_MEMINFO_H
#define MK_MEMINFO_H

#include <stdint.h>

struct mk_memory {
    uint64_t rss;                 /* 0 when /proc/self/statm cannot be read */
    uint64_t system_total, system_available;   /* 0 when /proc/meminfo cannot */
    uint64_t cgroup_limit, cgroup_usage;       /* 0, 0: no cgroup limit known */
    uint64_t limit;               /* the cgroup's limit where it is below
                                   * system_total, else system_total */
    double   usage;               /* used share of limit, 0..1 (see mk_memory_usage) */
};

/* The limit and the used share. With a cgroup limit below the machine's
 * memory: limit = cgroup_limit, usage = cgroup_usage / limit (the cgroup
 * counts page cache too: it is what the kernel holds against the limit).
 * Else limit = total, usage = (total - available) / total, the share the
 * kernel could not hand out without reclaiming. Kept within 0..1; 0 when
 * nothing is known. Pure, for tests. */
void mk_memory_usage(uint64_t total, uint64_t available, uint64_t cg_limit,
                     uint64_t cg_usage, uint64_t *limit, double *usage);

/* Reads everything: /proc/self/statm (about 5 us), /proc/meminfo (about
 * 10 us) and, with a cgroup, its limit and usage files (about 13 us): some
 * 30 us in all; the first call also finds the cgroup (about 70 us). 0, or
 * -1 with errno set when neither RSS nor the machine's memory could be
 * read. */
int mk_memory_read(struct mk_memory *out);

/* 1 when the figures say the process is short of memory, by the monitor's
 * rule (defrag/pressure.h): MemAvailable below MK_LOW_AVAILABLE_PCT of
 * MemTotal, or the cgroup's usage at MK_CGROUP_FULL_PCT of its limit. */
int mk_memory_short(const struct mk_memory *m);

#endif
