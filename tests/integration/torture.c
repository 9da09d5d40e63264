/* torture.c — the shapes of program that break malloc interposers, one per
 * argument (run them in order):
 *
 *   fork-stdio      fork from 2 threads while 2 others allocate and call
 *                   fflush(NULL) and getline (glibc bug 19431's shape);
 *                   each child uses malloc and a stream of its own, then
 *                   _exit(0)
 *   spawn           vfork+exec, posix_spawn, and exec with memkit taken
 *                   out of the environment (/bin/true each time)
 *   churn N         N threads created and joined, each allocating
 *   tls-dtor        thread-exit destructors (pthread keys, C11
 *                   thread-locals' cleanup) that allocate and free
 *   dlopen LIB N    dlopen/dlclose LIB N times, calling its allocating
 *                   function each time
 *   deepbind LIB    LIB opened RTLD_DEEPBIND: its malloc and free are
 *                   libc's own; blocks cross between it and the program
 *   exit-busy       exit while 3 threads still allocate
 *   signal-alloc    a SIGALRM handler allocates and frees while the main
 *                   thread computes
 *   closefrom       closes every descriptor from 3 up while memkit's
 *                   monitor runs, then uses the numbers: nothing of
 *                   memkit's may reach them
 *   fork-return     a thread forks; the child's only thread returns from
 *                   its start function, which must end the child
 *   main-exit       main calls pthread_exit; the process ends when its
 *                   last thread returns (status 0)
 *   sample-fds      closes its standard input, allocates 64 MiB (memkit
 *                   samples, and libunwind opens its pipe on the first
 *                   sample), opens a file: it gets descriptor 0, and
 *                   nothing else is open below 10
 *   tls-join LIB    a thread on the program's own stack touches LIB's 96
 *                   MiB of thread-local storage and is joined (glibc frees
 *                   it under its stack cache lock)
 *   exit-small-stack  a thread with the smallest stack allowed calls
 *                   exit(5)
 *   altstack-exit   a SIGSEGV handler on an 8 KiB alternate stack calls
 *                   _exit(42)
 *   exit-race       main and another thread call exit at once
 *   fd-table        prints the size of its descriptor table (FDSize) and
 *                   that of a fork child: memkit grows it in advance
 *                   (output differs under memkit: compared on its own)
 *
 * Prints one deterministic line per step; exit status 0 when all is well. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

extern char **environ;
static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "torture: %s\n", what);
        failures++;
    }
}

/* ---- fork-stdio ---- */
static volatile int stop;

static void *allocator_thread(void *arg)
{
    (void)arg;
    void *slots[32] = { 0 };
    for (unsigned n = 0; !__atomic_load_n(&stop, __ATOMIC_RELAXED); n++) {
        unsigned i = n % 32;
        free(slots[i]);
        slots[i] = malloc(16 + (n * 37) % 3000);
        if (n % 64 == 0)
            fflush(NULL);
    }
    for (int i = 0; i < 32; i++)
        free(slots[i]);
    return NULL;
}

/* Reads a file over and over with getline (a regular file: a read never
 * blocks holding the stream's lock, which would stall fflush(NULL) and
 * fork in plain glibc too). */
static void *reader_thread(void *arg)
{
    const char *path = arg;
    char *line = NULL;
    size_t cap = 0;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        FILE *in = fopen(path, "r");
        if (!in)
            break;
        while (getline(&line, &cap, in) > 0)
            ;
        fclose(in);
    }
    free(line);
    return NULL;
}

static void *forker_thread(void *arg)
{
    int *bad = arg;
    for (int k = 0; k < 10; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            /* Its own stream only: a FILE another thread of the parent
             * held at the fork stays locked in the child (fflush(NULL) or
             * exit's flush would wait for ever, with or without memkit),
             * so the child leaves with _exit. */
            char *p = malloc(1000);
            FILE *f = fopen("/dev/null", "w");
            int ok = p && f && fprintf(f, "child %d\n", k) > 0 && fflush(f) == 0;
            free(p);
            if (f)
                fclose(f);
            _exit(ok ? 0 : 3);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            (*bad)++;
    }
    return NULL;
}

