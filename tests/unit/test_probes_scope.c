/* test_probes_scope.c — the label table, the checkpoint table, scope
 * objects and their figures per label, MEMKIT_WARN's hysteresis, and the
 * usage rule of memkit_check: single-threaded and from many threads. */
#include "checkpoint.h"
#include "labels.h"
#include "log.h"
#include "meminfo.h"
#include "options.h"
#include "scope.h"
#include "warn.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- labels ---------------------------------------------------------------- */

static struct mk_labels table;

Test(labels, same_text_same_slot_and_cut_at_63_bytes)
{
    mk_labels_reset(&table);
    int a = mk_label_slot(&table, "load_model");
    int b = mk_label_slot(&table, "parse_file");
    cr_assert_geq(a, 0);
    cr_assert_geq(b, 0);
    cr_assert_neq(a, b);
    cr_assert_eq(mk_label_slot(&table, "load_model"), a);
    char long1[100], long2[100];
    memset(long1, 'x', 99);
    long1[99] = '\0';
    memcpy(long2, long1, 100);
    long2[80] = 'y';   /* differs only past the cut */
    int c = mk_label_slot(&table, long1);
    cr_assert_eq(mk_label_slot(&table, long2), c);
    cr_assert_eq(strlen(table.slot[c].text), MK_LABEL_MAX - 1);
}

Test(labels, a_full_table_refuses_and_counts)
{
    mk_labels_reset(&table);
    char name[32];
    for (int i = 0; i < MK_LABEL_SLOTS; i++) {
        snprintf(name, sizeof name, "label-%d", i);
        cr_assert_geq(mk_label_slot(&table, name), 0, "label %d", i);
    }
    cr_assert_eq(mk_label_slot(&table, "one too many"), -1);
    cr_assert_eq(table.refused, 1);
    cr_assert_geq(mk_label_slot(&table, "label-7"), 0, "known labels still found");
}

/* A slot left "claiming" (its thread vanished in a fork) is stepped over. */
Test(labels, a_slot_stuck_claiming_is_stepped_over)
{
    mk_labels_reset(&table);
    int a = mk_label_slot(&table, "stuck");
    mk_labels_reset(&table);
    table.slot[a].state = MK_LABEL_CLAIMING;
    int b = mk_label_slot(&table, "stuck");
    cr_assert_geq(b, 0);
    cr_assert_neq(a, b);
}

/* ---- checkpoints ------------------------------------------------------------ */

static const struct mk_checkpoint *find_cp(const struct mk_checkpoint *l, size_t n,
                                           const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].label, label) == 0)
            return &l[i];
    return NULL;
}

static struct mk_checkpoint cps[MK_LABEL_SLOTS];

Test(checkpoint, count_first_last_min_max)
{
    mk_checkpoints_reset();
    cr_assert_eq(mk_checkpoint_record("a", 100, 5000, 10), 0);
    cr_assert_eq(mk_checkpoint_record("a", 300, 2000, 30), 0);
    cr_assert_eq(mk_checkpoint_record("a", 200, 9000, 20), 0);
    cr_assert_eq(mk_checkpoint_record("b", 50, 1, 2), 0);
    size_t n = mk_checkpoint_list(cps, MK_LABEL_SLOTS);
    cr_assert_eq(n, 2);
    const struct mk_checkpoint *a = find_cp(cps, n, "a");
    cr_assert_not_null(a);
    cr_assert_eq(a->count, 3);
    cr_assert_eq(a->first_ns, 100);
    cr_assert_eq(a->last_ns, 300);
    cr_assert_eq(a->rss_min, 2000);
    cr_assert_eq(a->rss_max, 9000);
    cr_assert_eq(a->rss_last, 9000);
    cr_assert_eq(a->heap_last, 20);
    const struct mk_checkpoint *b = find_cp(cps, n, "b");
    cr_assert_not_null(b);
    cr_assert_eq(b->count, 1);
    cr_assert_eq(b->rss_min, 1);
}

#define THREADS 8
#define PER_THREAD 20000

static void *record_many(void *arg)
{
    long id = (long)arg;
    char own[16];
    snprintf(own, sizeof own, "own-%ld", id);
    for (int i = 0; i < PER_THREAD; i++) {
        mk_checkpoint_record("shared", (uint64_t)(id * PER_THREAD + i + 1),
                             (uint64_t)(1000 + id), 7);
        mk_checkpoint_record(own, 1, 1, 1);
    }
    return NULL;
}

