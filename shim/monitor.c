/* monitor.c — the monitor thread, and the release check on the free path.
 * What it is for and when it starts: monitor.h. */
#include "monitor.h"
#include "compact.h"
#include "counters.h"
#include "loader_text.h"
#include "log.h"
#include "options.h"
#include "own_fd.h"
#include "policy.h"
#include "pressure.h"
#include "process.h"
#include "release.h"
#include "timeline.h"
#include "wakeup.h"
#include "warn.h"
#include "proc_self.h"
#include "prom.h"
#include "report.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

/* ---- shared state -------------------------------------------------------------
 * Plain atomics: the free path, memkit_notify_released and the monitor
 * meet here, and a fork child (possibly forked from a signal handler)
 * resets it all without taking anything. */
enum { IDLE, STARTING, RUNNING };
/* A start that failed (no descriptor or thread to be had) is tried again
 * after this long, not at once on every check. */
#define MK_START_RETRY_NS 1000000000ull
static uint64_t start_retry_at;
#define TIDY_FIRST_NS 1000000000ull    /* 1 s */
#define TIDY_MAX_NS   60000000000ull   /* 1 min */
/* glibc ends a process when its last thread ends, counting this one: when
 * the program's threads have all ended (the main one by pthread_exit, or
 * a fork child's only thread by returning), the monitor does what the
 * last of them would have done, exit(0). Looked at once a second (one
 * read of /proc/self/stat). */
#define MK_ORPHAN_CHECK_NS 1000000000ull
static int state = IDLE;
static int stopping;             /* exit has begun */
/* The wake-up pipe the monitor polls (wakeup.h), and its PSI trigger:
 * memkit's own descriptors, checked before each use (own_fd.h). */
static struct mk_wakeup wakeup = MK_WAKEUP_NONE;
static uint64_t told;            /* released bytes the checks have added up (approximate) */
static uint64_t told_at_last;    /* `told` when the last compaction began */
static uint64_t wake_after = 1;  /* released since the last compaction that wakes the monitor */
/* ... or this much, once the heap has halved (the back-off is then
 * waived: policy.h). */
static uint64_t wake_after_halved = UINT64_MAX;
static uint64_t notified;        /* memkit_notify_released, exact */
static uint64_t last_pressure_look_ns;
static struct mk_own_fd psi = MK_OWN_FD_NONE;

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

uint64_t mk_notified_total(void)
{
    return load(&notified);
}

uint64_t mk_released_total(void)
{
    struct mk_totals t;
    mk_counters_snapshot(&t);
    return t.free_bytes + load(&notified);
}

static void start(void);

/* The shortest interval of the periodic outputs asked for
 * (MEMKIT_REPORT_INTERVAL; MEMKIT_PROM every MEMKIT_MONITOR_INTERVAL), 0
 * when none is. */
static uint64_t first_output_ns(void)
{
    uint64_t snap = mk_opt_num(MK_OPT_REPORT_INTERVAL);
    uint64_t prom = mk_opt_num(MK_OPT_PROM) ? mk_opt_num(MK_OPT_MONITOR_INTERVAL) : 0;
    if (!snap || (prom && prom < snap))
        snap = prom;
    return snap;
}

/* Periodic outputs need the monitor, and a process killed at any time
 * must leave its state: with one asked for, the thread starts at the
 * program's first timeline point (its heap has moved by 256 KiB, or it
 * freed a MiB) rather than when the first output is due — a process that
 * then sits idle or hangs is exactly the one whose snapshot matters.
 * Small commands that never move their heap that far get no thread. */
static void start_for_outputs(void)
{
    if (__atomic_load_n(&state, __ATOMIC_RELAXED) != IDLE ||
        __atomic_load_n(&stopping, __ATOMIC_RELAXED) || !first_output_ns())
        return;
    struct mk_thread *t = &mk_self;
    int saved = errno;
    uint8_t busy = t->busy;
    t->busy = 1;
    start();
    t->busy = busy;
    errno = saved;
}

