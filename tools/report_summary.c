/* report_summary.c — a report as text a person reads in ten seconds:
 * who ran, how long, how high memory went, what was called, what was
 * configured differently, what went wrong. Everything read from the file
 * is printed with control characters replaced, since a report is data
 * from another process. */
#include "report_summary.h"
#include "report_get.h"
#include "report_timeline.h"
#include "units.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

#define LABEL_WIDTH 12
#define LINE_WIDTH  78
#define ARGV_MAX    200   /* characters of the command line shown */

/* ---- printing text from the report ------------------------------------ */

static void put_text(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* An argument as a shell would need it: bare when it is plain, otherwise
 * in single quotes. Returns the characters written. */
static size_t put_arg(FILE *out, const char *a)
{
    int plain = *a != '\0';
    for (const char *p = a; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789-_./=:,+@%", *p))
            plain = 0;
    if (plain) {
        put_text(out, a);
        return strlen(a);
    }
    size_t n = 2;
    fputc('\'', out);
    for (const char *p = a; *p; p++, n++) {
        if (*p == '\'') {
            fputs("'\\''", out);
            n += 3;
        } else {
            fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, out);
        }
    }
    fputc('\'', out);
    return n;
}

static void label(FILE *out, const char *name)
{
    fprintf(out, "%-*s", LABEL_WIDTH, name);
}

static void indent(FILE *out)
{
    fprintf(out, "%*s", LABEL_WIDTH, "");
}

/* ---- sections ------------------------------------------------------------ */

const char *mkt_program_name(const json_t *r)
{
    const char *name = mkt_str(r, "process.name");
    if (name && *name)
        return name;
    const char *exe = mkt_str(r, "process.exe");
    if (!exe || !*exe) {
        json_t *argv0 = json_array_get(mkt_at(r, "process.argv"), 0);
        exe = json_is_string(argv0) ? json_string_value(argv0) : NULL;
    }
    if (!exe || !*exe)
        return "?";
    const char *slash = strrchr(exe, '/');
    return slash && slash[1] ? slash + 1 : exe;
}

static void print_process(FILE *out, const json_t *r)
{
    char b[MKT_UNIT_BUF];
    uint64_t pid = 0, ppid;
    double dur = -1;
    mkt_u64(r, "process.pid", &pid);
    mkt_num(r, "process.duration_s", &dur);

    label(out, "program");
    put_text(out, mkt_program_name(r));
    fprintf(out, ", pid %llu", (unsigned long long)pid);
    if (mkt_u64(r, "process.ppid", &ppid) == 0)
        fprintf(out, " (parent %llu)", (unsigned long long)ppid);
    fprintf(out, ", ran %s", mkt_duration(b, sizeof b, dur));
    const char *start = mkt_str(r, "process.start");
    if (start && *start) {
        fputs(", started ", out);
        put_text(out, start);
    }
    fputc('\n', out);

    json_t *argv = mkt_at(r, "process.argv");
    size_t n = json_array_size(argv);
    if (n > 0) {
        label(out, "command");
        size_t shown = 0, i;
        for (i = 0; i < n && shown < ARGV_MAX; i++) {
            json_t *a = json_array_get(argv, i);
            if (i)
                fputc(' ', out);
            shown += 1 + put_arg(out, json_is_string(a) ? json_string_value(a) : "?");
        }
        if (i < n)
            fprintf(out, " ... (%zu more arguments)", n - i);
        fputc('\n', out);
    }
    const char *exe = mkt_str(r, "process.exe");
    if (exe && *exe) {
        label(out, "exe");
        put_text(out, exe);
        fputc('\n', out);
    }
}

/* "heap 4.88 KiB, RSS 4.00 MiB, maps 1.00 MiB" from one of peak / end. */
static void print_levels(FILE *out, const json_t *r, const char *section, const char *name)
{
    json_t *s = mkt_at(r, section);
    if (!json_is_object(s))
        return;
    static const struct { const char *key, *what; } k[] = {
        { "heap_bytes", "heap" }, { "rss_bytes", "RSS" }, { "mmap_bytes", "maps" },
    };
    int any = 0;
    for (size_t i = 0; i < 3; i++) {
        uint64_t v;
        char b[MKT_UNIT_BUF];
        if (mkt_u64(s, k[i].key, &v) < 0)
            continue;
        if (!any)
            label(out, name);
        fprintf(out, "%s%s %s", any ? ", " : "", k[i].what, mkt_bytes(b, sizeof b, v));
        any = 1;
    }
    if (any)
        fputc('\n', out);
}

static void print_calls(FILE *out, const json_t *r)
{
    char c[MKT_UNIT_BUF], b[MKT_UNIT_BUF];
    uint64_t v = 0, w = 0;

    mkt_u64(r, "totals.alloc_calls", &v);
    mkt_u64(r, "totals.alloc_bytes", &w);
    label(out, "allocs");
    fprintf(out, "%s calls, %s", mkt_count(c, sizeof c, v), mkt_bytes(b, sizeof b, w));
    if (mkt_u64(r, "totals.requested_bytes", &v) == 0)
        fprintf(out, " (%s requested)", mkt_bytes(b, sizeof b, v));
    if (mkt_u64(r, "totals.failures", &v) == 0)
        fprintf(out, ", %s failed", mkt_count(c, sizeof c, v));
    fputc('\n', out);

    mkt_u64(r, "totals.free_calls", &v);
    mkt_u64(r, "totals.free_bytes", &w);
    label(out, "frees");
    fprintf(out, "%s calls, %s\n", mkt_count(c, sizeof c, v), mkt_bytes(b, sizeof b, w));

    /* Only the functions the program used, wrapped to the line width. */
    json_t *kinds = mkt_at(r, "totals.by_kind");
    const char *kind;
    json_t *k;
    size_t col = 0;
    json_object_foreach(kinds, kind, k) {
        uint64_t calls, bytes;
        if (mkt_u64(k, "calls", &calls) < 0 || calls == 0)
            continue;
        char item[160];
        /* A kind name is the file's to choose: a long one is cut here. */
        if (mkt_u64(k, "bytes", &bytes) == 0)
            snprintf(item, sizeof item, "%.100s %s (%s)", kind, mkt_count(c, sizeof c, calls),
                     mkt_bytes(b, sizeof b, bytes));
        else
            snprintf(item, sizeof item, "%.100s %s", kind, mkt_count(c, sizeof c, calls));
        size_t n = strlen(item);
        if (col == 0) {
            label(out, "by kind");
            col = LABEL_WIDTH;
        } else if (col + 2 + n > LINE_WIDTH) {
            fputs(",\n", out);
            indent(out);
            col = LABEL_WIDTH;
        } else {
            fputs(", ", out);
            col += 2;
        }
        put_text(out, item);
        col += n;
    }
    if (col)
        fputc('\n', out);
}

static void print_maps(FILE *out, const json_t *r)
{
    char c1[MKT_UNIT_BUF], c2[MKT_UNIT_BUF], b[MKT_UNIT_BUF];
    uint64_t calls = 0, unmaps = 0, bytes = 0, v;
    mkt_u64(r, "totals.mmap_calls", &calls);
    mkt_u64(r, "totals.munmap_calls", &unmaps);
    mkt_u64(r, "totals.mmap_bytes", &bytes);
    label(out, "maps");
    fprintf(out, "program %s mmap (%s), %s munmap", mkt_count(c1, sizeof c1, calls),
            mkt_bytes(b, sizeof b, bytes), mkt_count(c2, sizeof c2, unmaps));
    /* mremap growth is not in mmap_bytes: say there was some. */
    if (mkt_u64(r, "totals.mremap_calls", &v) == 0 && v)
        fprintf(out, ", %s mremap", mkt_count(c1, sizeof c1, v));
    fputc('\n', out);

    json_t *am = mkt_at(r, "totals.allocator_maps");
    if (!json_is_object(am))
        return;
    calls = unmaps = bytes = 0;
    mkt_u64(am, "mmap_calls", &calls);
    mkt_u64(am, "munmap_calls", &unmaps);
    mkt_u64(am, "mmap_bytes", &bytes);
    indent(out);
    if (calls == 0) {
        fputs("allocator none\n", out);
        return;
    }
    fprintf(out, "allocator %s mmap (%s), %s munmap", mkt_count(c1, sizeof c1, calls),
            mkt_bytes(b, sizeof b, bytes), mkt_count(c2, sizeof c2, unmaps));
    if (mkt_u64(am, "peak", &v) == 0)
        fprintf(out, ", peak %s", mkt_bytes(b, sizeof b, v));
    fputc('\n', out);
}

static void print_allocator(FILE *out, const json_t *r)
{
    char b[MKT_UNIT_BUF];
    uint64_t v = 0;
    mkt_u64(r, "totals.released_bytes", &v);
    label(out, "released");
    fprintf(out, "%s given back by free and realloc\n", mkt_bytes(b, sizeof b, v));

    const char *name = mkt_str(r, "allocator.name");
    if (!name || !*name)
        return;
    label(out, "allocator");
    put_text(out, name);
    const char *path = mkt_str(r, "allocator.path");
    if (path && *path) {
        fputs(" (", out);
        put_text(out, path);
        fputc(')', out);
    }
    /* How compaction gives memory back; absent in reports from before the
     * defragmenter. */
    const char *call = mkt_str(r, "allocator.release_call");
    if (call && strcmp(call, "none") == 0) {
        fputs(", no release call", out);
    } else if (call && *call) {
        fputs(", releases with ", out);
        put_text(out, call);
    }
    fputc('\n', out);
}

/* Is an absolute path template the relative default taken from the folder
 * the process started in (what `memkit run` passes)? The folder's own '%'
 * are doubled in a template. */
static int default_from_cwd(const char *value, const char *def, const char *cwd)
{
    if (!cwd || cwd[0] != '/' || value[0] != '/' || def[0] == '/')
        return 0;
    for (; *cwd; cwd++) {
        if (*value++ != *cwd)
            return 0;
        if (*cwd == '%' && *value++ != '%')
            return 0;
    }
    if (value[-1] != '/' && *value++ != '/')
        return 0;
    return strcmp(value, def) == 0;
}

/* Does this effective value differ from the option's default? Compared in
 * canonical form ("524288000" and "500M" are the same size). */
static int differs(const json_t *r, int idx, const char *value)
{
    const struct mk_option_info *o = &mk_options[idx];
    struct mk_opt_value a, d;
    if (mk_parse_value(o->type, value, &a) < 0 || mk_parse_value(o->type, o->def, &d) < 0)
        return strcmp(value, o->def) != 0;
    if (o->type == MK_TYPE_PATH && default_from_cwd(a.text, d.text, mkt_str(r, "process.cwd")))
        return 0;
    return strcmp(a.text, d.text) != 0;
}

static void print_config(FILE *out, const json_t *r)
{
    json_t *config = mkt_at(r, "config");
    const char *name;
    json_t *v;
    int first = 1;
    json_object_foreach(config, name, v) {
        /* The run id is a tag `memkit run` always sets, not a setting. */
        if (strcmp(name, "MEMKIT_RUN_ID") == 0)
            continue;
        char *dumped = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        const char *value = dumped ? dumped : json_is_string(v) ? json_string_value(v) : "?";
        int idx = mk_option_find(name);
        if (idx < 0 || differs(r, idx, value)) {
            first ? label(out, "config") : indent(out);
            first = 0;
            put_text(out, name);
            fputc('=', out);
            put_text(out, value);
            if (idx < 0) {
                fputs(" (an option this memkit-report does not know)", out);
            } else {
                fputs(" (default ", out);
                put_text(out, *mk_options[idx].def ? mk_options[idx].def : "empty");
                fputc(')', out);
            }
            fputc('\n', out);
        }
        mkt_json_free(dumped);
    }
}

static void print_warnings(FILE *out, const json_t *r)
{
    json_t *w = mkt_at(r, "warnings");
    size_t n = json_array_size(w);
    if (n == 0)
        return;
    label(out, "warnings");
    fprintf(out, "%zu\n", n);
    size_t i;
    json_t *item;
    json_array_foreach(w, i, item) {
        const char *text = json_is_string(item) ? json_string_value(item) : mkt_str(item, "text");
        indent(out);
        put_text(out, text ? text : "?");
        fputc('\n', out);
    }
}

/* ---- compactions ---------------------------------------------------------- */

#define COMPACT_ROWS   5                  /* the last few listed in the summary */
#define RELEASED_LARGE (64ull << 20)      /* MEMKIT_THREAD_MIN's default: below it,
                                             no compaction is expected */

static const char *const known_reasons[] = { "threshold", "interval", "pressure", "manual" };

/* The figures of the "compaction" object; for a report written before it
 * existed, what the "compactions" list gives. */
struct compact_totals {
    uint64_t count, returned;
    double seconds, longest;
    json_t *by_reason;   /* owned: reason -> count */
};

static uint64_t entry_returned(const json_t *e)
{
    uint64_t v, before = 0, after = 0;
    if (mkt_u64(e, "returned_bytes", &v) == 0)
        return v;
    mkt_u64(e, "rss_before", &before);
    mkt_u64(e, "rss_after", &after);
    return before > after ? before - after : 0;
}

static void compact_totals(const json_t *r, struct compact_totals *t)
{
    json_t *list = mkt_at(r, "compactions");
    json_t *c = mkt_at(r, "compaction");
    size_t i;
    json_t *e;
    memset(t, 0, sizeof *t);
    t->by_reason = json_object();
    /* From the list: exact when nothing was dropped, the fallback for old reports. */
    json_array_foreach(list, i, e) {
        double sec = 0;
        t->returned += entry_returned(e);
        if (mkt_num(e, "seconds", &sec) == 0 && sec > 0) {
            t->seconds += sec;
            if (sec > t->longest)
                t->longest = sec;
        }
        const char *reason = mkt_str(e, "reason");
        if (!reason)
            reason = "?";
        json_t *n = json_object_get(t->by_reason, reason);
        json_object_set_new(t->by_reason, reason,
                            json_integer(n ? json_integer_value(n) + 1 : 1));
    }
    t->count = json_array_size(list);
    if (!json_is_object(c))
        return;
    uint64_t count;
    if (mkt_u64(c, "count", &count) == 0 && count >= t->count)
        t->count = count;
    mkt_u64(c, "returned_bytes", &t->returned);
    mkt_num(c, "seconds", &t->seconds);
    mkt_num(c, "max_seconds", &t->longest);
    json_t *by = mkt_at(c, "by_reason");
    if (json_is_object(by)) {
        json_decref(t->by_reason);
        t->by_reason = json_deep_copy(by);
    }
}

/* "3 threshold, 1 pressure": the known reasons in their order, then any
 * other the report names. */
static void print_reasons(FILE *out, const json_t *by_reason)
{
    const char *sep = ": ";
    for (size_t i = 0; i < sizeof known_reasons / sizeof known_reasons[0]; i++) {
        uint64_t n;
        if (mkt_u64(by_reason, known_reasons[i], &n) == 0 && n) {
            fprintf(out, "%s%llu %s", sep, (unsigned long long)n, known_reasons[i]);
            sep = ", ";
        }
    }
    const char *reason;
    json_t *v;
    json_object_foreach((json_t *)by_reason, reason, v) {
        int known = 0;
        for (size_t i = 0; i < sizeof known_reasons / sizeof known_reasons[0]; i++)
            known |= strcmp(reason, known_reasons[i]) == 0;
        if (known || !json_is_integer(v) || json_integer_value(v) <= 0)
            continue;
        fprintf(out, "%s%lld ", sep, (long long)json_integer_value(v));
        put_text(out, reason);
        sep = ", ";
    }
}

static void print_compaction_row(FILE *out, const json_t *e)
{
    char at[MKT_UNIT_BUF], b1[MKT_UNIT_BUF], b2[MKT_UNIT_BUF], b3[MKT_UNIT_BUF];
    double t = -1, sec = -1;
    uint64_t before = 0, after = 0;
    mkt_num(e, "t_s", &t);
    mkt_num(e, "seconds", &sec);
    mkt_u64(e, "rss_before", &before);
    mkt_u64(e, "rss_after", &after);
    char reason[16];
    const char *rs = mkt_str(e, "reason");
    snprintf(reason, sizeof reason, "%s", rs ? rs : "?");
    for (char *p = reason; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    char ms[MKT_UNIT_BUF];
    if (!(sec >= 0))
        snprintf(ms, sizeof ms, "?");
    else
        snprintf(ms, sizeof ms, sec < 0.01 ? "%.1f" : "%.0f", sec * 1e3);
    indent(out);
    fprintf(out, "%8s  %-9s  %8s -> %-8s  %8s  %7s\n", mkt_duration(at, sizeof at, t), reason,
            mkt_bytes(b1, sizeof b1, before), mkt_bytes(b2, sizeof b2, after),
            mkt_bytes(b3, sizeof b3, entry_returned(e)), ms);
}

/* No compaction although the program gave much back: say what may be why. */
static void print_no_compaction(FILE *out, const json_t *r)
{
    json_t *c = mkt_at(r, "compaction");
    char b[MKT_UNIT_BUF];
    uint64_t released = 0, since = 0, skipped = 0, threshold = 0;
    if (mkt_u64(c, "released_bytes", &released) < 0)
        mkt_u64(r, "totals.released_bytes", &released);
    if (mkt_u64(c, "released_since_compact", &since) < 0)
        since = released;
    mkt_u64(c, "backoff_skipped", &skipped);
    const char *tv = mkt_str(r, "config.MEMKIT_COMPACT_THRESHOLD");
    int have_threshold = tv && mk_parse_size(tv, &threshold) == 0;
    if (released < RELEASED_LARGE && !(have_threshold && threshold && released >= threshold))
        return;

    label(out, "compactions");
    fprintf(out, "none ran: %s released", mkt_bytes(b, sizeof b, since));
    json_t *thread = mkt_at(c, "monitor_thread");
    if (have_threshold && threshold == 0) {
        fputs(", MEMKIT_COMPACT_THRESHOLD is off\n", out);
    } else if (have_threshold && since < threshold) {
        fputs(", under MEMKIT_COMPACT_THRESHOLD=", out);
        put_text(out, tv);
        fputc('\n', out);
    } else if (skipped) {
        fprintf(out, ", %llu skipped (recent ones returned little)\n",
                (unsigned long long)skipped);
    } else if (json_is_false(thread)) {
        fputs(", but memkit's monitor thread never started\n", out);
    } else {
        if (have_threshold) {
            fputs(", over MEMKIT_COMPACT_THRESHOLD=", out);
            put_text(out, tv);
        }
        fputs(";\n", out);
        indent(out);
        fputs("the process may have ended before the monitor thread acted\n", out);
    }
}

static void print_compactions(FILE *out, const json_t *r)
{
    struct compact_totals t;
    char b[MKT_UNIT_BUF], d1[MKT_UNIT_BUF], d2[MKT_UNIT_BUF], c[MKT_UNIT_BUF];
    compact_totals(r, &t);
    if (t.count == 0) {
        json_decref(t.by_reason);
        /* Only a report from a memkit with a defragmenter can say why. */
        if (json_is_object(mkt_at(r, "compaction")))
            print_no_compaction(out, r);
        return;
    }
    label(out, "compactions");
    fputs(mkt_count(c, sizeof c, t.count), out);
    print_reasons(out, t.by_reason);
    fputc('\n', out);
    json_decref(t.by_reason);

    indent(out);
    fprintf(out, "returned %s, %s in all, longest %s\n", mkt_bytes(b, sizeof b, t.returned),
            mkt_duration(d1, sizeof d1, t.seconds), mkt_duration(d2, sizeof d2, t.longest));
    uint64_t v;
    if (mkt_u64(r, "compaction.backoff_skipped", &v) == 0 && v) {
        indent(out);
        fprintf(out, "%s automatic ones skipped: recent ones returned little\n",
                mkt_count(c, sizeof c, v));
    }
    if (mkt_u64(r, "compaction.dropped", &v) == 0 && v) {
        indent(out);
        fprintf(out, "%s not listed in the report (it keeps the first 64 and the last 192)\n",
                mkt_count(c, sizeof c, v));
    }

    json_t *list = mkt_at(r, "compactions");
    size_t n = json_array_size(list);
    if (n == 0)
        return;
    size_t first = n > COMPACT_ROWS ? n - COMPACT_ROWS : 0;
    indent(out);
    fprintf(out, "%8s  %-9s  %-20s  %8s  %7s\n", "at", "reason", "RSS before -> after",
            "returned", "ms");
    if (t.count > n - first) {
        indent(out);
        fprintf(out, "... %s more\n", mkt_count(c, sizeof c, t.count - (n - first)));
    }
    for (size_t i = first; i < n; i++)
        print_compaction_row(out, json_array_get(list, i));
}

/* ---- probes and checkpoints ------------------------------------------------ */

#define PROBE_ROWS 10   /* the labels listed, most time first */

static int64_t entry_i64(const json_t *e, const char *key)
{
    json_t *v = json_object_get(e, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static double entry_num(const json_t *e, const char *key)
{
    double v = 0;
    mkt_num(e, key, &v);
    return v;
}

/* A signed byte figure: "-1.2 MiB". */
static const char *signed_bytes(char *buf, size_t len, int64_t v)
{
    char b[MKT_UNIT_BUF];
    mkt_bytes(b, sizeof b, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    snprintf(buf, len, "%s%s", v < 0 ? "-" : "", b);
    return buf;
}

static int by_seconds(const void *a, const void *b)
{
    double x = entry_num(*(json_t *const *)a, "seconds_total");
    double y = entry_num(*(json_t *const *)b, "seconds_total");
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Label, cut to width, control characters replaced. */
static void put_label(FILE *out, const json_t *e, int width)
{
    const char *l = mkt_str(e, "label");
    char shown[64];
    snprintf(shown, sizeof shown, "%.*s", width, l ? l : "?");
    for (char *p = shown; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    fprintf(out, "%-*s", width, shown);
}

static void print_probes(FILE *out, const json_t *r)
{
    json_t *list = mkt_at(r, "probes");
    size_t n = json_array_size(list);
    if (n == 0)
        return;
    json_t **rows = calloc(n, sizeof *rows);
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++)
        rows[i] = json_array_get(list, i);
    qsort(rows, n, sizeof *rows, by_seconds);
    label(out, "probes");
    fprintf(out, "%zu %s\n", n, n == 1 ? "label" : "labels");
    indent(out);
    fprintf(out, "%-14s %-8s %6s %7s %7s %9s %9s\n", "label", "level", "count", "total",
            "max", "growth", "peak");
    for (size_t i = 0; i < n && i < PROBE_ROWS; i++) {
        const json_t *e = rows[i];
        char c[MKT_UNIT_BUF], d1[MKT_UNIT_BUF], d2[MKT_UNIT_BUF], g[MKT_UNIT_BUF + 1],
             p[MKT_UNIT_BUF];
        uint64_t count = 0, peak = 0;
        mkt_u64(e, "count", &count);
        mkt_u64(e, "peak_max", &peak);
        const char *lv = mkt_str(e, "level");
        indent(out);
        put_label(out, e, 14);
        fprintf(out, " %-8.8s %6s %7s %7s %9s %9s\n", lv && !strpbrk(lv, "\n\r\t") ? lv : "?",
                mkt_count(c, sizeof c, count),
                mkt_duration(d1, sizeof d1, entry_num(e, "seconds_total")),
                mkt_duration(d2, sizeof d2, entry_num(e, "seconds_max")),
                signed_bytes(g, sizeof g, entry_i64(e, "growth_total")),
                mkt_bytes(p, sizeof p, peak));
    }
    if (n > PROBE_ROWS) {
        indent(out);
        fprintf(out, "... %zu more\n", n - PROBE_ROWS);
    }
    free(rows);
}

static void print_checkpoints(FILE *out, const json_t *r)
{
    json_t *list = mkt_at(r, "checkpoints");
    size_t n = json_array_size(list);
    if (n == 0)
        return;
    label(out, "checkpoints");
    fprintf(out, "%zu %s\n", n, n == 1 ? "label" : "labels");
    indent(out);
    fprintf(out, "%-14s %6s %7s %7s %8s %8s %8s\n", "label", "count", "first", "last",
            "RSS min", "RSS max", "RSS last");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        if (i == PROBE_ROWS) {
            indent(out);
            fprintf(out, "... %zu more\n", n - PROBE_ROWS);
            break;
        }
        char c[MKT_UNIT_BUF], d1[MKT_UNIT_BUF], d2[MKT_UNIT_BUF], b1[MKT_UNIT_BUF],
             b2[MKT_UNIT_BUF], b3[MKT_UNIT_BUF];
        uint64_t count = 0, lo = 0, hi = 0, last = 0;
        mkt_u64(e, "count", &count);
        mkt_u64(e, "rss_min", &lo);
        mkt_u64(e, "rss_max", &hi);
        mkt_u64(e, "rss_last", &last);
        indent(out);
        put_label(out, e, 14);
        fprintf(out, " %6s %7s %7s %8s %8s %8s\n", mkt_count(c, sizeof c, count),
                mkt_duration(d1, sizeof d1, entry_num(e, "first_t_s")),
                mkt_duration(d2, sizeof d2, entry_num(e, "last_t_s")),
                mkt_bytes(b1, sizeof b1, lo), mkt_bytes(b2, sizeof b2, hi),
                mkt_bytes(b3, sizeof b3, last));
    }
}

/* The frame pools (one line each), rings and mapping caches. */
static void print_pools(FILE *out, const json_t *r)
{
    const json_t *pools = mkt_at(r, "pools");
    char a[MKT_UNIT_BUF], b[MKT_UNIT_BUF], c[MKT_UNIT_BUF];
    if (json_array_size(pools)) {
        label(out, "pools");
        fprintf(out, "%-14s %9s %5s %5s %5s %6s %9s %7s %7s\n", "name", "frame", "out", "peak",
                "idle", "alloc", "hits", "misses", "refused");
        size_t i;
        const json_t *e;
        json_array_foreach(pools, i, e) {
            uint64_t v[8] = { 0 };
            static const char *const keys[] = { "frame_size", "in_use", "peak_in_use", "pooled",
                                                "allocated", "hits", "misses", "refused" };
            for (size_t k = 0; k < 8; k++)
                mkt_u64(e, keys[k], &v[k]);
            const char *name = mkt_str(e, "name");
            char id[32];
            if (!name || !name[0]) {
                uint64_t n = 0;
                mkt_u64(e, "id", &n);
                snprintf(id, sizeof id, "#%llu", (unsigned long long)n);
                name = id;
            }
            indent(out);
            fprintf(out, "%-14.14s %9s %5llu %5llu %5llu %6llu %9s %7s %7llu%s\n", name,
                    mkt_bytes(a, sizeof a, v[0]), (unsigned long long)v[1],
                    (unsigned long long)v[2], (unsigned long long)v[3],
                    (unsigned long long)v[4], mkt_count(b, sizeof b, v[5]),
                    mkt_count(c, sizeof c, v[6]), (unsigned long long)v[7],
                    json_is_true(json_object_get(e, "retired")) ? "  (gone)"
                    : json_is_true(json_object_get(e, "destroyed")) ? "  (destroyed)" : "");
        }
    }
    size_t i;
    const json_t *e;
    json_array_foreach(mkt_at(r, "rings"), i, e) {
        uint64_t cap = 0, size = 0, written = 0, bytes = 0;
        mkt_u64(e, "capacity", &cap);
        mkt_u64(e, "frame_size", &size);
        mkt_u64(e, "written", &written);
        mkt_u64(e, "bytes", &bytes);
        const char *backing = mkt_str(e, "backing");
        label(out, i ? "" : "rings");
        fprintf(out, "%llu frames of %s, %s written, %s shared (%s)\n", (unsigned long long)cap,
                mkt_bytes(a, sizeof a, size), mkt_count(b, sizeof b, written),
                mkt_bytes(c, sizeof c, bytes), backing ? backing : "?");
    }
    json_array_foreach(mkt_at(r, "map_caches"), i, e) {
        uint64_t maps = 0, mapped = 0, hits = 0, misses = 0, evictions = 0, trunc = 0;
        mkt_u64(e, "mappings", &maps);
        mkt_u64(e, "mapped_bytes", &mapped);
        mkt_u64(e, "hits", &hits);
        mkt_u64(e, "misses", &misses);
        mkt_u64(e, "evictions", &evictions);
        mkt_u64(e, "truncations", &trunc);
        label(out, i ? "" : "map caches");
        fprintf(out, "%llu mappings, %s; %s hits, %s misses, %llu evictions, %llu truncated pages\n",
                (unsigned long long)maps, mkt_bytes(a, sizeof a, mapped),
                mkt_count(b, sizeof b, hits), mkt_count(c, sizeof c, misses),
                (unsigned long long)evictions, (unsigned long long)trunc);
    }
}

/* Sections shown elsewhere in full: a count when a report has entries,
 * nothing otherwise. */
static void print_counts(FILE *out, const json_t *r)
{
    static const char *const sections[] = {
        "sites",
    };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        size_t n = json_array_size(mkt_at(r, sections[i]));
        if (n == 0)
            continue;
        label(out, sections[i]);
        fprintf(out, "%zu %s\n", n, n == 1 ? "entry" : "entries");
    }
}

void mkt_summary_print(FILE *out, const json_t *r, const char *path,
                       const struct mkt_summary_opts *opts)
{
    (void)opts;   /* --top applies to the sites listing, which has no layout yet */
    label(out, "report");
    put_text(out, path);
    const char *kind = mkt_str(r, "kind");
    int snapshot = kind && strcmp(kind, "snapshot") == 0;
    if (snapshot)
        fputs(" (a snapshot written while the process ran)", out);
    fputc('\n', out);
    print_process(out, r);
    print_levels(out, r, "peak", "peaks");
    print_levels(out, r, "end", snapshot ? "at snapshot" : "at exit");
    print_calls(out, r);
    print_maps(out, r);
    print_allocator(out, r);
    print_config(out, r);
    print_warnings(out, r);
    print_compactions(out, r);
    print_probes(out, r);
    print_checkpoints(out, r);
    print_pools(out, r);
    print_counts(out, r);
    mkt_timeline_summary_line(out, r, LABEL_WIDTH, LINE_WIDTH);
}

void mkt_summary_line(FILE *out, const json_t *r, const char *path, int name_width)
{
    char d[MKT_UNIT_BUF], h[MKT_UNIT_BUF], c[MKT_UNIT_BUF];
    uint64_t pid = 0, heap = 0, calls = 0;
    double dur = -1;
    mkt_u64(r, "process.pid", &pid);
    mkt_num(r, "process.duration_s", &dur);
    mkt_u64(r, "peak.heap_bytes", &heap);
    mkt_u64(r, "totals.alloc_calls", &calls);
    const char *name = mkt_program_name(r);
    fputs("  ", out);
    put_text(out, name);
    int pad = name_width - (int)strlen(name);
    fprintf(out, "%*s  pid %-7llu %9s  heap peak %10s  %s allocs  ", pad > 0 ? pad : 0, "",
            (unsigned long long)pid, mkt_duration(d, sizeof d, dur),
            mkt_bytes(h, sizeof h, heap), mkt_count(c, sizeof c, calls));
    put_text(out, path);
    fputc('\n', out);
}