static void fork_stdio(void)
{
    char path[] = "torture-lines.XXXXXX";
    int fd = mkstemp(path);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    check(out != NULL, "fork-stdio: a scratch file");
    if (!out)
        return;
    for (int i = 0; i < 2000; i++)
        fprintf(out, "line %d of the file\n", i);
    fclose(out);
    pthread_t alloc[2], reader, forker[2];
    int bad[2] = { 0, 0 };
    for (int i = 0; i < 2; i++)
        pthread_create(&alloc[i], NULL, allocator_thread, NULL);
    pthread_create(&reader, NULL, reader_thread, path);
    for (int i = 0; i < 2; i++)
        pthread_create(&forker[i], NULL, forker_thread, &bad[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(forker[i], NULL);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    pthread_join(reader, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(alloc[i], NULL);
    stop = 0;
    unlink(path);
    printf("fork-stdio children_failed=%d\n", bad[0] + bad[1]);
    check(bad[0] + bad[1] == 0, "fork-stdio: a child failed");
}

/* ---- spawn ---- */
static int exited_zero(pid_t pid)
{
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static void spawn(void)
{
    char *argv[] = { "true", NULL };
    pid_t pid = vfork();
    if (pid == 0) {
        execve("/bin/true", argv, environ);
        _exit(127);
    }
    int vfork_ok = exited_zero(pid);

    pid_t sp;
    int spawn_ok = posix_spawn(&sp, "/bin/true", NULL, NULL, argv, environ) == 0 && exited_zero(sp);

    /* The environment without LD_PRELOAD: the new program runs without memkit. */
    char *clean[64];
    int n = 0;
    for (char **e = environ; *e && n < 63; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
            clean[n++] = *e;
    clean[n] = NULL;
    pid = fork();
    if (pid == 0) {
        execve("/bin/true", argv, clean);
        _exit(127);
    }
    int exec_ok = exited_zero(pid);
    printf("spawn vfork=%d posix_spawn=%d exec_without=%d\n", vfork_ok, spawn_ok, exec_ok);
    check(vfork_ok && spawn_ok && exec_ok, "spawn");
}

/* ---- churn ---- */
static void *short_thread(void *arg)
{
    uintptr_t k = (uintptr_t)arg;
    char *p = malloc(64 + k % 4000);
    char *q = calloc(1, 256);
    if (p)
        memset(p, 1, 64);
    p = realloc(p, 8000);
    free(q);
    return p;   /* the joiner frees it: across threads */
}

static void churn(int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        void *r = NULL;
        if (pthread_create(&t, NULL, short_thread, (void *)(uintptr_t)i) == 0 &&
            pthread_join(t, &r) == 0 && r)
            ok++;
        free(r);
    }
    printf("churn threads=%d ok=%d\n", n, ok);
    check(ok == n, "churn");
}

/* ---- tls-dtor ---- */
static pthread_key_t key;
static int dtor_runs;

static void key_dtor(void *v)
{
    char *p = malloc(4096);   /* allocates during thread exit */
    if (p)
        memset(p, 2, 4096);
    free(p);
    free(v);
    __atomic_add_fetch(&dtor_runs, 1, __ATOMIC_RELAXED);
}

static void *tls_thread(void *arg)
{
    (void)arg;
    pthread_setspecific(key, malloc(100));
    return NULL;
}

static void tls_dtor(void)
{
    pthread_key_create(&key, key_dtor);
    for (int i = 0; i < 50; i++) {
        pthread_t t;
        pthread_create(&t, NULL, tls_thread, NULL);
        pthread_join(t, NULL);
    }
    printf("tls-dtor runs=%d\n", dtor_runs);
    check(dtor_runs == 50, "tls-dtor");
}

/* ---- dlopen ---- */
static void dlopen_loop(const char *lib, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            continue;
        void *(*make)(size_t) = (void *(*)(size_t))dlsym(h, "tortlib_make");
        void (*drop)(void *) = (void (*)(void *))dlsym(h, "tortlib_drop");
        if (make && drop) {
            void *p = make(1000 + i);
            void *q = malloc(50);
            drop(q);          /* the library frees the program's block */
            free(p);          /* and the program the library's */
            ok += p != NULL;
        }
        dlclose(h);
    }
    printf("dlopen rounds=%d ok=%d\n", n, ok);
    check(ok == n, "dlopen");
}

static void deepbind(const char *lib)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    int ok = 0;
    if (h) {
        void *(*make)(size_t) = (void *(*)(size_t))dlsym(h, "tortlib_make");
        void (*drop)(void *) = (void (*)(void *))dlsym(h, "tortlib_drop");
        for (int i = 0; make && drop && i < 1000; i++) {
            void *p = make(16 + (size_t)i * 13);
            void *q = malloc(16 + (size_t)i * 7);
            if (p && q) {
                free(p);
                drop(q);
                ok++;
            }
        }
        dlclose(h);
    }
    printf("deepbind ok=%d\n", ok);
    check(ok == 1000, "deepbind");
}

/* ---- main-exit, fork-return ----
 * The program's last thread ends without exit(): glibc ends the process
 * then, and a thread of memkit's must not keep it alive. */
static void churn_heap(void)
{
    for (int i = 0; i < 64; i++)
        free(malloc(64 * 1024));   /* 4 MiB freed: memkit's release checks run */
    usleep(200000);
}

static void *last_worker(void *arg)
{
    (void)arg;
    churn_heap();
    printf("main-exit worker done\n");
    return NULL;   /* the last thread: the process ends, status 0 */
}

static void main_exit(void)
{
    pthread_t t;
    pthread_create(&t, NULL, last_worker, NULL);
    pthread_exit(NULL);
}

static void *forking_thread(void *arg)
{
    int *ok = arg;
    pid_t pid = fork();
    if (pid == 0) {
        churn_heap();
        return NULL;   /* the child's only thread returns: the child ends */
    }
    int status = 0;
    for (int waited = 0; waited < 200; waited++) {   /* 10 s */
        if (waitpid(pid, &status, WNOHANG) == pid) {
            *ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            return NULL;
        }
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return NULL;
}

static void fork_return(void)
{
    pthread_t t;
    int ok = 0;
    pthread_create(&t, NULL, forking_thread, &ok);
    pthread_join(t, NULL);
    printf("fork-return child_exited=%d\n", ok);
    check(ok, "fork-return: the child did not end when its only thread returned");
}

/* ---- closefrom ----
 * A daemon's closefrom(3) while memkit's monitor holds descriptors: the
 * numbers become the program's, and memkit must never write, read or
 * close them (nor in a fork child). */
static void close_from_3(void)
{
    for (int i = 0; i < 64; i++)
        free(malloc(256 * 1024));   /* the monitor starts (MEMKIT_THREAD_MIN=0) */
    usleep(300000);
    for (int fd = 3; fd < 4096; fd++)
        close(fd);
    int p[2];
    check(pipe(p) == 0, "closefrom: pipe");
    char path[] = "torture-closefrom.XXXXXX";
    int f = mkstemp(path);
    check(f >= 0 && write(p[1], "hello", 5) == 5, "closefrom: file and pipe");
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 64; i++)
            free(malloc(256 * 1024));   /* wake-ups, compactions */
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        waitpid(pid, NULL, 0);
        usleep(100000);
    }
    check(write(f, "data\n", 5) == 5, "closefrom: write");
    char buf[64] = "";
    ssize_t n = pread(f, buf, sizeof buf, 0);
    close(f);
    unlink(path);
    close(p[1]);
    char got[64] = "";
    ssize_t m = read(p[0], got, sizeof got);
    close(p[0]);
    printf("closefrom file=%zd:%.*s pipe=%zd:%.*s\n", n, (int)(n > 0 ? n - 1 : 0), buf, m,
           (int)(m > 0 ? m : 0), got);
    check(n == 5 && m == 5, "closefrom: memkit touched the program's descriptors");
}

/* ---- closed-stdio ----
 * A program closes its standard descriptors for a while (CPython's tests
 * do, then dup2() saved ones back) while memkit's monitor writes snapshot
 * reports and reads /proc. memkit's descriptors must not stay at those
 * numbers: the program's dup2() would make memkit's file its stdout, and
 * memkit would write into it and close it. test_torture.sh traces the
 * run and checks that each descriptor memkit opens here is moved high at
 * once. */
static void closed_stdio(void)
{
    for (int i = 0; i < 64; i++)
        free(malloc(256 * 1024));   /* the monitor starts (MEMKIT_THREAD_MIN=0) */
    int saved[3];
    for (int fd = 0; fd < 3; fd++)
        saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    for (int fd = 0; fd < 3; fd++)
        close(fd);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int i = 0; i < 16; i++)
            free(malloc(256 * 1024));   /* wake-ups, compactions */
        usleep(2000);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
    int restored = 1;
    for (int fd = 0; fd < 3; fd++) {
        restored &= dup2(saved[fd], fd) == fd;
        close(saved[fd]);
    }
    printf("closed-stdio: restored %d\n", restored);
    check(restored, "closed-stdio: dup2 back");
}

