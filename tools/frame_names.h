/* frame_names.h — the function name of each frame of a report, looked up
 * once per (module, offset) and interned: views that walk every frame of
 * every site (the flame graph, --diff) ask about the same few thousand
 * addresses hundreds of thousands of times, and compare names by pointer.
 *
 * Names are what --folded prints: the symbol, or "module+0xOFF" when the
 * file is gone, stale or stripped (see symbolize.h). */
#ifndef MKT_FRAME_NAMES_H
#define MKT_FRAME_NAMES_H

#include <jansson.h>
#include <stdint.h>

struct mkt_frame_names;

/* modules: the report's "modules" array (kept referenced by the caller).
 * NULL only when memory runs out. */
struct mkt_frame_names *mkt_names_new(const json_t *modules);
void mkt_names_free(struct mkt_frame_names *n);

/* The interned name of one frame: equal names are the same pointer, valid
 * until mkt_names_free. NULL only when memory runs out. */
const char *mkt_names_frame(struct mkt_frame_names *n, int64_t module, uint64_t offset);

/* The name of frame i of a site's "frames" array (module -1 and offset 0
 * stand in for a malformed frame). */
const char *mkt_names_site_frame(struct mkt_frame_names *n, const json_t *frames, size_t i);

/* An arbitrary string interned in the same table ("[other stacks]"). */
const char *mkt_names_intern(struct mkt_frame_names *n, const char *s);

#endif
