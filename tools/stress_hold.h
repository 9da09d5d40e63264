/* stress_hold.h — memory held resident for memkit-stress: anonymous private
 * maps of at most MKT_CHUNK_MAX bytes each, every page written once so that
 * the kernel really backs it (a map that is never written costs nothing). */
#ifndef MKT_STRESS_HOLD_H
#define MKT_STRESS_HOLD_H

#include <stddef.h>
#include <stdint.h>

/* The seed's cap on one allocation: a failed map or a stop request never
 * leaves more than this half-done. */
#define MKT_CHUNK_MAX (1ull << 30)

struct mkt_chunk {
    char  *base;
    size_t len;          /* a whole number of pages, all written */
};

struct mkt_hold {
    struct mkt_chunk *chunk;   /* oldest first */
    size_t            n, cap;
    uint64_t          bytes;   /* sum of the chunks' lengths */
};

#define MKT_HOLD_INIT { NULL, 0, 0, 0 }

/* Maps one more chunk of `bytes` (rounded up to whole pages; 1 ..
 * MKT_CHUNK_MAX) and writes one byte in each of its pages. stop (may be
 * NULL) is asked every 64 MiB; when it returns nonzero the pages not yet
 * written are unmapped, the written ones kept, and 1 is returned. 0 when
 * the whole chunk is resident; -1 with errno: EINVAL (bytes 0 or above
 * MKT_CHUNK_MAX), ENOMEM (the kernel refused the map, or no room to note
 * it). On -1 the hold is as it was. */
int mkt_hold_add(struct mkt_hold *h, uint64_t bytes, int (*stop)(void));

/* Gives back memory until at most `bytes` are held: whole chunks from the
 * newest, then the tail of the newest one left (to a page boundary). */
void mkt_hold_shrink_to(struct mkt_hold *h, uint64_t bytes);

/* Unmaps everything; the hold may be used again. */
void mkt_hold_release(struct mkt_hold *h);

/* The page size, for callers that round as the hold does. */
size_t mkt_page_size(void);

#endif
