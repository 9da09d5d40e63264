/* stress_policy.h — how much memkit-stress holds in target mode: the
 * default target, the reserve it never takes, and the next step towards
 * the target. Pure (figures in, decision out), so tests can drive it with
 * any machine size. Percentages are in hundredths: 4000 is 40%. */
#ifndef MKT_STRESS_POLICY_H
#define MKT_STRESS_POLICY_H

#include "stress_memuse.h"

#include <stdint.h>

/* Targets above this are refused: the seed's ceiling. */
#define MKT_TARGET_MAX 9000

/* The seed's default for a memory of `limit` bytes (MemTotal, or the
 * cgroup's limit). The size is limit rounded up to whole GiB, since the
 * kernel keeps part of the installed memory for itself (an 8 GiB machine
 * shows some 7.7 GiB of MemTotal): 25% up to 8 GiB, 40% from 16 GiB, and
 * on a straight line between (12 GiB: 32.5%). */
unsigned mkt_target_default(uint64_t limit);

/* Memory left available that memkit-stress never takes, whatever the
 * target: 5% of limit, at least 32 MiB. A growth step stops short of it,
 * and when others take memory so that less is available, the hold shrinks
 * at once. */
uint64_t mkt_reserve(uint64_t limit);

/* No change while the hold is this close to what it should be: 0.5% of
 * limit, at least 4 MiB; it keeps the hold still under the small ups and
 * downs of other programs. */
uint64_t mkt_band(uint64_t limit);

/* The hold that puts use at target: target's share of limit less what the
 * others use (used - own - transient); 0 when they alone are at or above
 * it. */
uint64_t mkt_target_hold(const struct mkt_memuse *u, unsigned target);

enum mkt_step_kind {
    MKT_KEEP,      /* within the band, or blocked by the reserve */
    MKT_GROW,      /* grow by bytes (at most MKT_CHUNK_MAX), then measure again */
    MKT_SHRINK,    /* shrink to bytes */
};
struct mkt_step {
    enum mkt_step_kind kind;
    uint64_t           bytes;
};

/* The next step for a hold of `hold` bytes, with use as measured in *u. */
struct mkt_step mkt_target_step(const struct mkt_memuse *u, uint64_t hold, unsigned target);

#endif
