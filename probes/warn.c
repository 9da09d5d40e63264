/* warn.c — MEMKIT_WARN (warn.h). */
#include "warn.h"
#include "log.h"
#include "options.h"

static int disarmed;          /* 1 after a warning, until RSS falls back */
static uint64_t crossings;

void mk_warn_check_rss(uint64_t rss)
{
    uint64_t threshold = mk_opt_num(MK_OPT_WARN);
    if (!threshold || !rss)
        return;
    if (rss >= threshold) {
        int armed = 0;
        if (!__atomic_compare_exchange_n(&disarmed, &armed, 1, 0, __ATOMIC_RELAXED,
                                         __ATOMIC_RELAXED))
            return;
        uint64_t n = __atomic_add_fetch(&crossings, 1, __ATOMIC_RELAXED);
        mk_log(MK_LOG_WARN, "RSS %.1f MiB reached MEMKIT_WARN (%.1f MiB)%s",
               (double)rss / 1048576.0, (double)threshold / 1048576.0,
               n > 1 ? " again" : "");
    } else if (rss < threshold / 100 * MK_WARN_REARM_PCT) {
        if (__atomic_load_n(&disarmed, __ATOMIC_RELAXED))
            __atomic_store_n(&disarmed, 0, __ATOMIC_RELAXED);
    }
}

uint64_t mk_warn_crossings(void)
{
    return __atomic_load_n(&crossings, __ATOMIC_RELAXED);
}

void mk_warn_reset(void)
{
    __atomic_store_n(&disarmed, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&crossings, 0, __ATOMIC_RELAXED);
}
