/* map_cache.c — the mapping cache (memkit_map_* in memkit.h).
 *
 * A mapping is found again by its key — path, byte range (or "the whole
 * file"), mode — in a hash index, and is a hit only while the file is the
 * one mapped: the same device, inode, size and modification time, read by
 * the one stat() each map call makes. A file replaced, shrunk, grown or
 * written since is mapped again (a miss), and the outdated mapping leaves
 * the index: unmapped at once when idle, at its last release when held.
 * A mapping whose pages the SIGBUS guard had to replace with zeros (its
 * file shrank under it) is stale and leaves the same way.
 *
 * Mappings are reference-counted. Idle ones (indexed, no holder) wait on
 * an LRU list, and only they are ever evicted: when the bytes mapped or
 * the number of mappings pass a limit, after a miss and after a release.
 * Held mappings count towards the limits but are never unmapped under the
 * program, so a cache stands above its limits while they are held.
 *
 * Locking. One mutex per cache, held only for index and list work: every
 * system call (stat, open, mmap, munmap) and every malloc and free happens
 * outside it. So the lock is never held for long, and no allocator's fork
 * handler can deadlock against it. pthread_atfork takes every cache's
 * lock around fork, so a child never inherits one taken by a thread it
 * does not have. The list of caches is taken before a cache, never after. */
#include "map_cache.h"
#include "live_list.h"
#include "sigbus_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file a mapping maps, as stat saw it. */
struct file_id {
    dev_t           dev;
    ino_t           ino;
    off_t           size;
    struct timespec mtim;
};

struct lru_node {
    struct lru_node *prev, *next;
};

struct memkit_mapping {
    struct lru_node      lru;          /* first: idle list, when indexed with no holder */
    memkit_map_cache_t  *cache;
    /* the key */
    uint64_t             hash;
    uint64_t             offset, length;   /* length 0: the whole file */
    int                  mode;             /* MEMKIT_MAP_READ or MEMKIT_MAP_WRITE */
    struct file_id       file;
    /* the map */
    unsigned char       *base;         /* page-aligned start */
    size_t               mapped;       /* whole pages */
    unsigned char       *data;         /* the byte at `offset` */
    size_t               size;         /* bytes from data */
    int                  guard;        /* sigbus_guard slot */
    _Atomic uint64_t     zeroed;       /* pages replaced by zeros: stale when not 0 */
    /* under the cache's lock */
    unsigned             refs;
    int                  indexed;      /* a later map of the key finds it */
    memkit_mapping_t    *chain;        /* next in its index bucket, or in a list to unmap */
    char                 path[];
};

struct memkit_map_cache {
    struct mk_live_node  live;         /* first: the list's nodes are caches */
    struct mk_held_lock  lock;
    size_t               max_bytes, max_mappings;
    memkit_mapping_t   **buckets;
    size_t               nbuckets, indexed;
    struct lru_node      idle;         /* sentinel: idle.next is the least recently used */
    uint64_t             hits, misses, evictions;
    uint64_t             mapped_bytes, mappings, in_use;
    _Atomic uint64_t     truncations;
    int                  destroyed;
};

#define FIRST_BUCKETS 64

static size_t page_size;

/* ---- the live caches ----------------------------------------------------------- */

static struct mk_live_list caches = MK_LIVE_LIST_INIT(caches);
static int walked_for_fork;

static void caches_before_fork(void)
{
    /* When this thread is changing the list itself (a signal handler
     * forking), the list cannot be walked: the caches are left as they
     * are. */
    walked_for_fork = mk_held_lock_before_fork(&caches.lock);
    if (walked_for_fork)
        mk_live_each(&caches, node)
            mk_held_lock_before_fork(&((memkit_map_cache_t *)node)->lock);
}

static void caches_after_fork(void)
{
    if (!walked_for_fork)
        return;
    mk_live_each(&caches, node)
        mk_held_unlock_after_fork(&((memkit_map_cache_t *)node)->lock);
    mk_held_unlock_after_fork(&caches.lock);
}

static void first_cache(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    pthread_atfork(caches_before_fork, caches_after_fork, caches_after_fork);
}

