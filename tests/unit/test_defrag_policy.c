/* test_defrag_policy.c — when memkit compacts: each trigger, the gap, the
 * interval, the quiet time, pressure, and the back-off. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "policy.h"

#define S  1000000000ull
#define MB (1024ull * 1024)

/* The defaults of DESIGN.md: 500M, 60s gap, 1h interval, 2s quiet. */
static const struct mk_defrag_options defaults = {
    .threshold = 500 * MB, .min_gap_ns = 60 * S, .interval_ns = 3600 * S,
    .post_delay_ns = 2 * S, .pressure = 1,
};

static struct mk_defrag_verdict decide(const struct mk_defrag_options *o,
                                       struct mk_defrag_state s)
{
    struct mk_defrag_verdict v;
    if (!s.backoff)
        s.backoff = 1;
    mk_defrag_decide(o, &s, &v);
    return v;
}

Test(policy, nothing_released_nothing_happens)
{
    struct mk_defrag_state s = { .now_ns = 7200 * S, .under_pressure = 1 };
    struct mk_defrag_verdict v = decide(&defaults, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));
    cr_expect(eq(u64, v.wake_ns, 0));
}

Test(policy, threshold_fires_without_a_previous_compaction)
{
    struct mk_defrag_state s = { .now_ns = 5 * S, .released_since = 500 * MB };
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_THRESHOLD));
    s.released_since = 500 * MB - 1;
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_NONE));
}

Test(policy, threshold_waits_for_the_gap_and_says_when)
{
    struct mk_defrag_state s = {
        .now_ns = 100 * S, .have_last = 1, .last_start_ns = 70 * S, .last_end_ns = 71 * S,
        .released_since = 900 * MB,
    };
    struct mk_defrag_verdict v = decide(&defaults, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));
    cr_expect(eq(u64, v.wake_ns, 130 * S));   /* last start + 60 s */
    s.now_ns = 130 * S;
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_THRESHOLD));
}

Test(policy, quiet_time_after_a_compaction_holds_every_trigger)
{
    struct mk_defrag_options o = defaults;
    o.min_gap_ns = 0;
    struct mk_defrag_state s = {
        .now_ns = 11 * S, .have_last = 1, .last_start_ns = 10 * S, .last_end_ns = 10 * S + S / 2,
        .released_since = 900 * MB, .under_pressure = 1,
    };
    struct mk_defrag_verdict v = decide(&o, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));
    cr_expect(eq(u64, v.wake_ns, 12 * S + S / 2));
    s.now_ns = 12 * S + S / 2;
    cr_expect(eq(int, decide(&o, s).reason, MK_REASON_PRESSURE));
}

Test(policy, interval_needs_released_bytes_and_counts_from_start_then_last)
{
    struct mk_defrag_state s = { .start_ns = 1 * S, .now_ns = 3600 * S, .released_since = 1 };
    struct mk_defrag_verdict v = decide(&defaults, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));
    cr_expect(eq(u64, v.wake_ns, 3601 * S));
    s.now_ns = 3601 * S;
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_INTERVAL));
    s.have_last = 1;
    s.last_start_ns = 3000 * S;
    s.last_end_ns = 3001 * S;
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_NONE));
    s.now_ns = 6601 * S;
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_INTERVAL));
}

Test(policy, zero_switches_threshold_and_interval_off)
{
    struct mk_defrag_options o = defaults;
    o.threshold = 0;
    o.interval_ns = 0;
    o.pressure = 0;
    struct mk_defrag_state s = { .now_ns = 99999 * S, .released_since = 100000 * MB,
                                 .under_pressure = 1 };
    struct mk_defrag_verdict v = decide(&o, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));
    cr_expect(eq(u64, v.wake_ns, 0));
}

Test(policy, pressure_ignores_the_gap_but_needs_the_option)
{
    struct mk_defrag_state s = {
        .now_ns = 20 * S, .have_last = 1, .last_start_ns = 10 * S, .last_end_ns = 11 * S,
        .released_since = 1 * MB, .under_pressure = 1,
    };
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_PRESSURE));
    struct mk_defrag_options o = defaults;
    o.pressure = 0;
    cr_expect(eq(int, decide(&o, s).reason, MK_REASON_NONE));
}

Test(policy, backoff_scales_the_threshold_and_reports_what_it_held_back)
{
    struct mk_defrag_state s = { .now_ns = 5 * S, .released_since = 600 * MB, .backoff = 2 };
    struct mk_defrag_verdict v = decide(&defaults, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));
    cr_expect(eq(int, v.held_back, 1));
    s.released_since = 1000 * MB;
    v = decide(&defaults, s);
    cr_expect(eq(int, v.reason, MK_REASON_THRESHOLD));
    cr_expect(eq(int, v.held_back, 0));
}

