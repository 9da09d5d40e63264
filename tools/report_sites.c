/* report_sites.c — call site views (see report_sites.h). */
#include "report_sites.h"
#include "report_get.h"
#include "symbolize.h"
#include "units.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CALLERS_SHOWN 3
#define LINE_WIDTH    100   /* the summary's one-line rows */

struct site {
    const json_t *frames;
    uint64_t bytes, calls, live, peak, samples;
};

static uint64_t u64_of(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (json_is_integer(v) && json_integer_value(v) > 0)
        return (uint64_t)json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) > 0)
        return (uint64_t)json_real_value(v);
    return 0;
}

static size_t load_sites(const json_t *report, struct site **out)
{
    const json_t *arr = mkt_at(report, "sites");
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    *out = NULL;
    if (!n)
        return 0;
    struct site *v = calloc(n, sizeof *v);
    if (!v)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(arr, i);
        v[i].frames = json_object_get(s, "frames");
        v[i].bytes = u64_of(s, "alloc_bytes_est");
        v[i].calls = u64_of(s, "alloc_calls_est");
        v[i].live = u64_of(s, "live_bytes_est");
        v[i].peak = u64_of(s, "peak_live_bytes_est");
        v[i].samples = u64_of(s, "samples");
    }
    *out = v;
    return n;
}

static void frame_of(struct mkt_symbolizer *sym, const json_t *frames, size_t i,
                     struct mkt_frame_info *f)
{
    const json_t *fr = json_array_get(frames, i);
    const json_t *m = json_object_get(fr, "module");
    const json_t *o = json_object_get(fr, "offset");
    mkt_sym_frame(sym, json_is_integer(m) ? json_integer_value(m) : -1,
                  json_is_integer(o) ? (uint64_t)json_integer_value(o) : 0, f);
}

/* ---- top tables ------------------------------------------------------------ */

enum field { F_BYTES, F_CALLS, F_LIVE, F_PEAK };

static uint64_t get(const struct site *s, enum field f)
{
    switch (f) {
    case F_BYTES: return s->bytes;
    case F_CALLS: return s->calls;
    case F_LIVE:  return s->live;
    case F_PEAK:  return s->peak;
    }
    return 0;
}

static enum field sort_field;

static int by_field(const void *a, const void *b)
{
    uint64_t x = get(*(struct site *const *)a, sort_field);
    uint64_t y = get(*(struct site *const *)b, sort_field);
    return x < y ? 1 : x > y ? -1 : 0;
}

static void print_site(FILE *out, struct mkt_symbolizer *sym, int rank, const struct site *s)
{
    char b[MKT_UNIT_BUF], c[MKT_UNIT_BUF], l[MKT_UNIT_BUF], text[600];
    size_t depth = json_array_size(s->frames);
    fprintf(out, "  %3d. %10s %12s calls  live %10s  ", rank,
            mkt_bytes(b, sizeof b, s->bytes), mkt_count(c, sizeof c, s->calls),
            mkt_bytes(l, sizeof l, s->live));
    if (!depth) {
        fputs("[other stacks]\n", out);
        return;
    }
    struct mkt_frame_info f;
    frame_of(sym, s->frames, 0, &f);
    fprintf(out, "%s\n", mkt_frame_text(&f, text, sizeof text));
    for (size_t i = 1; i < depth && i <= CALLERS_SHOWN; i++) {
        frame_of(sym, s->frames, i, &f);
        fprintf(out, "%27s<- %s\n", "", mkt_frame_text(&f, text, sizeof text));
    }
}

/* The same on one line: the leaf with its file:line, its callers by
 * name, cut at LINE_WIDTH ("..." where callers were left out). */
