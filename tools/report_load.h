/* report_load.h — read a memkit report (schema memkit-report/1) and refuse
 * what is not one.
 *
 * The reason for a refusal is one line without the file name ("truncated
 * JSON at line 12: ..."); callers prefix "memkit-report: FILE: ". */
#ifndef MKT_REPORT_LOAD_H
#define MKT_REPORT_LOAD_H

#include <jansson.h>
#include <stddef.h>

#define MKT_SCHEMA "memkit-report/1"

/* The parsed and checked report, or NULL with the reason in why. */
json_t *mkt_report_load(const char *path, char *why, size_t len);
/* 0 when doc has the schema and every fixed field (docs/report-format.md)
 * with the right type, and the compaction fields that are present (the
 * "compaction" object, the "compactions" entries, allocator.release_call)
 * have theirs, and so do the "timeline" points (t_s, heap, maps, rss; event
 * a string) and timeline_resolution_s; -1 with the reason in why. */
int mkt_report_check(const json_t *doc, char *why, size_t len);

#endif
