/* poolload.c — frame pools, a frame ring and a mapping cache in use, for
 * the report's pools sections and aggressive compaction (test_pools.sh).
 * Linked with -lmemkit. Prints what it did, one line each; exit status 0
 * when every call behaved. */
#define _GNU_SOURCE
#include <memkit.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "poolload: %s (errno %d)\n", what, errno);
        failures++;
    }
}

int main(void)
{
    /* A named pool in steady use: 1000 cycles of 4 frames out at a time. */
    memkit_pool_t *camera = memkit_pool_create(640, 480, MEMKIT_FMT_RGB888, 4);
    check(camera && memkit_pool_set_name(camera, "camera0") == 0, "camera pool");
    memkit_frame_t *out[4];
    for (int round = 0; round < 1000; round++) {
        for (int i = 0; i < 4; i++) {
            out[i] = memkit_frame_acquire(camera);
            check(out[i] != NULL, "acquire");
            if (out[i])
                ((char *)memkit_frame_data(out[i]))[0] = (char)round;
        }
        for (int i = 0; i < 4; i++)
            memkit_frame_release(out[i]);
    }
    /* An unnamed pool destroyed with a frame still out. */
    memkit_pool_t *scratch = memkit_pool_create_size(1000, 2);
    memkit_frame_t *kept = scratch ? memkit_frame_acquire(scratch) : NULL;
    check(kept != NULL, "scratch frame");
    memkit_pool_destroy(scratch);

    memkit_ring_t *ring = memkit_ring_create(8, 1000);
    char frame[1000];
    for (int i = 0; i < 20 && ring; i++) {
        memset(frame, i, sizeof frame);
        check(memkit_ring_write(ring, frame, sizeof frame) == i, "ring write");
    }
    check(ring && memkit_ring_available(ring) == 8, "ring holds 8");

    char path[] = "poolload-file.XXXXXX";
    int fd = mkstemp(path);
    check(fd >= 0 && ftruncate(fd, 1 << 20) == 0, "a 1 MiB file");
    close(fd);
    memkit_map_cache_t *cache = memkit_map_cache_create(0, 0);
    for (int i = 0; i < 3 && cache; i++) {
        memkit_mapping_t *m = memkit_map_file(cache, path, MEMKIT_MAP_READ);
        check(m && memkit_mapping_size(m) == 1 << 20, "map the file");
        if (m)
            memkit_mapping_release(m);
    }
    unlink(path);

    /* MEMKIT_AGGRESSIVE=1 (the test sets it): the idle buffers and the
     * idle mapping go with this compaction. */
    memkit_compact_result_t r = { .size = sizeof r };
    check(memkit_compact(&r) == 0, "memkit_compact");
    memkit_pool_stats_t st = { .size = sizeof st };
    check(memkit_pool_stats(camera, &st) == 0, "stats");
    printf("camera pooled_after_compact=%llu in_use=%llu hits=%llu misses=%llu\n",
           (unsigned long long)st.pooled, (unsigned long long)st.in_use,
           (unsigned long long)st.hits, (unsigned long long)st.misses);
    memkit_frame_release(kept);
    memkit_ring_destroy(ring);
    memkit_map_cache_destroy(cache);
    /* camera stays alive to the end: the report lists it. */
    printf("poolload failures=%d\n", failures);
    return failures ? 1 : 0;
}
