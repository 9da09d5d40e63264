/* report_summary.c — a report as text a person reads in ten seconds:
 * who ran, how long, how high memory went, what was called, what was
 * configured differently, what went wrong. Everything read from the file
 * is printed with control characters replaced, since a report is data
 * from another process. */
#include "report_summary.h"
#include "report_get.h"
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
        int n = snprintf(item, sizeof item, "%s %s", kind, mkt_count(c, sizeof c, calls));
        if (mkt_u64(k, "bytes", &bytes) == 0)
            n += snprintf(item + n, sizeof item - (size_t)n, " (%s)", mkt_bytes(b, sizeof b, bytes));
        if (col == 0) {
            label(out, "by kind");
            col = LABEL_WIDTH;
        } else if (col + 2 + (size_t)n > LINE_WIDTH) {
            fputs(",\n", out);
            indent(out);
            col = LABEL_WIDTH;
        } else {
            fputs(", ", out);
            col += 2;
        }
        put_text(out, item);
        col += (size_t)n;
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
        free(dumped);
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

/* Sections that are still empty in this version of the format: a count
 * when a report has entries, nothing otherwise. */
static void print_counts(FILE *out, const json_t *r)
{
    static const char *const sections[] = {
        "compactions", "probes", "sites", "pools", "timeline",
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
    print_counts(out, r);
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
