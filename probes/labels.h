/* labels.h — a fixed table of labels (checkpoint and probe names), each
 * given a slot for the life of the process, found again by its text.
 *
 * Lock-free: a slot is claimed with one compare-and-swap and published
 * with a release store; finding a label is a hash and a short probe of
 * the open-addressed table. No lock exists, so a fork child can inherit
 * nothing held: a slot that a vanished thread was claiming stays
 * "claiming" and is stepped over (its label is then filed in another
 * slot). Labels are cut at MK_LABEL_MAX - 1 bytes; two labels that share
 * those bytes are one. A full table refuses new labels (-1) and counts
 * the refusals. */
#ifndef MK_LABELS_H
#define MK_LABELS_H

#include <stddef.h>
#include <stdint.h>

#define MK_LABEL_MAX   64     /* bytes, with the NUL */
#define MK_LABEL_SLOTS 256    /* a power of two */

struct mk_label_slot {
    unsigned state;           /* MK_LABEL_EMPTY, _CLAIMING, _READY (atomic) */
    uint32_t hash;
    char     text[MK_LABEL_MAX];
};

enum { MK_LABEL_EMPTY, MK_LABEL_CLAIMING, MK_LABEL_READY };

struct mk_labels {
    struct mk_label_slot slot[MK_LABEL_SLOTS];
    uint64_t refused;         /* labels not filed: the table was full */
};

/* The slot of label (cut at MK_LABEL_MAX - 1 bytes), filed there on first
 * use; -1 when the table is full. A few tens of ns for a short label. */
int mk_label_slot(struct mk_labels *t, const char *label);
/* Whether slot i holds a label (acquire: its text is whole). */
int mk_label_ready(const struct mk_labels *t, int i);
/* Empties the table (tests, fork child; no other thread may use it). */
void mk_labels_reset(struct mk_labels *t);

/* Copies label into out (MK_LABEL_MAX bytes), cut as the table cuts it. */
void mk_label_copy(char out[MK_LABEL_MAX], const char *label);

/* Small lock-free helpers for the tables that hang figures off a slot. */
static inline void mk_atomic_max_u64(uint64_t *p, uint64_t v)
{
    uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v > cur && !__atomic_compare_exchange_n(p, &cur, v, 1, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED))
        ;
}

static inline void mk_atomic_min_u64(uint64_t *p, uint64_t v)
{
    uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v < cur && !__atomic_compare_exchange_n(p, &cur, v, 1, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED))
        ;
}

#endif
