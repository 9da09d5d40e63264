/* stress_say.h — what memkit-stress prints: status lines on stdout (one
 * at start, one when the hold changes, one at the end; none with --quiet),
 * errors on stderr. Every line starts with "memkit-stress: ". */
#ifndef MKT_STRESS_SAY_H
#define MKT_STRESS_SAY_H

#include <stddef.h>

/* Set by --quiet: status lines are not printed; errors still are. */
extern int mkt_quiet;

/* A status line; stdout is line-buffered so a reader sees it at once. */
void mkt_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error line on stderr. */
void mkt_complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "40%", "32.5%", "26.87%" from hundredths of a percent. */
const char *mkt_percent(char *buf, size_t len, unsigned hundredths);

#endif
