/* own_fd.h — the file descriptors memkit keeps open (the monitor's wake-up
 * pipe, its PSI trigger), kept out of the program's way.
 *
 * A program may close every descriptor from 3 up (daemons do, and shells
 * close the same number twice) and reuse the numbers: memkit must then
 * never write to, read from or close what is now the program's file. So
 * each descriptor is moved high (mk_fd_move_high, fd_io.h), its device
 * and inode are recorded, and every use checks them first (one fstat): a
 * descriptor that is no longer memkit's is forgotten, never closed. */
#ifndef MK_OWN_FD_H
#define MK_OWN_FD_H

#include <sys/types.h>

struct mk_own_fd {
    int   fd;                  /* -1: none */
    dev_t dev;
    ino_t ino;
};

#define MK_OWN_FD_NONE { -1, 0, 0 }

/* Takes fd, just opened by memkit: moved high and recorded. 0, or -1 (fd
 * closed, *o none). errno kept. */
int mk_own_fd_take(struct mk_own_fd *o, int fd);
/* Whether o is still the descriptor memkit opened. errno kept. */
int mk_own_fd_valid(const struct mk_own_fd *o);
/* Closes o if it is still memkit's; forgets it either way. */
void mk_own_fd_close(struct mk_own_fd *o);

#endif
