/* fmt.c — mk_snprintf: formatting with no allocation, no lock, no locale.
 * Safe in wrappers, in a fork child, and in destructors. */
#include "fmt.h"

#include <stdint.h>
#include <string.h>

/* An output cursor that counts what would have been written. */
struct out {
    char  *buf;
    size_t len, pos;
};

static void put(struct out *o, char c)
{
    if (o->pos + 1 < o->len)
        o->buf[o->pos] = c;
    o->pos++;
}

static void put_n(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

static void put_text(struct out *o, const char *s, size_t n, int width, int left)
{
    int pad = width > (int)n ? width - (int)n : 0;
    if (!left)
        put_n(o, ' ', pad);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (left)
        put_n(o, ' ', pad);
}

/* Digits of v in base, most significant first, into tmp; returns count. */
static size_t digits(uint64_t v, unsigned base, int upper, char *tmp)
{
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char rev[24];
    size_t k = 0;
    do {
        rev[k++] = set[v % base];
        v /= base;
    } while (v);
    for (size_t i = 0; i < k; i++)
        tmp[i] = rev[k - 1 - i];
    return k;
}

static void put_int(struct out *o, uint64_t mag, int neg, unsigned base, int upper,
                    int width, int zero, int left, const char *prefix)
{
    char tmp[24];
    size_t k = digits(mag, base, upper, tmp);
    size_t plen = strlen(prefix);
    int body = (int)(k + plen) + neg;
    int pad = width > body ? width - body : 0;
    if (!left && !zero)
        put_n(o, ' ', pad);
    if (neg)
        put(o, '-');
    for (size_t i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (!left && zero)
        put_n(o, '0', pad);
    for (size_t i = 0; i < k; i++)
        put(o, tmp[i]);
    if (left)
        put_n(o, ' ', pad);
}

/* Fixed-point with prec digits (default 6), rounded half up; NaN and
 * infinities spelled as C does. Enough for seconds and ratios in a report. */
static void put_double(struct out *o, double v, int prec, int width, int left)
{
    char tmp[64];
    size_t n = 0;
    if (v != v) {
        put_text(o, "nan", 3, width, left);
        return;
    }
    if (v < 0) {
        tmp[n++] = '-';
        v = -v;
    }
    if (v > 1.8e19) {
        memcpy(tmp + n, "inf", 3);
        put_text(o, tmp, n + 3, width, left);
        return;
    }
    if (prec > 9)
        prec = 9;
    uint64_t scale = 1;
    for (int i = 0; i < prec; i++)
        scale *= 10;
    uint64_t whole = (uint64_t)v;
    double rest = (v - (double)whole) * (double)scale + 0.5;
    uint64_t frac = (uint64_t)rest;
    if (frac >= scale) {   /* 0.9999995 rounded up */
        whole++;
        frac -= scale;
    }
    n += digits(whole, 10, 0, tmp + n);
    if (prec > 0) {
        tmp[n++] = '.';
        char f[24];
        size_t k = digits(frac, 10, 0, f);
        for (size_t i = k; i < (size_t)prec; i++)
            tmp[n++] = '0';
        memcpy(tmp + n, f, k);
        n += k;
    }
    put_text(o, tmp, n, width, left);
}

size_t mk_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
    struct out o = { buf, len, 0 };
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        const char *start = p++;
        int left = 0, zero = 0, width = 0, prec = -1, lng = 0;
        for (;; p++) {
            if (*p == '-')
                left = 1;
            else if (*p == '0')
                zero = 1;
            else
                break;
        }
        if (*p == '*') {
            width = va_arg(ap, int);
            p++;
        } else {
            while (*p >= '0' && *p <= '9')
                width = width * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            p++;
            prec = 0;
            if (*p == '*') {
                prec = va_arg(ap, int);
                p++;
            } else {
                while (*p >= '0' && *p <= '9')
                    prec = prec * 10 + (*p++ - '0');
            }
        }
        /* Length modifiers: all integers are widened to 64 bits. */
        for (;; p++) {
            if (*p == 'l')
                lng++;
            else if (*p == 'z' || *p == 'j' || *p == 't')
                lng = 2;
            else
                break;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = lng ? (lng == 1 ? (int64_t)va_arg(ap, long) : (int64_t)va_arg(ap, long long))
                            : (int64_t)va_arg(ap, int);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_int(&o, mag, v < 0, 10, 0, width, zero, left, "");
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng ? (lng == 1 ? (uint64_t)va_arg(ap, unsigned long)
                                         : (uint64_t)va_arg(ap, unsigned long long))
                             : (uint64_t)va_arg(ap, unsigned);
            put_int(&o, v, 0, *p == 'u' ? 10 : 16, *p == 'X', width, zero, left, "");
            break;
        }
        case 'p':
            put_int(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 0, 16, 0, width, 0, left, "0x");
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_text(&o, &c, 1, width, left);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            put_text(&o, s, n, width, left);
            break;
        }
        case 'f':
            put_double(&o, va_arg(ap, double), prec < 0 ? 6 : prec, width, left);
            break;
        case '%':
            put(&o, '%');
            break;
        default:
            /* Unknown: copied through as written. */
            for (const char *c = start; c <= p && *c; c++)
                put(&o, *c);
            if (!*p)
                p--;
            break;
        }
    }
    if (len)
        buf[o.pos < len ? o.pos : len - 1] = '\0';
    return o.pos;
}

size_t mk_snprintf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = mk_vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n;
}
