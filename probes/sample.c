/* sample.c — sampling allocations by bytes (see sample.h).
 *
 * The scheme is jemalloc's heap profiler's (opt.lg_prof_sample, "Heap
 * profiling" in jemalloc's manual) and tcmalloc's (docs/sampling.md,
 * "Sampling in TCMalloc"): the bytes between two sample points are drawn
 * from an exponential distribution with mean R, so sample points form a
 * Poisson process over allocated bytes and an allocation of s bytes holds
 * at least one of them with probability p(s) = 1 - exp(-s/R). Each sampled
 * allocation therefore stands for 1/p(s) allocations of its size (the
 * Horvitz-Thompson estimator; jemalloc's prof_unbias_map and tcmalloc's
 * sampled_allocation weighting do the same): estimated calls += 1/p(s),
 * estimated bytes += s/p(s). Both estimates are unbiased for any mix of
 * sizes. Sizes are usable sizes, as everywhere in memkit. Because the
 * exponential is memoryless, the next countdown is drawn afresh from the
 * end of the sampled allocation.
 *
 * Hazards. mk_sample_alloc runs inside the program's malloc: it sets the
 * thread's busy flag first, so whatever libunwind or the first mapping of
 * memkit's tables allocates or maps passes straight through, uncounted and
 * never sampled (no recursion), and it keeps errno. libunwind finds
 * unwind tables with dl_iterate_phdr, which takes the loader's lock (a
 * recursive lock: a malloc made under dlopen on this thread unwinds fine).
 * The sites lock is taken only after the unwinding. */
#include "sample.h"
#include "counters.h"
#include "options.h"
#include "sites.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

/* memkit's own text: leading frames inside it (the wrapper, this file) are
 * dropped, so a site starts at the program's call. Found from the ELF
 * header the linker maps with the library; no loader lock. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
static uintptr_t self_lo, self_hi;

static void find_self(void)
{
    /* Bytes of unknown length: the program headers follow the header. */
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)__ehdr_start;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(__ehdr_start + eh->e_phoff);
    uintptr_t first = UINTPTR_MAX, lo = UINTPTR_MAX, hi = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (ph[i].p_vaddr < first)
            first = ph[i].p_vaddr;
        if (!(ph[i].p_flags & PF_X))
            continue;
        if (ph[i].p_vaddr < lo)
            lo = ph[i].p_vaddr;
        if (ph[i].p_vaddr + ph[i].p_memsz > hi)
            hi = ph[i].p_vaddr + ph[i].p_memsz;
    }
    if (hi == 0)
        return;
    uintptr_t bias = (uintptr_t)eh - (first & ~(uintptr_t)0xfff);
    self_lo = bias + lo;
    self_hi = bias + hi;
}

/* ---- the generator ----------------------------------------------------------- */

