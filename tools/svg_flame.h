/* svg_flame.h — the sampled call sites as an SVG flame graph of bytes
 * allocated: an icicle, the root on top and callees below, each
 * rectangle as wide as the bytes allocated under that stack, with a
 * tooltip; then the top call sites as a list. */
#ifndef MKT_SVG_FLAME_H
#define MKT_SVG_FLAME_H

#include <jansson.h>
#include <stdio.h>

struct mkt_flame;

/* The stacks of a checked report merged into a tree (frames named as in
 * frame_names.h). NULL only when memory runs out. */
struct mkt_flame *mkt_flame_build(const json_t *report);
void mkt_flame_free(struct mkt_flame *f);

/* The height the graph and a list of top sites take at width w. */
double mkt_flame_height(const struct mkt_flame *f, double w, int top);

/* Draws them with the top left corner at (x, y). */
void mkt_flame_draw(FILE *out, const struct mkt_flame *f, double x, double y, double w, int top);

#endif
