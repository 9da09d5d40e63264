/* ring_memory.h — the shared memory under a frame ring: a head (the ring's
 * counters) followed by the frames' pages, those mapped a second time right
 * after themselves where that is asked for and possible, so that a frame
 * running past the end of the pages continues, contiguous, into their
 * second view. */
#ifndef MK_RING_MEMORY_H
#define MK_RING_MEMORY_H

#include "pool_common.h"

#include <stddef.h>

enum mk_ring_backing {
    MK_RING_MEMFD_TWICE,   /* memfd, the frames' pages mapped twice back to back */
    MK_RING_MEMFD,         /* memfd, mapped once */
    MK_RING_ANONYMOUS,     /* shared anonymous memory (no memfd_create) */
};

struct mk_ring_memory {
    void                *head;        /* head_bytes */
    unsigned char       *data;        /* data_bytes (twice: 2 * data_bytes of view) */
    size_t               head_bytes, data_bytes;
    size_t               mapped;      /* address space from head */
    enum mk_ring_backing backing;
};

/* Zeroed shared memory of head_bytes + data_bytes (page multiples),
 * faulted in. Tries a memfd with the data mapped twice (when twice is
 * set), then a memfd mapped once, then shared anonymous memory: m->backing
 * says which. A fork child shares it with its parent. 0, or -1 with errno
 * (ENOMEM, or what mmap gave). */
MK_POOL_HIDDEN int  mk_ring_memory_map(struct mk_ring_memory *m, size_t head_bytes,
                                       size_t data_bytes, int twice);
MK_POOL_HIDDEN void mk_ring_memory_unmap(struct mk_ring_memory *m);

#endif
