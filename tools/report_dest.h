/* report_dest.h — where the reports of a `memkit run` tree go.
 *
 * Every process of the tree gets the same MEMKIT_REPORT, an absolute
 * template, so all reports land in one folder whatever folder a process
 * starts in. The rule for a path the user gives (with --report, --env
 * MEMKIT_REPORT=, or an inherited MEMKIT_REPORT):
 *   - with a % conversion in the file name (memkit.%e.%p.json, out.%p.json):
 *     the template for every process;
 *   - without one (out.json): the report of the process memkit started;
 *     the other processes of the tree write memkit.%e.%p.json beside it,
 *     so none overwrites another.
 * Conversions belong in the file name only: the folder must be one. */
#ifndef MKT_REPORT_DEST_H
#define MKT_REPORT_DEST_H

#include <limits.h>
#include <stddef.h>

struct mkt_report_dest {
    int  off;                  /* "off": no process writes a report */
    char tmpl[PATH_MAX];       /* MEMKIT_REPORT for every process */
    char dir[PATH_MAX];        /* the folder they are written in (no % escapes) */
    char pattern[PATH_MAX];    /* fnmatch pattern of their file names */
    char root_path[PATH_MAX];  /* non-empty: move the root's report here */
};

/* spec: the path asked for, relative to the current folder; NULL for the
 * default memkit.%e.%p.json. 0, or -1 with a one-line reason in why. */
int mkt_report_dest(const char *spec, struct mkt_report_dest *d, char *why, size_t len);

#endif
