/* svg_text.h — text from a report (program names, symbols) put into SVG
 * safely: XML-escaped, with what XML 1.0 cannot hold (control characters,
 * bytes that are not UTF-8, U+FFFE and U+FFFF) replaced by '?'. */
#ifndef MKT_SVG_TEXT_H
#define MKT_SVG_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Writes s escaped for element content and attribute values alike; at
 * most max characters, the last three "..." when s is longer. */
void mkt_svg_put(FILE *out, const char *s, size_t max);

/* Characters (not bytes) in s, as mkt_svg_put counts them. */
size_t mkt_svg_chars(const char *s);

#endif
