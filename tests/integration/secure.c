/* secure.c — what a setuid program sees of memkit: prints whether the
 * kernel marked it secure and whether memkit, if loaded, only passes calls
 * through (memkit_stats gives ENOSYS). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

int main(void)
{
    char *p = malloc(1000);
    memset(p, 1, 1000);
    free(p);
    printf("secure=%lu\n", getauxval(AT_SECURE));
    int (*stats)(void *) = (int (*)(void *))dlsym(RTLD_DEFAULT, "memkit_stats");
    if (!stats) {
        printf("memkit=absent\n");
        return 0;
    }
    /* A buffer larger than any memkit_stats_t, its size field set. */
    size_t buf[64] = { sizeof buf };
    errno = 0;
    int rc = stats(buf);
    printf("memkit=loaded stats=%d errno=%s\n", rc, errno == ENOSYS ? "ENOSYS" : strerror(errno));
    return 0;
}
