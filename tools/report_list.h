/* report_list.h — the reports of a folder, newest first, one line each:
 * file, program, pid, start, duration, heap and RSS peaks, kind; or why a
 * file cannot be read. */
#ifndef MKT_REPORT_LIST_H
#define MKT_REPORT_LIST_H

#include <stdio.h>

/* Lists the memkit.*.json files of dir, newest modification time first
 * (ties: the greatest name first, as report_find.h picks the newest).
 * Returns the number of files listed, or -1 with errno when dir cannot be
 * read. An empty folder prints nothing. */
long mkt_list_print(FILE *out, const char *dir);

#endif
