/* stress_policy.c — see stress_policy.h. */
#include "stress_policy.h"
#include "stress_hold.h"

#define GIB (1ull << 30)
#define MIB (1ull << 20)

/* The seed's two classes: small machines (8 GiB or less) and large ones
 * (16 GiB or more). */
#define SMALL_GIB    8
#define LARGE_GIB    16
#define SMALL_TARGET 2500
#define LARGE_TARGET 4000

unsigned mkt_target_default(uint64_t limit)
{
    uint64_t gib = limit / GIB + (limit % GIB != 0);
    if (gib <= SMALL_GIB)
        return SMALL_TARGET;
    if (gib >= LARGE_GIB)
        return LARGE_TARGET;
    return (unsigned)(SMALL_TARGET + (gib - SMALL_GIB) * (LARGE_TARGET - SMALL_TARGET) /
                                         (LARGE_GIB - SMALL_GIB));
}

/* share hundredths of limit, without overflow for any limit. */
static uint64_t share_of(uint64_t limit, unsigned share)
{
    return limit / 10000 * share + limit % 10000 * share / 10000;
}

uint64_t mkt_reserve(uint64_t limit)
{
    uint64_t r = share_of(limit, 500);
    return r > 32 * MIB ? r : 32 * MIB;
}

uint64_t mkt_band(uint64_t limit)
{
    uint64_t b = share_of(limit, 50);
    return b > 4 * MIB ? b : 4 * MIB;
}

uint64_t mkt_target_hold(const struct mkt_memuse *u, unsigned target)
{
    /* Others' use is what is used less the hold, and less what will be
     * gone in seconds (so that the hold does not chase it). */
    int64_t others = (int64_t)u->used - (int64_t)u->own - u->transient;
    if (others < 0)
        others = 0;
    uint64_t goal = share_of(u->limit, target);
    return goal > (uint64_t)others ? goal - (uint64_t)others : 0;
}

struct mkt_step mkt_target_step(const struct mkt_memuse *u, uint64_t hold, unsigned target)
{
    struct mkt_step step = { MKT_KEEP, 0 };
    uint64_t want = mkt_target_hold(u, target);
    uint64_t reserve = mkt_reserve(u->limit);
    uint64_t band = mkt_band(u->limit);

    /* Into the reserve already (others grew, or the target was near it):
     * give back the shortfall now, and more if the target says so. */
    if (u->available < reserve && hold > 0) {
        uint64_t short_by = reserve - u->available;
        uint64_t to = hold > short_by ? hold - short_by : 0;
        step.kind = MKT_SHRINK;
        step.bytes = want < to ? want : to;
        return step;
    }
    if (want > hold + band) {
        uint64_t grow = want - hold;
        uint64_t room = u->available > reserve ? u->available - reserve : 0;
        if (grow > room)
            grow = room;
        if (grow > MKT_CHUNK_MAX)
            grow = MKT_CHUNK_MAX;
        /* A step of less than a MiB is not worth a status line. */
        if (grow >= MIB) {
            step.kind = MKT_GROW;
            step.bytes = grow;
        }
    } else if (hold > want + band) {
        step.kind = MKT_SHRINK;
        step.bytes = want;
    }
    return step;
}
