/* checkpoint.h — named checkpoints (memkit_check): for each label, how
 * often it was passed and what the process's memory was there.
 *
 * One fixed table (labels.h: MK_LABEL_SLOTS labels, cut at 63 bytes), with
 * no lock: each figure is updated with its own atomic operation, so two
 * threads at the same checkpoint never wait for each other, and a fork
 * child inherits no lock. The figures of one label are each exact, but a
 * reader racing a writer may see one record's rss_last with the previous
 * record's heap_last. Nothing allocates. */
#ifndef MK_CHECKPOINT_H
#define MK_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "labels.h"

struct mk_checkpoint {
    char     label[MK_LABEL_MAX];
    uint64_t count;
    uint64_t first_ns, last_ns;    /* since the process started */
    uint64_t rss_last, rss_min, rss_max;
    uint64_t heap_last;
};

/* Records one passage of label. -1 when the table is full (the passage is
 * counted in mk_checkpoints_refused), else 0. */
int mk_checkpoint_record(const char *label, uint64_t t_ns, uint64_t rss, uint64_t heap);
/* The checkpoints, in table order (not sorted), at most max; the count. */
size_t mk_checkpoint_list(struct mk_checkpoint *out, size_t max);
/* Passages not recorded because MK_LABEL_SLOTS labels were taken. */
uint64_t mk_checkpoints_refused(void);
/* Forgets every checkpoint (tests; a fork child, before it has threads). */
void mk_checkpoints_reset(void);

#endif
