/* meminfo.c — the figures of memkit_check (meminfo.h). */
#include "meminfo.h"
#include "cgroup.h"
#include "pressure.h"
#include "proc_self.h"
#include "real.h"
#include "sysmem.h"

#include <errno.h>
#include <ucontext.h>

void mk_memory_usage(uint64_t total, uint64_t available, uint64_t cg_limit,
                     uint64_t cg_usage, uint64_t *limit, double *usage)
{
    double u = 0;
    if (cg_limit && (!total || cg_limit < total)) {
        *limit = cg_limit;
        u = (double)cg_usage / (double)cg_limit;
    } else {
        *limit = total;
        if (total)
            u = (double)(total - (available < total ? available : total)) / (double)total;
    }
    *usage = u < 0 ? 0 : u > 1 ? 1 : u;
}

/* ---- the cgroup, found once --------------------------------------------- */

enum { CG_NONE, CG_FINDING, CG_READY };
static struct mk_cgroup cgroup;        /* 12 KiB: static, not on a stack */
static int cgroup_state;

#define FIND_STACK (128 * 1024)
static ucontext_t find_ctx, caller_ctx;

static void find_cgroup(void)
{
    mk_cgroup_init(&cgroup, "");
}

/* Runs find_cgroup on a mapped stack. Only the thread that moved
 * cgroup_state to CG_FINDING gets here, so the contexts are its own. */
static void find_on_own_stack(void)
{
    void *stack = mk_pages_alloc(FIND_STACK);
    if (!stack)
        return;
    if (getcontext(&find_ctx) == 0) {
        find_ctx.uc_stack.ss_sp = stack;
        find_ctx.uc_stack.ss_size = FIND_STACK;
        find_ctx.uc_link = &caller_ctx;
        makecontext(&find_ctx, find_cgroup, 0);
        swapcontext(&caller_ctx, &find_ctx);
    }
    mk_pages_free(stack, FIND_STACK);
}

static const struct mk_cgroup *cgroup_found(void)
{
    int st = __atomic_load_n(&cgroup_state, __ATOMIC_ACQUIRE);
    if (st == CG_NONE &&
        __atomic_compare_exchange_n(&cgroup_state, &st, CG_FINDING, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_ACQUIRE)) {
        int saved = errno;
        find_on_own_stack();
        errno = saved;
        __atomic_store_n(&cgroup_state, CG_READY, __ATOMIC_RELEASE);
        st = CG_READY;
    }
    return st == CG_READY && cgroup.version ? &cgroup : NULL;
}

/* ---- reading ------------------------------------------------------------------- */

int mk_memory_read(struct mk_memory *out)
{
    int saved = errno;
    struct mk_sysmem sys = { 0 };
    out->rss = mk_proc_rss();
    int have_sys = mk_sysmem_read(&sys) == 0;
    out->system_total = have_sys ? sys.total : 0;
    out->system_available = have_sys ? sys.available : 0;
    out->cgroup_limit = out->cgroup_usage = 0;
    const struct mk_cgroup *cg = cgroup_found();
    uint64_t lim = 0, use = 0;
    if (cg && mk_cgroup_read(cg, &lim, &use) == 0 && lim) {
        out->cgroup_limit = lim;
        out->cgroup_usage = use;
    }
    mk_memory_usage(out->system_total, out->system_available, out->cgroup_limit,
                    out->cgroup_usage, &out->limit, &out->usage);
    if (!out->rss && !have_sys) {
        errno = EIO;
        return -1;
    }
    errno = saved;
    return 0;
}

int mk_memory_short(const struct mk_memory *m)
{
    if (m->system_total && m->system_available < m->system_total / 100 * MK_LOW_AVAILABLE_PCT)
        return 1;
    return m->cgroup_limit && m->cgroup_usage >= m->cgroup_limit / 100 * MK_CGROUP_FULL_PCT;
}
