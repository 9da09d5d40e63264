/* units.c — numbers as a person reads them. */
#include "units.h"

#include <math.h>
#include <stdio.h>

const char *mkt_bytes(char *buf, size_t len, uint64_t bytes)
{
    static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    if (bytes < 1024) {
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
        return buf;
    }
    double v = (double)bytes / 1024;
    size_t u = 0;
    /* Up a unit from 999.5 on, so rounding never prints "1024 KiB". */
    while (v >= 999.5 && u + 1 < sizeof unit / sizeof unit[0]) {
        v /= 1024;
        u++;
    }
    /* Three significant digits: enough to compare, short enough to read. */
    if (v < 10)
        snprintf(buf, len, "%.2f %s", v, unit[u]);
    else if (v < 100)
        snprintf(buf, len, "%.1f %s", v, unit[u]);
    else
        snprintf(buf, len, "%.0f %s", v, unit[u]);
    return buf;
}

const char *mkt_count(char *buf, size_t len, uint64_t n)
{
    char digits[24];
    int k = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < k && o + 1 < len; i++) {
        if (i > 0 && (k - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    if (len)
        buf[o < len ? o : len - 1] = '\0';
    return buf;
}

const char *mkt_duration(char *buf, size_t len, double s)
{
    if (!(s >= 0) || isinf(s))   /* negative or NaN: say so rather than guess */
        snprintf(buf, len, "?");
    else if (s < 1e-3)
        snprintf(buf, len, "%.0f us", s * 1e6);
    else if (s < 10e-3)
        snprintf(buf, len, "%.1f ms", s * 1e3);
    else if (s < 1)
        snprintf(buf, len, "%.0f ms", s * 1e3);
    else if (s < 60)
        snprintf(buf, len, "%.2f s", s);
    else if (s < 3600) {
        unsigned long t = (unsigned long)(s + 0.5);
        snprintf(buf, len, "%lum%02lus", t / 60, t % 60);
    } else if (s < 1e12) {
        unsigned long t = (unsigned long)(s / 60 + 0.5);
        snprintf(buf, len, "%luh%02lum", t / 60, t % 60);
    } else {
        snprintf(buf, len, "%.3g s", s);
    }
    return buf;
}