Test(policy, backoff_scales_the_gap_but_not_the_quiet_time)
{
    struct mk_defrag_state s = {
        .now_ns = 200 * S, .have_last = 1, .last_start_ns = 100 * S, .last_end_ns = 101 * S,
        .released_since = 4000 * MB, .backoff = 4,
    };
    struct mk_defrag_verdict v = decide(&defaults, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));
    cr_expect(eq(u64, v.wake_ns, 340 * S));   /* 100 s + 4 x 60 s */
    struct mk_defrag_options o = defaults;
    o.min_gap_ns = 0;
    s.now_ns = 102 * S;   /* 1 s after the end: 2 s of quiet, unscaled */
    v = decide(&o, s);
    cr_expect(eq(u64, v.wake_ns, 103 * S));
}

Test(policy, backoff_doubles_on_poor_results_and_resets_on_good_ones)
{
    cr_expect(eq(u32, mk_defrag_backoff_after(1, 10 * MB, 900 * MB), 2));
    cr_expect(eq(u32, mk_defrag_backoff_after(2, 10 * MB, 900 * MB), 4));
    cr_expect(eq(u32, mk_defrag_backoff_after(64, 0, 900 * MB), MK_BACKOFF_MAX));
    cr_expect(eq(u32, mk_defrag_backoff_after(32, 800 * MB, 900 * MB), 1));
    /* An eighth is the line. */
    cr_expect(eq(u32, mk_defrag_backoff_after(1, 800 * MB / 8, 800 * MB), 1));
    cr_expect(eq(u32, mk_defrag_backoff_after(1, 800 * MB / 8 - 1, 800 * MB), 2));
}

Test(policy, reason_names_are_the_reports_words)
{
    cr_expect(eq(str, (char *)mk_reason_name(MK_REASON_THRESHOLD), "threshold"));
    cr_expect(eq(str, (char *)mk_reason_name(MK_REASON_INTERVAL), "interval"));
    cr_expect(eq(str, (char *)mk_reason_name(MK_REASON_PRESSURE), "pressure"));
    cr_expect(eq(str, (char *)mk_reason_name(MK_REASON_MANUAL), "manual"));
    cr_expect(eq(str, (char *)mk_reason_name(MK_REASON_NONE), "none"));
}

Test(policy, after_a_threshold_compaction_the_rest_settles_once_releases_stop)
{
    struct mk_defrag_options o = defaults;
    o.min_gap_ns = 0;
    struct mk_defrag_state s = {
        .now_ns = 10 * S, .have_last = 1, .last_reason = MK_REASON_THRESHOLD,
        .last_start_ns = 5 * S, .last_end_ns = 5 * S + S / 10,
        .released_since = 200 * MB, .released_changed_ns = 10 * S - S / 10,
    };
    struct mk_defrag_verdict v = decide(&o, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));   /* still releasing */
    cr_expect(eq(u64, v.wake_ns, 10 * S - S / 10 + MK_SETTLE_QUIET_NS));
    s.now_ns = v.wake_ns;
    cr_expect(eq(int, decide(&o, s).reason, MK_REASON_THRESHOLD));
    /* Less than a quarter of the threshold: left for the interval. */
    s.released_since = 500 * MB / 4 - 1;
    cr_expect(eq(int, decide(&o, s).reason, MK_REASON_NONE));
    /* Only after a threshold compaction. */
    s.released_since = 200 * MB;
    s.last_reason = MK_REASON_MANUAL;
    cr_expect(eq(int, decide(&o, s).reason, MK_REASON_NONE));
}

Test(policy, under_lasting_pressure_poor_compactions_space_out)
{
    struct mk_defrag_state s = {
        .now_ns = 14 * S, .have_last = 1, .last_start_ns = 10 * S, .last_end_ns = 10 * S,
        .released_since = 1 * MB, .under_pressure = 1, .backoff = 4,
    };
    struct mk_defrag_verdict v = decide(&defaults, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));
    cr_expect(eq(u64, v.wake_ns, 18 * S));   /* 10 s + 4 x 2 s */
    s.now_ns = 18 * S;
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_PRESSURE));
}

Test(policy, a_heap_that_halved_waives_the_backoff)
{
    struct mk_defrag_state s = {
        .now_ns = 200 * S, .have_last = 1, .last_start_ns = 100 * S, .last_end_ns = 101 * S,
        .released_since = 600 * MB, .backoff = 8,
        .heap_peak_since = 300 * MB, .heap_now = 160 * MB,
    };
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_NONE));   /* not halved */
    s.heap_now = 150 * MB;
    s.released_changed_ns = 200 * S - S / 10;   /* still releasing */
    struct mk_defrag_verdict v = decide(&defaults, s);
    cr_expect(eq(int, v.reason, MK_REASON_NONE));
    cr_expect(eq(u64, v.wake_ns, 200 * S - S / 10 + MK_SETTLE_QUIET_NS));
    s.now_ns = v.wake_ns;
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_THRESHOLD));
    s.heap_peak_since = MB / 2;   /* a tiny heap halving is no sign */
    s.heap_now = 0;
    cr_expect(eq(int, decide(&defaults, s).reason, MK_REASON_NONE));
}
