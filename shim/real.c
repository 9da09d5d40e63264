/* real.c — resolving the functions beneath memkit, and memkit's own pages.
 *
 * See real.h for the contract. Everything is resolved into a local table
 * first and published at once: a wrapper must never see a real malloc
 * without the matching real free. */
#include "real.h"
#include "tls.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct mk_real_fns mk_real;
int mk_glibc_chunks;
static int resolved;   /* 1 once mk_real is published */

/* Whether malloc comes from glibc's libc.so and the chunk size word gives
 * exactly what malloc_usable_size gives (see mk_usable_size). Sizes cover
 * tcache, small and large bins, and an mmapped chunk. The mmapped one is
 * above 32 MiB on purpose: freeing an mmapped chunk below that raises
 * glibc's dynamic mmap threshold, which would change the program's heap. */
static int glibc_chunks_agree(const struct mk_real_fns *fns)
{
    Dl_info info;
    if (!dladdr((void *)fns->malloc, &info) || !info.dli_fname)
        return 0;
    const char *base = strrchr(info.dli_fname, '/');
    base = base ? base + 1 : info.dli_fname;
    if (strncmp(base, "libc.so", 7) != 0)
        return 0;
    static const size_t sizes[] = { 0, 1, 24, 25, 100, 1000, 4096, 70000, 33u << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = fns->malloc(sizes[i]);
        if (!p)
            return 0;
        size_t head = ((const size_t *)p)[-1];
        size_t mine = (head & ~(size_t)7) - ((head & 2) ? 16 : 8);
        int same = mine == fns->malloc_usable_size(p);
        fns->free(p);
        if (!same)
            return 0;
    }
    return 1;
}

static void *next_symbol(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* Whether two functions come from the same loaded object. */
static int same_object(void *a, void *b)
{
    Dl_info ia, ib;
    return dladdr(a, &ia) && dladdr(b, &ib) && ia.dli_fbase == ib.dli_fbase;
}

int mk_real_resolve(void)
{
    if (__atomic_load_n(&resolved, __ATOMIC_ACQUIRE))
        return 0;
    int saved = errno;
    struct mk_real_fns fns;
#define RESOLVE(field) fns.field = (__typeof__(fns.field))next_symbol(#field)
    RESOLVE(malloc);
    RESOLVE(free);
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(reallocarray);
    RESOLVE(posix_memalign);
    RESOLVE(aligned_alloc);
    RESOLVE(memalign);
    RESOLVE(valloc);
    RESOLVE(pvalloc);
    RESOLVE(malloc_usable_size);
    RESOLVE(nallocx);
    RESOLVE(mmap);
    RESOLVE(mmap64);
    RESOLVE(munmap);
    RESOLVE(mremap);
    RESOLVE(pipe2);
#undef RESOLVE
    if (!fns.mmap64)
        fns.mmap64 = fns.mmap;
    if (fns.nallocx && !(fns.malloc && same_object((void *)fns.nallocx, (void *)fns.malloc)))
        fns.nallocx = NULL;   /* another allocator's size classes */
    errno = saved;   /* a failed dlsym may leave errno changed */
    if (!fns.malloc || !fns.free || !fns.calloc || !fns.realloc ||
        !fns.malloc_usable_size)
        return -1;
    mk_glibc_chunks = glibc_chunks_agree(&fns);
    errno = saved;
    mk_real = fns;
    __atomic_store_n(&resolved, 1, __ATOMIC_RELEASE);
    return 0;
}

/* ---- memkit's own pages ---------------------------------------------------
 * Straight from the kernel through the real mmap (or the raw system call
 * before it is resolved), so they are never the program's and never on its
 * heap. errno is preserved: callers see NULL and decide. */

static void *raw_mmap(size_t len)
{
    if (mk_real.mmap)
        return mk_real.mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return (void *)syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

#ifdef MK_FAULT_INJECTION
/* Test builds only (libmemkit_faults.so): MK_FAULT_EVERY=N makes every Nth
 * of memkit's own page allocations fail, as if memory had run out. */
static int injected_fault(void)
{
    static long every = -1;
    static unsigned long calls;
    if (__atomic_load_n(&every, __ATOMIC_RELAXED) < 0) {
        const char *s = getenv("MK_FAULT_EVERY");
        __atomic_store_n(&every, s ? strtol(s, NULL, 10) : 0, __ATOMIC_RELAXED);
    }
    long n = __atomic_load_n(&every, __ATOMIC_RELAXED);
    return n > 0 && __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) % (unsigned long)n == 0;
}
#else
static inline int injected_fault(void)
{
    return 0;
}
#endif

void *mk_pages_alloc(size_t len)
{
    if (injected_fault())
        return NULL;
    int saved = errno;
    void *p = raw_mmap(len);
    errno = saved;
    return p == MAP_FAILED ? NULL : p;
}

void mk_pages_free(void *p, size_t len)
{
    if (!p)
        return;
    int saved = errno;
    if (mk_real.munmap)
        mk_real.munmap(p, len);
    else
        syscall(SYS_munmap, p, len);
    errno = saved;
}

void *mk_pages_realloc(void *p, size_t old_len, size_t new_len)
{
    if (!p)
        return mk_pages_alloc(new_len);
    if (injected_fault())
        return NULL;
    int saved = errno;
    void *q = mk_real.mremap
        ? mk_real.mremap(p, old_len, new_len, MREMAP_MAYMOVE)
        : (void *)syscall(SYS_mremap, p, old_len, new_len, MREMAP_MAYMOVE);
    errno = saved;
    return q == MAP_FAILED ? NULL : q;
}

size_t mk_real_usable_size(void *p)
{
    struct mk_thread *t = &mk_self;
    uint8_t in_real = t->in_real;
    int saved = errno;   /* a call the program did not make: mimalloc's may set errno */
    t->in_real = 1;
    size_t n = mk_real.malloc_usable_size(p);
    t->in_real = in_real;
    errno = saved;
    return n;
}

size_t mk_real_usable_for(size_t requested)
{
    size_t n = 0;
    if (mk_real.nallocx) {
        struct mk_thread *t = &mk_self;
        uint8_t in_real = t->in_real;
        int saved = errno;
        t->in_real = 1;
        n = mk_real.nallocx(requested ? requested : 1, 0);   /* 0: undefined in jemalloc */
        t->in_real = in_real;
        errno = saved;
    }
    return n >= requested ? n : requested;
}
