/* wakeup.h — the monitor's wake-up pipe: any thread posts, the monitor
 * waits on the read end (poll) and takes what was posted.
 *
 * `pending` keeps what a busy free path writes to one byte between two
 * takes, and a post that finds it set costs one load (no system call).
 * The taker empties the pipe first and clears `pending` after: a post
 * that comes while it reads either finds pending still set (the monitor
 * has not decided yet, and will see what the post was about) or comes
 * after the clear and leaves its byte in the pipe (the next wait returns
 * at once). Clearing first lost wake-ups for good: a byte written between
 * the clear and the read was read, pending stayed set with the pipe empty,
 * and no thread wrote again.
 *
 * Both ends are memkit's own descriptors (own_fd.h), checked before use:
 * a number the program closed and reused is never written. */
#ifndef MK_WAKEUP_H
#define MK_WAKEUP_H

#include "own_fd.h"

struct mk_wakeup {
    struct mk_own_fd rd, wr;
    int pending;   /* a byte is written (or about to be) and not yet taken */
};

#define MK_WAKEUP_NONE { MK_OWN_FD_NONE, MK_OWN_FD_NONE, 0 }

/* Makes the pipe (non-blocking, close-on-exec, moved high). 0 or -1. */
int mk_wakeup_open(struct mk_wakeup *w);
/* Any thread: wakes the waiter unless a wake-up is pending already.
 * errno kept. */
void mk_wakeup_post(struct mk_wakeup *w);
/* The waiter, before it waits: makes the pipe anew when the program has
 * closed (and perhaps reused) either number. The descriptor to poll, or
 * -1 when there is no pipe. */
int mk_wakeup_wait_fd(struct mk_wakeup *w);
/* The waiter, when the read end is readable: empties the pipe, then
 * clears pending. */
void mk_wakeup_take(struct mk_wakeup *w);
/* Closes both ends where they are still memkit's. */
void mk_wakeup_close(struct mk_wakeup *w);
/* A fork child: forgets the parent's pipe (never written: it would wake
 * the parent), closing the numbers that are still memkit's. */
void mk_wakeup_reset(struct mk_wakeup *w);

#endif