static uint64_t next_random(struct mk_thread *t)
{
    uint64_t x = t->sample_rng;
    if (__builtin_expect(x == 0, 0)) {
        /* Seeded from the cycle counter and the thread's own address. */
        x = __builtin_ia32_rdtsc() ^ ((uintptr_t)t * 0x9E3779B97F4A7C15ull);
        if (!x)
            x = 0x853c49e6748fea9bull;
    }
    x ^= x >> 12;   /* xorshift64* (Vigna 2016) */
    x ^= x << 25;
    x ^= x >> 27;
    t->sample_rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

int64_t mk_sample_draw(struct mk_thread *t, uint64_t rate)
{
    /* u uniform in (0, 1]: -log(u) is exponential with mean 1. */
    double u = (double)((next_random(t) >> 11) + 1) * 0x1.0p-53;
    double d = -log(u) * (double)rate;
    if (d < 1.0)
        return 1;
    if (d > 0x1.0p62)
        return INT64_C(1) << 62;
    return (int64_t)d;
}

double mk_sample_weight(uint64_t size, uint64_t rate)
{
    if (!rate)
        return 1.0;
    double p = -expm1(-(double)size / (double)rate);
    return p > 0 ? 1.0 / p : 1.0;
}

/* ---- sampling ----------------------------------------------------------------- */

static unsigned stack_depth(void)
{
    uint64_t d = mk_opt_num(MK_OPT_STACK_DEPTH);
    if (d == 0)
        d = 1;
    return d > MK_STACK_MAX ? MK_STACK_MAX : (unsigned)d;
}

/* The return addresses above this frame, innermost first, by libunwind's
 * unw_backtrace: after the first walk through a given code path it works
 * from a per-thread cache of frame layouts, with no system call. (unw_step
 * looked each frame up again through dl_iterate_phdr, blocking and
 * unblocking signals around it: 13 system calls a sample, 17% of
 * malloc_heavy's time at the default rate.) The cache is mapped while
 * memkit samples and unmapped by libunwind at thread exit; wrap_mmap.c
 * knows such maps as memkit's own. A stack it cannot follow ends early. */
static int backtrace_here(void **out, int max)
{
    mk_self.unwinding = 1;   /* libunwind's first call opens a pipe: wrap_pipe.c */
    int n = unw_backtrace(out, max);
    mk_self.unwinding = 0;
    return n;
}

/* ---- fork ---------------------------------------------------------------------
 * A thread of the parent may be inside libunwind (which holds its own
 * locks, with no fork handlers of its own) when another thread forks; the
 * child would wait on them for ever. So fork waits: its prepare handler
 * counts itself in forks_pending and waits until no thread is inside
 * record() (a thread that enters meanwhile sees the count and skips that
 * one sample). It takes no lock of memkit's: prepare handlers run before
 * glibc takes its stdio list lock, and a thread holding a stream's lock
 * may be inside malloc, sampling — a lock held across fork from here on
 * would invert that order (a thread in fflush(NULL) holding the list lock
 * waits for the stream, whose holder waits for the sites lock, whose
 * holder waits in fork for the list lock). Outside record(), the sites
 * lock guards only a free's or the report's few stores; the child frees
 * it if a thread now gone held it (sites.c). A thread in record() that
 * waits for the sites lock gives up its sample once a fork is pending:
 * the holder may be the forking thread (a signal handler that forks,
 * interrupting it inside the lock). The handlers are registered by
 * memkit's constructor (mk_sample_at_start), not from inside a malloc:
 * pthread_atfork waits for a fork in progress, and the thread sampling may
 * hold a stream's lock that the fork's stdio locking waits for. */
static int forks_pending, recording, atfork_registered;
/* This thread is inside record(): a signal handler that forks must not
 * wait for its own thread (nor for the sites lock it holds: sites.c). */
static __thread int self_recording __attribute__((tls_model("initial-exec")));

static void fork_prepare(void)
{
    __atomic_add_fetch(&forks_pending, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&recording, __ATOMIC_SEQ_CST) > self_recording)
        __builtin_ia32_pause();
}

static void fork_parent(void)
{
    __atomic_sub_fetch(&forks_pending, 1, __ATOMIC_SEQ_CST);
}

static void fork_child(void)
{
    /* Only this thread is left, and no other records. A signal handler
     * may have forked anywhere in this thread's own record(), even between
     * setting self_recording and counting itself: the count starts at 0,
     * and the interrupted record()'s decrement stops there (taking the
     * count from self_recording left it at 1 in those two places, and the
     * child's next fork waited for ever). */
    __atomic_store_n(&recording, 0, __ATOMIC_SEQ_CST);
    mk_sites_after_fork_child();
    __atomic_store_n(&forks_pending, 0, __ATOMIC_SEQ_CST);
}

static void record_locked_out(void *p, size_t usable, uint64_t rate);

