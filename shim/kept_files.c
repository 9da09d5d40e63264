/* kept_files.c — the files memkit reads again and again, kept open
 * (kept_files.h). */
#include "kept_files.h"

#include "fd_io.h"
#include "own_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define KEPT_PATH 128

/* A slot goes EMPTY -> FILLING (claimed by one thread) -> READY, and to
 * DEAD for good when its number turned out to be the program's: a reader
 * may still be looking at it, so it is never reused. */
enum { EMPTY, FILLING, READY, DEAD };

static struct kept {
    int state;
    char path[KEPT_PATH];
    struct mk_own_fd fd;
} kept[MK_KEPT_FILES];

int mk_kept_path(const char *path)
{
    static const char *const prefixes[] = {
        "/proc/self/", "/proc/meminfo", "/proc/pressure/", "/sys/fs/cgroup/",
    };
    if (strlen(path) >= KEPT_PATH)
        return 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* The whole file from offset 0: -1 when nothing could be read. */
static long read_from_start(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len - 1) {
        ssize_t n = pread(fd, buf + got, len - 1 - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && got == 0)
            return -1;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return (long)got;
}

/* Keeps fd for path in an empty slot; closes it when there is none. */
static void keep(const char *path, int fd)
{
    for (int i = 0; i < MK_KEPT_FILES && strlen(path) < KEPT_PATH; i++) {
        struct kept *k = &kept[i];
        int empty = EMPTY;
        if (!__atomic_compare_exchange_n(&k->state, &empty, FILLING, 0,
                                         __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            continue;
        strcpy(k->path, path);
        if (mk_own_fd_take(&k->fd, fd) == 0)
            __atomic_store_n(&k->state, READY, __ATOMIC_RELEASE);
        else
            __atomic_store_n(&k->state, EMPTY, __ATOMIC_RELEASE);   /* fd closed by take */
        return;
    }
    close(fd);
}

long mk_kept_read(const char *path, char *buf, size_t len)
{
    int saved = errno;
    for (int i = 0; i < MK_KEPT_FILES; i++) {
        struct kept *k = &kept[i];
        if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) != READY || strcmp(k->path, path) != 0)
            continue;
        if (mk_own_fd_valid(&k->fd)) {
            long got = read_from_start(k->fd.fd, buf, len);
            errno = saved;
            if (got >= 0)
                return got;
            return -1;
        }
        /* The program closed it and took the number: forget it, open anew. */
        int ready = READY;
        __atomic_compare_exchange_n(&k->state, &ready, DEAD, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
        break;
    }
    int fd = mk_open_own(path, O_RDONLY, 0);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    long got = read_from_start(fd, buf, len);
    keep(path, fd);
    errno = saved;
    return got;
}

void mk_kept_after_fork_child(void)
{
    for (int i = 0; i < MK_KEPT_FILES; i++) {
        struct kept *k = &kept[i];
        if (k->state == READY)
            mk_own_fd_close(&k->fd);
        k->state = EMPTY;
    }
}
