/* test_map_cache.c — the mapping cache: every call and error; hits,
 * misses and evictions by bytes and by count with exact figures; mappings
 * in use never evicted; unmap of a path and clear; frame ranges; writes
 * that reach the file; a file truncated under a held mapping (zeros, no
 * death, counted, and the next map sees the new size); a file replaced
 * under a held mapping; SIGBUS that is not memkit's reaching the program's
 * handler or the default action; the list and drain for the report and
 * compaction; threads and fork. Each test runs in its own forked worker,
 * so SIGBUS handlers and dying processes stay inside it. */
#include "map_cache.h"
#include "memkit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
/* ThreadSanitizer makes itself the default action of a fault's SIGBUS (it
 * reports, then exits with its own status): leave that to the kernel, as
 * the tests of the default action expect. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "handle_sigbus=0";
}
#endif

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- files ------------------------------------------------------------------------- */

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/memkit-map-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(map, .init = make_dir, .fini = remove_dir);

static const char *path_of(const char *name)
{
    static char paths[8][128];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

static unsigned char byte_at(uint64_t at, unsigned seed)
{
    return (unsigned char)(at * 7 + (at >> 9) + seed * 31 + 1);
}

/* A file of size bytes, byte i being byte_at(i, seed). */
static const char *make_file(const char *name, size_t size, unsigned seed)
{
    const char *path = path_of(name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    unsigned char *buf = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        buf[i] = byte_at(i, seed);
    cr_assert_eq(write(fd, buf, size), (ssize_t)size);
    free(buf);
    close(fd);
    return path;
}

static int holds(const void *data, uint64_t from, size_t len, unsigned seed)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < len; i++)
        if (b[i] != byte_at(from + i, seed))
            return 0;
    return 1;
}

static memkit_map_stats_t stats_of(memkit_map_cache_t *cache)
{
    memkit_map_stats_t s = { .size = sizeof s };
    cr_assert_eq(memkit_map_stats(cache, &s), 0);
    return s;
}

#define assert_stats(cache, h, m, e, bytes, maps, used)                          \
    do {                                                                         \
        memkit_map_stats_t s_ = stats_of(cache);                                 \
        cr_assert_eq(s_.hits, (h), "hits %lu", (unsigned long)s_.hits);          \
        cr_assert_eq(s_.misses, (m), "misses %lu", (unsigned long)s_.misses);    \
        cr_assert_eq(s_.evictions, (e), "evictions %lu", (unsigned long)s_.evictions); \
        cr_assert_eq(s_.mapped_bytes, (bytes), "mapped_bytes %lu", (unsigned long)s_.mapped_bytes); \
        cr_assert_eq(s_.mappings, (maps), "mappings %lu", (unsigned long)s_.mappings); \
        cr_assert_eq(s_.in_use, (used), "in_use %lu", (unsigned long)s_.in_use); \
    } while (0)

/* ---- calls and errors ------------------------------------------------------------------- */

Test(map, create_stats_destroy_and_errno_left_alone)
{
    errno = EXDEV;
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    cr_assert_not_null(cache);
    assert_stats(cache, 0, 0, 0, 0, 0, 0);
    const char *path = make_file("a", 3 * page(), 1);
    errno = EXDEV;
    memkit_mapping_t *m = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_not_null(m);
    cr_assert_not_null(memkit_mapping_data(m));
    cr_assert_eq(memkit_mapping_size(m), 3 * page());
    cr_assert_eq(memkit_mapping_advise(m, MEMKIT_ADVICE_WILLNEED), 0);
    memkit_mapping_release(m);
    memkit_map_clear(cache);
    memkit_map_cache_destroy(cache);
    cr_assert_eq(errno, EXDEV);
}

