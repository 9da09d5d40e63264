/* ctorlib.c — a library whose constructor allocates, as libstdc++'s does:
 * it runs before memkit's own constructor has read the options. */
#include <stdlib.h>

void *ctorlib_kept[64];

__attribute__((constructor)) static void ctorlib_start(void)
{
    for (int i = 0; i < 64; i++)
        ctorlib_kept[i] = malloc(16 * 1024);
}
