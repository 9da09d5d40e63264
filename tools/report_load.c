/* report_load.c — read a memkit report with jansson and check it against
 * the fixed part of memkit-report/1 (docs/report-format.md). Fields beyond
 * the fixed ones are optional here: the summary uses them when present,
 * and those it reads (the compaction statistics) must have the right type
 * when they are there. */
#include "report_load.h"
#include "report_get.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum want { W_OBJECT, W_ARRAY, W_STRING, W_UINT, W_NUMBER, W_BOOL };

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
    case W_BOOL:   return "true or false";
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
    case W_BOOL:   return json_is_boolean(v);
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
    mkt_json_free(text);
}

/* Each compaction entry: the fixed fields (DESIGN.md) must be there; the
 * later ones are checked when present. Unknown reasons are accepted (more
 * may come), as long as the reason is a string. */
static const struct { const char *key; enum want want; int required; } compaction_entry[] = {
    { "t_s",             W_NUMBER, 1 },
    { "reason",          W_STRING, 1 },
    { "rss_before",      W_UINT,   1 },
    { "rss_after",       W_UINT,   1 },
    { "seconds",         W_NUMBER, 1 },
    { "returned_bytes",  W_UINT,   0 },
    { "released_before", W_UINT,   0 },
};

/* The "compaction" object and allocator.release_call: absent in reports
 * written before the defragmenter; checkpoints and timeline_resolution_s,
 * absent in older ones. Each field type-checked when present. */
static const struct { const char *path; enum want want; } optional[] = {
    { "allocator.release_call",             W_STRING },
    { "compaction",                         W_OBJECT },
    { "compaction.count",                   W_UINT },
    { "compaction.returned_bytes",          W_UINT },
    { "compaction.seconds",                 W_NUMBER },
    { "compaction.max_seconds",             W_NUMBER },
    { "compaction.by_reason",               W_OBJECT },
    { "compaction.backoff_skipped",         W_UINT },
    { "compaction.dropped",                 W_UINT },
    { "compaction.monitor_thread",          W_BOOL },
    { "compaction.released_bytes",          W_UINT },
    { "compaction.released_since_compact",  W_UINT },
    { "checkpoints",                        W_ARRAY },
    { "timeline_resolution_s",              W_NUMBER },
};

/* Entries of "probes" and "checkpoints" (docs/report-format.md): objects
 * whose fields, when present, have these types (growth may be negative). */
struct entry_field { const char *key; enum want want; };
static const struct entry_field probe_entry[] = {
    { "label", W_STRING }, { "level", W_STRING }, { "count", W_UINT },
    { "seconds_total", W_NUMBER }, { "seconds_max", W_NUMBER },
    { "growth_total", W_NUMBER }, { "growth_max", W_NUMBER },
    { "peak_max", W_UINT }, { "rss_max", W_UINT }, { NULL, W_OBJECT },
};
static const struct entry_field checkpoint_entry[] = {
    { "label", W_STRING }, { "count", W_UINT },
    { "first_t_s", W_NUMBER }, { "last_t_s", W_NUMBER },
    { "rss_last", W_UINT }, { "rss_min", W_UINT }, { "rss_max", W_UINT },
    { "heap_last", W_UINT }, { NULL, W_OBJECT },
};

/* Each timeline point: time and the three levels always, the event a
 * string when there is one (unknown events are accepted). */
static const struct { const char *key; enum want want; int required; } timeline_entry[] = {
    { "t_s",   W_NUMBER, 1 },
    { "heap",  W_UINT,   1 },
    { "maps",  W_UINT,   1 },
    { "rss",   W_UINT,   1 },
    { "event", W_STRING, 0 },
};

static int check_timeline(const json_t *doc, char *why, size_t len)
{
    size_t i;
    json_t *entry;
    json_array_foreach(mkt_at(doc, "timeline"), i, entry) {
        if (!json_is_object(entry)) {
            snprintf(why, len, "malformed memkit report: \"timeline[%zu]\" is %s, expected %s",
                     i, type_name(entry), want_name(W_OBJECT));
            return -1;
        }
        for (size_t k = 0; k < sizeof timeline_entry / sizeof timeline_entry[0]; k++) {
            json_t *v = json_object_get(entry, timeline_entry[k].key);
            if (!v && timeline_entry[k].required) {
                snprintf(why, len, "incomplete memkit report: \"timeline[%zu].%s\" is missing",
                         i, timeline_entry[k].key);
                return -1;
            }
            if (v && !fits(v, timeline_entry[k].want)) {
                snprintf(why, len, "malformed memkit report: \"timeline[%zu].%s\" is %s, "
                         "expected %s", i, timeline_entry[k].key, type_name(v),
                         want_name(timeline_entry[k].want));
                return -1;
            }
        }
    }
    return 0;
}

