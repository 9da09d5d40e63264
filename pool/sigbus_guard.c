/* sigbus_guard.c — SIGBUS past a shrunk file's end becomes zeros
 * (sigbus_guard.h).
 *
 * The table. Ranges sit in slots, in chunks of SLOTS_PER_CHUNK mapped as
 * they are first needed and kept for the life of the process, so that the
 * handler never meets freed memory. Each slot carries a sequence number,
 * odd while the slot changes. The handler reads the number, the range, and
 * the number again with a read-modify-write: if that gives the same even
 * number, no change overlapped the reads (a change starts with its own
 * read-modify-write of the number, and the two are ordered: if the
 * handler's came first, the change's writes happen after the handler's
 * reads). No lock is taken, nothing is allocated: the handler is
 * async-signal-safe.
 *
 * The page of zeros is mapped with the raw system call: it replaces part
 * of a map the cache will unmap whole, so it must not be counted as a map
 * of its own by memkit's mmap wrapper when libmemkit is preloaded. */
#include "sigbus_guard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SLOTS_PER_CHUNK 1024u
#define CHUNKS (MK_SIGBUS_GUARD_MAX / SLOTS_PER_CHUNK)

struct slot {
    _Atomic uint64_t   seq;            /* odd while the slot changes */
    _Atomic uintptr_t  start, end;     /* end 0: free */
    _Atomic int        prot;
    _Atomic(_Atomic uint64_t *) pages, total;
};

static _Atomic(struct slot *) chunks[CHUNKS];
static _Atomic unsigned used;          /* slots handed out so far: [0, used) */
static _Atomic unsigned free_hint;     /* where the next free slot may be */
static size_t page_size;
static struct sigaction previous;      /* what handled SIGBUS before */

static struct slot *slot_at(unsigned i)
{
    struct slot *chunk = atomic_load_explicit(&chunks[i / SLOTS_PER_CHUNK], memory_order_acquire);
    return chunk ? &chunk[i % SLOTS_PER_CHUNK] : NULL;
}

/* ---- the handler --------------------------------------------------------------- */

static int map_zeros(uintptr_t at, size_t len, int prot)
{
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
#ifdef SYS_mmap2
    long r = syscall(SYS_mmap2, at, len, prot, flags, -1, 0);
#else
    long r = syscall(SYS_mmap, at, len, prot, flags, -1, 0);
#endif
    return r == -1 ? -1 : 0;
}

/* Replaces the page at addr with zeros when a guarded range holds it. */
static int zero_guarded_page(uintptr_t addr)
{
    unsigned n = atomic_load_explicit(&used, memory_order_acquire);
    for (unsigned i = 0; i < n && i < MK_SIGBUS_GUARD_MAX; i++) {
        struct slot *s = slot_at(i);
        if (!s)
            continue;
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (seq & 1)
            continue;
        uintptr_t start = atomic_load_explicit(&s->start, memory_order_relaxed);
        uintptr_t end = atomic_load_explicit(&s->end, memory_order_relaxed);
        if (addr < start || addr >= end)
            continue;
        int prot = atomic_load_explicit(&s->prot, memory_order_relaxed);
        _Atomic uint64_t *pages = atomic_load_explicit(&s->pages, memory_order_relaxed);
        _Atomic uint64_t *total = atomic_load_explicit(&s->total, memory_order_relaxed);
        if (atomic_fetch_add_explicit(&s->seq, 0, memory_order_acq_rel) != seq)
            continue;
        if (map_zeros(addr & ~(uintptr_t)(page_size - 1), page_size, prot) != 0)
            return 0;
        atomic_fetch_add_explicit(pages, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(total, 1, memory_order_relaxed);
        return 1;
    }
    return 0;
}

/* Raised by the kernel for an access: it comes back when the access is
 * retried, and the kernel does not let it be ignored. */
static int from_an_access(const siginfo_t *si)
{
    switch (si->si_code) {
    case BUS_ADRALN:
    case BUS_ADRERR:
    case BUS_OBJERR:
#ifdef BUS_MCEERR_AR
    case BUS_MCEERR_AR:
#endif
        return 1;
    }
    return 0;
}

/* What the handler before ours would have done, as the kernel would have
 * run it: with its mask and, unless it asked for SA_NODEFER, SIGBUS
 * blocked (the kernel restores the mask when our handler returns). */
static void hand_on(int sig, siginfo_t *si, void *context)
{
    if (previous.sa_handler == SIG_IGN && !from_an_access(si))
        return;
    if (previous.sa_handler == SIG_IGN || previous.sa_handler == SIG_DFL) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
        /* An access faults again on return, now to the default action, and
         * the core dump shows that access rather than this handler; a
         * signal that was sent is sent again (SIGBUS is not blocked here:
         * SA_NODEFER). */
        if (!from_an_access(si))
            raise(sig);
        return;
    }
    sigset_t block = previous.sa_mask;
    if (!(previous.sa_flags & SA_NODEFER))
        sigaddset(&block, sig);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    if (previous.sa_flags & SA_SIGINFO)
        previous.sa_sigaction(sig, si, context);
    else
        previous.sa_handler(sig);
}