/* ---- the index ------------------------------------------------------------------- */

static uint64_t hash_key(const char *path, uint64_t offset, uint64_t length, int mode)
{
    uint64_t h = 0xcbf29ce484222325u;   /* FNV-1a over the path */
    for (const unsigned char *c = (const unsigned char *)path; *c; c++)
        h = (h ^ *c) * 0x100000001b3u;
    uint64_t words[3] = { offset, length, (uint64_t)mode };
    for (int i = 0; i < 3; i++) {       /* then a multiply-xorshift per number */
        h ^= words[i] + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdu;
        h ^= h >> 33;
    }
    return h;
}

static memkit_mapping_t **bucket_of(memkit_map_cache_t *cache, uint64_t hash)
{
    return &cache->buckets[hash & (cache->nbuckets - 1)];
}

static memkit_mapping_t *index_find(memkit_map_cache_t *cache, uint64_t hash, const char *path,
                                    uint64_t offset, uint64_t length, int mode)
{
    for (memkit_mapping_t *m = *bucket_of(cache, hash); m; m = m->chain)
        if (m->hash == hash && m->offset == offset && m->length == length &&
            m->mode == mode && strcmp(m->path, path) == 0)
            return m;
    return NULL;
}

static void index_add(memkit_map_cache_t *cache, memkit_mapping_t *m)
{
    memkit_mapping_t **b = bucket_of(cache, m->hash);
    m->chain = *b;
    *b = m;
    m->indexed = 1;
    cache->indexed++;
}

static void index_remove(memkit_map_cache_t *cache, memkit_mapping_t *m)
{
    memkit_mapping_t **at = bucket_of(cache, m->hash);
    while (*at != m)
        at = &(*at)->chain;
    *at = m->chain;
    m->chain = NULL;
    m->indexed = 0;
    cache->indexed--;
}

/* Doubles the buckets when the index holds more mappings than buckets.
 * Allocates, so the caller does not hold the lock. */
static void index_grow(memkit_map_cache_t *cache, size_t want)
{
    memkit_mapping_t **fresh = calloc(want, sizeof *fresh);
    if (!fresh)
        return;   /* longer chains: slower, still right */
    memkit_mapping_t **old = fresh;
    mk_held_lock(&cache->lock);
    if (cache->buckets && cache->nbuckets < want) {
        old = cache->buckets;
        size_t n = cache->nbuckets;
        cache->buckets = fresh;
        cache->nbuckets = want;
        for (size_t i = 0; i < n; i++) {
            memkit_mapping_t *m = old[i];
            while (m) {
                memkit_mapping_t *next = m->chain;
                memkit_mapping_t **b = bucket_of(cache, m->hash);
                m->chain = *b;
                *b = m;
                m = next;
            }
        }
    }
    mk_held_unlock(&cache->lock);
    free(old);
}

/* ---- idle list and dropping (the caller holds the lock) ------------------------ */

static void idle_push(memkit_map_cache_t *cache, memkit_mapping_t *m)
{
    m->lru.prev = cache->idle.prev;
    m->lru.next = &cache->idle;
    cache->idle.prev->next = &m->lru;
    cache->idle.prev = &m->lru;
}

static void idle_remove(memkit_mapping_t *m)
{
    m->lru.prev->next = m->lru.next;
    m->lru.next->prev = m->lru.prev;
    m->lru.prev = m->lru.next = &m->lru;
}

static int stale(memkit_mapping_t *m)
{
    return atomic_load_explicit(&m->zeroed, memory_order_relaxed) != 0;
}

/* Takes a mapping with no holder out of the cache onto *doomed, to be
 * unmapped once the lock is released. Its range stops being guarded now,
 * so the handler never counts into a cache that may be gone. */
static void drop(memkit_map_cache_t *cache, memkit_mapping_t *m, memkit_mapping_t **doomed)
{
    if (m->indexed)
        index_remove(cache, m);
    idle_remove(m);   /* a no-op for one not on the list */
    mk_sigbus_guard_remove(m->guard);
    cache->mappings--;
    cache->mapped_bytes -= m->mapped;
    m->chain = *doomed;
    *doomed = m;
}

