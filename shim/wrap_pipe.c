/* wrap_pipe.c — pipe2, forwarded; the pipe libunwind opens while memkit
 * takes a sample is moved high.
 *
 * libunwind opens a pipe on its first use in a process (it can check
 * addresses through it), which is memkit's first sample. Made at the
 * lowest free numbers, it would take a descriptor the program is about to
 * get: a child between fork and exec that closed its standard input and
 * takes a sample meanwhile would find its next open() at another number,
 * and the program it runs with one descriptor missing (CPython's
 * test_subprocess saw EBADF). So a pipe made while memkit is inside
 * libunwind (tls.h: unwinding) is moved from 900 up, where memkit keeps
 * its own descriptors (fd_io.h). libunwind keeps the numbers it is given.
 * Every other call goes straight to the real pipe2, or to the system call
 * before memkit has resolved it. */
#include "fd_io.h"
#include "memkit.h"
#include "real.h"
#include "tls.h"

#include <sys/syscall.h>
#include <unistd.h>

MEMKIT_API int pipe2(int fds[2], int flags)
{
    int rc = mk_real.pipe2 ? mk_real.pipe2(fds, flags)
                           : (int)syscall(SYS_pipe2, fds, flags);
    if (rc == 0 && __builtin_expect(mk_self.unwinding, 0)) {
        fds[0] = mk_fd_move_high(fds[0]);   /* errno kept; stays low if it cannot move */
        fds[1] = mk_fd_move_high(fds[1]);
    }
    return rc;
}
