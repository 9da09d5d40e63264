/* labels.c — the label table (labels.h). */
#include "labels.h"

#include <string.h>

/* How long a reader waits for a slot another thread is claiming before it
 * steps over it (the claimer may be a thread a fork left behind). */
#define CLAIM_SPINS 4096

void mk_label_copy(char out[MK_LABEL_MAX], const char *label)
{
    size_t n = strnlen(label, MK_LABEL_MAX - 1);
    memcpy(out, label, n);
    out[n] = '\0';
}

/* FNV-1a over the label as cut. */
static uint32_t hash_of(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static unsigned settled_state(const struct mk_label_slot *s)
{
    unsigned st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    for (int spin = 0; st == MK_LABEL_CLAIMING && spin < CLAIM_SPINS; spin++) {
        __builtin_ia32_pause();
        st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    }
    return st;
}

int mk_label_slot(struct mk_labels *t, const char *label)
{
    char text[MK_LABEL_MAX];
    mk_label_copy(text, label);
    size_t n = strlen(text);
    uint32_t h = hash_of(text, n);
    for (unsigned k = 0; k < MK_LABEL_SLOTS; k++) {
        unsigned i = (h + k) & (MK_LABEL_SLOTS - 1);
        struct mk_label_slot *s = &t->slot[i];
        unsigned st = settled_state(s);
        if (st == MK_LABEL_EMPTY) {
            unsigned expect = MK_LABEL_EMPTY;
            if (__atomic_compare_exchange_n(&s->state, &expect, MK_LABEL_CLAIMING, 0,
                                            __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
                memcpy(s->text, text, n + 1);
                s->hash = h;
                __atomic_store_n(&s->state, MK_LABEL_READY, __ATOMIC_RELEASE);
                return (int)i;
            }
            /* Another thread took it first: look at what it filed. */
            st = settled_state(s);
        }
        if (st == MK_LABEL_READY && s->hash == h && memcmp(s->text, text, n + 1) == 0)
            return (int)i;
    }
    __atomic_fetch_add(&t->refused, 1, __ATOMIC_RELAXED);
    return -1;
}

int mk_label_ready(const struct mk_labels *t, int i)
{
    return __atomic_load_n(&t->slot[i].state, __ATOMIC_ACQUIRE) == MK_LABEL_READY;
}

void mk_labels_reset(struct mk_labels *t)
{
    memset(t, 0, sizeof *t);
}
