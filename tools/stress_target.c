/* stress_target.c — memkit-stress --target [PERCENT] [--for DURATION]:
 * keeps memory use at PERCENT by growing and shrinking the hold, measured
 * again every second and after every growth step. */
#include "stress_hold.h"
#include "stress_memuse.h"
#include "stress_policy.h"
#include "stress_run.h"
#include "stress_say.h"
#include "stress_stop.h"
#include "units.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define TICK_NS 1000000000ull
/* Growth steps in one tick, each at most 1 GiB and measured before the
 * next: enough to reach any target on a 64 GiB machine in the first
 * second, and a bound on a tick whatever the figures say. */
#define MAX_STEPS 64

/* How long pages the hold gave back may be taken for pages still on the
 * kernel's per-CPU lists: those lists drain within a few seconds. */
#define GIVEN_BACK_NS (10 * TICK_NS)

/* What the hold gave back lately. The kernel puts freed pages on per-CPU
 * lists first, and MemAvailable counts those as used until they drain (on
 * 6.x kernels hundreds of MiB, for seconds): without this the regulator
 * would see its own shrink only in part and shrink again, too far. */
struct given_back {
    uint64_t bytes;          /* given back since the lists were last at their level; 0 none */
    uint64_t lists_before;   /* mkt_memuse.pcp_free before the first of those */
    uint64_t at;             /* CLOCK_MONOTONIC ns of the last */
};

struct regulator {
    struct mkt_hold   hold;
    unsigned          target;
    int               map_failed;    /* the last growth step failed (said once) */
    int               said_above;    /* "above the target without a hold" said */
    struct given_back given;
};

/* Reads the figures, and marks as passing the rise of the per-CPU lists
 * since the hold gave memory back, up to what it gave back. A rise that
 * others cause, and a fall of the lists, are use as MemAvailable says. The
 * cgroup's usage does not count these pages. */
static int measure(struct regulator *r, struct mkt_memuse *u)
{
    if (mkt_memuse_read(u) != 0)
        return -1;
    struct given_back *g = &r->given;
    if (!g->bytes)
        return 0;
    if (u->basis != MKT_BASIS_SYSTEM || u->pcp_free <= g->lists_before ||
        mkt_now_ns() - g->at > GIVEN_BACK_NS) {
        g->bytes = 0;        /* drained, or long enough ago */
        return 0;
    }
    uint64_t rise = u->pcp_free - g->lists_before;
    u->transient = (int64_t)(rise < g->bytes ? rise : g->bytes);
    return 0;
}

/* The hold shrinks to `to`; u is the measure that asked for it. */
static void shrink(struct regulator *r, const struct mkt_memuse *u, uint64_t to)
{
    uint64_t before = r->hold.bytes;
    mkt_hold_shrink_to(&r->hold, to);
    if (r->hold.bytes < before && u->pcp_free) {
        if (!r->given.bytes)
            r->given.lists_before = u->pcp_free;
        r->given.bytes += before - r->hold.bytes;
        r->given.at = mkt_now_ns();
    }
}

static double share_pct(const struct mkt_memuse *u)
{
    return mkt_memuse_share(u) / 100.0;
}

/* Steps towards the target until the policy says keep. 0, a stop signal
 * that came meanwhile, or -1 when /proc/meminfo cannot be read. */
static int regulate(struct regulator *r)
{
    char b1[MKT_UNIT_BUF], b2[MKT_UNIT_BUF];
    struct mkt_memuse u;
    for (int i = 0; i < MAX_STEPS; i++) {
        if (measure(r, &u) != 0)
            return -1;
        struct mkt_step st = mkt_target_step(&u, r->hold.bytes, r->target);
        if (st.kind == MKT_KEEP)
            break;
        if (st.kind == MKT_SHRINK) {
            shrink(r, &u, st.bytes);
            break;
        }
        int rc = mkt_hold_add(&r->hold, st.bytes, mkt_stop_requested);
        if (rc > 0)
            return mkt_stop_requested();
        if (rc < 0) {
            /* Not fatal: memory may free up; try again next tick. */
            if (!r->map_failed)
                mkt_complain("could not map %s more with %s held: %s; trying again each second",
                             mkt_bytes(b1, sizeof b1, st.bytes),
                             mkt_bytes(b2, sizeof b2, r->hold.bytes), strerror(errno));
            r->map_failed = 1;
            break;
        }
        r->map_failed = 0;
        if (mkt_stop_requested())
            return mkt_stop_requested();
    }
    return 0;
}

