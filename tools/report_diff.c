/* report_diff.c — two reports compared (see report_diff.h). */
#include "report_diff.h"
#include "frame_names.h"
#include "report_figures.h"
#include "report_get.h"
#include "report_summary.h"
#include "units.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_WIDTH 26
#define LINE_WIDTH  100
#define STACK_SEP   '\n'   /* between frames of a stack key: no symbol holds one */

/* ---- text ---------------------------------------------------------------------- */

static void put_clean(FILE *out, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++)
        fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i], out);
}

static void print_who(FILE *out, const char *which, const json_t *r, const char *path)
{
    char d[MKT_UNIT_BUF];
    uint64_t pid = 0;
    double dur = -1;
    mkt_u64(r, "process.pid", &pid);
    mkt_num(r, "process.duration_s", &dur);
    fprintf(out, "%-5s", which);
    put_clean(out, path, 200);
    fputs(": ", out);
    put_clean(out, mkt_program_name(r), 64);
    fprintf(out, ", pid %" PRIu64 ", ran %s", pid, mkt_duration(d, sizeof d, dur));
    const char *start = mkt_str(r, "process.start");
    if (start && *start) {
        fputs(", started ", out);
        put_clean(out, start, 40);
    }
    fputc('\n', out);
}

/* ---- figures ------------------------------------------------------------------- */

enum unit { U_BYTES, U_COUNT, U_SECONDS };

struct row {
    char      label[96];
    enum unit unit;
    int       have_old, have_new;
    uint64_t  old_n, new_n;   /* bytes and counts */
    double    old_s, new_s;   /* seconds */
    size_t    order;          /* ties keep the order rows were added in */
};

struct rows {
    struct row *v;
    size_t      n, cap;
};

static struct row *add_row(struct rows *t, enum unit unit, const char *label)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct row *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return NULL;
        t->v = v;
        t->cap = cap;
    }
    struct row *w = &t->v[t->n];
    memset(w, 0, sizeof *w);
    snprintf(w->label, sizeof w->label, "%s", label);
    w->unit = unit;
    w->order = t->n++;
    return w;
}

static int read_field(const json_t *r, const char *field, const char *fallback, uint64_t *v)
{
    return mkt_u64(r, field, v) == 0 || (fallback && mkt_u64(r, fallback, v) == 0);
}

/* Whole-process figures read from one field (or, in reports written
 * before it, another). */
static const struct {
    const char *label;
    enum unit   unit;
    const char *field, *fallback;
} fields[] = {
    { "peak heap",        U_BYTES, "peak.heap_bytes", NULL },
    { "peak RSS",         U_BYTES, "peak.rss_bytes", NULL },
    { "peak maps",        U_BYTES, "peak.mmap_bytes", NULL },
    { "heap at the end",  U_BYTES, "end.heap_bytes", "totals.heap_in_use" },
    { "RSS at the end",   U_BYTES, "end.rss_bytes", NULL },
    { "maps at the end",  U_BYTES, "end.mmap_bytes", "totals.mmap_in_use" },
    { "bytes allocated",  U_BYTES, "totals.alloc_bytes", NULL },
    { "bytes requested",  U_BYTES, "totals.requested_bytes", NULL },
    { "bytes freed",      U_BYTES, "totals.free_bytes", NULL },
    { "bytes released",   U_BYTES, "totals.released_bytes", NULL },
    { "bytes mapped",     U_BYTES, "totals.mmap_bytes", NULL },
    { "alloc calls",      U_COUNT, "totals.alloc_calls", NULL },
    { "free calls",       U_COUNT, "totals.free_calls", NULL },
    { "failed allocs",    U_COUNT, "totals.failures", NULL },
    { "mmap calls",       U_COUNT, "totals.mmap_calls", NULL },
    { "munmap calls",     U_COUNT, "totals.munmap_calls", NULL },
};