void mk_timeline_point_now(int event, int read_rss)
{
    /* Before the constructor has taken the start time (a library's
     * constructor that frees first), a point would carry the machine's
     * uptime and hold every later one back. */
    if (!mk_process()->start_mono_ns)
        return;
    struct mk_timeline_point p = {
        .t_ns = mk_now_ns() - mk_process()->start_mono_ns,
        .heap = mk_heap_in_use_folded(),
        .maps = mk_maps_in_use(MK_MAP_PROGRAM),
        .event = (uint32_t)event,
    };
    if (event == MK_TL_SAMPLE && !read_rss)
        start_for_outputs();
    if (event == MK_TL_SAMPLE && !mk_timeline_due(p.t_ns))
        return;
    if (read_rss) {
        p.rss = mk_proc_rss();
        mk_warn_check_rss(p.rss);   /* MEMKIT_WARN, as often as the timeline reads RSS */
    }
    mk_timeline_add(&p);
}

int mk_monitor_started(void)
{
    int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    return s == STARTING || s == RUNNING;
}

void mk_monitor_poke(void)
{
    if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) == RUNNING)
        mk_wakeup_post(&wakeup);
}

void mk_monitor_stop(void)
{
    __atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
}

/* ---- the thread ------------------------------------------------------------- */

static void read_options(struct mk_defrag_options *o)
{
    o->threshold = mk_opt_num(MK_OPT_COMPACT_THRESHOLD);
    o->min_gap_ns = mk_opt_num(MK_OPT_COMPACT_MIN_GAP);
    o->interval_ns = mk_opt_num(MK_OPT_COMPACT_INTERVAL);
    o->post_delay_ns = mk_opt_num(MK_OPT_POST_COMPACT_DELAY);
    o->pressure = mk_opt_num(MK_OPT_PRESSURE) != 0;
}

int mk_monitor_compact(int reason, struct mk_compaction *out)
{
    uint64_t told_now = load(&told);
    struct mk_compact_input in = {
        .reason = reason,
        .aggressive = mk_opt_num(MK_OPT_AGGRESSIVE) != 0,
        .released_total = mk_released_total(),
        .start_ns = mk_process()->start_mono_ns,
    };
    uint64_t heap_before = mk_heap_in_use_folded();
    if (mk_compact_run(&in, out) < 0)
        return -1;
    /* The compaction on the timeline: its start and its end. */
    struct mk_timeline_point p = {
        .t_ns = out->t_ns, .heap = heap_before, .maps = mk_maps_in_use(MK_MAP_PROGRAM),
        .rss = out->rss_before, .event = MK_TL_COMPACT_BEGIN,
    };
    mk_timeline_add(&p);
    p.t_ns += out->seconds_ns;
    p.heap = mk_heap_in_use_folded();
    p.rss = out->rss_after;
    p.event = MK_TL_COMPACT_END;
    mk_timeline_add(&p);
    __atomic_store_n(&told_at_last, told_now, __ATOMIC_RELAXED);
    mk_heap_recent_peak_reset();
    if (mk_release_kind() == MK_RELEASE_MIMALLOC_COLLECT)
        mk_counters_request_checks();   /* each thread collects on its next free */
    return 0;
}

static void compact_now(enum mk_compact_reason reason)
{
    struct mk_compaction c;
    if (mk_monitor_compact(reason, &c) < 0)
        return;
    mk_log(MK_LOG_INFO, "compaction (%s): RSS %llu -> %llu KiB in %llu ms",
           mk_reason_name(reason), (unsigned long long)(c.rss_before >> 10),
           (unsigned long long)(c.rss_after >> 10),
           (unsigned long long)(c.seconds_ns / 1000000));
}

/* Sleeps until the deadline (0: none), a wake-up, or the PSI trigger.
 * Returns 1 when the trigger fired. */
static int sleep_until(uint64_t deadline_ns)
{
    uint64_t now = mk_now_ns();
    int timeout = -1;
    if (deadline_ns) {
        uint64_t ms = deadline_ns > now ? (deadline_ns - now + 999999) / 1000000 : 0;
        timeout = ms > INT32_MAX ? INT32_MAX : (int)ms;
    }
    /* A descriptor the program closed (and may have reused) is left to
     * it: the pipe is made anew, the trigger opened again next round. */
    int wake_fd = mk_wakeup_wait_fd(&wakeup);
    if (psi.fd >= 0 && !mk_own_fd_valid(&psi))
        psi.fd = -1;
    struct pollfd fds[2] = {
        { .fd = wake_fd, .events = POLLIN },
        { .fd = psi.fd, .events = POLLPRI },
    };
    int n = poll(fds, 2, timeout);   /* a negative fd is skipped */
    if (n <= 0)
        return 0;
    if (fds[0].revents & POLLIN)
        mk_wakeup_take(&wakeup);
    if (psi.fd >= 0 && (fds[1].revents & (POLLERR | POLLNVAL))) {
        mk_own_fd_close(&psi);   /* the file went away (its cgroup was removed) */
        return 0;
    }
    return psi.fd >= 0 && (fds[1].revents & POLLPRI);
}

