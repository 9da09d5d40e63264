/* report_summary.h — a report as text a person reads in ten seconds.
 * Shared by memkit-report and `memkit run`. */
#ifndef MKT_REPORT_SUMMARY_H
#define MKT_REPORT_SUMMARY_H

#include <jansson.h>
#include <stdio.h>

struct mkt_summary_opts {
    int top;   /* call sites to list (--top); the sites section is a count until it has a layout */
};

/* The full summary of one checked report (see report_load.h); path is the
 * file it came from, shown in the first line. */
void mkt_summary_print(FILE *out, const json_t *report, const char *path,
                       const struct mkt_summary_opts *opts);

/* One line for a process of a tree: name, pid, duration, heap peak, alloc
 * calls, file. name_width aligns the columns of several lines. */
void mkt_summary_line(FILE *out, const json_t *report, const char *path, int name_width);

/* The name a report gives its program: process.name, else the last part of
 * process.exe, else of argv[0], else "?". */
const char *mkt_program_name(const json_t *report);

#endif
