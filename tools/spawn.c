/* spawn.c — fork, execvp, wait. The child reports a failed exec through a
 * close-on-exec pipe, so the parent tells "not found" from "exited 127". */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int mkt_spawn_wait(char *const argv[], pid_t *pid, int *status, int *exec_errno)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;

    /* Ignored before the fork, so no ^C can fall between fork and sigaction
     * and kill memkit; the child puts back what memkit was started with. */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit, dfl_chld;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    /* An inherited SIGCHLD=SIG_IGN would make waitpid fail with ECHILD. */
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, &dfl_chld);

    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        errno = e;
        return -1;
    }
    if (child == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        sigaction(SIGCHLD, &dfl_chld, NULL);
        close(fds[0]);
        execvp(argv[0], argv);
        int e = errno;
        ssize_t w = write(fds[1], &e, sizeof e);
        (void)w;   /* nothing more the child can do */
        _exit(127);
    }

    close(fds[1]);
    int e = 0;
    ssize_t got;
    do
        got = read(fds[0], &e, sizeof e);
    while (got < 0 && errno == EINTR);
    close(fds[0]);

    int st = 0;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    *pid = child;
    *status = st;
    if (got == (ssize_t)sizeof e) {
        *exec_errno = e;
        return 1;
    }
    return 0;
}
