/* fd_io.c — see fd_io.h. */
#include "fd_io.h"

#include "kept_files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

int mk_fd_floor(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
        lim.rlim_cur < (rlim_t)MK_OWN_FD_FLOOR * 4 / 3)
        return (int)(lim.rlim_cur * 3 / 4);
    return MK_OWN_FD_FLOOR;
}

int mk_fd_move_high(int fd)
{
    int floor = mk_fd_floor();
    if (fd < 0 || fd >= floor)
        return fd;
    int saved = errno;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, floor);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    errno = saved;
    return fd;
}

void mk_fd_table_reserve(void)
{
    int saved = errno;
    int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        close(mk_fd_move_high(fd));
    errno = saved;
}

int mk_open_own(const char *path, int flags, mode_t mode)
{
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -1 : mk_fd_move_high(fd);
}

long mk_read_file(const char *path, char *buf, size_t len)
{
    if (mk_kept_path(path))
        return mk_kept_read(path, buf, len);
    int fd = mk_open_own(path, O_RDONLY, 0);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < len - 1) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (long)got;
}

int mk_write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}
