/* scope.c — scope objects and the per-label figures (scope.h). */
#include "scope.h"
#include "real.h"

#include <errno.h>
#include <string.h>

/* ---- scope objects --------------------------------------------------------- */

#define WORDS (MK_SCOPE_POOL / 64)

static struct mk_scope pool[MK_SCOPE_POOL];
static uint64_t used[WORDS];          /* bit set: pool[i] is taken */
static uint64_t paged_open;           /* objects from mk_pages_alloc, open */
static __thread unsigned home_word __attribute__((tls_model("initial-exec")));
static unsigned next_home;

static int claim_in(unsigned w)
{
    uint64_t bits = __atomic_load_n(&used[w], __ATOMIC_RELAXED);
    while (~bits) {
        int b = __builtin_ctzll(~bits);
        if (__atomic_compare_exchange_n(&used[w], &bits, bits | (1ull << b), 1,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return (int)(w * 64 + (unsigned)b);
    }
    return -1;
}

struct mk_scope *mk_scope_alloc(void)
{
    /* home_word holds word + 1 (0: not chosen yet); threads spread over
     * the words in the order they first open a scope. */
    if (!home_word)
        home_word = __atomic_fetch_add(&next_home, 1, __ATOMIC_RELAXED) % WORDS + 1;
    unsigned home = home_word - 1;
    for (unsigned k = 0; k < WORDS; k++) {
        int i = claim_in((home + k) % WORDS);
        if (i >= 0) {
            memset(&pool[i], 0, sizeof pool[i]);
            return &pool[i];
        }
    }
    struct mk_scope *s = mk_pages_alloc(sizeof *s);   /* zeroed by the kernel */
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    __atomic_fetch_add(&paged_open, 1, __ATOMIC_RELAXED);
    return s;
}

void mk_scope_free(struct mk_scope *s)
{
    s->magic = 0;
    if (s >= pool && s < pool + MK_SCOPE_POOL) {
        size_t i = (size_t)(s - pool);
        __atomic_fetch_and(&used[i / 64], ~(1ull << (i % 64)), __ATOMIC_RELEASE);
        return;
    }
    __atomic_fetch_sub(&paged_open, 1, __ATOMIC_RELAXED);
    mk_pages_free(s, sizeof *s);
}

uint64_t mk_scopes_open(void)
{
    uint64_t n = __atomic_load_n(&paged_open, __ATOMIC_RELAXED);
    for (unsigned w = 0; w < WORDS; w++)
        n += (uint64_t)__builtin_popcountll(__atomic_load_n(&used[w], __ATOMIC_RELAXED));
    return n;
}

/* ---- figures per label --------------------------------------------------------- */

struct figures {
    int      level;
    uint64_t count;
    uint64_t ns_total, ns_max;
    int64_t  growth_total;
    uint64_t growth_max;        /* biased (sign bit flipped): 0 is INT64_MIN, so
                                 * an unsigned max is the signed one */
    uint64_t peak_max, rss_max;
    uint64_t under_pressure, compactions;
};

#define BIAS (1ull << 63)

static struct mk_labels labels;
static struct figures figures[MK_LABEL_SLOTS];

int mk_scope_record(const char *label, const struct mk_scope_result *r)
{
    int i = mk_label_slot(&labels, label);
    if (i < 0)
        return -1;
    struct figures *f = &figures[i];
    int lv = __atomic_load_n(&f->level, __ATOMIC_RELAXED);
    while (r->level > lv && !__atomic_compare_exchange_n(&f->level, &lv, r->level, 1,
                                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    __atomic_fetch_add(&f->ns_total, r->ns, __ATOMIC_RELAXED);
    mk_atomic_max_u64(&f->ns_max, r->ns);
    __atomic_fetch_add(&f->growth_total, r->growth, __ATOMIC_RELAXED);
    mk_atomic_max_u64(&f->growth_max, (uint64_t)r->growth ^ BIAS);
    mk_atomic_max_u64(&f->peak_max, r->peak);
    mk_atomic_max_u64(&f->rss_max, r->rss_end);
    if (r->pressure)
        __atomic_fetch_add(&f->under_pressure, 1, __ATOMIC_RELAXED);
    if (r->compacted)
        __atomic_fetch_add(&f->compactions, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&f->count, 1, __ATOMIC_RELEASE);
    return 0;
}

size_t mk_scope_list(struct mk_scope_stats *out, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < MK_LABEL_SLOTS && n < max; i++) {
        const struct figures *f = &figures[i];
        if (!mk_label_ready(&labels, i))
            continue;
        uint64_t count = __atomic_load_n(&f->count, __ATOMIC_ACQUIRE);
        if (count == 0)
            continue;
        struct mk_scope_stats *s = &out[n++];
        memcpy(s->label, labels.slot[i].text, MK_LABEL_MAX);
        s->count = count;
        s->level = __atomic_load_n(&f->level, __ATOMIC_RELAXED);
        s->ns_total = __atomic_load_n(&f->ns_total, __ATOMIC_RELAXED);
        s->ns_max = __atomic_load_n(&f->ns_max, __ATOMIC_RELAXED);
        s->growth_total = __atomic_load_n(&f->growth_total, __ATOMIC_RELAXED);
        s->growth_max = (int64_t)(__atomic_load_n(&f->growth_max, __ATOMIC_RELAXED) ^ BIAS);
        s->peak_max = __atomic_load_n(&f->peak_max, __ATOMIC_RELAXED);
        s->rss_max = __atomic_load_n(&f->rss_max, __ATOMIC_RELAXED);
        s->under_pressure = __atomic_load_n(&f->under_pressure, __ATOMIC_RELAXED);
        s->compactions = __atomic_load_n(&f->compactions, __ATOMIC_RELAXED);
    }
    return n;
}

uint64_t mk_scopes_refused(void)
{
    return __atomic_load_n(&labels.refused, __ATOMIC_RELAXED);
}

void mk_scopes_reset(void)
{
    mk_labels_reset(&labels);
    memset(figures, 0, sizeof figures);
}
