/* checkpoint.c — the checkpoint table (checkpoint.h). */
#include "checkpoint.h"

#include <string.h>

struct figures {
    uint64_t count;
    uint64_t first_ns, last_ns;    /* first_ns: set once, by the first record */
    uint64_t rss_last, rss_min, rss_max;
    uint64_t heap_last;
    int      first_set;
};

static struct mk_labels labels;
static struct figures figures[MK_LABEL_SLOTS];

int mk_checkpoint_record(const char *label, uint64_t t_ns, uint64_t rss, uint64_t heap)
{
    int i = mk_label_slot(&labels, label);
    if (i < 0)
        return -1;
    struct figures *f = &figures[i];
    int unset = 0;
    if (__atomic_compare_exchange_n(&f->first_set, &unset, 1, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED)) {
        __atomic_store_n(&f->first_ns, t_ns, __ATOMIC_RELAXED);
        __atomic_store_n(&f->rss_min, rss, __ATOMIC_RELAXED);
    }
    mk_atomic_min_u64(&f->first_ns, t_ns);   /* a racing record may have come first */
    mk_atomic_max_u64(&f->last_ns, t_ns);
    mk_atomic_min_u64(&f->rss_min, rss);
    mk_atomic_max_u64(&f->rss_max, rss);
    __atomic_store_n(&f->rss_last, rss, __ATOMIC_RELAXED);
    __atomic_store_n(&f->heap_last, heap, __ATOMIC_RELAXED);
    /* Last, with release: a reader that sees the count sees the figures. */
    __atomic_fetch_add(&f->count, 1, __ATOMIC_RELEASE);
    return 0;
}

size_t mk_checkpoint_list(struct mk_checkpoint *out, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < MK_LABEL_SLOTS && n < max; i++) {
        const struct figures *f = &figures[i];
        if (!mk_label_ready(&labels, i))
            continue;
        uint64_t count = __atomic_load_n(&f->count, __ATOMIC_ACQUIRE);
        if (count == 0)
            continue;   /* filed, its first record not yet done */
        struct mk_checkpoint *c = &out[n++];
        memcpy(c->label, labels.slot[i].text, MK_LABEL_MAX);
        c->count = count;
        c->first_ns = __atomic_load_n(&f->first_ns, __ATOMIC_RELAXED);
        c->last_ns = __atomic_load_n(&f->last_ns, __ATOMIC_RELAXED);
        c->rss_last = __atomic_load_n(&f->rss_last, __ATOMIC_RELAXED);
        c->rss_min = __atomic_load_n(&f->rss_min, __ATOMIC_RELAXED);
        c->rss_max = __atomic_load_n(&f->rss_max, __ATOMIC_RELAXED);
        c->heap_last = __atomic_load_n(&f->heap_last, __ATOMIC_RELAXED);
    }
    return n;
}

uint64_t mk_checkpoints_refused(void)
{
    return __atomic_load_n(&labels.refused, __ATOMIC_RELAXED);
}

void mk_checkpoints_reset(void)
{
    mk_labels_reset(&labels);
    memset(figures, 0, sizeof figures);
}
