/* test_wakeup.c — the monitor's wake-up pipe (shim/wakeup.h): a post
 * wakes the waiter, posts between two takes write one byte, no post is
 * lost while the waiter takes, the program's files behind reused numbers
 * are never written, and an end the program left open is not leaked. */
#include "wakeup.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static int bytes_waiting(int fd)
{
    char buf[64];
    int total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += (int)n;
    return total;
}

Test(wakeup, a_post_wakes_the_waiter_and_a_take_empties_the_pipe)
{
    struct mk_wakeup w = MK_WAKEUP_NONE;
    cr_assert_eq(mk_wakeup_open(&w), 0);
    int fd = mk_wakeup_wait_fd(&w);
    cr_assert_geq(fd, 0);
    cr_assert_not(readable(fd, 0));
    mk_wakeup_post(&w);
    cr_assert(readable(fd, 0));
    mk_wakeup_take(&w);
    cr_assert_not(readable(fd, 0));
    mk_wakeup_post(&w);
    cr_assert(readable(fd, 0), "a post after a take wakes the waiter again");
    mk_wakeup_close(&w);
}

Test(wakeup, posts_between_two_takes_write_one_byte)
{
    struct mk_wakeup w = MK_WAKEUP_NONE;
    cr_assert_eq(mk_wakeup_open(&w), 0);
    for (int i = 0; i < 1000; i++)
        mk_wakeup_post(&w);
    cr_assert_eq(bytes_waiting(w.rd.fd), 1);
    mk_wakeup_close(&w);
}

Test(wakeup, a_post_keeps_errno)
{
    struct mk_wakeup w = MK_WAKEUP_NONE;
    cr_assert_eq(mk_wakeup_open(&w), 0);
    errno = 1234;
    mk_wakeup_post(&w);
    mk_wakeup_post(&w);
    cr_assert_eq(errno, 1234);
    mk_wakeup_close(&w);
}

/* Threads posting as fast as they can while the waiter takes, as the
 * free paths of a busy program do while the monitor runs: after every
 * take, the next post must wake the waiter again. */
struct posting {
    struct mk_wakeup *w;
    int stop;
};

static void *poster(void *arg)
{
    struct posting *p = arg;
    while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED))
        mk_wakeup_post(p->w);
    return NULL;
}

Test(wakeup, no_post_is_lost_while_the_waiter_takes)
{
    struct mk_wakeup w = MK_WAKEUP_NONE;
    cr_assert_eq(mk_wakeup_open(&w), 0);
    struct posting p = { .w = &w };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, poster, &p), 0);
    int woken = 0;
    for (; woken < 3000; woken++) {
        if (!readable(mk_wakeup_wait_fd(&w), 2000))
            break;
        mk_wakeup_take(&w);
    }
    __atomic_store_n(&p.stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(woken, 3000, "posts stopped waking the waiter after %d takes", woken);
    mk_wakeup_close(&w);
}

Test(wakeup, a_number_the_program_reused_is_never_written)
{
    struct mk_wakeup w = MK_WAKEUP_NONE;
    cr_assert_eq(mk_wakeup_open(&w), 0);
    int old_wr = w.wr.fd;
    char path[] = "/tmp/memkit-wakeup-XXXXXX";
    int file = mkstemp(path);
    cr_assert_geq(file, 0);
    unlink(path);
    /* The program closes memkit's number and puts its own file there. */
    cr_assert_eq(dup2(file, old_wr), old_wr);
    mk_wakeup_post(&w);
    struct stat st;
    cr_assert_eq(fstat(file, &st), 0);
    cr_assert_eq(st.st_size, 0, "the program's file was written");

    /* The waiter makes a new pipe, elsewhere, and posts wake it again. */
    int fd = mk_wakeup_wait_fd(&w);
    cr_assert_geq(fd, 0);
    cr_assert_neq(w.wr.fd, old_wr);
    mk_wakeup_post(&w);
    cr_assert(readable(fd, 0));
    cr_assert_eq(fstat(file, &st), 0);
    cr_assert_eq(st.st_size, 0);
    cr_assert_eq(fcntl(old_wr, F_GETFD), 0, "the program's descriptor was closed");
    close(old_wr);
    close(file);
    mk_wakeup_close(&w);
}

Test(wakeup, the_end_the_program_left_is_closed_when_the_pipe_is_made_anew)
{
    struct mk_wakeup w = MK_WAKEUP_NONE;
    cr_assert_eq(mk_wakeup_open(&w), 0);
    close(w.rd.fd);   /* the program closes one of memkit's numbers */
    int fd = mk_wakeup_wait_fd(&w);
    cr_assert_geq(fd, 0);
    /* memkit's numbers (900 and up) are the new pipe's two, no more. */
    int high = 0;
    for (int n = 900; n < 1024; n++)
        high += fcntl(n, F_GETFD) != -1;
    cr_assert_eq(high, 2, "%d descriptors from 900 up: the old write end was left open", high);
    mk_wakeup_post(&w);
    cr_assert(readable(fd, 0));
    mk_wakeup_close(&w);
}
