/* ring.c — the frame ring (memkit_ring_* in memkit.h).
 *
 * Layout. Frames follow one another as a stream of bytes over the ring's
 * pages (ring_memory.c), which hold capacity + 1 frames rounded up to whole
 * pages: the extra frame is the one being written, so the `capacity`
 * frames a reader may read all stay intact while a write is in progress.
 * Where a frame size is not a page multiple, frames straddle the end of
 * the pages and continue in their second view, so every frame is
 * contiguous. Where the pages could not be mapped twice, frames sit in
 * capacity + 1 fixed slots instead and never straddle. Both layouts are one
 * formula: a frame's offset is (pos * frame_size) mod wrap, computed with
 * pos reduced by the period after which offsets repeat, so that it never
 * overflows.
 *
 * Ordering. The ring's one counter, `written`, lives in the shared head
 * page, so a fork child that shares the frames also shares the count (one
 * writer over both processes). The writer, for frame pos:
 *     fetch_add(written, 0, acq_rel)       announces the copy
 *     memcpy into the frame's bytes
 *     store(written, pos + 1, release)      publishes it
 * A reader's check is a fetch_add(written, 0, acq_rel) too, not a load,
 * and that is what makes "read again after use: non-NULL means the bytes
 * were intact" true. Both read-modify-writes of the one counter are in a
 * single order. If the reader's comes first, the writer's acquire
 * synchronises with it: everything the reader read before its check
 * happens before the writer's copy, so it cannot have seen the copy. If
 * the writer's comes first, the reader's check reads at least the writer's
 * pos: frames up to pos - capacity - 1, the ones this copy overwrites, are
 * out of the window and give ENODATA. A load could not give this: neither
 * would the reader's earlier reads of frame bytes be ordered before it,
 * nor the writer's copy after its announcement. (Fences would, but
 * ThreadSanitizer does not model them.) Polling for a frame not yet
 * written only loads, and so does not steal the writer's cache line. */
#include "ring.h"
#include "live_list.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct memkit_ring {
    struct mk_live_node   live;        /* first: the list's nodes are rings */
    struct mk_ring_memory mem;
    _Atomic uint64_t     *written;     /* in the shared head page */
    unsigned char        *frames;
    size_t                capacity, frame_size;
    uint64_t              period;      /* positions after which offsets repeat */
    uint64_t              wrap;        /* bytes after which the stream of frames wraps */
};

/* ---- the live rings, for the report -------------------------------------- */

static struct mk_live_list rings = MK_LIVE_LIST_INIT(rings);

static void rings_before_fork(void)
{
    mk_held_lock_before_fork(&rings.lock);
}

static void rings_after_fork(void)
{
    mk_held_unlock_after_fork(&rings.lock);
}

static void register_fork_handlers(void)
{
    pthread_atfork(rings_before_fork, rings_after_fork, rings_after_fork);
}

void mk_ring_describe(const memkit_ring_t *ring, struct mk_ring_info *out)
{
    out->capacity = ring->capacity;
    out->frame_size = ring->frame_size;
    out->written = atomic_load_explicit(ring->written, memory_order_relaxed);
    out->bytes = ring->mem.head_bytes + ring->mem.data_bytes;
    out->backing = ring->mem.backing;
}

long mk_rings_list(struct mk_ring_info *out, size_t max)
{
    if (!mk_held_lock_within(&rings.lock, 50))
        return -1;
    long n = 0;
    mk_live_each(&rings, node) {
        if ((size_t)n < max)
            mk_ring_describe((const memkit_ring_t *)node, &out[n]);
        n++;
    }
    mk_held_unlock(&rings.lock);
    return n;
}

const char *mk_ring_backing_name(enum mk_ring_backing backing)
{
    switch (backing) {
    case MK_RING_MEMFD_TWICE: return "memfd-twice";
    case MK_RING_MEMFD:       return "memfd";
    case MK_RING_ANONYMOUS:   return "anonymous";
    }
    return "unknown";
}

/* ---- layout ---------------------------------------------------------------- */

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static size_t offset_of(const memkit_ring_t *ring, uint64_t pos)
{
    return (size_t)(((pos % ring->period) * ring->frame_size) % ring->wrap);
}

