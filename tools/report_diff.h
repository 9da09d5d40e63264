/* report_diff.h — what changed between two runs: peaks, levels at the
 * end, totals, compactions and pools side by side, each table sorted by
 * the size of the change; then the call sites whose estimated bytes
 * changed most, matched across the runs by their stacks of function
 * names ("module+0xOFF" for frames without a symbol). */
#ifndef MKT_REPORT_DIFF_H
#define MKT_REPORT_DIFF_H

#include <jansson.h>
#include <stdio.h>

/* Both reports checked (report_load.h); top: call sites listed. */
void mkt_diff_print(FILE *out, const json_t *old_report, const char *old_path,
                    const json_t *new_report, const char *new_path, int top);

#endif
