/* report_svg.h — one self-contained SVG of a report: a heading, the
 * timeline chart (svg_timeline.h) and the flame graph of allocated bytes
 * with the top call sites (svg_flame.h). No scripts, fonts or links: a
 * browser shows it from a file, tooltips included. */
#ifndef MKT_REPORT_SVG_H
#define MKT_REPORT_SVG_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#define MKT_SVG_WIDTH 1200

/* The document for a checked report (report_load.h); report_path is named
 * in the heading, top is how many call sites the list under the graph
 * shows. */
void mkt_svg_print(FILE *out, const json_t *report, const char *report_path, int top);

/* The document into the file out_path, whole or not at all (a temporary
 * file beside it, then rename); "-" writes to stdout. 0, or -1 with the
 * reason in why. */
int mkt_svg_write(const char *out_path, const json_t *report, const char *report_path, int top,
                  char *why, size_t len);

#endif
