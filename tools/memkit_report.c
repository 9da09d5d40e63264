/* memkit-report — read memkit reports and show what happened to memory.
 *
 *   memkit-report [--top N] [REPORT]      summary (newest memkit.*.json here if none)
 *   memkit-report --json [REPORT]         the report, re-indented, to stdout
 *   memkit-report --folded [REPORT]       folded stacks (root;...;leaf BYTES)
 *   memkit-report --timeline [REPORT]     heap, maps and RSS over time, as a table
 *   memkit-report --sites [REPORT]        every call site table, callers included
 *   memkit-report --svg OUT.svg [REPORT]  timeline and flame graph as one SVG
 *   memkit-report --diff OLD NEW          what changed between two runs
 *   memkit-report --prom [REPORT]         OpenMetrics text (docs/metrics.md)
 *   memkit-report --list                  the reports here, newest first
 *
 * Exit status: 0 done; 2 bad usage, no report, or a file that is not a
 * memkit-report/1 report (one line on stderr says which). */
#include "parse_arena.h"
#include "report_diff.h"
#include "report_find.h"
#include "report_list.h"
#include "report_load.h"
#include "report_prom.h"
#include "report_sites.h"
#include "report_summary.h"
#include "report_svg.h"
#include "report_timeline.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROG "memkit-report"

#define USAGE \
    "usage: " PROG " [--top N] [REPORT]\n" \
    "       " PROG " --json [REPORT]\n" \
    "       " PROG " --folded [REPORT]\n" \
    "       " PROG " --timeline [REPORT]\n" \
    "       " PROG " --sites [--top N] [REPORT]\n" \
    "       " PROG " --svg OUT.svg [--top N] [REPORT]\n" \
    "       " PROG " --diff [--top N] OLD NEW\n" \
    "       " PROG " --prom [REPORT]\n" \
    "       " PROG " --list\n"

/* After a usage error: the forms only, not the whole help. */
static void usage_error(void)
{
    fprintf(stderr, USAGE "(" PROG " --help tells more)\n");
}

static void help(FILE *out)
{
    fprintf(out,
        USAGE
        "\n"
        "Prints a summary of a memkit report (schema memkit-report/1). Without\n"
        "REPORT, reads the newest memkit.*.json in the current folder.\n"
        "\n"
        "  --json        print the report as indented JSON instead of a summary\n"
        "  --folded      print the sampled call stacks folded, root;...;leaf BYTES\n"
        "                (estimated bytes allocated; flamegraph.pl, inferno, speedscope)\n"
        "  --timeline    print heap, maps and RSS over the run as a table of about 24\n"
        "                rows, compactions marked, with a bar of RSS\n"
        "  --sites       print the call sites by bytes, by calls, live at exit and live\n"
        "                at the heap's peak, each with three callers (the summary has\n"
        "                the first and the third, one line a site)\n"
        "  --svg OUT     write one SVG a browser shows: the timeline (heap, maps, RSS,\n"
        "                compactions) and a flame graph of the bytes allocated by call\n"
        "                stack, with tooltips; OUT - writes to stdout\n"
        "  --diff        compare two reports, OLD and NEW: peaks, totals, compactions,\n"
        "                pools, and the call sites whose bytes changed most\n"
        "  --prom        print the report's figures as OpenMetrics text (memkit_*\n"
        "                metrics, labels program and pid), for node_exporter's\n"
        "                textfile collector\n"
        "  --list        list the reports (memkit.*.json) in the current folder, newest\n"
        "                first, one line each, and say why a file cannot be read\n"
        "  --top N       call sites listed by the summary, --sites, --diff and --svg\n"
        "                (default 10); frames are resolved to function and file:line\n"
        "                with libdw; the other outputs accept it and have no list to cut\n"
        "  --help        this text\n"
        "  --version     the memkit version\n"
        "\n"
        "Exit status: 0 done, 2 bad usage or no readable memkit report.\n");
}