static void add_fields(struct rows *t, const json_t *a, const json_t *b)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint64_t x = 0, y = 0;
        int hx = read_field(a, fields[i].field, fields[i].fallback, &x);
        int hy = read_field(b, fields[i].field, fields[i].fallback, &y);
        if (!hx && !hy)
            continue;
        struct row *w = add_row(t, fields[i].unit, fields[i].label);
        if (!w)
            return;
        w->have_old = hx, w->old_n = x;
        w->have_new = hy, w->new_n = y;
    }
    double x = 0, y = 0;
    int hx = mkt_num(a, "process.duration_s", &x) == 0;
    int hy = mkt_num(b, "process.duration_s", &y) == 0;
    struct row *w = add_row(t, U_SECONDS, "duration");
    if (w) {
        w->have_old = hx, w->old_s = x;
        w->have_new = hy, w->new_s = y;
    }
}

static void add_both(struct rows *t, enum unit unit, const char *label, uint64_t x, uint64_t y)
{
    struct row *w = add_row(t, unit, label);
    if (w) {
        w->have_old = w->have_new = 1;
        w->old_n = x;
        w->new_n = y;
    }
}

static uint64_t reason_count(const struct mkt_compaction_figs *c, const char *reason)
{
    for (size_t i = 0; i < c->nreasons; i++)
        if (strcmp(c->by_reason[i].reason, reason) == 0)
            return c->by_reason[i].count;
    return 0;
}

/* Compactions, when either run made any or knew about them. */
static void add_compactions(struct rows *t, const json_t *a, const json_t *b)
{
    struct mkt_compaction_figs x, y;
    mkt_compaction_figs(a, &x);
    mkt_compaction_figs(b, &y);
    if (!x.present && !y.present)
        return;
    add_both(t, U_COUNT, "compactions", x.count, y.count);
    /* Every reason either names: the old run's (the known four first),
     * then those only the new run has. */
    char label[96];
    for (size_t i = 0; i < x.nreasons + y.nreasons; i++) {
        int from_new = i >= x.nreasons;
        const char *reason = from_new ? y.by_reason[i - x.nreasons].reason : x.by_reason[i].reason;
        int in_old = 0;
        for (size_t k = 0; from_new && k < x.nreasons; k++)
            in_old |= strcmp(x.by_reason[k].reason, reason) == 0;
        if (in_old)
            continue;
        uint64_t cx = reason_count(&x, reason), cy = reason_count(&y, reason);
        if (!cx && !cy)
            continue;
        snprintf(label, sizeof label, "compactions (%.60s)", reason);
        add_both(t, U_COUNT, label, cx, cy);
    }
    add_both(t, U_BYTES, "compactions returned", x.returned, y.returned);
    struct row *w = add_row(t, U_SECONDS, "compaction time");
    if (w) {
        w->have_old = w->have_new = 1;
        w->old_s = x.seconds;
        w->new_s = y.seconds;
    }
}

/* Pools, matched by label. */
static void add_pools(struct rows *t, const json_t *a, const json_t *b)
{
    static const struct { const char *what; enum unit unit; unsigned bit; size_t at; } fig[] = {
        { "frames in use", U_COUNT, MKT_POOL_IN_USE,    offsetof(struct mkt_pool_figs, in_use) },
        { "frames pooled", U_COUNT, MKT_POOL_POOLED,    offsetof(struct mkt_pool_figs, pooled) },
        { "allocated",     U_COUNT, MKT_POOL_ALLOCATED, offsetof(struct mkt_pool_figs, allocated) },
        { "hits",          U_COUNT, MKT_POOL_HITS,      offsetof(struct mkt_pool_figs, hits) },
        { "misses",        U_COUNT, MKT_POOL_MISSES,    offsetof(struct mkt_pool_figs, misses) },
        { "frame size",    U_BYTES, MKT_POOL_FRAME_SIZE, offsetof(struct mkt_pool_figs, frame_size) },
    };
    struct mkt_pool_figs *px, *py;
    size_t nx = mkt_pool_figs(a, &px), ny = mkt_pool_figs(b, &py);
    /* Old pools in their order, then the new ones the old run lacked. */
    for (size_t i = 0; i < nx + ny; i++) {
        const struct mkt_pool_figs *p = i < nx ? &px[i] : &py[i - nx], *q = NULL, *o = NULL;
        if (i < nx) {
            o = p;
            for (size_t k = 0; k < ny && !q; k++)
                if (strcmp(py[k].label, p->label) == 0)
                    q = &py[k];
        } else {
            int seen = 0;
            for (size_t k = 0; k < nx; k++)
                seen |= strcmp(px[k].label, p->label) == 0;
            if (seen)
                continue;
            q = p;
        }
        for (size_t f = 0; f < sizeof fig / sizeof fig[0]; f++) {
            int ho = o && (o->have & fig[f].bit), hn = q && (q->have & fig[f].bit);
            if (!ho && !hn)
                continue;
            char label[96];
            snprintf(label, sizeof label, "pool %.40s %s", p->label, fig[f].what);
            struct row *w = add_row(t, fig[f].unit, label);
            if (!w)
                break;
            w->have_old = ho;
            w->have_new = hn;
            if (ho)
                w->old_n = *(const uint64_t *)((const char *)o + fig[f].at);
            if (hn)
                w->new_n = *(const uint64_t *)((const char *)q + fig[f].at);
        }
    }
    free(px);
    free(py);
}

