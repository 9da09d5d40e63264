/* kept_files.h — the /proc and cgroup files memkit reads again and again,
 * kept open.
 *
 * Opening a file takes the lowest free descriptor number for an instant
 * (fd_io.h moves it high at once), and a program thread that dup2()s onto
 * that number, or lists its descriptors, at that instant meets memkit's
 * file: CPython's subprocess tests did, under load, while memkit's monitor
 * read /proc. So the files memkit reads periodically (the process's RSS
 * and threads, the system's memory, PSI, the cgroup's figures) are opened
 * once per process, kept at a high number (own_fd.h: checked by device and
 * inode before each use, never closed once the program has taken the
 * number) and read with pread from offset 0, which has the kernel produce
 * the content afresh. A read then costs an fstat and a pread instead of an
 * open, an fcntl and a close. At most MK_KEPT_FILES files; past that, and
 * for every other path, mk_read_file opens and closes as before. */
#ifndef MK_KEPT_FILES_H
#define MK_KEPT_FILES_H

#include <stddef.h>

#define MK_KEPT_FILES 16

/* Whether path is one of those files (/proc/self/..., /proc/meminfo,
 * /proc/pressure/..., /sys/fs/cgroup/...). */
int mk_kept_path(const char *path);

/* As mk_read_file (fd_io.h), through a kept descriptor: the length read
 * into buf (NUL-terminated, at most len - 1 bytes), or -1 when path cannot
 * be opened. Lock-free; async-signal-safe. errno kept. */
long mk_kept_read(const char *path, char *buf, size_t len);

/* Fork child: /proc/self was the parent there. The kept descriptors are
 * closed (the child's copies) and forgotten. */
void mk_kept_after_fork_child(void);

#endif
