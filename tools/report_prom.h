/* report_prom.h — a report's figures as OpenMetrics text (the metrics of
 * docs/metrics.md), for node_exporter's textfile collector. Every sample
 * carries the labels program and pid, so that the files of several
 * processes can share one folder. */
#ifndef MKT_REPORT_PROM_H
#define MKT_REPORT_PROM_H

#include <jansson.h>
#include <stdio.h>

/* The metrics of one checked report (report_load.h), ending "# EOF". */
void mkt_prom_print(FILE *out, const json_t *report);

#endif