Test(map, stats_errors)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    memkit_map_stats_t s = { .size = sizeof s };
    errno = 0;
    cr_assert_eq(memkit_map_stats(NULL, &s), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_map_stats(cache, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    s.size = sizeof s - 1;
    errno = 0;
    cr_assert_eq(memkit_map_stats(cache, &s), -1);
    cr_assert_eq(errno, EINVAL);
    /* A caller built against a later header passes a bigger struct. */
    struct { memkit_map_stats_t s; uint64_t later; } big = { .s.size = sizeof big, .later = 77 };
    cr_assert_eq(memkit_map_stats(cache, &big.s), 0);
    cr_assert_eq(big.s.size, sizeof big);
    cr_assert_eq(big.later, 77, "fields memkit does not know are left alone");
    memkit_map_cache_destroy(cache);
}

Test(map, map_errors)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("a", 100, 1);
    struct { memkit_map_cache_t *cache; const char *path; int flags; int err; } cases[] = {
        { NULL, path, MEMKIT_MAP_READ, EINVAL },
        { cache, NULL, MEMKIT_MAP_READ, EINVAL },
        { cache, path, 2, EINVAL },
        { cache, path, -1, EINVAL },
        { cache, path_of("missing"), MEMKIT_MAP_READ, ENOENT },
        { cache, make_file("empty", 0, 0), MEMKIT_MAP_READ, EINVAL },
        { cache, dir, MEMKIT_MAP_READ, ENODEV },
        { cache, "/dev/null", MEMKIT_MAP_READ, ENODEV },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errno = 0;
        cr_assert_null(memkit_map_file(cases[i].cache, cases[i].path, cases[i].flags), "case %zu", i);
        cr_assert_eq(errno, cases[i].err, "case %zu: errno %d", i, errno);
    }
    char under_file[160];
    snprintf(under_file, sizeof under_file, "%s/x", path);
    errno = 0;
    cr_assert_null(memkit_map_file(cache, under_file, MEMKIT_MAP_READ));
    cr_assert_eq(errno, ENOTDIR, "errors are open's and stat's own");
    assert_stats(cache, 0, 0, 0, 0, 0, 0);
    memkit_map_cache_destroy(cache);
}

Test(map, frames_errors)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("video.raw", 50 * 1000, 1);
    struct { size_t frame_size; uint64_t first; size_t count; int err; } cases[] = {
        { 0, 0, 1, EINVAL },
        { 1000, 0, 0, EINVAL },
        { 1000, 48, 3, ERANGE },
        { 1000, 50, 1, ERANGE },
        { 1000, UINT64_MAX, 1, ERANGE },
        { SIZE_MAX, 0, 2, ERANGE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errno = 0;
        cr_assert_null(memkit_map_frames(cache, path, cases[i].frame_size, cases[i].first,
                                         cases[i].count, MEMKIT_MAP_READ), "case %zu", i);
        cr_assert_eq(errno, cases[i].err, "case %zu: errno %d", i, errno);
    }
    errno = 0;
    cr_assert_null(memkit_map_frames(NULL, path, 1000, 0, 1, MEMKIT_MAP_READ));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_map_frames(cache, path, 1000, 0, 1, 7));
    cr_assert_eq(errno, EINVAL);
    memkit_map_cache_destroy(cache);
}

Test(map, null_mapping)
{
    errno = 0;
    cr_assert_null(memkit_mapping_data(NULL));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_mapping_size(NULL), 0);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_mapping_advise(NULL, MEMKIT_ADVICE_NORMAL), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_mapping_sync(NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    memkit_mapping_release(NULL);
    memkit_map_clear(NULL);
    memkit_map_cache_destroy(NULL);
    errno = 0;
    cr_assert_eq(memkit_map_unmap(NULL, "x"), -1);
    cr_assert_eq(errno, EINVAL);
}

/* ---- hits and misses ---------------------------------------------------------------------- */

Test(map, the_same_file_again_is_a_hit_until_released_and_after)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    size_t size = 2 * page() + 123;
    const char *path = make_file("a", size, 3);
    memkit_mapping_t *m1 = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_eq(memkit_mapping_size(m1), size);
    cr_assert(holds(memkit_mapping_data(m1), 0, size, 3));
    assert_stats(cache, 0, 1, 0, 3 * page(), 1, 1);
    memkit_mapping_t *m2 = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_eq(m2, m1, "a hit is the very mapping");
    assert_stats(cache, 1, 1, 0, 3 * page(), 1, 1);
    memkit_mapping_release(m1);
    assert_stats(cache, 1, 1, 0, 3 * page(), 1, 1);
    memkit_mapping_release(m2);
    assert_stats(cache, 1, 1, 0, 3 * page(), 1, 0);
    memkit_mapping_t *m3 = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_eq(m3, m1, "an idle mapping is found again");
    assert_stats(cache, 2, 1, 0, 3 * page(), 1, 1);
    memkit_mapping_release(m3);
    memkit_map_cache_destroy(cache);
}

