/* prom.h — MEMKIT_PROM: the process's figures as a metrics text file,
 * rewritten by the monitor thread every MEMKIT_MONITOR_INTERVAL for
 * node_exporter's textfile collector (docs/metrics.md lists the metrics;
 * `memkit-report --prom` writes the same from a report). */
#ifndef MK_PROM_H
#define MK_PROM_H

#include <stddef.h>

/* Writes the file now, atomically (as the report is). 0, or -1 when the
 * option is off or the file could not be written (logged at info). */
int mk_prom_write(void);

/* At exit: the process's file goes (its final figures are in the report),
 * so node_exporter shows live processes only. A process killed leaves its
 * file, whose age node_exporter exports (node_textfile_mtime_seconds). */
void mk_prom_at_exit(void);
/* Fork child: nothing of the parent's writer is left. */
void mk_prom_after_fork_child(void);

/* The text itself, into buf (NUL-terminated); returns the length the
 * whole text needs (as snprintf does). */
size_t mk_prom_format(char *buf, size_t len);

#endif
