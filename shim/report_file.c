/* report_file.c — puts the report on disk atomically, or not at all.
 *
 * The text is written into an unnamed file of the report's folder
 * (O_TMPFILE, mode 0600), which is linked as "<path>.<pid>.<start>.<n>.tmp" once
 * complete and renamed onto <path>: a process killed mid-write leaves
 * nothing. Where the file system has no O_TMPFILE, the temporary file is
 * created by name, O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC mode 0600. Either
 * way a planted file or symlink makes the step fail rather than be
 * followed, and rename replaces a symlink at <path>, never writes through
 * it. Any failure removes the temporary file. No fsync: a report must be whole when it appears,
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
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static unsigned temp_serial;   /* atomic: distinct temp names per process */

static int write_text(int fd, const char *text, size_t len)
{
    return mk_write_all(fd, text, len) < 0 || mk_write_all(fd, "\n", 1) < 0 ? -1 : 0;
}

/* The text in an unnamed file of path's folder (O_TMPFILE), given a name
 * only once complete: a process killed while writing leaves nothing. 1 on
 * success with the file linked at tmp; 0 when the folder's file system or
 * /proc cannot do it (the caller writes a named temporary file instead);
 * -1 with errno on a write error. */
static int put_unnamed(const char *path, const char *tmp, const char *text, size_t len)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof dir)
        return 0;
    /* "name": the current folder; "/name": the root. */
    const char *from = !slash ? "." : n ? path : "/";
    size_t len_dir = !slash || !n ? 1 : n;
    memcpy(dir, from, len_dir);
    dir[len_dir] = '\0';
    int fd = mk_open_own(dir, O_TMPFILE | O_WRONLY, 0600);
    if (fd < 0)
        return 0;
    int rc = write_text(fd, text, len);
    int err = errno;
    if (rc == 0) {
        char self[64];
        mk_snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        /* linkat never replaces: a file or symlink planted at tmp fails it. */
        if (linkat(AT_FDCWD, self, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0) {
            err = errno;
            rc = err == EEXIST ? -1 : 0;
        } else {
            rc = 1;
        }
    }
    if (close(fd) < 0 && rc == 1) {   /* NFS and full disks report here */
        err = errno;
        unlink(tmp);
        rc = -1;
    }
    errno = err;
    return rc;
}

/* The text in a named temporary file, created O_EXCL|O_NOFOLLOW. */
static int put_named(const char *tmp, const char *text, size_t len)
{
    int fd = mk_open_own(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    int failed = write_text(fd, text, len) < 0;
    int err = errno;
    if (close(fd) < 0 && !failed) {
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

int mk_put_file(const char *path, const char *text, size_t len)
{
    /* Past the file-size limit the kernel would stop the program with
     * SIGXFSZ (a changed exit status, perhaps a core): the file is not
     * begun at all. */
    struct rlimit fsize;
    if (getrlimit(RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_cur != RLIM_INFINITY &&
        (rlim_t)len + 1 > fsize.rlim_cur) {
        errno = EFBIG;
        return -1;
    }
    /* The process's start time in the name as well as its pid: a file a
     * killed process left behind (between link and rename) never has the
     * name a later process with the same pid (a container's 1) needs. */
    char tmp[PATH_MAX];
    unsigned serial = __atomic_fetch_add(&temp_serial, 1, __ATOMIC_RELAXED);
    if (mk_snprintf(tmp, sizeof tmp, "%s.%ld.%llu.%u.tmp", path, (long)getpid(),
                    (unsigned long long)mk_process()->start_mono_ns, serial) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int rc = put_unnamed(path, tmp, text, len);
    if (rc < 0)
        return -1;
    if (rc == 0 && put_named(tmp, text, len) < 0)
        return -1;
    if (rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        errno = err;
        return -1;
    }
    return 0;
}

/* One writer at a time: the monitor's snapshots and the final report share
 * a path (and report_sites.c its module table). The final report waits for
 * a snapshot under way (bounded: a monitor stuck past that loses the
 * race); a snapshot never waits, and gives way once exit has begun. */
static int writer_busy, final_begun;

static int take_writer(int final)
{
    if (!final)
        return !__atomic_load_n(&final_begun, __ATOMIC_ACQUIRE) &&
               !__atomic_exchange_n(&writer_busy, 1, __ATOMIC_ACQUIRE);
    __atomic_store_n(&final_begun, 1, __ATOMIC_RELEASE);
    for (int waited_ms = 0; __atomic_exchange_n(&writer_busy, 1, __ATOMIC_ACQUIRE); waited_ms++) {
        if (waited_ms >= 2000)
            return 0;
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    return 1;
}

static void drop_writer(void)
{
    __atomic_store_n(&writer_busy, 0, __ATOMIC_RELEASE);
}

void mk_report_after_fork_child(void)
{
    __atomic_store_n(&writer_busy, 0, __ATOMIC_RELAXED);   /* the monitor is gone */
    __atomic_store_n(&final_begun, 0, __ATOMIC_RELAXED);
}

static int write_kind_to(const char *path, const char *kind)
{
    int saved = errno;
    struct mk_json j;
    mk_json_init(&j);
    int rc = mk_report_build(&j, kind);
    if (rc < 0)
        mk_log(MK_LOG_INFO, "report not written: out of memory for its text");
    else if ((rc = mk_put_file(path, j.buf, j.len)) < 0)
        mk_log(MK_LOG_INFO, "report %s not written: %s", path, strerrorname_np(errno));
    mk_json_release(&j);
    errno = saved;
    return rc;
}

int mk_report_write_to(const char *path)
{
    return write_kind_to(path, "final");
}

int mk_expand_output_path(enum mk_option_id id, char *path, size_t len)
{
    int saved = errno;
    char tpl[MK_OPT_TEXT_MAX];
    if (mk_opt_text(id, tpl, sizeof tpl) < 0 || strcmp(tpl, "off") == 0) {
        errno = saved;
        return 0;
    }
    const struct mk_process *p = mk_process();
    int rc = mk_report_path_expand(tpl, p->start_cwd, (long)getpid(), p->name,
                                   (long long)(p->start_unix_ns / 1000000000), path, len);
    if (rc < 0)
        mk_log(MK_LOG_INFO, "%s: path from '%s' not usable: %s", mk_options[id].name, tpl,
               strerrorname_np(errno));
    errno = saved;
    return rc < 0 ? -1 : 1;
}

static int write_kind(const char *kind, int final)
{
    char path[PATH_MAX];
    int found = mk_expand_output_path(MK_OPT_REPORT, path, sizeof path);
    if (found <= 0)
        return found;
    if (!take_writer(final))
        return -1;
    int rc = write_kind_to(path, kind);
    drop_writer();
    return rc;
}

int mk_report_write(void)
{
    return write_kind("final", 1);
}

int mk_report_snapshot(void)
{
    return write_kind("snapshot", 0);
}

