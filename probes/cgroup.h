/* cgroup.h — the memory limit and usage of the calling process's memory
 * cgroup, v1 (memory controller) or v2 (unified hierarchy).
 *
 * mk_cgroup_init finds the cgroup once, from /proc/self/cgroup and
 * /proc/self/mountinfo, and keeps the paths of the two files to read;
 * mk_cgroup_read then costs two small reads. Nothing allocates, nothing uses
 * stdio, errno is kept on success. A process that moves to another cgroup
 * (or whose cgroup gets a limit on another ancestor) is seen again only
 * after another mk_cgroup_init. */
#ifndef MK_CGROUP_H
#define MK_CGROUP_H

#include <stdint.h>

#define MK_CGROUP_PATH_MAX 4096

struct mk_cgroup {
    int  version;                         /* 0 none found, 1, 2 */
    char limit_path[MK_CGROUP_PATH_MAX];  /* memory.limit_in_bytes | memory.max */
    char usage_path[MK_CGROUP_PATH_MAX];  /* memory.usage_in_bytes | memory.current */
    char pressure_path[MK_CGROUP_PATH_MAX]; /* v2: the process's own cgroup's
                                           * memory.pressure, for psi.h;
                                           * "" on v1 or when absent */
};

/* Finds the process's memory cgroup. root is prefixed to every absolute
 * path read ("" in production; a fake tree's folder in tests). The v1
 * memory controller wins where both are mounted (hybrid hosts); v2 is used
 * where /proc/self/cgroup has "0::<path>", cgroup2 is mounted and the cgroup
 * has memory.current. The mount's root is stripped from the path (a
 * container sees its own cgroup as the mount); when the result does not
 * exist (cgroup namespaces), the mount point itself is used. The files kept
 * are those of the nearest cgroup, from the process's own up to the mount,
 * that has a limit at the time of the call (a limit on a parent applies to
 * its children; usage is then the parent's, which is what the limit is
 * held against), or the process's own when none has.
 * 0 with cg->version 1 or 2, or -1 with cg->version 0 and errno set: ENOENT
 * (in no memory cgroup, or the files are missing), EINVAL (files that do
 * not parse), ENAMETOOLONG, or what open gave. mountinfo is read in
 * chunks, whatever its size, but a line of it past 16 KiB is skipped, so a
 * mount described by one is not found. Uses about 54 KiB of stack (call it
 * from a thread with a normal stack); costs about 70 us here, with a
 * mountinfo of 1.5 KiB, and more where that is longer. */
int mk_cgroup_init(struct mk_cgroup *cg, const char *root);

/* Reads the limit and the usage in bytes: two open/read/close of a few
 * bytes each (about 13 us here on v1). *limit is 0 when there is no limit
 * ("max", or 2^62 and more on v1). Either pointer may be NULL (that file is
 * not read). 0, or -1 with errno set: ENOENT (version 0, or the cgroup went
 * away), EINVAL (text that does not parse). */
int mk_cgroup_read(const struct mk_cgroup *cg, uint64_t *limit,
                   uint64_t *usage);

#endif
