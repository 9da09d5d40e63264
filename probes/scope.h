/* scope.h — probe scopes (memkit_probe_begin/end): the open scopes, and
 * for each label what its scopes measured.
 *
 * An open scope lives in memkit's own memory, never the program's heap:
 * one of MK_SCOPE_POOL objects in a static array, claimed with one
 * compare-and-swap on a bitmap word (a thread starts its search at a word
 * of its own, so threads seldom meet); when all are taken, a page from
 * mk_pages_alloc (one mmap, one munmap). Scopes nest freely and may end
 * on another thread than the one that began them.
 *
 * The figures per label live in a lock-free table (labels.h), each updated
 * with its own atomic operation. Nothing here reads /proc: the caller
 * (shim/api_probes.c) measures and hands the figures in. */
#ifndef MK_SCOPE_H
#define MK_SCOPE_H

#include <stddef.h>
#include <stdint.h>

#include "labels.h"

#define MK_SCOPE_POOL 1024      /* open scopes served from the static array */
#define MK_SCOPE_MAGIC 0x6d6b7072u

/* What a scope measured when it began; filled by the caller. */
struct mk_scope {
    uint32_t magic;             /* MK_SCOPE_MAGIC while open */
    int      level;             /* memkit_level_t */
    uint64_t start_ns;          /* monotonic */
    uint64_t heap_begin;        /* heap in use */
    uint64_t peak_begin;        /* the process's heap peak (medium and up), else 0 */
    uint64_t rss_begin;         /* high and up, else 0 */
    int      pressure_begin;    /* critical: 1 when short of memory */
    char     label[MK_LABEL_MAX];
};

/* One ended scope, as the caller measured it. */
struct mk_scope_result {
    int      level;
    uint64_t ns;
    int64_t  growth;            /* heap in use at end minus at begin */
    uint64_t peak;              /* the highest heap in use known for the scope */
    uint64_t rss_end;           /* 0: not read */
    int      pressure;          /* under pressure at begin or end */
    int      compacted;         /* a compaction ran at the end */
};

/* The figures of one label. */
struct mk_scope_stats {
    char     label[MK_LABEL_MAX];
    int      level;             /* the highest level its scopes used */
    uint64_t count;
    uint64_t ns_total, ns_max;
    int64_t  growth_total, growth_max;
    uint64_t peak_max;
    uint64_t rss_max;           /* at the end of its high and critical scopes */
    uint64_t under_pressure;    /* critical scopes that met pressure */
    uint64_t compactions;       /* compactions those triggered */
};

/* A zeroed scope object, or NULL (errno ENOMEM) when the pool is full and
 * no page can be mapped. */
struct mk_scope *mk_scope_alloc(void);
/* Gives the object back (it must have come from mk_scope_alloc). */
void mk_scope_free(struct mk_scope *s);
/* Open scopes now (pool and pages), for tests and the report. */
uint64_t mk_scopes_open(void);

/* Adds an ended scope to its label's figures. -1 when the label table is
 * full (counted in mk_scopes_refused). */
int mk_scope_record(const char *label, const struct mk_scope_result *r);
/* The labels' figures, in table order, at most max; the count. */
size_t mk_scope_list(struct mk_scope_stats *out, size_t max);
uint64_t mk_scopes_refused(void);
/* Forgets the figures (tests; a fork child). Open scopes stay valid. */
void mk_scopes_reset(void);

#endif
