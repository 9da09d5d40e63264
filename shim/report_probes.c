/* report_probes.c — the report's "probes" (one entry per probe label) and
 * "checkpoints" (one per memkit_check label) sections
 * (docs/report-format.md). */
#include "report.h"
#include "checkpoint.h"
#include "json_writer.h"
#include "real.h"
#include "scope.h"

static const char *const level_names[] = { "low", "medium", "high", "critical" };

static void write_scopes(struct mk_json *j)
{
    size_t bytes = MK_LABEL_SLOTS * sizeof(struct mk_scope_stats);
    struct mk_scope_stats *list = mk_pages_alloc(bytes);   /* 36 KiB: not on a stack */
    size_t n = list ? mk_scope_list(list, MK_LABEL_SLOTS) : 0;
    mk_json_key(j, "probes");
    mk_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        const struct mk_scope_stats *s = &list[i];
        mk_json_object_begin(j);
        mk_json_key(j, "label");
        mk_json_string(j, s->label);
        mk_json_key(j, "level");
        mk_json_string(j, s->level >= 0 && s->level < 4 ? level_names[s->level] : "?");
        mk_json_field_u64(j, "count", s->count);
        mk_json_field_seconds(j, "seconds_total", s->ns_total);
        mk_json_field_seconds(j, "seconds_max", s->ns_max);
        mk_json_key(j, "growth_total");
        mk_json_i64(j, s->growth_total);
        mk_json_key(j, "growth_max");
        mk_json_i64(j, s->growth_max);
        mk_json_field_u64(j, "peak_max", s->peak_max);
        mk_json_field_u64(j, "rss_max", s->rss_max);
        mk_json_field_u64(j, "under_pressure", s->under_pressure);
        mk_json_field_u64(j, "compactions", s->compactions);
        mk_json_object_end(j);
    }
    mk_json_array_end(j);
    if (list)
        mk_pages_free(list, bytes);
}

static void write_checkpoints(struct mk_json *j)
{
    size_t bytes = MK_LABEL_SLOTS * sizeof(struct mk_checkpoint);
    struct mk_checkpoint *list = mk_pages_alloc(bytes);
    size_t n = list ? mk_checkpoint_list(list, MK_LABEL_SLOTS) : 0;
    mk_json_key(j, "checkpoints");
    mk_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        const struct mk_checkpoint *c = &list[i];
        mk_json_object_begin(j);
        mk_json_key(j, "label");
        mk_json_string(j, c->label);
        mk_json_field_u64(j, "count", c->count);
        mk_json_field_seconds(j, "first_t_s", c->first_ns);
        mk_json_field_seconds(j, "last_t_s", c->last_ns);
        mk_json_field_u64(j, "rss_last", c->rss_last);
        mk_json_field_u64(j, "rss_min", c->rss_min);
        mk_json_field_u64(j, "rss_max", c->rss_max);
        mk_json_field_u64(j, "heap_last", c->heap_last);
        mk_json_object_end(j);
    }
    mk_json_array_end(j);
    if (list)
        mk_pages_free(list, bytes);
}

void mk_report_write_probes(struct mk_json *j)
{
    write_scopes(j);
    write_checkpoints(j);
    mk_json_key(j, "probes_dropped");
    mk_json_object_begin(j);
    mk_json_field_u64(j, "probe_labels", mk_scopes_refused());
    mk_json_field_u64(j, "checkpoint_labels", mk_checkpoints_refused());
    mk_json_field_u64(j, "open", mk_scopes_open());
    mk_json_object_end(j);
}
