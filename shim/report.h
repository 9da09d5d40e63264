/* report.h — the JSON report (schema memkit-report/1).
 *
 * Written atomically: the text is built in memory memkit maps itself (never
 * the program's heap), written to "<path>.<pid>.<n>.tmp" created with
 * O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC mode 0600, then renamed onto <path>.
 * On any failure the temporary file is removed and nothing else changes;
 * errno is always preserved. Nothing is printed unless MEMKIT_LOG asks. */
#ifndef MK_REPORT_H
#define MK_REPORT_H

#include "options.h"

#include <stddef.h>
#include <stdint.h>

struct mk_json;

/* Writes the final report where MEMKIT_REPORT says (nothing if "off").
 * 0 on success, -1 on failure (errno preserved: callers log at info). */
int mk_report_write(void);
/* The same, as a snapshot ("kind": "snapshot") of a running process: the
 * monitor's MEMKIT_REPORT_INTERVAL. Skipped (-1) while another report is
 * being written or once the final one has begun. */
int mk_report_snapshot(void);
/* Writes the final report to exactly this path (already expanded). */
int mk_report_write_to(const char *path);
/* Fork child: no writer of the parent's is left. */
void mk_report_after_fork_child(void);

/* The path an output option (MEMKIT_REPORT, MEMKIT_PROM) names, expanded
 * for this process: 1 and path filled, 0 when the option is off, -1 when
 * it cannot be expanded (logged at info). errno preserved. */
int mk_expand_output_path(enum mk_option_id id, char *path, size_t len);
/* Puts text at path atomically, as the report is (report_file.c). -1 with
 * errno on failure, and nothing left behind. */
int mk_put_file(const char *path, const char *text, size_t len);

/* Notes, at start, facts the report needs that are unsafe to look up at
 * exit (where malloc resolved). */
void mk_report_prepare(void);

/* Builds the whole document into j (report.c); kind is "final" at exit,
 * "snapshot" while running. -1 when memory for the text ran out. */
int mk_report_build(struct mk_json *j, const char *kind);

/* Expands a template: %p pid, %e program name (any '/' or control
 * character made '_'), %t start time in Unix seconds, %% a '%'. A relative
 * result is prefixed with dir (when dir is non-empty). -1 with
 * ENAMETOOLONG when the result does not fit, EINVAL on an unknown %x. */
int mk_report_path_expand(const char *tpl, const char *dir, long pid,
                          const char *prog, long long start_s,
                          char *out, size_t len);

/* The "compaction" totals and the "compactions" list (report_compact.c);
 * released is the bytes the program released in all. */
void mk_report_write_compactions(struct mk_json *j, uint64_t released);

/* The "probes" and "checkpoints" sections, and "probes_dropped"
 * (report_probes.c). */
void mk_report_write_probes(struct mk_json *j);

/* The "pools", "pool_totals", "rings" and "map_caches" sections
 * (report_pools.c). */
void mk_report_write_pools(struct mk_json *j);

/* The "timeline" section (report_timeline.c); final adds the last point
 * as the process ends. */
void mk_report_write_timeline(struct mk_json *j, int final);

#endif
