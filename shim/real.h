/* real.h — the one seam between memkit and what lies beneath it.
 *
 * Every call memkit makes into the real allocator or into a function it
 * also wraps goes through here. The allocator entries are the next
 * definitions after memkit's (dlsym RTLD_NEXT), so jemalloc, tcmalloc or
 * mimalloc preloaded after memkit, or linked into the program, stay in
 * charge. Until they are resolved, memkit serves dlsym's own allocations
 * from a small static bootstrap buffer (bootstrap.c). */
#ifndef MK_REAL_H
#define MK_REAL_H

#include "mk_common.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mk_real_fns {
    void  *(*malloc)(size_t);
    void   (*free)(void *);
    void  *(*calloc)(size_t, size_t);
    void  *(*realloc)(void *, size_t);
    void  *(*reallocarray)(void *, size_t, size_t);
    int    (*posix_memalign)(void **, size_t, size_t);
    void  *(*aligned_alloc)(size_t, size_t);
    void  *(*memalign)(size_t, size_t);
    void  *(*valloc)(size_t);
    void  *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
    /* Optional: the allocator's nallocx (jemalloc, tcmalloc), only when it
     * comes from the same object as malloc; else NULL. */
    size_t (*nallocx)(size_t, int);
    void  *(*mmap)(void *, size_t, int, int, int, off_t);
    void  *(*mmap64)(void *, size_t, int, int, int, off_t);
    int    (*munmap)(void *, size_t);
    void  *(*mremap)(void *, size_t, size_t, int, ...);
    int    (*pipe2)(int *, int);
};

/* Filled by mk_real_resolve(); entries stay NULL until then. */
extern struct mk_real_fns mk_real MK_HIDDEN;

/* Resolves every entry once; safe to call again. Allocations that dlsym
 * makes meanwhile on this thread are served by the bootstrap buffer.
 * Returns 0 when malloc and free were found. */
int mk_real_resolve(void);

/* Memory for memkit's own buffers, straight from the kernel (never the
 * heap, never counted as the program's). NULL on failure, errno kept. */
void *mk_pages_alloc(size_t len);
void  mk_pages_free(void *p, size_t len);
/* Grows or shrinks a mk_pages_alloc block, moving it if needed. */
void *mk_pages_realloc(void *p, size_t old_len, size_t new_len);

/* Usable size of a block the allocator handed out and the program still
 * holds. glibc's malloc_usable_size also reads the next chunk's header (a
 * second cache line, 13% of a malloc-heavy run); the block's own size word
 * gives the same figure. memkit reads it only where the allocator beneath
 * is glibc's and a self-check at start agreed with malloc_usable_size on
 * small, large and mmapped blocks (see real.c). */
extern int mk_glibc_chunks MK_HIDDEN;

/* The allocator's own malloc_usable_size, called as memkit calls into the
 * allocator (in_real set): jemalloc sets up a thread's state, and maps
 * memory for it, on the first call a thread makes, this one included. */
size_t mk_real_usable_size(void *p);

/* The usable size of a block of `requested` bytes the allocator has just
 * handed out, for when its malloc_usable_size answered 0 (no allocator
 * here hands out a block of 0 usable bytes, even for malloc(0)).
 * gperftools' tcmalloc answers 0 until its own constructor has run:
 * malloc_usable_size goes through MallocExtension::instance(), which is the
 * base class (GetAllocatedSize returns 0) until tcmalloc registers itself,
 * yet libraries it depends on allocate from their constructors before that
 * (libstdc++'s exception pool: 72704 bytes). The allocator's nallocx
 * answers from its size classes alone; without one, the request itself.
 * Never below requested. */
size_t mk_real_usable_for(size_t requested);

/* In steps, for the wrappers' fast paths: the size word; 1 when it has
 * bit 2 (an mmapped chunk, or the mark of a bootstrap or detour block),
 * which they send out of line; the usable size of any other chunk. */
static inline size_t mk_glibc_head(const void *p)
{
    return ((const size_t *)p)[-1];
}

static inline int mk_glibc_head_mapped(size_t head)
{
    return (head & 2) != 0;
}

static inline size_t mk_glibc_head_usable(size_t head)
{
    return (head & ~(size_t)7) - 8;
}

/* A glibc block's usable size from its size word (mk_glibc_chunks): the
 * chunk less its own size word, and less the whole header for the rare
 * mmapped chunk (bit 2, IS_MMAPPED; a branch, as it is rarely taken). */
static inline size_t mk_glibc_usable(const void *p)
{
    size_t head = mk_glibc_head(p);
    size_t usable = mk_glibc_head_usable(head);
    if (__builtin_expect(mk_glibc_head_mapped(head), 0))
        usable -= 8;
    return usable;
}

static inline size_t mk_usable_size(void *p)
{
    if (__builtin_expect(mk_glibc_chunks, 1))
        return mk_glibc_usable(p);
    return mk_real_usable_size(p);
}

/* ---- bootstrap buffer (bootstrap.c) ---- */
#define MK_BOOTSTRAP_BYTES (64 * 1024)
/* The word just below a bootstrap block: glibc's IS_MMAPPED bit, which
 * the fast paths send out of line (mk_glibc_head_mapped). */
#define MK_BOOTSTRAP_MARK ((size_t)2)
extern unsigned char mk_bootstrap_buffer[MK_BOOTSTRAP_BYTES] MK_HIDDEN;

void  *mk_bootstrap_alloc(size_t size, size_t align);
size_t mk_bootstrap_usable(const void *p);

static inline int mk_bootstrap_owns(const void *p)
{
    return (uintptr_t)p - (uintptr_t)mk_bootstrap_buffer < MK_BOOTSTRAP_BYTES;   /* one compare */
}

#endif
