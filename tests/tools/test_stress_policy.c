/* test_stress_policy.c — memkit-stress's target mode decisions, for
 * machines of every size: the default target, the reserve, the band, and
 * each step (grow, capped; shrink; keep; give the reserve back). */
#include "stress_hold.h"
#include "stress_policy.h"

#include <criterion/criterion.h>

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

Test(default_target, follows_the_seeds_classes_and_a_line_between)
{
    struct { uint64_t limit; unsigned want; } cases[] = {
        { 512 * MiB, 2500 },             /* a small cgroup */
        { 7700 * MiB, 2500 },            /* an 8 GiB machine's MemTotal */
        { 8 * GiB, 2500 },
        { 8 * GiB + 1, 2687 },           /* rounds up to 9 GiB */
        { 12 * GiB, 3250 },
        { 15 * GiB, 3812 },
        { 15 * GiB + 600 * MiB, 4000 },  /* a 16 GiB machine's MemTotal */
        { 16 * GiB, 4000 },
        { 24 * GiB, 4000 },
        { 1024 * GiB, 4000 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned got = mkt_target_default(cases[i].limit);
        cr_expect_eq(got, cases[i].want, "limit %llu MiB: default %u, expected %u",
                     (unsigned long long)(cases[i].limit / MiB), got, cases[i].want);
    }
}

Test(reserve_and_band, are_shares_of_memory_with_floors)
{
    cr_expect_eq(mkt_reserve(20 * GiB), GiB, "5%% of 20 GiB: %llu",
                 (unsigned long long)mkt_reserve(20 * GiB));
    cr_expect_eq(mkt_reserve(256 * MiB), 32 * MiB, "floor: %llu",
                 (unsigned long long)mkt_reserve(256 * MiB));
    cr_expect_eq(mkt_band(20 * GiB), 20 * GiB / 200, "0.5%% of 20 GiB: %llu",
                 (unsigned long long)mkt_band(20 * GiB));
    cr_expect_eq(mkt_band(256 * MiB), 4 * MiB, "floor: %llu",
                 (unsigned long long)mkt_band(256 * MiB));
}

/* A 16 GiB machine with `used` in use, `own` of it the hold. */
static struct mkt_memuse machine(uint64_t used, uint64_t own)
{
    struct mkt_memuse u = { MKT_BASIS_SYSTEM, 16 * GiB, used, 16 * GiB - used, own, 0, 0 };
    return u;
}

Test(target_hold, is_the_target_less_what_the_others_use)
{
    struct mkt_memuse u = machine(6 * GiB, 2 * GiB);   /* others: 4 GiB */
    uint64_t h = mkt_target_hold(&u, 5000);            /* 8 GiB wanted */
    cr_expect_eq(h, 4 * GiB, "hold %llu MiB, expected 4096", (unsigned long long)(h / MiB));
    u = machine(10 * GiB, 0);
    h = mkt_target_hold(&u, 5000);
    cr_expect_eq(h, 0, "others above the target: hold %llu, expected 0", (unsigned long long)h);
}

Test(target_hold, leaves_out_what_will_pass)
{
    /* 512 MiB of freed pages on per-CPU lists beyond the usual level count
     * as used for now; they are not the others' use. */
    struct mkt_memuse u = machine(6 * GiB, 2 * GiB);
    u.transient = 512 * MiB;
    uint64_t h = mkt_target_hold(&u, 5000);
    cr_expect_eq(h, 4 * GiB + 512 * MiB, "hold %llu MiB, expected 4608",
                 (unsigned long long)(h / MiB));
    u.transient = -512 * (int64_t)MiB;   /* taken off the lists by a growth */
    h = mkt_target_hold(&u, 5000);
    cr_expect_eq(h, 4 * GiB - 512 * MiB, "hold %llu MiB, expected 3584",
                 (unsigned long long)(h / MiB));
}

Test(step, grows_at_most_a_chunk_at_a_time)
{
    struct mkt_memuse u = machine(2 * GiB, 0);
    struct mkt_step s = mkt_target_step(&u, 0, 4000);  /* 6.4 GiB wanted */
    cr_expect_eq(s.kind, MKT_GROW, "kind %d", s.kind);
    cr_expect_eq(s.bytes, MKT_CHUNK_MAX, "grow %llu MiB, expected one chunk",
                 (unsigned long long)(s.bytes / MiB));
    u = machine(6 * GiB, 0);                            /* 400 MiB short of 40% (6.4 GiB) */
    s = mkt_target_step(&u, 0, 4000);
    cr_expect_eq(s.kind, MKT_GROW, "kind %d", s.kind);
    cr_expect_eq(s.bytes, 16 * GiB * 4000 / 10000 - 6 * GiB, "grow %llu", (unsigned long long)s.bytes);
}

Test(step, keeps_still_within_the_band)
{
    uint64_t band = mkt_band(16 * GiB);
    struct mkt_memuse u = machine(16 * GiB * 4000 / 10000 - band / 2, GiB);
    struct mkt_step s = mkt_target_step(&u, GiB, 4000);
    cr_expect_eq(s.kind, MKT_KEEP, "half a band under: kind %d", s.kind);
    u = machine(16 * GiB * 4000 / 10000 + band / 2, GiB);
    s = mkt_target_step(&u, GiB, 4000);
    cr_expect_eq(s.kind, MKT_KEEP, "half a band over: kind %d", s.kind);
}

Test(step, shrinks_to_the_target_when_others_grow)
{
    /* 40% of 16 GiB is 6.4 GiB; the others grew to 6 GiB: hold 400 MiB. */
    struct mkt_memuse u = machine(6 * GiB + 2 * GiB, 2 * GiB);
    struct mkt_step s = mkt_target_step(&u, 2 * GiB, 4000);
    cr_expect_eq(s.kind, MKT_SHRINK, "kind %d", s.kind);
    cr_expect_eq(s.bytes, 16 * GiB * 4000 / 10000 - 6 * GiB, "shrink to %llu",
                 (unsigned long long)s.bytes);
}

Test(step, never_grows_into_the_reserve)
{
    /* A cgroup of 1 GiB, 900 MiB of it in use by others, target 90%:
     * nothing may be added (the reserve is 51 MiB; 124 MiB available). */
    struct mkt_memuse u = { MKT_BASIS_CGROUP, GiB, 900 * MiB, 80 * MiB, 0, 0, 0 };
    struct mkt_step s = mkt_target_step(&u, 0, 9000);
    cr_expect_eq(s.kind, MKT_GROW, "kind %d", s.kind);
    cr_expect_leq(s.bytes, 80 * MiB - mkt_reserve(GiB), "grew %llu into the reserve",
                  (unsigned long long)s.bytes);
    u.available = mkt_reserve(GiB);
    s = mkt_target_step(&u, 0, 9000);
    cr_expect_eq(s.kind, MKT_KEEP, "at the reserve: kind %d", s.kind);
}

Test(step, gives_the_reserve_back_at_once)
{
    /* Others took memory: 100 MiB short of the reserve on 16 GiB. */
    uint64_t reserve = mkt_reserve(16 * GiB);
    struct mkt_memuse u = machine(16 * GiB - reserve + 100 * MiB, 3 * GiB);
    struct mkt_step s = mkt_target_step(&u, 3 * GiB, 9000);
    cr_expect_eq(s.kind, MKT_SHRINK, "kind %d", s.kind);
    cr_expect_leq(s.bytes, 3 * GiB - 100 * MiB, "shrink to %llu MiB, expected at most 2972",
                  (unsigned long long)(s.bytes / MiB));
}
