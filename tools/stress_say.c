/* stress_say.c — see stress_say.h. */
#include "stress_say.h"

#include <stdarg.h>
#include <stdio.h>

int mkt_quiet;

void mkt_say(const char *fmt, ...)
{
    if (mkt_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("memkit-stress: ", stdout);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(ap);
}

void mkt_complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("memkit-stress: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *mkt_percent(char *buf, size_t len, unsigned h)
{
    if (h % 100 == 0)
        snprintf(buf, len, "%u%%", h / 100);
    else if (h % 10 == 0)
        snprintf(buf, len, "%u.%u%%", h / 100, h / 10 % 10);
    else
        snprintf(buf, len, "%u.%02u%%", h / 100, h % 100);
    return buf;
}
