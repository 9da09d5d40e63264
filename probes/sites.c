/* sites.c — the sampled call sites (see sites.h).
 *
 * Live at peak. The figure a reader wants is each site's share of the heap
 * when the heap was largest. memkit keeps it from the samples themselves:
 * the sum of all sites' live estimates is an estimate of the heap, and
 * when that sum passes its last snapshot by more than 1/64 every site's
 * live figure is copied to its peak figure (the sample that makes the new
 * high included: one large block can be the whole peak). Snapshots thus cost O(sites) about log(peak)/log(65/64)
 * times over a run (a few hundred), never on a free, and the recorded peak
 * is within 1/64 of the sampled maximum; the report settles a last
 * snapshot when the end stands higher than the last one. The counters'
 * own heap peak (exact up to batching) is not used: it is kept in
 * counters.c on the fold path, which must stay free of O(sites) work. */
#include "sites.h"
#include "real.h"

#include <string.h>

/* uthash takes its memory from memkit's own pages, and an allocation that
 * fails leaves the table as it was instead of exiting the program. */
#define uthash_malloc(sz) mk_pages_alloc(sz)
#define uthash_free(ptr, sz) mk_pages_free((ptr), (sz))
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

struct entry {
    UT_hash_handle hh;
    struct mk_site site;         /* ends with the stack: the key */
};

/* 0, or the holder's id (the address of its own `me`): whether this very
 * thread holds the lock is then one compare, with no moment between taking
 * the lock and saying so. A signal handler that interrupted the holder
 * (and forks, or exits and so writes the report) must neither wait for
 * its own thread nor read a table caught in the middle of a change. */
static uintptr_t sites_lock;
static __thread char me __attribute__((tls_model("initial-exec")));

static uintptr_t my_id(void)
{
    return (uintptr_t)&me;
}
static struct entry *table;
static struct mk_site **by_index;    /* MK_SITES_MAX slots, mapped at first use */
static uint32_t count;
static struct mk_site *other;        /* where stacks go once the table is full */
static int64_t live_total, peak_total, snap_total;

/* A bump arena for entries: chunks from mk_pages_alloc, never freed. */
#define CHUNK_BYTES (256u * 1024u)
static char *chunk;
static size_t chunk_used = CHUNK_BYTES;

static void *arena_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > CHUNK_BYTES)
        return NULL;
    if (chunk_used + n > CHUNK_BYTES) {
        char *c = mk_pages_alloc(CHUNK_BYTES);
        if (!c)
            return NULL;
        chunk = c;
        chunk_used = 0;
    }
    void *p = chunk + chunk_used;
    chunk_used += n;
    return p;
}

/* Takes the lock; gives up (0) while it waits once *stop is set, when
 * stop is not NULL. */
static int take(const int *stop)
{
    uintptr_t id = my_id(), expect = 0;
    while (!__atomic_compare_exchange_n(&sites_lock, &expect, id, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        while (__atomic_load_n(&sites_lock, __ATOMIC_RELAXED)) {
            if (stop && __atomic_load_n(stop, __ATOMIC_SEQ_CST))
                return 0;
            __builtin_ia32_pause();
        }
        expect = 0;
    }
    return 1;
}

void mk_sites_lock(void)
{
    take(NULL);
}

int mk_sites_lock_unless_forking(const int *forks_pending)
{
    return take(forks_pending);
}

void mk_sites_unlock(void)
{
    __atomic_store_n(&sites_lock, 0, __ATOMIC_RELEASE);
}

int mk_sites_held_here(void)
{
    return __atomic_load_n(&sites_lock, __ATOMIC_RELAXED) == my_id();
}

int mk_sites_lock_unless_held_here(void)
{
    if (mk_sites_held_here())
        return 0;
    mk_sites_lock();
    return 1;
}

void mk_sites_after_fork_child(void)
{
    /* Held by this thread: a signal handler forked in the middle of this
     * thread's own change, which finishes (and unlocks) in the child too
     * if the handler returns. Held by another thread: it is gone. */
    if (!mk_sites_held_here())
        __atomic_store_n(&sites_lock, 0, __ATOMIC_RELEASE);
}

static struct mk_site *new_site(const uintptr_t *ips, unsigned depth)
{
    if (!by_index) {
        by_index = mk_pages_alloc(sizeof *by_index * MK_SITES_MAX);
        if (!by_index)
            return NULL;
    }
    struct entry *e = arena_alloc(sizeof *e + sizeof(uintptr_t) * (depth ? depth : 1));
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->site.index = count;
    e->site.depth = depth;
    if (depth)
        memcpy(e->site.ips, ips, sizeof(uintptr_t) * depth);
    else
        e->site.ips[0] = 0;
    by_index[count++] = &e->site;
    return &e->site;
}

struct mk_site *mk_sites_get(const uintptr_t *ips, unsigned depth)
{
    struct entry *e = NULL;
    size_t keylen = sizeof(uintptr_t) * depth;
    if (depth)
        HASH_FIND(hh, table, ips, keylen, e);
    if (e)
        return &e->site;
    if (depth == 0 || count >= MK_SITES_MAX - 1) {
        if (!other)
            other = new_site(NULL, 0);
        return other;
    }
    struct mk_site *s = new_site(ips, depth);
    if (!s)
        return NULL;
    e = (struct entry *)((char *)s - offsetof(struct entry, site));
    HASH_ADD(hh, table, site.ips, keylen, e);
    return s;
}

static void snapshot(void)
{
    for (uint32_t i = 0; i < count; i++)
        by_index[i]->peak_live_bytes = by_index[i]->live_bytes;
    snap_total = live_total;
}

void mk_sites_live_change(struct mk_site *s, int64_t delta)
{
    s->live_bytes += delta;
    live_total += delta;
    if (live_total > peak_total)
        peak_total = live_total;
    if (delta > 0 && live_total > snap_total + snap_total / 64)
        snapshot();
}

void mk_sites_settle_peak(void)
{
    if (live_total > snap_total)
        snapshot();
}

uint32_t mk_sites_count(void)
{
    return count;
}

struct mk_site *mk_sites_at(uint32_t index)
{
    return index < count ? by_index[index] : NULL;
}

int64_t mk_sites_live_total(void)
{
    return live_total;
}

int64_t mk_sites_peak_total(void)
{
    return peak_total;
}
