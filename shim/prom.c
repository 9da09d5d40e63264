/* prom.c — MEMKIT_PROM's metrics text (prom.h), as docs/metrics.md lists
 * it: the same names, help texts and labels `memkit-report --prom` writes
 * from a report.
 *
 * One text that both node_exporter's textfile collector (the Prometheus
 * text format, as `promtool check metrics` reads it) and a strict
 * OpenMetrics parser accept: gauges with HELP, TYPE and UNIT; counters
 * with HELP only (the two formats disagree on which name a counter's TYPE
 * line carries); `# EOF` last. Every sample carries the labels program and
 * pid: several processes share a textfile folder. Counters are the exact
 * counts memkit keeps; gauges are read now (RSS from /proc: this runs on
 * the monitor thread, never inside the program's calls). */
#include "prom.h"
#include "compact.h"
#include "counters.h"
#include "fmt.h"
#include "frame_pool.h"
#include "log.h"
#include "monitor.h"
#include "proc_self.h"
#include "process.h"
#include "real.h"
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROM_TEXT_MAX (256 * 1024)

struct text {
    char  *buf;
    size_t len, used;   /* used may pass len: the length needed */
    char   labels[320]; /* program="...",pid="..." */
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->used < t->len ? t->len - t->used : 0;
    t->used += mk_vsnprintf(room ? t->buf + t->used : NULL, room, fmt, ap);
    va_end(ap);
}

/* A counter family: HELP only (see the banner). */
static void counter_family(struct text *t, const char *name, const char *help)
{
    put(t, "# HELP %s %s\n", name, help);
}

/* A gauge family; unit "" for none. */
static void gauge_family(struct text *t, const char *name, const char *unit, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    if (unit[0])
        put(t, "# UNIT %s %s\n", name, unit);
}

static void counter(struct text *t, const char *name, const char *help, uint64_t v)
{
    counter_family(t, name, help);
    put(t, "%s{%s} %llu\n", name, t->labels, (unsigned long long)v);
}

