/* probes.c — a program that uses the probe API, run preloaded by
 * test_probes.sh, which checks what its report says. It finds the
 * functions with dlsym (memkit only preloaded). It sets MEMKIT_WARN 48 MiB
 * above its RSS, then crosses it, falls back below 90% of it, crosses it
 * again (two warnings expected), and hovers above the line without
 * falling back (no third). Prints "done" at the end. */
#include "memkit.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int (*check)(const char *, memkit_memory_info_t *);
static int (*config_set)(const char *, const char *);
static memkit_probe_t *(*begin)(const char *, memkit_level_t);
static void (*end)(memkit_probe_t *);

#define MIB (1u << 20)

static char *grab(size_t bytes)
{
    char *p = malloc(bytes);   /* large: an mmap of its own, unmapped by free */
    if (p)
        memset(p, 1, bytes);
    return p;
}

static uint64_t rss(const char *label)
{
    memkit_memory_info_t info = { .size = sizeof info };
    if (check(label, &info) != 0) {
        perror("memkit_check");
        exit(1);
    }
    return info.rss;
}

static void *worker(void *arg)
{
    for (int i = 0; i < 1000; i++) {
        memkit_probe_t *p = begin("worker", MEMKIT_LEVEL_MEDIUM);
        free(malloc(4096));
        end(p);
    }
    return arg;
}

int main(void)
{
    check = (int (*)(const char *, memkit_memory_info_t *))dlsym(RTLD_DEFAULT, "memkit_check");
    config_set = (int (*)(const char *, const char *))dlsym(RTLD_DEFAULT, "memkit_config_set");
    begin = (memkit_probe_t * (*)(const char *, memkit_level_t))dlsym(RTLD_DEFAULT,
                                                                      "memkit_probe_begin");
    end = (void (*)(memkit_probe_t *))dlsym(RTLD_DEFAULT, "memkit_probe_end");
    if (!check || !config_set || !begin || !end) {
        puts("no memkit");
        return 0;
    }
    uint64_t base = rss("start");
    char line[32];
    snprintf(line, sizeof line, "%lluM", (unsigned long long)(base / MIB + 48));
    config_set("MEMKIT_WARN", line);

    memkit_probe_t *outer = begin("phase", MEMKIT_LEVEL_HIGH);
    memkit_probe_t *inner = begin("grow", MEMKIT_LEVEL_MEDIUM);
    char *a = grab(64 * MIB);
    end(inner);
    rss("up");             /* crossing 1 */
    free(a);
    rss("down");           /* below 90%: armed again */
    a = grab(64 * MIB);
    rss("up");             /* crossing 2 */
    char *b = grab(8 * MIB);
    rss("up");             /* still above: no warning */
    free(b);
    rss("up");             /* above 90% of the line: still disarmed */
    free(a);
    end(outer);

    memkit_probe_t *crit = begin("critical", MEMKIT_LEVEL_CRITICAL);
    free(malloc(100));
    end(crit);

    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    puts("done");
    return 0;
}