Test(map, mode_and_range_are_part_of_the_key)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("a", 10 * 1000, 1);
    memkit_mapping_t *r = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    memkit_mapping_t *w = memkit_map_file(cache, path, MEMKIT_MAP_WRITE);
    memkit_mapping_t *f1 = memkit_map_frames(cache, path, 1000, 2, 3, MEMKIT_MAP_READ);
    memkit_mapping_t *f2 = memkit_map_frames(cache, path, 1000, 2, 4, MEMKIT_MAP_READ);
    memkit_mapping_t *f3 = memkit_map_frames(cache, path, 1500, 2, 2, MEMKIT_MAP_READ);
    memkit_mapping_t *f1again = memkit_map_frames(cache, path, 500, 4, 6, MEMKIT_MAP_READ);
    cr_assert_neq(r, w);
    cr_assert_neq(f1, f2);
    cr_assert_neq(f1, f3);
    cr_assert_eq(f1again, f1, "the same bytes asked in other frame units are a hit");
    memkit_map_stats_t s = stats_of(cache);
    cr_assert_eq(s.misses, 5);
    cr_assert_eq(s.hits, 1);
    memkit_mapping_t *all[] = { r, w, f1, f2, f3, f1again };
    for (size_t i = 0; i < 6; i++)
        memkit_mapping_release(all[i]);
    memkit_map_cache_destroy(cache);
}

Test(map, frames_point_at_frame_first_in_a_page_aligned_map)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const size_t fs = 640 * 4 + 7;   /* 2567: frames start anywhere in a page */
    const char *path = make_file("video.raw", 40 * fs, 5);
    for (uint64_t first = 0; first < 38; first += 5) {
        memkit_mapping_t *m = memkit_map_frames(cache, path, fs, first, 3, MEMKIT_MAP_READ);
        cr_assert_not_null(m, "first %lu: %s", first, strerror(errno));
        cr_assert_eq(memkit_mapping_size(m), 3 * fs);
        const unsigned char *data = memkit_mapping_data(m);
        cr_assert_eq((uintptr_t)data % page(), first * fs % page(), "first %lu", first);
        cr_assert(holds(data, first * fs, 3 * fs, 5), "first %lu", first);
        memkit_mapping_release(m);
    }
    /* The last frames, ending exactly at the end of the file. */
    memkit_mapping_t *m = memkit_map_frames(cache, path, fs, 37, 3, MEMKIT_MAP_READ);
    cr_assert(holds(memkit_mapping_data(m), 37 * fs, 3 * fs, 5));
    memkit_mapping_release(m);
    memkit_map_cache_destroy(cache);
}

Test(map, a_grown_file_is_mapped_again_and_the_old_map_goes)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("a", page(), 1);
    memkit_mapping_release(memkit_map_file(cache, path, MEMKIT_MAP_READ));
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_eq(write(fd, "more", 4), 4);
    close(fd);
    memkit_mapping_t *m = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_eq(memkit_mapping_size(m), page() + 4);
    cr_assert_eq(memcmp((char *)memkit_mapping_data(m) + page(), "more", 4), 0);
    assert_stats(cache, 0, 2, 0, 2 * page(), 1, 1);
    memkit_mapping_release(m);
    memkit_map_cache_destroy(cache);
}

Test(map, the_index_grows_and_finds_everything)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("video.raw", 300 * 100, 2);
    for (uint64_t i = 0; i < 300; i++)
        memkit_mapping_release(memkit_map_frames(cache, path, 100, i, 1, MEMKIT_MAP_READ));
    for (uint64_t i = 0; i < 300; i++) {
        memkit_mapping_t *m = memkit_map_frames(cache, path, 100, i, 1, MEMKIT_MAP_READ);
        cr_assert(holds(memkit_mapping_data(m), i * 100, 100, 2));
        memkit_mapping_release(m);
    }
    memkit_map_stats_t s = stats_of(cache);
    cr_assert_eq(s.misses, 300);
    cr_assert_eq(s.hits, 300);
    cr_assert_eq(s.mappings, 300);
    memkit_map_cache_destroy(cache);
}

/* ---- eviction ---------------------------------------------------------------------------- */

static void map_release(memkit_map_cache_t *cache, const char *path)
{
    memkit_mapping_t *m = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_not_null(m, "%s: %s", path, strerror(errno));
    memkit_mapping_release(m);
}

