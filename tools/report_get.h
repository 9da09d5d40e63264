/* report_get.h — read fields of a parsed report by dotted path
 * ("totals.alloc_calls"), tolerating absent or mistyped optional fields:
 * the format grows, and readers ignore what they cannot use. */
#ifndef MKT_REPORT_GET_H
#define MKT_REPORT_GET_H

#include <jansson.h>
#include <stdint.h>

/* The value at the path, or NULL when a step is missing or not an object. */
json_t *mkt_at(const json_t *doc, const char *dotted);
/* 0 and *out set when the value is a non-negative integer; -1 otherwise. */
int mkt_u64(const json_t *doc, const char *dotted, uint64_t *out);
/* 0 and *out set when the value is a number (integer or real); -1 otherwise. */
int mkt_num(const json_t *doc, const char *dotted, double *out);
/* The string, or NULL when absent or not a string. */
const char *mkt_str(const json_t *doc, const char *dotted);
/* Frees what jansson allocated for the caller (json_dumps' text) with the
 * free function jansson uses now (memkit-report gives it its own:
 * parse_arena.h). */
void mkt_json_free(void *p);

#endif
