/* sitesclang.c — built by test_sites_clang.sh with clang -g -O2 (no
 * .debug_aranges): known allocating functions whose frames memkit-report
 * must resolve to file:line, one of them inlined.
 *
 *   loop_allocs        allocates in a loop (not inlined);
 *   inlined_alloc      always inlined into with_inlined, where it allocates.
 * Each line that calls malloc ends with a marker comment the test looks up
 * ("ALLOC-LOOP", "ALLOC-INLINED").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;
static void *kept[4000];

__attribute__((noinline)) static unsigned long loop_allocs(int n)
{
    unsigned long touched = 0;
    for (int i = 0; i < n; i++) {
        char *p = malloc(96 * 1024); /* ALLOC-LOOP */
        p[0] = (char)i;
        touched += (unsigned char)p[0];
        sink = p;
        free(p);
    }
    return touched;
}

static inline __attribute__((always_inline)) char *inlined_alloc(int i)
{
    char *p = malloc(40 * 1024); /* ALLOC-INLINED */
    memset(p, i, 8);
    return p;
}

__attribute__((noinline)) static unsigned long with_inlined(int n)
{
    unsigned long sum = 0;
    for (int i = 0; i < n; i++) {
        kept[i] = inlined_alloc(i);
        sum += (unsigned char)((char *)kept[i])[1];
    }
    return sum;
}

int main(void)
{
    unsigned long a = loop_allocs(20000);
    unsigned long b = with_inlined(4000);
    printf("done %lu %lu\n", a, b);
    for (int i = 0; i < 4000; i++)
        free(kept[i]);
    return 0;
}
