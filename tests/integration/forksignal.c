/* forksignal.c — fork from a signal handler while the only thread
 * allocates.
 *
 * An interval timer raises SIGALRM every millisecond; the handler forks
 * (fork is async-signal-safe in a single-threaded process) and the child
 * leaves at once with _exit(0). Meanwhile the main thread allocates,
 * reallocates and frees in a loop, checking contents. After FORKS forks
 * the timer stops and every child is reaped.
 *
 * A memkit that takes a lock, or starts a thread, in the paths a fork
 * reaches would hang here or lose children: run it under `timeout`.
 * Output (deterministic): the number of forks and of children that exited
 * with 0. Exit status 0 when all is well. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKS 60

static volatile sig_atomic_t forks, fork_errors;
static pid_t children[FORKS];

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    if (forks < FORKS) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid > 0)
            children[forks++] = pid;
        else
            fork_errors++;
    }
    errno = saved;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
    setitimer(ITIMER_REAL, &it, NULL);

    enum { SLOTS = 128 };
    unsigned char *slot[SLOTS] = { 0 };
    size_t len[SLOTS] = { 0 };
    unsigned long n = 0;
    int bad = 0;
    while (forks < FORKS && !fork_errors) {
        size_t i = (n * 31) % SLOTS;
        if (slot[i]) {
            for (size_t j = 0; j < len[i]; j++)
                if (slot[i][j] != (unsigned char)(i + j))
                    bad = 1;
            if (n % 4 == 0) {
                unsigned char *g = realloc(slot[i], len[i] * 2 + 1);
                if (g) {
                    for (size_t j = 0; j < len[i]; j++)
                        if (g[j] != (unsigned char)(i + j))
                            bad = 1;
                    slot[i] = g;
                }
            }
            free(slot[i]);
        }
        len[i] = 1 + (n * 2654435761u) % (n % 64 == 0 ? 200000 : 2000);
        slot[i] = (n % 5) ? malloc(len[i]) : calloc(1, len[i]);
        if (!slot[i]) {
            bad = 1;
            break;
        }
        for (size_t j = 0; j < len[i]; j++)
            slot[i][j] = (unsigned char)(i + j);
        n++;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    for (int i = 0; i < SLOTS; i++)
        free(slot[i]);

    int ok = 0;
    for (int k = 0; k < forks; k++) {
        int status;
        pid_t r;
        do
            r = waitpid(children[k], &status, 0);
        while (r < 0 && errno == EINTR);
        if (r == children[k] && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
    }
    printf("forks=%d children_exit0=%d fork_errors=%d contents=%s\n", (int)forks, ok,
           (int)fork_errors, bad ? "BAD" : "ok");
    return (ok == FORKS && !bad && !fork_errors) ? 0 : 1;
}
