/* stress_memuse.h — the memory use memkit-stress regulates, by the rule
 * memkit_check uses (probes/meminfo.h): the share of the memory cgroup's
 * limit in use where the process is in a cgroup whose limit is below the
 * machine's memory, else the machine's (MemTotal - MemAvailable) /
 * MemTotal. The probes' readers of /proc/meminfo and of the cgroup files
 * are compiled in; nothing here allocates. */
#ifndef MKT_STRESS_MEMUSE_H
#define MKT_STRESS_MEMUSE_H

#include <stdint.h>

enum mkt_basis {
    MKT_BASIS_SYSTEM,    /* the machine: /proc/meminfo */
    MKT_BASIS_CGROUP,    /* the memory cgroup's limit and usage */
};

struct mkt_memuse {
    enum mkt_basis basis;
    uint64_t limit;      /* MemTotal, or the cgroup's limit */
    uint64_t used;       /* MemTotal - MemAvailable, or the cgroup's usage
                          * (page cache included: the kernel holds it
                          * against the limit) */
    uint64_t available;  /* what can still be taken without reclaiming hard:
                          * MemAvailable, and with a cgroup no more than
                          * limit - usage */
    uint64_t own;        /* this process's anonymous resident bytes (its
                          * hold, mostly), counted inside used */
    uint64_t pcp_free;   /* free pages on the kernel's per-CPU lists, in
                          * bytes (/proc/zoneinfo; 0 when unknown). MemAvailable
                          * leaves them out, so they count inside used */
    int64_t  transient;  /* the part of used that will be gone in seconds:
                          * pages the hold gave back, still on per-CPU
                          * lists (the regulator sets it; 0 from
                          * mkt_memuse_read) */
};

/* Finds the memory cgroup, once (about 70 us, 54 KiB of stack). Not
 * finding one is no error: the machine is the basis then. */
void mkt_memuse_init(void);

/* Reads the figures now: /proc/meminfo, /proc/self/statm,
 * /proc/zoneinfo and, with a cgroup, two small files; some 50 us here
 * (zoneinfo grows with CPUs and zones: a few hundred us on large hosts).
 * 0, or -1 with errno set when /proc/meminfo cannot be read. */
int mkt_memuse_read(struct mkt_memuse *out);

/* Used share of limit, in hundredths of a percent (0..10000). */
unsigned mkt_memuse_share(const struct mkt_memuse *u);

/* "system memory" or "the memory cgroup's limit", for status lines. */
const char *mkt_basis_name(enum mkt_basis b);

#endif
