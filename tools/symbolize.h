/* symbolize.h — frames of a report (module index + offset) turned into
 * function names and file:line with elfutils libdw, offline: each module
 * is opened from the path the report names, at address 0, so a frame's
 * offset (an ELF virtual address) is what libdw is asked about. A module
 * whose file is gone or whose build id differs from the report's is not
 * trusted; its frames stay "module+0xOFF". */
#ifndef MKT_SYMBOLIZE_H
#define MKT_SYMBOLIZE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct mkt_symbolizer;

struct mkt_frame_info {
    char func[256];      /* "big_blocks", or "libc.so.6+0x2a1ca" when unknown */
    char file[256];      /* source file's last part, or "" */
    int  line;           /* 0 when unknown */
    int  resolved;       /* func is a symbol name */
    char inlined[256];   /* the address is in code of this function inlined
                          * into func (the innermost one), or "" */
};

/* modules is the report's "modules" array (kept referenced). Never NULL
 * except when memory runs out. */
struct mkt_symbolizer *mkt_sym_new(const json_t *modules);
void mkt_sym_free(struct mkt_symbolizer *s);

/* One frame: the report's module index (-1: none) and offset. A frame is a
 * return address, so the call itself is looked up (offset - 1). */
void mkt_sym_frame(struct mkt_symbolizer *s, int64_t module, uint64_t offset,
                   struct mkt_frame_info *out);

/* "func (file:line)", "func", or "module+0xOFF", into buf; code inlined
 * into func reads "inlined (file:line, inlined into func)" (or "inlined
 * (inlined into func)"), file:line being the inlined code's. */
const char *mkt_frame_text(const struct mkt_frame_info *f, char *buf, size_t len);

#endif
