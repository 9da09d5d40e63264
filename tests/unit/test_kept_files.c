/* test_kept_files.c — the /proc files memkit reads again and again stay
 * open at a high number (kept_files.h): read afresh each time, never the
 * program's file once the program has taken the number, and the child's
 * own after fork. */
#include "fd_io.h"
#include "kept_files.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The descriptor, 900 or above, whose link names this process's file
 * `name` (statm, status, stat), or -1. */
static int kept_fd_of(const char *name)
{
    char want[64], link[256], path[64];
    snprintf(want, sizeof want, "/proc/%d/%s", (int)getpid(), name);
    DIR *d = opendir("/proc/self/fd");
    int found = -1;
    for (struct dirent *e; d && (e = readdir(d));) {
        int fd = atoi(e->d_name);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0 && fd >= MK_OWN_FD_FLOOR) {
            link[n] = '\0';
            if (strcmp(link, want) == 0)
                found = fd;
        }
    }
    if (d)
        closedir(d);
    return found;
}

static int open_count(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;   /* opendir's own */
}

static long vm_rss_kib(const char *status)
{
    const char *p = strstr(status, "VmRSS:");
    return p ? atol(p + 6) : -1;
}

Test(kept, which_paths)
{
    cr_assert(mk_kept_path("/proc/self/statm"));
    cr_assert(mk_kept_path("/proc/meminfo"));
    cr_assert(mk_kept_path("/proc/pressure/memory"));
    cr_assert(mk_kept_path("/sys/fs/cgroup/memory.max"));
    cr_assert_not(mk_kept_path("/proc/1234/environ"), "another process's file");
    cr_assert_not(mk_kept_path("/tmp/fake/proc/self/statm"), "the probes' tests' fake trees");
}

Test(kept, opened_once_and_read_afresh)
{
    char a[4096], b[4096];
    cr_assert_gt(mk_read_file("/proc/self/status", a, sizeof a), 0);
    int fd = kept_fd_of("status");
    cr_assert_geq(fd, MK_OWN_FD_FLOOR, "kept at a high number");
    int before = open_count();
    size_t len = 64 << 20;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    memset(m, 1, len);
    cr_assert_gt(mk_read_file("/proc/self/status", b, sizeof b), 0);
    cr_assert_eq(open_count(), before, "no descriptor more or less");
    cr_assert_eq(kept_fd_of("status"), fd, "the same descriptor");
    cr_assert_geq(vm_rss_kib(b), vm_rss_kib(a) + 60 * 1024, "RSS %ld then %ld KiB: not afresh",
                  vm_rss_kib(a), vm_rss_kib(b));
    munmap(m, len);
}

Test(kept, never_the_programs_file)
{
    char buf[4096];
    cr_assert_gt(mk_read_file("/proc/self/statm", buf, sizeof buf), 0);
    int fd = kept_fd_of("statm");
    cr_assert_geq(fd, MK_OWN_FD_FLOOR);
    /* The program closes every descriptor and puts a file of its own at
     * that number, read halfway. */
    char tmpl[] = "/tmp/kept.XXXXXX";
    int own = mkstemp(tmpl);
    cr_assert_geq(own, 0);
    unlink(tmpl);
    cr_assert_eq(write(own, "the program's own file\n", 23), 23);
    cr_assert_eq(dup2(own, fd), fd);
    close(own);
    cr_assert_eq(lseek(fd, 4, SEEK_SET), 4);

    cr_assert_gt(mk_read_file("/proc/self/statm", buf, sizeof buf), 0);
    cr_assert_null(strstr(buf, "program"), "memkit read the program's file: %s", buf);
    cr_assert_eq(lseek(fd, 0, SEEK_CUR), 4, "the program's offset moved");
    char rest[32] = "";
    cr_assert_eq(read(fd, rest, sizeof rest - 1), 19, "the program's file was closed or changed");
    cr_assert_str_eq(rest, "program's own file\n");
    close(fd);
}

Test(kept, a_fork_child_reads_its_own)
{
    char buf[1024];
    cr_assert_gt(mk_read_file("/proc/self/stat", buf, sizeof buf), 0);
    cr_assert_eq(atoi(buf), getpid());
    pid_t pid = fork();
    if (pid == 0) {
        mk_kept_after_fork_child();
        char own[1024];
        _exit(mk_read_file("/proc/self/stat", own, sizeof own) > 0 && atoi(own) == getpid() ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child read its parent's stat");
}
