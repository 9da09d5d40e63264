/* memkit.h — the public interface of libmemkit.
 *
 * A program gets everything here either by linking -lmemkit (pkg-config
 * memkit) or, when memkit was only preloaded, by looking the functions up
 * with dlsym(RTLD_DEFAULT, "memkit_stats") and friends.
 *
 * Conventions: every function that can fail returns 0 (or a pointer) on
 * success and -1 (or NULL) with errno set. Statistics structs begin with a
 * `size` field that the caller sets to sizeof(struct); memkit fills only what
 * fits, so a program built against an older header keeps working. */
#ifndef MEMKIT_H
#define MEMKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MEMKIT_BUILDING)
#define MEMKIT_API __attribute__((visibility("default")))
#else
#define MEMKIT_API
#endif

#define MEMKIT_VERSION_MAJOR 0
#define MEMKIT_VERSION_MINOR 1

/* ---- counters ----------------------------------------------------------
 * Byte figures are usable sizes (malloc_usable_size) unless named
 * "requested". Counts are exact for every call memkit saw: per-thread
 * counters are folded in before the struct is filled. */
typedef struct memkit_stats {
    size_t   size;                 /* caller sets sizeof(memkit_stats_t) */
    uint64_t alloc_calls, free_calls, alloc_bytes, free_bytes;
    uint64_t heap_in_use, heap_peak;
    uint64_t mmap_calls, munmap_calls, mmap_in_use, mmap_peak;  /* the program's own maps */
    uint64_t released_bytes, released_since_compact;
    uint64_t rss, rss_peak;
    uint64_t compactions;
    /* --- fields added after the fixed set --- */
    uint64_t requested_bytes;      /* bytes the program asked for */
    uint64_t alloc_failures;       /* allocation calls that returned NULL / an error */
    uint64_t mremap_calls;
    uint64_t allocator_mmap_calls; /* mmaps made by the allocator beneath (jemalloc, ...) */
    uint64_t allocator_mmap_in_use;
} memkit_stats_t;

/* Fills *out (up to out->size bytes). EINVAL: out is NULL or out->size is
 * smaller than the fixed fields. ENOSYS: memkit is loaded but passing
 * calls through (MEMKIT_DISABLE=1, or a setuid program). */
MEMKIT_API int memkit_stats(memkit_stats_t *out);

/* ---- configuration -----------------------------------------------------
 * name is the environment variable's name, e.g. "MEMKIT_REPORT"; value
 * uses the same forms as the environment. ENOENT: no such option;
 * EINVAL: the value does not parse (the option keeps its value).
 * ENOSYS: memkit is passing calls through. */
MEMKIT_API int memkit_config_set(const char *name, const char *value);
/* Writes the effective value as text. ERANGE: buf too small (len counts
 * the terminating NUL). */
MEMKIT_API int memkit_config_get(const char *name, char *buf, size_t len);

/* ---- compaction ----------------------------------------------------------
 * Gives the heap's free memory back to the system with the allocator's own
 * call (glibc malloc_trim(0), jemalloc arena.<all>.purge, tcmalloc
 * ReleaseFreeMemory; mimalloc: each thread collects on its next free).
 * memkit does this by itself, on its monitor thread, when the program has
 * released MEMKIT_COMPACT_THRESHOLD bytes, every MEMKIT_COMPACT_INTERVAL,
 * and under memory pressure; these calls are for programs that know
 * better. */
typedef struct memkit_compact_result {
    size_t   size;                 /* caller sets sizeof(struct) */
    int      ran;                  /* 1 if a release call was made */
    uint64_t rss_before, rss_after;/* bytes */
    double   seconds;
} memkit_compact_result_t;

/* Compacts now, on the calling thread (the call takes as long as the
 * release call: about 260 ms per GiB of fragmented glibc heap). Waits
 * while another compaction runs. out may be NULL; else out->size must
 * cover the fixed fields (EINVAL). ENOSYS: memkit is passing calls
 * through. EBUSY: another compaction held on for more than 10 s. With no
 * known release call, 0 is returned and out->ran is 0. */
MEMKIT_API int memkit_compact(memkit_compact_result_t *out);

/* Counts bytes the program gave back by its own means (a cache dropped, a
 * pool emptied) towards MEMKIT_COMPACT_THRESHOLD. */
MEMKIT_API void memkit_notify_released(size_t bytes);

/* ---- probes --------------------------------------------------------------
 * Measurements a program asks for at points it chooses (seed: the memory
 * probe system). Everything they record goes into the report's "probes"
 * and "checkpoints" sections; `memkit-report` prints them as a table. */
