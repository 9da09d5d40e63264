/* test_timeline.c — the timeline stays bounded, keeps its events in time
 * order, and says its resolution. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "timeline.h"

#define MS 1000000ull

static struct mk_timeline_point out[MK_TIMELINE_POINTS];

static void add(uint64_t t, uint32_t event)
{
    struct mk_timeline_point p = { .t_ns = t, .heap = t, .rss = 1, .event = event };
    mk_timeline_add(&p);
}

Test(timeline, points_closer_than_the_resolution_are_skipped, .init = mk_timeline_reset)
{
    add(0, MK_TL_SAMPLE);
    add(5 * MS, MK_TL_SAMPLE);          /* within 10 ms: skipped */
    cr_expect(not(mk_timeline_due(9 * MS)));
    cr_expect(mk_timeline_due(10 * MS));
    add(10 * MS, MK_TL_SAMPLE);
    add(11 * MS, MK_TL_COMPACT_BEGIN);  /* events always get theirs */
    uint64_t res;
    size_t n = mk_timeline_copy(out, MK_TIMELINE_POINTS, &res);
    cr_assert(eq(sz, n, 3));
    cr_expect(eq(u64, out[1].t_ns, 10 * MS));
    cr_expect(eq(u32, out[2].event, MK_TL_COMPACT_BEGIN));
    cr_expect(eq(u64, res, MK_TIMELINE_FIRST_NS));
}

Test(timeline, a_long_life_is_downsampled_and_stays_bounded, .init = mk_timeline_reset)
{
    /* An hour of points every 10 ms, with an event every minute. */
    for (uint64_t t = 0; t < 3600000 * MS; t += 10 * MS)
        add(t, t % (60000 * MS) == 0 && t ? MK_TL_COMPACT_END : MK_TL_SAMPLE);
    uint64_t res;
    size_t n = mk_timeline_copy(out, MK_TIMELINE_POINTS, &res);
    cr_expect(le(sz, n, MK_TIMELINE_POINTS));
    cr_expect(ge(sz, n, MK_TIMELINE_POINTS / 3));
    cr_expect(le(u64, res, 8000 * MS), "an hour ends below 8 s of resolution: %llu ms",
              (unsigned long long)(res / MS));
    cr_expect(lt(u64, out[0].t_ns, 60000 * MS), "the start is still there");
    cr_expect(gt(u64, out[n - 1].t_ns, 3500000 * MS), "the end is there");
    size_t events = 0;
    for (size_t i = 0; i < n; i++) {
        events += out[i].event == MK_TL_COMPACT_END;
        if (i)
            cr_assert(ge(u64, out[i].t_ns, out[i - 1].t_ns), "in order");
    }
    cr_expect(eq(sz, events, 59), "every event kept");
}

Test(timeline, an_event_added_late_lands_in_time_order, .init = mk_timeline_reset)
{
    /* A compaction starts at 20 ms and ends at 50 ms; the program's
     * threads add points meanwhile; its start is added when it ends. */
    add(0, MK_TL_SAMPLE);
    add(30 * MS, MK_TL_SAMPLE);
    add(40 * MS, MK_TL_SAMPLE);
    add(20 * MS, MK_TL_COMPACT_BEGIN);
    add(50 * MS, MK_TL_COMPACT_END);
    uint64_t res;
    size_t n = mk_timeline_copy(out, MK_TIMELINE_POINTS, &res);
    cr_assert(eq(sz, n, 5));
    for (size_t i = 1; i < n; i++)
        cr_expect(ge(u64, out[i].t_ns, out[i - 1].t_ns), "point %zu out of order", i);
    cr_expect(eq(u32, out[1].event, MK_TL_COMPACT_BEGIN));
    cr_expect(eq(u64, out[1].t_ns, 20 * MS));
}