/* No later map finds m: unmapped now when idle, at its last release when
 * held. */
static void forget(memkit_map_cache_t *cache, memkit_mapping_t *m, memkit_mapping_t **doomed)
{
    if (m->refs == 0)
        drop(cache, m, doomed);
    else
        index_remove(cache, m);
}

static int over_limits(const memkit_map_cache_t *cache)
{
    return (cache->max_bytes && cache->mapped_bytes > cache->max_bytes) ||
           (cache->max_mappings && cache->mappings > cache->max_mappings);
}

/* Evicts idle mappings, least recently used first, until the cache is
 * within its limits or nothing idle is left. */
static void evict(memkit_map_cache_t *cache, memkit_mapping_t **doomed)
{
    while (over_limits(cache) && cache->idle.next != &cache->idle) {
        drop(cache, (memkit_mapping_t *)cache->idle.next, doomed);
        cache->evictions++;
    }
}

static void drop_idle(memkit_map_cache_t *cache, memkit_mapping_t **doomed)
{
    while (cache->idle.next != &cache->idle)
        drop(cache, (memkit_mapping_t *)cache->idle.next, doomed);
}

static void hold(memkit_map_cache_t *cache, memkit_mapping_t *m)
{
    if (m->refs++ == 0) {
        idle_remove(m);
        cache->in_use++;
    }
}

/* Unmaps and frees what was dropped; returns the bytes unmapped. */
static size_t unmap_doomed(memkit_mapping_t *doomed)
{
    int saved = errno;
    size_t bytes = 0;
    while (doomed) {
        memkit_mapping_t *next = doomed->chain;
        munmap(doomed->base, doomed->mapped);
        bytes += doomed->mapped;
        free(doomed);
        doomed = next;
    }
    errno = saved;
    return bytes;
}

static void free_cache(memkit_map_cache_t *cache)
{
    mk_held_lock(&caches.lock);
    mk_live_unlink(&cache->live);
    mk_held_unlock(&caches.lock);
    mk_held_lock_destroy(&cache->lock);
    free(cache);
}

/* ---- mapping ------------------------------------------------------------------------ */

static void identify(struct file_id *id, const struct stat *st)
{
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtim = st->st_mtim;
}

static int same_file(const struct file_id *a, const struct file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec;
}

/* What one map call asks for. */
struct request {
    const char *path;
    uint64_t    offset, length;   /* length 0: the whole file */
    int         mode;
    uint64_t    hash;
};

/* The bytes a request maps from a file of st's size: 0, or -1 with errno
 * (EINVAL an empty file, ERANGE a file shorter than the frames asked for,
 * ENODEV not a regular file, EOVERFLOW more than the address space). */
static int bytes_to_map(const struct request *rq, const struct stat *st, size_t *size)
{
    if (!S_ISREG(st->st_mode)) {
        errno = ENODEV;
        return -1;
    }
    uint64_t file = (uint64_t)st->st_size, want = rq->length ? rq->length : file;
    if (rq->length == 0 && file == 0) {
        errno = EINVAL;
        return -1;
    }
    if (rq->offset > file || want > file - rq->offset) {
        errno = ERANGE;
        return -1;
    }
    if (want + rq->offset % page_size > SIZE_MAX - page_size) {
        errno = EOVERFLOW;
        return -1;
    }
    *size = (size_t)want;
    return 0;
}

/* The cached mapping for rq of the file id, held; NULL when there is none.
 * One that is outdated or stale is forgotten on the way. */
static memkit_mapping_t *find(memkit_map_cache_t *cache, const struct request *rq,
                              const struct file_id *id, memkit_mapping_t **doomed)
{
    memkit_mapping_t *m = index_find(cache, rq->hash, rq->path, rq->offset, rq->length, rq->mode);
    if (!m)
        return NULL;
    if (!same_file(&m->file, id) || stale(m)) {
        forget(cache, m, doomed);
        return NULL;
    }
    hold(cache, m);
    cache->hits++;
    return m;
}

