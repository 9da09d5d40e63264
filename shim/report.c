/* report.c — what the report says: the JSON document of schema
 * memkit-report/1 (docs/report-format.md), built from the counters, the
 * options and the process facts. Writing it to disk is report_file.c. */
#include "report.h"
#include "counters.h"
#include "fd_io.h"
#include "json_writer.h"
#include "log.h"
#include "monitor.h"
#include "options.h"
#include "proc_self.h"
#include "process.h"
#include "real.h"
#include "release.h"
#include "sites.h"
#include "fmt.h"

#include <dlfcn.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#ifndef MEMKIT_VERSION_STRING
#define MEMKIT_VERSION_STRING "unknown"
#endif

/* ---- process ------------------------------------------------------------- */

/* "2026-11-22T13:50:01.250Z" from Unix nanoseconds, with no locale, no
 * time-zone file and no lock (days to civil date: Howard Hinnant's method). */
static void iso8601(int64_t unix_ns, char *out, size_t len)
{
    int64_t secs = unix_ns / 1000000000, ms = (unix_ns % 1000000000) / 1000000;
    int64_t days = secs / 86400, rem = secs % 86400;
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    mk_snprintf(out, len, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                (long long)y, (long long)m, (long long)d, (long long)(rem / 3600),
                (long long)(rem / 60 % 60), (long long)(rem % 60), (long long)ms);
}

/* argv from /proc/self/cmdline into memkit's own pages (a command line can
 * be up to 2 MiB; 256 KiB of it is plenty for a report). */
static void write_argv(struct mk_json *j)
{
    const size_t cap = 256 * 1024;
    mk_json_array_begin(j);
    char *buf = mk_pages_alloc(cap);
    long got = buf ? mk_read_file("/proc/self/cmdline", buf, cap) : -1;
    for (long i = 0; i < got;) {
        size_t n = strnlen(buf + i, (size_t)(got - i));
        mk_json_string_n(j, buf + i, n);
        i += (long)n + 1;
    }
    if (buf)
        mk_pages_free(buf, cap);
    mk_json_array_end(j);
}

static void write_process(struct mk_json *j)
{
    const struct mk_process *p = mk_process();
    char text[PATH_MAX];
    mk_json_key(j, "process");
    mk_json_object_begin(j);
    mk_json_key(j, "pid");
    mk_json_i64(j, getpid());
    mk_json_key(j, "ppid");
    mk_json_i64(j, p->ppid);
    ssize_t n = readlink("/proc/self/exe", text, sizeof text - 1);
    mk_json_key(j, "exe");
    mk_json_string_n(j, text, n > 0 ? (size_t)n : 0);
    mk_json_key(j, "name");
    mk_json_string(j, p->name);
    mk_json_key(j, "argv");
    write_argv(j);
    iso8601(p->start_unix_ns, text, sizeof text);
    mk_json_key(j, "start");
    mk_json_string(j, text);
    mk_json_key(j, "start_unix");
    mk_json_double(j, (double)p->start_unix_ns / 1e9, 3);
    mk_json_key(j, "duration_s");
    mk_json_double(j, (double)(mk_now_ns() - p->start_mono_ns) / 1e9, 6);
    mk_json_key(j, "cwd");
    mk_json_string(j, p->start_cwd);
    if (mk_opt_text(MK_OPT_RUN_ID, text, sizeof text) < 0)
        text[0] = '\0';
    mk_json_key(j, "run_id");
    mk_json_string(j, text);
    mk_json_object_end(j);
}

/* ---- allocator, config -------------------------------------------------- */

/* The allocator's usual name from the file malloc resolved in. */
static const char *allocator_name(const char *path, int in_exe)
{
    static const char *const known[] = { "jemalloc", "tcmalloc", "mimalloc", "hoard", "snmalloc" };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strstr(path, known[i]))
            return known[i];
    if (strstr(path, "/libc.so") || strstr(path, "/libc-"))
        return "glibc";
    return in_exe ? "linked into the program" : "other";
}

/* Where malloc resolved, found once at start: dladdr takes the loader's
 * lock, which a fork child may have inherited locked, so the report (also
 * written by a child on _exit) must not call it. */
static char allocator_path[PATH_MAX];
static const char *allocator_kind = "unknown";

void mk_report_prepare(void)
{
    Dl_info info;
    if (!mk_real.malloc || !dladdr((void *)mk_real.malloc, &info) || !info.dli_fname)
        return;
    Dl_info main_info;
    void *main_sym = dlsym(RTLD_DEFAULT, "main");
    int in_exe = main_sym && dladdr(main_sym, &main_info) &&
                 main_info.dli_fbase == info.dli_fbase;
    size_t n = strnlen(info.dli_fname, sizeof allocator_path - 1);
    memcpy(allocator_path, info.dli_fname, n);
    allocator_path[n] = '\0';
    allocator_kind = allocator_name(allocator_path, in_exe);
}

static void write_allocator(struct mk_json *j)
{
    mk_json_key(j, "allocator");
    mk_json_object_begin(j);
    mk_json_key(j, "name");
    mk_json_string(j, allocator_kind);
    mk_json_key(j, "path");
    mk_json_string(j, allocator_path);
    mk_json_key(j, "release_call");
    mk_json_string(j, mk_release_call_name());
    mk_json_object_end(j);
}