/* ---- signal-alloc ----
 * A handler that allocates (not async-signal-safe, but common): while the
 * main thread computes and never allocates, which glibc alone survives.
 * memkit's wrappers run inside the handler: they must too. */
static volatile sig_atomic_t handled;

static void allocating_handler(int sig)
{
    (void)sig;
    int saved = errno;
    char *p = malloc(64 + (size_t)handled * 97 % 20000);
    char *q = calloc(1, 4096);
    if (p && q)
        handled++;
    free(p);
    free(q);
    errno = saved;
}

static void signal_alloc(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = allocating_handler;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, &old);
    struct itimerval it = { { 0, 500 }, { 0, 500 } };
    setitimer(ITIMER_REAL, &it, NULL);
    volatile uint64_t x = 1;
    while (handled < 300)
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005ull + 1;
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    printf("signal-alloc handled>=300: %d\n", handled >= 300);
}

/* ---- fd-table ---- */
static long fd_table_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long size = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "FDSize: %ld", &size) == 1)
            break;
    if (f)
        fclose(f);
    return size;
}

static void fd_table(void)
{
    printf("fd-table parent %ld\n", fd_table_size());
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        printf("fd-table child %ld\n", fd_table_size());
        fflush(stdout);
        _exit(0);
    }
    if (!exited_zero(pid))
        failures++;
}