/* Maps rq afresh: a mapping of its own, held, not yet in the cache. */
static memkit_mapping_t *map_fresh(memkit_map_cache_t *cache, const struct request *rq)
{
    size_t path_len = strlen(rq->path) + 1;
    memkit_mapping_t *m = calloc(1, sizeof *m + path_len);
    if (!m)
        return NULL;
    memcpy(m->path, rq->path, path_len);
    int writable = rq->mode == MEMKIT_MAP_WRITE;
    int fd = open(rq->path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || bytes_to_map(rq, &st, &m->size) != 0)
        goto fail;
    uint64_t start = rq->offset - rq->offset % page_size;
    size_t span = (size_t)(rq->offset - start) + m->size;
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    m->base = mmap(NULL, span, prot, MAP_SHARED, fd, (off_t)start);
    if (m->base == MAP_FAILED)
        goto fail;
    close(fd);
    fd = -1;
    m->mapped = (span + page_size - 1) & ~(page_size - 1);
    m->data = m->base + (rq->offset - start);
    m->guard = mk_sigbus_guard_add(m->base, m->mapped, prot, &m->zeroed, &cache->truncations);
    if (m->guard < 0) {
        munmap(m->base, span);
        goto fail;
    }
    identify(&m->file, &st);
    m->cache = cache;
    m->hash = rq->hash;
    m->offset = rq->offset;
    m->length = rq->length;
    m->mode = rq->mode;
    m->lru.prev = m->lru.next = &m->lru;
    m->refs = 1;
    return m;
fail:;
    int err = errno;
    if (fd >= 0)
        close(fd);
    free(m);
    errno = err;
    return NULL;
}

static memkit_mapping_t *map(memkit_map_cache_t *cache, struct request *rq)
{
    if (!cache || !rq->path || (rq->mode != MEMKIT_MAP_READ && rq->mode != MEMKIT_MAP_WRITE)) {
        errno = EINVAL;
        return NULL;
    }
    int saved = errno;
    struct stat st;
    size_t size;
    if (stat(rq->path, &st) != 0 || bytes_to_map(rq, &st, &size) != 0)
        return NULL;
    struct file_id id;
    identify(&id, &st);
    rq->hash = hash_key(rq->path, rq->offset, rq->length, rq->mode);

    memkit_mapping_t *doomed = NULL;
    mk_held_lock(&cache->lock);
    memkit_mapping_t *m = find(cache, rq, &id, &doomed);
    mk_held_unlock(&cache->lock);
    unmap_doomed(doomed);
    if (m) {
        errno = saved;
        return m;
    }

    memkit_mapping_t *fresh = map_fresh(cache, rq);
    if (!fresh)
        return NULL;
    size_t grow_to = 0;
    doomed = NULL;
    mk_held_lock(&cache->lock);
    /* Another thread may have mapped the same file meanwhile: take its. */
    m = find(cache, rq, &fresh->file, &doomed);
    if (!m) {
        m = fresh;
        index_add(cache, m);
        cache->misses++;
        cache->mappings++;
        cache->in_use++;
        cache->mapped_bytes += m->mapped;
        evict(cache, &doomed);
        if (cache->indexed > cache->nbuckets)
            grow_to = cache->nbuckets * 2;
    }
    mk_held_unlock(&cache->lock);
    if (m != fresh) {
        mk_sigbus_guard_remove(fresh->guard);
        fresh->chain = doomed;
        doomed = fresh;
    }
    unmap_doomed(doomed);
    if (grow_to)
        index_grow(cache, grow_to);
    errno = saved;
    return m;
}

/* ---- the API ------------------------------------------------------------------------ */

