/* fd_io.h — whole reads and writes on file descriptors with plain system
 * calls (no stdio, no allocation), looping on EINTR and short transfers.
 * Safe in wrappers, fork children and destructors. */
#ifndef MK_FD_IO_H
#define MK_FD_IO_H

#include <stddef.h>

/* Reads the file at path into buf, at most len - 1 bytes, and
 * NUL-terminates it. The length read, or -1 when it cannot be opened. */
long mk_read_file(const char *path, char *buf, size_t len);

/* Writes all n bytes. 0, or -1 with errno set (EIO for a write of 0). */
int mk_write_all(int fd, const char *s, size_t n);

#endif
