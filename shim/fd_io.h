/* fd_io.h — whole reads and writes on file descriptors with plain system
 * calls (no stdio, no allocation), looping on EINTR and short transfers.
 * Safe in wrappers, fork children and destructors. */
#ifndef MK_FD_IO_H
#define MK_FD_IO_H

#include <stddef.h>
#include <sys/types.h>

/* memkit's own descriptors live at this number or above (or at three
 * quarters of the descriptor limit, when that is lower): out of the low
 * numbers a program closes and dup2()s onto. A report file that took the
 * number 1 while the program had stdout closed would otherwise become the
 * program's stdout the moment it dup2()s its saved one back, and memkit
 * would then write into it and close it. */
#define MK_OWN_FD_FLOOR 900

/* The lowest number memkit's descriptors take now (see above). */
int mk_fd_floor(void);
/* Moves fd, just opened by memkit, to mk_fd_floor() or above (close-on-
 * exec) and closes the old number. Returns the new number, or fd itself
 * when no number up there is free. errno kept. */
int mk_fd_move_high(int fd);
/* Grows the process's descriptor table to reach mk_fd_floor() now: from
 * the constructor and the fork child's handler, while the process has one
 * thread. The kernel grows a table that threads share only after an RCU
 * grace period (expand_fdtable's synchronize_rcu): 11 ms measured here,
 * spent by the thread whose free had memkit read /proc. A table never
 * shrinks, but a fork child starts with a small one. errno kept. */
void mk_fd_table_reserve(void);
/* open(2) for memkit's own use: O_CLOEXEC added, EINTR retried, and the
 * descriptor moved high. -1 with errno. */
int mk_open_own(const char *path, int flags, mode_t mode);

/* Reads the file at path into buf, at most len - 1 bytes, and
 * NUL-terminates it. The length read, or -1 when it cannot be opened.
 * The /proc and cgroup files memkit reads again and again stay open
 * (kept_files.h). */
long mk_read_file(const char *path, char *buf, size_t len);

/* Writes all n bytes. 0, or -1 with errno set (EIO for a write of 0). */
int mk_write_all(int fd, const char *s, size_t n);

#endif
