/* stress_memuse.c — see stress_memuse.h. */
#include "stress_memuse.h"
#include "cgroup.h"
#include "fd_io.h"
#include "line_reader.h"
#include "scan.h"
#include "stress_hold.h"
#include "sysmem.h"

#include <errno.h>
#include <string.h>

static struct mk_cgroup cgroup;     /* 12 KiB of paths: static, found once */

void mkt_memuse_init(void)
{
    if (mk_cgroup_init(&cgroup, "") != 0)
        cgroup.version = 0;
}

/* Resident minus shared pages of /proc/self/statm: the anonymous memory
 * this process has resident (the statm read costs about 5 us). */
static uint64_t own_anon(void)
{
    char buf[256];
    if (mk_read_file("/proc/self/statm", buf, sizeof buf) < 0)
        return 0;
    const char *s = buf;
    uint64_t size, resident, shared;
    if (mk_scan_u64(&s, &size) || mk_scan_u64(&s, &resident) || mk_scan_u64(&s, &shared))
        return 0;
    return resident > shared ? (resident - shared) * mkt_page_size() : 0;
}

/* The free pages on per-CPU lists: the sum of the "count:" lines of the
 * per-CPU pagesets in /proc/zoneinfo. The kernel keeps freed pages there
 * before they reach the free lists (and takes them from there first); on
 * 6.x kernels the lists grow to hundreds of MiB after a large free and
 * drain over seconds, and MemFree and MemAvailable leave them out. */
static uint64_t pcp_free_bytes(void)
{
    char buf[512];
    struct mk_lines r;
    if (mk_lines_open(&r, "/proc/zoneinfo", buf, sizeof buf) != 0)
        return 0;
    uint64_t pages = 0;
    for (char *line; (line = mk_lines_next(&r, NULL));) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, "count:", 6) != 0)
            continue;
        const char *s = line + 6;
        uint64_t n;
        if (mk_scan_u64(&s, &n) == 0)
            pages += n;
    }
    mk_lines_close(&r);
    return pages * mkt_page_size();
}

int mkt_memuse_read(struct mkt_memuse *out)
{
    struct mk_sysmem sys;
    if (mk_sysmem_read(&sys) != 0)
        return -1;
    out->basis = MKT_BASIS_SYSTEM;
    out->limit = sys.total;
    out->used = sys.total - sys.available;
    out->available = sys.available;
    out->own = own_anon();
    out->pcp_free = pcp_free_bytes();
    out->transient = 0;

    uint64_t limit = 0, usage = 0;
    if (cgroup.version && mk_cgroup_read(&cgroup, &limit, &usage) == 0 && limit &&
        limit < sys.total) {
        out->basis = MKT_BASIS_CGROUP;
        out->limit = limit;
        out->used = usage < limit ? usage : limit;
        if (limit - out->used < out->available)
            out->available = limit - out->used;
    }
    return 0;
}

unsigned mkt_memuse_share(const struct mkt_memuse *u)
{
    if (!u->limit)
        return 0;
    uint64_t used = u->used < u->limit ? u->used : u->limit;
    return (unsigned)((double)used / (double)u->limit * 10000 + 0.5);
}

const char *mkt_basis_name(enum mkt_basis b)
{
    return b == MKT_BASIS_CGROUP ? "the memory cgroup's limit" : "system memory";
}