/* ---- exit-busy ---- */
static void exit_busy(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, allocator_thread, NULL);
    usleep(50000);
    printf("exit-busy\n");
    fflush(stdout);
    exit(failures ? 1 : 0);   /* the threads are still allocating */
}

/* ---- sample-fds ---- */
static void *volatile sample_sink;

static void sample_fds(void)
{
    close(0);
    for (int i = 0; i < 64; i++) {
        sample_sink = malloc(1 << 20);
        check(sample_sink != NULL, "sample-fds: malloc");
        free(sample_sink);
    }
    int fd = open("/dev/null", O_RDONLY);
    printf("sample-fds lowest-free=%d open-below-10:", fd);
    for (int i = 0; i < 10; i++)
        if (i != fd && fcntl(i, F_GETFD) >= 0)
            printf(" %d", i);
    printf("\n");
}

/* ---- tls-join ----
 * A thread on a stack of the program's own touches a dlopen'ed library's
 * 96 MiB of thread-local storage; pthread_join frees it while glibc holds
 * its thread-stack cache lock. Those 96 MiB are the process's first large
 * release: memkit must not start its monitor thread from inside that free
 * (pthread_create would wait for the same lock, for ever). */
static void *touch_tls(void *fn)
{
    ((void (*)(void))fn)();
    return NULL;
}

