/* test_probes_cgroup.c — the memory cgroup's limit and usage, v1 and v2,
 * on fake /proc and /sys trees under a temporary folder, and on this
 * machine. */
#include "cgroup.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a fake tree ------------------------------------------------------------ */

static char root[64];

static void make_root(void)
{
    strcpy(root, "/tmp/memkit-cgroup-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    return remove(path);
}

static void remove_root(void)
{
    if (root[0])
        nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(probes_cgroup, .init = make_root, .fini = remove_root);

/* Writes text to <root><rel>, making the folders on the way. */
static void put(const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
}

/* The expected path <root><rel>. */
static const char *at(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s%s", root, rel);
    return path;
}

/* A host's mountinfo in the shape of this machine's (hybrid: v1 plus an
 * empty cgroup2 at unified). */
static const char hybrid_mounts[] =
    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char v2_mounts[] =
    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - "
    "cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";

static void read_ok(const struct mk_cgroup *cg, uint64_t want_limit,
                    uint64_t want_usage)
{
    uint64_t limit = 1, usage = 1;
    errno = 4321;
    cr_assert_eq(mk_cgroup_read(cg, &limit, &usage), 0, "read: errno %d", errno);
    cr_assert_eq(errno, 4321);
    cr_assert_eq(limit, want_limit, "limit %llu, want %llu",
                 (unsigned long long)limit, (unsigned long long)want_limit);
    cr_assert_eq(usage, want_usage, "usage %llu, want %llu",
                 (unsigned long long)usage, (unsigned long long)want_usage);
}

static void init_ok(struct mk_cgroup *cg, int version)
{
    errno = 4321;
    cr_assert_eq(mk_cgroup_init(cg, root), 0, "init: errno %d (%s)", errno,
                 strerror(errno));
    cr_assert_eq(errno, 4321);
    cr_assert_eq(cg->version, version);
}

static void init_fails(struct mk_cgroup *cg, int err)
{
    errno = 0;
    cr_assert_eq(mk_cgroup_init(cg, root), -1, "found version %d at %s",
                 cg->version, cg->usage_path);
    cr_assert_eq(errno, err, "errno %d (%s), want %d", errno, strerror(errno), err);
    cr_assert_eq(cg->version, 0);
    uint64_t limit, usage;
    errno = 0;
    cr_assert_eq(mk_cgroup_read(cg, &limit, &usage), -1);
    cr_assert_eq(errno, ENOENT);
}

static struct mk_cgroup cg;   /* 12 KiB: not on the test's stack */

/* ---- v1 ------------------------------------------------------------------- */

#define V1_DIR "/sys/fs/cgroup/memory/process_api/0ac8fcd1"

static void v1_host(const char *limit, const char *usage)
{
    put("/proc/self/cgroup",
        "9:name=systemd:/\n5:devices:/\n4:memory:/process_api/0ac8fcd1\n"
        "1:cpu:/\n0::/\n");
    put("/proc/self/mountinfo", hybrid_mounts);
    put("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    put("/sys/fs/cgroup/memory/memory.usage_in_bytes", "270581760\n");
    put(V1_DIR "/memory.limit_in_bytes", limit);
    put(V1_DIR "/memory.usage_in_bytes", usage);
}

Test(probes_cgroup, v1_unlimited)
{
    v1_host("9223372036854771712\n", "5165056\n");
    init_ok(&cg, 1);
    cr_assert_str_eq(cg.limit_path, at(V1_DIR "/memory.limit_in_bytes"));
    cr_assert_str_eq(cg.usage_path, at(V1_DIR "/memory.usage_in_bytes"));
    cr_assert_str_eq(cg.pressure_path, "");
    read_ok(&cg, 0, 5165056);
}

Test(probes_cgroup, v1_limit)
{
    v1_host("1073741824\n", "5165056\n");
    init_ok(&cg, 1);
    read_ok(&cg, 1073741824, 5165056);
    /* The limit is read each time, not kept. */
    put(V1_DIR "/memory.limit_in_bytes", "2147483648\n");
    read_ok(&cg, 2147483648u, 5165056);
}

Test(probes_cgroup, v1_values_from_two_to_the_62_mean_no_limit)
{
    v1_host("4611686018427387904\n", "1\n");
    init_ok(&cg, 1);
    read_ok(&cg, 0, 1);
    put(V1_DIR "/memory.limit_in_bytes", "4611686018427387903\n");
    read_ok(&cg, UINT64_C(4611686018427387903), 1);
}

Test(probes_cgroup, v1_one_of_several_controllers_in_a_hierarchy)
{
    put("/proc/self/cgroup", "7:blkio:/\n3:cpu,memory,cpuacct:/job\n");
    put("/proc/self/mountinfo",
        "35 31 0:32 / /sys/fs/cgroup/cpu,memory,cpuacct rw - cgroup cgroup rw,cpu,memory,cpuacct\n");
    put("/sys/fs/cgroup/cpu,memory,cpuacct/job/memory.limit_in_bytes", "4096\n");
    put("/sys/fs/cgroup/cpu,memory,cpuacct/job/memory.usage_in_bytes", "12\n");
    init_ok(&cg, 1);
    read_ok(&cg, 4096, 12);
}

Test(probes_cgroup, v1_memory_must_be_a_whole_word)
{
    put("/proc/self/cgroup", "4:memoryx:/a\n5:name=memory:/b\n");
    put("/proc/self/mountinfo",
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memoryx\n");
    put("/sys/fs/cgroup/memory/a/memory.usage_in_bytes", "1\n");
    put("/sys/fs/cgroup/memory/a/memory.limit_in_bytes", "1\n");
    init_fails(&cg, ENOENT);
}

Test(probes_cgroup, v1_container_mount_root_is_stripped)
{
    /* Docker without a cgroup namespace: the container's cgroup is mounted
     * as the hierarchy's mount point. */
    put("/proc/self/cgroup", "4:memory:/docker/3f2a9c\n");
    put("/proc/self/mountinfo",
        "700 690 0:32 /docker/3f2a9c /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime "
        "master:15 - cgroup cgroup rw,memory\n");
    put("/sys/fs/cgroup/memory/memory.limit_in_bytes", "536870912\n");
    put("/sys/fs/cgroup/memory/memory.usage_in_bytes", "10485760\n");
    init_ok(&cg, 1);
    cr_assert_str_eq(cg.limit_path, at("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
    read_ok(&cg, 536870912, 10485760);
}

Test(probes_cgroup, v1_container_child_cgroup_below_the_mount_root)
{
    put("/proc/self/cgroup", "4:memory:/docker/3f2a9c/worker\n");
    put("/proc/self/mountinfo",
        "700 690 0:32 /docker/3f2a9c /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
    put("/sys/fs/cgroup/memory/memory.limit_in_bytes", "536870912\n");
    put("/sys/fs/cgroup/memory/memory.usage_in_bytes", "10485760\n");
    put("/sys/fs/cgroup/memory/worker/memory.limit_in_bytes", "268435456\n");
    put("/sys/fs/cgroup/memory/worker/memory.usage_in_bytes", "4096\n");
    init_ok(&cg, 1);
    cr_assert_str_eq(cg.usage_path, at("/sys/fs/cgroup/memory/worker/memory.usage_in_bytes"));
    read_ok(&cg, 268435456, 4096);
}

Test(probes_cgroup, v1_a_path_that_does_not_exist_falls_back_to_the_mount)
{
    /* A cgroup namespace, or a path from another mount namespace. */
    put("/proc/self/cgroup", "4:memory:/process_api/gone\n");
    put("/proc/self/mountinfo", hybrid_mounts);
    put("/sys/fs/cgroup/memory/memory.limit_in_bytes", "1048576\n");
    put("/sys/fs/cgroup/memory/memory.usage_in_bytes", "2048\n");
    init_ok(&cg, 1);
    cr_assert_str_eq(cg.usage_path, at("/sys/fs/cgroup/memory/memory.usage_in_bytes"));
    read_ok(&cg, 1048576, 2048);
}

Test(probes_cgroup, v1_a_path_outside_the_mount_root_falls_back_to_the_mount)
{
    put("/proc/self/cgroup", "4:memory:/docker/other\n");
    put("/proc/self/mountinfo",
        "700 690 0:32 /docker/3f2a9c /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
    put("/sys/fs/cgroup/memory/memory.limit_in_bytes", "536870912\n");
    put("/sys/fs/cgroup/memory/memory.usage_in_bytes", "1\n");
    put("/sys/fs/cgroup/memory/docker/other/memory.usage_in_bytes", "666\n");
    put("/sys/fs/cgroup/memory/docker/other/memory.limit_in_bytes", "666\n");
    init_ok(&cg, 1);
    read_ok(&cg, 536870912, 1);
}

Test(probes_cgroup, v1_the_mount_holding_the_path_is_preferred)
{
    put("/proc/self/cgroup", "4:memory:/docker/3f2a9c\n");
    put("/proc/self/mountinfo",
        "700 690 0:32 /other /mnt/other rw - cgroup cgroup rw,memory\n"
        "701 690 0:32 /docker /mnt/docker rw - cgroup cgroup rw,memory\n"
        "702 690 0:32 /docker/3f2a9c /mnt/mine rw - cgroup cgroup rw,memory\n"
        "703 690 0:32 / /mnt/all rw - cgroup cgroup rw,memory\n");
    put("/mnt/other/memory.limit_in_bytes", "1\n");
    put("/mnt/other/memory.usage_in_bytes", "1\n");
    put("/mnt/mine/memory.limit_in_bytes", "8192\n");
    put("/mnt/mine/memory.usage_in_bytes", "4096\n");
    init_ok(&cg, 1);
    cr_assert_str_eq(cg.usage_path, at("/mnt/mine/memory.usage_in_bytes"));
    read_ok(&cg, 8192, 4096);
}

Test(probes_cgroup, a_limit_on_a_parent_is_the_one_that_counts)
{
    v1_host("9223372036854771712\n", "5165056\n");
    put("/sys/fs/cgroup/memory/process_api/memory.limit_in_bytes", "2147483648\n");
    put("/sys/fs/cgroup/memory/process_api/memory.usage_in_bytes", "1073741824\n");
    init_ok(&cg, 1);
    cr_assert_str_eq(cg.limit_path, at("/sys/fs/cgroup/memory/process_api/memory.limit_in_bytes"));
    cr_assert_str_eq(cg.usage_path, at("/sys/fs/cgroup/memory/process_api/memory.usage_in_bytes"));
    read_ok(&cg, 2147483648u, 1073741824);
}

/* ---- v2 ------------------------------------------------------------------- */

#define V2_DIR "/sys/fs/cgroup/user.slice/user-1000.slice/app.scope"

static void v2_host(const char *max, const char *current)
{
    put("/proc/self/cgroup", "0::/user.slice/user-1000.slice/app.scope\n");
    put("/proc/self/mountinfo", v2_mounts);
    put("/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
    put("/sys/fs/cgroup/memory.pressure",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    put("/sys/fs/cgroup/user.slice/memory.max", "max\n");
    put("/sys/fs/cgroup/user.slice/memory.current", "900000000\n");
    put(V2_DIR "/memory.max", max);
    put(V2_DIR "/memory.current", current);
    put(V2_DIR "/memory.pressure",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
}

Test(probes_cgroup, v2_max_is_no_limit)
{
    v2_host("max\n", "4096\n");
    init_ok(&cg, 2);
    cr_assert_str_eq(cg.limit_path, at(V2_DIR "/memory.max"));
    cr_assert_str_eq(cg.usage_path, at(V2_DIR "/memory.current"));
    cr_assert_str_eq(cg.pressure_path, at(V2_DIR "/memory.pressure"));
    read_ok(&cg, 0, 4096);
}

Test(probes_cgroup, v2_limit)
{
    v2_host("536870912\n", "104857600\n");
    init_ok(&cg, 2);
    read_ok(&cg, 536870912, 104857600);
}

Test(probes_cgroup, v2_a_limit_on_a_parent_slice)
{
    v2_host("max\n", "4096\n");
    put("/sys/fs/cgroup/user.slice/user-1000.slice/memory.max", "4294967296\n");
    put("/sys/fs/cgroup/user.slice/user-1000.slice/memory.current", "3000000000\n");
    init_ok(&cg, 2);
    cr_assert_str_eq(cg.limit_path, at("/sys/fs/cgroup/user.slice/user-1000.slice/memory.max"));
    /* Pressure stays the process's own cgroup's. */
    cr_assert_str_eq(cg.pressure_path, at(V2_DIR "/memory.pressure"));
    read_ok(&cg, 4294967296u, 3000000000u);
}

Test(probes_cgroup, v2_container_with_a_cgroup_namespace)
{
    /* The container sees itself as "/" and its cgroup as the mount. */
    put("/proc/self/cgroup", "0::/\n");
    put("/proc/self/mountinfo",
        "800 790 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate\n");
    put("/sys/fs/cgroup/memory.max", "268435456\n");
    put("/sys/fs/cgroup/memory.current", "65536\n");
    init_ok(&cg, 2);
    cr_assert_str_eq(cg.usage_path, at("/sys/fs/cgroup/memory.current"));
    cr_assert_str_eq(cg.pressure_path, "");
    read_ok(&cg, 268435456, 65536);
}

Test(probes_cgroup, v2_mount_point_with_escapes)
{
    put("/proc/self/cgroup", "0::/job\n");
    put("/proc/self/mountinfo",
        "30 23 0:26 / /run/my\\040cgroups rw - cgroup2 cgroup2 rw\n");
    put("/run/my cgroups/job/memory.max", "max\n");
    put("/run/my cgroups/job/memory.current", "77\n");
    init_ok(&cg, 2);
    cr_assert_str_eq(cg.usage_path, at("/run/my cgroups/job/memory.current"));
    read_ok(&cg, 0, 77);
}

Test(probes_cgroup, v2_root_cgroup_has_no_memory_files)
{
    put("/proc/self/cgroup", "0::/\n");
    put("/proc/self/mountinfo", v2_mounts);
    put("/sys/fs/cgroup/cgroup.controllers", "cpu io memory pids\n");
    init_fails(&cg, ENOENT);
}

Test(probes_cgroup, v2_without_the_memory_controller)
{
    put("/proc/self/cgroup", "0::/job\n");
    put("/proc/self/mountinfo", v2_mounts);
    put("/sys/fs/cgroup/job/cgroup.procs", "1\n");
    init_fails(&cg, ENOENT);
}

Test(probes_cgroup, hybrid_hosts_use_the_v1_memory_controller)
{
    v1_host("9223372036854771712\n", "5165056\n");
    put("/proc/self/cgroup", "4:memory:/process_api/0ac8fcd1\n0::/job\n");
    put("/sys/fs/cgroup/unified/job/memory.max", "max\n");
    put("/sys/fs/cgroup/unified/job/memory.current", "1\n");
    init_ok(&cg, 1);
}

Test(probes_cgroup, hybrid_without_a_memory_mount_tries_v2)
{
    put("/proc/self/cgroup", "4:memory:/a\n0::/job\n");
    put("/proc/self/mountinfo",
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
    put("/sys/fs/cgroup/unified/job/memory.max", "1000000\n");
    put("/sys/fs/cgroup/unified/job/memory.current", "1\n");
    init_ok(&cg, 2);
    read_ok(&cg, 1000000, 1);
}

/* ---- what goes wrong -------------------------------------------------------- */

Test(probes_cgroup, in_no_memory_cgroup)
{
    put("/proc/self/cgroup", "5:devices:/\n1:cpu:/\n");
    put("/proc/self/mountinfo", hybrid_mounts);
    init_fails(&cg, ENOENT);
}

Test(probes_cgroup, no_proc_at_all)
{
    init_fails(&cg, ENOENT);
}

Test(probes_cgroup, memory_line_but_no_memory_mount)
{
    put("/proc/self/cgroup", "4:memory:/a\n");
    put("/proc/self/mountinfo",
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n");
    init_fails(&cg, ENOENT);
}

Test(probes_cgroup, garbage_in_proc)
{
    put("/proc/self/cgroup", "hello\n:::\n4:memory\n4:memory:relative\n\n\x01\x02\n");
    put("/proc/self/mountinfo", "garbage\n1 2 3\n - - -\n1 2 3 4 5 6 - cgroup\n");
    init_fails(&cg, ENOENT);

    put("/proc/self/cgroup", "4:memory:/a\n");
    put("/proc/self/mountinfo",
        "x\n- - - - - - - - -\n1 2 3 4 5 6 7 8 9 10 11 12 13\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup\n"     /* cut */
        "35 31 0:32 / relative rw - cgroup cgroup rw,memory\n");
    init_fails(&cg, ENOENT);
}

Test(probes_cgroup, garbage_in_the_cgroup_files)
{
    v1_host("9223372036854771712\n", "lots\n");
    put("/sys/fs/cgroup/memory/memory.usage_in_bytes", "-1\n");
    init_fails(&cg, EINVAL);

    v1_host("unlimited\n", "4096\n");
    init_ok(&cg, 1);
    uint64_t limit = 5, usage = 5;
    errno = 0;
    cr_assert_eq(mk_cgroup_read(&cg, &limit, &usage), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(limit, 5);
    cr_assert_eq(usage, 5);
    /* Only the usage, which is fine. */
    cr_assert_eq(mk_cgroup_read(&cg, NULL, &usage), 0);
    cr_assert_eq(usage, 4096);

    put(V1_DIR "/memory.limit_in_bytes", "12 34\n");
    cr_assert_eq(mk_cgroup_read(&cg, &limit, NULL), -1);
    put(V1_DIR "/memory.limit_in_bytes", "");
    cr_assert_eq(mk_cgroup_read(&cg, &limit, NULL), -1);
    put(V1_DIR "/memory.limit_in_bytes", "99999999999999999999999\n");
    cr_assert_eq(mk_cgroup_read(&cg, &limit, NULL), -1);
    put(V1_DIR "/memory.limit_in_bytes", "max\n");   /* a v2 word in v1 */
    cr_assert_eq(mk_cgroup_read(&cg, &limit, NULL), -1);
    put(V1_DIR "/memory.limit_in_bytes", "8192");    /* no newline is fine */
    cr_assert_eq(mk_cgroup_read(&cg, &limit, NULL), 0);
    cr_assert_eq(limit, 8192);
}

Test(probes_cgroup, the_cgroup_going_away)
{
    v2_host("max\n", "4096\n");
    init_ok(&cg, 2);
    char path[4096];
    snprintf(path, sizeof path, "%s", at(V2_DIR "/memory.current"));
    cr_assert_eq(unlink(path), 0);
    uint64_t usage;
    errno = 0;
    cr_assert_eq(mk_cgroup_read(&cg, NULL, &usage), -1);
    cr_assert_eq(errno, ENOENT);
}

Test(probes_cgroup, a_long_mountinfo_is_read_to_its_end)
{
    /* 100 KiB of other mounts and one line longer than the 16 KiB buffer
     * before the memory mount. */
    size_t cap = 140 * 1024, n = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    for (int i = 0; n < 100 * 1024; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "%d 1 0:%d / /var/lib/containers/overlay/%08d/merged rw,relatime "
                              "- overlay overlay rw,lowerdir=/a:/b,upperdir=/c,workdir=/d\n",
                              100 + i, 100 + i, i);
    n += (size_t)snprintf(text + n, cap - n, "9 1 0:9 / /huge rw - tmpfs tmpfs rw,");
    for (int i = 0; i < 20000; i++)
        text[n++] = 'x';
    text[n++] = '\n';
    n += (size_t)snprintf(text + n, cap - n, "%s", hybrid_mounts);
    text[n] = '\0';
    v1_host("1073741824\n", "5165056\n");
    put("/proc/self/mountinfo", text);
    free(text);
    init_ok(&cg, 1);
    read_ok(&cg, 1073741824, 5165056);
}

Test(probes_cgroup, paths_too_long_are_refused)
{
    char line[6000];
    size_t n = (size_t)snprintf(line, sizeof line, "4:memory:/");
    while (n < 5000)
        line[n++] = 'a';
    line[n++] = '\n';
    line[n] = '\0';
    put("/proc/self/cgroup", line);
    put("/proc/self/mountinfo", hybrid_mounts);
    init_fails(&cg, ENOENT);
}

/* ---- this machine ------------------------------------------------------------ */

Test(probes_cgroup, this_machine)
{
    static struct mk_cgroup real;
    errno = 4321;
    int rc = mk_cgroup_init(&real, "");
    int saved = errno;
    if (access("/sys/fs/cgroup/memory/memory.usage_in_bytes", R_OK) != 0 &&
        rc != 0)
        cr_skip_test("no cgroup v1 memory controller here (errno %d)", saved);
    if (access("/sys/fs/cgroup/memory/memory.usage_in_bytes", R_OK) == 0) {
        /* The machine these tests were written on: v1, /process_api/<id>. */
        cr_assert_eq(rc, 0, "init: errno %d (%s)", saved, strerror(saved));
        cr_assert_eq(real.version, 1);
        cr_assert(strncmp(real.usage_path, "/sys/fs/cgroup/memory/", 22) == 0,
                  "usage path %s", real.usage_path);
    }
    cr_assert_eq(saved, 4321);
    uint64_t limit, usage;
    cr_assert_eq(mk_cgroup_read(&real, &limit, &usage), 0);
    cr_assert_gt(usage, 0);
    cr_assert(limit == 0 || limit >= 4096, "limit %llu", (unsigned long long)limit);
}
