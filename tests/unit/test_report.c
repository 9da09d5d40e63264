/* test_report.c — the report written, then read back with jansson; and
 * every way writing it can fail leaving nothing behind. */
#include "counters.h"
#include "options.h"
#include "process.h"
#include "real.h"
#include "report.h"
#include "sites.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/memkit-test-report-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    mk_real_resolve();
    mk_options_reset();
    mk_process_capture();
    mk_counters_init();
    mk_report_prepare();
}

/* Files in dir, and removes them with dir. */
static int files_in_dir(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "chmod -R u+w %s; rm -rf %s", dir, dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(report, .init = setup, .fini = teardown);

static json_t *load(const char *path)
{
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    cr_assert_not_null(doc, "%s: %s (line %d)", path, err.text, err.line);
    return doc;
}

static uint64_t num(json_t *obj, const char *a, const char *b)
{
    json_t *v = json_object_get(json_object_get(obj, a), b);
    cr_assert(json_is_integer(v), "%s.%s is not an integer", a, b);
    return (uint64_t)json_integer_value(v);
}

Test(report, round_trip_carries_the_counts_and_every_section)
{
    struct mk_totals before;
    mk_counters_snapshot(&before);
    struct mk_thread *t = &mk_self;
    for (int i = 0; i < 10; i++)
        mk_count_alloc(t, MK_KIND_CALLOC, 100, 112);
    for (int i = 0; i < 4; i++)
        mk_count_free(t, 112);
    mk_count_mmap(MK_MAP_PROGRAM, 8192);

    char path[128];
    snprintf(path, sizeof path, "%s/r.json", dir);
    errno = 4321;
    cr_assert_eq(mk_report_write_to(path), 0);
    cr_assert_eq(errno, 4321, "errno must be preserved");

    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(files_in_dir(), 1, "a temporary file was left behind");

    json_t *doc = load(path);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "schema")), "memkit-report/1");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "kind")), "final");
    cr_assert_eq(num(doc, "process", "pid"), (uint64_t)getpid());
    json_t *argv = json_object_get(json_object_get(doc, "process"), "argv");
    /* Criterion runs each test in a worker started from this binary. */
    char cmdline[256] = "";
    FILE *f = fopen("/proc/self/cmdline", "r");
    cr_assert_not_null(f);
    cr_assert_gt(fread(cmdline, 1, sizeof cmdline - 1, f), 0);
    fclose(f);
    cr_assert_str_eq(json_string_value(json_array_get(argv, 0)), cmdline);
    cr_assert(json_is_real(json_object_get(json_object_get(doc, "process"), "duration_s")));
    const char *start = json_string_value(json_object_get(json_object_get(doc, "process"), "start"));
    cr_assert_eq(strlen(start), 24, "ISO 8601 with milliseconds: %s", start);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "allocator"), "name")),
                     "glibc");

    cr_assert_eq(num(doc, "totals", "alloc_calls") - before.alloc_calls, 10);
    cr_assert_eq(num(doc, "totals", "alloc_bytes") - before.alloc_bytes, 1120);
    cr_assert_eq(num(doc, "totals", "requested_bytes") - before.requested_bytes, 1000);
    cr_assert_eq(num(doc, "totals", "free_calls") - before.free_calls, 4);
    cr_assert_eq(num(doc, "totals", "released_bytes") - before.free_bytes, 448);
    cr_assert_eq(num(doc, "totals", "mmap_calls") - before.map[MK_MAP_PROGRAM].mmap_calls, 1);
    json_t *calloc_row = json_object_get(json_object_get(json_object_get(doc, "totals"), "by_kind"),
                                         "calloc");
    cr_assert_geq(json_integer_value(json_object_get(calloc_row, "calls")), 10);
    cr_assert_geq(num(doc, "peak", "heap_bytes"), num(doc, "end", "heap_bytes"));
    cr_assert_gt(num(doc, "peak", "rss_bytes"), 0);

    json_t *config = json_object_get(doc, "config");
    for (int i = 0; i < MK_OPT_COUNT; i++)
        cr_assert(json_is_string(json_object_get(config, mk_options[i].name)),
                  "%s missing from config", mk_options[i].name);
    const char *arrays[] = { "compactions", "probes", "sites", "modules", "pools",
                             "timeline", "warnings" };
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        cr_assert(json_is_array(json_object_get(doc, arrays[i])), "%s", arrays[i]);
    json_decref(doc);
}

