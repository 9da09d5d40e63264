/* test_sample.c — the sampler's draw and weight: the countdowns have the
 * mean asked for and the spread of an exponential, and weighted samples
 * estimate calls and bytes without bias; a site's live-at-peak figure; a
 * fork from a thread that holds the sites lock while another samples. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counters.h"
#include "options.h"
#include "sample.h"
#include "sites.h"
#include "tls.h"

Test(sample, countdowns_are_exponential_with_the_mean_asked_for)
{
    struct mk_thread t = { 0 };
    const uint64_t rate = 512 * 1024;
    const int n = 200000;
    double sum = 0, sumsq = 0;
    int below_mean = 0;
    for (int i = 0; i < n; i++) {
        int64_t d = mk_sample_draw(&t, rate);
        cr_assert(gt(i64, d, 0));
        sum += (double)d;
        sumsq += (double)d * (double)d;
        below_mean += (uint64_t)d < rate;
    }
    double mean = sum / n, sd = sqrt(sumsq / n - mean * mean);
    cr_expect(lt(dbl, fabs(mean / rate - 1), 0.01), "mean %.0f for %llu", mean,
              (unsigned long long)rate);
    cr_expect(lt(dbl, fabs(sd / rate - 1), 0.02), "an exponential's sd is its mean: %.0f", sd);
    /* P(X < mean) = 1 - 1/e = 0.632 */
    cr_expect(lt(dbl, fabs((double)below_mean / n - 0.632), 0.01), "%d below the mean", below_mean);
}

Test(sample, weights_make_unbiased_estimates)
{
    const uint64_t rate = 512 * 1024;
    /* A block much larger than the rate is always sampled: weight 1. */
    cr_expect(lt(dbl, fabs(mk_sample_weight(64u << 20, rate) - 1.0), 1e-9));
    /* A small block is sampled with probability ~ size / rate. */
    cr_expect(lt(dbl, fabs(mk_sample_weight(100, rate) / (rate / 100.0) - 1), 0.001));
    /* Off: every call is its own. */
    cr_expect(eq(dbl, mk_sample_weight(100, 0), 1.0));

    /* Simulate: n allocations of s bytes, each sampled with probability
     * 1 - exp(-s/R); the weighted sum of samples estimates n. */
    struct mk_thread t = { 0 };
    const uint64_t s = 4096;
    const int n = 2000000;
    double p = -expm1(-(double)s / rate), estimate = 0;
    for (int i = 0; i < n; i++) {
        /* uniform from the sampler's own draws: exp(-d/R) is uniform in (0,1] */
        double u = exp(-(double)mk_sample_draw(&t, rate) / rate);
        if (u < p)
            estimate += mk_sample_weight(s, rate);
    }
    cr_expect(lt(dbl, fabs(estimate / n - 1), 0.03), "estimated %.0f calls of %d", estimate, n);
}

Test(sample, a_single_large_sample_is_its_sites_peak)
{
    /* One 64 MiB block, sampled (weight 1), then freed: the sampled heap
     * peaked at 64 MiB, all of it this site's. */
    const uintptr_t stack[] = { 0x1000, 0x2000 };
    mk_sites_lock();
    struct mk_site *s = mk_sites_get(stack, 2);
    cr_assert_not_null(s);
    int64_t before = mk_sites_peak_total();
    mk_sites_live_change(s, (int64_t)64 << 20);
    mk_sites_live_change(s, -((int64_t)64 << 20));
    mk_sites_settle_peak();
    mk_sites_unlock();
    cr_expect(eq(i64, s->live_bytes, 0));
    cr_expect(eq(i64, s->peak_live_bytes, (int64_t)64 << 20));
    cr_expect(eq(i64, mk_sites_peak_total(), before + ((int64_t)64 << 20)));
}

/* A thread that takes a sample: its first allocation is far past any
 * sample point, so it records its stack and then waits for the sites
 * lock, which the main thread holds. */
static void *sampling_thread(void *arg)
{
    static char block[64];
    (void)arg;
    mk_sample_alloc(&mk_self, block, (size_t)1 << 40);
    return NULL;
}

/* The main thread holds the sites lock (as a free of a sampled block does)
 * and forks, as a signal handler that interrupted it there would: fork's
 * prepare handler waits for threads inside a sample, and the one waiting
 * for that lock must give its sample up, or neither goes on. */
Test(sample, fork_from_the_lock_holder_while_another_thread_samples, .timeout = 20)
{
    mk_options_load_env();   /* MEMKIT_SAMPLE: its default, 512K */
    mk_sites_lock();
    pthread_t t;
    cr_assert(pthread_create(&t, NULL, sampling_thread, NULL) == 0);
    usleep(200 * 1000);   /* it unwinds, registers the fork handlers, waits for the lock */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    cr_assert(pid > 0);
    int status;
    cr_assert(waitpid(pid, &status, 0) == pid);
    int exited_0 = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_assert(exited_0);
    mk_sites_unlock();
    cr_assert(pthread_join(t, NULL) == 0);
}
