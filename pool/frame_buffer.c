/* frame_buffer.c — getting a frame buffer from the system and giving it
 * back. Frames of a page or more are mapped on their own (page-aligned,
 * returned to the system whole when freed) with MAP_POPULATE, so the first
 * acquire takes the page faults and reuse takes none; smaller ones come
 * from the heap, 64-byte aligned, with the header in front, zeroed to the
 * same end. When libmemkit is preloaded these calls go through its
 * wrappers and count as the program's memory, which they are. */
#include "frame_pool_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALIGN 64

static size_t page_size(void)
{
    static size_t page;
    size_t p = __atomic_load_n(&page, __ATOMIC_RELAXED);
    if (!p) {
        long v = sysconf(_SC_PAGESIZE);
        p = v > 0 ? (size_t)v : 4096;
        __atomic_store_n(&page, p, __ATOMIC_RELAXED);
    }
    return p;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

size_t mk_buffer_max_size(void)
{
    /* Room for the rounding below without overflow, and no object larger
     * than ptrdiff_t can span. */
    return (size_t)PTRDIFF_MAX - 2 * page_size();
}

static int mapped(size_t frame_size)
{
    return frame_size >= page_size();
}

size_t mk_buffer_footprint(size_t frame_size)
{
    if (mapped(frame_size))
        return round_up(frame_size, page_size()) + sizeof(struct memkit_frame);
    return sizeof(struct memkit_frame) + round_up(frame_size, ALIGN);
}

struct memkit_frame *mk_buffer_new(struct memkit_pool *p)
{
    size_t size = p->frame_size;
    struct memkit_frame *f;
    void *data;
    if (mapped(size)) {
        void *mem;
        if (posix_memalign(&mem, ALIGN, sizeof *f) != 0) {
            errno = ENOMEM;
            return NULL;
        }
        f = mem;
        data = mmap(NULL, round_up(size, page_size()), PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (data == MAP_FAILED) {
            free(f);
            errno = ENOMEM;
            return NULL;
        }
    } else {
        void *mem;
        if (posix_memalign(&mem, ALIGN, sizeof *f + round_up(size, ALIGN)) != 0) {
            errno = ENOMEM;
            return NULL;
        }
        f = mem;
        data = (char *)mem + sizeof *f;
        memset(data, 0, round_up(size, ALIGN));   /* faulted in now, not on first use */
    }
    memset(f, 0, sizeof *f);
    f->refs = 1;
    f->size = size;
    f->data = data;
    f->pool = p;
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&p->allocated, 1, __ATOMIC_RELAXED);
    return f;
}

void mk_buffer_free(struct memkit_frame *f)
{
    struct memkit_pool *p = f->pool;
    __atomic_add_fetch(&p->freed, 1, __ATOMIC_RELAXED);
    if (mapped(f->size))
        munmap(f->data, round_up(f->size, page_size()));
    free(f);   /* the header, and for a small frame the data behind it */
}
