/* tree.h — the reports one `memkit run` left: every report in the folder
 * whose process.run_id is the run's id. */
#ifndef MKT_TREE_H
#define MKT_TREE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct mkt_tree_report {
    json_t  *doc;
    char    *path;
    uint64_t pid;
    double   start;   /* process.start_unix, or 0: the order of the listing */
};

struct mkt_tree {
    struct mkt_tree_report *r;
    size_t n, cap;
};

/* Loads every valid report matching pattern in dir with this run id,
 * sorted by start time then pid. Files that are not reports, or are of
 * another run, are skipped in silence: the folder is shared. 0, or -1 with
 * errno (folder unreadable, ENOMEM). */
int mkt_tree_collect(const char *dir, const char *pattern, const char *run_id,
                     struct mkt_tree *t);
void mkt_tree_free(struct mkt_tree *t);

#endif
