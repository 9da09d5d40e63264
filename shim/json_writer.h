/* json_writer.h — builds JSON text in memory memkit maps itself (never the
 * program's heap), for the report. Commas and indentation are automatic;
 * strings are escaped and made valid UTF-8 (argv may hold any bytes).
 *
 * A failure to grow the buffer sets `failed`, and every later call does
 * nothing: the caller checks once at the end. */
#ifndef MK_JSON_WRITER_H
#define MK_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define MK_JSON_MAX_DEPTH 32

struct mk_json {
    char    *buf;
    size_t   len, cap;
    int      failed;
    int      depth;
    uint8_t  has_items[MK_JSON_MAX_DEPTH];  /* per level: a comma is due */
    int      after_key;                     /* a value completes "key": */
};

void mk_json_init(struct mk_json *j);
void mk_json_release(struct mk_json *j);

void mk_json_object_begin(struct mk_json *j);
void mk_json_object_end(struct mk_json *j);
void mk_json_array_begin(struct mk_json *j);
void mk_json_array_end(struct mk_json *j);
void mk_json_key(struct mk_json *j, const char *key);

void mk_json_string(struct mk_json *j, const char *s);
void mk_json_string_n(struct mk_json *j, const char *s, size_t n);
void mk_json_u64(struct mk_json *j, uint64_t v);
void mk_json_i64(struct mk_json *j, int64_t v);
/* Fixed-point with `decimals` digits; NaN and infinities become null. */
void mk_json_double(struct mk_json *j, double v, int decimals);
/* "key": v, and "key": ns as seconds (6 decimals): the report's usual fields. */
void mk_json_field_u64(struct mk_json *j, const char *key, uint64_t v);
void mk_json_field_seconds(struct mk_json *j, const char *key, uint64_t ns);
void mk_json_bool(struct mk_json *j, int v);
void mk_json_null(struct mk_json *j);

#endif
