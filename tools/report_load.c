/* report_load.c — read a memkit report with jansson and check it against
 * the fixed part of memkit-report/1 (docs/report-format.md). Fields beyond
 * the fixed ones are optional here: the summary uses them when present. */
#include "report_load.h"
#include "report_get.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum want { W_OBJECT, W_ARRAY, W_STRING, W_UINT, W_NUMBER };

/* The fixed fields, parents before children so the first complaint is
 * about the outermost thing missing. */
static const struct { const char *path; enum want want; } fixed[] = {
    { "process",              W_OBJECT },
    { "process.pid",          W_UINT },
    { "process.exe",          W_STRING },
    { "process.argv",         W_ARRAY },
    { "process.start",        W_STRING },
    { "process.duration_s",   W_NUMBER },
    { "config",               W_OBJECT },
    { "totals",               W_OBJECT },
    { "totals.alloc_calls",   W_UINT },
    { "totals.free_calls",    W_UINT },
    { "totals.alloc_bytes",   W_UINT },
    { "totals.free_bytes",    W_UINT },
    { "totals.mmap_calls",    W_UINT },
    { "totals.munmap_calls",  W_UINT },
    { "totals.mmap_bytes",    W_UINT },
    { "totals.released_bytes", W_UINT },
    { "peak",                 W_OBJECT },
    { "peak.heap_bytes",      W_UINT },
    { "peak.rss_bytes",       W_UINT },
    { "peak.mmap_bytes",      W_UINT },
    { "compactions",          W_ARRAY },
    { "probes",               W_ARRAY },
    { "sites",                W_ARRAY },
    { "modules",              W_ARRAY },
    { "pools",                W_ARRAY },
    { "timeline",             W_ARRAY },
    { "warnings",             W_ARRAY },
};

static const char *want_name(enum want w)
{
    switch (w) {
    case W_OBJECT: return "an object";
    case W_ARRAY:  return "an array";
    case W_STRING: return "a string";
    case W_UINT:   return "a non-negative integer";
    case W_NUMBER: return "a number";
    }
    return "?";
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return "an object";
    case JSON_ARRAY:   return "an array";
    case JSON_STRING:  return "a string";
    case JSON_INTEGER: return json_integer_value(v) < 0 ? "a negative integer" : "an integer";
    case JSON_REAL:    return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:   return "a boolean";
    case JSON_NULL:    return "null";
    }
    return "?";
}

static int fits(const json_t *v, enum want w)
{
    switch (w) {
    case W_OBJECT: return json_is_object(v);
    case W_ARRAY:  return json_is_array(v);
    case W_STRING: return json_is_string(v);
    case W_UINT:   return json_is_integer(v) && json_integer_value(v) >= 0;
    case W_NUMBER: return json_is_number(v);
    }
    return 0;
}

/* The schema value as it appears in the file, shortened: it goes into a
 * one-line message. */
static void quote_value(const json_t *v, char *out, size_t len)
{
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!text) {
        snprintf(out, len, "?");
        return;
    }
    if (strlen(text) > 60)
        snprintf(out, len, "%.57s...", text);
    else
        snprintf(out, len, "%s", text);
    free(text);
}

int mkt_report_check(const json_t *doc, char *why, size_t len)
{
    if (!json_is_object(doc)) {
        snprintf(why, len, "not a memkit report (the JSON is %s, expected an object "
                 "with \"schema\": \"" MKT_SCHEMA "\")", type_name(doc));
        return -1;
    }
    json_t *schema = json_object_get(doc, "schema");
    if (!schema) {
        snprintf(why, len, "not a memkit report (no \"schema\", expected \"" MKT_SCHEMA "\")");
        return -1;
    }
    if (!json_is_string(schema) || strcmp(json_string_value(schema), MKT_SCHEMA) != 0) {
        char shown[64];
        quote_value(schema, shown, sizeof shown);
        snprintf(why, len, "not a memkit report (schema %s, expected \"" MKT_SCHEMA "\")", shown);
        return -1;
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        json_t *v = mkt_at(doc, fixed[i].path);
        if (!v) {
            snprintf(why, len, "incomplete memkit report: \"%s\" is missing", fixed[i].path);
            return -1;
        }
        if (!fits(v, fixed[i].want)) {
            snprintf(why, len, "malformed memkit report: \"%s\" is %s, expected %s",
                     fixed[i].path, type_name(v), want_name(fixed[i].want));
            return -1;
        }
    }
    return 0;
}

json_t *mkt_report_load(const char *path, char *why, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, len, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    int have_st = fstat(fileno(f), &st) == 0;
    if (have_st && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(why, len, "is a folder, not a report");
        return NULL;
    }
    json_error_t err;
    json_t *doc = json_loadf(f, 0, &err);
    int empty = have_st && S_ISREG(st.st_mode) && st.st_size == 0;
    fclose(f);
    if (!doc) {
        if (empty)
            snprintf(why, len, "empty file, not a memkit report");
        else if (json_error_code(&err) == json_error_premature_end_of_input)
            snprintf(why, len, "truncated JSON at line %d: %s", err.line, err.text);
        else if (json_error_code(&err) == json_error_cannot_open_file)
            snprintf(why, len, "cannot read: %s", err.text);
        else
            snprintf(why, len, "not valid JSON at line %d, column %d: %s",
                     err.line, err.column, err.text);
        return NULL;
    }
    if (mkt_report_check(doc, why, len) < 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
