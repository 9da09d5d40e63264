/* scan.c — see scan.h. */
#include "scan.h"

static const char *skip_blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int mk_scan_u64(const char **sp, uint64_t *out)
{
    const char *s = skip_blanks(*sp);
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    *sp = s;
    return 0;
}

int mk_scan_decimal(const char **sp, double *out)
{
    const char *s = skip_blanks(*sp);
    uint64_t mant = 0;
    int digits = 0, kept = 0, scale = 0;   /* value = mant * 10^scale */
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (kept < 18) {
            mant = mant * 10 + (uint64_t)(*s - '0');
            if (mant)
                kept++;
        } else {
            scale++;
        }
    }
    if (*s == '.') {
        s++;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            if (kept < 18) {
                mant = mant * 10 + (uint64_t)(*s - '0');
                if (mant)
                    kept++;
                scale--;
            }
        }
    }
    if (digits == 0)
        return -1;
    double v = (double)mant, p = 1.0;   /* 10^k is exact up to k = 22 */
    for (int k = scale < 0 ? -scale : scale; k > 0; k--)
        p *= 10.0;
    v = scale < 0 ? v / p : v * p;
    *out = v;
    *sp = s;
    return 0;
}
