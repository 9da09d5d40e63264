/* process.c — facts about the process, taken at start and at fork. */
#include "process.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char *program_invocation_short_name;

static struct mk_process proc;

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t mk_now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

void mk_process_capture(void)
{
    int saved = errno;
    proc.pid = getpid();
    proc.ppid = getppid();
    proc.start_unix_ns = (int64_t)clock_ns(CLOCK_REALTIME);
    proc.start_mono_ns = clock_ns(CLOCK_MONOTONIC);
    if (!getcwd(proc.start_cwd, sizeof proc.start_cwd))
        proc.start_cwd[0] = '\0';
    const char *name = program_invocation_short_name;
    size_t n = name ? strnlen(name, sizeof proc.name - 1) : 0;
    memcpy(proc.name, name ? name : "", n);
    proc.name[n] = '\0';
    errno = saved;
}

const struct mk_process *mk_process(void)
{
    return &proc;
}
