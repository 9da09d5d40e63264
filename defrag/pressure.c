/* pressure.c — memory pressure for the monitor (pressure.h), from the
 * readers in probes/. */
#include "pressure.h"
#include "cgroup.h"
#include "psi.h"
#include "sysmem.h"

#include <stdint.h>

/* Found once, by the monitor thread (mk_cgroup_init needs about 30 KiB of
 * stack, more than a program's thread may spare inside free). */
static struct mk_cgroup cgroup;
static int cgroup_ready;

void mk_pressure_init(void)
{
    if (__atomic_load_n(&cgroup_ready, __ATOMIC_ACQUIRE))
        return;
    mk_cgroup_init(&cgroup, "");
    __atomic_store_n(&cgroup_ready, 1, __ATOMIC_RELEASE);
}

int mk_pressure_trigger_open(void)
{
    const char *path = "/proc/pressure/memory";
    if (__atomic_load_n(&cgroup_ready, __ATOMIC_ACQUIRE) && cgroup.pressure_path[0])
        path = cgroup.pressure_path;   /* v2: the cgroup's own stalls */
    return mk_psi_trigger_open(path, 0, MK_PSI_STALL_US, MK_PSI_WINDOW_US);
}

int mk_pressure_sample(void)
{
    struct mk_sysmem sys;
    if (mk_sysmem_read(&sys) == 0 && sys.total &&
        sys.available < sys.total / 100 * MK_LOW_AVAILABLE_PCT)
        return 1;
    uint64_t limit, usage;
    if (__atomic_load_n(&cgroup_ready, __ATOMIC_ACQUIRE) && cgroup.version &&
        mk_cgroup_read(&cgroup, &limit, &usage) == 0 && limit &&
        usage >= limit / 100 * MK_CGROUP_FULL_PCT)
        return 1;
    return 0;
}
