/* stress_hold.c — see stress_hold.h. */
#include "stress_hold.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* How often a long write pass asks whether to stop: 64 MiB takes some
 * 15 ms to fault in, so Ctrl-C is answered at once even mid-chunk. */
#define STOP_CHECK_BYTES (64u << 20)

size_t mkt_page_size(void)
{
    static size_t page;
    if (!page) {
        long p = sysconf(_SC_PAGESIZE);
        page = p > 0 ? (size_t)p : 4096;
    }
    return page;
}

static int note_room(struct mkt_hold *h)
{
    if (h->n < h->cap)
        return 0;
    size_t cap = h->cap ? h->cap * 2 : 16;
    struct mkt_chunk *c = realloc(h->chunk, cap * sizeof *c);
    if (!c) {
        errno = ENOMEM;
        return -1;
    }
    h->chunk = c;
    h->cap = cap;
    return 0;
}

int mkt_hold_add(struct mkt_hold *h, uint64_t bytes, int (*stop)(void))
{
    size_t page = mkt_page_size();
    if (bytes == 0 || bytes > MKT_CHUNK_MAX) {
        errno = EINVAL;
        return -1;
    }
    size_t len = (size_t)((bytes + page - 1) / page * page);
    if (note_room(h) < 0)
        return -1;
    /* No MAP_POPULATE, no MAP_NORESERVE: the kernel's overcommit rules
     * apply as to any program, and the writes below are what makes the
     * pages resident (MAP_POPULATE may quietly back less). */
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return -1;

    /* Non-zero, through volatile: a store the compiler cannot drop, into a
     * page the shared zero page cannot stand in for. */
    volatile char *p = base;
    size_t done = 0, next_check = STOP_CHECK_BYTES;
    int stopped = 0;
    while (done < len) {
        p[done] = 0x5a;
        done += page;
        if (done >= next_check && done < len) {
            next_check += STOP_CHECK_BYTES;
            if (stop && stop()) {
                stopped = 1;
                break;
            }
        }
    }
    if (stopped) {
        munmap(base + done, len - done);
        len = done;
    }
    h->chunk[h->n].base = base;
    h->chunk[h->n].len = len;
    h->n++;
    h->bytes += len;
    return stopped;
}

void mkt_hold_shrink_to(struct mkt_hold *h, uint64_t bytes)
{
    size_t page = mkt_page_size();
    while (h->n && h->bytes - h->chunk[h->n - 1].len >= bytes) {
        struct mkt_chunk *c = &h->chunk[--h->n];
        munmap(c->base, c->len);
        h->bytes -= c->len;
    }
    if (h->n && h->bytes > bytes) {
        struct mkt_chunk *c = &h->chunk[h->n - 1];
        /* What the newest chunk keeps, down to a page boundary, so that
         * the hold ends at or just under `bytes`. */
        size_t keep = c->len - (size_t)(h->bytes - bytes);
        keep = keep / page * page;
        munmap(c->base + keep, c->len - keep);
        h->bytes -= c->len - keep;
        c->len = keep;
        if (keep == 0)
            h->n--;
    }
}

void mkt_hold_release(struct mkt_hold *h)
{
    mkt_hold_shrink_to(h, 0);
    free(h->chunk);
    h->chunk = NULL;
    h->cap = 0;
}
