/* own_fd.c — memkit's own descriptors, out of the program's way (own_fd.h). */
#include "own_fd.h"

#include "fd_io.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int mk_own_fd_take(struct mk_own_fd *o, int fd)
{
    int saved = errno;
    o->fd = -1;
    if (fd < 0)
        return -1;
    fd = mk_fd_move_high(fd);
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
