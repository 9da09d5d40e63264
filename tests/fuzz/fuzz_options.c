/* fuzz_options.c — libFuzzer target: every MEMKIT_* value form.
 *
 * The input, cut at its first NUL, is parsed as each type in turn. What
 * must hold for any input (a failure aborts, which libFuzzer reports):
 *  - a failed parse leaves the output untouched (the header's contract);
 *  - a parsed value's canonical text is NUL-terminated inside its buffer
 *    and reads back as the same value (numbers) or the same text;
 *  - every type-specific parser agrees with mk_parse_value;
 *  - mk_parse_list and mk_parse_path_template never write past the length
 *    they are given (an exact-size heap buffer, so ASan sees one byte over). */
#include "options.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum mk_opt_type types[] = {
    MK_TYPE_SIZE, MK_TYPE_DURATION, MK_TYPE_BOOL, MK_TYPE_PERCENT, MK_TYPE_LEVEL,
    MK_TYPE_LIST, MK_TYPE_STRING, MK_TYPE_PATH, MK_TYPE_COUNT,
};

#define CHECK(cond) do { if (!(cond)) { \
        fprintf(stderr, "fuzz_options: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        abort(); } } while (0)

static int text_type(enum mk_opt_type t)
{
    return t == MK_TYPE_LIST || t == MK_TYPE_STRING || t == MK_TYPE_PATH;
}

/* The numeric parser of a type, or NULL for the text types. */
static int (*numeric_parser(enum mk_opt_type t))(const char *, uint64_t *)
{
    switch (t) {
    case MK_TYPE_SIZE:     return mk_parse_size;
    case MK_TYPE_DURATION: return mk_parse_duration;
    case MK_TYPE_BOOL:     return mk_parse_bool;
    case MK_TYPE_PERCENT:  return mk_parse_percent;
    case MK_TYPE_LEVEL:    return mk_parse_level;
    case MK_TYPE_COUNT:    return mk_parse_count;
    default:               return NULL;
    }
}

static void one_type(enum mk_opt_type t, const char *s)
{
    struct mk_opt_value v, again;
    memset(&v, 0xa5, sizeof v);
    struct mk_opt_value before = v;
    if (mk_parse_value(t, s, &v) < 0) {
        CHECK(memcmp(&v, &before, sizeof v) == 0);
        int (*p)(const char *, uint64_t *) = numeric_parser(t);
        if (p) {
            uint64_t n = 0x5a5a;
            CHECK(p(s, &n) < 0 && n == 0x5a5a);
        }
        return;
    }
    CHECK(memchr(v.text, '\0', sizeof v.text) != NULL);
    CHECK(mk_parse_value(t, v.text, &again) == 0);
    CHECK(strcmp(again.text, v.text) == 0);
    if (!text_type(t)) {
        CHECK(again.num == v.num);
        uint64_t n = 0;
        CHECK(numeric_parser(t)(s, &n) == 0 && n == v.num);
    }
    if (t == MK_TYPE_BOOL)
        CHECK(v.num <= 1);
    if (t == MK_TYPE_PERCENT)
        CHECK(v.num <= 10000);
    if (t == MK_TYPE_LEVEL)
        CHECK(v.num <= 3);
}

/* The writers that take a length: exact-size buffers of every length up
 * to a little past what the value needs. */
static void bounded(const char *s)
{
    size_t n = strlen(s);
    size_t top = n + 2 < 64 ? n + 2 : 64;
    for (size_t len = 0; len <= top; len++) {
        char *out = malloc(len ? len : 1);
        if (!out)
            return;
        if (mk_parse_list(s, out, len) == 0)
            CHECK(len > 0 && memchr(out, '\0', len) != NULL);
        if (mk_parse_path_template(s, out, len) == 0)
            CHECK(len > 0 && memchr(out, '\0', len) != NULL);
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        one_type(types[i], s);
    bounded(s);
    int id = mk_option_find(s);
    CHECK(id == -1 || (id >= 0 && id < MK_OPT_COUNT && strcmp(mk_options[id].name, s) == 0));
    free(s);
    return 0;
}
