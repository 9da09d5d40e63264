/* policy.c — the compaction triggers and the back-off (policy.h). */
#include "policy.h"

const char *mk_reason_name(enum mk_compact_reason r)
{
    static const char *const names[MK_REASON_COUNT] = {
        "threshold", "interval", "pressure", "manual",
    };
    return r >= 0 && r < MK_REASON_COUNT ? names[r] : "none";
}

static uint64_t scaled(uint64_t v, unsigned factor)
{
    uint64_t out;
    return __builtin_mul_overflow(v, (uint64_t)factor, &out) ? UINT64_MAX : out;
}

static uint64_t later(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static void wake_at(struct mk_defrag_verdict *v, uint64_t t)
{
    if (t && (!v->wake_ns || t < v->wake_ns))
        v->wake_ns = t;
}

/* Which trigger fires at this back-off factor, and when time alone could
 * make one fire. */
static enum mk_compact_reason fire(const struct mk_defrag_options *o,
                                   const struct mk_defrag_state *s, unsigned f,
                                   uint64_t *wake)
{
    struct mk_defrag_verdict w = { .wake_ns = 0 };
    enum mk_compact_reason r = MK_REASON_NONE;
    if (s->released_since == 0)
        goto out;   /* nothing new to give back */

    uint64_t quiet_end = s->have_last ? o->post_delay_ns + s->last_end_ns : 0;
    if (s->now_ns < quiet_end) {
        wake_at(&w, quiet_end);
        goto out;
    }
    if (o->pressure && s->under_pressure) {
        /* Under lasting pressure, poor compactions space out too. */
        uint64_t calm_end = s->have_last ? scaled(o->post_delay_ns, f) + s->last_end_ns : 0;
        if (s->now_ns >= calm_end) {
            r = MK_REASON_PRESSURE;
            goto out;
        }
        wake_at(&w, calm_end);
    }
    if (o->threshold && s->released_since >= scaled(o->threshold, f)) {
        uint64_t gap_end = s->have_last ? s->last_start_ns + scaled(o->min_gap_ns, f) : 0;
        if (s->now_ns >= gap_end) {
            r = MK_REASON_THRESHOLD;
            goto out;
        }
        wake_at(&w, gap_end);
    } else if (o->threshold && s->have_last && s->last_reason == MK_REASON_THRESHOLD &&
               s->released_since >= scaled(o->threshold, f) / 4) {
        uint64_t settled = s->released_changed_ns + MK_SETTLE_QUIET_NS;
        uint64_t gap_end = s->last_start_ns + scaled(o->min_gap_ns, f);
        if (s->now_ns >= settled && s->now_ns >= gap_end) {
            r = MK_REASON_THRESHOLD;
            goto out;
        }
        wake_at(&w, later(settled, gap_end));
    }
    if (o->interval_ns) {
        uint64_t due = (s->have_last ? s->last_end_ns : s->start_ns) + scaled(o->interval_ns, f);
        if (s->now_ns >= due) {
            r = MK_REASON_INTERVAL;
            goto out;
        }
        wake_at(&w, later(due, quiet_end));
    }
out:
    *wake = w.wake_ns;
    return r;
}

void mk_defrag_decide(const struct mk_defrag_options *o, const struct mk_defrag_state *s,
                      struct mk_defrag_verdict *v)
{
    unsigned f = s->backoff ? s->backoff : 1;
    v->held_back = 0;
    v->reason = fire(o, s, f, &v->wake_ns);
    if (v->reason != MK_REASON_NONE || f == 1)
        return;
    uint64_t wake1;
    enum mk_compact_reason unscaled = fire(o, s, 1, &wake1);
    if (s->have_last && mk_defrag_heap_halved(s->heap_now, s->heap_peak_since)) {
        /* The heap halved: a real release, not churn. The back-off is
         * waived, once the release is over. */
        uint64_t settled = s->released_changed_ns + MK_SETTLE_QUIET_NS;
        if (unscaled != MK_REASON_NONE && s->now_ns >= settled) {
            v->reason = unscaled;
            return;
        }
        wake_at(v, unscaled != MK_REASON_NONE ? settled : wake1);
        return;
    }
    v->held_back = unscaled != MK_REASON_NONE;
}

unsigned mk_defrag_backoff_after(unsigned factor, uint64_t returned, uint64_t released)
{
    if (factor < 1)
        factor = 1;
    int poor = returned < released / MK_POOR_SHARE;
    if (!poor)
        return 1;
    return factor >= MK_BACKOFF_MAX ? MK_BACKOFF_MAX : factor * 2;
}
