/* report_timeline.c — the timeline as text (see report_timeline.h).
 *
 * The table keeps every event row (a compaction_begin followed by its
 * compaction_end, with only plain points between, is one row), the first
 * and the last point; the rows left are spread evenly in time, each the
 * point of highest RSS in its stretch so that no peak is lost. */
#include "report_timeline.h"
#include "report_get.h"
#include "units.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BAR_WIDTH   26    /* '#' for the largest RSS */
#define EVENT_WIDTH 32    /* "compaction  1.02 GiB -> 1.00 GiB": a row is at most 99 columns */

struct point {
    double t;
    uint64_t heap, maps, rss;
    const char *event;    /* NULL for a plain point */
};

struct row {
    size_t first, last;   /* points: last > first for a merged compaction */
    int must;             /* an event, the first or the last point */
    int shown;
};

static int is_event(const struct point *p, const char *name)
{
    return p->event && strcmp(p->event, name) == 0;
}

/* The points of the report, oldest first; 0 when there are none. */
static size_t load_points(const json_t *r, struct point **out)
{
    json_t *list = mkt_at(r, "timeline");
    size_t n = json_array_size(list);
    *out = NULL;
    if (n == 0 || !(*out = calloc(n, sizeof **out)))
        return 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(list, i);
        struct point *p = &(*out)[i];
        mkt_num(e, "t_s", &p->t);
        mkt_u64(e, "heap", &p->heap);
        mkt_u64(e, "maps", &p->maps);
        mkt_u64(e, "rss", &p->rss);
        p->event = mkt_str(e, "event");
    }
    return n;
}

static uint64_t max_rss(const struct point *p, size_t n)
{
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].rss > m)
            m = p[i].rss;
    return m;
}

/* One row per plain point and per event; a compaction's begin and the end
 * that follows it (plain points between are dropped) make one row. */
static size_t build_rows(const struct point *p, size_t n, struct row *rows)
{
    size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
        struct row *w = &rows[nr++];
        w->first = w->last = i;
        w->must = p[i].event != NULL || i == 0 || i + 1 == n;
        w->shown = 0;
        if (!is_event(&p[i], "compaction_begin"))
            continue;
        size_t k = i + 1;
        while (k < n && !p[k].event)
            k++;
        if (k < n && is_event(&p[k], "compaction_end")) {
            w->last = k;
            i = k;
            w->must = 1;
        }
    }
    rows[nr - 1].must = 1;   /* the last point, even when merged */
    return nr;
}

/* The plain rows' time, from the first point to the last, in nb stretches
 * of equal length: best[s] the row of highest RSS in stretch s (SIZE_MAX
 * for none). Returns the stretches that have a row. */
static size_t stretches(const struct point *p, const struct row *rows, size_t nr, size_t nb,
                        size_t *best)
{
    double t0 = p[rows[0].first].t, span = p[rows[nr - 1].first].t - t0;
    size_t got = 0;
    for (size_t s = 0; s < nb; s++)
        best[s] = SIZE_MAX;
    for (size_t i = 0; i < nr; i++) {
        if (rows[i].must)
            continue;
        double f = span > 0 ? (p[rows[i].first].t - t0) / span : 0;
        size_t s = f >= 1 ? nb - 1 : f > 0 ? (size_t)(f * (double)nb) : 0;
        if (s >= nb)
            s = nb - 1;
        if (best[s] == SIZE_MAX)
            got++;
        if (best[s] == SIZE_MAX || p[rows[i].first].rss > p[rows[best[s]].first].rss)
            best[s] = i;
    }
    return got;
}

/* Marks the rows to show; returns the event rows left out (only when
 * there are more events than rows). */
static size_t choose_rows(const struct point *p, struct row *rows, size_t nr)
{
    size_t must = 0;
    for (size_t i = 0; i < nr; i++)
        must += rows[i].must;
    if (must > MKT_TIMELINE_ROWS) {
        /* Too many events: the first and last kept, the others evenly. */
        size_t *idx = malloc(must * sizeof *idx), m = 0;
        if (!idx) {
            rows[0].shown = rows[nr - 1].shown = 1;
            return must - 2;
        }
        for (size_t i = 0; i < nr; i++)
            if (rows[i].must)
                idx[m++] = i;
        for (size_t k = 0; k < MKT_TIMELINE_ROWS; k++)
            rows[idx[k * (m - 1) / (MKT_TIMELINE_ROWS - 1)]].shown = 1;
        free(idx);
        return must - MKT_TIMELINE_ROWS;
    }
    size_t slots = MKT_TIMELINE_ROWS - must, plain = nr - must;
    for (size_t i = 0; i < nr; i++)
        rows[i].shown = rows[i].must || plain <= slots;
    if (plain <= slots || slots == 0)
        return 0;
    /* The plain rows in stretches of equal time, the highest RSS of each:
     * as many stretches as give at most slots rows (points bunch up, so
     * some stretches are empty). */
    size_t *best = malloc(plain * sizeof *best), *pick = malloc(slots * sizeof *pick);
    size_t picked = 0;
    if (!best || !pick) {
        free(best);
        free(pick);
        return 0;
    }
    for (size_t nb = slots; nb <= plain; nb++) {
        size_t got = stretches(p, rows, nr, nb, best);
        if (got > slots)
            break;
        picked = 0;
        for (size_t s = 0; s < nb; s++)
            if (best[s] != SIZE_MAX)
                pick[picked++] = best[s];
        if (got == slots)
            break;
    }
    for (size_t k = 0; k < picked; k++)
        rows[pick[k]].shown = 1;
    free(best);
    free(pick);
    return 0;
}

