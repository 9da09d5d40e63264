/* bootstrap.c — the static buffer that serves allocations made before the
 * real allocator is known (dlsym allocates while memkit resolves it).
 *
 * Blocks are bump-allocated and never reused; free() recognises and
 * ignores them, realloc() copies out of them. Each block carries its size
 * in a 16-byte header so malloc_usable_size and realloc can answer, and in
 * the header's last word the mark the fast paths test (real.h). */
#include "real.h"

#include <errno.h>
#include <stdint.h>

#define HEADER 16

_Alignas(64) unsigned char mk_bootstrap_buffer[MK_BOOTSTRAP_BYTES];
static size_t used;   /* bytes handed out, bumped atomically */

void *mk_bootstrap_alloc(size_t size, size_t align)
{
    if (align < HEADER)
        align = HEADER;
    if (align & (align - 1) || size > MK_BOOTSTRAP_BYTES) {
        errno = align & (align - 1) ? EINVAL : ENOMEM;
        return NULL;
    }
    size_t old = __atomic_load_n(&used, __ATOMIC_RELAXED), start, end;
    do {
        uintptr_t base = (uintptr_t)mk_bootstrap_buffer;
        start = ((base + old + HEADER + align - 1) & ~(uintptr_t)(align - 1)) - base;
        end = start + ((size + HEADER - 1) & ~(size_t)(HEADER - 1));
        if (end > MK_BOOTSTRAP_BYTES) {
            errno = ENOMEM;
            return NULL;
        }
    } while (!__atomic_compare_exchange_n(&used, &old, end, 1,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    *(size_t *)(mk_bootstrap_buffer + start - HEADER) = end - start;
    /* Where glibc keeps a chunk's size word: bit 2 (IS_MMAPPED), so that
     * the wrappers' fast paths, which read that word, send the block to
     * the path that knows it. */
    *(size_t *)(mk_bootstrap_buffer + start - sizeof(size_t)) = MK_BOOTSTRAP_MARK;
    return mk_bootstrap_buffer + start;   /* static memory: already zero, never reused */
}

size_t mk_bootstrap_usable(const void *p)
{
    return *(const size_t *)((const unsigned char *)p - HEADER);
}