static double change_of(const struct row *w)
{
    if (!w->have_old || !w->have_new)
        return 0;
    if (w->unit == U_SECONDS)
        return w->new_s - w->old_s;
    return (double)w->new_n - (double)w->old_n;
}

static int by_change(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    double cx = fabs(change_of(x)), cy = fabs(change_of(y));
    if (cx != cy)
        return cx < cy ? 1 : -1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static const char *value_text(char *buf, size_t len, const struct row *w, int new_side)
{
    if (!(new_side ? w->have_new : w->have_old))
        return "-";
    switch (w->unit) {
    case U_BYTES:   return mkt_bytes(buf, len, new_side ? w->new_n : w->old_n);
    case U_COUNT:   return mkt_count(buf, len, new_side ? w->new_n : w->old_n);
    case U_SECONDS: return mkt_duration(buf, len, new_side ? w->new_s : w->old_s);
    }
    return "?";
}

/* "+1.50 MiB", "-12", "+0.25 s"; "=" when nothing changed. */
static const char *change_text(char *buf, size_t len, const struct row *w)
{
    char b[MKT_UNIT_BUF];
    if (!w->have_old || !w->have_new) {
        snprintf(buf, len, "%s", "");
        return buf;
    }
    double c = change_of(w);
    if (c == 0) {
        snprintf(buf, len, "=");
        return buf;
    }
    const char *sign = c > 0 ? "+" : "-";
    switch (w->unit) {
    case U_BYTES:
        mkt_bytes(b, sizeof b, w->new_n > w->old_n ? w->new_n - w->old_n : w->old_n - w->new_n);
        break;
    case U_COUNT:
        mkt_count(b, sizeof b, w->new_n > w->old_n ? w->new_n - w->old_n : w->old_n - w->new_n);
        break;
    case U_SECONDS:
        mkt_duration(b, sizeof b, fabs(c));
        break;
    }
    snprintf(buf, len, "%s%s", sign, b);
    return buf;
}

/* Relative change; "new" from nothing; "" when there is nothing to say. */
static const char *percent_text(char *buf, size_t len, double old_v, double new_v)
{
    if (old_v == new_v)
        snprintf(buf, len, "%s", "");
    else if (old_v == 0)
        snprintf(buf, len, "new");
    else if (new_v / old_v >= 11)   /* +1000% and up: the factor reads better */
        snprintf(buf, len, "x%.0f", new_v / old_v);
    else
        snprintf(buf, len, "%+.1f%%", (new_v - old_v) / old_v * 100);
    return buf;
}

static void print_table(FILE *out, struct rows *t, enum unit unit, const char *title)
{
    struct row *v = malloc((t->n ? t->n : 1) * sizeof *v);
    size_t m = 0;
    if (!v)
        return;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].unit == unit)
            v[m++] = t->v[i];
    if (m) {
        qsort(v, m, sizeof *v, by_change);
        fprintf(out, "\n%-*s %12s %12s %13s\n", LABEL_WIDTH, title, "old", "new", "change");
        for (size_t i = 0; i < m; i++) {
            char a[MKT_UNIT_BUF], b[MKT_UNIT_BUF], c[MKT_UNIT_BUF + 1], p[32] = "";
            const struct row *w = &v[i];
            if (w->have_old && w->have_new) {
                if (unit == U_SECONDS)
                    percent_text(p, sizeof p, w->old_s, w->new_s);
                else
                    percent_text(p, sizeof p, (double)w->old_n, (double)w->new_n);
            }
            char line[LINE_WIDTH + 64], label[LABEL_WIDTH];
            snprintf(label, sizeof label, "%s", w->label);
            for (char *k = label; *k; k++)
                if ((unsigned char)*k < 0x20 || *k == 0x7f)
                    *k = '?';
            int n = snprintf(line, sizeof line, "  %-*s %12s %12s %13s %8s", LABEL_WIDTH - 2,
                             label, value_text(a, sizeof a, w, 0), value_text(b, sizeof b, w, 1),
                             change_text(c, sizeof c, w), p);
            while (n > 0 && (size_t)n < sizeof line && line[n - 1] == ' ')
                line[--n] = '\0';
            fprintf(out, "%s\n", line);
        }
    }
    free(v);
}

