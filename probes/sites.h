/* sites.h — sampled call sites: stacks of raw return addresses and the
 * estimates gathered under each.
 *
 * One table for the process (uthash keyed by the stack), guarded by a spin
 * lock taken only on the sampling slow path (about once per MEMKIT_SAMPLE
 * bytes per thread) and by the report writer. Its memory comes from
 * mk_pages_alloc, never from the program's heap. Lock order: the sites lock
 * is a leaf; nothing is called under it that may take another lock. */
#ifndef MK_SITES_H
#define MK_SITES_H

#include <stddef.h>
#include <stdint.h>

#define MK_SITES_MAX 65536       /* further stacks share one "[other]" site */
#define MK_STACK_MAX 128

struct mk_site {
    uint32_t index;              /* position in mk_sites_at() */
    uint32_t depth;              /* frames in ips; 0 for the "[other]" site */
    double   alloc_bytes;        /* estimated bytes allocated here */
    double   alloc_calls;        /* estimated calls */
    int64_t  live_bytes;         /* estimated bytes still allocated */
    int64_t  peak_live_bytes;    /* live_bytes when the sampled heap peaked */
    uint64_t samples;
    uintptr_t ips[];             /* innermost first */
};

void mk_sites_lock(void);
/* As mk_sites_lock, for a thread that fork waits for (sample.c): gives up
 * and returns 0 while it waits, once *forks_pending is set. The holder may
 * be the forking thread itself (a signal handler that interrupted it
 * inside the lock forks), which would otherwise wait for this thread
 * for ever. */
int mk_sites_lock_unless_forking(const int *forks_pending);
void mk_sites_unlock(void);
/* This thread holds the lock (a signal handler interrupted it there). */
int mk_sites_held_here(void);
/* For readers that may run in a signal handler (the report): 0, without
 * waiting, when this very thread holds the lock — the table may be half
 * changed; else takes the lock and returns 1. */
int mk_sites_lock_unless_held_here(void);

/* Caller holds the lock. The site of this stack, added when new; NULL only
 * when memkit's own memory ran out. */
struct mk_site *mk_sites_get(const uintptr_t *ips, unsigned depth);

/* Caller holds the lock. Moves a site's live bytes; keeps the sampled
 * heap's peak and each site's share of it (see sites.c). */
void mk_sites_live_change(struct mk_site *s, int64_t delta);

/* Caller holds the lock. Before a report: takes the peak snapshot now if
 * the sampled live total stands above the last one. */
void mk_sites_settle_peak(void);

/* Caller holds the lock. Sites so far, and one by index. */
uint32_t mk_sites_count(void);
struct mk_site *mk_sites_at(uint32_t index);
/* Estimated live bytes over all sites, and its peak. */
int64_t mk_sites_live_total(void);
int64_t mk_sites_peak_total(void);

/* Fork child: the lock may have been held by a thread that is gone; it is
 * released unless this thread holds it. The table stays (the child's
 * blocks are the parent's). */
void mk_sites_after_fork_child(void);

struct mk_json;
/* The report's "sites" and "modules" sections (shim/report_sites.c). */
void mk_report_write_sites(struct mk_json *j);
void mk_report_write_modules(struct mk_json *j);

#endif
