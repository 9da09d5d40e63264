/* report_list.c — the reports of a folder, one line each (see
 * report_list.h).
 *
 * Every file is read whole and checked as memkit-report reads it, so a
 * line never vouches for a file the other views would refuse: jansson
 * has no way to read the head of a document alone, and a report that
 * looks right at its start may be cut further on. Reports keep their
 * call sites bounded (2000 or so), which keeps this quick. */
#include "report_list.h"
#include "report_figures.h"
#include "report_find.h"
#include "report_get.h"
#include "report_load.h"
#include "report_summary.h"
#include "units.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PROGRAM_WIDTH 24   /* longer names are cut */

struct file {
    char            path[PATH_MAX];
    struct timespec mtime;
};

struct files {
    struct file *v;
    size_t       n, cap;
};

/* A row: the columns as text, or the reason the file was refused. */
struct row {
    char path[PATH_MAX];   /* as shown */
    char program[PROGRAM_WIDTH + 1];
    char pid[24], started[32], ran[MKT_UNIT_BUF], heap[MKT_UNIT_BUF], rss[MKT_UNIT_BUF];
    char kind[16];
    char why[512];    /* non-empty: unreadable */
};

static int collect(const char *path, void *arg)
{
    struct files *f = arg;
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;   /* gone meanwhile */
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        struct file *v = realloc(f->v, cap * sizeof *v);
        if (!v)
            return 0;   /* listed up to here */
        f->v = v;
        f->cap = cap;
    }
    snprintf(f->v[f->n].path, sizeof f->v[f->n].path, "%s", path);
    f->v[f->n].mtime = st.st_mtim;
    f->n++;
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    const struct file *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
    return -strcmp(x->path, y->path);
}

/* Text from a report or a folder: control characters replaced. */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

static void fill_row(struct row *w, const char *path)
{
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path);
    clean(w->path);
    json_t *r = mkt_report_load(path, w->why, sizeof w->why);
    if (!r) {
        if (!w->why[0])
            snprintf(w->why, sizeof w->why, "cannot read");
        clean(w->why);
        return;
    }
    uint64_t pid = 0, heap = 0, rss = 0;
    double dur = -1, start;
    mkt_u64(r, "process.pid", &pid);
    mkt_num(r, "process.duration_s", &dur);
    mkt_u64(r, "peak.heap_bytes", &heap);
    mkt_u64(r, "peak.rss_bytes", &rss);
    snprintf(w->program, sizeof w->program, "%s", mkt_program_name(r));
    snprintf(w->pid, sizeof w->pid, "%" PRIu64, pid);
    mkt_duration(w->ran, sizeof w->ran, dur);
    mkt_bytes(w->heap, sizeof w->heap, heap);
    mkt_bytes(w->rss, sizeof w->rss, rss);
    snprintf(w->started, sizeof w->started, "?");
    if (mkt_start_unix(r, &start) == 0 && start >= 0 && start < 1e15) {
        time_t t = (time_t)start;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(w->started, sizeof w->started, "%Y-%m-%d %H:%M:%S", &tm);
    }
    const char *kind = mkt_str(r, "kind");
    snprintf(w->kind, sizeof w->kind, "%s", kind && *kind ? kind : "?");
    clean(w->program);
    clean(w->kind);
    json_decref(r);
}

static int width_of(const char *s)
{
    return (int)strlen(s);
}

long mkt_list_print(FILE *out, const char *dir)
{
    struct files f = { 0 };
    if (mkt_each_match(dir, MKT_DEFAULT_PATTERN, collect, &f) < 0)
        return -1;
    qsort(f.v, f.n, sizeof *f.v, newest_first);
    struct row *rows = f.n ? calloc(f.n, sizeof *rows) : NULL;
    if (f.n && !rows) {
        free(f.v);
        errno = ENOMEM;
        return -1;
    }
    int wpath = width_of("report"), wprog = width_of("program"), wpid = width_of("pid");
    for (size_t i = 0; i < f.n; i++) {
        fill_row(&rows[i], f.v[i].path);
        if (width_of(rows[i].path) > wpath)
            wpath = width_of(rows[i].path);
        if (rows[i].why[0])
            continue;
        if (width_of(rows[i].program) > wprog)
            wprog = width_of(rows[i].program);
        if (width_of(rows[i].pid) > wpid)
            wpid = width_of(rows[i].pid);
    }
    if (f.n)
        fprintf(out, "%-*s  %-*s  %*s  %-19s  %7s  %9s  %9s  %s\n", wpath, "report", wprog,
                "program", wpid, "pid", "started (UTC)", "ran", "heap peak", "RSS peak", "kind");
    for (size_t i = 0; i < f.n; i++) {
        const struct row *w = &rows[i];
        if (w->why[0])
            fprintf(out, "%-*s  unreadable: %s\n", wpath, w->path, w->why);
        else
            fprintf(out, "%-*s  %-*s  %*s  %-19s  %7s  %9s  %9s  %s\n", wpath, w->path,
                    wprog, w->program, wpid, w->pid, w->started, w->ran, w->heap, w->rss,
                    w->kind);
    }
    free(rows);
    free(f.v);
    return (long)f.n;
}