static void print_site_line(FILE *out, struct mkt_symbolizer *sym, int rank, const struct site *s)
{
    char b[MKT_UNIT_BUF], c[MKT_UNIT_BUF], l[MKT_UNIT_BUF], text[600];
    char line[LINE_WIDTH + 1];
    size_t depth = json_array_size(s->frames);
    int n = snprintf(line, sizeof line, "  %2d. %8s %10s calls  live %8s  ", rank,
                     mkt_bytes(b, sizeof b, s->bytes), mkt_count(c, sizeof c, s->calls),
                     mkt_bytes(l, sizeof l, s->live));
    size_t used = n > 0 && (size_t)n < sizeof line ? (size_t)n : 0;
    const size_t room = LINE_WIDTH - 4;   /* what " ..." leaves */
    if (!depth)
        snprintf(line + used, sizeof line - used, "[other stacks]");
    for (size_t i = 0; i < depth; i++) {
        struct mkt_frame_info f;
        frame_of(sym, s->frames, i, &f);
        if (i == 0)
            mkt_frame_text(&f, text, sizeof text);
        else
            snprintf(text, sizeof text, " <- %s", f.func);
        size_t len = strlen(text);
        if (used + len > (i + 1 < depth ? room : LINE_WIDTH)) {
            if (i == 0 && used + 3 < LINE_WIDTH) {   /* the leaf itself is cut */
                size_t keep = LINE_WIDTH - 3 - used;
                memcpy(line + used, text, keep);
                memcpy(line + used + keep, "...", 4);
            } else {
                snprintf(line + used, sizeof line - used, " ...");
            }
            break;
        }
        memcpy(line + used, text, len + 1);
        used += len;
    }
    for (char *k = line; *k; k++)
        if ((unsigned char)*k < 0x20 || *k == 0x7f)
            *k = '?';
    fprintf(out, "%s\n", line);
}

static void print_table(FILE *out, struct mkt_symbolizer *sym, struct site *v, size_t n,
                        int top, enum field f, const char *title, int one_line)
{
    struct site **order = malloc(n * sizeof *order);
    if (!order)
        return;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (get(&v[i], f))
            order[m++] = &v[i];
    if (m) {
        sort_field = f;
        qsort(order, m, sizeof *order, by_field);
        fprintf(out, "\n%s\n", title);
        for (size_t i = 0; i < m && i < (size_t)top; i++)
            (one_line ? print_site_line : print_site)(out, sym, (int)i + 1, order[i]);
    }
    free(order);
}

/* MEMKIT_PROBE_FUNCS: estimated bytes and calls whose stack holds each
 * named function (inclusive; a site counts once per name). */
static void print_probe_funcs(FILE *out, struct mkt_symbolizer *sym, const json_t *report,
                              struct site *v, size_t n)
{
    const char *list = mkt_str(report, "config.MEMKIT_PROBE_FUNCS");
    if (!list || !*list)
        return;
    fprintf(out, "\nprobe functions (MEMKIT_PROBE_FUNCS, sampled estimates, inclusive)\n");
    char *copy = strdup(list), *save = NULL;
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        uint64_t bytes = 0, calls = 0, live = 0;
        for (size_t i = 0; i < n; i++) {
            size_t depth = json_array_size(v[i].frames);
            for (size_t k = 0; k < depth; k++) {
                struct mkt_frame_info f;
                frame_of(sym, v[i].frames, k, &f);
                if (f.resolved && strcmp(f.func, name) == 0) {
                    bytes += v[i].bytes;
                    calls += v[i].calls;
                    live += v[i].live;
                    break;
                }
            }
        }
        char b[MKT_UNIT_BUF], c[MKT_UNIT_BUF], l[MKT_UNIT_BUF];
        fprintf(out, "  %-24s %10s %12s calls  live %10s\n", name,
                mkt_bytes(b, sizeof b, bytes), mkt_count(c, sizeof c, calls),
                mkt_bytes(l, sizeof l, live));
    }
    free(copy);
}

/* The tables and the probe functions; one_line: the summary's two
 * tables, one line a site; else all four, each site with its callers. */
