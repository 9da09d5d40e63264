/* options_parse.c — the option table and the parsers of every value form.
 *
 * Pure: no globals written, no environment, no allocation, no stdio. The
 * shim calls these before anything else is set up, and the tools and unit
 * tests link them too. */
#include "options.h"
#include "log.h"

#include <stdint.h>
#include <string.h>

const struct mk_option_info mk_options[MK_OPT_COUNT] = {
#define MK_OPTION(id, name, type, def, help) [id] = { name, type, def, help },
#include "options.def"
#undef MK_OPTION
};

/* ---- small helpers ------------------------------------------------------ */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* The value without its leading and trailing blanks, as [*b, *e). */
static void trim(const char *s, const char **b, const char **e)
{
    while (is_blank(*s))
        s++;
    const char *end = s + strlen(s);
    while (end > s && is_blank(end[-1]))
        end--;
    *b = s;
    *e = end;
}

/* Case-insensitive: does [b, e) spell word exactly? */
static int spells(const char *b, const char *e, const char *word)
{
    size_t n = (size_t)(e - b);
    if (strlen(word) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(b[i]) != word[i])
            return 0;
    return 1;
}

/* A decimal number with an optional fraction, as a whole part and a
 * fraction scaled to 10^9 (enough for "1.5G" and "12.5%"). Advances *p.
 * -1 when there is no digit or the whole part overflows. */
static int read_decimal(const char **p, const char *e, uint64_t *whole, uint64_t *frac_e9)
{
    const char *s = *p;
    uint64_t w = 0, f = 0, scale = 100000000;
    int digits = 0;
    while (s < e && is_digit(*s)) {
        uint64_t d = (uint64_t)(*s - '0');
        if (w > (UINT64_MAX - d) / 10)
            return -1;
        w = w * 10 + d;
        s++;
        digits++;
    }
    if (s < e && *s == '.') {
        s++;
        while (s < e && is_digit(*s)) {
            f += (uint64_t)(*s - '0') * scale;
            scale /= 10;
            s++;
            digits++;
        }
    }
    if (!digits)
        return -1;
    *whole = w;
    *frac_e9 = f;
    *p = s;
    return 0;
}

/* whole.frac × unit, or -1 on overflow. */
static int scale_by(uint64_t whole, uint64_t frac_e9, uint64_t unit, uint64_t *out)
{
    if (unit && whole > UINT64_MAX / unit)
        return -1;
    uint64_t v = whole * unit;
    /* frac_e9 < 1e9; split the unit so the product cannot overflow. */
    uint64_t add = (unit / 1000000000u) * frac_e9 +
                   ((unit % 1000000000u) * frac_e9) / 1000000000u;
    if (v > UINT64_MAX - add)
        return -1;
    *out = v + add;
    return 0;
}

/* ---- amounts: a number and a unit ---------------------------------------- */

/* What sizes and durations share: "off" or "none" (stores 0 in *off and
 * returns 1), or a decimal number then an optional unit, the unit's text
 * left in [*unit, *end) (returns 0); -1 for anything else. */
static int read_amount(const char *s, uint64_t *off, uint64_t *whole, uint64_t *frac,
                       const char **unit, const char **end)
{
    const char *b, *e;
    trim(s, &b, &e);
    if (spells(b, e, "off") || spells(b, e, "none")) {
        *off = 0;
        return 1;
    }
    if (read_decimal(&b, e, whole, frac) < 0)
        return -1;
    while (b < e && is_blank(*b))
        b++;
    *unit = b;
    *end = e;
    return 0;
}

/* ---- sizes -------------------------------------------------------------- */

/* 4096, 64K, 64k, 64KB, 64KiB, 500M, 1.5G, 1T; units are powers of 1024
 * (as for every memory figure on Linux). "off" is 0. */
