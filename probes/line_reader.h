/* line_reader.h — a file read line by line through a caller's fixed buffer,
 * with plain open/read/close (no stdio, no allocation), so files of any size
 * (/proc/self/mountinfo on a busy host runs past 64 KiB) are read in
 * chunks. Lines longer than the buffer are skipped whole and counted. */
#ifndef MK_LINE_READER_H
#define MK_LINE_READER_H

#include <stddef.h>

struct mk_lines {
    int    fd;
    char  *buf;
    size_t cap;         /* bytes in buf; a line keeps at most cap - 2 */
    size_t pos, end;    /* unread bytes are buf[pos, end) */
    int    eof;         /* no more bytes will come from fd */
    int    skipping;    /* inside a line longer than the buffer */
    int    error;       /* errno of a failed read, else 0 */
    unsigned long skipped;  /* lines dropped for being too long */
};

/* Opens path for reading through buf (cap >= 2). 0, or -1 with errno set. */
int mk_lines_open(struct mk_lines *r, const char *path, char *buf, size_t cap);

/* The next line, NUL-terminated, its newline removed, valid until the next
 * call; *len (may be NULL) gets its length. A last line without a newline
 * is returned too. NULL at the end or after a read error (r->error). */
char *mk_lines_next(struct mk_lines *r, size_t *len);

/* Closes the file; the reader may not be used again. errno kept. */
void mk_lines_close(struct mk_lines *r);

#endif