/* ---- call sites ------------------------------------------------------------------ */

struct stack {
    char    *key;     /* frame names, leaf first, STACK_SEP between */
    int      side;    /* 0 old, 1 new */
    uint64_t bytes;
};

struct stacks {
    struct stack *v;
    size_t        n, cap;
};

static char *stack_key(struct mkt_frame_names *names, const json_t *frames)
{
    size_t depth = json_array_size(frames), len = 0, cap = 64;
    char *key = malloc(cap);
    if (!key)
        return NULL;
    key[0] = '\0';
    if (depth == 0) {
        snprintf(key, cap, "[other stacks]");
        return key;
    }
    for (size_t i = 0; i < depth; i++) {
        const char *name = mkt_names_site_frame(names, frames, i);
        size_t n = strlen(name ? name : "?");
        if (len + n + 2 > cap) {
            cap = 2 * (len + n + 2);
            char *k = realloc(key, cap);
            if (!k) {
                free(key);
                return NULL;
            }
            key = k;
        }
        if (i)
            key[len++] = STACK_SEP;
        memcpy(key + len, name ? name : "?", n);
        len += n;
        key[len] = '\0';
    }
    return key;
}

/* Appends the stacks of one report's sites. Returns the sites read. */
static size_t add_stacks(struct stacks *s, const json_t *r, int side)
{
    const json_t *sites = mkt_at(r, "sites");
    size_t n = json_array_size(sites);
    if (n == 0)
        return 0;
    struct mkt_frame_names *names = mkt_names_new(mkt_at(r, "modules"));
    if (!names)
        return 0;
    if (s->n + n > s->cap) {
        size_t cap = s->n + n;
        struct stack *v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            mkt_names_free(names);
            return 0;
        }
        s->v = v;
        s->cap = cap;
    }
    size_t i;
    json_t *site;
    json_array_foreach(sites, i, site) {
        char *key = stack_key(names, json_object_get(site, "frames"));
        if (!key)
            continue;
        const json_t *b = json_object_get(site, "alloc_bytes_est");
        double bytes = json_is_number(b) ? json_number_value(b) : 0;
        s->v[s->n++] = (struct stack){ key, side, bytes > 0 ? (uint64_t)bytes : 0 };
    }
    mkt_names_free(names);
    return n;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct stack *)a)->key, ((const struct stack *)b)->key);
}

struct site_change {
    const char *key;
    uint64_t    old_b, new_b;
    int         in_old, in_new;
};

