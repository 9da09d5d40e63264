/* sysmem.h — the machine's memory from /proc/meminfo, read with
 * open/read into a stack buffer (no stdio, no allocation; errno kept). */
#ifndef MK_SYSMEM_H
#define MK_SYSMEM_H

#include <stdint.h>

struct mk_sysmem {
    uint64_t total;      /* MemTotal, bytes */
    uint64_t available;  /* MemAvailable, bytes (never above total) */
    int      estimated;  /* 1: no MemAvailable (kernels before 3.14), so
                          * available is MemFree + Buffers + Cached, which
                          * overstates it: not all page cache can be dropped */
};

/* Fills *out from the text of /proc/meminfo. 0, or -1 with errno EINVAL
 * when MemTotal, or both MemAvailable and MemFree, are missing or cut off.
 * A field counts only when its line is whole ("<key>: <n> kB"). */
int mk_sysmem_parse(const char *text, struct mk_sysmem *out);

/* Reads /proc/meminfo (about 1.5 KiB the kernel formats on every read:
 * one open, one read, one close: about 10 us) and parses it. 0, or -1 with
 * errno set (from open, or EINVAL as mk_sysmem_parse). */
int mk_sysmem_read(struct mk_sysmem *out);

#endif
