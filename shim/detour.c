/* detour.c — the detour heap and the deferred frees (detour.h).
 *
 * Blocks: [class word][size word][user bytes...], 16-byte aligned. The size
 * word sits where glibc keeps a chunk's size and reads as an mmapped
 * chunk's (usable + 16, with IS_MMAPPED): mk_usable_size() reads a detour
 * block exactly as it reads a glibc one, and the wrappers' fast paths send
 * it out of line on that bit. The usable size is the one glibc gives a
 * fresh chunk for the request (glibc_like_usable), so malloc_usable_size
 * answers as it would have without the detour; the block's class is the
 * smallest that holds that many bytes. The class word is the class
 * index. A freed block of 64 KiB or more gives its pages back at once.
 *
 * Each class has a free list under a spin lock held for two stores (a fork
 * child that inherits one held simply resets it: at worst a block leaks).
 * New blocks are cut from the reserved range with one atomic add. */
#include "detour.h"
#include "real.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct mk_detour_state mk_detour;

#define SMALL_CLASSES 64               /* 16, 32, ... 1024 */
#define CLASSES       (SMALL_CLASSES + 18)  /* then 2K, 4K, ... 256M */
#define HEADER        16
#define BIG           (64 * 1024)   /* from here a freed block's pages go back */

static uint64_t used;                  /* bytes cut from the range so far */
static uint64_t live;                  /* detour blocks not yet freed */
static struct { int lock; void *head; } lists[CLASSES];
static void *deferred;                 /* glibc blocks to free after the window */
static struct mk_detour_stats stats;

static size_t class_size(unsigned c)
{
    return c < SMALL_CLASSES ? (size_t)(c + 1) * 16 : (size_t)2048 << (c - SMALL_CLASSES);
}

/* What glibc's malloc_usable_size says of a fresh chunk for a request of
 * size bytes: the request plus its size word, rounded up to 16, at least
 * 32, less the size word; from 32 MiB (DEFAULT_MMAP_THRESHOLD_MAX), where
 * glibc always maps, the mapping's page-rounded length less its two
 * header words. Between 128 KiB and 32 MiB glibc maps too while its
 * dynamic threshold is low and its top chunk too small: there the chunk
 * form is a guess (the common one in a program that has freed large
 * blocks before). So is any request that glibc would have served from a
 * larger free chunk. Only for size <= 256 MiB (no overflow). */
static size_t glibc_like_usable(size_t size)
{
    size_t chunk = (size + 8 + 15) & ~(size_t)15;
    if (chunk < 32)
        chunk = 32;
    if (size < ((size_t)32 << 20))
        return chunk - 8;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return ((chunk + 8 + page - 1) & ~(page - 1)) - 16;
}

/* The smallest class that holds size, or CLASSES when none does. */
static unsigned class_of(size_t size)
{
    if (size <= 1024)
        return size ? (unsigned)((size - 1) / 16) : 0;
    for (unsigned c = SMALL_CLASSES; c < CLASSES; c++)
        if (size <= class_size(c))
            return c;
    return CLASSES;
}