typedef struct memkit_memory_info {
    size_t   size;                 /* caller sets sizeof(struct) */
    uint64_t rss, heap_in_use;     /* this process: resident set, heap in use (exact) */
    uint64_t system_total, system_available;   /* MemTotal, MemAvailable */
    uint64_t limit;                /* cgroup limit, or system_total where none */
    double   usage;                /* used fraction of limit, 0..1 */
} memkit_memory_info_t;

/* Reads this process's and the system's memory and records a checkpoint
 * named label: how often it was passed, the first and last time, the last,
 * lowest and highest RSS, the last heap in use. Labels are cut at 63
 * bytes; the first 256 distinct ones are recorded. Where the process is in
 * a memory cgroup whose limit is below the machine's memory, limit is that
 * limit and usage the cgroup's usage (page cache included) over it; else
 * limit is system_total and usage (total - available) / total. Costs a few
 * small /proc reads, about 30 us (the first call about 100 us more, to
 * find the cgroup). out may be NULL; else out->size must cover the fields
 * above (EINVAL). EINVAL: label is NULL. EIO: /proc could not be read.
 * ENOSYS: memkit is passing calls through. */
MEMKIT_API int memkit_check(const char *label, memkit_memory_info_t *out);

/* 1 when the process's heap in use is above threshold_bytes, else 0; no
 * system call, a few nanoseconds. It compares the heap (what memkit counts
 * as the program allocates), not RSS, which needs a system call; the
 * figure is the one folded so far, short of the exact one by at most
 * 256 KiB per thread. Over the threshold it also logs a warning, at most
 * one a minute. -1 with ENOSYS when memkit is passing calls through. */
MEMKIT_API int memkit_fast_check(uint64_t threshold_bytes);

/* What a probe measures; each level adds to the one before:
 *   LOW       time, and heap growth from the folded figure (as
 *             memkit_fast_check: within 256 KiB per thread; a few ns)
 *   MEDIUM    heap growth and peak exact (a sum over the threads'
 *             counters: about 1 us)
 *   HIGH      RSS at begin and end (about 5 us each; checked against
 *             MEMKIT_WARN)
 *   CRITICAL  the system's and the cgroup's memory at begin and end
 *             (about 30 us each), and a compaction when the scope ends
 *             under memory pressure (unless MEMKIT_PRESSURE=0, or one ran
 *             within MEMKIT_POST_COMPACT_DELAY). */
typedef enum { MEMKIT_LEVEL_LOW, MEMKIT_LEVEL_MEDIUM, MEMKIT_LEVEL_HIGH, MEMKIT_LEVEL_CRITICAL } memkit_level_t;
typedef struct memkit_probe memkit_probe_t;

/* Opens a scope named label (cut at 63 bytes). Heap figures are the whole
 * process's, not the calling thread's: a scope on one thread sees what
 * other threads allocate meanwhile. The peak of a scope is the highest
 * heap in use known for it: exact (within 256 KiB per thread) when the
 * process's heap reached a new high inside it; otherwise the larger of the
 * figures at begin and end, which may be below the true peak. Scopes nest
 * and may be opened on any number of threads; the object lives in
 * memkit's own memory. NULL with errno set: EINVAL (label NULL, or an
 * unknown level), ENOMEM, ENOSYS (memkit is passing calls through). */
MEMKIT_API memkit_probe_t *memkit_probe_begin(const char *label, memkit_level_t level);
/* Closes the scope and adds what it measured to its label's figures in
 * the report (count, time, growth, peak). NULL does nothing; a probe must
 * be ended once. */
MEMKIT_API void memkit_probe_end(memkit_probe_t *probe);

/* MEMKIT_PROBE(label, level) { ... } -- runs the block once inside a
 * probe. Under GCC and Clang the probe also ends when the block is left by
 * break, return or goto (a cleanup attribute); with other compilers only
 * falling off the end of the block ends it, so do not leave it early. */
struct memkit_probe_scope_ {
    memkit_probe_t *probe;
    int             once;
};
#define MEMKIT_CAT2_(a, b) a##b
#define MEMKIT_CAT_(a, b)  MEMKIT_CAT2_(a, b)
#define MEMKIT_SCOPE_VAR_  MEMKIT_CAT_(memkit_scope_, __LINE__)
#if defined(__GNUC__) || defined(__clang__)
static inline void memkit_probe_scope_end_(struct memkit_probe_scope_ *s)
{
    memkit_probe_end(s->probe);
}
#define MEMKIT_PROBE(label, level)                                                   \
    for (struct memkit_probe_scope_ MEMKIT_SCOPE_VAR_                                \
             __attribute__((cleanup(memkit_probe_scope_end_))) =                     \
             { memkit_probe_begin((label), (level)), 1 };                            \
         MEMKIT_SCOPE_VAR_.once; MEMKIT_SCOPE_VAR_.once = 0)
