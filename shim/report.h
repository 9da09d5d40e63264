/* report.h — the JSON report (schema memkit-report/1).
 *
 * Written atomically: the text is built in memory memkit maps itself (never
 * the program's heap), written to "<path>.<pid>.<n>.tmp" created with
 * O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC mode 0600, then renamed onto <path>.
 * On any failure the temporary file is removed and nothing else changes;
 * errno is always preserved. Nothing is printed unless MEMKIT_LOG asks. */
#ifndef MK_REPORT_H
#define MK_REPORT_H

#include <stddef.h>

struct mk_json;

/* Writes the report where MEMKIT_REPORT says (nothing if "off").
 * 0 on success, -1 on failure (errno preserved: callers log at info). */
int mk_report_write(void);
/* Writes the report to exactly this path (already expanded). */
int mk_report_write_to(const char *path);

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

#endif