/* Released bytes (since the last compaction) at which the free path must
 * wake the monitor: the next of the threshold (times the back-off) and,
 * after a threshold compaction, a quarter of it (settling) that is not
 * reached yet. Past both, only time can change the answer (the gap, the
 * quiet), and waking the monitor on every check would cost the program an
 * pipe write per MiB it frees. */
static uint64_t release_wake(const struct mk_defrag_options *o,
                             const struct mk_compact_totals *ct, unsigned factor,
                             uint64_t released_since)
{
    if (!o->threshold)
        return UINT64_MAX;
    uint64_t full = o->threshold * factor;
    uint64_t settle = ct->have_last && ct->last_reason == MK_REASON_THRESHOLD ? full / 4 : full;
    if (released_since < settle)
        return settle;
    if (released_since < full)
        return full;
    return UINT64_MAX;
}

/* The periodic outputs: when each was last written. */
struct outputs {
    uint64_t snapshot_ns, prom_ns;
};

/* Writes the outputs that are due; returns when the next one is (0: none
 * asked for). */
static uint64_t write_outputs(struct outputs *o, uint64_t now)
{
    uint64_t next = 0;
    uint64_t every = mk_opt_num(MK_OPT_REPORT_INTERVAL);
    if (every) {
        if (now >= o->snapshot_ns + every) {
            mk_report_snapshot();
            o->snapshot_ns = now = mk_now_ns();
        }
        next = o->snapshot_ns + every;
    }
    every = mk_opt_num(MK_OPT_PROM) ? mk_opt_num(MK_OPT_MONITOR_INTERVAL) : 0;
    if (every) {
        if (now >= o->prom_ns + every) {
            mk_prom_write();
            o->prom_ns = now = mk_now_ns();
        }
        if (!next || o->prom_ns + every < next)
            next = o->prom_ns + every;
    }
    return next;
}

