/* proc_self.c — RSS and peak RSS of this process. */
#include "proc_self.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Reads a small /proc file into buf (NUL-terminated); returns its length
 * or -1. Loops on EINTR; never allocates. */
static long slurp(const char *path, char *buf, size_t len)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < len - 1) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (long)got;
}

static uint64_t parse_u64(const char *s)
{
    uint64_t v = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

uint64_t mk_proc_rss(void)
{
    int saved = errno;
    char buf[128];
    uint64_t rss = 0;
    if (slurp("/proc/self/statm", buf, sizeof buf) > 0) {
        const char *second = strchr(buf, ' ');   /* size resident shared ... */
        if (second)
            rss = parse_u64(second) * (uint64_t)sysconf(_SC_PAGESIZE);
    }
    errno = saved;
    return rss;
}

uint64_t mk_proc_rss_peak(void)
{
    int saved = errno;
    char buf[4096];
    uint64_t kib = 0;
    if (slurp("/proc/self/status", buf, sizeof buf) > 0) {
        const char *line = strstr(buf, "\nVmHWM:");
        if (line)
            kib = parse_u64(line + 7);
    }
    errno = saved;
    return kib * 1024;
}
