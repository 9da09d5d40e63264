/* sampled_set.c — the set of sampled live blocks (see sampled_set.h).
 *
 * Open addressing with linear probing over a window of MK_PROBE_WINDOW
 * slots. A slot's key goes empty -> pointer -> tombstone -> pointer ...
 * and never back to empty, so a lookup may stop at the first empty slot.
 * Insertions are serialised by the sites lock; a removal is a CAS of the
 * key to the tombstone by the one thread freeing that block. The table
 * (1 MiB of address space, pages touched as used) is mapped at the first
 * sample, so a process that never samples has none. */
#include "sampled_set.h"
#include "real.h"

#include <stddef.h>

#define TABLE_LOG 16   /* 64 Ki slots, 1 MiB: room for a sampled live heap of about 25 GiB at 512K (a fuller table drops samples, counted) */
#define TABLE_SLOTS (1u << TABLE_LOG)
#define MK_PROBE_WINDOW 32
#define TOMBSTONE ((uintptr_t)1)

struct slot {
    uintptr_t key;     /* 0 empty, 1 tombstone, else the block */
    uint32_t  site;
    float     weight;  /* estimated bytes this sample stands for */
};

uint64_t mk_sampled_filter[(1u << MK_SAMPLED_FILTER_LOG) / 64];
static uint16_t filter_counts[1u << MK_SAMPLED_FILTER_LOG];   /* under the sites lock */
static struct slot *table;
static uint64_t live_count, dropped;

static unsigned home(const void *p)
{
    return (unsigned)((((uintptr_t)p >> 4) * 0xD6E8FEB86659FD93ull) >> (64 - TABLE_LOG));
}

int mk_sampled_insert(const void *p, uint32_t site, uint64_t weight)
{
    if (!table) {
        struct slot *t = mk_pages_alloc(sizeof(struct slot) * TABLE_SLOTS);
        if (!t) {
            dropped++;
            return -1;
        }
        __atomic_store_n(&table, t, __ATOMIC_RELEASE);
    }
    unsigned h = home(p);
    for (unsigned i = 0; i < MK_PROBE_WINDOW; i++) {
        struct slot *s = &table[(h + i) & (TABLE_SLOTS - 1)];
        uintptr_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
        if (k > TOMBSTONE)
            continue;
        /* Only inserters write empty or tombstone slots, and they hold the
         * lock: the fields may be set before the key is published. */
        s->site = site;
        s->weight = (float)weight;
        __atomic_store_n(&s->key, (uintptr_t)p, __ATOMIC_RELEASE);
        unsigned b = mk_sampled_hash(p);
        if (filter_counts[b] != UINT16_MAX && filter_counts[b]++ == 0)
            __atomic_fetch_or(&mk_sampled_filter[b >> 6], 1ull << (b & 63), __ATOMIC_RELEASE);
        live_count++;
        return 0;
    }
    dropped++;
    return -1;
}

int mk_sampled_take(const void *p, uint32_t *site, uint64_t *weight)
{
    struct slot *t = __atomic_load_n(&table, __ATOMIC_ACQUIRE);
    if (!t)
        return 0;
    unsigned h = home(p);
    for (unsigned i = 0; i < MK_PROBE_WINDOW; i++) {
        struct slot *s = &t[(h + i) & (TABLE_SLOTS - 1)];
        uintptr_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
        if (k == 0)
            return 0;
        if (k != (uintptr_t)p)
            continue;
        uint32_t st = s->site;
        float w = s->weight;
        /* The block is the caller's to free: nobody else removes this key. */
        if (!__atomic_compare_exchange_n(&s->key, &k, TOMBSTONE, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            return 0;
        *site = st;
        *weight = (uint64_t)w;
        return 1;
    }
    return 0;
}

void mk_sampled_release_bit(const void *p)
{
    unsigned b = mk_sampled_hash(p);
    if (filter_counts[b] != UINT16_MAX && filter_counts[b] && --filter_counts[b] == 0)
        __atomic_fetch_and(&mk_sampled_filter[b >> 6], ~(1ull << (b & 63)), __ATOMIC_RELEASE);
    if (live_count)
        live_count--;
}

uint64_t mk_sampled_count(void)
{
    return live_count;
}

uint64_t mk_sampled_dropped(void)
{
    return dropped;
}