Test(map, eviction_by_count_takes_the_least_recently_used)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 2);
    const char *a = make_file("a", 100, 1), *b = make_file("b", 100, 2), *c = make_file("c", 100, 3);
    const size_t p = page();
    map_release(cache, a);
    map_release(cache, b);
    assert_stats(cache, 0, 2, 0, 2 * p, 2, 0);
    map_release(cache, a);             /* a is now the more recent */
    assert_stats(cache, 1, 2, 0, 2 * p, 2, 0);
    map_release(cache, c);             /* evicts b */
    assert_stats(cache, 1, 3, 1, 2 * p, 2, 0);
    map_release(cache, a);             /* still there */
    assert_stats(cache, 2, 3, 1, 2 * p, 2, 0);
    map_release(cache, b);             /* gone: a miss, and c (least recent) goes */
    assert_stats(cache, 2, 4, 2, 2 * p, 2, 0);
    map_release(cache, a);
    assert_stats(cache, 3, 4, 2, 2 * p, 2, 0);
    memkit_map_cache_destroy(cache);
}

Test(map, eviction_by_bytes)
{
    const size_t p = page();
    memkit_map_cache_t *cache = memkit_map_cache_create(4 * p, 0);
    const char *big = make_file("big", 3 * p, 1);
    const char *small1 = make_file("s1", 10, 2), *small2 = make_file("s2", p, 3);
    map_release(cache, big);
    map_release(cache, small1);
    assert_stats(cache, 0, 2, 0, 4 * p, 2, 0);
    map_release(cache, small2);        /* 5 pages: big, the least recent, goes */
    assert_stats(cache, 0, 3, 1, 2 * p, 2, 0);
    map_release(cache, big);           /* 5 pages again: small1 goes, then 4 */
    assert_stats(cache, 0, 4, 2, 4 * p, 2, 0);
    map_release(cache, small2);
    assert_stats(cache, 1, 4, 2, 4 * p, 2, 0);
    memkit_map_cache_destroy(cache);
}

Test(map, mappings_in_use_are_never_evicted)
{
    const size_t p = page();
    memkit_map_cache_t *cache = memkit_map_cache_create(p, 1);
    const char *a = make_file("a", 2 * p, 1), *b = make_file("b", 2 * p, 2);
    memkit_mapping_t *ma = memkit_map_file(cache, a, MEMKIT_MAP_READ);
    memkit_mapping_t *mb = memkit_map_file(cache, b, MEMKIT_MAP_READ);
    assert_stats(cache, 0, 2, 0, 4 * p, 2, 2);   /* above both limits while held */
    cr_assert(holds(memkit_mapping_data(ma), 0, 2 * p, 1));
    cr_assert(holds(memkit_mapping_data(mb), 0, 2 * p, 2));
    memkit_mapping_release(ma);                  /* idle and over the limits: goes */
    assert_stats(cache, 0, 2, 1, 2 * p, 1, 1);
    cr_assert(holds(memkit_mapping_data(mb), 0, 2 * p, 2));
    memkit_mapping_release(mb);                  /* over the byte limit alone: goes too */
    assert_stats(cache, 0, 2, 2, 0, 0, 0);
    memkit_map_cache_destroy(cache);
}

/* ---- unmap, clear, destroy ---------------------------------------------------------------- */

