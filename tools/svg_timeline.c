/* svg_timeline.c — the timeline chart (see svg_timeline.h). */
#include "svg_timeline.h"
#include "report_get.h"
#include "svg_text.h"
#include "units.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define COLOR_HEAP       "#1f77b4"
#define COLOR_MAPS       "#2ca02c"
#define COLOR_RSS        "#d62728"
#define COLOR_COMPACTION "#ff7f0e"

#define AXIS_LEFT   78    /* room for the byte labels */
#define AXIS_BOTTOM 28    /* room for the time labels */
#define HEAD        30    /* title and legend */

struct point {
    double   t;
    uint64_t heap, maps, rss;   /* rss 0: not read at that point */
    int      compaction;        /* a compaction_begin event */
};

struct marker {
    double      t, seconds;
    const char *reason;        /* NULL when only the timeline knows of it */
    uint64_t    before, after;
    int         have_rss;
};

struct scale {
    double x, y, w, h;          /* the plot area */
    double t_max;
    double b_max;
};

static double sx(const struct scale *s, double t)
{
    return s->x + s->w * (t / s->t_max);
}

static double sy(const struct scale *s, double bytes)
{
    return s->y + s->h - s->h * (bytes / s->b_max);
}

/* ---- the data -------------------------------------------------------------------- */

static size_t load_points(const json_t *r, struct point **out)
{
    const json_t *list = mkt_at(r, "timeline");
    size_t n = json_array_size(list);
    *out = n ? calloc(n, sizeof **out) : NULL;
    if (!*out)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(list, i);
        struct point *p = &(*out)[i];
        mkt_num(e, "t_s", &p->t);
        mkt_u64(e, "heap", &p->heap);
        mkt_u64(e, "maps", &p->maps);
        mkt_u64(e, "rss", &p->rss);
        const char *ev = mkt_str(e, "event");
        p->compaction = ev && strcmp(ev, "compaction_begin") == 0;
        if (!(p->t >= 0) || isinf(p->t))
            p->t = 0;
    }
    return n;
}

/* The "compactions" list; where it is empty, the compaction_begin points. */
static size_t load_markers(const json_t *r, const struct point *p, size_t np, struct marker **out)
{
    const json_t *list = mkt_at(r, "compactions");
    size_t n = json_array_size(list), m = 0;
    size_t cap = n ? n : np;
    *out = cap ? calloc(cap, sizeof **out) : NULL;
    if (!*out)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(list, i);
        struct marker *k = &(*out)[m++];
        mkt_num(e, "t_s", &k->t);
        mkt_num(e, "seconds", &k->seconds);
        k->reason = mkt_str(e, "reason");
        k->have_rss = mkt_u64(e, "rss_before", &k->before) == 0 &&
                      mkt_u64(e, "rss_after", &k->after) == 0;
    }
    for (size_t i = 0; n == 0 && i < np; i++)
        if (p[i].compaction)
            (*out)[m++] = (struct marker){ .t = p[i].t };
    for (size_t i = 0; i < m; i++)
        if (!((*out)[i].t >= 0) || isinf((*out)[i].t))
            (*out)[i].t = 0;
    return m;
}

/* ---- axes -------------------------------------------------------------------------- */

/* Byte ticks at powers of two: their multiples print evenly (768 MiB, 1.25 GiB). */
static double byte_step(double max)
{
    double step = 1024;
    while (max / step > 6)
        step *= 2;
    return step;
}

/* Time ticks at 1, 2 or 5 times a power of ten seconds. */
static double time_step(double max)
{
    double base = pow(10, floor(log10(max / 8)));
    static const double k[] = { 1, 2, 5, 10 };
    for (size_t i = 0; i < 4; i++)
        if (max / (base * k[i]) <= 8)
            return base * k[i];
    return base * 10;
}

static const char *time_label(char *buf, size_t len, double t)
{
    if (t == 0)
        snprintf(buf, len, "0");
    else if (t < 60 && t >= 1)
        snprintf(buf, len, "%g s", t);
    else
        mkt_duration(buf, len, t);
    return buf;
}

static void draw_axes(FILE *out, const struct scale *s, double b_step, double t_step)
{
    char b[MKT_UNIT_BUF];
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" "
            "stroke=\"#999999\"/>\n", s->x, s->y, s->w, s->h);
    for (double v = 0; v <= s->b_max * (1 + 1e-9); v += b_step) {
        double y = sy(s, v);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
                s->x, y, s->x + s->w, y);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#333333\">%s</text>\n",
                s->x - 6, y + 4, mkt_bytes(b, sizeof b, (uint64_t)v));
    }
    for (double t = 0; t <= s->t_max * (1 + 1e-9); t += t_step) {
        double x = sx(s, t);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\"/>\n",
                x, s->y + s->h, x, s->y + s->h + 5);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#333333\">%s</text>\n",
                x, s->y + s->h + 18, time_label(b, sizeof b, t));
    }
}

/* ---- series -------------------------------------------------------------------------- */

enum series { HEAP, MAPS, RSS };

static uint64_t value(const struct point *p, enum series which)
{
    return which == HEAP ? p->heap : which == MAPS ? p->maps : p->rss;
}

/* The series as a line; heap and RSS also filled beneath, faintly. RSS
 * skips the points that did not read it. */
