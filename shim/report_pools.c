/* report_pools.c — the report's "pools", "pool_totals", "rings" and
 * "map_caches" sections (docs/report-format.md): what the program's frame
 * pools, frame rings and mapping caches (pool/) hold. The lists are read
 * the way pool/ offers them to a report: without waiting long on any lock
 * (the report may be written in a fork child or a signal handler); a list
 * that stays locked is written empty, with "*_unread": true. */
#include "report.h"
#include "frame_pool.h"
#include "json_writer.h"
#include "map_cache.h"
#include "real.h"
#include "ring.h"

#define MK_REPORT_RINGS_MAX 256
#define MK_REPORT_MAP_CACHES_MAX 256

static void write_pool(const struct mk_pool_info *p, void *arg)
{
    struct mk_json *j = arg;
    const memkit_pool_stats_t *s = &p->stats;
    mk_json_object_begin(j);
    mk_json_field_u64(j, "id", p->id);
    mk_json_key(j, "name");
    mk_json_string(j, p->name);
    mk_json_field_u64(j, "frame_size", s->frame_size);
    mk_json_field_u64(j, "max_pooled", p->max_pooled);
    mk_json_field_u64(j, "max_in_use", s->max_in_use);
    mk_json_field_u64(j, "pooled", s->pooled);
    mk_json_field_u64(j, "allocated", s->allocated);
    mk_json_field_u64(j, "in_use", s->in_use);
    mk_json_field_u64(j, "peak_in_use", s->peak_in_use);
    mk_json_field_u64(j, "hits", s->hits);
    mk_json_field_u64(j, "misses", s->misses);
    mk_json_field_u64(j, "refused", s->refused);
    mk_json_field_u64(j, "buffers", p->buffers);
    mk_json_field_u64(j, "bytes", p->bytes);
    mk_json_key(j, "destroyed");
    mk_json_bool(j, p->destroyed);
    mk_json_key(j, "retired");
    mk_json_bool(j, p->retired);
    mk_json_key(j, "partial");
    mk_json_bool(j, p->partial);
    mk_json_object_end(j);
}

static void write_frame_pools(struct mk_json *j)
{
    struct mk_pool_totals totals = { 0 };
    mk_json_key(j, "pools");
    mk_json_array_begin(j);
    int listed = mk_frame_pools_each(write_pool, j, &totals);
    mk_json_array_end(j);
    mk_json_key(j, "pool_totals");
    mk_json_object_begin(j);
    mk_json_field_u64(j, "created", totals.created);
    mk_json_field_u64(j, "retired", totals.retired);
    mk_json_key(j, "unread");
    mk_json_bool(j, listed < 0);
    mk_json_object_end(j);
}

static void write_rings(struct mk_json *j)
{
    size_t bytes = MK_REPORT_RINGS_MAX * sizeof(struct mk_ring_info);
    struct mk_ring_info *rings = mk_pages_alloc(bytes);
    long n = rings ? mk_rings_list(rings, MK_REPORT_RINGS_MAX) : -1;
    mk_json_key(j, "rings");
    mk_json_array_begin(j);
    for (long i = 0; i < n && i < MK_REPORT_RINGS_MAX; i++) {
        mk_json_object_begin(j);
        mk_json_field_u64(j, "capacity", rings[i].capacity);
        mk_json_field_u64(j, "frame_size", rings[i].frame_size);
        mk_json_field_u64(j, "written", rings[i].written);
        mk_json_field_u64(j, "bytes", rings[i].bytes);
        mk_json_key(j, "backing");
        mk_json_string(j, mk_ring_backing_name(rings[i].backing));
        mk_json_object_end(j);
    }
    mk_json_array_end(j);
    mk_json_key(j, "rings_unread");
    mk_json_bool(j, n < 0);
    mk_pages_free(rings, bytes);
}

static void write_map_caches(struct mk_json *j)
{
    size_t bytes = MK_REPORT_MAP_CACHES_MAX * sizeof(struct mk_map_cache_info);
    struct mk_map_cache_info *caches = mk_pages_alloc(bytes);
    long n = caches ? mk_map_caches_list(caches, MK_REPORT_MAP_CACHES_MAX) : -1;
    mk_json_key(j, "map_caches");
    mk_json_array_begin(j);
    for (long i = 0; i < n && i < MK_REPORT_MAP_CACHES_MAX; i++) {
        const struct mk_map_cache_info *c = &caches[i];
        mk_json_object_begin(j);
        mk_json_field_u64(j, "max_bytes", c->max_bytes);
        mk_json_field_u64(j, "max_mappings", c->max_mappings);
        mk_json_field_u64(j, "hits", c->stats.hits);
        mk_json_field_u64(j, "misses", c->stats.misses);
        mk_json_field_u64(j, "evictions", c->stats.evictions);
        mk_json_field_u64(j, "mapped_bytes", c->stats.mapped_bytes);
        mk_json_field_u64(j, "mappings", c->stats.mappings);
        mk_json_field_u64(j, "in_use", c->stats.in_use);
        mk_json_field_u64(j, "truncations", c->stats.truncations);
        mk_json_key(j, "destroyed");
        mk_json_bool(j, c->destroyed);
        mk_json_key(j, "stats_read");
        mk_json_bool(j, c->stats_read);
        mk_json_object_end(j);
    }
    mk_json_array_end(j);
    mk_json_key(j, "map_caches_unread");
    mk_json_bool(j, n < 0);
    mk_pages_free(caches, bytes);
}

void mk_report_write_pools(struct mk_json *j)
{
    write_frame_pools(j);
    write_rings(j);
    write_map_caches(j);
}
