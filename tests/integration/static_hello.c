/* static_hello.c — a statically linked program: the loader never runs, so
 * LD_PRELOAD (and memkit) is simply absent. It allocates and prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *p = malloc(1 << 20);
    if (!p)
        return 1;
    memset(p, 'x', 1 << 20);
    printf("static %d\n", p[12345] == 'x');
    free(p);
    return 0;
}
