/* sampled_set.h — the live blocks whose allocation was sampled.
 *
 * The free path must tell, for every block, whether it was sampled, at the
 * cost of one load: a 64 Ki-bit filter indexed by a hash of the pointer
 * (8 KiB, stays in L1). A clear bit means "not sampled", certainly; a set
 * bit sends the free out of line to look the pointer up in an open-
 * addressing table (lock-free lookup and removal; insertion happens under
 * the sites lock, which also keeps the per-bit counts behind the filter).
 *
 * The filter's bits are cleared when the last sampled live block hashing
 * to them is freed, so false hits stay near (live sampled blocks / 65536):
 * about 3% with a 1 GiB live heap at the default 512K sampling. */
#ifndef MK_SAMPLED_SET_H
#define MK_SAMPLED_SET_H

#include "mk_common.h"

#include <stdint.h>

#define MK_SAMPLED_FILTER_LOG 16

extern uint64_t mk_sampled_filter[(1u << MK_SAMPLED_FILTER_LOG) / 64] MK_HIDDEN;

/* The filter's bit for p: address bits 4..19, no multiply (allocators hand
 * out 16-byte-aligned blocks, so neighbours get different bits; blocks a
 * multiple of 1 MiB apart share one, which only costs a false hit). */
static inline unsigned mk_sampled_hash(const void *p)
{
    return (unsigned)(((uintptr_t)p >> 4) & ((1u << MK_SAMPLED_FILTER_LOG) - 1));
}

/* 0: p was certainly not sampled. 1: it may have been. One load. */
static inline int mk_sampled_maybe(const void *p)
{
    unsigned h = mk_sampled_hash(p);
    return (int)((__atomic_load_n(&mk_sampled_filter[h >> 6], __ATOMIC_RELAXED) >> (h & 63)) & 1);
}

/* Adds p with its site index and weight (estimated bytes). Caller holds the
 * sites lock. 0, or -1 when the table is full around p (p stays
 * untracked: its site's live figure will not drop when it is freed). */
int mk_sampled_insert(const void *p, uint32_t site, uint64_t weight);

/* Takes p out if it is there: 1 with its site and weight, else 0.
 * Lock-free; the caller then takes the sites lock and calls
 * mk_sampled_release_bit(p). */
int mk_sampled_take(const void *p, uint32_t *site, uint64_t *weight);
/* Caller holds the sites lock: one fewer sampled block behind p's bit. */
void mk_sampled_release_bit(const void *p);

/* Live sampled blocks tracked, and samples that did not fit. */
uint64_t mk_sampled_count(void);
uint64_t mk_sampled_dropped(void);

#endif
