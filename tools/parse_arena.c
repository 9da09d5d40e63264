/* parse_arena.c — a bump allocator for jansson in memkit-report
 * (parse_arena.h). */
#include "parse_arena.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define FIRST_CHUNK ((size_t)1 << 20)      /* a small report stays small */
#define LAST_CHUNK  ((size_t)32 << 20)     /* each chunk twice the last, up to this */
#define BIG_BYTES   (FIRST_CHUNK / 4)      /* larger requests go to malloc */
#define ALIGN       16

#define MAX_CHUNKS  64                     /* 2 GiB; past that, malloc */

static char *next, *end;
static size_t chunk_bytes = FIRST_CHUNK;
static struct { char *start; size_t len; } chunks[MAX_CHUNKS];
static unsigned nchunks;

static int in_chunk(const void *p)
{
    for (unsigned i = nchunks; i-- > 0;)
        if ((const char *)p >= chunks[i].start && (const char *)p < chunks[i].start + chunks[i].len)
            return 1;
    return 0;
}

static void *arena_malloc(size_t n)
{
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (n == 0 || n > BIG_BYTES)
        return malloc(n ? n : 1);
    if ((size_t)(end - next) < n) {
        if (nchunks == MAX_CHUNKS)
            return malloc(n);
        /* Populated at once: one call faults in what would otherwise be
         * one page fault per 4 KiB as the parse reaches it. */
        void *chunk = mmap(NULL, chunk_bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (chunk == MAP_FAILED)
            return malloc(n);
        chunks[nchunks].start = chunk;
        chunks[nchunks++].len = chunk_bytes;
        next = chunk;
        end = next + chunk_bytes;
        if (chunk_bytes < LAST_CHUNK)
            chunk_bytes *= 2;
    }
    void *p = next;
    next += n;
    return p;
}

/* What came from malloc goes back; the chunks stay until exit (the
 * command ends soon after its last report). */
static void arena_free(void *p)
{
    if (p && !in_chunk(p))
        free(p);
}

void mkt_parse_arena_use(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
}