static int by_site_change(const void *a, const void *b)
{
    const struct site_change *x = a, *y = b;
    double cx = fabs((double)x->new_b - (double)x->old_b);
    double cy = fabs((double)y->new_b - (double)y->old_b);
    if (cx != cy)
        return cx < cy ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* "leaf <- caller <- ...", cut to width with "..." */
static void put_stack(FILE *out, const char *key, int width)
{
    char line[LINE_WIDTH * 2];
    size_t o = 0;
    for (const char *k = key; *k && o + 5 < sizeof line; k++) {
        if (*k == STACK_SEP) {
            memcpy(line + o, " <- ", 4);
            o += 4;
        } else {
            line[o++] = (unsigned char)*k < 0x20 || *k == 0x7f ? '?' : *k;
        }
    }
    line[o] = '\0';
    if ((int)o > width && width > 3)
        memcpy(line + width - 3, "...", 4);
    fputs(line, out);
}

static void print_sites(FILE *out, const json_t *a, const json_t *b, int top)
{
    struct stacks s = { 0 };
    size_t na = add_stacks(&s, a, 0), nb = add_stacks(&s, b, 1);
    if (na == 0 && nb == 0) {
        fputs("\ncall sites: none in either report\n", out);
        free(s.v);
        return;
    }
    qsort(s.v, s.n, sizeof *s.v, by_key);
    struct site_change *c = calloc(s.n ? s.n : 1, sizeof *c);
    size_t m = 0, both = 0;
    for (size_t i = 0; c && i < s.n;) {
        struct site_change *w = &c[m++];
        w->key = s.v[i].key;
        size_t j = i;
        for (; j < s.n && strcmp(s.v[j].key, s.v[i].key) == 0; j++) {
            if (s.v[j].side) {
                w->new_b += s.v[j].bytes;
                w->in_new = 1;
            } else {
                w->old_b += s.v[j].bytes;
                w->in_old = 1;
            }
        }
        both += w->in_old && w->in_new;
        i = j;
    }
    fprintf(out, "\ncall sites: %zu in old, %zu in new; %zu stacks in both "
            "(matched by function names)\n", na, nb, both);
    if (c) {
        qsort(c, m, sizeof *c, by_site_change);
        size_t shown = 0;
        for (size_t i = 0; i < m && shown < (size_t)top; i++) {
            if (c[i].old_b == c[i].new_b)
                break;   /* sorted: the rest did not change either */
            if (!shown)
                fprintf(out, "top call sites by change in bytes allocated (sampled estimates)\n"
                        "  %10s %10s %11s %8s  %s\n", "old", "new", "change", "", "stack");
            char x[MKT_UNIT_BUF], y[MKT_UNIT_BUF], d[MKT_UNIT_BUF], p[32];
            uint64_t diff = c[i].new_b > c[i].old_b ? c[i].new_b - c[i].old_b
                                                    : c[i].old_b - c[i].new_b;
            char signed_diff[MKT_UNIT_BUF + 1];
            snprintf(signed_diff, sizeof signed_diff, "%s%s", c[i].new_b > c[i].old_b ? "+" : "-",
                     mkt_bytes(d, sizeof d, diff));
            percent_text(p, sizeof p, (double)c[i].old_b, (double)c[i].new_b);
            fprintf(out, "  %10s %10s %11s %8s  ", c[i].in_old ? mkt_bytes(x, sizeof x, c[i].old_b) : "-",
                    c[i].in_new ? mkt_bytes(y, sizeof y, c[i].new_b) : "-", signed_diff, p);
            put_stack(out, c[i].key, LINE_WIDTH - 47);
            fputc('\n', out);
            shown++;
        }
        if (!shown)
            fputs("no call site's estimate changed\n", out);
    }
    for (size_t i = 0; i < s.n; i++)
        free(s.v[i].key);
    free(s.v);
    free(c);
}

void mkt_diff_print(FILE *out, const json_t *a, const char *a_path, const json_t *b,
                    const char *b_path, int top)
{
    print_who(out, "old", a, a_path);
    print_who(out, "new", b, b_path);
    struct rows t = { 0 };
    add_fields(&t, a, b);
    add_compactions(&t, a, b);
    add_pools(&t, a, b);
    print_table(out, &t, U_BYTES, "bytes");
    print_table(out, &t, U_COUNT, "calls and counts");
    print_table(out, &t, U_SECONDS, "time");
    free(t.v);
    print_sites(out, a, b, top);
}