/* The event column: what happened, cut to fit, control characters replaced. */
static void event_text(char *buf, size_t len, const struct point *p, const struct row *w)
{
    char b1[MKT_UNIT_BUF], b2[MKT_UNIT_BUF];
    const struct point *a = &p[w->first];
    buf[0] = '\0';
    if (w->last > w->first)
        snprintf(buf, len, "compaction  %s -> %s", mkt_bytes(b1, sizeof b1, a->rss),
                 mkt_bytes(b2, sizeof b2, p[w->last].rss));
    else if (is_event(a, "compaction_begin"))
        snprintf(buf, len, "compaction begins");
    else if (is_event(a, "compaction_end"))
        snprintf(buf, len, "compaction ends");
    else if (is_event(a, "end"))
        snprintf(buf, len, "exit");
    else if (a->event)
        snprintf(buf, len, "%.*s", EVENT_WIDTH, a->event);
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

static void print_row(FILE *out, const struct point *p, const struct row *w, uint64_t top)
{
    const struct point *a = &p[w->first];
    char t[MKT_UNIT_BUF], h[MKT_UNIT_BUF], m[MKT_UNIT_BUF], r[MKT_UNIT_BUF];
    char bar[BAR_WIDTH + 1], ev[EVENT_WIDTH * 2];
    size_t n = 0;
    if (top)   /* rounded up: any RSS at all shows */
        n = (size_t)((double)a->rss * BAR_WIDTH / (double)top + 0.999);
    if (n > BAR_WIDTH)
        n = BAR_WIDTH;
    memset(bar, '#', n);
    bar[n] = '\0';
    event_text(ev, sizeof ev, p, w);
    /* RSS 0: not read (points taken inside the program's calls). */
    fprintf(out, "%7s  %8s  %8s  %8s  ", mkt_duration(t, sizeof t, a->t),
            mkt_bytes(h, sizeof h, a->heap), mkt_bytes(m, sizeof m, a->maps),
            a->rss ? mkt_bytes(r, sizeof r, a->rss) : "-");
    if (*ev)
        fprintf(out, "%-*s  %s\n", BAR_WIDTH, bar, ev);
    else
        fprintf(out, "%s\n", bar);
}

void mkt_timeline_print(FILE *out, const json_t *r)
{
    struct point *p;
    size_t n = load_points(r, &p);
    double res;
    int have_res = mkt_num(r, "timeline_resolution_s", &res) == 0;
    if (n == 0) {
        if (have_res)
            fputs("timeline: no points in this report\n", out);
        else
            fputs("timeline: no points (the report was written before memkit kept one)\n", out);
        free(p);
        return;
    }
    struct row *rows = calloc(n, sizeof *rows);
    if (!rows) {
        free(p);
        fputs("timeline: out of memory\n", out);
        return;
    }
    size_t nr = build_rows(p, n, rows);
    size_t left_out = choose_rows(p, rows, nr);
    size_t shown = 0;
    for (size_t i = 0; i < nr; i++)
        shown += rows[i].shown;

    char c[MKT_UNIT_BUF], d[MKT_UNIT_BUF], b[MKT_UNIT_BUF];
    uint64_t top = max_rss(p, n);
    fprintf(out, "timeline: %s %s to %s", mkt_count(c, sizeof c, n), n == 1 ? "point" : "points",
            mkt_duration(d, sizeof d, p[n - 1].t));
    if (have_res)
        fprintf(out, ", resolution %s", mkt_duration(b, sizeof b, res));
    fprintf(out, "; %zu %s", shown, shown == 1 ? "row" : "rows");
    if (shown < nr)
        fputs(": events and each stretch's highest RSS", out);
    fputc('\n', out);
    fprintf(out, "%7s  %8s  %8s  %8s  RSS, full bar %s\n", "time", "heap", "maps", "RSS",
            mkt_bytes(b, sizeof b, top));
    for (size_t i = 0; i < nr; i++)
        if (rows[i].shown)
            print_row(out, p, &rows[i], top);
    if (left_out)
        fprintf(out, "... %zu more events not shown (memkit-report --json lists every point)\n",
                left_out);
    free(rows);
    free(p);
}

void mkt_timeline_summary_line(FILE *out, const json_t *r, int label_width, int width)
{
    struct point *p;
    size_t n = load_points(r, &p);
    if (n == 0) {
        free(p);
        return;
    }
    char c[MKT_UNIT_BUF], a[MKT_UNIT_BUF], b[MKT_UNIT_BUF], z[MKT_UNIT_BUF];
    mkt_count(c, sizeof c, n);
    /* The first and last points whose RSS was read (0: not read). */
    size_t first = 0, last = n - 1;
    while (first < last && !p[first].rss)
        first++;
    while (last > first && !p[last].rss)
        last--;
    mkt_bytes(a, sizeof a, p[first].rss);
    mkt_bytes(b, sizeof b, max_rss(p, n));
    mkt_bytes(z, sizeof z, p[last].rss);
    const char *at = last == n - 1 && is_event(&p[n - 1], "end") ? " at exit" : "";
    const char *points = n == 1 ? "point" : "points";
    /* The most that fits the summary's width. */
    char line[4][256];
    snprintf(line[0], sizeof line[0], "%s %s, RSS %s -> %s peak -> %s%s (--timeline)",
             c, points, a, b, z, at);
    snprintf(line[1], sizeof line[1], "%s %s, RSS %s -> %s peak -> %s (--timeline)",
             c, points, a, b, z);
    snprintf(line[2], sizeof line[2], "%s %s, RSS %s -> %s peak -> %s", c, points, a, b, z);
    snprintf(line[3], sizeof line[3], "%s %s; --timeline", c, points);
    size_t k = 0;
    while (k < 3 && label_width + (int)strlen(line[k]) > width)
        k++;
    fprintf(out, "%-*s%s\n", label_width, "timeline", line[k]);
    free(p);
}
