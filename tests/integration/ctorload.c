/* ctorload.c — linked with ctorlib (whose constructor allocates before
 * memkit has read its options); main then allocates 200 MB in 100 KB
 * blocks, which sampling must see. */
#include <stdlib.h>
#include <string.h>

extern void *ctorlib_kept[64];

int main(void)
{
    for (int i = 0; i < 2000; i++) {
        char *p = malloc(100 * 1000);
        if (!p)
            return 1;
        p[0] = (char)i;
        free(p);
    }
    return ctorlib_kept[0] ? 0 : 1;
}