Test(map, unmap_drops_every_mapping_of_a_path)
{
    const size_t p = page();
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *a = make_file("a", 4 * p, 1), *b = make_file("b", p, 2);
    map_release(cache, a);
    memkit_mapping_release(memkit_map_frames(cache, a, p, 1, 2, MEMKIT_MAP_READ));
    memkit_mapping_t *held = memkit_map_frames(cache, a, p, 3, 1, MEMKIT_MAP_READ);
    map_release(cache, b);
    assert_stats(cache, 0, 4, 0, 8 * p, 4, 1);
    cr_assert_eq(memkit_map_unmap(cache, a), 0);
    assert_stats(cache, 0, 4, 0, 2 * p, 2, 1);   /* the held one stays until released */
    cr_assert(holds(memkit_mapping_data(held), 3 * p, p, 1));
    memkit_mapping_t *again = memkit_map_frames(cache, a, p, 3, 1, MEMKIT_MAP_READ);
    cr_assert_neq(again, held, "an unmapped path is mapped afresh");
    assert_stats(cache, 0, 5, 0, 3 * p, 3, 2);
    memkit_mapping_release(held);
    assert_stats(cache, 0, 5, 0, 2 * p, 2, 1);
    memkit_mapping_release(again);
    errno = 0;
    cr_assert_eq(memkit_map_unmap(cache, path_of("never")), -1);
    cr_assert_eq(errno, ENOENT);
    errno = 0;
    cr_assert_eq(memkit_map_unmap(cache, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(memkit_map_unmap(cache, b), 0);
    cr_assert_eq(memkit_map_unmap(cache, a), 0);
    errno = 0;
    cr_assert_eq(memkit_map_unmap(cache, a), -1, "nothing of a is cached any more");
    cr_assert_eq(errno, ENOENT);
    assert_stats(cache, 0, 5, 0, 0, 0, 0);
    memkit_map_cache_destroy(cache);
}

Test(map, clear_drops_the_idle_and_keeps_the_held)
{
    const size_t p = page();
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *a = make_file("a", p, 1), *b = make_file("b", p, 2), *c = make_file("c", p, 3);
    map_release(cache, a);
    map_release(cache, b);
    memkit_mapping_t *held = memkit_map_file(cache, c, MEMKIT_MAP_READ);
    memkit_map_clear(cache);
    assert_stats(cache, 0, 3, 0, p, 1, 1);
    cr_assert(holds(memkit_mapping_data(held), 0, p, 3));
    memkit_mapping_t *again = memkit_map_file(cache, c, MEMKIT_MAP_READ);
    cr_assert_eq(again, held, "a held mapping stays cached");
    memkit_mapping_release(again);
    memkit_mapping_release(held);
    memkit_map_clear(cache);
    assert_stats(cache, 1, 3, 0, 0, 0, 0);
    memkit_map_cache_destroy(cache);
}

static long caches_listed(void)
{
    long n = mk_map_caches_list(NULL, 0);
    cr_assert_geq(n, 0);
    return n;
}

Test(map, held_mappings_outlive_their_cache)
{
    long before = caches_listed();
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *a = make_file("a", 5000, 1), *b = make_file("b", 5000, 2);
    memkit_mapping_t *ma = memkit_map_file(cache, a, MEMKIT_MAP_READ);
    map_release(cache, b);
    memkit_map_cache_destroy(cache);
    cr_assert_eq(caches_listed(), before + 1, "the cache lives on with its held mapping");
    struct mk_map_cache_info info[8];
    long n = mk_map_caches_list(info, 8);
    cr_assert(info[n - 1].destroyed && info[n - 1].stats_read);
    cr_assert_eq(info[n - 1].stats.mappings, 1, "the idle one went with destroy");
    cr_assert(holds(memkit_mapping_data(ma), 0, 5000, 1));
    memkit_mapping_release(ma);
    cr_assert_eq(caches_listed(), before, "the last release ends the cache");
}

/* ---- writing ----------------------------------------------------------------------------------- */

Test(map, a_write_mapping_and_sync_reach_the_file)
{
    const size_t p = page();
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("out.raw", 3 * p, 1);
    memkit_mapping_t *w = memkit_map_frames(cache, path, 1000, 5, 2, MEMKIT_MAP_WRITE);
    cr_assert_not_null(w);
    memcpy(memkit_mapping_data(w), "hello, file", 11);
    cr_assert_eq(memkit_mapping_sync(w, 1), 0);
    cr_assert_eq(memkit_mapping_sync(w, 0), 0);
    char back[11];
    int fd = open(path, O_RDONLY);
    cr_assert_eq(pread(fd, back, 11, 5000), 11);
    close(fd);
    cr_assert_eq(memcmp(back, "hello, file", 11), 0);
    memkit_mapping_release(w);

    memkit_mapping_t *r = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_eq(memcmp((char *)memkit_mapping_data(r) + 5000, "hello, file", 11), 0);
    errno = 0;
    cr_assert_eq(memkit_mapping_sync(r, 1), -1);
    cr_assert_eq(errno, EBADF);
    memkit_mapping_release(r);
    memkit_map_cache_destroy(cache);
}

Test(map, every_advice_is_taken_and_others_refused)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("a", 5 * page(), 4);
    memkit_mapping_t *m = memkit_map_frames(cache, path, 1000, 3, 10, MEMKIT_MAP_READ);
    memkit_advice_t all[] = { MEMKIT_ADVICE_NORMAL, MEMKIT_ADVICE_SEQUENTIAL, MEMKIT_ADVICE_RANDOM,
                              MEMKIT_ADVICE_WILLNEED, MEMKIT_ADVICE_DONTNEED };
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(memkit_mapping_advise(m, all[i]), 0, "advice %zu: %s", i, strerror(errno));
    cr_assert(holds(memkit_mapping_data(m), 3000, 10000, 4), "DONTNEED drops pages, not data");
    errno = 0;
    cr_assert_eq(memkit_mapping_advise(m, (memkit_advice_t)5), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_mapping_advise(m, (memkit_advice_t)-1), -1);
    cr_assert_eq(errno, EINVAL);
    memkit_mapping_release(m);
    memkit_map_cache_destroy(cache);
}

/* ---- a file that shrinks or is replaced ------------------------------------------------------------ */

Test(map, a_file_truncated_under_a_held_mapping_reads_zeros)
{
    const size_t p = page();
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("shrinks", 4 * p, 6);
    memkit_mapping_t *m = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    const unsigned char *data = memkit_mapping_data(m);
    cr_assert(holds(data, 0, 4 * p, 6));
    cr_assert_eq(truncate(path, p + 100), 0);

    cr_assert(holds(data, 0, p + 100, 6), "what is left of the file reads as before");
    for (size_t i = p + 100; i < 4 * p; i++)
        cr_assert_eq(data[i], 0, "byte %zu", i);
    memkit_map_stats_t s = stats_of(cache);
    cr_assert_eq(s.truncations, 2, "pages 2 and 3 replaced (page 1 is the file's last)");
    for (size_t i = 2 * p; i < 4 * p; i++)
        cr_assert_eq(data[i], 0, "the zeros stay");
    cr_assert_eq(stats_of(cache).truncations, 2);

    memkit_mapping_t *again = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_neq(again, m);
    cr_assert_eq(memkit_mapping_size(again), p + 100, "the next map sees the new size");
    cr_assert(holds(memkit_mapping_data(again), 0, p + 100, 6));
    assert_stats(cache, 0, 2, 0, 4 * p + 2 * p, 2, 2);
    memkit_mapping_release(m);                 /* stale: leaves at once */
    assert_stats(cache, 0, 2, 0, 2 * p, 1, 1);
    memkit_mapping_release(again);
    memkit_map_cache_destroy(cache);
}

Test(map, a_truncated_write_mapping_takes_writes_past_the_end)
{
    const size_t p = page();
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("shrinks", 3 * p, 6);
    memkit_mapping_t *m = memkit_map_file(cache, path, MEMKIT_MAP_WRITE);
    unsigned char *data = memkit_mapping_data(m);
    cr_assert_eq(truncate(path, p), 0);
    data[2 * p + 5] = 42;                      /* faults, gets zeros, then the write */
    cr_assert_eq(data[2 * p + 5], 42);
    cr_assert_eq(data[2 * p + 4], 0);
    cr_assert_eq(stats_of(cache).truncations, 1);
    struct stat st;
    stat(path, &st);
    cr_assert_eq(st.st_size, (off_t)p, "the file did not grow");
    memkit_mapping_release(m);
    memkit_map_cache_destroy(cache);
}

/* A stale mapping idle in the cache is never handed out again. */
Test(map, a_stale_idle_mapping_is_not_a_hit)
{
    const size_t p = page();
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("shrinks", 3 * p, 6);
    memkit_mapping_t *m = memkit_map_frames(cache, path, p, 0, 3, MEMKIT_MAP_READ);
    const unsigned char *data = memkit_mapping_data(m);
    cr_assert_eq(truncate(path, p), 0);
    cr_assert_eq(data[2 * p], 0);
    memkit_mapping_release(m);
    assert_stats(cache, 0, 1, 0, 0, 0, 0);
    /* Grown back to its size: same key, but the old map had zeros. */
    cr_assert_eq(truncate(path, 3 * p), 0);
    memkit_mapping_t *again = memkit_map_frames(cache, path, p, 0, 3, MEMKIT_MAP_READ);
    cr_assert(holds(memkit_mapping_data(again), 0, p, 6));
    assert_stats(cache, 0, 2, 0, 3 * p, 1, 1);
    memkit_mapping_release(again);
    memkit_map_cache_destroy(cache);
}

Test(map, a_replaced_file_is_mapped_anew_while_the_held_map_keeps_the_old)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    const char *path = make_file("a", 8000, 1);
    memkit_mapping_t *old = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    const char *fresh = make_file("a.new", 8000, 2);
    cr_assert_eq(rename(fresh, path), 0);
    memkit_mapping_t *now = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_neq(now, old);
    cr_assert(holds(memkit_mapping_data(now), 0, 8000, 2), "the new contents");
    cr_assert(holds(memkit_mapping_data(old), 0, 8000, 1), "the held map keeps the old");
    memkit_map_stats_t s = stats_of(cache);
    cr_assert_eq(s.misses, 2);
    cr_assert_eq(s.mappings, 2);
    memkit_mapping_release(old);
    s = stats_of(cache);
    cr_assert_eq(s.mappings, 1, "the outdated map went at its release");
    memkit_mapping_release(now);
    memkit_mapping_t *hit = memkit_map_file(cache, path, MEMKIT_MAP_READ);
    cr_assert_eq(hit, now);
    memkit_mapping_release(hit);
    /* Removed: the next map fails as open does; the idle map stays cached
     * (unmap or the limits take it). */
    cr_assert_eq(unlink(path), 0);
    errno = 0;
    cr_assert_null(memkit_map_file(cache, path, MEMKIT_MAP_READ));
    cr_assert_eq(errno, ENOENT);
    memkit_map_cache_destroy(cache);
}

