/* ring.h — what the rest of memkit may know of the frame rings
 * (memkit_ring_* in memkit.h): their figures, for the report. */
#ifndef MK_RING_H
#define MK_RING_H

#include "memkit.h"
#include "pool_common.h"
#include "ring_memory.h"

#include <stddef.h>
#include <stdint.h>

struct mk_ring_info {
    size_t               capacity, frame_size;
    uint64_t             written;      /* frames written so far */
    size_t               bytes;        /* shared memory held: a head page and the frames' pages */
    enum mk_ring_backing backing;
};

/* One ring's figures. Async-signal-safe. */
MK_POOL_HIDDEN void mk_ring_describe(const memkit_ring_t *ring, struct mk_ring_info *out);

/* Fills out[0 .. min(n, max)) with the live rings and returns n, how many
 * there are; -1 when the list could not be read without waiting (this
 * thread is inside memkit_ring_create or _destroy, or another thread held
 * the list for 50 ms). Takes no lock it could wait on for longer: safe in
 * a fork child and, in practice, in a signal handler. */
MK_POOL_HIDDEN long mk_rings_list(struct mk_ring_info *out, size_t max);

/* "memfd-twice", "memfd" or "anonymous". */
MK_POOL_HIDDEN const char *mk_ring_backing_name(enum mk_ring_backing backing);

#endif
