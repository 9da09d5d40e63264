/* report_figures.h — figures of a checked report (report_load.h) that
 * take more than one field to know, shared by --diff and --prom: the
 * compaction totals (from the "compaction" object, or counted from the
 * "compactions" list in reports written before it), the pools with a
 * label each that is unique within the report, and the start time. */
#ifndef MKT_REPORT_FIGURES_H
#define MKT_REPORT_FIGURES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MKT_REASONS_MAX 16   /* the four known reasons and a few a newer memkit may add */

struct mkt_compaction_figs {
    int      present;       /* a "compaction" object, or compactions listed */
    uint64_t count;         /* compactions made (listed or not) */
    uint64_t returned;      /* bytes of RSS they gave back */
    double   seconds;       /* time spent in them */
    size_t   nreasons;
    struct {
        const char *reason; /* static for the known four, else into the report */
        uint64_t    count;
    } by_reason[MKT_REASONS_MAX];   /* threshold, interval, pressure, manual first, always */
};

void mkt_compaction_figs(const json_t *report, struct mkt_compaction_figs *out);

struct mkt_pool_figs {
    char     label[80];     /* the pool's name; "#I" (its index) when unnamed; a
                               name seen before gets "NAME#I" */
    uint64_t frame_size, in_use, pooled, allocated, hits, misses;
    unsigned have;          /* MKT_POOL_* bits: the fields the entry has */
};
enum {
    MKT_POOL_FRAME_SIZE = 1, MKT_POOL_IN_USE = 2, MKT_POOL_POOLED = 4,
    MKT_POOL_ALLOCATED = 8, MKT_POOL_HITS = 16, MKT_POOL_MISSES = 32,
};

/* The entries of "pools" that are objects, in the report's order; *out
 * is malloc'd (NULL when there are none). */
size_t mkt_pool_figs(const json_t *report, struct mkt_pool_figs **out);

/* The process's start as Unix seconds: process.start_unix, else
 * process.start parsed (ISO 8601 UTC). 0 and *out set; -1 when neither. */
int mkt_start_unix(const json_t *report, double *out);

#endif
