/* log.h — memkit's messages: one line each, "memkit: " first, written with
 * write(2) to stderr, at most MK_LOG_MAX_LINES per process.
 *
 * A message is written only while fd 2 is still the file it was when
 * memkit started: a program that closed stderr and reopened fd 2 as one of
 * its own files must never find memkit's text in it. Warnings are also kept
 * (the last MK_LOG_KEEP) for the report's "warnings" section. */
#ifndef MK_LOG_H
#define MK_LOG_H

#include <stddef.h>
#include <stdint.h>

enum mk_log_level { MK_LOG_ERROR, MK_LOG_WARN, MK_LOG_INFO, MK_LOG_DEBUG };

#define MK_LOG_MAX_LINES 64
#define MK_LOG_KEEP      32
#define MK_LOG_TEXT_MAX  256

/* Remembers which file fd 2 is now. Call once at start (and in a child). */
void mk_log_init(void);
/* Sets the threshold; messages above it are dropped (not even kept). */
void mk_log_set_level(enum mk_log_level level);
void mk_log(enum mk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct mk_warning {
    uint64_t t_ns;                 /* CLOCK_MONOTONIC when logged */
    char     text[MK_LOG_TEXT_MAX];
};
/* Copies the kept warnings (oldest first) and returns how many. */
size_t mk_log_kept(struct mk_warning *out, size_t max);

#endif