static void draw_series(FILE *out, const struct scale *s, const struct point *p, size_t n,
                        enum series which, const char *color, double fill_opacity)
{
    size_t used = 0;
    double first_x = 0, last_x = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0 && fill_opacity <= 0)
            continue;
        if (pass == 0)
            fprintf(out, "<polygon fill=\"%s\" fill-opacity=\"%.2f\" stroke=\"none\" points=\"",
                    color, fill_opacity);
        else
            fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                    "stroke-linejoin=\"round\" points=\"", color);
        used = 0;
        for (size_t i = 0; i < n; i++) {
            if (which == RSS && p[i].rss == 0)
                continue;
            double x = sx(s, p[i].t), y = sy(s, (double)value(&p[i], which));
            if (!used)
                first_x = x;
            last_x = x;
            fprintf(out, "%s%.1f,%.1f", used++ ? " " : "", x, y);
        }
        if (pass == 0 && used)
            fprintf(out, " %.1f,%.1f %.1f,%.1f", last_x, s->y + s->h, first_x, s->y + s->h);
        fputs("\"/>\n", out);
    }
}

static void draw_markers(FILE *out, const struct scale *s, const struct marker *k, size_t n)
{
    char t[MKT_UNIT_BUF], d[MKT_UNIT_BUF], a[MKT_UNIT_BUF], b[MKT_UNIT_BUF];
    for (size_t i = 0; i < n; i++) {
        double x = sx(s, k[i].t);
        fputs("<g><title>compaction", out);
        if (k[i].reason) {
            fputs(" (", out);
            mkt_svg_put(out, k[i].reason, 40);
            fputc(')', out);
        }
        fprintf(out, " at %s", mkt_duration(t, sizeof t, k[i].t));
        if (k[i].have_rss)
            fprintf(out, ": RSS %s -&gt; %s", mkt_bytes(a, sizeof a, k[i].before),
                    mkt_bytes(b, sizeof b, k[i].after));
        if (k[i].reason)
            fprintf(out, ", took %s", mkt_duration(d, sizeof d, k[i].seconds));
        fputs("</title>\n", out);
        /* An invisible band makes the thin line easy to hover. */
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"%.1f\" fill=\"%s\" "
                "fill-opacity=\"0\"/>\n", x - 4, s->y, s->h, COLOR_COMPACTION);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n",
                x, s->y, x, s->y + s->h, COLOR_COMPACTION);
        fprintf(out, "<path d=\"M%.1f %.1f l-5 -8 h10 z\" fill=\"%s\"/>\n</g>\n", x, s->y,
                COLOR_COMPACTION);
    }
}

static void draw_legend(FILE *out, double right, double y)
{
    static const struct { const char *name, *color; int dashed; } item[] = {
        { "heap", COLOR_HEAP, 0 }, { "maps", COLOR_MAPS, 0 }, { "RSS", COLOR_RSS, 0 },
        { "compaction", COLOR_COMPACTION, 1 },
    };
    double x = right - 4 * 110;
    for (size_t i = 0; i < sizeof item / sizeof item[0]; i++, x += 110) {
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"%s\"%s/>\n", x, y - 4, x + 24, y - 4, item[i].color,
                item[i].dashed ? "1.5" : "2",
                item[i].dashed ? " stroke-dasharray=\"4 3\"" : "");
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333333\">%s</text>\n", x + 30, y,
                item[i].name);
    }
}

void mkt_svg_timeline(FILE *out, const json_t *r, double x, double y, double w, double h)
{
    struct point *p;
    struct marker *k;
    size_t np = load_points(r, &p);
    size_t nk = load_markers(r, p, np, &k);

    struct scale s = { x + AXIS_LEFT, y + HEAD, w - AXIS_LEFT - 12, h - HEAD - AXIS_BOTTOM, 0, 0 };
    double dur = 0;
    mkt_num(r, "process.duration_s", &dur);
    s.t_max = dur > 0 && !isinf(dur) ? dur : 0;
    double top = 0;
    for (size_t i = 0; i < np; i++) {
        if (p[i].t > s.t_max)
            s.t_max = p[i].t;
        for (enum series v = HEAP; v <= RSS; v++)
            if ((double)value(&p[i], v) > top)
                top = (double)value(&p[i], v);
    }
    for (size_t i = 0; i < nk; i++) {
        if (k[i].t > s.t_max)
            s.t_max = k[i].t;
        if (k[i].have_rss && (double)k[i].before > top)
            top = (double)k[i].before;
    }
    if (s.t_max <= 0)
        s.t_max = 1;
    double t_step = time_step(s.t_max);
    double b_step = byte_step(top > 0 ? top : 1024 * 1024);
    s.b_max = ceil((top > 0 ? top : 1024 * 1024) / b_step) * b_step;

    fprintf(out, "<g id=\"timeline\">\n<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">"
            "memory over time</text>\n", x, y + 16);
    draw_legend(out, x + w, y + 16);
    draw_axes(out, &s, b_step, t_step);
    if (np) {
        draw_series(out, &s, p, np, HEAP, COLOR_HEAP, 0.18);
        draw_series(out, &s, p, np, MAPS, COLOR_MAPS, 0);
        draw_series(out, &s, p, np, RSS, COLOR_RSS, 0.08);
    } else {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#666666\">"
                "no timeline points in this report</text>\n", s.x + s.w / 2, s.y + s.h / 2);
    }
    draw_markers(out, &s, k, nk);
    fputs("</g>\n", out);
    free(p);
    free(k);
}