static int parse_top(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

static int print_json(const json_t *report)
{
    /* Keys stay in the writer's order (schema and process first); reals
     * keep 15 digits, more than any time or ratio in a report needs, and
     * 0.1 still prints as 0.1. */
    if (json_dumpf(report, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) < 0)
        return -1;
    return fputc('\n', stdout) == EOF ? -1 : 0;
}

/* The report, or NULL after saying why on stderr. */
static json_t *load(const char *path)
{
    char why[512];
    json_t *report = mkt_report_load(path, why, sizeof why);
    if (!report)
        fprintf(stderr, PROG ": %s: %s\n", path, why);
    return report;
}

/* The newest report here into found, or -1 after saying why. */
static int newest(char *found, size_t len)
{
    if (mkt_newest_match(".", MKT_DEFAULT_PATTERN, found, len) == 0)
        return 0;
    if (errno == ENOENT)
        fprintf(stderr, PROG ": no report (memkit.*.json) in the current folder; "
                "name one: " PROG " REPORT\n");
    else
        fprintf(stderr, PROG ": cannot read the current folder: %s\n", strerror(errno));
    return -1;
}

/* Would writing out replace the report itself? */
static int same_file(const char *out, const char *report)
{
    struct stat a, b;
    return stat(out, &a) == 0 && stat(report, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

enum view { SUMMARY, JSON, FOLDED, TIMELINE, SITES, SVG, DIFF, PROM, LIST };

static const char *const view_flag[] = {
    [SUMMARY] = "", [JSON] = "--json", [FOLDED] = "--folded", [TIMELINE] = "--timeline", [SITES] = "--sites",
    [SVG] = "--svg", [DIFF] = "--diff", [PROM] = "--prom", [LIST] = "--list",
};

static int finish(int rc)
{
    if (rc == 0 && (fflush(stdout) == EOF || ferror(stdout))) {
        fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(errno));
        return 2;
    }
    return rc;
}

static int run_list(void)
{
    long n = mkt_list_print(stdout, ".");
    if (n < 0) {
        fprintf(stderr, PROG ": cannot read the current folder: %s\n", strerror(errno));
        return 2;
    }
    if (n == 0)
        fprintf(stderr, PROG ": no report (memkit.*.json) in the current folder\n");
    return finish(0);
}

static int run_diff(const char *old_path, const char *new_path, int top)
{
    json_t *a = load(old_path);
    if (!a)
        return 2;
    json_t *b = load(new_path);
    if (!b) {
        json_decref(a);
        return 2;
    }
    mkt_diff_print(stdout, a, old_path, b, new_path, top);
    json_decref(a);
    json_decref(b);
    return finish(0);
}

static int run_one(enum view view, const char *path, const char *svg_out, int top)
{
    char found[PATH_MAX];
    if (!path) {
        if (newest(found, sizeof found) < 0)
            return 2;
        path = found;
    }
    json_t *report = load(path);
    if (!report)
        return 2;
    int rc = 0;
    char why[512];
    switch (view) {
    case JSON:
        if (print_json(report) < 0) {
            fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(errno));
            rc = 2;
        }
        break;
    case FOLDED:
        mkt_sites_folded(stdout, report);
        break;
    case TIMELINE:
        mkt_timeline_print(stdout, report);
        break;
    case SITES:
        mkt_sites_print(stdout, report, top);
        break;
    case PROM:
        mkt_prom_print(stdout, report);
        break;
    case SVG:
        if (same_file(svg_out, path)) {
            fprintf(stderr, PROG ": %s is the report itself; name another file for the SVG\n",
                    svg_out);
            rc = 2;
        } else if (mkt_svg_write(svg_out, report, path, top, why, sizeof why) < 0) {
            fprintf(stderr, PROG ": %s\n", why);
            rc = 2;
        }
        break;
    default: {
        struct mkt_summary_opts opts = { .top = top };
        mkt_summary_print(stdout, report, path, &opts);
        mkt_sites_summary(stdout, report, top);
        break;
    }
    }
    json_decref(report);
    return finish(rc);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "json",     no_argument,       NULL, 'j' },
        { "folded",   no_argument,       NULL, 'f' },
        { "timeline", no_argument,       NULL, 'l' },
        { "sites",    no_argument,       NULL, 'S' },
        { "svg",      required_argument, NULL, 's' },
        { "diff",     no_argument,       NULL, 'd' },
        { "prom",     no_argument,       NULL, 'p' },
        { "list",     no_argument,       NULL, 'L' },
        { "top",      required_argument, NULL, 't' },
        { "help",     no_argument,       NULL, 'h' },
        { "version",  no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    enum view view = SUMMARY;
    const char *svg_out = NULL;
    int top = 10, c;

    /* ':' first: a missing value is told apart from an unknown option, in
     * our own one-line messages. */
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        enum view asked;
        switch (c) {
        case 'j': asked = JSON;     break;
        case 'f': asked = FOLDED;   break;
        case 'l': asked = TIMELINE; break;
        case 'S': asked = SITES;    break;
        case 's': asked = SVG;      svg_out = optarg; break;
        case 'd': asked = DIFF;     break;
        case 'p': asked = PROM;     break;
        case 'L': asked = LIST;     break;
        case 't':
            if (parse_top(optarg, &top) < 0) {
                fprintf(stderr, PROG ": --top wants a positive whole number, not '%s'\n", optarg);
                return 2;
            }
            continue;
        case 'h':
            help(stdout);
            return 0;
        case 'V':
            printf(PROG " %s\n", MEMKIT_VERSION);
            return 0;
        case ':':
            fprintf(stderr, PROG ": %s needs a value\n", argv[optind - 1]);
            usage_error();
            return 2;
        default:
            fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]);
            usage_error();
            return 2;
        }
        if (view != SUMMARY && view != asked) {
            fprintf(stderr, PROG ": %s and %s are different outputs; choose one\n",
                    view_flag[view], view_flag[asked]);
            return 2;
        }
        view = asked;
    }
    if (svg_out && !*svg_out) {
        fprintf(stderr, PROG ": --svg needs a file name (or - for stdout)\n");
        return 2;
    }

    int given = argc - optind;
    switch (view) {
    case LIST:
        if (given > 0) {
            fprintf(stderr, PROG ": --list lists the current folder and takes no report "
                    "('%s')\n", argv[optind]);
            usage_error();
            return 2;
        }
        return run_list();   /* many reports, one at a time: freed as it goes */
    case DIFF:
        if (given != 2) {
            fprintf(stderr, PROG ": --diff compares two reports, OLD and NEW (%d given)\n",
                    given);
            usage_error();
            return 2;
        }
        mkt_parse_arena_use();
        return run_diff(argv[optind], argv[optind + 1], top);
    default:
        if (given > 1) {
            fprintf(stderr, PROG ": one report at a time ('%s' is one too many)\n",
                    argv[optind + 1]);
            usage_error();
            return 2;
        }
        mkt_parse_arena_use();
        return run_one(view, argv[optind], svg_out, top);
    }
}
