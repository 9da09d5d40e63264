/* report_svg.c — the SVG document (see report_svg.h). */
#include "report_svg.h"
#include "report_get.h"
#include "report_summary.h"
#include "svg_flame.h"
#include "svg_text.h"
#include "svg_timeline.h"
#include "units.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARGIN          16
#define HEADING         52     /* two lines of text */
#define TIMELINE_HEIGHT 330
#define GAP             24

static void print_heading(FILE *out, const json_t *r, const char *report_path)
{
    char d[MKT_UNIT_BUF], h[MKT_UNIT_BUF], s[MKT_UNIT_BUF], a[MKT_UNIT_BUF], c[MKT_UNIT_BUF];
    uint64_t pid = 0, heap = 0, rss = 0, bytes = 0, calls = 0;
    double dur = -1;
    mkt_u64(r, "process.pid", &pid);
    mkt_num(r, "process.duration_s", &dur);
    mkt_u64(r, "peak.heap_bytes", &heap);
    mkt_u64(r, "peak.rss_bytes", &rss);
    mkt_u64(r, "totals.alloc_bytes", &bytes);
    mkt_u64(r, "totals.alloc_calls", &calls);
    fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"16\" font-weight=\"bold\">", MARGIN, 22);
    mkt_svg_put(out, mkt_program_name(r), 60);
    fprintf(out, ", pid %" PRIu64 ", ran %s: peak heap %s, peak RSS %s, %s allocated in %s calls"
            "</text>\n", pid, mkt_duration(d, sizeof d, dur), mkt_bytes(h, sizeof h, heap),
            mkt_bytes(s, sizeof s, rss), mkt_bytes(a, sizeof a, bytes),
            mkt_count(c, sizeof c, calls));
    fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#555555\">memkit report ", MARGIN, 40);
    mkt_svg_put(out, report_path, 120);
    const char *start = mkt_str(r, "process.start");
    if (start && *start) {
        fputs(", started ", out);
        mkt_svg_put(out, start, 40);
    }
    const char *kind = mkt_str(r, "kind");
    if (kind && strcmp(kind, "snapshot") == 0)
        fputs(" (a snapshot written while the process ran)", out);
    fputs("</text>\n", out);
}

void mkt_svg_print(FILE *out, const json_t *r, const char *report_path, int top)
{
    const double inner = MKT_SVG_WIDTH - 2 * MARGIN;
    struct mkt_flame *flame = mkt_flame_build(r);
    double flame_y = HEADING + TIMELINE_HEIGHT + GAP;
    double height = flame_y + (flame ? mkt_flame_height(flame, inner, top) : 0) + MARGIN;

    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
            "height=\"%.0f\" viewBox=\"0 0 %d %.0f\" font-family=\"monospace\" "
            "font-size=\"12\">\n<title>memkit: ", MKT_SVG_WIDTH, height, MKT_SVG_WIDTH, height);
    mkt_svg_put(out, mkt_program_name(r), 60);
    fputs("</title>\n", out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%.0f\" fill=\"#ffffff\"/>\n",
            MKT_SVG_WIDTH, height);
    print_heading(out, r, report_path);
    mkt_svg_timeline(out, r, MARGIN, HEADING, inner, TIMELINE_HEIGHT);
    if (flame)
        mkt_flame_draw(out, flame, MARGIN, flame_y, inner, top);
    fputs("</svg>\n", out);
    mkt_flame_free(flame);
}

int mkt_svg_write(const char *out_path, const json_t *r, const char *report_path, int top,
                  char *why, size_t len)
{
    if (strcmp(out_path, "-") == 0) {
        mkt_svg_print(stdout, r, report_path, top);
        if (fflush(stdout) == EOF || ferror(stdout)) {
            snprintf(why, len, "cannot write the SVG to stdout: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    size_t n = strlen(out_path) + sizeof ".XXXXXX";
    char *tmp = malloc(n);
    if (!tmp) {
        snprintf(why, len, "cannot write %s: out of memory", out_path);
        return -1;
    }
    snprintf(tmp, n, "%s.XXXXXX", out_path);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(why, len, "cannot write %s: %s", out_path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return -1;
    }
    /* mkstemp makes the file 0600; an SVG is for viewing: 0666 less the umask. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    mkt_svg_print(f, r, report_path, top);
    int failed = fflush(f) == EOF || ferror(f);
    int saved = errno;
    if (fclose(f) == EOF && !failed) {
        failed = 1;
        saved = errno;
    }
    if (!failed && rename(tmp, out_path) != 0) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        unlink(tmp);
        snprintf(why, len, "cannot write %s: %s", out_path, strerror(saved));
    }
    free(tmp);
    return failed ? -1 : 0;
}
