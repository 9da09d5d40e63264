/* proc_self.c — RSS and peak RSS of this process. */
#include "proc_self.h"
#include "fd_io.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

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
    if (mk_read_file("/proc/self/statm", buf, sizeof buf) > 0) {
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
    if (mk_read_file("/proc/self/status", buf, sizeof buf) > 0) {
        const char *line = strstr(buf, "\nVmHWM:");
        if (line)
            kib = parse_u64(line + 7);
    }
    errno = saved;
    return kib * 1024;
}

int mk_proc_live_threads(void)
{
    int saved = errno;
    char buf[1024];
    int live = -1;
    if (mk_read_file("/proc/self/stat", buf, sizeof buf) > 0) {
        /* "pid (comm) S ppid ...": the name may hold spaces and ')'; the
         * fields after the last ')' are fixed. num_threads is the 20th
         * field, the 17th after the state. */
        const char *p = strrchr(buf, ')');
        if (p && p[1] == ' ' && p[2]) {
            char state = p[2];
            p += 3;
            for (int field = 1; p && field < 17; field++)
                p = strchr(p + 1, ' ');
            if (p) {
                live = (int)parse_u64(p + 1);
                if (state == 'Z' && live > 0)
                    live--;
            }
        }
    }
    errno = saved;
    return live;
}
