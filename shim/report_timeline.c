/* report_timeline.c — the report's "timeline" section (docs/report-format.md):
 * the points timeline.h keeps, and the resolution they ended at. */
#include "report.h"
#include "json_writer.h"
#include "monitor.h"
#include "real.h"
#include "timeline.h"

static const char *event_name(uint32_t e)
{
    switch (e) {
    case MK_TL_COMPACT_BEGIN: return "compaction_begin";
    case MK_TL_COMPACT_END:   return "compaction_end";
    case MK_TL_END:           return "end";
    default:                  return NULL;
    }
}

void mk_report_write_timeline(struct mk_json *j, int final)
{
    mk_timeline_point_now(final ? MK_TL_END : MK_TL_SAMPLE, 1);
    size_t bytes = MK_TIMELINE_POINTS * sizeof(struct mk_timeline_point);
    struct mk_timeline_point *pts = mk_pages_alloc(bytes);   /* 40 KiB: not on a stack */
    uint64_t res = 0;
    size_t n = pts ? mk_timeline_copy(pts, MK_TIMELINE_POINTS, &res) : 0;
    mk_json_key(j, "timeline_resolution_s");
    mk_json_double(j, (double)res / 1e9, 3);
    mk_json_key(j, "timeline");
    mk_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        mk_json_object_begin(j);
        mk_json_key(j, "t_s");
        mk_json_double(j, (double)pts[i].t_ns / 1e9, 3);
        mk_json_key(j, "heap");
        mk_json_u64(j, pts[i].heap);
        mk_json_key(j, "maps");
        mk_json_u64(j, pts[i].maps);
        mk_json_key(j, "rss");
        mk_json_u64(j, pts[i].rss);
        const char *ev = event_name(pts[i].event);
        if (ev) {
            mk_json_key(j, "event");
            mk_json_string(j, ev);
        }
        mk_json_object_end(j);
    }
    mk_json_array_end(j);
    if (pts)
        mk_pages_free(pts, bytes);
}
