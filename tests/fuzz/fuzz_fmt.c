/* fuzz_fmt.c — libFuzzer target: mk_snprintf (shim/fmt.c), which formats
 * every report path, log line and report number inside the program.
 *
 * The input picks one conversion (flags, width, length modifier, a value
 * or a string) and an output length. Integer, string and character
 * conversions must give exactly what glibc's snprintf gives; %f only has
 * to be bounded (its rounding is documented to differ). For every length,
 * the result is the full text's prefix, NUL-terminated, and the return is
 * the full length, as snprintf's. */
#include "fmt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The formats are built here, from a closed set of flags, widths and
 * conversions, each with the argument its conversion takes. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

#define CHECK(cond) do { if (!(cond)) { \
        fprintf(stderr, "fuzz_fmt: %s:%d: %s (format \"%s\")\n", __FILE__, __LINE__, \
                #cond, fmt); abort(); } } while (0)

struct in { const uint8_t *p; size_t n; };

static unsigned take(struct in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t take64(struct in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take(in);
    return v;
}

/* Compares mk's text with the reference one at every output length up to
 * a little past the full length. */
static void compare(const char *fmt, const char *want, size_t want_len,
                    char *(*make)(const char *fmt, size_t len, size_t *n, void *arg), void *arg)
{
    for (size_t len = 0; len <= want_len + 2; len++) {
        size_t n;
        char *got = make(fmt, len, &n, arg);
        CHECK(n == want_len);
        if (len) {
            size_t shown = want_len < len - 1 ? want_len : len - 1;
            CHECK(memcmp(got, want, shown) == 0 && got[shown] == '\0');
        }
        free(got);
        if (want_len > 40 && len == 8)
            len = want_len - 4;   /* the middle lengths teach nothing new */
    }
}

struct int_arg { int kind; uint64_t v; };
struct str_arg { const char *s; int is_char; };

static char *make_int(const char *fmt, size_t len, size_t *n, void *a)
{
    const struct int_arg *x = a;
    char *buf = malloc(len ? len : 1);
    switch (x->kind) {
    case 0: *n = mk_snprintf(buf, len, fmt, (int)x->v); break;
    case 1: *n = mk_snprintf(buf, len, fmt, (long)x->v); break;
    default: *n = mk_snprintf(buf, len, fmt, (long long)x->v); break;
    }
    return buf;
}

static char *make_str(const char *fmt, size_t len, size_t *n, void *a)
{
    const struct str_arg *x = a;
    char *buf = malloc(len ? len : 1);
    if (x->is_char)
        *n = mk_snprintf(buf, len, fmt, x->s[0]);
    else
        *n = mk_snprintf(buf, len, fmt, x->s);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = { data, size };
    char fmt[32];
    char want[512];
    unsigned pick = take(&in);
    unsigned flags = take(&in);
    unsigned width = take(&in) % 48;
    size_t k = 0;
    fmt[k++] = 'x';   /* a literal before and after */
    fmt[k++] = '%';
    int left = flags & 1, zero = (flags >> 1) & 1;
    if (left)
        fmt[k++] = '-';
    static const char convs[] = "diuxXsc";
    char conv = convs[pick % 7];
    if (zero && conv != 's' && conv != 'c')
        fmt[k++] = '0';
    if (width)
        k += (size_t)snprintf(fmt + k, sizeof fmt - k, "%u", width);

    if (conv == 's' || conv == 'c') {
        int prec = (flags >> 2) & 1 ? (int)(take(&in) % 40) : -1;
        if (prec >= 0 && conv == 's')
            k += (size_t)snprintf(fmt + k, sizeof fmt - k, ".%d", prec);
        fmt[k++] = conv;
        fmt[k++] = 'y';
        fmt[k] = '\0';
        /* The rest of the input is the string (at most 200 bytes). */
        char s[201];
        size_t sl = in.n < 200 ? in.n : 200;
        memcpy(s, in.p, sl);
        s[sl] = '\0';
        if (conv == 'c' && s[0] == '\0')
            return 0;   /* a NUL character: the texts agree but strlen does not */
        int wl = conv == 'c' ? snprintf(want, sizeof want, fmt, s[0])
                             : snprintf(want, sizeof want, fmt, s);
        CHECK(wl >= 0 && (size_t)wl < sizeof want);
        struct str_arg a = { s, conv == 'c' };
        compare(fmt, want, (size_t)wl, make_str, &a);
        return 0;
    }

    int kind = (flags >> 2) % 3;   /* int, long, long long */
    static const char *const mods[] = { "", "l", "ll" };
    k += (size_t)snprintf(fmt + k, sizeof fmt - k, "%s%c", mods[kind], conv);
    fmt[k++] = 'y';
    fmt[k] = '\0';
    struct int_arg a = { kind, take64(&in) };
    int wl;
    switch (kind) {
    case 0: wl = snprintf(want, sizeof want, fmt, (int)a.v); break;
    case 1: wl = snprintf(want, sizeof want, fmt, (long)a.v); break;
    default: wl = snprintf(want, sizeof want, fmt, (long long)a.v); break;
    }
    CHECK(wl >= 0 && (size_t)wl < sizeof want);
    compare(fmt, want, (size_t)wl, make_int, &a);

    /* %f: bounded, terminated, never longer than a sign, 20 digits, a point,
     * 9 decimals and the width. */
    double d;
    uint64_t bits = take64(&in);
    memcpy(&d, &bits, sizeof d);
    char fbuf[128];
    unsigned prec = take(&in) % 12;
    size_t fl = mk_snprintf(fbuf, sizeof fbuf, "%-*.*f", (int)width, (int)prec, d);
    CHECK(fl < sizeof fbuf && fbuf[fl] == '\0');
    CHECK(fl <= (width > 31 ? width : 31));
    return 0;
}
