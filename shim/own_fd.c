/* own_fd.c — memkit's own descriptors, out of the program's way (own_fd.h). */
#include "own_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int high_floor(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
        lim.rlim_cur < (rlim_t)MK_OWN_FD_FLOOR * 4 / 3)
        return (int)(lim.rlim_cur * 3 / 4);
    return MK_OWN_FD_FLOOR;
}

int mk_own_fd_take(struct mk_own_fd *o, int fd)
{
    int saved = errno;
    o->fd = -1;
    if (fd < 0)
        return -1;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, high_floor());
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        errno = saved;
        return -1;
    }
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    __atomic_store_n(&o->fd, fd, __ATOMIC_RELEASE);
    errno = saved;
    return 0;
}

int mk_own_fd_valid(const struct mk_own_fd *o)
{
    int fd = __atomic_load_n(&o->fd, __ATOMIC_ACQUIRE);
    if (fd < 0)
        return 0;
    int saved = errno;
    struct stat st;
    int ours = fstat(fd, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino;
    errno = saved;
    return ours;
}

void mk_own_fd_close(struct mk_own_fd *o)
{
    int saved = errno;
    if (mk_own_fd_valid(o))
        close(o->fd);
    __atomic_store_n(&o->fd, -1, __ATOMIC_RELEASE);
    errno = saved;
}
