/* timeline.c — the bounded, downsampled timeline (timeline.h). */
#include "timeline.h"

#include <string.h>

static struct mk_timeline_point points[MK_TIMELINE_POINTS];
static size_t count;
static uint64_t resolution = MK_TIMELINE_FIRST_NS;
static uint64_t last_t;      /* of the last point kept */
static int busy;             /* a writer or a copier is at the table */

static int try_lock(void)
{
    return !__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE);
}

static void unlock(void)
{
    __atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

int mk_timeline_due(uint64_t t_ns)
{
    return t_ns >= __atomic_load_n(&last_t, __ATOMIC_RELAXED) +
                   __atomic_load_n(&resolution, __ATOMIC_RELAXED) ||
           __atomic_load_n(&count, __ATOMIC_RELAXED) == 0;
}

/* Halves the table: events stay, plain points every other one, and the
 * resolution doubles. If events alone fill it, the older half goes. */
static void downsample(void)
{
    size_t kept = 0;
    int odd = 0;
    for (size_t i = 0; i < count; i++) {
        if (points[i].event != MK_TL_SAMPLE || (odd ^= 1))
            points[kept++] = points[i];
    }
    if (kept > MK_TIMELINE_POINTS / 2 + MK_TIMELINE_POINTS / 4) {
        size_t drop = kept - MK_TIMELINE_POINTS / 2;
        memmove(points, points + drop, (kept - drop) * sizeof *points);
        kept -= drop;
    }
    count = kept;
    __atomic_store_n(&resolution, resolution * 2, __ATOMIC_RELAXED);
}

void mk_timeline_add(const struct mk_timeline_point *p)
{
    /* A plain point that finds the table busy is skipped (another is due
     * soon); an event waits for the writer's few stores, within bounds (a
     * writer that never lets go: this thread, interrupted in here). */
    int tries = p->event == MK_TL_SAMPLE ? 1 : 100000;
    while (!try_lock())
        if (--tries <= 0)
            return;
    if (p->event != MK_TL_SAMPLE || count == 0 || p->t_ns >= last_t + resolution) {
        if (count == MK_TIMELINE_POINTS)
            downsample();
        /* Oldest first: a compaction's start is added when it ends, after
         * points the program's threads took meanwhile. */
        size_t i = count;
        for (; i > 0 && points[i - 1].t_ns > p->t_ns; i--)
            points[i] = points[i - 1];
        points[i] = *p;
        __atomic_store_n(&count, count + 1, __ATOMIC_RELAXED);
        if (p->t_ns > last_t)
            __atomic_store_n(&last_t, p->t_ns, __ATOMIC_RELAXED);
    }
    unlock();
}

size_t mk_timeline_copy(struct mk_timeline_point *out, size_t max, uint64_t *res_ns)
{
    /* The report waits for a writer (a few stores); writers never wait. A
     * writer that never lets go (this very thread, interrupted inside
     * mk_timeline_add by a signal whose handler exits) costs the points. */
    int tries = 0;
    while (!try_lock())
        if (++tries > 1000000) {
            *res_ns = resolution;
            return 0;
        }
    size_t n = count < max ? count : max;
    memcpy(out, points, n * sizeof *points);
    *res_ns = resolution;
    unlock();
    return n;
}

void mk_timeline_reset(void)
{
    count = 0;
    last_t = 0;
    resolution = MK_TIMELINE_FIRST_NS;
    busy = 0;
}