static void *monitor_main(void *arg)
{
    (void)arg;
    mk_self.busy = 1;   /* everything this thread allocates is memkit's */
    /* Named from inside: for itself glibc uses prctl, where naming
     * another thread opens /proc/self/task/N/comm at the lowest free
     * number, from inside the program's free. */
    pthread_setname_np(pthread_self(), "memkit");
    mk_pressure_init();
    uint64_t pressure_until = 0;   /* a PSI event counts as pressure for a while */
    uint64_t next_sample = 0;
    int held_back = 0;
    uint64_t released_seen = 0, released_changed = 0;
    /* After a compaction, the detour heap's pages go back once the program
     * has freed what it allocated there: looked at 1 s later, then less
     * and less often (up to a minute) while blocks are still held. */
    uint64_t tidy_at = 0, tidy_step = 0;
    struct outputs out = { mk_process()->start_mono_ns, mk_process()->start_mono_ns };

    uint64_t orphan_check = 0;

    while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
        if (mk_now_ns() >= orphan_check) {
            if (mk_proc_live_threads() == 1)
                exit(0);   /* what the program's last thread would have done */
            orphan_check = mk_now_ns() + MK_ORPHAN_CHECK_NS;
        }
        struct mk_defrag_options o;
        read_options(&o);
        if (o.pressure && psi.fd < 0)
            mk_own_fd_take(&psi, mk_pressure_trigger_open());
        else if (!o.pressure && psi.fd >= 0)
            mk_own_fd_close(&psi);

        mk_timeline_point_now(MK_TL_SAMPLE, 1);
        uint64_t now = mk_now_ns();
        uint64_t sample_every = mk_opt_num(MK_OPT_MONITOR_INTERVAL);
        int short_now = now < pressure_until;
        if (o.pressure && sample_every && now >= next_sample) {
            short_now |= mk_pressure_sample();
            next_sample = now + sample_every;
        }

        struct mk_compact_totals ct;
        mk_compact_totals(&ct);
        uint64_t released = mk_released_total();
        if (released != released_seen) {
            released_seen = released;
            released_changed = now;
        }
        struct mk_defrag_state s = {
            .now_ns = now,
            .start_ns = mk_process()->start_mono_ns,
            .have_last = ct.have_last,
            .last_start_ns = ct.last_start_ns,
            .last_end_ns = ct.last_end_ns,
            .released_since = released > ct.released_at_last ? released - ct.released_at_last : 0,
            .under_pressure = short_now,
            .last_reason = ct.last_reason,
            .released_changed_ns = released_changed,
            .backoff = ct.backoff,
            .heap_now = mk_heap_in_use_folded(),
            .heap_peak_since = mk_heap_recent_peak(),
        };
        struct mk_defrag_verdict v;
        mk_defrag_decide(&o, &s, &v);
        mk_log(MK_LOG_DEBUG, "monitor: released %llu MiB since, heap %llu of %llu MiB, "
               "back-off %u, %llu ms after the last (%d): %s",
               (unsigned long long)(s.released_since >> 20),
               (unsigned long long)(s.heap_now >> 20),
               (unsigned long long)(s.heap_peak_since >> 20), s.backoff,
               (unsigned long long)((s.now_ns - s.last_start_ns) / 1000000), s.have_last,
               mk_reason_name(v.reason));
        if (v.held_back && !held_back)
            mk_compact_note_skipped();
        held_back = v.held_back;

        if (tidy_at && now >= tidy_at) {
            if (mk_compact_tidy()) {
                tidy_at = 0;
            } else {
                tidy_step = tidy_step < TIDY_MAX_NS / 2 ? tidy_step * 2 : TIDY_MAX_NS;
                tidy_at = now + tidy_step;
            }
        }
        if (v.reason != MK_REASON_NONE) {
            compact_now(v.reason);
            tidy_step = TIDY_FIRST_NS;
            tidy_at = mk_now_ns() + tidy_step;
            if (v.reason == MK_REASON_PRESSURE)
                pressure_until = 0;
            continue;   /* decide again with the new record */
        }

        /* The free path wakes us when enough is released to matter; time
         * wakes us for the gap, the interval, the quiet time and the next
         * sample. */
        __atomic_store_n(&wake_after, release_wake(&o, &ct, ct.backoff, s.released_since),
                         __ATOMIC_RELAXED);
        /* Once the heap halves, only the unscaled threshold counts; if
         * that is reached already, the halving alone is worth a look
         * (unless the heap has halved already: this verdict counted it). */
        uint64_t halved = release_wake(&o, &ct, 1, s.released_since);
        if (o.threshold && halved == UINT64_MAX &&
            !(s.have_last && mk_defrag_heap_halved(s.heap_now, s.heap_peak_since)))
            halved = 0;
        __atomic_store_n(&wake_after_halved, halved, __ATOMIC_RELAXED);
        uint64_t deadline = v.wake_ns;
        if (tidy_at && (!deadline || tidy_at < deadline))
            deadline = tidy_at;
        if (orphan_check < deadline || !deadline)
            deadline = orphan_check;
        uint64_t output_at = write_outputs(&out, mk_now_ns());
        if (output_at && (!deadline || output_at < deadline))
            deadline = output_at;
        if (o.pressure && sample_every && (!deadline || next_sample < deadline))
            deadline = next_sample;
        if (sleep_until(deadline))
            pressure_until = mk_now_ns() + MK_PSI_WINDOW_US * 1000ull;
    }
    mk_own_fd_close(&psi);
    return NULL;
}

/* Back to idle, to be tried again in a while: a process briefly out of
 * descriptors or threads must not lose its monitor for good. */
static void start_failed(void)
{
    __atomic_store_n(&start_retry_at, mk_now_ns() + MK_START_RETRY_NS, __ATOMIC_RELAXED);
    __atomic_store_n(&state, IDLE, __ATOMIC_RELEASE);
}

/* Starts the thread, once per process (a start that failed is tried again
 * a second later). With every signal blocked (the
 * program's handlers must never run on it) and detached. */