void mk_sample_at_start(void)
{
    if (!__atomic_exchange_n(&atfork_registered, 1, __ATOMIC_ACQ_REL))
        pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void record(void *p, size_t usable, uint64_t rate)
{
    /* Samples taken before memkit's constructor (another library's) need
     * the handlers too; registering here, inside malloc, is the rare way. */
    if (!__atomic_load_n(&atfork_registered, __ATOMIC_RELAXED))
        mk_sample_at_start();
    self_recording = 1;
    __atomic_add_fetch(&recording, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&forks_pending, __ATOMIC_SEQ_CST))
        record_locked_out(p, usable, rate);
    int n = __atomic_load_n(&recording, __ATOMIC_RELAXED);
    while (n > 0 && !__atomic_compare_exchange_n(&recording, &n, n - 1, 1,
                                                  __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
        ;
    self_recording = 0;
}

/* Records one sample; fork waits while this runs. */
static void record_locked_out(void *p, size_t usable, uint64_t rate)
{
    void *raw[MK_STACK_MAX + 16];
    unsigned want = stack_depth();
    int n = backtrace_here(raw, (int)(want + 16));
    if (!self_hi)
        find_self();
    int skip = 0;
    while (skip < n && (uintptr_t)raw[skip] >= self_lo && (uintptr_t)raw[skip] < self_hi)
        skip++;
    unsigned depth = (unsigned)(n - skip);
    if (depth > want)
        depth = want;

    double w = mk_sample_weight(usable, rate);
    /* The set keeps weights as floats: round once, use the same figure on
     * the way in and the way out. */
    uint64_t live = (uint64_t)(float)((double)usable * w);

    /* A fork waiting for this thread while the lock's holder is the
     * forking thread itself: this sample is dropped, and fork goes on. */
    if (!mk_sites_lock_unless_forking(&forks_pending))
        return;
    struct mk_site *s = mk_sites_get((const uintptr_t *)(raw + skip), depth);
    if (s) {
        s->alloc_calls += w;
        s->alloc_bytes += (double)usable * w;
        s->samples++;
        if (p && mk_sampled_insert(p, s->index, live) == 0)
            mk_sites_live_change(s, (int64_t)live);
    }
    mk_sites_unlock();
}

#define MK_SAMPLE_RETRY_BYTES (64 * 1024)

void mk_sample_alloc(struct mk_thread *t, void *p, size_t usable)
{
    int saved = errno;
    uint8_t busy = t->busy;
    t->busy = 1;
    uint64_t rate = mk_opt_num(MK_OPT_SAMPLE);
    if (!rate) {
        /* Off — or not known yet: a library's constructor (libstdc++'s)
         * allocating before memkit has read its options must not turn
         * sampling off for this thread for good. */
        t->sample_left = mk_options_loaded() ? INT64_MAX : MK_SAMPLE_RETRY_BYTES;
    } else if (t->sample_rng == 0) {
        /* The thread's first allocation: its countdown started at the
         * thread's first byte, and this allocation may already cross it. */
        int64_t left = mk_sample_draw(t, rate) - (int64_t)usable;
        if (left <= 0) {
            record(p, usable, rate);
            left = mk_sample_draw(t, rate);
        }
        t->sample_left = left;
    } else {
        record(p, usable, rate);
        t->sample_left = mk_sample_draw(t, rate);
    }
    t->busy = busy;
    errno = saved;
}

void mk_sample_take(void *p, struct mk_sample_taken *out)
{
    out->taken = 0;
    if (!mk_sampled_maybe(p) || !mk_sampled_take(p, &out->site, &out->weight))
        return;
    out->taken = 1;
    /* busy: a signal handler that allocates meanwhile passes straight
     * through, and never samples, which would wait for this lock. */
    uint8_t busy = mk_self.busy;
    mk_self.busy = 1;
    mk_sites_lock();
    mk_sampled_release_bit(p);
    struct mk_site *s = mk_sites_at(out->site);
    if (s)
        mk_sites_live_change(s, -(int64_t)out->weight);
    mk_sites_unlock();
    mk_self.busy = busy;
}

void mk_sample_forget(void *p)
{
    struct mk_sample_taken taken;
    mk_sample_take(p, &taken);
}

void mk_sample_put_back(void *p, const struct mk_sample_taken *taken)
{
    if (!taken->taken)
        return;
    int saved = errno;
    uint8_t busy = mk_self.busy;
    mk_self.busy = 1;
    mk_sites_lock();
    struct mk_site *s = mk_sites_at(taken->site);
    if (s && mk_sampled_insert(p, taken->site, taken->weight) == 0)
        mk_sites_live_change(s, (int64_t)taken->weight);
    mk_sites_unlock();
    mk_self.busy = busy;
    errno = saved;
}