static int check_compactions(const json_t *doc, char *why, size_t len)
{
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
        json_t *v = mkt_at(doc, optional[i].path);
        if (v && !fits(v, optional[i].want)) {
            snprintf(why, len, "malformed memkit report: \"%s\" is %s, expected %s",
                     optional[i].path, type_name(v), want_name(optional[i].want));
            return -1;
        }
    }
    const char *reason;
    json_t *v;
    json_object_foreach(mkt_at(doc, "compaction.by_reason"), reason, v) {
        if (!fits(v, W_UINT)) {
            char shown[64];
            json_t *name = json_string(reason);
            quote_value(name, shown, sizeof shown);
            json_decref(name);
            snprintf(why, len, "malformed memkit report: \"compaction.by_reason\" %s is %s, "
                     "expected %s", shown, type_name(v), want_name(W_UINT));
            return -1;
        }
    }
    size_t i;
    json_t *entry;
    json_array_foreach(mkt_at(doc, "compactions"), i, entry) {
        if (!json_is_object(entry)) {
            snprintf(why, len, "malformed memkit report: \"compactions[%zu]\" is %s, expected %s",
                     i, type_name(entry), want_name(W_OBJECT));
            return -1;
        }
        for (size_t k = 0; k < sizeof compaction_entry / sizeof compaction_entry[0]; k++) {
            v = json_object_get(entry, compaction_entry[k].key);
            if (!v && compaction_entry[k].required) {
                snprintf(why, len, "incomplete memkit report: \"compactions[%zu].%s\" is missing",
                         i, compaction_entry[k].key);
                return -1;
            }
            if (v && !fits(v, compaction_entry[k].want)) {
                snprintf(why, len, "malformed memkit report: \"compactions[%zu].%s\" is %s, "
                         "expected %s", i, compaction_entry[k].key, type_name(v),
                         want_name(compaction_entry[k].want));
                return -1;
            }
        }
    }
    return 0;
}

static int check_entries(const json_t *doc, const char *list,
                         const struct entry_field *fields, char *why, size_t len)
{
    size_t i;
    json_t *entry;
    json_array_foreach(mkt_at(doc, list), i, entry) {
        if (!json_is_object(entry)) {
            snprintf(why, len, "malformed memkit report: \"%s[%zu]\" is %s, expected %s",
                     list, i, type_name(entry), want_name(W_OBJECT));
            return -1;
        }
        for (const struct entry_field *f = fields; f->key; f++) {
            json_t *v = json_object_get(entry, f->key);
            if (v && !fits(v, f->want)) {
                snprintf(why, len, "malformed memkit report: \"%s[%zu].%s\" is %s, "
                         "expected %s", list, i, f->key, type_name(v), want_name(f->want));
                return -1;
            }
        }
    }
    return 0;
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
    if (check_compactions(doc, why, len) < 0 ||
        check_entries(doc, "probes", probe_entry, why, len) < 0 ||
        check_entries(doc, "checkpoints", checkpoint_entry, why, len) < 0 ||
        check_timeline(doc, why, len) < 0)
        return -1;
    return 0;
}

/* jansson's message quotes the text near the error, which may hold a
 * newline or other control character: a refusal is one line. */
static const char *one_line(char *text)
{
    for (char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return text;
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
            snprintf(why, len, "truncated JSON at line %d: %s", err.line, one_line(err.text));
        else if (json_error_code(&err) == json_error_cannot_open_file)
            snprintf(why, len, "cannot read: %s", one_line(err.text));
        else
            snprintf(why, len, "not valid JSON at line %d, column %d: %s",
                     err.line, err.column, one_line(err.text));
        return NULL;
    }
    if (mkt_report_check(doc, why, len) < 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