int mk_parse_size(const char *s, uint64_t *bytes)
{
    const char *b, *e;
    uint64_t whole, frac;
    int kind = read_amount(s, bytes, &whole, &frac, &b, &e);
    if (kind != 0)
        return kind > 0 ? 0 : -1;
    uint64_t unit = 1;
    if (b < e) {
        switch (lower(*b)) {
        case 'b': unit = 1; break;
        case 'k': unit = 1ull << 10; break;
        case 'm': unit = 1ull << 20; break;
        case 'g': unit = 1ull << 30; break;
        case 't': unit = 1ull << 40; break;
        default: return -1;
        }
        const char *u = b + 1;
        if (lower(*b) != 'b' && !(u == e || spells(u, e, "b") || spells(u, e, "ib")))
            return -1;
        if (lower(*b) == 'b' && u != e)
            return -1;
    }
    if (frac && unit == 1)
        return -1;   /* "1.5" bytes means nothing */
    return scale_by(whole, frac, unit, bytes);
}

/* ---- counts -------------------------------------------------------------- */

/* A whole number in decimal: 0, 32, 1000; no unit, no fraction, no sign. */
int mk_parse_count(const char *s, uint64_t *n)
{
    const char *b, *e;
    uint64_t whole, frac;
    trim(s, &b, &e);
    if (read_decimal(&b, e, &whole, &frac) < 0 || frac || b != e || b[-1] == '.')
        return -1;
    *n = whole;
    return 0;
}

/* ---- durations ---------------------------------------------------------- */

/* 500ms, 60 (seconds), 60s, 1.5s, 5m, 1h, 2d, 250us; "off" is 0. */
int mk_parse_duration(const char *s, uint64_t *ns)
{
    const char *b, *e;
    uint64_t whole, frac;
    int kind = read_amount(s, ns, &whole, &frac, &b, &e);
    if (kind != 0)
        return kind > 0 ? 0 : -1;
    uint64_t unit;
    if (b == e || spells(b, e, "s") || spells(b, e, "sec"))
        unit = 1000000000ull;
    else if (spells(b, e, "ms"))
        unit = 1000000ull;
    else if (spells(b, e, "us"))
        unit = 1000ull;
    else if (spells(b, e, "ns"))
        unit = 1ull;
    else if (spells(b, e, "m") || spells(b, e, "min"))
        unit = 60ull * 1000000000ull;
    else if (spells(b, e, "h"))
        unit = 3600ull * 1000000000ull;
    else if (spells(b, e, "d"))
        unit = 86400ull * 1000000000ull;
    else
        return -1;
    return scale_by(whole, frac, unit, ns);
}

/* ---- booleans, percentages, levels --------------------------------------- */

int mk_parse_bool(const char *s, uint64_t *v)
{
    const char *b, *e;
    trim(s, &b, &e);
    static const char *const yes[] = { "1", "on", "yes", "true" };
    static const char *const no[] = { "0", "off", "no", "false" };
    for (size_t i = 0; i < 4; i++) {
        if (spells(b, e, yes[i])) { *v = 1; return 0; }
        if (spells(b, e, no[i]))  { *v = 0; return 0; }
    }
    return -1;
}