static void start(void)
{
    if (mk_now_ns() < __atomic_load_n(&start_retry_at, __ATOMIC_RELAXED))
        return;
    /* Not from a free the loader makes for glibc: glibc may hold the lock
     * pthread_create needs (loader_text.h). The next free will do. */
    if (mk_loader_text_has(mk_self.free_caller))
        return;
    int expect = IDLE;
    if (!__atomic_compare_exchange_n(&state, &expect, STARTING, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    if (mk_wakeup_open(&wakeup) < 0) {
        mk_log(MK_LOG_INFO, "no monitor thread: pipe failed (errno %d)", errno);
        start_failed();
        return;
    }

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, monitor_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        mk_log(MK_LOG_INFO, "no monitor thread: pthread_create failed (errno %d)", rc);
        mk_wakeup_close(&wakeup);
        start_failed();
        return;
    }
    __atomic_store_n(&state, RUNNING, __ATOMIC_RELEASE);
}

/* Whether the process has work for a monitor that does not run yet. */
static int has_work(uint64_t released)
{
    if (first_output_ns())
        return 1;
    uint64_t threshold = mk_opt_num(MK_OPT_COMPACT_THRESHOLD);
    uint64_t interval = mk_opt_num(MK_OPT_COMPACT_INTERVAL);
    int pressure = mk_opt_num(MK_OPT_PRESSURE) != 0;
    if (!released || (!threshold && !interval && !pressure))
        return 0;
    if (released >= mk_opt_num(MK_OPT_THREAD_MIN))
        return 1;
    uint64_t now = mk_now_ns();
    if (interval && now - mk_process()->start_mono_ns >= interval)
        return 1;
    /* Pressure: looked at no more than once per monitor interval. */
    uint64_t every = mk_opt_num(MK_OPT_MONITOR_INTERVAL);
    uint64_t seen = load(&last_pressure_look_ns);
    if (pressure && every && (seen == 0 || now - seen >= every) &&
        __atomic_compare_exchange_n(&last_pressure_look_ns, &seen, now, 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return mk_pressure_sample();   /* the system's: the cgroup needs the monitor */
    return 0;
}

/* With `told` just raised to total: starts the monitor, or wakes it when
 * the threshold is crossed. */
static void consider(uint64_t total)
{
    if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
        return;
    int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (s == RUNNING) {
        /* told_at_last may have passed this thread's total meanwhile. */
        uint64_t last = load(&told_at_last);
        uint64_t since = total > last ? total - last : 0;
        if (since >= load(&wake_after) ||
            (since >= load(&wake_after_halved) &&
             mk_defrag_heap_halved(mk_heap_in_use_folded(), mk_heap_recent_peak())))
            mk_wakeup_post(&wakeup);
    } else if (s == IDLE && has_work(total)) {
        start();
    }
}

/* ---- the release check (free path, every MK_RELEASE_STEP bytes freed) ---- */

void mk_release_check(struct mk_thread *t, struct mk_counter_block *b)
{
    int saved = errno;
    uint8_t busy = t->busy;
    t->busy = 1;
    uint64_t freed = load(&b->free_bytes);
    uint64_t delta = freed - b->release_told;
    b->release_told = freed;
    uint64_t total = __atomic_add_fetch(&told, delta, __ATOMIC_RELAXED);

    /* mimalloc: this thread's heap is collected here, on its own free. */
    unsigned epoch = mk_release_epoch();
    if (epoch != b->collect_epoch) {
        b->collect_epoch = epoch;
        mk_release_collect_here();
    }
    __atomic_store_n(&b->release_due, freed + MK_RELEASE_STEP, __ATOMIC_SEQ_CST);
    if (mk_release_epoch() != b->collect_epoch)   /* asked meanwhile: next free */
        __atomic_store_n(&b->release_due, 0, __ATOMIC_SEQ_CST);

    consider(total);
    mk_timeline_point_now(MK_TL_SAMPLE, 0);   /* inside free: no /proc read */
    t->free_caller = 0;
    t->busy = busy;
    errno = saved;
}

void mk_monitor_notify_released(uint64_t bytes)
{
    __atomic_add_fetch(&notified, bytes, __ATOMIC_RELAXED);
    consider(__atomic_add_fetch(&told, bytes, __ATOMIC_RELAXED));
}

void mk_monitor_after_fork_child(void)
{
    /* The parent's: writing the pipe would wake the parent. Closed only
     * where the numbers are still memkit's. */
    mk_wakeup_reset(&wakeup);
    mk_own_fd_close(&psi);
    stopping = 0;   /* forked while the parent was exiting: the child is not */
    state = IDLE;
    start_retry_at = 0;
    told = 0;
    told_at_last = 0;
    wake_after = 1;
    wake_after_halved = UINT64_MAX;
    notified = 0;
    last_pressure_look_ns = 0;
}
