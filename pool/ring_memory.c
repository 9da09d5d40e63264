/* ring_memory.c — the shared memory under a frame ring (ring_memory.h).
 *
 * Every map here is a plain mmap: when libmemkit is preloaded its own mmap
 * wrapper counts them as the program's, which is what a ring is. So the
 * second view is placed without MAP_FIXED over a reservation (a map laid
 * over another is counted twice and unmapped once): a hole of the right
 * size is found, given back, and filled with MAP_FIXED_NOREPLACE, which
 * never replaces anything; a thread that takes the hole meanwhile makes
 * the attempt fail cleanly, and it is retried. */
#include "ring_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PROT_RW (PROT_READ | PROT_WRITE)

/* Maps head + data of fd at a free address, the data pages again right
 * after; NULL, errno set, when that cannot be done. */
static unsigned char *map_twice(int fd, size_t head, size_t data)
{
    size_t total = head + 2 * data;
    for (int attempt = 0; attempt < 4; attempt++) {
        unsigned char *hole = mmap(NULL, total, PROT_NONE,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (hole == MAP_FAILED)
            return NULL;
        munmap(hole, total);
        unsigned char *first = mmap(hole, head + data, PROT_RW,
                                    MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_POPULATE, fd, 0);
        if (first == MAP_FAILED) {
            if (errno == EEXIST)
                continue;
            return NULL;
        }
        if (first != hole) {
            /* A kernel before 4.17 took the flag for a hint. */
            munmap(first, head + data);
            errno = EEXIST;
            return NULL;
        }
        unsigned char *second = mmap(first + head + data, data, PROT_RW,
                                     MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_POPULATE,
                                     fd, (off_t)head);
        if (second == first + head + data)
            return first;
        int err = second == MAP_FAILED ? errno : EEXIST;
        if (second != MAP_FAILED)
            munmap(second, data);
        munmap(first, head + data);
        if (err != EEXIST) {
            errno = err;
            return NULL;
        }
    }
    errno = EEXIST;
    return NULL;
}

/* A memfd of the given size whose size can never change again (so the
 * ring can never raise SIGBUS), or -1. */
static int sized_memfd(size_t size)
{
    int fd = memfd_create("memkit-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)size) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    return fd;
}

int mk_ring_memory_map(struct mk_ring_memory *m, size_t head_bytes, size_t data_bytes,
                       int twice)
{
    int saved = errno;
    m->head_bytes = head_bytes;
    m->data_bytes = data_bytes;
    unsigned char *p = MAP_FAILED;
    int fd = sized_memfd(head_bytes + data_bytes);
    if (fd >= 0) {
        if (twice && (p = map_twice(fd, head_bytes, data_bytes)) != NULL) {
            m->backing = MK_RING_MEMFD_TWICE;
            m->mapped = head_bytes + 2 * data_bytes;
        } else {
            p = mmap(NULL, head_bytes + data_bytes, PROT_RW, MAP_SHARED | MAP_POPULATE, fd, 0);
            m->backing = MK_RING_MEMFD;
            m->mapped = head_bytes + data_bytes;
        }
        close(fd);   /* the maps keep the memfd alive */
    }
    if (p == MAP_FAILED) {
        /* No memfd (a kernel before 3.17, a sandbox that forbids it): shared
         * anonymous memory is the same to the ring, shared with fork
         * children too, but it cannot be mapped twice. */
        p = mmap(NULL, head_bytes + data_bytes, PROT_RW,
                 MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        m->backing = MK_RING_ANONYMOUS;
        m->mapped = head_bytes + data_bytes;
    }
    if (p == MAP_FAILED)
        return -1;
    m->head = p;
    m->data = p + head_bytes;
    errno = saved;
    return 0;
}

void mk_ring_memory_unmap(struct mk_ring_memory *m)
{
    int saved = errno;
    munmap(m->head, m->mapped);
    errno = saved;
}
