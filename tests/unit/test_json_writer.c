/* test_json_writer.c — what mk_json writes, jansson reads back. */
#include "json_writer.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

static json_t *parse(struct mk_json *j)
{
    cr_assert_eq(j->failed, 0);
    json_error_t err;
    json_t *doc = json_loadb(j->buf, j->len, 0, &err);
    cr_assert_not_null(doc, "not JSON: %s\n%.*s", err.text, (int)j->len, j->buf);
    return doc;
}

Test(json_writer, nested_values_round_trip)
{
    struct mk_json j;
    mk_json_init(&j);
    mk_json_object_begin(&j);
    mk_json_key(&j, "n");
    mk_json_u64(&j, INT64_MAX);   /* jansson's integers are signed */
    mk_json_key(&j, "neg");
    mk_json_i64(&j, -42);
    mk_json_key(&j, "d");
    mk_json_double(&j, 1.25, 3);
    mk_json_key(&j, "nan");
    mk_json_double(&j, 0.0 / 0.0, 3);
    mk_json_key(&j, "empty");
    mk_json_array_begin(&j);
    mk_json_array_end(&j);
    mk_json_key(&j, "list");
    mk_json_array_begin(&j);
    mk_json_bool(&j, 1);
    mk_json_null(&j);
    mk_json_object_begin(&j);
    mk_json_key(&j, "inner");
    mk_json_string(&j, "x");
    mk_json_object_end(&j);
    mk_json_array_end(&j);
    mk_json_object_end(&j);

    json_t *doc = parse(&j);
    cr_assert_eq(json_integer_value(json_object_get(doc, "n")), INT64_MAX);
    cr_assert_eq(json_integer_value(json_object_get(doc, "neg")), -42);
    cr_assert_float_eq(json_real_value(json_object_get(doc, "d")), 1.25, 1e-9);
    cr_assert(json_is_null(json_object_get(doc, "nan")));
    cr_assert_eq(json_array_size(json_object_get(doc, "empty")), 0);
    json_t *list = json_object_get(doc, "list");
    cr_assert(json_is_true(json_array_get(list, 0)));
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 2), "inner")), "x");
    json_decref(doc);
    mk_json_release(&j);
}

Test(json_writer, strings_are_escaped_and_made_valid_utf8)
{
    /* Quotes, backslashes, control characters, valid UTF-8, a stray byte,
     * an overlong encoding and a truncated sequence. */
    const char raw[] = "q\"b\\n\n\t\x01 \xc3\xa9 \xe2\x82\xac \xff \xc0\xaf \xe2\x82";
    struct mk_json j;
    mk_json_init(&j);
    mk_json_array_begin(&j);
    mk_json_string_n(&j, raw, sizeof raw - 1);
    mk_json_array_end(&j);
    json_t *doc = parse(&j);
    const char *s = json_string_value(json_array_get(doc, 0));
    cr_assert_str_eq(s, "q\"b\\n\n\t\x01 \xc3\xa9 \xe2\x82\xac \xef\xbf\xbd "
                        "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd");
    json_decref(doc);
    mk_json_release(&j);
}

Test(json_writer, grows_past_its_first_buffer)
{
    struct mk_json j;
    mk_json_init(&j);
    mk_json_array_begin(&j);
    for (int i = 0; i < 100000; i++)
        mk_json_u64(&j, (uint64_t)i);
    mk_json_array_end(&j);
    json_t *doc = parse(&j);
    cr_assert_eq(json_array_size(doc), 100000);
    cr_assert_eq(json_integer_value(json_array_get(doc, 99999)), 99999);
    json_decref(doc);
    mk_json_release(&j);
}

Test(json_writer, unbalanced_use_is_flagged)
{
    struct mk_json j;
    mk_json_init(&j);
    mk_json_object_end(&j);
    cr_assert_eq(j.failed, 1);
    mk_json_release(&j);
}