static void gauge(struct text *t, const char *name, const char *help, uint64_t v)
{
    gauge_family(t, name, "bytes", help);
    put(t, "%s{%s} %llu\n", name, t->labels, (unsigned long long)v);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(char *out, size_t len, const char *s)
{
    size_t n = 0;
    for (; *s && n + 3 < len; s++) {
        if (*s == '\\' || *s == '"') {
            out[n++] = '\\';
            out[n++] = *s;
        } else if (*s == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
}

#define PROM_POOLS_MAX 64

enum { FIG_IN_USE, FIG_POOLED, FIG_FRAME_SIZE, FIG_HITS, FIG_MISSES, POOL_FIGS };

static const struct {
    const char *name, *unit, *help;
    int counter;
} pool_families[POOL_FIGS] = {
    [FIG_IN_USE] = { "memkit_pool_frames_in_use", "", "Frames acquired and not yet released.", 0 },
    [FIG_POOLED] = { "memkit_pool_frames_pooled", "", "Idle buffers the pool holds.", 0 },
    [FIG_FRAME_SIZE] = { "memkit_pool_frame_size_bytes", "bytes", "Bytes of one frame.", 0 },
    [FIG_HITS] = { "memkit_pool_hits_total", "", "Acquires served from an idle buffer.", 1 },
    [FIG_MISSES] = { "memkit_pool_misses_total", "", "Acquires that allocated a buffer.", 1 },
};

struct pool_rows {
    size_t n;
    struct {
        char name[48];                /* as given, for spotting a repeat */
        char label[112];              /* escaped, made unique */
        uint64_t fig[POOL_FIGS];
    } row[PROM_POOLS_MAX];
};

static void take_pool(const struct mk_pool_info *p, void *arg)
{
    struct pool_rows *rows = arg;
    if (rows->n == PROM_POOLS_MAX)
        return;
    size_t i = rows->n++;
    memcpy(rows->row[i].name, p->name, sizeof rows->row[i].name);
    int repeated = 0;
    for (size_t k = 0; k < i && p->name[0]; k++)
        repeated |= strcmp(rows->row[k].name, p->name) == 0;
    char name[100];
    label_value(name, sizeof name, p->name);
    char *label = rows->row[i].label;
    size_t size = sizeof rows->row[i].label;
    if (!name[0])
        mk_snprintf(label, size, "#%zu", i);
    else if (repeated)
        mk_snprintf(label, size, "%s#%zu", name, i);
    else
        mk_snprintf(label, size, "%s", name);
    uint64_t *fig = rows->row[i].fig;
    fig[FIG_IN_USE] = p->stats.in_use;
    fig[FIG_POOLED] = p->stats.pooled;
    fig[FIG_FRAME_SIZE] = p->stats.frame_size;
    fig[FIG_HITS] = p->stats.hits;
    fig[FIG_MISSES] = p->stats.misses;
}

/* One sample per pool and family, labelled as the report's reader labels
 * them (docs/metrics.md: the name, or #I; a repeated name gets #I). */
static void write_pools(struct text *t)
{
    struct pool_rows *rows = mk_pages_alloc(sizeof *rows);
    if (!rows)
        return;
    rows->n = 0;
    mk_frame_pools_each(take_pool, rows, NULL);
    for (int f = 0; rows->n && f < POOL_FIGS; f++) {
        if (pool_families[f].counter)
            counter_family(t, pool_families[f].name, pool_families[f].help);
        else
            gauge_family(t, pool_families[f].name, pool_families[f].unit, pool_families[f].help);
        for (size_t i = 0; i < rows->n; i++)
            put(t, "%s{%s,pool=\"%s\"} %llu\n", pool_families[f].name, t->labels,
                rows->row[i].label, (unsigned long long)rows->row[i].fig[f]);
    }
    mk_pages_free(rows, sizeof *rows);
}

size_t mk_prom_format(char *buf, size_t len)
{
    struct text t = { buf, len, 0, "" };
    const struct mk_process *p = mk_process();
    char program[256];
    label_value(program, sizeof program, p->name);
    mk_snprintf(t.labels, sizeof t.labels, "program=\"%s\",pid=\"%ld\"", program, (long)p->pid);

    struct mk_totals tot;
    mk_counters_snapshot(&tot);
    const struct mk_map_totals *maps = &tot.map[MK_MAP_PROGRAM];
    counter(&t, "memkit_alloc_calls_total", "Allocating calls (malloc family).", tot.alloc_calls);
    counter(&t, "memkit_free_calls_total", "Blocks freed.", tot.free_calls);
    counter(&t, "memkit_alloc_bytes_total", "Bytes allocated (usable sizes).", tot.alloc_bytes);
    counter(&t, "memkit_free_bytes_total", "Bytes freed (usable sizes).", tot.free_bytes);
    counter(&t, "memkit_mmap_calls_total", "The program's own mmap calls.", maps->mmap_calls);
    counter(&t, "memkit_munmap_calls_total", "The program's own munmap calls.", maps->munmap_calls);
    counter(&t, "memkit_released_bytes_total",
            "Bytes the program gave back (frees, realloc shrinks, memkit_notify_released).",
            mk_released_total());
    gauge(&t, "memkit_heap_bytes", "Heap in use (usable bytes).", tot.heap_in_use);
    gauge(&t, "memkit_heap_peak_bytes", "Highest heap in use.", tot.heap_peak);
    gauge(&t, "memkit_mmap_bytes", "The program's own maps in use.", maps->in_use);
    gauge(&t, "memkit_mmap_peak_bytes", "Highest of the program's own maps in use.", maps->peak);
    gauge(&t, "memkit_rss_bytes", "Resident set size.", mk_proc_rss());
    gauge(&t, "memkit_rss_peak_bytes", "Highest resident set size (VmHWM).", mk_proc_rss_peak());

    struct mk_compact_totals ct;
    mk_compact_totals(&ct);
    counter_family(&t, "memkit_compactions_total", "Compactions, by what triggered them.");
    for (int r = 0; r < MK_REASON_COUNT; r++)
        put(&t, "memkit_compactions_total{%s,reason=\"%s\"} %llu\n", t.labels,
            mk_reason_name((enum mk_compact_reason)r), (unsigned long long)ct.by_reason[r]);
    counter(&t, "memkit_compaction_returned_bytes_total",
            "RSS the compactions gave back to the system.", ct.returned_bytes);
    counter_family(&t, "memkit_compaction_seconds_total", "Time spent compacting.");
    put(&t, "memkit_compaction_seconds_total{%s} %.6f\n", t.labels, (double)ct.ns / 1e9);

    write_pools(&t);

    gauge_family(&t, "memkit_process_start_time_seconds", "seconds",
                 "When the process started (Unix time).");
    put(&t, "memkit_process_start_time_seconds{%s} %.3f\n", t.labels,
        (double)p->start_unix_ns / 1e9);
    gauge_family(&t, "memkit_process_uptime_seconds", "seconds",
                 "How long the process has run (at exit: its whole run).");
    put(&t, "memkit_process_uptime_seconds{%s} %.3f\n", t.labels,
        (double)(mk_now_ns() - p->start_mono_ns) / 1e9);
    put(&t, "# EOF");   /* the file writer ends the line */
    return t.used;
}

/* The monitor writes; exit removes. A write under way when exit begins
 * finishes first (bounded wait), and none starts after. */
static int writing, ended, written;

int mk_prom_write(void)
{
    char path[PATH_MAX];
    if (mk_expand_output_path(MK_OPT_PROM, path, sizeof path) <= 0)
        return -1;
    if (__atomic_load_n(&ended, __ATOMIC_ACQUIRE) ||
        __atomic_exchange_n(&writing, 1, __ATOMIC_SEQ_CST))
        return -1;
    int saved = errno;
    char *buf = mk_pages_alloc(PROM_TEXT_MAX);
    int rc = -1;
    /* After `writing` is set (against mk_prom_at_exit's ended-then-writing,
     * both in one order): either exit waits for this write, or it is
     * skipped here. */
    if (buf && !__atomic_load_n(&ended, __ATOMIC_SEQ_CST)) {
        size_t n = mk_prom_format(buf, PROM_TEXT_MAX);
        if (n >= PROM_TEXT_MAX)
            mk_log(MK_LOG_INFO, "MEMKIT_PROM: the metrics passed %u bytes", PROM_TEXT_MAX);
        else if ((rc = mk_put_file(path, buf, n)) < 0)
            mk_log(MK_LOG_INFO, "MEMKIT_PROM %s not written: %s", path, strerrorname_np(errno));
        else
            __atomic_store_n(&written, 1, __ATOMIC_RELEASE);
    }
    mk_pages_free(buf, PROM_TEXT_MAX);
    __atomic_store_n(&writing, 0, __ATOMIC_RELEASE);
    errno = saved;
    return rc;
}

void mk_prom_at_exit(void)
{
    /* No write starts after this; one under way is waited for before
     * `written` is looked at (its rename may still be to come). */
    __atomic_store_n(&ended, 1, __ATOMIC_SEQ_CST);
    for (int ms = 0; __atomic_load_n(&writing, __ATOMIC_SEQ_CST) && ms < 2000; ms++) {
        struct timespec one = { 0, 1000000 };
        nanosleep(&one, NULL);
    }
    if (!__atomic_load_n(&written, __ATOMIC_ACQUIRE))
        return;
    int saved = errno;
    char path[PATH_MAX];
    if (mk_expand_output_path(MK_OPT_PROM, path, sizeof path) > 0)
        unlink(path);
    errno = saved;
}

void mk_prom_after_fork_child(void)
{
    writing = 0;   /* the parent's monitor is gone; the child's file is its own */
    written = 0;
    ended = 0;
}
