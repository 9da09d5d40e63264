/* memkit-report — read a memkit report and print what happened to memory.
 *
 *   memkit-report [--top N] [REPORT]   summary (newest memkit.*.json here if none)
 *   memkit-report --json [REPORT]      the report, re-indented, to stdout
 *
 * Exit status: 0 done; 2 bad usage, no report, or a file that is not a
 * memkit-report/1 report (one line on stderr says which). */
#include "report_find.h"
#include "report_load.h"
#include "report_summary.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "memkit-report"

#define USAGE \
    "usage: " PROG " [--top N] [REPORT]\n" \
    "       " PROG " --json [REPORT]\n"

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
        "  --json      print the report as indented JSON instead of a summary\n"
        "  --top N     call sites to list (default 10)\n"
        "  --help      this text\n"
        "  --version   the memkit version\n"
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

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "json",    no_argument,       NULL, 'j' },
        { "top",     required_argument, NULL, 't' },
        { "help",    no_argument,       NULL, 'h' },
        { "version", no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int json = 0, c;
    struct mkt_summary_opts opts = { .top = 10 };

    /* ':' first: a missing value is told apart from an unknown option, in
     * our own one-line messages. */
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 't':
            if (parse_top(optarg, &opts.top) < 0) {
                fprintf(stderr, PROG ": --top wants a positive whole number, not '%s'\n", optarg);
                return 2;
            }
            break;
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
    }
    if (argc - optind > 1) {
        fprintf(stderr, PROG ": one report at a time ('%s' is one too many)\n", argv[optind + 1]);
        usage_error();
        return 2;
    }

    char found[PATH_MAX];
    const char *path = argv[optind];
    if (!path) {
        if (mkt_newest_match(".", MKT_DEFAULT_PATTERN, found, sizeof found) < 0) {
            if (errno == ENOENT)
                fprintf(stderr, PROG ": no report (memkit.*.json) in the current folder; "
                        "name one: " PROG " REPORT\n");
            else
                fprintf(stderr, PROG ": cannot read the current folder: %s\n", strerror(errno));
            return 2;
        }
        path = found;
    }

    char why[512];
    json_t *report = mkt_report_load(path, why, sizeof why);
    if (!report) {
        fprintf(stderr, PROG ": %s: %s\n", path, why);
        return 2;
    }
    int rc = 0;
    if (json)
        rc = print_json(report);
    else
        mkt_summary_print(stdout, report, path, &opts);
    json_decref(report);
    if (rc < 0 || fflush(stdout) == EOF || ferror(stdout)) {
        fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(errno));
        return 2;
    }
    return 0;
}
