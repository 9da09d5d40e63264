/* sitesload.c — known allocation volumes from known functions, for the
 * sampled call sites' accuracy test (test_sites.sh).
 *
 *   sitesload [MODE]
 *     volumes   (default) big_blocks: 8000 x 100 KiB (~800 MB), freed as it
 *               goes; small_blocks: 2,000,000 x 100 B (~200 MB), freed;
 *               leaky: 3000 x 64 KiB kept to the end (~197 MB, pages
 *               untouched but the first). Prints the
 *               truth in usable bytes: "truth NAME CALLS BYTES".
 *     fork      allocates in a parent and a child, both sampled.
 *     deep      allocates from 2000 frames of recursion.
 *     badstack  allocates with a frame pointer and return address libunwind
 *               cannot follow (the process must not crash).
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;
static volatile unsigned long zero;

static void truth(const char *name, unsigned long calls, unsigned long long bytes)
{
    printf("truth %s %lu %llu\n", name, calls, bytes);
}

__attribute__((noinline)) static void big_blocks(void)
{
    unsigned long long bytes = 0;
    for (int i = 0; i < 8000; i++) {
        char *p = malloc(100 * 1024);
        p[0] = 1;
        bytes += malloc_usable_size(p);
        sink = p;
        free(p);
    }
    truth("big_blocks", 8000, bytes);
}

__attribute__((noinline)) static void small_blocks(void)
{
    enum { BATCH = 1000 };
    static void *held[BATCH];
    unsigned long long bytes = 0;
    for (int round = 0; round < 2000; round++) {
        for (int i = 0; i < BATCH; i++) {
            held[i] = malloc(100);
            bytes += malloc_usable_size(held[i]);
        }
        for (int i = 0; i < BATCH; i++)
            free(held[i]);
    }
    truth("small_blocks", 2000UL * BATCH, bytes);
}

static void *leaked[3000];

__attribute__((noinline)) static void leaky(void)
{
    unsigned long long bytes = 0;
    for (int i = 0; i < 3000; i++) {
        leaked[i] = malloc(64 * 1024);
        memset(leaked[i], 0, 16);
        bytes += malloc_usable_size(leaked[i]);
    }
    truth("leaky", 3000, bytes);
}

__attribute__((noinline)) static unsigned long recurse(int depth)
{
    if (depth == 0) {
        unsigned long n = 0;
        for (int i = 0; i < 200; i++) {
            void *p = malloc(64 * 1024);
            n += p != NULL;
            free(p);
        }
        return n;
    }
    return recurse(depth - 1) + zero;   /* no tail call: every frame stays */
}

/* Calls malloc with a garbage frame pointer: this function's unwind
 * information finds its caller through %rbp, which points into page zero
 * for the duration of the call, so the walk reads unmapped memory. */
__attribute__((noinline, optimize("no-omit-frame-pointer")))
static void bad_stack(void)
{
    for (int i = 0; i < 2000; i++) {
        void *p;
        __asm__ volatile(
            "push %%rbp\n\t"
            "push %%rbp\n\t"                /* two pushes: the stack stays 16-aligned */
            "mov $0x10, %%rbp\n\t"        /* a frame pointer into page zero */
            "mov $200000, %%edi\n\t"
            "call malloc@PLT\n\t"
            "pop %%rbp\n\t"
            "pop %%rbp\n\t"
            : "=a"(p)
            :
            : "rdi", "rsi", "rdx", "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
        free(p);
    }
}

/* A sampled block whose realloc and reallocarray fail: it is still live,
 * as it was, and its site must still count it. */
__attribute__((noinline)) static int failed_reallocs(void)
{
    unsigned char *p = malloc(64 * 1024);
    if (!p)
        return 1;
    memset(p, 0x5a, 64 * 1024);
    volatile size_t huge = SIZE_MAX / 4;   /* volatile: no compile-time overflow warning */
    for (int i = 0; i < 100; i++) {
        errno = 0;
        if (realloc(p, huge * 2) != NULL || errno != ENOMEM)
            return 1;
        if (reallocarray(p, huge, 8) != NULL || errno != ENOMEM)
            return 1;
    }
    if (p[0] != 0x5a || p[64 * 1024 - 1] != 0x5a)
        return 1;
    sink = p;   /* live at exit */
    printf("held %zu\n", malloc_usable_size(p));
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "volumes";
    if (strcmp(mode, "volumes") == 0) {
        big_blocks();
        small_blocks();
        leaky();
    } else if (strcmp(mode, "fork") == 0) {
        big_blocks();
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            big_blocks();
            leaky();
            fflush(stdout);
            _exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 1;
        leaky();
    } else if (strcmp(mode, "deep") == 0) {
        printf("allocated %lu\n", recurse(2000));
    } else if (strcmp(mode, "failed-realloc") == 0) {
        return failed_reallocs();
    } else if (strcmp(mode, "badstack") == 0) {
        bad_stack();
        printf("survived\n");
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
