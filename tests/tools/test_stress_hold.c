/* test_stress_hold.c — memkit-stress's hold: chunks mapped and resident,
 * shrunk from the newest (whole chunks, then a tail), a stop mid-chunk,
 * the refusals. RSS is read from /proc/self/statm. */
#include "stress_hold.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>

#define MiB (1024ull * 1024)

/* This process's resident anonymous bytes: statm resident - shared. */
static uint64_t anon_resident(void)
{
    unsigned long long size, resident, shared;
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert(f, "open /proc/self/statm");
    cr_assert_eq(fscanf(f, "%llu %llu %llu", &size, &resident, &shared), 3);
    fclose(f);
    return (resident - shared) * mkt_page_size();
}

Test(hold, chunks_are_resident_and_shrink_from_the_newest)
{
    struct mkt_hold h = MKT_HOLD_INIT;
    uint64_t before = anon_resident();
    cr_assert_eq(mkt_hold_add(&h, 40 * MiB, NULL), 0);
    cr_assert_eq(mkt_hold_add(&h, 24 * MiB + 1, NULL), 0);   /* rounds up a page */
    cr_expect_eq(h.n, 2);
    cr_expect_eq(h.bytes, 64 * MiB + mkt_page_size(), "held %llu", (unsigned long long)h.bytes);
    uint64_t grew = anon_resident() - before;
    cr_expect_geq(grew, 64 * MiB, "resident grew by %llu MiB, expected 64",
                  (unsigned long long)(grew / MiB));

    mkt_hold_shrink_to(&h, 50 * MiB);       /* a tail off the newest chunk */
    cr_expect_eq(h.n, 2, "chunks left: %zu", h.n);
    cr_expect_eq(h.bytes, 50 * MiB, "held %llu", (unsigned long long)h.bytes);
    cr_expect_eq(h.chunk[1].len, 10 * MiB, "newest chunk %zu", h.chunk[1].len);
    mkt_hold_shrink_to(&h, 30 * MiB + 100);  /* the newest whole, then a tail to a page */
    cr_expect_eq(h.n, 1, "chunks left: %zu", h.n);
    cr_expect_eq(h.bytes, 30 * MiB, "held %llu", (unsigned long long)h.bytes);
    cr_expect_eq(h.chunk[0].len, 30 * MiB);
    mkt_hold_shrink_to(&h, 100);             /* less than a page: nothing kept */
    cr_expect_eq(h.n, 0);
    cr_expect_eq(h.bytes, 0);
    uint64_t left = anon_resident() - before;
    cr_expect_lt(left, 8 * MiB, "still resident after shrinking to 0: %llu MiB",
                 (unsigned long long)(left / MiB));
    mkt_hold_release(&h);
}

static int calls;
static int stop_on_second_call(void)
{
    return ++calls >= 2;
}

Test(hold, a_stop_keeps_what_was_written)
{
    struct mkt_hold h = MKT_HOLD_INIT;
    calls = 0;
    int rc = mkt_hold_add(&h, 256 * MiB, stop_on_second_call);
    cr_expect_eq(rc, 1, "rc %d, expected 1 (stopped)", rc);
    cr_expect_eq(h.bytes, 128 * MiB, "kept %llu MiB, expected the 128 written before the 2nd ask",
                 (unsigned long long)(h.bytes / MiB));
    mkt_hold_release(&h);
    cr_expect_eq(h.bytes, 0);
}

Test(hold, refuses_nothing_and_more_than_a_chunk)
{
    struct mkt_hold h = MKT_HOLD_INIT;
    errno = 0;
    cr_expect_eq(mkt_hold_add(&h, 0, NULL), -1);
    cr_expect_eq(errno, EINVAL);
    errno = 0;
    cr_expect_eq(mkt_hold_add(&h, MKT_CHUNK_MAX + 1, NULL), -1);
    cr_expect_eq(errno, EINVAL);
    cr_expect_eq(h.n, 0);
    mkt_hold_release(&h);
}
