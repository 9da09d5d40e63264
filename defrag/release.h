/* release.h — the allocator's own call for giving free memory back to the
 * system, found at start.
 *
 * glibc: malloc_trim(0), which also reaches inside the heap (the interior
 * pages of free chunks, in every arena), not only its top.
 * jemalloc: mallctl("arena.4096.purge") (4096 = MALLCTL_ARENAS_ALL).
 * gperftools tcmalloc: MallocExtension_ReleaseFreeMemory(); newer tcmalloc:
 * MallocExtension_Internal_ReleaseMemoryToSystem(SIZE_MAX).
 * mimalloc: mi_collect frees only the calling thread's heap, so it cannot
 * be called for the program from another thread: each thread is asked to
 * collect on its next free (see mk_release_collect_here). Not forced: a
 * forced collection walks every page of the thread's heap (50 ms inside
 * the program's free for 512 MiB here) and gives back no more once
 * mimalloc's own eager page reset is on, which the first compaction
 * switches on (release.c).
 *
 * A function is used only where it lives in the same object as the malloc
 * the program gets: a jemalloc that some library links but that is not
 * the program's allocator is never purged for nothing. */
#ifndef MK_RELEASE_H
#define MK_RELEASE_H

enum mk_release_kind {
    MK_RELEASE_NONE,              /* unknown allocator: nothing to call */
    MK_RELEASE_MALLOC_TRIM,
    MK_RELEASE_JEMALLOC_PURGE,
    MK_RELEASE_TCMALLOC_FREE,
    MK_RELEASE_TCMALLOC_INTERNAL,
    MK_RELEASE_MIMALLOC_COLLECT,
};

/* Finds the release call of the allocator whose malloc is real_malloc.
 * At start only: dlsym and dladdr take the loader's lock. */
void mk_release_detect(void *real_malloc);

enum mk_release_kind mk_release_kind(void);
/* "malloc_trim", "arena.4096.purge", ..., or "none". */
const char *mk_release_call_name(void);

/* Makes the release call from the calling thread. 1 when a call was made
 * (for mimalloc: the threads were asked to collect), 0 when there is none. */
int mk_release_run(void);

/* ---- mimalloc: collection on each thread's own next free ---------------- */
/* The current request number; a thread that has not collected for it yet
 * calls mk_release_collect_here() from its free path. */
unsigned mk_release_epoch(void);
/* mi_collect(false) on the calling thread's heap. */
void mk_release_collect_here(void);

#endif
