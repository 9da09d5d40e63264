/* tortlib.c — a library torture.c opens with dlopen (and RTLD_DEEPBIND):
 * it allocates in its constructor and hands blocks to the program; and it
 * has 96 MiB of thread-local storage, which glibc allocates for a thread
 * that touches it and frees when the thread is gone. */
#include <stdlib.h>
#include <string.h>

static char *kept;

__attribute__((constructor)) static void tortlib_start(void)
{
    kept = malloc(4096);
    if (kept)
        memset(kept, 7, 4096);
}

__attribute__((destructor)) static void tortlib_end(void)
{
    free(kept);
}

void *tortlib_make(size_t n)
{
    char *p = malloc(n);
    if (p)
        memset(p, 5, n);
    return p;
}

void tortlib_drop(void *p)
{
    free(p);
}

/* Exported, so that the compiler keeps it (only written here). */
__thread char tortlib_tls[96 << 20];

void tortlib_touch_tls(void)
{
    tortlib_tls[0] = 1;
    tortlib_tls[sizeof tortlib_tls - 1] = 1;
}