static void print_sites(FILE *out, const json_t *report, int top, int one_line)
{
    struct site *v;
    size_t n = load_sites(report, &v);
    if (!n)
        return;
    struct mkt_symbolizer *sym = mkt_sym_new(mkt_at(report, "modules"));
    if (!sym) {
        free(v);
        return;
    }
    const char *rate = mkt_str(report, "config.MEMKIT_SAMPLE");
    if (one_line)
        fprintf(out, "\ncall sites: %zu, sampled estimates (one sample per %s allocated); "
                "--sites has more\n", n, rate ? rate : "?");
    else
        fprintf(out, "\ncall sites: sampled estimates (one sample per %s allocated on average), "
                "%zu sites\n", rate ? rate : "?", n);
    print_table(out, sym, v, n, top, F_BYTES, "top call sites by bytes allocated", one_line);
    if (!one_line)
        print_table(out, sym, v, n, top, F_CALLS, "top call sites by calls", 0);
    print_table(out, sym, v, n, top, F_LIVE, "top call sites by bytes live at exit (leak suspects)",
                one_line);
    if (!one_line)
        print_table(out, sym, v, n, top, F_PEAK, "top call sites by bytes live at the heap's peak", 0);
    print_probe_funcs(out, sym, report, v, n);
    mkt_sym_free(sym);
    free(v);
}

void mkt_sites_print(FILE *out, const json_t *report, int top)
{
    print_sites(out, report, top, 0);
}

void mkt_sites_summary(FILE *out, const json_t *report, int top)
{
    print_sites(out, report, top, 1);
}

/* ---- folded ---------------------------------------------------------------- */

struct line {
    char    *stack;
    uint64_t bytes;
};

static int by_stack(const void *a, const void *b)
{
    return strcmp(((const struct line *)a)->stack, ((const struct line *)b)->stack);
}

/* Folded-stack names may not hold ';' or a newline; spaces are fine. */
static void append_name(char **buf, size_t *len, size_t *cap, const char *name, int raw)
{
    size_t n = strlen(name);
    if (*len + n + 2 > *cap) {
        size_t c = (*cap + n + 2) * 2;
        char *b = realloc(*buf, c);
        if (!b)
            return;
        *buf = b;
        *cap = c;
    }
    for (size_t i = 0; i < n; i++)
        (*buf)[(*len)++] = (!raw && (name[i] == ';' || name[i] == '\n')) ? '_' : name[i];
    (*buf)[*len] = '\0';
}

size_t mkt_sites_folded(FILE *out, const json_t *report)
{
    struct site *v;
    size_t n = load_sites(report, &v);
    if (!n)
        return 0;
    struct mkt_symbolizer *sym = mkt_sym_new(mkt_at(report, "modules"));
    struct line *lines = calloc(n, sizeof *lines);
    if (!sym || !lines) {
        mkt_sym_free(sym);
        free(lines);
        free(v);
        return 0;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].bytes)
            continue;
        char *buf = NULL;
        size_t len = 0, cap = 0;
        size_t depth = json_array_size(v[i].frames);
        if (!depth)
            append_name(&buf, &len, &cap, "[other stacks]", 0);
        for (size_t k = depth; k-- > 0;) {   /* root first */
            struct mkt_frame_info f;
            frame_of(sym, v[i].frames, k, &f);
            append_name(&buf, &len, &cap, f.func, 0);
            if (k)
                append_name(&buf, &len, &cap, ";", 1);
        }
        if (!buf)
            continue;
        lines[m].stack = buf;
        lines[m].bytes = v[i].bytes;
        m++;
    }
    qsort(lines, m, sizeof *lines, by_stack);
    size_t printed = 0;
    for (size_t i = 0; i < m;) {
        uint64_t sum = 0;
        size_t j = i;
        for (; j < m && strcmp(lines[j].stack, lines[i].stack) == 0; j++)
            sum += lines[j].bytes;
        fprintf(out, "%s %llu\n", lines[i].stack, (unsigned long long)sum);
        printed++;
        i = j;
    }
    for (size_t i = 0; i < m; i++)
        free(lines[i].stack);
    free(lines);
    mkt_sym_free(sym);
    free(v);
    return printed;
}