static void lock(int *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void unlock(int *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static uint64_t *words(const void *p)
{
    return (uint64_t *)((uintptr_t)p - HEADER);
}

static void *finish(char *block, uint64_t class_word, size_t usable)
{
    uint64_t *w = (uint64_t *)block;
    w[0] = class_word;
    w[1] = (usable + 16) | 2;   /* as an mmapped chunk's size word */
    return block + HEADER;
}

/* `live` counts a block from before it is taken until after it is back on
 * its list, so that mk_detour_try_empty, seeing 0 once the window is
 * closed, knows no block is held or in transit and may empty the heap. */
static void *give_up(void)
{
    __atomic_sub_fetch(&live, 1, __ATOMIC_RELEASE);
    return NULL;
}

void *mk_detour_alloc(size_t size, int zero)
{
    /* A thread that saw the window open may get here after it closed,
     * while mk_detour_try_empty wipes the heap. So it counts itself in
     * `live` first and then looks at the window again (try_empty reads
     * `live` after the window closed; both in one total order): either
     * try_empty sees it and leaves the heap alone, or it sees the window
     * closed and goes to glibc. */
    __atomic_add_fetch(&live, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&mk_detour.on, __ATOMIC_SEQ_CST))
        return give_up();
    if (size > class_size(CLASSES - 1))
        return give_up();   /* above 256M: the caller goes to glibc */
    size_t usable = glibc_like_usable(size);
    unsigned c = class_of(usable);
    if (c == CLASSES)
        return give_up();
    size_t slot = class_size(c);
    lock(&lists[c].lock);
    char *p = lists[c].head;
    if (p)
        lists[c].head = *(void **)p;
    unlock(&lists[c].lock);
    if (p) {
        if (zero)
            memset(p, 0, usable);
        __atomic_add_fetch(&stats.allocations, 1, __ATOMIC_RELAXED);
        return finish(p - HEADER, c, usable);
    }
    /* Cut only what fits: a request too big for what is left must not use
     * up the range for the small ones after it. */
    uint64_t at = __atomic_load_n(&used, __ATOMIC_RELAXED);
    do {
        if (at + HEADER + slot > mk_detour.size)
            return give_up();   /* the range is full: the caller goes to glibc */
    } while (!__atomic_compare_exchange_n(&used, &at, at + HEADER + slot, 1,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    __atomic_add_fetch(&stats.allocations, 1, __ATOMIC_RELAXED);
    return finish((char *)(mk_detour.base + at), c, usable);   /* fresh pages are zero */
}

void mk_detour_free(void *p)
{
    unsigned c = (unsigned)words(p)[0];
    size_t usable = class_size(c);
    if (usable >= BIG) {
        /* Its pages go back now; the link word's page stays. */
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        uintptr_t from = ((uintptr_t)p + sizeof(void *) + page - 1) & ~(page - 1);
        uintptr_t to = ((uintptr_t)p + usable) & ~(page - 1);
        if (to > from) {
            int saved = errno;
            madvise((void *)from, to - from, MADV_DONTNEED);
            errno = saved;
        }
    }
    lock(&lists[c].lock);
    *(void **)p = lists[c].head;
    lists[c].head = p;
    unlock(&lists[c].lock);
    __atomic_sub_fetch(&live, 1, __ATOMIC_RELEASE);
}

size_t mk_detour_usable(const void *p)
{
    return (size_t)(words(p)[1] & ~(uint64_t)7) - 16;
}

void mk_detour_defer(void *p)
{
    __atomic_add_fetch(&stats.deferred_frees, 1, __ATOMIC_RELAXED);
    void *head = __atomic_load_n(&deferred, __ATOMIC_RELAXED);
    do
        *(void **)p = head;
    while (!__atomic_compare_exchange_n(&deferred, &head, p, 1,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

static void free_deferred(void)
{
    void *p = __atomic_exchange_n(&deferred, NULL, __ATOMIC_ACQUIRE);
    while (p) {
        void *next = *(void **)p;
        mk_real.free(p);
        p = next;
    }
}

/* Reserves the range once: 64 GiB of address space (a smaller one where
 * overcommit is strict); never committed unless used. */
static int reserve(void)
{
    if (mk_detour.size)
        return 0;
    static const unsigned bits[] = { 36, 32, 28 };
    for (size_t i = 0; i < sizeof bits / sizeof *bits; i++) {
        uintptr_t size = (uintptr_t)1 << bits[i];
        char *m = mk_real.mmap(NULL, size, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            continue;
        mk_detour.base = (uintptr_t)m;
        __atomic_store_n(&mk_detour.size, size, __ATOMIC_RELEASE);
        return 0;
    }
    return -1;
}

/* Empties the heap when no window is open and no block is held or in
 * transit (see `live`): its pages go back and the next window starts
 * afresh. */
int mk_detour_try_empty(void)
{
    if (__atomic_load_n(&mk_detour.on, __ATOMIC_SEQ_CST))
        return 0;
    int saved = errno;
    /* A free that saw the window open and was held up past the close
     * leaves its block on the list: it goes back to glibc now. */
    free_deferred();
    uint64_t extent = __atomic_load_n(&used, __ATOMIC_RELAXED);
    if (!extent || __atomic_load_n(&live, __ATOMIC_SEQ_CST) != 0) {
        errno = saved;
        return !extent;
    }
    madvise((void *)mk_detour.base, extent < mk_detour.size ? extent : mk_detour.size,
            MADV_DONTNEED);
    for (unsigned c = 0; c < CLASSES; c++)
        lists[c].head = NULL;
    __atomic_store_n(&used, 0, __ATOMIC_RELAXED);
    errno = saved;
    return 1;
}

int mk_detour_open(void)
{
    int saved = errno;
    if (reserve() < 0) {
        errno = saved;
        return -1;
    }
    mk_detour_try_empty();   /* and frees what was deferred after the last window */
    __atomic_add_fetch(&stats.windows, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&mk_detour.on, 1, __ATOMIC_SEQ_CST);
    errno = saved;
    return 0;
}

void mk_detour_close(void)
{
    __atomic_store_n(&mk_detour.on, 0, __ATOMIC_SEQ_CST);
    /* A free that saw the window open may still be putting its block on
     * the list: give it a moment, then free what is there. */
    struct timespec pause = { 0, 1000000 };
    nanosleep(&pause, NULL);
    free_deferred();
}

void mk_detour_stats(struct mk_detour_stats *out)
{
    out->windows = __atomic_load_n(&stats.windows, __ATOMIC_RELAXED);
    out->allocations = __atomic_load_n(&stats.allocations, __ATOMIC_RELAXED);
    out->deferred_frees = __atomic_load_n(&stats.deferred_frees, __ATOMIC_RELAXED);
    out->heap_bytes = __atomic_load_n(&used, __ATOMIC_RELAXED);
}

void mk_detour_after_fork_child(void)
{
    stats.windows = stats.allocations = stats.deferred_frees = 0;
    mk_detour.on = 0;
    deferred = NULL;
    for (unsigned c = 0; c < CLASSES; c++)
        lists[c].lock = 0;
}
