/* svg_text.c — report text into SVG (see svg_text.h). */
#include "svg_text.h"

#include <stdint.h>
#include <string.h>

/* The length of the valid UTF-8 character XML allows at s, or 0. */
static size_t char_len(const unsigned char *s)
{
    uint32_t c;
    size_t n;
    if (s[0] < 0x80)
        return s[0] >= 0x20 || s[0] == '\t' ? 1 : 0;   /* tab is allowed; newlines would
                                                           fold lines in a title: refused */
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, c = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, c = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, c = s[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
        return 0;
    return n;
}

size_t mkt_svg_chars(const char *s)
{
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = char_len(p);
        p += n ? n : 1;
        chars++;
    }
    return chars;
}

static void put_char(FILE *out, const unsigned char *p, size_t n)
{
    if (n == 0) {
        fputc('?', out);
        return;
    }
    switch (*p) {
    case '&':  fputs("&amp;", out);  return;
    case '<':  fputs("&lt;", out);   return;
    case '>':  fputs("&gt;", out);   return;
    case '"':  fputs("&quot;", out); return;
    case '\'': fputs("&apos;", out); return;
    }
    fwrite(p, 1, n, out);
}

void mkt_svg_put(FILE *out, const char *s, size_t max)
{
    size_t total = mkt_svg_chars(s);
    size_t keep = total <= max ? total : max >= 3 ? max - 3 : 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < keep; i++) {
        size_t n = char_len(p);
        put_char(out, p, n);
        p += n ? n : 1;
    }
    if (total > max)
        fputs(max >= 3 ? "..." : "", out);
}
