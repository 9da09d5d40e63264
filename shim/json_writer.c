/* json_writer.c — see json_writer.h. */
#include "json_writer.h"
#include "fmt.h"
#include "real.h"

#include <string.h>

void mk_json_init(struct mk_json *j)
{
    memset(j, 0, sizeof *j);
}

void mk_json_release(struct mk_json *j)
{
    if (j->buf)
        mk_pages_free(j->buf, j->cap);
    mk_json_init(j);
}

static int reserve(struct mk_json *j, size_t more)
{
    if (j->failed)
        return -1;
    if (j->len + more <= j->cap)
        return 0;
    size_t cap = j->cap ? j->cap : 64 * 1024;
    while (cap < j->len + more)
        cap *= 2;
    char *nb = j->buf ? mk_pages_realloc(j->buf, j->cap, cap) : mk_pages_alloc(cap);
    if (!nb) {
        j->failed = 1;
        return -1;
    }
    j->buf = nb;
    j->cap = cap;
    return 0;
}

static void append(struct mk_json *j, const char *s, size_t n)
{
    if (reserve(j, n) == 0) {
        memcpy(j->buf + j->len, s, n);
        j->len += n;
    }
}

static void newline(struct mk_json *j)
{
    static const char spaces[] = "                                                                ";
    append(j, "\n", 1);
    size_t indent = (size_t)j->depth * 2;
    append(j, spaces, indent < sizeof spaces - 1 ? indent : sizeof spaces - 1);
}

/* Before any value or key: the comma and line break it needs. */
static void before_item(struct mk_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (j->has_items[j->depth - 1])
            append(j, ",", 1);
        j->has_items[j->depth - 1] = 1;
        newline(j);
    }
}

static void open_level(struct mk_json *j, char c)
{
    before_item(j);
    append(j, &c, 1);
    if (j->depth >= MK_JSON_MAX_DEPTH) {
        j->failed = 1;
        return;
    }
    j->has_items[j->depth++] = 0;
}

static void close_level(struct mk_json *j, char c)
{
    if (j->depth <= 0) {
        j->failed = 1;
        return;
    }
    int had = j->has_items[--j->depth];
    if (had)
        newline(j);
    append(j, &c, 1);
}

void mk_json_object_begin(struct mk_json *j) { open_level(j, '{'); }
void mk_json_object_end(struct mk_json *j) { close_level(j, '}'); }
void mk_json_array_begin(struct mk_json *j) { open_level(j, '['); }
void mk_json_array_end(struct mk_json *j) { close_level(j, ']'); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    unsigned min;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) { need = 2; min = 0x80; }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) { need = 3; min = 0x800; }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) { need = 4; min = 0x10000; }
    else return 0;
    if (n < need)
        return 0;
    unsigned cp = s[0] & (0x7f >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

static void write_string(struct mk_json *j, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    append(j, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            append(j, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char esc[8];
            size_t k = mk_snprintf(esc, sizeof esc, "\\u%04x", c);
            append(j, esc, k);
            i++;
        } else if (c < 0x80) {
            append(j, (const char *)&s[i], 1);
            i++;
        } else {
            size_t k = utf8_len(s + i, n - i);
            if (k) {
                append(j, (const char *)&s[i], k);
                i += k;
            } else {
                append(j, "\xef\xbf\xbd", 3);   /* U+FFFD for a stray byte */
                i++;
            }
        }
    }
    append(j, "\"", 1);
}

void mk_json_key(struct mk_json *j, const char *key)
{
    before_item(j);
    write_string(j, key, strlen(key));
    append(j, ": ", 2);
    j->after_key = 1;
}

void mk_json_string_n(struct mk_json *j, const char *s, size_t n)
{
    before_item(j);
    write_string(j, s, n);
}

void mk_json_string(struct mk_json *j, const char *s)
{
    mk_json_string_n(j, s ? s : "", s ? strlen(s) : 0);
}

void mk_json_u64(struct mk_json *j, uint64_t v)
{
    char tmp[24];
    before_item(j);
    append(j, tmp, mk_snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v));
}

void mk_json_i64(struct mk_json *j, int64_t v)
{
    char tmp[24];
    before_item(j);
    append(j, tmp, mk_snprintf(tmp, sizeof tmp, "%lld", (long long)v));
}

void mk_json_double(struct mk_json *j, double v, int decimals)
{
    if (v != v || v > 1e18 || v < -1e18) {
        mk_json_null(j);
        return;
    }
    char tmp[48];
    before_item(j);
    append(j, tmp, mk_snprintf(tmp, sizeof tmp, "%.*f", decimals, v));
}

void mk_json_bool(struct mk_json *j, int v)
{
    before_item(j);
    append(j, v ? "true" : "false", v ? 4 : 5);
}

void mk_json_null(struct mk_json *j)
{
    before_item(j);
    append(j, "null", 4);
}

void mk_json_field_u64(struct mk_json *j, const char *key, uint64_t v)
{
    mk_json_key(j, key);
    mk_json_u64(j, v);
}

void mk_json_field_seconds(struct mk_json *j, const char *key, uint64_t ns)
{
    mk_json_key(j, key);
    mk_json_double(j, (double)ns / 1e9, 6);
}
