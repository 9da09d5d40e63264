/* forkthreads.c — fork while other threads allocate.
 *
 * Three threads allocate and free without pause; meanwhile the main thread
 * forks FORKS times. Each child allocates (malloc, calloc, realloc, free,
 * checked) and leaves with exit(0), so each child writes a report of its
 * own. The parent checks every child's exit status.
 *
 * Output (deterministic): one line per child with its status, then a
 * summary. Exit status 0 when all is well. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 3
#define FORKS 8

static volatile int stop;

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    void *slots[64] = { 0 };
    unsigned long n = 0;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        size_t i = (n * 7 + id) % 64;
        free(slots[i]);
        size_t len = 1 + ((n * 2654435761u + id) % (n % 50 == 0 ? 300000 : 3000));
        slots[i] = (n % 3) ? malloc(len) : calloc(1, len);
        if (slots[i])
            memset(slots[i], (int)(n & 0xff), len);
        n++;
    }
    for (int i = 0; i < 64; i++)
        free(slots[i]);
    return NULL;
}

static int child_work(int k)
{
    int ok = 1;
    char *blocks[200];
    for (int i = 0; i < 200; i++) {
        size_t len = 1 + (size_t)(i * 97 + k) % 5000;
        blocks[i] = (i % 2) ? malloc(len) : calloc(len, 1);
        if (!blocks[i])
            return 0;
        memset(blocks[i], i & 0xff, len);
    }
    for (int i = 0; i < 200; i++) {
        size_t len = 1 + (size_t)(i * 97 + k) % 5000;
        for (size_t j = 0; j < len; j++)
            if ((unsigned char)blocks[i][j] != (unsigned char)(i & 0xff))
                ok = 0;
        char *g = realloc(blocks[i], len * 3);
        if (!g)
            return 0;
        for (size_t j = 0; j < len; j++)
            if ((unsigned char)g[j] != (unsigned char)(i & 0xff))
                ok = 0;
        free(g);
    }
    /* a thread in the child too */
    pthread_t t;
    __atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
    if (pthread_create(&t, NULL, worker, (void *)(uintptr_t)99) != 0)
        return 0;
    usleep(2000);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    return ok;
}

int main(void)
{
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0) {
            perror("pthread_create");
            return 1;
        }
    int bad = 0;
    for (int k = 0; k < FORKS; k++) {
        usleep(3000);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            exit(child_work(k) ? 0 : 7);
        int status;
        if (waitpid(pid, &status, 0) != pid) {
            perror("waitpid");
            return 1;
        }
        int good = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        printf("child %d: %s\n", k, good ? "exit 0" : "FAILED");
        bad += !good;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("forks=%d failed=%d\n", FORKS, bad);
    return bad ? 1 : 0;
}
