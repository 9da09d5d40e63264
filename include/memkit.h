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

#ifdef __cplusplus
}
#endif
#endif /* MEMKIT_H */
