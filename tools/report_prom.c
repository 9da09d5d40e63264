/* report_prom.c — OpenMetrics text of a report (see report_prom.h and
 * docs/metrics.md, which lists the same metrics; the library writes them
 * from its live counters for MEMKIT_PROM).
 *
 * One text both parsers accept. A counter is written as a series named
 * NAME_total with a HELP line and no TYPE line: OpenMetrics names a
 * counter's family without "_total" and the Prometheus text format that
 * node_exporter and promtool read names it with, so a TYPE line can
 * satisfy only one of them; without it both read an untyped series,
 * which rate() and increase() treat like any counter. Gauges carry TYPE
 * and, for bytes and seconds, UNIT. No timestamps: the textfile
 * collector refuses them. */
#include "report_prom.h"
#include "report_figures.h"
#include "report_get.h"
#include "report_summary.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ---------------------------------------------------------------- */

struct labels {
    const char *program;
    char        pid[24];
};

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(FILE *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            fputs("\\\\", out);
        else if (*v == '"')
            fputs("\\\"", out);
        else if (*v == '\n')
            fputs("\\n", out);
        else
            fputc(*v, out);
    }
}

/* NAME{program="...",pid="..."[,EXTRA="..."]} */
static void put_series(FILE *out, const char *name, const struct labels *l,
                       const char *extra, const char *extra_value)
{
    fprintf(out, "%s{program=\"", name);
    put_label_value(out, l->program);
    fprintf(out, "\",pid=\"%s\"", l->pid);
    if (extra) {
        fprintf(out, ",%s=\"", extra);
        put_label_value(out, extra_value);
        fputc('"', out);
    }
    fputc('}', out);
}

static void put_u64(FILE *out, uint64_t v)
{
    fprintf(out, " %" PRIu64 "\n", v);
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
static void put_double(FILE *out, double v)
{
    char buf[40];
    if (!isfinite(v))
        v = 0;   /* a report's times are finite; never write NaN for one */
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fprintf(out, " %s\n", buf);
}

enum type { COUNTER, GAUGE };

/* The metadata lines of one family; name is the series name (counters:
 * with "_total"), unit "bytes", "seconds" or NULL. */
static void put_family(FILE *out, const char *name, enum type type, const char *unit,
                       const char *help)
{
    fprintf(out, "# HELP %s %s\n", name, help);
    if (type == GAUGE) {
        fprintf(out, "# TYPE %s gauge\n", name);
        if (unit)
            fprintf(out, "# UNIT %s %s\n", name, unit);
    }
}

/* ---- the process's figures ----------------------------------------------------- */

/* Families with one sample each, read from one report field (or, in
 * reports written before that field, another). A family whose field is
 * absent is left out. */
static const struct {
    const char *name;
    enum type   type;
    const char *unit;
    const char *field, *fallback;
    const char *help;
} plain[] = {
    { "memkit_alloc_calls_total", COUNTER, NULL, "totals.alloc_calls", NULL,
      "Allocating calls (malloc family)." },
    { "memkit_free_calls_total", COUNTER, NULL, "totals.free_calls", NULL,
      "Blocks freed." },
    { "memkit_alloc_bytes_total", COUNTER, NULL, "totals.alloc_bytes", NULL,
      "Bytes allocated (usable sizes)." },
    { "memkit_free_bytes_total", COUNTER, NULL, "totals.free_bytes", NULL,
      "Bytes freed (usable sizes)." },
    { "memkit_mmap_calls_total", COUNTER, NULL, "totals.mmap_calls", NULL,
      "The program's own mmap calls." },
    { "memkit_munmap_calls_total", COUNTER, NULL, "totals.munmap_calls", NULL,
      "The program's own munmap calls." },
    /* What the compaction threshold counts (memkit_notify_released too);
     * reports from before the "compaction" object have frees alone. */
    { "memkit_released_bytes_total", COUNTER, NULL, "compaction.released_bytes",
      "totals.released_bytes",
      "Bytes the program gave back (frees, realloc shrinks, memkit_notify_released)." },
    { "memkit_heap_bytes", GAUGE, "bytes", "end.heap_bytes", "totals.heap_in_use",
      "Heap in use (usable bytes)." },
    { "memkit_heap_peak_bytes", GAUGE, "bytes", "peak.heap_bytes", NULL,
      "Highest heap in use." },
    { "memkit_mmap_bytes", GAUGE, "bytes", "end.mmap_bytes", "totals.mmap_in_use",
      "The program's own maps in use." },
    { "memkit_mmap_peak_bytes", GAUGE, "bytes", "peak.mmap_bytes", NULL,
      "Highest of the program's own maps in use." },
    { "memkit_rss_bytes", GAUGE, "bytes", "end.rss_bytes", NULL,
      "Resident set size." },
    { "memkit_rss_peak_bytes", GAUGE, "bytes", "peak.rss_bytes", NULL,
      "Highest resident set size (VmHWM)." },
};

static void print_plain(FILE *out, const json_t *r, const struct labels *l)
{
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        uint64_t v;
        if (mkt_u64(r, plain[i].field, &v) < 0 &&
            (!plain[i].fallback || mkt_u64(r, plain[i].fallback, &v) < 0))
            continue;
        put_family(out, plain[i].name, plain[i].type, plain[i].unit, plain[i].help);
        put_series(out, plain[i].name, l, NULL, NULL);
        put_u64(out, v);
    }
}