/* One status line when the hold moved; one when others alone are above
 * the target (the hold can do nothing then). */
static void report_change(struct regulator *r, uint64_t before)
{
    char b1[MKT_UNIT_BUF], b2[MKT_UNIT_BUF], p[16];
    struct mkt_memuse u;
    if (mkt_memuse_read(&u) != 0)
        return;
    if (r->hold.bytes != before) {
        uint64_t d = r->hold.bytes > before ? r->hold.bytes - before : before - r->hold.bytes;
        mkt_say("hold %s (%c%s), use %.1f%% (target %s)", mkt_bytes(b1, sizeof b1, r->hold.bytes),
                r->hold.bytes > before ? '+' : '-', mkt_bytes(b2, sizeof b2, d), share_pct(&u),
                mkt_percent(p, sizeof p, r->target));
    }
    int above = r->hold.bytes == 0 && u.used >= (uint64_t)((double)u.limit * r->target / 10000);
    if (above && !r->said_above)
        mkt_say("use %.1f%% is above the target %s without any hold; holding nothing",
                share_pct(&u), mkt_percent(p, sizeof p, r->target));
    r->said_above = above;
}

int mkt_stress_target(const struct mkt_stress_args *a)
{
    char b1[MKT_UNIT_BUF], b2[MKT_UNIT_BUF], p[16];
    struct mkt_memuse u;
    mkt_memuse_init();
    if (mkt_memuse_read(&u) != 0) {
        mkt_complain("cannot read /proc/meminfo: %s", strerror(errno));
        return MKT_EXIT_FAILED;
    }
    struct regulator r = { MKT_HOLD_INIT, a->target, 0, 0, { 0, 0, 0 } };
    if (!r.target)
        r.target = mkt_target_default(u.limit);
    char until[64] = "until SIGINT or SIGTERM";
    if (a->for_ns) {
        memcpy(until, "for ", 5);
        mkt_duration(until + 4, sizeof until - 4, (double)a->for_ns / 1e9);
    }
    mkt_say("target %s of %s (%s of %s%s), use now %.1f%%; checking every second %s, pid %ld",
            mkt_percent(p, sizeof p, r.target), mkt_basis_name(u.basis),
            mkt_bytes(b1, sizeof b1, (uint64_t)((double)u.limit * r.target / 10000)),
            mkt_bytes(b2, sizeof b2, u.limit), a->target ? "" : "; the default for this size",
            share_pct(&u), until, (long)getpid());

    uint64_t start = mkt_now_ns(), end = a->for_ns ? start + a->for_ns : 0;
    uint64_t next = start;
    int sig = 0, failed = 0;
    for (;;) {
        uint64_t before = r.hold.bytes;
        int rc = regulate(&r);
        if (rc < 0) {
            mkt_complain("cannot read /proc/meminfo: %s", strerror(errno));
            failed = 1;
            break;
        }
        if (rc > 0) {
            sig = rc;
            break;
        }
        report_change(&r, before);
        /* A fixed cadence, so that the time a step takes shortens the wait
         * rather than stretching the period; after a tick that took longer
         * than the period, a full period from now. */
        uint64_t now = mkt_now_ns();
        next += TICK_NS;
        if (next <= now)
            next = now + TICK_NS;
        sig = mkt_stop_wait(end && end < next ? end : next);
        if (sig || (end && mkt_now_ns() >= end))
            break;
    }
    uint64_t held = r.hold.bytes, ran_for = mkt_now_ns() - start;
    mkt_hold_release(&r.hold);
    mkt_say("released %s%s%s after %s", mkt_bytes(b1, sizeof b1, held), sig ? " on " : "",
            sig ? mkt_signal_name(sig) : "", mkt_duration(b2, sizeof b2, (double)ran_for / 1e9));
    return failed ? MKT_EXIT_FAILED : MKT_EXIT_OK;
}
