/* sample.h — sampled allocations: the per-thread byte countdown and what
 * happens when it runs out, and the free path's test for sampled blocks.
 *
 * The countdown (struct mk_thread.sample_left, tls.h) is decremented on
 * every counted allocation (counters.h); when it reaches zero the
 * allocation is sampled by mk_sample_alloc (declared in counters.h), which
 * records the stack and draws the next countdown from an exponential
 * distribution with mean MEMKIT_SAMPLE. */
#ifndef MK_SAMPLE_H
#define MK_SAMPLE_H

#include "sampled_set.h"
#include "tls.h"

#include <stddef.h>
#include <stdint.h>

/* memkit's constructor: registers the fork handlers (sample.c). */
void mk_sample_at_start(void);

/* Out of line: p was (maybe) sampled and is about to be freed; its site's
 * live figure drops. Call before the block goes back to the allocator
 * (afterwards its address may already be someone else's sample). errno
 * untouched. */
void mk_sample_forget(void *p);

/* realloc's side of it: the block may move, and the allocator may reuse
 * its address at once, so a sampled block is taken out of the set before
 * the call; if the call fails, the block is still the program's, as it
 * was, and goes back in with mk_sample_put_back. */
struct mk_sample_taken {
    uint64_t weight;
    uint32_t site;
    int taken;   /* 0: p was not a sampled block */
};
void mk_sample_take(void *p, struct mk_sample_taken *out);
void mk_sample_put_back(void *p, const struct mk_sample_taken *taken);

/* The free path's hook: one load, and out of line only on a filter hit. */
static inline __attribute__((always_inline)) void mk_sample_note_free(void *p)
{
    if (__builtin_expect(mk_sampled_maybe(p), 0))
        mk_sample_forget(p);
}

/* The sampling weight (estimated calls) of a sampled allocation of `size`
 * bytes at mean interval `rate`: 1 / P(sampled) = 1 / (1 - exp(-size/rate)). */
double mk_sample_weight(uint64_t size, uint64_t rate);

/* Draws a countdown with mean rate from the thread's generator (seeded on
 * first use). Exposed for the unit tests. */
int64_t mk_sample_draw(struct mk_thread *t, uint64_t rate);

#endif