static void print_compactions(FILE *out, const json_t *r, const struct labels *l)
{
    struct mkt_compaction_figs c;
    mkt_compaction_figs(r, &c);
    put_family(out, "memkit_compactions_total", COUNTER, NULL,
               "Compactions, by what triggered them.");
    for (size_t i = 0; i < c.nreasons; i++) {
        put_series(out, "memkit_compactions_total", l, "reason", c.by_reason[i].reason);
        put_u64(out, c.by_reason[i].count);
    }
    put_family(out, "memkit_compaction_returned_bytes_total", COUNTER, NULL,
               "RSS the compactions gave back to the system.");
    put_series(out, "memkit_compaction_returned_bytes_total", l, NULL, NULL);
    put_u64(out, c.returned);
    put_family(out, "memkit_compaction_seconds_total", COUNTER, NULL,
               "Time spent compacting.");
    put_series(out, "memkit_compaction_seconds_total", l, NULL, NULL);
    put_double(out, c.seconds);
}

/* One family per pool figure, one sample per pool that has it. */
static void print_pools(FILE *out, const json_t *r, const struct labels *l)
{
    static const struct {
        const char *name;
        enum type   type;
        const char *unit;
        unsigned    bit;
        size_t      at;
        const char *help;
    } fig[] = {
        { "memkit_pool_frames_in_use", GAUGE, NULL, MKT_POOL_IN_USE,
          offsetof(struct mkt_pool_figs, in_use), "Frames acquired and not yet released." },
        { "memkit_pool_frames_pooled", GAUGE, NULL, MKT_POOL_POOLED,
          offsetof(struct mkt_pool_figs, pooled), "Idle buffers the pool holds." },
        { "memkit_pool_frame_size_bytes", GAUGE, "bytes", MKT_POOL_FRAME_SIZE,
          offsetof(struct mkt_pool_figs, frame_size), "Bytes of one frame." },
        { "memkit_pool_hits_total", COUNTER, NULL, MKT_POOL_HITS,
          offsetof(struct mkt_pool_figs, hits), "Acquires served from an idle buffer." },
        { "memkit_pool_misses_total", COUNTER, NULL, MKT_POOL_MISSES,
          offsetof(struct mkt_pool_figs, misses), "Acquires that allocated a buffer." },
    };
    struct mkt_pool_figs *pools;
    size_t n = mkt_pool_figs(r, &pools);
    for (size_t f = 0; f < sizeof fig / sizeof fig[0]; f++) {
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(pools[i].have & fig[f].bit))
                continue;
            if (!any)
                put_family(out, fig[f].name, fig[f].type, fig[f].unit, fig[f].help);
            any = 1;
            put_series(out, fig[f].name, l, "pool", pools[i].label);
            put_u64(out, *(const uint64_t *)((const char *)&pools[i] + fig[f].at));
        }
    }
    free(pools);
}

static void print_process(FILE *out, const json_t *r, const struct labels *l)
{
    double v;
    if (mkt_start_unix(r, &v) == 0) {
        put_family(out, "memkit_process_start_time_seconds", GAUGE, "seconds",
                   "When the process started (Unix time).");
        put_series(out, "memkit_process_start_time_seconds", l, NULL, NULL);
        put_double(out, v);
    }
    if (mkt_num(r, "process.duration_s", &v) == 0) {
        put_family(out, "memkit_process_uptime_seconds", GAUGE, "seconds",
                   "How long the process has run (at exit: its whole run).");
        put_series(out, "memkit_process_uptime_seconds", l, NULL, NULL);
        put_double(out, v);
    }
}

void mkt_prom_print(FILE *out, const json_t *r)
{
    struct labels l = { .program = mkt_program_name(r) };
    uint64_t pid = 0;
    mkt_u64(r, "process.pid", &pid);
    snprintf(l.pid, sizeof l.pid, "%" PRIu64, pid);
    print_plain(out, r, &l);
    print_compactions(out, r, &l);
    print_pools(out, r, &l);
    print_process(out, r, &l);
    fputs("# EOF\n", out);
}