/* ---- SIGBUS that is not memkit's ------------------------------------------------------------------- */

static _Atomic int own_handler_calls;
static void *own_handler_addr;
static int own_handler_code;

static void own_sigbus_handler(int sig, siginfo_t *si, void *context)
{
    (void)sig;
    (void)context;
    own_handler_calls++;
    own_handler_addr = si->si_addr;
    own_handler_code = si->si_code;
    if (si->si_code > 0) {
        uintptr_t at = (uintptr_t)si->si_addr & ~(uintptr_t)(page() - 1);
        mmap((void *)at, page(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    }
}

/* A map of the program's own, whose file then shrinks. */
static volatile unsigned char *plain_truncated_map(void)
{
    const char *path = make_file("plain", 3 * page(), 7);
    int fd = open(path, O_RDONLY);
    unsigned char *p = mmap(NULL, 3 * page(), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    cr_assert_neq(p, MAP_FAILED);
    cr_assert_eq(truncate(path, page()), 0);
    return p;
}

Test(map, a_sigbus_outside_memkit_reaches_the_programs_handler)
{
    struct sigaction sa = { .sa_sigaction = own_sigbus_handler, .sa_flags = SA_SIGINFO };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    volatile unsigned char *p = plain_truncated_map();
    cr_assert_eq(p[2 * page() + 1], 0);
    cr_assert_eq(own_handler_calls, 1);
    cr_assert_eq(own_handler_addr, (void *)(p + 2 * page() + 1));
    cr_assert_eq(own_handler_code, BUS_ADRERR);
    cr_assert_eq(stats_of(cache).truncations, 0, "not counted as memkit's");
    /* A SIGBUS sent, not raised by an access, goes there too. */
    raise(SIGBUS);
    cr_assert_eq(own_handler_calls, 2);
    cr_assert_leq(own_handler_code, 0);
    memkit_map_cache_destroy(cache);
}

Test(map, a_sigbus_outside_memkit_with_the_default_action_kills, .signal = SIGBUS)
{
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    volatile unsigned char *p = plain_truncated_map();
    (void)p[2 * page()];
    memkit_map_cache_destroy(cache);
}

Test(map, a_faulting_sigbus_kills_even_when_ignored, .signal = SIGBUS)
{
    signal(SIGBUS, SIG_IGN);
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    raise(SIGBUS);   /* sent, and ignored: survives */
    volatile unsigned char *p = plain_truncated_map();
    (void)p[2 * page()];
    memkit_map_cache_destroy(cache);
}

/* ---- the list for the report, and drain ---------------------------------------------------- */

Test(map, the_report_lists_caches_and_drain_unmaps_the_idle)
{
    const size_t p = page();
    long before = caches_listed();
    memkit_map_cache_t *one = memkit_map_cache_create(100 * p, 7);
    memkit_map_cache_t *two = memkit_map_cache_create(0, 0);
    const char *a = make_file("a", 2 * p, 1), *b = make_file("b", 3 * p, 2);
    map_release(one, a);
    memkit_mapping_t *held = memkit_map_file(one, b, MEMKIT_MAP_READ);
    map_release(two, b);
    map_release(two, b);
    struct mk_map_cache_info info[16];
    long n = mk_map_caches_list(info, 16);
    cr_assert_eq(n, before + 2);
    struct mk_map_cache_info *i1 = &info[n - 2], *i2 = &info[n - 1];
    cr_assert_eq(i1->max_bytes, 100 * p);
    cr_assert_eq(i1->max_mappings, 7);
    cr_assert(i1->stats_read && !i1->destroyed);
    cr_assert_eq(i1->stats.mapped_bytes, 5 * p);
    cr_assert_eq(i1->stats.in_use, 1);
    cr_assert_eq(i2->stats.hits, 1);
    cr_assert_eq(i2->stats.misses, 1);

    cr_assert_eq(mk_map_caches_drain(), 2 * p + 3 * p, "a from one and b from two");
    assert_stats(one, 0, 2, 0, 3 * p, 1, 1);
    assert_stats(two, 1, 1, 0, 0, 0, 0);
    cr_assert(holds(memkit_mapping_data(held), 0, 3 * p, 2));
    cr_assert_eq(mk_map_caches_drain(), 0);
    memkit_mapping_release(held);
    memkit_map_cache_destroy(one);
    memkit_map_cache_destroy(two);
    cr_assert_eq(caches_listed(), before);
}

/* ---- threads and fork ------------------------------------------------------------------------- */

#define FILES 8
#define THREADS 4

struct churn {
    memkit_map_cache_t *cache;
    const char         *paths[FILES];
    int                 rounds;
    _Atomic int         wrong, failed;
    _Atomic int         stop;
    unsigned            seed;
};

static void *churn(void *arg)
{
    struct churn *c = arg;
    unsigned seed = __atomic_add_fetch(&c->seed, 7919, __ATOMIC_RELAXED);
    for (int i = 0; (c->rounds == 0 ? !atomic_load(&c->stop) : i < c->rounds); i++) {
        unsigned f = (unsigned)rand_r(&seed) % FILES;
        memkit_mapping_t *m = (i & 1)
            ? memkit_map_file(c->cache, c->paths[f], MEMKIT_MAP_READ)
            : memkit_map_frames(c->cache, c->paths[f], 512, f, 4, MEMKIT_MAP_READ);
        if (!m) {
            atomic_fetch_add(&c->failed, 1);
            continue;
        }
        uint64_t from = (i & 1) ? 0 : f * 512;
        if (!holds(memkit_mapping_data(m), from, memkit_mapping_size(m), f))
            atomic_fetch_add(&c->wrong, 1);
        if (i % 97 == 0)
            memkit_map_clear(c->cache);
        memkit_mapping_release(m);
    }
    return NULL;
}

static void make_churn_files(struct churn *c)
{
    static const char *names[FILES] = { "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7" };
    static char kept[FILES][128];
    for (unsigned f = 0; f < FILES; f++) {
        strcpy(kept[f], make_file(names[f], 16 * 512 + f * 100, f));
        c->paths[f] = kept[f];
    }
}

Test(map, threads_share_a_cache)
{
    struct churn c = { .rounds = 3000 };
    c.cache = memkit_map_cache_create(0, 3);
    make_churn_files(&c);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, churn, &c);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(atomic_load(&c.failed), 0);
    cr_assert_eq(atomic_load(&c.wrong), 0);
    memkit_map_stats_t s = stats_of(c.cache);
    cr_assert_eq(s.hits + s.misses, (uint64_t)THREADS * c.rounds);
    cr_assert_eq(s.in_use, 0);
    cr_assert_leq(s.mappings, 3);
    memkit_map_cache_destroy(c.cache);
}

/* Forks while other threads hold the cache's lock now and then: every
 * child maps and releases (it would hang on a lock inherited locked). */
Test(map, a_fork_child_never_inherits_a_held_lock)
{
    struct churn c = { .rounds = 0 };
    c.cache = memkit_map_cache_create(0, 3);
    make_churn_files(&c);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, churn, &c);
    for (int k = 0; k < 30; k++) {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            alarm(10);
            memkit_mapping_t *m = memkit_map_file(c.cache, c.paths[k % FILES], MEMKIT_MAP_READ);
            int ok = m && holds(memkit_mapping_data(m), 0, memkit_mapping_size(m), k % FILES);
            memkit_mapping_release(m);
            memkit_map_clear(c.cache);
            _exit(ok ? 0 : 1);
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child %d: status %#x", k, status);
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(atomic_load(&c.wrong), 0);
    memkit_map_cache_destroy(c.cache);
}
