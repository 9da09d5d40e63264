/* line_reader.c — see line_reader.h. */
#include "line_reader.h"

#include "fd_io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int mk_lines_open(struct mk_lines *r, const char *path, char *buf, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (!buf || cap < 2) {
        errno = EINVAL;
        return -1;
    }
    int fd = mk_open_own(path, O_RDONLY, 0);
    if (fd < 0)
        return -1;
    r->fd = fd;
    r->buf = buf;
    r->cap = cap;
    return 0;
}

/* Appends what the next read gives after buf[end]; sets eof at the end of
 * the file or on an error. */
static void fill(struct mk_lines *r)
{
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - 1 - r->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            r->error = errno;
        if (n <= 0)
            r->eof = 1;
        else
            r->end += (size_t)n;
        return;
    }
}

char *mk_lines_next(struct mk_lines *r, size_t *len)
{
    if (r->fd < 0)
        return NULL;
    for (;;) {
        char *start = r->buf + r->pos;
        char *nl = memchr(start, '\n', r->end - r->pos);
        if (nl) {
            r->pos = (size_t)(nl - r->buf) + 1;
            if (r->skipping) {          /* the tail of an overlong line */
                r->skipping = 0;
                r->skipped++;
                continue;
            }
            *nl = '\0';
            if (len)
                *len = (size_t)(nl - start);
            return start;
        }
        if (r->eof) {
            size_t n = r->end - r->pos;
            r->pos = r->end;
            if (r->skipping) {
                r->skipping = 0;
                r->skipped++;
                return NULL;
            }
            if (n == 0)
                return NULL;
            start[n] = '\0';            /* end < cap: room was kept */
            if (len)
                *len = n;
            return start;
        }
        /* No newline in what is held: make room, or give the line up. */
        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, r->end - r->pos);
            r->end -= r->pos;
            r->pos = 0;
        }
        if (r->end == r->cap - 1) {
            r->skipping = 1;
            r->end = 0;
        }
        fill(r);
    }
}

void mk_lines_close(struct mk_lines *r)
{
    int saved = errno;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    errno = saved;
}