static void on_sigbus(int sig, siginfo_t *si, void *context)
{
    int saved = errno;
    if (!(si->si_code == BUS_ADRERR && zero_guarded_page((uintptr_t)si->si_addr)))
        hand_on(sig, si, context);
    errno = saved;
}

/* ---- installing ------------------------------------------------------------------ */

static int install_error;

static void install(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    struct sigaction sa = { .sa_sigaction = on_sigbus,
                            .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER };
    sigemptyset(&sa.sa_mask);
    /* One call, so that no handler installed meanwhile is lost. */
    if (sigaction(SIGBUS, &sa, &previous) != 0)
        install_error = errno;
}

int mk_sigbus_guard_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
    if (install_error) {
        errno = install_error;
        return -1;
    }
    return 0;
}

/* ---- the table ----------------------------------------------------------------------- */

/* Slot i's chunk, mapped if it is not yet. */
static struct slot *chunk_for(unsigned i)
{
    _Atomic(struct slot *) *where = &chunks[i / SLOTS_PER_CHUNK];
    struct slot *chunk = atomic_load_explicit(where, memory_order_acquire);
    if (chunk)
        return chunk;
    size_t bytes = SLOTS_PER_CHUNK * sizeof(struct slot);
    struct slot *fresh = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh == MAP_FAILED)
        return NULL;
    if (atomic_compare_exchange_strong_explicit(where, &chunk, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    munmap(fresh, bytes);   /* another thread mapped it first */
    return chunk;
}

/* Makes the slot this thread's to fill: 1, or 0 when it is not free. */
static int claim(struct slot *s)
{
    uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
    if ((seq & 1) || atomic_load_explicit(&s->end, memory_order_relaxed) != 0)
        return 0;
    return atomic_compare_exchange_strong_explicit(&s->seq, &seq, seq + 1,
                                                   memory_order_acq_rel, memory_order_relaxed);
}

int mk_sigbus_guard_add(const void *start, size_t len, int prot,
                        _Atomic uint64_t *pages, _Atomic uint64_t *total)
{
    int saved = errno;
    for (;;) {
        unsigned n = atomic_load_explicit(&used, memory_order_acquire);
        unsigned hint = atomic_load_explicit(&free_hint, memory_order_relaxed);
        for (unsigned k = 0; k < n; k++) {
            unsigned i = (hint + k) % n;
            struct slot *s = slot_at(i);
            if (!s || !claim(s))
                continue;
            atomic_store_explicit(&s->start, (uintptr_t)start, memory_order_relaxed);
            atomic_store_explicit(&s->end, (uintptr_t)start + len, memory_order_relaxed);
            atomic_store_explicit(&s->prot, prot, memory_order_relaxed);
            atomic_store_explicit(&s->pages, pages, memory_order_relaxed);
            atomic_store_explicit(&s->total, total, memory_order_relaxed);
            atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);
            errno = saved;
            return (int)i;
        }
        /* None free: one more slot, its chunk mapped before it is counted
         * in `used`, then look again (another thread may take it first). */
        if (n >= MK_SIGBUS_GUARD_MAX || !chunk_for(n)) {
            errno = ENOMEM;
            return -1;
        }
        atomic_compare_exchange_strong_explicit(&used, &n, n + 1, memory_order_acq_rel,
                                                memory_order_relaxed);
    }
}

void mk_sigbus_guard_remove(int slot)
{
    struct slot *s = slot_at((unsigned)slot);
    atomic_fetch_add_explicit(&s->seq, 1, memory_order_acq_rel);
    atomic_store_explicit(&s->end, 0, memory_order_relaxed);
    atomic_store_explicit(&s->start, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->seq, 1, memory_order_release);
    atomic_store_explicit(&free_hint, (unsigned)slot, memory_order_relaxed);
}
