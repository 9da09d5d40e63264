/* report_compact.c — the report's compaction sections: the "compaction"
 * totals and the "compactions" list (docs/report-format.md). */
#include "report.h"
#include "compact.h"
#include "detour.h"
#include "json_writer.h"
#include "monitor.h"
#include "real.h"

static void write_totals(struct mk_json *j, const struct mk_compact_totals *ct,
                         uint64_t released)
{
    mk_json_key(j, "compaction");
    mk_json_object_begin(j);
    mk_json_field_u64(j, "count", ct->count);
    mk_json_field_u64(j, "returned_bytes", ct->returned_bytes);
    mk_json_field_seconds(j, "seconds", ct->ns);
    mk_json_field_seconds(j, "max_seconds", ct->max_ns);
    mk_json_key(j, "by_reason");
    mk_json_object_begin(j);
    for (int r = 0; r < MK_REASON_COUNT; r++)
        mk_json_field_u64(j, mk_reason_name((enum mk_compact_reason)r), ct->by_reason[r]);
    mk_json_object_end(j);
    mk_json_field_u64(j, "backoff_skipped", ct->backoff_skipped);
    mk_json_field_u64(j, "backoff_factor", ct->backoff);
    mk_json_field_u64(j, "dropped", ct->dropped);
    mk_json_key(j, "monitor_thread");
    mk_json_bool(j, mk_monitor_started());
    struct mk_detour_stats ds;
    mk_detour_stats(&ds);
    mk_json_key(j, "detour");
    mk_json_object_begin(j);
    mk_json_field_u64(j, "windows", ds.windows);
    mk_json_field_u64(j, "allocations", ds.allocations);
    mk_json_field_u64(j, "deferred_frees", ds.deferred_frees);
    mk_json_field_u64(j, "heap_bytes", ds.heap_bytes);
    mk_json_object_end(j);
    mk_json_field_u64(j, "released_bytes", released);
    mk_json_field_u64(j, "released_since_compact",
              released > ct->released_at_last ? released - ct->released_at_last : 0);
    mk_json_object_end(j);
}

static void write_list(struct mk_json *j, struct mk_compaction *list, size_t n, size_t bytes)
{
    mk_json_key(j, "compactions");
    mk_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        const struct mk_compaction *c = &list[i];
        mk_json_object_begin(j);
        mk_json_field_seconds(j, "t_s", c->t_ns);
        mk_json_key(j, "reason");
        mk_json_string(j, mk_reason_name((enum mk_compact_reason)c->reason));
        mk_json_field_u64(j, "rss_before", c->rss_before);
        mk_json_field_u64(j, "rss_after", c->rss_after);
        mk_json_field_seconds(j, "seconds", c->seconds_ns);
        mk_json_field_u64(j, "returned_bytes",
                  c->rss_before > c->rss_after ? c->rss_before - c->rss_after : 0);
        mk_json_field_u64(j, "released_before", c->released_before);
        mk_json_field_u64(j, "pool_buffers_drained", c->pool_buffers_drained);
        mk_json_field_u64(j, "map_bytes_drained", c->map_bytes_drained);
        mk_json_key(j, "ran");
        mk_json_bool(j, c->ran);
        mk_json_object_end(j);
    }
    mk_json_array_end(j);
    if (list)
        mk_pages_free(list, bytes);
}

void mk_report_write_compactions(struct mk_json *j, uint64_t released)
{
    enum { MAX = MK_COMPACT_FIRST + MK_COMPACT_LAST };
    size_t bytes = MAX * sizeof(struct mk_compaction);
    struct mk_compaction *list = mk_pages_alloc(bytes);   /* too big for a thread's stack */
    /* The totals and the list are each read whole; a compaction the
     * monitor records between the two reads (the program exiting as one
     * ends) would make them disagree: read again. */
    struct mk_compact_totals ct, after;
    size_t n = 0;
    for (int tries = 0; tries < 4; tries++) {
        mk_compact_totals(&ct);
        n = list ? mk_compact_list(list, MAX) : 0;
        mk_compact_totals(&after);
        if (after.count == ct.count)
            break;
    }
    write_totals(j, &ct, released);
    write_list(j, list, n, bytes);
}