Test(checkpoint, threads_lose_no_passage)
{
    mk_checkpoints_reset();
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, record_many, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    size_t n = mk_checkpoint_list(cps, MK_LABEL_SLOTS);
    cr_assert_eq(n, THREADS + 1);
    const struct mk_checkpoint *s = find_cp(cps, n, "shared");
    cr_assert_not_null(s);
    cr_assert_eq(s->count, (uint64_t)THREADS * PER_THREAD);
    cr_assert_eq(s->first_ns, 1);
    cr_assert_eq(s->last_ns, (uint64_t)THREADS * PER_THREAD);
    cr_assert_eq(s->rss_min, 1000);
    cr_assert_eq(s->rss_max, 1000 + THREADS - 1);
    for (int i = 0; i < THREADS; i++) {
        char own[16];
        snprintf(own, sizeof own, "own-%d", i);
        const struct mk_checkpoint *o = find_cp(cps, n, own);
        cr_assert_not_null(o, "%s", own);
        cr_assert_eq(o->count, PER_THREAD);
    }
}

/* ---- scopes ------------------------------------------------------------------- */

static struct mk_scope_stats stats[MK_LABEL_SLOTS];

static const struct mk_scope_stats *find_scope(size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(stats[i].label, label) == 0)
            return &stats[i];
    return NULL;
}

Test(scope, figures_add_up_per_label)
{
    mk_scopes_reset();
    struct mk_scope_result r1 = { .level = 1, .ns = 100, .growth = 4096, .peak = 10000 };
    struct mk_scope_result r2 = { .level = 3, .ns = 300, .growth = -1000, .peak = 8000,
                                  .rss_end = 777, .pressure = 1, .compacted = 1 };
    struct mk_scope_result r3 = { .level = 0, .ns = 5, .growth = -50, .peak = 1 };
    cr_assert_eq(mk_scope_record("decode", &r1), 0);
    cr_assert_eq(mk_scope_record("decode", &r2), 0);
    cr_assert_eq(mk_scope_record("shrink", &r3), 0);
    size_t n = mk_scope_list(stats, MK_LABEL_SLOTS);
    cr_assert_eq(n, 2);
    const struct mk_scope_stats *d = find_scope(n, "decode");
    cr_assert_not_null(d);
    cr_assert_eq(d->count, 2);
    cr_assert_eq(d->level, 3, "the highest level seen");
    cr_assert_eq(d->ns_total, 400);
    cr_assert_eq(d->ns_max, 300);
    cr_assert_eq(d->growth_total, 3096);
    cr_assert_eq(d->growth_max, 4096);
    cr_assert_eq(d->peak_max, 10000);
    cr_assert_eq(d->rss_max, 777);
    cr_assert_eq(d->under_pressure, 1);
    cr_assert_eq(d->compactions, 1);
    const struct mk_scope_stats *s = find_scope(n, "shrink");
    cr_assert_not_null(s);
    cr_assert_eq(s->growth_max, -50, "a scope that only shrank has a negative max");
    cr_assert_eq(s->growth_total, -50);
}

Test(scope, objects_come_from_the_pool_then_from_pages)
{
    enum { N = MK_SCOPE_POOL + 10 };
    static struct mk_scope *open[N];
    uint64_t before = mk_scopes_open();
    for (int i = 0; i < N; i++) {
        open[i] = mk_scope_alloc();
        cr_assert_not_null(open[i], "object %d", i);
        cr_assert_eq(open[i]->magic, 0, "zeroed");
        open[i]->magic = MK_SCOPE_MAGIC;
        for (int k = 0; k < i && k < 64; k++)
            cr_assert_neq(open[k], open[i]);
    }
    cr_assert_eq(mk_scopes_open(), before + N);
    for (int i = N - 1; i >= 0; i--)
        mk_scope_free(open[i]);
    cr_assert_eq(mk_scopes_open(), before);
}

static void *scopes_on_a_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        struct mk_scope *outer = mk_scope_alloc();
        struct mk_scope *inner = mk_scope_alloc();
        if (!outer || !inner || outer == inner)
            return (void *)1;
        outer->magic = inner->magic = MK_SCOPE_MAGIC;
        struct mk_scope_result r = { .ns = 1, .growth = 2, .peak = 3 };
        mk_scope_record("inner", &r);
        mk_scope_free(inner);
        mk_scope_record("outer", &r);
        mk_scope_free(outer);
    }
    return NULL;
}

Test(scope, nested_on_many_threads)
{
    mk_scopes_reset();
    uint64_t before = mk_scopes_open();
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, scopes_on_a_thread, NULL);
    for (int i = 0; i < THREADS; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        cr_assert_null(rc, "thread %d got a shared or no object", i);
    }
    cr_assert_eq(mk_scopes_open(), before);
    size_t n = mk_scope_list(stats, MK_LABEL_SLOTS);
    cr_assert_eq(n, 2);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(stats[i].count, (uint64_t)THREADS * 20000, "%s", stats[i].label);
        cr_assert_eq(stats[i].growth_total, (int64_t)THREADS * 20000 * 2);
    }
}

