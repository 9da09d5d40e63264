/* spawn.h — run a command the way a shell would, and wait for it. */
#ifndef MKT_SPAWN_H
#define MKT_SPAWN_H

#include <sys/types.h>

/* Runs argv (searched in PATH, as execvp does) with the current environment
 * and waits for it. SIGINT and SIGQUIT are ignored here while it runs (like
 * time(1)): a ^C goes to the command, and memkit still reports after it.
 *   0: it ran; *pid and the wait status *status are set
 *   1: it could not be started; *exec_errno says why (ENOENT: not found)
 *  -1: memkit itself failed (fork, pipe); errno set */
int mkt_spawn_wait(char *const argv[], pid_t *pid, int *status, int *exec_errno);

#endif
