/* report_sites.h — the sampled call sites of a report as text: the top
 * sites by bytes, by calls, live at exit and live at peak; the bytes under
 * each MEMKIT_PROBE_FUNCS function; and folded stacks for flame graphs. */
#ifndef MKT_REPORT_SITES_H
#define MKT_REPORT_SITES_H

#include <jansson.h>
#include <stdio.h>

/* The four top-N tables, each site with three callers, and the probe
 * functions (nothing when the report has no sites): memkit-report --sites. */
void mkt_sites_print(FILE *out, const json_t *report, int top);

/* For the one-screen summary: the top sites by bytes and the leak
 * suspects, one line of at most 100 columns each, and the probe functions. */
void mkt_sites_summary(FILE *out, const json_t *report, int top);

/* One line per site: "root;...;leaf BYTES" (estimated bytes allocated),
 * identical stacks merged. Returns the number of lines. */
size_t mkt_sites_folded(FILE *out, const json_t *report);

#endif
