/* wakeup.c — the monitor's wake-up pipe (wakeup.h). */
#include "wakeup.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int mk_wakeup_open(struct mk_wakeup *w)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    struct mk_own_fd rd, wr;
    if (mk_own_fd_take(&rd, fds[0]) < 0) {
        close(fds[1]);
        return -1;
    }
    if (mk_own_fd_take(&wr, fds[1]) < 0) {
        mk_own_fd_close(&rd);
        return -1;
    }
    w->rd = rd;
    w->wr.dev = wr.dev;
    w->wr.ino = wr.ino;
    /* Posters read wr.fd without a lock: published last. */
    __atomic_store_n(&w->wr.fd, wr.fd, __ATOMIC_RELEASE);
    return 0;
}

void mk_wakeup_post(struct mk_wakeup *w)
{
    /* The common case on a busy free path: one load. */
    if (__atomic_load_n(&w->pending, __ATOMIC_ACQUIRE))
        return;
    if (!mk_own_fd_valid(&w->wr) || __atomic_exchange_n(&w->pending, 1, __ATOMIC_ACQ_REL))
        return;
    int saved = errno;
    char one = 1;
    ssize_t rc;
    do
        rc = write(w->wr.fd, &one, 1);
    while (rc < 0 && errno == EINTR);
    errno = saved;
}

int mk_wakeup_wait_fd(struct mk_wakeup *w)
{
    if (!mk_own_fd_valid(&w->rd) || !mk_own_fd_valid(&w->wr)) {
        /* The end that is still memkit's is closed; the other is forgotten
         * (its number may be the program's now). pending is cleared before
         * the new write end is published: a poster that still sees it set
         * meanwhile writes nothing, and the waiter, about to decide, sees
         * what it was about. */
        mk_wakeup_close(w);
        __atomic_store_n(&w->pending, 0, __ATOMIC_RELEASE);
        mk_wakeup_open(w);
    }
    return w->rd.fd;
}

void mk_wakeup_take(struct mk_wakeup *w)
{
    char drain[64];
    for (;;) {
        ssize_t got = read(w->rd.fd, drain, sizeof drain);
        if (got <= 0 && !(got < 0 && errno == EINTR))
            break;
    }
    __atomic_store_n(&w->pending, 0, __ATOMIC_RELEASE);
}

void mk_wakeup_close(struct mk_wakeup *w)
{
    mk_own_fd_close(&w->wr);
    mk_own_fd_close(&w->rd);
}

void mk_wakeup_reset(struct mk_wakeup *w)
{
    mk_wakeup_close(w);
    w->pending = 0;
}