/* ---- MEMKIT_WARN ---------------------------------------------------------------- */

Test(warn, once_per_crossing_with_hysteresis)
{
    mk_options_reset();
    mk_log_set_level(MK_LOG_ERROR);   /* kept quiet: the count is what is tested */
    mk_warn_reset();
    mk_warn_check_rss(500u << 20);
    cr_assert_eq(mk_warn_crossings(), 0, "off by default");
    cr_assert_eq(mk_options_set("MEMKIT_WARN", "100M"), 0);
    mk_warn_check_rss(99u << 20);
    cr_assert_eq(mk_warn_crossings(), 0);
    mk_warn_check_rss(100u << 20);
    cr_assert_eq(mk_warn_crossings(), 1);
    mk_warn_check_rss(150u << 20);
    mk_warn_check_rss(95u << 20);    /* below the line, above 90%: still disarmed */
    mk_warn_check_rss(120u << 20);
    cr_assert_eq(mk_warn_crossings(), 1, "hovering at the line warns once");
    mk_warn_check_rss(89u << 20);    /* re-armed */
    mk_warn_check_rss(0);            /* not read: ignored */
    cr_assert_eq(mk_warn_crossings(), 1);
    mk_warn_check_rss(101u << 20);
    cr_assert_eq(mk_warn_crossings(), 2);
    mk_options_reset();
}

Test(warn, the_warning_is_kept_for_the_report)
{
    mk_options_reset();
    mk_log_set_level(MK_LOG_WARN);
    mk_warn_reset();
    cr_assert_eq(mk_options_set("MEMKIT_WARN", "1M"), 0);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    mk_warn_check_rss(2u << 20);
    dup2(saved, 2);
    close(saved);
    close(null);
    static struct mk_warning kept[MK_LOG_KEEP];
    size_t n = mk_log_kept(kept, MK_LOG_KEEP);
    cr_assert_gt(n, 0);
    cr_assert_not_null(strstr(kept[n - 1].text, "MEMKIT_WARN"), "%s", kept[n - 1].text);
    mk_options_reset();
}

/* ---- memkit_check's usage rule ------------------------------------------------------ */

Test(meminfo, usage_from_the_system_or_the_cgroup)
{
    uint64_t limit;
    double usage;
    mk_memory_usage(4000, 1000, 0, 0, &limit, &usage);
    cr_assert_eq(limit, 4000);
    cr_assert_float_eq(usage, 0.75, 1e-9);
    mk_memory_usage(4000, 1000, 2000, 500, &limit, &usage);
    cr_assert_eq(limit, 2000, "a cgroup limit below the machine's memory wins");
    cr_assert_float_eq(usage, 0.25, 1e-9);
    mk_memory_usage(4000, 1000, 8000, 500, &limit, &usage);
    cr_assert_eq(limit, 4000, "a cgroup limit above it is no limit");
    cr_assert_float_eq(usage, 0.75, 1e-9);
    mk_memory_usage(4000, 1000, 2000, 3000, &limit, &usage);
    cr_assert_float_eq(usage, 1.0, 1e-9, "kept within 0..1");
    mk_memory_usage(0, 0, 0, 0, &limit, &usage);
    cr_assert_eq(limit, 0);
    cr_assert_float_eq(usage, 0.0, 1e-9);
}

Test(meminfo, short_of_memory_by_the_monitors_rule)
{
    struct mk_memory m = { .system_total = 1000, .system_available = 500 };
    cr_assert_eq(mk_memory_short(&m), 0);
    m.system_available = 50;
    cr_assert_eq(mk_memory_short(&m), 1);
    m.system_available = 500;
    m.cgroup_limit = 1000;
    m.cgroup_usage = 960;
    cr_assert_eq(mk_memory_short(&m), 1);
    m.cgroup_usage = 900;
    cr_assert_eq(mk_memory_short(&m), 0);
}

Test(meminfo, reads_this_machine)
{
    struct mk_memory m;
    cr_assert_eq(mk_memory_read(&m), 0);
    cr_assert_gt(m.rss, 0);
    cr_assert_gt(m.system_total, 0);
    cr_assert_leq(m.system_available, m.system_total);
    cr_assert_gt(m.limit, 0);
    cr_assert_leq(m.limit, m.system_total);
    cr_assert(m.usage >= 0 && m.usage <= 1, "usage %f", m.usage);
}