Test(report, the_template_is_expanded_from_the_start_folder)
{
    char tpl[128];
    snprintf(tpl, sizeof tpl, "%s/rep.%%p.json", dir);
    cr_assert_eq(mk_options_set("MEMKIT_REPORT", tpl), 0);
    cr_assert_eq(mk_report_write(), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/rep.%d.json", dir, (int)getpid());
    json_decref(load(path));

    cr_assert_eq(mk_options_set("MEMKIT_REPORT", "off"), 0);
    cr_assert_eq(mk_report_write(), 0);
    cr_assert_eq(files_in_dir(), 1, "off must write nothing");
}

Test(report, a_missing_folder_leaves_nothing)
{
    char path[128];
    snprintf(path, sizeof path, "%s/no/such/r.json", dir);
    errno = 77;
    cr_assert_eq(mk_report_write_to(path), -1);
    cr_assert_eq(errno, 77);
    cr_assert_eq(files_in_dir(), 0);
}

Test(report, a_planted_symlink_is_replaced_never_followed)
{
    char target[128], path[128];
    snprintf(target, sizeof target, "%s/victim", dir);
    snprintf(path, sizeof path, "%s/r.json", dir);
    FILE *f = fopen(target, "w");
    fputs("precious", f);
    fclose(f);
    cr_assert_eq(symlink(target, path), 0);
    cr_assert_eq(mk_report_write_to(path), 0);

    char buf[16] = "";
    f = fopen(target, "r");
    cr_assert_not_null(fgets(buf, sizeof buf, f));
    fclose(f);
    cr_assert_str_eq(buf, "precious", "the symlink's target was written through");
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode), "the report should have replaced the symlink");
}

Test(report, a_folder_in_the_way_fails_cleanly)
{
    char path[128];
    snprintf(path, sizeof path, "%s/r.json", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_eq(mk_report_write_to(path), -1);
    cr_assert_eq(files_in_dir(), 1, "only the folder may remain");
}

Test(report, a_write_that_runs_out_of_room_leaves_nothing)
{
    /* A file-size limit makes write fail part-way, as a full disk does. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, tiny = { 100, 100 };
    getrlimit(RLIMIT_FSIZE, &old);
    setrlimit(RLIMIT_FSIZE, &tiny);
    char path[128];
    snprintf(path, sizeof path, "%s/r.json", dir);
    int rc = mk_report_write_to(path);
    setrlimit(RLIMIT_FSIZE, &old);
    cr_assert_eq(rc, -1);
    cr_assert_eq(files_in_dir(), 0, "a partial report or temporary file was left");
}

Test(report, a_read_only_folder_leaves_nothing, .disabled = false)
{
    if (geteuid() == 0)
        cr_skip_test("root writes into read-only folders (see the integration tests)");
    chmod(dir, 0500);
    char path[128];
    snprintf(path, sizeof path, "%s/r.json", dir);
    cr_assert_eq(mk_report_write_to(path), -1);
    chmod(dir, 0700);
    cr_assert_eq(files_in_dir(), 0);
}

static size_t sites_in(const char *path)
{
    json_t *doc = load(path);
    json_t *sites = json_object_get(doc, "sites");
    cr_assert(json_is_array(sites));
    size_t n = json_array_size(sites);
    json_decref(doc);
    return n;
}

/* A signal handler that exits (or forks, and the child exits) while its
 * own thread was changing the sites table: the report must neither wait
 * for that thread nor read the half-changed table. */
Test(report, a_report_from_inside_a_sites_change_leaves_the_sites_out, .timeout = 20)
{
    uintptr_t stack[2] = { 0x1234, 0x5678 };
    mk_sites_lock();
    cr_assert_not_null(mk_sites_get(stack, 2));
    mk_sites_unlock();

    char path[128];
    snprintf(path, sizeof path, "%s/r.json", dir);
    mk_sites_lock();   /* as if a signal arrived here */
    mk_sites_after_fork_child();
    cr_assert(mk_sites_held_here(), "a fork child must not free the lock its own thread holds");
    cr_assert_eq(mk_report_write_to(path), 0);
    cr_assert_eq(sites_in(path), 0);
    mk_sites_unlock();

    cr_assert_eq(mk_report_write_to(path), 0);
    cr_assert_geq(sites_in(path), 1);
}

static int other_holds;

static void *hold_sites_lock(void *arg)
{
    (void)arg;
    mk_sites_lock();
    __atomic_store_n(&other_holds, 1, __ATOMIC_RELEASE);
    for (;;)
        pause();
    return NULL;
}

/* A fork child has one thread: a lock another thread held is released. */
Test(report, a_fork_child_frees_the_sites_lock_of_a_vanished_thread, .timeout = 20)
{
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, hold_sites_lock, NULL), 0);
    while (!__atomic_load_n(&other_holds, __ATOMIC_ACQUIRE))
        usleep(1000);
    mk_sites_after_fork_child();
    cr_assert(mk_sites_lock_unless_held_here());
    mk_sites_unlock();
    char path[128];
    snprintf(path, sizeof path, "%s/r.json", dir);
    cr_assert_eq(mk_report_write_to(path), 0);
}