#else
#define MEMKIT_PROBE(label, level)                                                   \
    for (struct memkit_probe_scope_ MEMKIT_SCOPE_VAR_ =                              \
             { memkit_probe_begin((label), (level)), 1 };                            \
         MEMKIT_SCOPE_VAR_.once;                                                     \
         memkit_probe_end(MEMKIT_SCOPE_VAR_.probe), MEMKIT_SCOPE_VAR_.once = 0)
#endif

/* ---- frame pools ---------------------------------------------------------
 * Buffers for frames of one size, reused instead of allocated per frame.
 * Idle buffers wait in a small cache per thread, then on a shared stack;
 * max_pooled bounds idle buffers over all threads (what the pool keeps
 * when nothing is out). Buffers are aligned to 64 bytes, to the page when
 * the frame is a page or more, and are faulted in when first allocated so
 * that a steady state takes no page faults. A frame released and acquired
 * again on the same thread gets the same memory back. The pools work
 * whether memkit is preloaded, linked, or passing calls through. Every
 * call is thread-safe; none is async-signal-safe (as malloc is not). */
typedef enum { MEMKIT_FMT_RGB888, MEMKIT_FMT_YUV420, MEMKIT_FMT_JPEG, MEMKIT_FMT_H264 } memkit_format_t;
typedef struct memkit_pool  memkit_pool_t;
typedef struct memkit_frame memkit_frame_t;
typedef struct memkit_pool_stats {
    size_t   size;                 /* caller sets sizeof(memkit_pool_stats_t) */
    size_t   frame_size;
    uint64_t pooled;               /* idle buffers held by the pool */
    uint64_t allocated;            /* buffers ever allocated from the system */
    uint64_t in_use;               /* frames acquired and not yet released */
    uint64_t hits, misses;         /* acquires served from idle buffers / by allocating */
    /* --- fields added after the fixed set --- */
    uint64_t refused;              /* acquires refused or timed out at max_in_use */
    uint64_t max_in_use;           /* the limit, 0 for none */
    uint64_t peak_in_use;
} memkit_pool_stats_t;

/* RGB888 w*h*3, YUV420 w*h*3/2, JPEG w*h (estimate), H264 w*h/2
 * (estimate). EINVAL: a zero or overflowing size, an unknown format. */
MEMKIT_API memkit_pool_t  *memkit_pool_create(uint32_t width, uint32_t height, memkit_format_t format, size_t max_pooled);
MEMKIT_API memkit_pool_t  *memkit_pool_create_size(size_t frame_size, size_t max_pooled);
/* A frame with one owner. NULL with ENOMEM when memory ran out, EAGAIN
 * when max_in_use frames are out. */
MEMKIT_API memkit_frame_t *memkit_frame_acquire(memkit_pool_t *pool);
/* As acquire, but waits up to timeout_ms for a frame to come back when
 * max_in_use frames are out; NULL with ETIMEDOUT after that (at once for
 * 0). Without a bound it is acquire. */
MEMKIT_API memkit_frame_t *memkit_frame_acquire_timeout(memkit_pool_t *pool, unsigned timeout_ms);
MEMKIT_API void           *memkit_frame_data(const memkit_frame_t *frame);
MEMKIT_API size_t          memkit_frame_size(const memkit_frame_t *frame);
/* One more owner, no copy (one atomic add); returns frame. */
MEMKIT_API memkit_frame_t *memkit_frame_ref(memkit_frame_t *frame);
/* Drops one owner, on any thread; the last returns the buffer. */
MEMKIT_API void            memkit_frame_release(memkit_frame_t *frame);
/* Bounds the frames out at once (0: no bound, the default). */
MEMKIT_API int             memkit_pool_set_max_in_use(memkit_pool_t *pool, size_t max_in_use);
/* A name for the report (copied, up to 47 bytes). */
MEMKIT_API int             memkit_pool_set_name(memkit_pool_t *pool, const char *name);
MEMKIT_API int             memkit_pool_stats(memkit_pool_t *pool, memkit_pool_stats_t *out);
/* Frees idle buffers down to keep; returns how many were freed. */
MEMKIT_API size_t          memkit_pool_trim(memkit_pool_t *pool, size_t keep);
/* Frees the idle buffers; frames still out stay valid, and the pool goes
 * with the last of them. */
MEMKIT_API void            memkit_pool_destroy(memkit_pool_t *pool);

/* ---- frame ring ------------------------------------------------------------
 * The last `capacity` frames of a stream, in shared memory (memfd), read
 * in place. One writer; any number of readers on other threads. A frame
 * is written at position 0, 1, 2, ...; reading a position gives a pointer
 * into the ring, valid until the writer has written `capacity` frames
 * more: a reader that may lag checks, after using the frame, that
 * memkit_ring_read(ring, pos) still gives non-NULL. */
