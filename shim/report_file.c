/* report_file.c — puts the report on disk atomically, or not at all.
 *
 * The text goes to "<path>.<pid>.<n>.tmp", created O_CREAT|O_EXCL|
 * O_NOFOLLOW|O_CLOEXEC mode 0600 (a planted file or symlink makes the open
 * fail rather than be followed), then is renamed onto <path> (rename
 * replaces a symlink there, never writes through it). Any failure removes
 * the temporary file. No fsync: a report must be whole when it appears,
 * not survive a power cut, and fsync at exit can cost a program tens of
 * milliseconds. */
#include "report.h"
#include "fd_io.h"
#include "fmt.h"
#include "json_writer.h"
#include "log.h"
#include "options.h"
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static unsigned temp_serial;   /* atomic: distinct temp names per process */

static int put_file(const char *path, const char *text, size_t len)
{
    char tmp[PATH_MAX];
    unsigned serial = __atomic_fetch_add(&temp_serial, 1, __ATOMIC_RELAXED);
    if (mk_snprintf(tmp, sizeof tmp, "%s.%ld.%u.tmp", path, (long)getpid(), serial) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd;
    do
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    int failed = mk_write_all(fd, text, len) < 0 || mk_write_all(fd, "\n", 1) < 0;
    int err = errno;
    if (close(fd) < 0 && !failed) {   /* NFS and full disks report here */
        failed = 1;
        err = errno;
    }
    if (!failed && rename(tmp, path) < 0) {
        failed = 1;
        err = errno;
    }
    if (failed) {
        unlink(tmp);
        errno = err;
        return -1;
    }
    return 0;
}

int mk_report_write_to(const char *path)
{
    int saved = errno;
    struct mk_json j;
    mk_json_init(&j);
    int rc = mk_report_build(&j, "final");
    if (rc < 0)
        mk_log(MK_LOG_INFO, "report not written: out of memory for its text");
    else if ((rc = put_file(path, j.buf, j.len)) < 0)
        mk_log(MK_LOG_INFO, "report %s not written: %s", path, strerrorname_np(errno));
    mk_json_release(&j);
    errno = saved;
    return rc;
}

int mk_report_write(void)
{
    int saved = errno;
    char tpl[MK_OPT_TEXT_MAX];
    if (mk_opt_text(MK_OPT_REPORT, tpl, sizeof tpl) < 0 || strcmp(tpl, "off") == 0) {
        errno = saved;
        return 0;
    }
    const struct mk_process *p = mk_process();
    char path[PATH_MAX];
    int rc = mk_report_path_expand(tpl, p->start_cwd, (long)getpid(), p->name,
                                   (long long)(p->start_unix_ns / 1000000000), path, sizeof path);
    if (rc < 0)
        mk_log(MK_LOG_INFO, "report path from '%s' not usable: %s", tpl, strerrorname_np(errno));
    else
        rc = mk_report_write_to(path);
    errno = saved;
    return rc;
}
