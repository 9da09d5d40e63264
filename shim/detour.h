/* detour.h — the program's malloc and free while glibc's arenas are locked
 * by a compaction.
 *
 * malloc_trim(0) holds each arena's lock while it walks that arena: about
 * 150 ms for 1 GiB freed in one piece, 365 ms for 1 GiB freed at random, and
 * any thread that needs the arena meanwhile waits that long. So while memkit
 * trims (the "window"), the wrappers go around the arenas:
 *
 *  - malloc, calloc, realloc and reallocarray are served from the detour
 *    heap: memory memkit maps itself, in size classes of 16 bytes up to
 *    1 KiB and powers of two up to 256 MiB (larger requests go to glibc
 *    and may wait). Its
 *    blocks carry a size word where glibc's would be, so everything that
 *    reads a block's size reads it the same way; it has glibc's
 *    IS_MMAPPED bit, so the fast paths send them out of line as they do
 *    mmapped chunks.
 *  - free of a glibc block is deferred: the block goes on a list (its own
 *    first word is the link) that memkit frees after the trim.
 *  - free of a detour block, at any time, returns it to its class.
 * Nothing changes for the program but addresses and the moment a block
 * really goes back to glibc. posix_memalign and the other aligned
 * allocations still go to glibc (rare; they may wait).
 *
 * Only under glibc (other allocators' release calls do not hold a lock
 * for long). The heap's address range is reserved once (MAP_NORESERVE);
 * when a window opens and no detour block is alive, its pages are given
 * back and it starts empty. */
#ifndef MK_DETOUR_H
#define MK_DETOUR_H

#include "mk_common.h"

#include <stddef.h>
#include <stdint.h>

/* What the wrappers read, in one cache line. Their fast paths test only
 * `on`: a detour block carries glibc's IS_MMAPPED bit in its size word,
 * which sends its free and realloc out of line with mmapped chunks, and
 * the slow paths look for it there. */
struct mk_detour_state {
    uintptr_t base, size;   /* the reserved range; 0/0 until the first window */
    int on;                 /* non-zero while a window is open */
} __attribute__((aligned(64)));
extern struct mk_detour_state mk_detour MK_HIDDEN;

/* Whether p is a detour block (exact; the slow paths). */
static inline int mk_detour_owns(const void *p)
{
    /* size first: it is published after base (0 until then, which owns
     * nothing), so a base read before it could be the 0 of before. */
    uintptr_t size = __atomic_load_n(&mk_detour.size, __ATOMIC_ACQUIRE);
    return (uintptr_t)p - __atomic_load_n(&mk_detour.base, __ATOMIC_RELAXED) < size;
}

static inline int mk_detouring(void)
{
    return __builtin_expect(__atomic_load_n(&mk_detour.on, __ATOMIC_RELAXED), 0);
}

/* A block of at least size bytes (zeroed when zero is set), or NULL with
 * errno ENOMEM. */
void *mk_detour_alloc(size_t size, int zero);
/* Returns a detour block to its class. */
void mk_detour_free(void *p);
/* Bytes usable in a detour block. */
size_t mk_detour_usable(const void *p);
/* Puts a glibc block aside until the window closes. */
void mk_detour_defer(void *p);

/* With no window open: frees the glibc blocks deferred by frees that
 * finished after the window closed, and gives the detour heap's pages
 * back if no block of it is held. 1 when it is empty, 0 when blocks are
 * still held (or a window is open). Only with compactions held off
 * (compact.c's mk_compact_tidy). */
int mk_detour_try_empty(void);
/* Opens the window (the compaction, before the trim): 0, or -1 when the
 * detour heap cannot be had (then nothing is detoured). */
int mk_detour_open(void);
/* Closes it (after the trim) and frees the deferred blocks. */
void mk_detour_close(void);
struct mk_detour_stats {
    uint64_t windows;          /* trims the program's calls went around */
    uint64_t allocations;      /* calls served from the detour heap */
    uint64_t deferred_frees;   /* glibc blocks freed after a trim */
    uint64_t heap_bytes;       /* the detour heap's extent now */
};
void mk_detour_stats(struct mk_detour_stats *out);

/* Fork child: the window is closed, the deferred blocks are forgotten
 * (leaked: the child never frees them), the class locks are free. */
void mk_detour_after_fork_child(void);

#endif