/* 25, 25%, 12.5%: stored in hundredths of a percent, 0..100%. */
int mk_parse_percent(const char *s, uint64_t *hundredths)
{
    const char *b, *e;
    trim(s, &b, &e);
    uint64_t whole, frac;
    if (read_decimal(&b, e, &whole, &frac) < 0)
        return -1;
    if (b < e && *b == '%')
        b++;
    if (b != e || whole > 100 || (whole == 100 && frac))
        return -1;
    *hundredths = whole * 100 + frac / 10000000u;
    return 0;
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int mk_parse_level(const char *s, uint64_t *level)
{
    const char *b, *e;
    trim(s, &b, &e);
    for (uint64_t i = 0; i < sizeof level_names / sizeof *level_names; i++) {
        if (spells(b, e, level_names[i])) {
            *level = i;
            return 0;
        }
    }
    if (spells(b, e, "warning")) {
        *level = MK_LOG_WARN;
        return 0;
    }
    return -1;
}

/* ---- lists, strings, paths ---------------------------------------------- */

/* "a, b,,c " -> "a,b,c". Names are letters, digits, '_', '.', ':', '-'
 * (C and C++ symbols as written); "none" or "" is the empty list. */
int mk_parse_list(const char *s, char *out, size_t len)
{
    const char *b, *e;
    trim(s, &b, &e);
    if (spells(b, e, "none")) {
        if (!len)
            return -1;
        out[0] = '\0';
        return 0;
    }
    char tmp[MK_OPT_TEXT_MAX];
    size_t n = 0;
    int need_comma = 0;
    for (const char *p = b; p < e;) {
        while (p < e && (is_blank(*p) || *p == ','))
            p++;
        const char *w = p;
        while (p < e && *p != ',' && !is_blank(*p))
            p++;
        if (w == p)
            break;
        for (const char *c = w; c < p; c++) {
            char ch = *c;
            int ok = is_digit(ch) || (lower(ch) >= 'a' && lower(ch) <= 'z') ||
                     ch == '_' || ch == '.' || ch == ':' || ch == '-' || ch == '~';
            if (!ok)
                return -1;
        }
        /* A word followed by blanks must be followed by a comma or the end. */
        const char *q = p;
        while (q < e && is_blank(*q))
            q++;
        if (q < e && *q != ',')
            return -1;
        size_t wl = (size_t)(p - w);
        if (n + need_comma + wl + 1 > sizeof tmp)
            return -1;
        if (need_comma)
            tmp[n++] = ',';
        memcpy(tmp + n, w, wl);
        n += wl;
        need_comma = 1;
    }
    /* "none," names nothing either: its canonical text would read back as
     * the empty list, so it is the empty list. */
    if (spells(tmp, tmp + n, "none"))
        n = 0;
    if (n + 1 > len)
        return -1;
    memcpy(out, tmp, n);
    out[n] = '\0';
    return 0;
}

static int copy_text(const char *b, const char *e, char *out, size_t len)
{
    size_t n = (size_t)(e - b);
    if (n + 1 > len)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)b[i] < 0x20 || b[i] == 0x7f)
            return -1;   /* control characters never belong in a value */
    memcpy(out, b, n);
    out[n] = '\0';
    return 0;
}

/* A report path template: non-empty, only %p %e %t %% as conversions;
 * "off" (any case) is kept as "off". */
int mk_parse_path_template(const char *s, char *out, size_t len)
{
    static const char off[] = "off";
    const char *b, *e;
    trim(s, &b, &e);
    if (b == e)
        return -1;
    if (spells(b, e, "off") || spells(b, e, "none") || spells(b, e, "0"))
        return copy_text(off, off + 3, out, len);
    for (const char *p = b; p < e; p++) {
        if (*p != '%')
            continue;
        if (p + 1 == e || !strchr("pet%", p[1]))
            return -1;
        p++;
    }
    if (e[-1] == '/')
        return -1;   /* a folder, not a file */
    return copy_text(b, e, out, len);
}

/* ---- by type -------------------------------------------------------------- */

int mk_parse_value(enum mk_opt_type type, const char *s, struct mk_opt_value *out)
{
    struct mk_opt_value v = { 0, "" };
    const char *b, *e;
    int rc = -1;
    switch (type) {
    case MK_TYPE_SIZE:     rc = mk_parse_size(s, &v.num); break;
    case MK_TYPE_DURATION: rc = mk_parse_duration(s, &v.num); break;
    case MK_TYPE_BOOL:     rc = mk_parse_bool(s, &v.num); break;
    case MK_TYPE_PERCENT:  rc = mk_parse_percent(s, &v.num); break;
    case MK_TYPE_LEVEL:    rc = mk_parse_level(s, &v.num); break;
    case MK_TYPE_COUNT:    rc = mk_parse_count(s, &v.num); break;
    case MK_TYPE_LIST:     rc = mk_parse_list(s, v.text, sizeof v.text); break;
    case MK_TYPE_PATH:
        rc = mk_parse_path_template(s, v.text, sizeof v.text);
        v.num = strcmp(v.text, "off") != 0;   /* on: one load tells */
        break;
    case MK_TYPE_STRING:
        trim(s, &b, &e);
        rc = copy_text(b, e, v.text, sizeof v.text);
        break;
    }
    if (rc < 0)
        return -1;
    mk_format_value(type, &v);
    *out = v;
    return 0;
}

