/* closefds.c — programs that do things to their standard descriptors.
 *
 *   closefds close           prints, then closes stdout and stderr before
 *                            exit (as coreutils' close_stdout does);
 *                            exit status 0 when both closes succeeded.
 *   closefds reopen FILE     closes fd 2, opens FILE (which lands on fd 2),
 *                            writes one line of its own into it and exits:
 *                            FILE must hold exactly that line afterwards,
 *                            whatever memkit wants to say at exit.
 *   closefds reopen-out FILE the same with fd 1 and fd 2 both closed and
 *                            FILE landing on fd 1, a second file on fd 2.
 *
 * Each mode allocates a little first, so memkit has something to report. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void allocate_some(void)
{
    for (int i = 0; i < 1000; i++) {
        char *p = malloc((size_t)(i % 300) + 1);
        if (!p)
            exit(9);
        memset(p, 'x', (size_t)(i % 300) + 1);
        free(p);
    }
}

static int write_all(int fd, const char *s)
{
    size_t n = strlen(s);
    return write(fd, s, n) == (ssize_t)n ? 0 : -1;
}

int main(int argc, char **argv)
{
    allocate_some();
    if (argc >= 2 && strcmp(argv[1], "close") == 0) {
        printf("closing stdout and stderr now\n");
        if (fclose(stdout) != 0)
            return 2;
        if (close(2) != 0)
            return 3;
        allocate_some();
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "reopen") == 0) {
        printf("reopening fd 2 onto a file\n");
        fflush(stdout);
        close(2);
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd != 2) {
            printf("open gave fd %d, not 2\n", fd);
            return 4;
        }
        if (write_all(2, "the program's own line\n") != 0)
            return 5;
        allocate_some();
        printf("done\n");
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "reopen-out") == 0) {
        fflush(stdout);
        close(1);
        close(2);
        int fd1 = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char second[4096];
        snprintf(second, sizeof second, "%s.err", argv[2]);
        int fd2 = open(second, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd1 != 1 || fd2 != 2)
            return 6;
        if (write_all(1, "stdout line\n") != 0 || write_all(2, "stderr line\n") != 0)
            return 7;
        allocate_some();
        return 0;
    }
    fprintf(stderr, "usage: closefds close | reopen FILE | reopen-out FILE\n");
    return 64;
}
