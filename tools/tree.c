/* tree.c — collect the reports of one `memkit run` by their run id. */
#include "tree.h"
#include "report_find.h"
#include "report_get.h"
#include "report_load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct collect {
    struct mkt_tree *t;
    const char      *run_id;
    int              err;
};

static int add_if_ours(const char *path, void *arg)
{
    struct collect *c = arg;
    char why[256];
    json_t *doc = mkt_report_load(path, why, sizeof why);
    if (!doc)
        return 0;
    const char *id = mkt_str(doc, "process.run_id");
    if (!id || strcmp(id, c->run_id) != 0) {
        json_decref(doc);
        return 0;
    }
    struct mkt_tree *t = c->t;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        void *r = realloc(t->r, cap * sizeof *t->r);
        if (!r) {
            json_decref(doc);
            c->err = ENOMEM;
            return 1;
        }
        t->r = r;
        t->cap = cap;
    }
    struct mkt_tree_report *e = &t->r[t->n];
    e->doc = doc;
    e->path = strdup(path);
    e->pid = 0;
    e->start = 0;
    if (!e->path) {
        json_decref(doc);
        c->err = ENOMEM;
        return 1;
    }
    mkt_u64(doc, "process.pid", &e->pid);
    mkt_num(doc, "process.start_unix", &e->start);
    t->n++;
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const struct mkt_tree_report *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

int mkt_tree_collect(const char *dir, const char *pattern, const char *run_id,
                     struct mkt_tree *t)
{
    struct collect c = { t, run_id, 0 };
    if (mkt_each_match(dir, pattern, add_if_ours, &c) < 0)
        return -1;
    if (c.err) {
        errno = c.err;
        return -1;
    }
    qsort(t->r, t->n, sizeof *t->r, by_start);
    return 0;
}

void mkt_tree_free(struct mkt_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        json_decref(t->r[i].doc);
        free(t->r[i].path);
    }
    free(t->r);
    t->r = NULL;
    t->n = t->cap = 0;
}
