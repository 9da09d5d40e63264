/* psi.c — see psi.h. */
#include "psi.h"
#include "fd_io.h"
#include "scan.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* ---- reading ------------------------------------------------------------ */

/* Expects " <key>=" at *sp and advances past it. */
static int expect_key(const char **sp, const char *key)
{
    const char *s = *sp;
    while (*s == ' ')
        s++;
    size_t n = strlen(key);
    if (strncmp(s, key, n) != 0 || s[n] != '=')
        return -1;
    *sp = s + n + 1;
    return 0;
}

/* Parses "avg10=a avg60=b avg300=c total=t" ending the line. */
static int parse_line(const char *s, struct mk_psi_line *out)
{
    struct mk_psi_line l;
    if (expect_key(&s, "avg10") || mk_scan_decimal(&s, &l.avg10) ||
        expect_key(&s, "avg60") || mk_scan_decimal(&s, &l.avg60) ||
        expect_key(&s, "avg300") || mk_scan_decimal(&s, &l.avg300) ||
        expect_key(&s, "total") || mk_scan_u64(&s, &l.total_us))
        return -1;
    /* The line must end here: a number cut off by a short read is not one. */
    if (*s != '\n')
        return -1;
    *out = l;
    return 0;
}

int mk_psi_parse(const char *text, struct mk_psi *out)
{
    int some = 0;
    out->has_full = 0;
    for (const char *line = text; line && *line; ) {
        if (!some && strncmp(line, "some ", 5) == 0)
            some = parse_line(line + 5, &out->some) == 0;
        else if (!out->has_full && strncmp(line, "full ", 5) == 0)
            out->has_full = parse_line(line + 5, &out->full) == 0;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    if (!out->has_full)
        memset(&out->full, 0, sizeof out->full);
    if (!some) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int mk_psi_read_path(const char *path, struct mk_psi *out)
{
    int saved = errno;
    char buf[256];      /* two lines of at most about 80 bytes */
    if (mk_read_file(path, buf, sizeof buf) < 0)
        return -1;
    if (mk_psi_parse(buf, out) != 0)
        return -1;
    errno = saved;
    return 0;
}

int mk_psi_read(struct mk_psi *out)
{
    return mk_psi_read_path(MK_PSI_MEMORY, out);
}

/* ---- triggers ----------------------------------------------------------- */

uint64_t mk_psi_window(uint64_t window_us)
{
    if (window_us > MK_PSI_WINDOW_MAX_US)
        window_us = MK_PSI_WINDOW_MAX_US;
    if (window_us < MK_PSI_WINDOW_MIN_US)
        window_us = MK_PSI_WINDOW_MIN_US;
    /* 10 s is a multiple of 2 s, so rounding up stays within the range. */
    return (window_us + MK_PSI_WINDOW_STEP_US - 1) / MK_PSI_WINDOW_STEP_US *
           MK_PSI_WINDOW_STEP_US;
}

/* Appends the decimal digits of v at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = tmp[--n];
    return p;
}

size_t mk_psi_trigger_format(char *buf, size_t len, int full,
                             uint64_t stall_us, uint64_t window_us)
{
    char text[64];      /* "some " + 2 * 20 digits + " " + NUL fits */
    if (stall_us == 0)
        return 0;
    uint64_t window = mk_psi_window(window_us);
    if (stall_us > window)
        stall_us = window;
    char *p = text;
    memcpy(p, full ? "full " : "some ", 5);
    p = put_u64(p + 5, stall_us);
    *p++ = ' ';
    p = put_u64(p, window);
    *p++ = '\0';
    size_t n = (size_t)(p - text);
    if (n > len)
        return 0;
    memcpy(buf, text, n);
    return n;
}

int mk_psi_trigger_open(const char *path, int full, uint64_t stall_us,
                        uint64_t window_us)
{
    int saved = errno;
    char text[64];
    size_t n = mk_psi_trigger_format(text, sizeof text, full, stall_us,
                                     window_us);
    if (n == 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = mk_open_own(path, O_RDWR | O_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    /* The kernel takes the trigger in one write (a short one is refused). */
    ssize_t w;
    do
        w = write(fd, text, n);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)n) {
        int err = w < 0 ? errno : EIO;
        close(fd);
        errno = err;
        return -1;
    }
    errno = saved;
    return fd;
}