static void tls_join(const char *lib)
{
    void *h = dlopen(lib, RTLD_NOW);
    void *fn = h ? dlsym(h, "tortlib_touch_tls") : NULL;
    check(fn != NULL, "tls-join: dlopen");
    if (!fn)
        return;
    size_t size = 1 << 20;
    void *stack = aligned_alloc(4096, size);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, size);
    pthread_t t;
    int ok = pthread_create(&t, &attr, touch_tls, fn) == 0 && pthread_join(t, NULL) == 0;
    check(ok, "tls-join: thread");
    pthread_attr_destroy(&attr);
    free(stack);
    printf("tls-join %s\n", ok ? "joined" : "failed");
}

/* ---- exit-small-stack, altstack-exit ----
 * The process ends where little stack is left: exit(5) from a thread
 * started with the smallest stack allowed, and _exit(42) from a SIGSEGV
 * handler on an 8 KiB alternate stack. memkit writes its report at that
 * exit, and must neither crash nor change the status. */
static void *exit_from_small_stack(void *arg)
{
    (void)arg;
    exit(5);
}

static void exit_small_stack(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
    pthread_t t;
    if (pthread_create(&t, &attr, exit_from_small_stack, NULL) == 0)
        pthread_join(t, NULL);
    check(0, "exit-small-stack: the thread did not exit");
}

static void exit_from_handler(int sig)
{
    (void)sig;
    _exit(42);
}

static void altstack_exit(void)
{
    size_t size = 8192;
    char *region = mmap(NULL, size + 4096, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(region != MAP_FAILED, "altstack-exit: mmap");
    mprotect(region, 4096, PROT_NONE);   /* a guard page below it */
    stack_t st = { .ss_sp = region + 4096, .ss_size = size };
    sigaltstack(&st, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = exit_from_handler;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    fflush(stdout);
    raise(SIGSEGV);
}

/* ---- exit-race ----
 * main calls exit while another thread calls exit too: memkit is writing
 * its report on main's exit when the second arrives. */
static void *exit_as_well(void *arg)
{
    (void)arg;
    exit(0);
}

static void exit_race(void)
{
    for (int i = 0; i < 2000; i++)
        free(malloc(64 + (size_t)i));
    pthread_t t;
    pthread_create(&t, NULL, exit_as_well, NULL);
    exit(0);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "fork-stdio") == 0)
            fork_stdio();
        else if (strcmp(a, "spawn") == 0)
            spawn();
        else if (strcmp(a, "churn") == 0 && i + 1 < argc)
            churn(atoi(argv[++i]));
        else if (strcmp(a, "tls-dtor") == 0)
            tls_dtor();
        else if (strcmp(a, "dlopen") == 0 && i + 2 < argc) {
            dlopen_loop(argv[i + 1], atoi(argv[i + 2]));
            i += 2;
        } else if (strcmp(a, "deepbind") == 0 && i + 1 < argc)
            deepbind(argv[++i]);
        else if (strcmp(a, "exit-busy") == 0)
            exit_busy();
        else if (strcmp(a, "signal-alloc") == 0)
            signal_alloc();
        else if (strcmp(a, "closefrom") == 0)
            close_from_3();
        else if (strcmp(a, "closed-stdio") == 0)
            closed_stdio();
        else if (strcmp(a, "fork-return") == 0)
            fork_return();
        else if (strcmp(a, "main-exit") == 0)
            main_exit();
        else if (strcmp(a, "sample-fds") == 0)
            sample_fds();
        else if (strcmp(a, "fd-table") == 0)
            fd_table();
        else if (strcmp(a, "tls-join") == 0 && i + 1 < argc)
            tls_join(argv[++i]);
        else if (strcmp(a, "exit-small-stack") == 0)
            exit_small_stack();
        else if (strcmp(a, "altstack-exit") == 0)
            altstack_exit();
        else if (strcmp(a, "exit-race") == 0)
            exit_race();
        else {
            fprintf(stderr, "torture: unknown step %s\n", a);
            return 2;
        }
    }
    return failures ? 1 : 0;
}
