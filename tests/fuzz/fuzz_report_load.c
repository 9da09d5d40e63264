/* fuzz_report_load.c — libFuzzer target: memkit-report's reader.
 *
 * The input is a report file. It goes through mkt_report_load exactly as
 * memkit-report reads one (fopen of a path: here /proc/self/fd/N of a
 * memfd holding the bytes), so the JSON errors, the schema and every type
 * check are exercised; a report that passes is then printed as the
 * summary, the one-line form and the timeline table (to /dev/null), which
 * is what those printers are promised: any checked report. What must hold:
 *  - a refusal has a reason: non-empty, NUL-terminated in its buffer, one
 *    line (callers print "memkit-report: FILE: " before it);
 *  - a report that loads also passes mkt_report_check again, and the
 *    printers survive it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "report_load.h"
#include "report_summary.h"
#include "report_timeline.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) { \
        fprintf(stderr, "fuzz_report_load: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        abort(); } } while (0)

static int fd = -1;
static char path[64];
static FILE *devnull;

static int set_up(void)
{
    if (fd >= 0)
        return 0;
    fd = memfd_create("fuzz-report", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    devnull = fopen("/dev/null", "w");
    return devnull ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (set_up() < 0)
        abort();
    CHECK(ftruncate(fd, 0) == 0);
    CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);

    char why[256];
    memset(why, 'x', sizeof why);
    json_t *doc = mkt_report_load(path, why, sizeof why);
    if (!doc) {
        CHECK(memchr(why, '\0', sizeof why) != NULL);
        CHECK(why[0] != '\0');
        CHECK(strchr(why, '\n') == NULL);
        return 0;
    }
    CHECK(mkt_report_check(doc, why, sizeof why) == 0);
    struct mkt_summary_opts opts = { .top = size > 0 ? data[0] % 12 : 0 };
    mkt_summary_print(devnull, doc, "fuzz.json", &opts);
    mkt_summary_line(devnull, doc, "fuzz.json", size > 1 ? data[1] % 40 : 0);
    mkt_timeline_print(devnull, doc);
    mkt_timeline_summary_line(devnull, doc, 12, 100);
    CHECK(mkt_program_name(doc) != NULL);
    json_decref(doc);
    return 0;
}
