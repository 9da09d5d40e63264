/* report_timeline.h — the report's "timeline" (docs/report-format.md) as
 * text: a table of at most about 24 rows for `memkit-report --timeline`,
 * and one line for the summary. Both take a checked report (report_load.h). */
#ifndef MKT_REPORT_TIMELINE_H
#define MKT_REPORT_TIMELINE_H

#include <jansson.h>
#include <stdio.h>

#define MKT_TIMELINE_ROWS 24   /* rows of the table, unless events need more */

/* The table: time, heap, maps, RSS, a bar of RSS scaled to its largest,
 * and the event (a compaction's begin and end merged into one row). A
 * report without points gets one line saying so. Lines fit 100 columns. */
void mkt_timeline_print(FILE *out, const json_t *report);

/* The summary's "timeline" line (points, RSS first -> peak -> last),
 * within width columns; nothing when the report has no points. */
void mkt_timeline_summary_line(FILE *out, const json_t *report, int label_width, int width);

#endif