typedef struct memkit_ring memkit_ring_t;
/* EINVAL: capacity or frame_size 0, or too big; ENOMEM: no memory, or
 * larger than the machine's memory. */
MEMKIT_API memkit_ring_t *memkit_ring_create(size_t capacity, size_t frame_size);
/* Copies one frame in; returns its position, or -1 with EINVAL when len
 * is not the frame size. */
MEMKIT_API int64_t        memkit_ring_write(memkit_ring_t *ring, const void *data, size_t len);
/* The frame at pos; NULL with ENODATA when pos was overwritten, EAGAIN
 * when it has not been written yet. */
MEMKIT_API const void    *memkit_ring_read(memkit_ring_t *ring, uint64_t pos);
/* Frames that can be read now: min(written, capacity). */
MEMKIT_API size_t         memkit_ring_available(const memkit_ring_t *ring);
/* Frames written so far: the position the next write gets. The readable
 * positions are [written - available, written). */
MEMKIT_API uint64_t       memkit_ring_written(const memkit_ring_t *ring);
MEMKIT_API void           memkit_ring_destroy(memkit_ring_t *ring);

/* ---- mapping cache -----------------------------------------------------------
 * Files mapped through a cache: mapping the same file (or frame range)
 * again is a hit and costs no system call. A mapping is held from map to
 * release; the cache unmaps the least recently used idle mappings once
 * the bytes mapped or the number of mappings pass the cache's limits
 * (mappings in use are never unmapped under the program).
 * A file that shrinks while mapped: pages past its new end read as zeros
 * instead of raising SIGBUS (memkit handles SIGBUS for its own mappings
 * only, and counts it in `truncations`), and the stale mapping leaves the
 * cache. A file replaced or removed: the next map of the path maps the
 * new file; a mapping held meanwhile keeps the old contents. */
typedef struct memkit_map_cache memkit_map_cache_t;
typedef struct memkit_mapping   memkit_mapping_t;
#define MEMKIT_MAP_READ  0
#define MEMKIT_MAP_WRITE 1   /* read-write, shared with the file */
typedef enum {
    MEMKIT_ADVICE_NORMAL, MEMKIT_ADVICE_SEQUENTIAL, MEMKIT_ADVICE_RANDOM,
    MEMKIT_ADVICE_WILLNEED, MEMKIT_ADVICE_DONTNEED
} memkit_advice_t;
typedef struct memkit_map_stats {
    size_t   size;                 /* caller sets sizeof(memkit_map_stats_t) */
    uint64_t hits, misses, evictions;
    uint64_t mapped_bytes, mappings, in_use;
    uint64_t truncations;          /* pages replaced by zeros after a file shrank */
} memkit_map_stats_t;

/* Limits: 0 means none of that kind. */
MEMKIT_API memkit_map_cache_t *memkit_map_cache_create(size_t max_bytes, size_t max_mappings);
/* The whole file. Errors as open/mmap; EINVAL for an empty file. */
MEMKIT_API memkit_mapping_t *memkit_map_file(memkit_map_cache_t *cache, const char *path, int flags);
/* Frames first .. first+count-1 of a raw file of frame_size frames, no
 * copy: data points at frame `first`. ERANGE: the file is shorter. */
MEMKIT_API memkit_mapping_t *memkit_map_frames(memkit_map_cache_t *cache, const char *path,
                                               size_t frame_size, uint64_t first, size_t count,
                                               int flags);
MEMKIT_API void   *memkit_mapping_data(const memkit_mapping_t *m);
MEMKIT_API size_t  memkit_mapping_size(const memkit_mapping_t *m);
MEMKIT_API int     memkit_mapping_advise(memkit_mapping_t *m, memkit_advice_t advice);
/* msync; wait: 1 for MS_SYNC, 0 for MS_ASYNC. EBADF for a read-only mapping. */
MEMKIT_API int     memkit_mapping_sync(memkit_mapping_t *m, int wait);
MEMKIT_API void    memkit_mapping_release(memkit_mapping_t *m);
/* Drops every cached mapping of path (held ones go at their release).
 * ENOENT: none was cached. */
MEMKIT_API int     memkit_map_unmap(memkit_map_cache_t *cache, const char *path);
/* Drops every idle mapping. */
MEMKIT_API void    memkit_map_clear(memkit_map_cache_t *cache);
MEMKIT_API int     memkit_map_stats(memkit_map_cache_t *cache, memkit_map_stats_t *out);
/* Held mappings stay valid; the cache goes with the last of them. */
MEMKIT_API void    memkit_map_cache_destroy(memkit_map_cache_t *cache);

#ifdef __cplusplus
}
#endif
#endif /* MEMKIT_H */
