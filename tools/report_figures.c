/* report_figures.c — figures that take more than one field (see
 * report_figures.h). */
#include "report_figures.h"
#include "report_get.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const known_reasons[] = { "threshold", "interval", "pressure", "manual" };
#define KNOWN_REASONS (sizeof known_reasons / sizeof known_reasons[0])

/* The slot of a reason, added when there is room. */
static uint64_t *reason_slot(struct mkt_compaction_figs *c, const char *reason)
{
    for (size_t i = 0; i < c->nreasons; i++)
        if (strcmp(c->by_reason[i].reason, reason) == 0)
            return &c->by_reason[i].count;
    if (c->nreasons == MKT_REASONS_MAX)
        return NULL;
    c->by_reason[c->nreasons].reason = reason;
    c->by_reason[c->nreasons].count = 0;
    return &c->by_reason[c->nreasons++].count;
}

void mkt_compaction_figs(const json_t *r, struct mkt_compaction_figs *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < KNOWN_REASONS; i++)
        reason_slot(c, known_reasons[i]);

    const json_t *list = mkt_at(r, "compactions");
    const json_t *obj = mkt_at(r, "compaction");
    c->present = json_is_object(obj) || json_array_size(list) > 0;

    /* From the list first: all there is in a report older than the
     * "compaction" object, whose figures replace these when present. */
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        uint64_t before = 0, after = 0, returned;
        double sec;
        if (mkt_u64(e, "returned_bytes", &returned) < 0) {
            mkt_u64(e, "rss_before", &before);
            mkt_u64(e, "rss_after", &after);
            returned = before > after ? before - after : 0;
        }
        c->returned += returned;
        if (mkt_num(e, "seconds", &sec) == 0 && sec > 0)
            c->seconds += sec;
        const char *reason = mkt_str(e, "reason");
        uint64_t *slot = reason_slot(c, reason ? reason : "?");
        if (slot)
            (*slot)++;
    }
    c->count = json_array_size(list);
    if (!json_is_object(obj))
        return;

    uint64_t count;
    if (mkt_u64(obj, "count", &count) == 0 && count >= c->count)
        c->count = count;
    mkt_u64(obj, "returned_bytes", &c->returned);
    mkt_num(obj, "seconds", &c->seconds);
    const json_t *by = mkt_at(obj, "by_reason");
    if (!json_is_object(by))
        return;
    /* The object counts every compaction, listed or not. */
    for (size_t k = 0; k < c->nreasons; k++)
        c->by_reason[k].count = 0;
    const char *reason;
    json_t *v;
    json_object_foreach((json_t *)by, reason, v) {
        uint64_t *slot = reason_slot(c, reason);
        if (slot && json_is_integer(v) && json_integer_value(v) > 0)
            *slot = (uint64_t)json_integer_value(v);
    }
}

/* ---- pools ------------------------------------------------------------------- */

static const struct { const char *key; unsigned bit; size_t at; } pool_fields[] = {
    { "frame_size", MKT_POOL_FRAME_SIZE, offsetof(struct mkt_pool_figs, frame_size) },
    { "in_use",     MKT_POOL_IN_USE,     offsetof(struct mkt_pool_figs, in_use) },
    { "pooled",     MKT_POOL_POOLED,     offsetof(struct mkt_pool_figs, pooled) },
    { "allocated",  MKT_POOL_ALLOCATED,  offsetof(struct mkt_pool_figs, allocated) },
    { "hits",       MKT_POOL_HITS,       offsetof(struct mkt_pool_figs, hits) },
    { "misses",     MKT_POOL_MISSES,     offsetof(struct mkt_pool_figs, misses) },
};

size_t mkt_pool_figs(const json_t *r, struct mkt_pool_figs **out)
{
    const json_t *list = mkt_at(r, "pools");
    size_t n = json_array_size(list), m = 0;
    *out = NULL;
    if (n == 0 || !(*out = calloc(n, sizeof **out)))
        return 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(list, i);
        if (!json_is_object(e))
            continue;
        struct mkt_pool_figs *p = &(*out)[m];
        for (size_t k = 0; k < sizeof pool_fields / sizeof pool_fields[0]; k++)
            if (mkt_u64(e, pool_fields[k].key, (uint64_t *)((char *)p + pool_fields[k].at)) == 0)
                p->have |= pool_fields[k].bit;
        const char *name = mkt_str(e, "name");
        if (!name)
            name = mkt_str(e, "label");
        if (!name || !*name)
            snprintf(p->label, sizeof p->label, "#%zu", i);
        else
            snprintf(p->label, sizeof p->label, "%.60s", name);
        /* Unique labels: two series with the same labels would be one. The
         * index makes the label unique unless a pool is named like that. */
        for (size_t k = 0; k < m; k++)
            if (strcmp((*out)[k].label, p->label) == 0) {
                char base[sizeof p->label];
                memcpy(base, p->label, sizeof base);
                snprintf(p->label, sizeof p->label, "%.56s#%zu", base, i);
                break;
            }
        m++;
    }
    if (m == 0) {
        free(*out);
        *out = NULL;
    }
    return m;
}

/* ---- start time ------------------------------------------------------------------ */

int mkt_start_unix(const json_t *r, double *out)
{
    if (mkt_num(r, "process.start_unix", out) == 0)
        return 0;
    const char *s = mkt_str(r, "process.start");
    if (!s)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest)
        return -1;
    double frac = 0;
    if (*rest == '.') {
        char *end;
        frac = strtod(rest, &end);
        rest = end;
    }
    if (strcmp(rest, "Z") != 0)
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (double)t + frac;
    return 0;
}