/* ---- canonical text ------------------------------------------------------ */

/* Writes n in decimal at out; returns the length. */
static size_t put_u64(char *out, uint64_t n)
{
    char tmp[24];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    for (size_t i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    out[k] = '\0';
    return k;
}

/* The largest unit that divides v exactly, so "500M" reads back as 500M. */
static void put_scaled(char *out, uint64_t v, const uint64_t *units,
                       const char *const *names, size_t count)
{
    for (size_t i = count; i-- > 0;) {
        if (v >= units[i] && v % units[i] == 0) {
            size_t k = put_u64(out, v / units[i]);
            strcpy(out + k, names[i]);
            return;
        }
    }
    put_u64(out, v);
}

void mk_format_value(enum mk_opt_type type, struct mk_opt_value *v)
{
    static const uint64_t size_units[] = { 1, 1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40 };
    static const char *const size_names[] = { "", "K", "M", "G", "T" };
    static const uint64_t dur_units[] = { 1, 1000, 1000000, 1000000000ull,
                                          60000000000ull, 3600000000000ull };
    static const char *const dur_names[] = { "ns", "us", "ms", "s", "m", "h" };
    switch (type) {
    case MK_TYPE_SIZE:
        if (!v->num)
            strcpy(v->text, "0");
        else
            put_scaled(v->text, v->num, size_units, size_names, 5);
        break;
    case MK_TYPE_DURATION:
        if (!v->num)
            strcpy(v->text, "0");
        else
            put_scaled(v->text, v->num, dur_units, dur_names, 6);
        break;
    case MK_TYPE_BOOL:
        strcpy(v->text, v->num ? "1" : "0");
        break;
    case MK_TYPE_PERCENT: {
        size_t k = put_u64(v->text, v->num / 100);
        if (v->num % 100) {
            v->text[k++] = '.';
            v->text[k++] = (char)('0' + v->num % 100 / 10);
            if (v->num % 10)
                v->text[k++] = (char)('0' + v->num % 10);
        }
        v->text[k++] = '%';
        v->text[k] = '\0';
        break;
    }
    case MK_TYPE_LEVEL:
        strcpy(v->text, v->num < 4 ? level_names[v->num] : "warn");
        break;
    case MK_TYPE_COUNT:
        put_u64(v->text, v->num);
        break;
    case MK_TYPE_LIST:
    case MK_TYPE_STRING:
    case MK_TYPE_PATH:
        break;   /* the text is the value */
    }
}

const char *mk_type_expectation(enum mk_opt_type type)
{
    switch (type) {
    case MK_TYPE_SIZE:     return "a size (e.g. 4096, 64K, 500M, 1G; 0 for off)";
    case MK_TYPE_DURATION: return "a duration (e.g. 500ms, 60s, 5m, 1h; 0 for off)";
    case MK_TYPE_BOOL:     return "a boolean (1/0, on/off, yes/no, true/false)";
    case MK_TYPE_PERCENT:  return "a percentage (e.g. 25%, 12.5)";
    case MK_TYPE_LEVEL:    return "a level (error, warn, info, debug)";
    case MK_TYPE_COUNT:    return "a whole number (e.g. 32)";
    case MK_TYPE_LIST:     return "a comma-separated list of names";
    case MK_TYPE_STRING:   return "text without control characters";
    case MK_TYPE_PATH:     return "a file path (%p pid, %e program, %t start time, %% percent; off for none)";
    }
    return "a value";
}

int mk_option_find(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < MK_OPT_COUNT; i++)
        if (strcmp(mk_options[i].name, name) == 0)
            return i;
    return -1;
}
