/* svg_timeline.h — the report's timeline as an SVG chart: heap, the
 * program's maps and RSS over time, compactions marked, each marker
 * with a tooltip. */
#ifndef MKT_SVG_TIMELINE_H
#define MKT_SVG_TIMELINE_H

#include <jansson.h>
#include <stdio.h>

/* Draws the chart into the box at (x, y), width w, height h (axes and
 * legend inside it). A report without points gets the axes and a line
 * saying so. */
void mkt_svg_timeline(FILE *out, const json_t *report, double x, double y, double w, double h);

#endif
