/* fmt.h — a small snprintf that never allocates and takes no lock, for use
 * inside wrappers, signal-ish contexts and at exit.
 *
 * Conversions: %s %.*s %c %d %i %u %x %X %p %% %f %.Nf with the length
 * modifiers l ll z j (and t); field width and '0'/'-' flags for integers
 * and strings. Anything else is copied through literally. */
#ifndef MK_FMT_H
#define MK_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Like snprintf: always NUL-terminates when len > 0 and returns the length
 * the full output would have had. */
size_t mk_snprintf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t mk_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);

#endif
