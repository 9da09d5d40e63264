/* tls.h — memkit's per-thread state.
 *
 * Initial-exec TLS: the variable sits in the static TLS block, so touching
 * it from inside malloc never calls __tls_get_addr (which may allocate).
 * It is reached before the thread has a counter block; mk_thread_block()
 * claims one on first use. */
#ifndef MK_TLS_H
#define MK_TLS_H

#include "mk_common.h"

#include <stdint.h>

struct mk_counter_block;

struct mk_thread {
    struct mk_counter_block *block;   /* this thread's counters, or NULL */
    /* The allocation side's one countdown (counters.h): bytes until the
     * next sample point or the next fold, whichever comes first. It is
     * armed with the smaller of the two below, which change only when it
     * runs out. Starts at 0, so a thread's first counted allocation arms
     * it. */
    int64_t  alloc_left;
    /* Bytes this thread may still allocate before the next sampled one
     * (probes/sample.h), as of the countdown's last arming; INT64_MAX
     * when sampling is off. */
    int64_t  sample_left;
    int64_t  fold_left;   /* likewise, bytes until the heap's next fold */
    uint64_t sample_rng;  /* xorshift state for the draws; 0 until seeded */
    /* The gate: the wrappers take their glibc fast path only while it reads
     * MK_GATE_FAST (own_glibc set, everything else zero): one compare. */
    union {
        struct {
            /* The thread counts into a block of its own and glibc's size
             * words can be read (counters.c sets it with the block). */
            uint8_t own_glibc;
            uint8_t busy;      /* memkit's own work: calls pass straight through */
            uint8_t in_real;   /* inside the real allocator: its mmaps are its own */
            uint8_t shared;    /* counting into the shared block (atomic adds) */
            uint8_t exiting;   /* the thread-exit hook ran; no block of its own */
        };
        uint64_t gate;
    };
    /* Inside libunwind, taking a sample: a pipe it opens is moved high
     * (wrap_pipe.c). */
    uint8_t unwinding;
    /* Who called free, when its counting went out of line (0: not known):
     * the monitor does not start from a free the loader makes while glibc
     * holds its own locks (loader_text.h). */
    uintptr_t free_caller;
};

/* The gate of a thread on the fast path: own_glibc alone. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MK_GATE_FAST ((uint64_t)1)
#else
#define MK_GATE_FAST ((uint64_t)1 << 56)
#endif

extern __thread struct mk_thread mk_self
    __attribute__((tls_model("initial-exec"))) MK_HIDDEN;

#endif
