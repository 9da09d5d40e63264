/* lifecycle.c — start, fork and exit of a process carrying memkit. */
#include "lifecycle.h"
#include "fd_io.h"
#include "kept_files.h"
#include "loader_text.h"
#include "memkit.h"
#include "counters.h"
#include "compact.h"
#include "detour.h"
#include "log.h"
#include "monitor.h"
#include "options.h"
#include "process.h"
#include "real.h"
#include "release.h"
#include "sample.h"
#include "timeline.h"
#include "checkpoint.h"
#include "scope.h"
#include "warn.h"
#include "prom.h"
#include "report.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

int mk_mode = MK_MODE_UNINIT;
static int started;   /* the constructor ran and memkit is counting */

void mk_init_early(void)
{
    int expect = MK_MODE_UNINIT;
    if (!__atomic_compare_exchange_n(&mk_mode, &expect, MK_MODE_RESOLVING, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    struct mk_thread *t = &mk_self;
    uint8_t busy = t->busy;
    t->busy = 1;
    /* If even the real malloc cannot be found (it always can while libc is
     * loaded), memkit stays resolving and the bootstrap buffer serves until
     * it runs out: a failed allocation, never a crash. */
    if (mk_real_resolve() == 0)
        __atomic_store_n(&mk_mode, MK_MODE_COUNTING, __ATOMIC_RELEASE);
    t->busy = busy;
}

static int finished;      /* the report is being written, or was */
static int written;       /* ... and is done */
static pid_t finisher;    /* the thread writing it */

/* ---- fork ---------------------------------------------------------------------
 * The child has one thread, and memkit holds no lock a vanished thread could
 * own (counters are lock-free), so the child only resets: its own start
 * time and pid, and counts of its own. Called from fork, possibly inside a
 * signal handler: async-signal-safe. */
static void after_fork_child(void)
{
    int saved = errno;
    /* A child forked while its parent was exiting writes its own report. */
    finished = 0;
    written = 0;
    finisher = 0;
    mk_fd_table_reserve();
    mk_kept_after_fork_child();
    mk_process_capture();
    mk_counters_after_fork_child(&mk_self);
    mk_options_after_fork_child();
    mk_monitor_after_fork_child();
    mk_detour_after_fork_child();
    mk_timeline_reset();
    mk_checkpoints_reset();   /* the child's report has its own */
    mk_scopes_reset();
    mk_warn_reset();
    mk_compact_after_fork_child(0);
    mk_report_after_fork_child();
    mk_prom_after_fork_child();
    errno = saved;
}

/* ---- start ---------------------------------------------------------------------- */
__attribute__((constructor(101))) static void memkit_start(void)
{
    int saved = errno;
    mk_init_early();
    struct mk_thread *t = &mk_self;
    uint8_t busy = t->busy;
    t->busy = 1;
    if (getauxval(AT_SECURE)) {
        /* setuid or setgid: read no environment, write no file. */
        __atomic_store_n(&mk_mode, MK_MODE_PASSTHROUGH, __ATOMIC_RELEASE);
        t->block = NULL;
        t->own_glibc = 0;
    } else {
        mk_log_init();
        mk_options_load_env();
        if (mk_opt_num(MK_OPT_DISABLE)) {
            __atomic_store_n(&mk_mode, MK_MODE_PASSTHROUGH, __ATOMIC_RELEASE);
            t->block = NULL;   /* claimed by calls before this constructor */
            t->own_glibc = 0;
        } else {
            mk_fd_table_reserve();
            mk_process_capture();
            mk_counters_init();
            mk_report_prepare();
            mk_release_detect((void *)mk_real.malloc);
            mk_loader_text_find();
            pthread_atfork(NULL, NULL, after_fork_child);
            mk_sample_at_start();
            started = 1;
        }
    }
    t->busy = busy;
    errno = saved;
}

/* ---- exit ------------------------------------------------------------------------
 * The exiting thread writes the report, once. Other threads may still
 * allocate: the snapshot is exact for every call that had returned. Nothing
 * is printed (a line at exit breaks programs that check stderr); a failure
 * is logged only at MEMKIT_LOG=info. */

/* A second exit while the report is being written (another thread's, or
 * a signal handler's on another thread) waits for it, a while: the
 * process ends at that exit, and would take the report with it. The
 * writing thread's own handlers wait until it is done (signals blocked);
 * faults are left alone. */
static void wait_for_the_writer(void)
{
    if (gettid() == __atomic_load_n(&finisher, __ATOMIC_ACQUIRE))
        return;
    for (int ms = 0; !__atomic_load_n(&written, __ATOMIC_ACQUIRE) && ms < 2000; ms++) {
        struct timespec one = { 0, 1000000 };
        nanosleep(&one, NULL);
    }
}

/* The outputs at exit, on whatever stack finish() gives them. */
static void write_outputs(void)
{
    mk_monitor_stop();
    mk_prom_at_exit();
    mk_report_write();
}

/* Writing the report takes some 30 KiB of stack (paths, ELF notes), more
 * than a thread started with a small stack, or a crash handler on an
 * alternate signal stack that calls _exit, has left: the writing runs on
 * a stack memkit maps for it, or on the caller's if none can be had. */
#define MK_EXIT_STACK (256u * 1024u)
static ucontext_t exit_caller, exit_writer;

static void write_outputs_on_own_stack(void)
{
    void *stack = mk_pages_alloc(MK_EXIT_STACK);
    if (!stack || getcontext(&exit_writer) != 0) {
        write_outputs();
    } else {
        exit_writer.uc_stack.ss_sp = stack;
        exit_writer.uc_stack.ss_size = MK_EXIT_STACK;
        exit_writer.uc_link = &exit_caller;
        makecontext(&exit_writer, write_outputs, 0);
        if (swapcontext(&exit_caller, &exit_writer) != 0)
            write_outputs();
    }
    if (stack)
        mk_pages_free(stack, MK_EXIT_STACK);
}

static void finish(void)
{
    /* A vfork child, or one made by a raw clone or fork system call (no
     * fork handler ran), holds its parent's figures: it writes nothing. */
    if (!started || __atomic_load_n(&mk_mode, __ATOMIC_ACQUIRE) != MK_MODE_COUNTING ||
        getpid() != mk_process()->pid)
        return;
    if (__atomic_exchange_n(&finished, 1, __ATOMIC_ACQ_REL)) {
        wait_for_the_writer();
        return;
    }
    int saved = errno;
    __atomic_store_n(&finisher, gettid(), __ATOMIC_RELEASE);
    struct mk_thread *t = &mk_self;
    uint8_t busy = t->busy;
    t->busy = 1;
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    write_outputs_on_own_stack();
    __atomic_store_n(&written, 1, __ATOMIC_RELEASE);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    t->busy = busy;
    errno = saved;
}

__attribute__((destructor)) static void memkit_finish(void)
{
    finish();
}

/* _exit and _Exit skip destructors, and some programs always leave that way
 * (dash, the shell behind `sh -c` on Debian, does): without this, the shell
 * of a pipeline would leave no report. (A vfork child, which shares its
 * parent's memory, is left alone by finish() itself.) */
static __attribute__((noreturn)) void leave(int status)
{
    finish();
    for (;;) {
        syscall(SYS_exit_group, status);
        syscall(SYS_exit, status);
    }
}

MEMKIT_API void _exit(int status)
{
    leave(status);
}

MEMKIT_API void _Exit(int status)
{
    leave(status);
}

/* exit on a second thread while the first writes the report: glibc runs
 * no destructor there (the first thread is running them) and ends the
 * process, report and all. So it waits for the writer first; then glibc's
 * exit as usual. */
MEMKIT_API void exit(int status)
{
    static void (*real_exit)(int);
    if (__atomic_load_n(&finished, __ATOMIC_ACQUIRE))
        wait_for_the_writer();
    if (!real_exit)
        real_exit = (void (*)(int))dlsym(RTLD_NEXT, "exit");
    if (real_exit)
        real_exit(status);
    leave(status);
}
