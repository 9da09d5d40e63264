/* report_get.c — fields of a parsed report by dotted path. */
#include "report_get.h"

#include <string.h>

json_t *mkt_at(const json_t *doc, const char *dotted)
{
    json_t *cur = (json_t *)doc;
    const char *p = dotted;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur))
            return NULL;
        cur = json_object_getn(cur, p, n);
        p += n + (dot != NULL);
    }
    return cur;
}

int mkt_u64(const json_t *doc, const char *dotted, uint64_t *out)
{
    json_t *v = mkt_at(doc, dotted);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int mkt_num(const json_t *doc, const char *dotted, double *out)
{
    json_t *v = mkt_at(doc, dotted);
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 0;
}

const char *mkt_str(const json_t *doc, const char *dotted)
{
    json_t *v = mkt_at(doc, dotted);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void mkt_json_free(void *p)
{
    json_malloc_t take;
    json_free_t give_back;
    json_get_alloc_funcs(&take, &give_back);
    give_back(p);
}
