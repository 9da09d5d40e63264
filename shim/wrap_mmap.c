/* wrap_mmap.c — the mmap family, forwarded and counted.
 *
 * A map made while memkit is inside the real allocator (jemalloc, tcmalloc
 * and mimalloc call mmap through the PLT) is the allocator's and counted
 * apart from the program's. glibc's malloc maps through internal calls that
 * never reach here: those maps are invisible to memkit (README). Lengths
 * are counted rounded up to whole pages, as the kernel maps them. Before
 * the real functions are resolved the raw system calls serve. */
/* Both mmap and mmap64 are defined here: the header must not rename one
 * into the other (meson builds with _FILE_OFFSET_BITS=64). */
#undef _FILE_OFFSET_BITS
#include "counters.h"
#include "lifecycle.h"
#include "memkit.h"

#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static size_t pages(size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (len + page - 1) & ~(page - 1);
}

/* ---- memkit's own maps --------------------------------------------------
 * A map made during memkit's own work (busy) is memkit's, and so is its
 * munmap, even when that comes later from a context memkit does not mark:
 * libunwind maps a per-thread cache while memkit samples a stack and
 * unmaps it from a thread-exit destructor. Those maps are remembered here
 * (a fixed table: a map that finds it full is simply counted later as the
 * program's). */
#define OWN_MAPS 512
static struct { uintptr_t addr; } own[OWN_MAPS];
static int own_count;

static void own_add(void *p)
{
    for (int i = 0; i < OWN_MAPS; i++) {
        uintptr_t expect = 0;
        if (__atomic_compare_exchange_n(&own[i].addr, &expect, (uintptr_t)p, 0,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
            __atomic_add_fetch(&own_count, 1, __ATOMIC_RELAXED);
            return;
        }
    }
}

/* Whether p starts one of memkit's own maps (forgotten as it is unmapped). */
static int own_remove(void *p)
{
    if (!__atomic_load_n(&own_count, __ATOMIC_RELAXED))
        return 0;
    for (int i = 0; i < OWN_MAPS; i++) {
        uintptr_t expect = (uintptr_t)p;
        if (expect && __atomic_compare_exchange_n(&own[i].addr, &expect, 0, 0,
                                                  __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            __atomic_sub_fetch(&own_count, 1, __ATOMIC_RELAXED);
            return 1;
        }
    }
    return 0;
}

/* Whose map this is, or -1 when it is memkit's own or not counted. */
static int owner(const struct mk_thread *t)
{
    if (__atomic_load_n(&mk_mode, __ATOMIC_RELAXED) != MK_MODE_COUNTING || t->busy)
        return -1;
    return t->in_real ? MK_MAP_ALLOCATOR : MK_MAP_PROGRAM;
}

static void *forward_mmap(void *(*real)(void *, size_t, int, int, int, off_t),
                          void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = real ? real(addr, len, prot, flags, fd, off)
                   : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    int who = owner(&mk_self);
    if (p != MAP_FAILED && who >= 0)
        mk_count_mmap((enum mk_map_owner)who, pages(len));
    else if (p != MAP_FAILED && mk_self.busy && !(flags & MAP_FIXED))
        own_add(p);
    return p;
}

MEMKIT_API void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return forward_mmap(mk_real.mmap, addr, len, prot, flags, fd, off);
}

MEMKIT_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return forward_mmap(mk_real.mmap64, addr, len, prot, flags, fd, off);
}

MEMKIT_API int munmap(void *addr, size_t len)
{
    int rc = mk_real.munmap ? mk_real.munmap(addr, len)
                            : (int)syscall(SYS_munmap, addr, len);
    int who = owner(&mk_self);
    if (rc == 0 && who >= 0 && !own_remove(addr))
        mk_count_munmap((enum mk_map_owner)who, pages(len));
    return rc;
}

MEMKIT_API void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *new_addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    void *p = mk_real.mremap ? mk_real.mremap(old, old_len, new_len, flags, new_addr)
                             : (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
    int who = owner(&mk_self);
    if (p != MAP_FAILED && who >= 0) {
        if (flags & MREMAP_DONTUNMAP)   /* the old range stays mapped */
            mk_count_mmap((enum mk_map_owner)who, pages(new_len));
        else
            mk_count_mremap((enum mk_map_owner)who, pages(old_len), pages(new_len));
    }
    return p;
}