memkit_map_cache_t *memkit_map_cache_create(size_t max_bytes, size_t max_mappings)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    int saved = errno;
    if (mk_sigbus_guard_install() != 0)
        return NULL;
    memkit_map_cache_t *cache = calloc(1, sizeof *cache);
    memkit_mapping_t **buckets = calloc(FIRST_BUCKETS, sizeof *buckets);
    if (!cache || !buckets) {
        free(cache);
        free(buckets);
        errno = ENOMEM;
        return NULL;
    }
    pthread_once(&once, first_cache);
    mk_held_lock_init(&cache->lock);
    cache->max_bytes = max_bytes;
    cache->max_mappings = max_mappings;
    cache->buckets = buckets;
    cache->nbuckets = FIRST_BUCKETS;
    cache->idle.prev = cache->idle.next = &cache->idle;
    mk_held_lock(&caches.lock);
    mk_live_link(&caches, &cache->live);
    mk_held_unlock(&caches.lock);
    errno = saved;
    return cache;
}

memkit_mapping_t *memkit_map_file(memkit_map_cache_t *cache, const char *path, int flags)
{
    struct request rq = { .path = path, .offset = 0, .length = 0, .mode = flags };
    return map(cache, &rq);
}

memkit_mapping_t *memkit_map_frames(memkit_map_cache_t *cache, const char *path,
                                    size_t frame_size, uint64_t first, size_t count, int flags)
{
    if (frame_size == 0 || count == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct request rq = { .path = path, .mode = flags };
    if (__builtin_mul_overflow(first, (uint64_t)frame_size, &rq.offset) ||
        __builtin_mul_overflow((uint64_t)count, (uint64_t)frame_size, &rq.length)) {
        errno = ERANGE;   /* further than any file reaches */
        return NULL;
    }
    return map(cache, &rq);
}

void *memkit_mapping_data(const memkit_mapping_t *m)
{
    if (!m) {
        errno = EINVAL;
        return NULL;
    }
    return m->data;
}

size_t memkit_mapping_size(const memkit_mapping_t *m)
{
    if (!m) {
        errno = EINVAL;
        return 0;
    }
    return m->size;
}

int memkit_mapping_advise(memkit_mapping_t *m, memkit_advice_t advice)
{
    static const int flag[] = {
        [MEMKIT_ADVICE_NORMAL] = MADV_NORMAL,     [MEMKIT_ADVICE_SEQUENTIAL] = MADV_SEQUENTIAL,
        [MEMKIT_ADVICE_RANDOM] = MADV_RANDOM,     [MEMKIT_ADVICE_WILLNEED] = MADV_WILLNEED,
        [MEMKIT_ADVICE_DONTNEED] = MADV_DONTNEED,
    };
    if (!m || (unsigned)advice >= sizeof flag / sizeof flag[0]) {
        errno = EINVAL;
        return -1;
    }
    return madvise(m->base, m->mapped, flag[advice]);
}

int memkit_mapping_sync(memkit_mapping_t *m, int wait)
{
    if (!m) {
        errno = EINVAL;
        return -1;
    }
    if (m->mode != MEMKIT_MAP_WRITE) {
        errno = EBADF;
        return -1;
    }
    return msync(m->base, m->mapped, wait ? MS_SYNC : MS_ASYNC);
}

void memkit_mapping_release(memkit_mapping_t *m)
{
    if (!m)
        return;
    memkit_map_cache_t *cache = m->cache;
    memkit_mapping_t *doomed = NULL;
    mk_held_lock(&cache->lock);
    if (--m->refs == 0) {
        cache->in_use--;
        if (!m->indexed || stale(m)) {
            drop(cache, m, &doomed);
        } else {
            idle_push(cache, m);
            evict(cache, &doomed);
        }
    }
    int last = cache->destroyed && cache->mappings == 0;
    mk_held_unlock(&cache->lock);
    unmap_doomed(doomed);
    if (last)
        free_cache(cache);
}

int memkit_map_unmap(memkit_map_cache_t *cache, const char *path)
{
    if (!cache || !path) {
        errno = EINVAL;
        return -1;
    }
    memkit_mapping_t *doomed = NULL;
    int found = 0;
    mk_held_lock(&cache->lock);
    for (size_t i = 0; i < cache->nbuckets; i++) {
        memkit_mapping_t *m = cache->buckets[i];
        while (m) {
            memkit_mapping_t *next = m->chain;
            if (strcmp(m->path, path) == 0) {
                forget(cache, m, &doomed);
                found = 1;
            }
            m = next;
        }
    }
    mk_held_unlock(&cache->lock);
    unmap_doomed(doomed);
    if (!found) {
        errno = ENOENT;
        return -1;
    }
    return 0;
}

void memkit_map_clear(memkit_map_cache_t *cache)
{
    if (!cache)
        return;
    memkit_mapping_t *doomed = NULL;
    mk_held_lock(&cache->lock);
    drop_idle(cache, &doomed);
    mk_held_unlock(&cache->lock);
    unmap_doomed(doomed);
}

/* The caller holds the lock. */
static void fill_stats(memkit_map_cache_t *cache, memkit_map_stats_t *s)
{
    s->hits = cache->hits;
    s->misses = cache->misses;
    s->evictions = cache->evictions;
    s->mapped_bytes = cache->mapped_bytes;
    s->mappings = cache->mappings;
    s->in_use = cache->in_use;
    s->truncations = atomic_load_explicit(&cache->truncations, memory_order_relaxed);
}

/* The fields every caller's struct has: all of those in the first header. */
#define STATS_FIXED (offsetof(memkit_map_stats_t, truncations) + sizeof(uint64_t))

int memkit_map_stats(memkit_map_cache_t *cache, memkit_map_stats_t *out)
{
    if (!cache || !out || out->size < STATS_FIXED) {
        errno = EINVAL;
        return -1;
    }
    memkit_map_stats_t s = { .size = out->size };
    mk_held_lock(&cache->lock);
    fill_stats(cache, &s);
    mk_held_unlock(&cache->lock);
    memcpy(out, &s, out->size < sizeof s ? out->size : sizeof s);
    return 0;
}

void memkit_map_cache_destroy(memkit_map_cache_t *cache)
{
    if (!cache)
        return;
    memkit_mapping_t *doomed = NULL;
    mk_held_lock(&cache->lock);
    cache->destroyed = 1;
    for (size_t i = 0; i < cache->nbuckets; i++) {
        memkit_mapping_t *m = cache->buckets[i];
        while (m) {
            memkit_mapping_t *next = m->chain;
            forget(cache, m, &doomed);
            m = next;
        }
    }
    memkit_mapping_t **buckets = cache->buckets;
    cache->buckets = NULL;
    cache->nbuckets = 0;
    int last = cache->mappings == 0;
    mk_held_unlock(&cache->lock);
    unmap_doomed(doomed);
    int saved = errno;
    free(buckets);
    errno = saved;
    if (last)
        free_cache(cache);
}

/* ---- for the report and for compaction --------------------------------------------- */

long mk_map_caches_list(struct mk_map_cache_info *out, size_t max)
{
    if (!mk_held_lock_within(&caches.lock, 50))
        return -1;
    long n = 0;
    mk_live_each(&caches, node) {
        memkit_map_cache_t *cache = (memkit_map_cache_t *)node;
        if ((size_t)n < max) {
            struct mk_map_cache_info *info = &out[n];
            memset(info, 0, sizeof *info);
            info->max_bytes = cache->max_bytes;
            info->max_mappings = cache->max_mappings;
            info->stats.size = sizeof info->stats;
            if (mk_held_lock_within(&cache->lock, 10)) {
                info->stats_read = 1;
                info->destroyed = cache->destroyed;
                fill_stats(cache, &info->stats);
                mk_held_unlock(&cache->lock);
            }
        }
        n++;
    }
    mk_held_unlock(&caches.lock);
    return n;
}

size_t mk_map_caches_drain(void)
{
    memkit_mapping_t *doomed = NULL;
    if (mk_held_here(&caches.lock))
        return 0;
    mk_held_lock(&caches.lock);
    mk_live_each(&caches, node) {
        memkit_map_cache_t *cache = (memkit_map_cache_t *)node;
        if (mk_held_here(&cache->lock))
            continue;
        mk_held_lock(&cache->lock);
        drop_idle(cache, &doomed);
        mk_held_unlock(&cache->lock);
    }
    mk_held_unlock(&caches.lock);
    return unmap_doomed(doomed);
}
