/* stress_stop.c — see stress_stop.h. */
#include "stress_stop.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

static sigset_t stop_set;
static int stop_signal;

/* A stop signal the parent set to be ignored (nohup's SIGHUP, SIGINT in a
 * shell's background job) stays ignored, and so never arrives: it was
 * meant not to stop the program. */
void mkt_stop_init(void)
{
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop_set, NULL);
}

uint64_t mkt_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Takes a pending stop signal, waiting at most *timeout (NULL: forever). */
static int take(const struct timespec *timeout)
{
    if (stop_signal)
        return stop_signal;
    int sig;
    do
        sig = timeout ? sigtimedwait(&stop_set, NULL, timeout) : sigwaitinfo(&stop_set, NULL);
    while (sig < 0 && errno == EINTR);
    if (sig > 0)
        stop_signal = sig;
    return stop_signal;
}

int mkt_stop_requested(void)
{
    static const struct timespec now = { 0, 0 };
    return take(&now);
}

int mkt_stop_wait(uint64_t until)
{
    if (!until)
        return take(NULL);
    for (;;) {
        uint64_t t = mkt_now_ns();
        if (t >= until)
            return mkt_stop_requested();
        uint64_t left = until - t;
        struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
        /* EAGAIN: the time ran out; look at the clock again, as the wait
         * may end a little early. */
        if (take(&ts))
            return stop_signal;
    }
}
