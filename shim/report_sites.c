/* report_sites.c — the report's "sites" and "modules" sections.
 *
 * Frames leave the process as (module, offset) pairs against a module table
 * read from /proc/self/maps when the report is written (probes/modules.h);
 * names and lines are memkit-report's business. No symbol names are looked
 * up here: dladdr takes the loader's lock, which a report written from an
 * exit path cannot risk. Estimates are copied under the sites lock, then
 * written with the lock released (sites and their stacks are never freed
 * or changed once made). */
#include "json_writer.h"
#include "modules.h"
#include "real.h"
#include "sampled_set.h"
#include "sites.h"

#include <string.h>

#define MK_REPORT_SITES 2000       /* by bytes */
#define MK_REPORT_SITES_EXTRA 200  /* and the top of each other order */

struct row {
    struct mk_site *site;
    double   bytes, calls;
    int64_t  live, peak;
    uint64_t samples;
    int      chosen;
};

static struct mk_modules modules;
static int modules_loaded;

/* ---- ordering -------------------------------------------------------------- */

enum order { BY_BYTES, BY_CALLS, BY_LIVE, BY_PEAK };

static double key(const struct row *r, enum order o)
{
    switch (o) {
    case BY_BYTES: return r->bytes;
    case BY_CALLS: return r->calls;
    case BY_LIVE:  return (double)r->live;
    case BY_PEAK:  return (double)r->peak;
    }
    return 0;
}

/* Heap sort of row pointers, largest key first (no qsort: glibc's may call
 * malloc, and this runs in every report). */
static int before(const struct row *a, const struct row *b, enum order o)
{
    double x = key(a, o), y = key(b, o);
    if (x != y)
        return x < y;          /* min-heap root goes last: descending order */
    return a->site->index > b->site->index;
}

static void sift(struct row **v, size_t n, size_t i, enum order o)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && before(v[l], v[m], o))
            m = l;
        if (l + 1 < n && before(v[l + 1], v[m], o))
            m = l + 1;
        if (m == i)
            return;
        struct row *t = v[i];
        v[i] = v[m];
        v[m] = t;
        i = m;
    }
}

static void sort_rows(struct row **v, size_t n, enum order o)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(v, n, i, o);
    for (size_t end = n; end-- > 1;) {
        struct row *t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift(v, end, 0, o);
    }
}

/* ---- writing --------------------------------------------------------------- */

static void write_site(struct mk_json *j, const struct row *r)
{
    const struct mk_site *s = r->site;
    mk_json_object_begin(j);
    mk_json_key(j, "frames");
    mk_json_array_begin(j);
    for (uint32_t i = 0; i < s->depth; i++) {
        uint64_t off = 0;
        int mi = modules_loaded ? mk_modules_find(&modules, s->ips[i], &off) : -1;
        mk_json_object_begin(j);
        mk_json_key(j, "module");
        mk_json_i64(j, mi);
        mk_json_key(j, "offset");
        mk_json_u64(j, mi >= 0 ? off : (uint64_t)s->ips[i]);
        mk_json_object_end(j);
    }
    mk_json_array_end(j);
    if (s->depth == 0) {
        mk_json_key(j, "other");
        mk_json_bool(j, 1);
    }
    mk_json_key(j, "alloc_bytes_est");
    mk_json_u64(j, (uint64_t)(r->bytes + 0.5));
    mk_json_key(j, "alloc_calls_est");
    mk_json_u64(j, (uint64_t)(r->calls + 0.5));
    mk_json_key(j, "live_bytes_est");
    mk_json_i64(j, r->live > 0 ? r->live : 0);
    mk_json_key(j, "peak_live_bytes_est");
    mk_json_i64(j, r->peak > 0 ? r->peak : 0);
    mk_json_key(j, "samples");
    mk_json_u64(j, r->samples);
    mk_json_object_end(j);
}

void mk_report_write_sites(struct mk_json *j)
{
    if (modules_loaded)
        mk_modules_release(&modules);
    modules_loaded = mk_modules_load(&modules) == 0;

    mk_json_key(j, "sites");
    mk_json_array_begin(j);
    /* This thread holds the lock (a signal handler that exits interrupted
     * it mid-change): the sites are left out of this report. */
    if (!mk_sites_lock_unless_held_here()) {
        mk_json_array_end(j);
        return;
    }
    mk_sites_settle_peak();
    uint32_t n = mk_sites_count();
    size_t bytes = (sizeof(struct row) + 2 * sizeof(struct row *)) * (n ? n : 1);
    struct row *rows = n ? mk_pages_alloc(bytes) : NULL;
    if (rows) {
        for (uint32_t i = 0; i < n; i++) {
            struct mk_site *s = mk_sites_at(i);
            rows[i] = (struct row){ s, s->alloc_bytes, s->alloc_calls, s->live_bytes,
                                    s->peak_live_bytes, s->samples, 0 };
        }
    }
    mk_sites_unlock();
    if (rows) {
        struct row **v = (struct row **)(rows + n);
        struct row **out = v + n;
        for (uint32_t i = 0; i < n; i++)
            v[i] = &rows[i];
        static const enum order others[] = { BY_CALLS, BY_LIVE, BY_PEAK };
        for (size_t k = 0; k < 3; k++) {
            sort_rows(v, n, others[k]);
            for (uint32_t i = 0; i < n && i < MK_REPORT_SITES_EXTRA; i++)
                if (key(v[i], others[k]) > 0)
                    v[i]->chosen = 1;
        }
        sort_rows(v, n, BY_BYTES);
        size_t m = 0;
        for (uint32_t i = 0; i < n; i++)
            if (i < MK_REPORT_SITES || v[i]->chosen)
                out[m++] = v[i];
        for (size_t i = 0; i < m; i++)
            write_site(j, out[i]);
        mk_pages_free(rows, bytes);
    }
    mk_json_array_end(j);
}

static void write_hex(struct mk_json *j, const uint8_t *id, unsigned len)
{
    static const char digits[] = "0123456789abcdef";
    char text[2 * MK_BUILD_ID_MAX + 1];
    for (unsigned i = 0; i < len; i++) {
        text[2 * i] = digits[id[i] >> 4];
        text[2 * i + 1] = digits[id[i] & 15];
    }
    text[2 * len] = '\0';
    mk_json_string(j, text);
}

void mk_report_write_modules(struct mk_json *j)
{
    if (!modules_loaded)
        modules_loaded = mk_modules_load(&modules) == 0;
    mk_json_key(j, "modules");
    mk_json_array_begin(j);
    for (uint32_t i = 0; modules_loaded && i < modules.count; i++) {
        const struct mk_module *m = &modules.mods[i];
        mk_json_object_begin(j);
        mk_json_key(j, "path");
        mk_json_string(j, m->path);
        mk_json_key(j, "build_id");
        if (m->build_id_len)
            write_hex(j, m->build_id, m->build_id_len);
        else
            mk_json_null(j);
        mk_json_key(j, "base");
        mk_json_u64(j, m->base);
        mk_json_object_end(j);
    }
    mk_json_array_end(j);
    mk_modules_release(&modules);
    modules_loaded = 0;
}