static void write_config(struct mk_json *j)
{
    char text[MK_OPT_TEXT_MAX];
    mk_json_key(j, "config");
    mk_json_object_begin(j);
    for (int i = 0; i < MK_OPT_COUNT; i++) {
        if (mk_opt_text((enum mk_option_id)i, text, sizeof text) < 0)
            text[0] = '\0';
        mk_json_key(j, mk_options[i].name);
        mk_json_string(j, text);
    }
    mk_json_object_end(j);
}

/* ---- counts ---------------------------------------------------------------- */


static void write_totals(struct mk_json *j, const struct mk_totals *t)
{
    const struct mk_map_totals *prog = &t->map[MK_MAP_PROGRAM];
    const struct mk_map_totals *alloc = &t->map[MK_MAP_ALLOCATOR];
    mk_json_key(j, "totals");
    mk_json_object_begin(j);
    mk_json_field_u64(j, "alloc_calls", t->alloc_calls);
    mk_json_field_u64(j, "free_calls", t->free_calls);
    mk_json_field_u64(j, "alloc_bytes", t->alloc_bytes);
    mk_json_field_u64(j, "free_bytes", t->free_bytes);
    mk_json_field_u64(j, "mmap_calls", prog->mmap_calls);
    mk_json_field_u64(j, "munmap_calls", prog->munmap_calls);
    mk_json_field_u64(j, "mmap_bytes", prog->mmap_bytes);
    mk_json_field_u64(j, "released_bytes", t->free_bytes + mk_notified_total());
    mk_json_field_u64(j, "requested_bytes", t->requested_bytes);
    mk_json_field_u64(j, "failures", t->failures);
    mk_json_field_u64(j, "munmap_bytes", prog->munmap_bytes);
    mk_json_field_u64(j, "mremap_calls", prog->mremap_calls);
    mk_json_field_u64(j, "heap_in_use", t->heap_in_use);
    mk_json_field_u64(j, "mmap_in_use", prog->in_use);
    mk_json_key(j, "by_kind");
    mk_json_object_begin(j);
    for (int k = 0; k < MK_KIND_COUNT; k++) {
        mk_json_key(j, mk_kind_names[k]);
        mk_json_object_begin(j);
        mk_json_field_u64(j, "calls", t->kind[k].calls);
        mk_json_field_u64(j, "bytes", t->kind[k].bytes);
        mk_json_field_u64(j, "requested", t->kind[k].requested);
        mk_json_object_end(j);
    }
    mk_json_object_end(j);
    mk_json_key(j, "allocator_maps");
    mk_json_object_begin(j);
    mk_json_field_u64(j, "mmap_calls", alloc->mmap_calls);
    mk_json_field_u64(j, "mmap_bytes", alloc->mmap_bytes);
    mk_json_field_u64(j, "munmap_calls", alloc->munmap_calls);
    mk_json_field_u64(j, "munmap_bytes", alloc->munmap_bytes);
    mk_json_field_u64(j, "mremap_calls", alloc->mremap_calls);
    mk_json_field_u64(j, "in_use", alloc->in_use);
    mk_json_field_u64(j, "peak", alloc->peak);
    mk_json_object_end(j);
    mk_json_object_end(j);
}

static void write_levels(struct mk_json *j, const char *key, uint64_t heap, uint64_t rss,
                         uint64_t maps)
{
    mk_json_key(j, key);
    mk_json_object_begin(j);
    mk_json_field_u64(j, "heap_bytes", heap);
    mk_json_field_u64(j, "rss_bytes", rss);
    mk_json_field_u64(j, "mmap_bytes", maps);
    mk_json_object_end(j);
}

static void write_warnings(struct mk_json *j)
{
    static struct mk_warning kept[MK_LOG_KEEP];   /* too big for a small thread stack */
    size_t n = mk_log_kept(kept, MK_LOG_KEEP);
    mk_json_key(j, "warnings");
    mk_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        mk_json_object_begin(j);
        mk_json_key(j, "t_s");
        mk_json_double(j, (double)kept[i].t_ns / 1e9, 6);
        mk_json_key(j, "text");
        mk_json_string(j, kept[i].text);
        mk_json_object_end(j);
    }
    mk_json_array_end(j);
}

/* ---- the document ---------------------------------------------------------- */

int mk_report_build(struct mk_json *j, const char *kind)
{
    struct mk_totals t;
    mk_counters_snapshot(&t);
    const struct mk_map_totals *prog = &t.map[MK_MAP_PROGRAM];

    mk_json_object_begin(j);
    mk_json_key(j, "schema");
    mk_json_string(j, "memkit-report/1");
    mk_json_key(j, "memkit_version");
    mk_json_string(j, MEMKIT_VERSION_STRING);
    mk_json_key(j, "kind");
    mk_json_string(j, kind);
    write_process(j);
    write_allocator(j);
    write_config(j);
    write_totals(j, &t);
    write_levels(j, "peak", t.heap_peak, mk_proc_rss_peak(), prog->peak);
    write_levels(j, "end", t.heap_in_use, mk_proc_rss(), prog->in_use);
    mk_report_write_compactions(j, t.free_bytes + mk_notified_total());
    mk_report_write_probes(j);
    mk_report_write_sites(j);
    mk_report_write_modules(j);
    mk_report_write_pools(j);
    mk_report_write_timeline(j, kind && kind[0] == 'f');   /* "final" */
    write_warnings(j);
    mk_json_object_end(j);
    return j->failed ? -1 : 0;
}