/* ---- the API ----------------------------------------------------------------- */

memkit_ring_t *memkit_ring_create(size_t capacity, size_t frame_size)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    int saved = errno;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t slots, bytes, data;
    /* Room is needed for a head page and the frames' pages twice. */
    if (capacity == 0 || frame_size == 0 ||
        __builtin_add_overflow(capacity, 1, &slots) ||
        __builtin_mul_overflow(slots, frame_size, &bytes) ||
        __builtin_add_overflow(bytes, page - 1, &data) ||
        (data &= ~(page - 1)) > (SIZE_MAX - page) / 2) {
        errno = EINVAL;
        return NULL;
    }
    /* The ring is faulted in at once (MAP_POPULATE), and shared memory is
     * charged only then: one larger than the machine's memory would meet
     * the OOM killer instead of a failed call. */
    long phys = sysconf(_SC_PHYS_PAGES);
    if (phys > 0 && data / page + 1 > (size_t)phys) {
        errno = ENOMEM;
        return NULL;
    }
    memkit_ring_t *ring = calloc(1, sizeof *ring);
    if (!ring)
        return NULL;
    ring->capacity = capacity;
    ring->frame_size = frame_size;
    /* The stream wraps at the end of the pages where frames straddle it
     * (their period is when pos * frame_size comes back to a multiple of
     * the pages); where frame_size divides the pages, or the period would
     * overflow, slots do as well without a second view. */
    uint64_t period = data / gcd(frame_size, data);
    uint64_t lcm;
    int twice = data % frame_size != 0 &&
                !__builtin_mul_overflow(period, (uint64_t)frame_size, &lcm);
    if (mk_ring_memory_map(&ring->mem, page, data, twice) != 0) {
        int err = errno;
        free(ring);
        errno = err;
        return NULL;
    }
    if (ring->mem.backing == MK_RING_MEMFD_TWICE) {
        ring->period = period;
        ring->wrap = data;
    } else {
        ring->period = slots;
        ring->wrap = bytes;
    }
    ring->written = ring->mem.head;
    ring->frames = ring->mem.data;

    pthread_once(&once, register_fork_handlers);
    mk_held_lock(&rings.lock);
    mk_live_link(&rings, &ring->live);
    mk_held_unlock(&rings.lock);
    errno = saved;
    return ring;
}

int64_t memkit_ring_write(memkit_ring_t *ring, const void *data, size_t len)
{
    if (!ring || !data || len != ring->frame_size) {
        errno = EINVAL;
        return -1;
    }
    uint64_t pos = atomic_fetch_add_explicit(ring->written, 0, memory_order_acq_rel);
    memcpy(ring->frames + offset_of(ring, pos), data, len);
    atomic_store_explicit(ring->written, pos + 1, memory_order_release);
    return (int64_t)pos;
}

const void *memkit_ring_read(memkit_ring_t *ring, uint64_t pos)
{
    if (!ring) {
        errno = EINVAL;
        return NULL;
    }
    if (pos >= atomic_load_explicit(ring->written, memory_order_acquire)) {
        errno = EAGAIN;
        return NULL;
    }
    uint64_t written = atomic_fetch_add_explicit(ring->written, 0, memory_order_acq_rel);
    if (written - pos > ring->capacity) {
        errno = ENODATA;
        return NULL;
    }
    return ring->frames + offset_of(ring, pos);
}

size_t memkit_ring_available(const memkit_ring_t *ring)
{
    if (!ring)
        return 0;
    uint64_t written = atomic_load_explicit(ring->written, memory_order_acquire);
    return written < ring->capacity ? (size_t)written : ring->capacity;
}

uint64_t memkit_ring_written(const memkit_ring_t *ring)
{
    if (!ring)
        return 0;
    return atomic_load_explicit(ring->written, memory_order_acquire);
}

void memkit_ring_destroy(memkit_ring_t *ring)
{
    if (!ring)
        return;
    mk_held_lock(&rings.lock);
    mk_live_unlink(&ring->live);
    mk_held_unlock(&rings.lock);
    mk_ring_memory_unmap(&ring->mem);
    int saved = errno;
    free(ring);
    errno = saved;
}
