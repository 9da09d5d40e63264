/* cgroup.c — see cgroup.h. */
#include "cgroup.h"
#include "fd_io.h"
#include "line_reader.h"
#include "scan.h"

#include <errno.h>
#include <string.h>

#define V1_UNLIMITED (UINT64_C(1) << 62)   /* the kernel prints 2^63 - 4096 */
#define LINE_BUF 16384                     /* one mountinfo line at most */

struct files {
    const char *limit, *usage;
};
static const struct files v1_files = {"memory.limit_in_bytes", "memory.usage_in_bytes"};
static const struct files v2_files = {"memory.max", "memory.current"};

/* ---- small string helpers ----------------------------------------------- */

/* dst = a b c (any may be ""). 0, or -1 with ENAMETOOLONG. */
static int join3(char *dst, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    if (la + lb + lc >= MK_CGROUP_PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dst, a, la);
    memcpy(dst + la, b, lb);
    memcpy(dst + la + lb, c, lc + 1);
    return 0;
}

/* Copies src into dst (MK_CGROUP_PATH_MAX). 0, or -1 with ENAMETOOLONG. */
static int copy(char *dst, const char *src)
{
    return join3(dst, src, "", "");
}

/* 1 when list, separated by commas, holds word. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

/* Undoes mountinfo's octal escapes (\040 for a space, \134 for \) in place. */
static void unescape(char *s)
{
    char *out = s;
    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
            s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 4;
        } else {
            *out++ = *s++;
        }
    }
    *out = '\0';
}

/* ---- the files' values ---------------------------------------------------- */

/* Reads one value of a cgroup file. For a limit, 0 means none. */
static int read_value(const char *path, int version, int is_limit,
                      uint64_t *out)
{
    char buf[64];           /* 20 digits and a newline at most */
    long n = mk_read_file(path, buf, sizeof buf);
    if (n < 0)
        return -1;
    const char *s = buf;
    uint64_t v;
    if (is_limit && version == 2 && strncmp(s, "max", 3) == 0) {
        s += 3;
        v = 0;
    } else if (mk_scan_u64(&s, &v) != 0) {
        errno = EINVAL;
        return -1;
    }
    if (*s != '\n' && *s != '\0') {
        errno = EINVAL;
        return -1;
    }
    if (is_limit && version == 1 && v >= V1_UNLIMITED)
        v = 0;
    *out = v;
    return 0;
}

/* ---- /proc/self/cgroup ---------------------------------------------------- */

/* Finds the process's v1 memory path and its v2 path. Each found is copied
 * into its buffer and flagged. -1 (errno set) when the file cannot be read. */
static int find_paths(const char *root, char *buf, char *v1, int *has_v1,
                      char *v2, int *has_v2)
{
    char path[MK_CGROUP_PATH_MAX];
    struct mk_lines r;
    *has_v1 = *has_v2 = 0;
    if (join3(path, root, "/proc/self/cgroup", "") != 0 ||
        mk_lines_open(&r, path, buf, LINE_BUF) != 0)
        return -1;
    char *line;
    while ((line = mk_lines_next(&r, NULL)) != NULL) {
        /* "<id>:<controllers>:<path>"; the path may hold more colons. */
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || !c2 || c2[1] != '/')
            continue;
        *c1 = *c2 = '\0';
        const char *id = line, *controllers = c1 + 1, *cgpath = c2 + 1;
        if (strcmp(id, "0") == 0 && *controllers == '\0') {
            if (!*has_v2 && copy(v2, cgpath) == 0)
                *has_v2 = 1;
        } else if (has_word(controllers, "memory")) {
            if (!*has_v1 && copy(v1, cgpath) == 0)
                *has_v1 = 1;
        }
    }
    mk_lines_close(&r);
    return 0;
}

/* ---- /proc/self/mountinfo ------------------------------------------------- */

/* How far cgpath lies under the mount root mroot: the rest of cgpath ("" at
 * the root itself), or NULL when it is not under it. */
static const char *under_root(const char *cgpath, const char *mroot)
{
    if (strcmp(mroot, "/") == 0)
        return strcmp(cgpath, "/") == 0 ? "" : cgpath;
    size_t n = strlen(mroot);
    if (strncmp(cgpath, mroot, n) != 0)
        return NULL;
    if (cgpath[n] == '\0' || (cgpath[n] == '/' && cgpath[n + 1] == '\0'))
        return "";
    return cgpath[n] == '/' ? cgpath + n : NULL;
}

/* Finds the mount of the hierarchy (v1: fstype cgroup with the memory
 * option; v2: fstype cgroup2) whose root holds cgpath (the longest such
 * root), else the first one. Its mount point goes to mnt, the part of
 * cgpath below its root to rel ("" for none). -1 with ENOENT when none. */
static int find_mount(const char *root, char *buf, int version,
                      const char *cgpath, char *mnt, char *rel)
{
    char path[MK_CGROUP_PATH_MAX];
    struct mk_lines r;
    if (join3(path, root, "/proc/self/mountinfo", "") != 0 ||
        mk_lines_open(&r, path, buf, LINE_BUF) != 0)
        return -1;
    int found = 0;              /* 1 a mount, 2 a mount holding cgpath */
    size_t best_root = 0;
    char *line;
    while ((line = mk_lines_next(&r, NULL)) != NULL) {
        /* "id parent maj:min root mountpoint options [optional...] -
         *  fstype source superoptions" */
        char *tok[64];          /* more fields than this: not a cgroup mount */
        int n = 0;
        for (char *p = line; *p && n < 64; ) {
            tok[n++] = p;
            p = strchr(p, ' ');
            if (!p)
                break;
            *p++ = '\0';
        }
        int dash = 6;
        while (dash < n && strcmp(tok[dash], "-") != 0)
            dash++;
        if (dash + 3 >= n)
            continue;
        const char *fstype = tok[dash + 1], *super = tok[dash + 3];
        if (version == 1 ? strcmp(fstype, "cgroup") != 0 || !has_word(super, "memory")
                         : strcmp(fstype, "cgroup2") != 0)
            continue;
        char *mroot = tok[3], *mpoint = tok[4];
        unescape(mroot);
        unescape(mpoint);
        if (mpoint[0] != '/')
            continue;
        const char *below = under_root(cgpath, mroot);
        size_t rlen = strlen(mroot);
        if (below && (found < 2 || rlen > best_root)) {
            if (copy(mnt, mpoint) == 0 && copy(rel, below) == 0) {
                found = 2;
                best_root = rlen;
            }
        } else if (!found) {
            if (copy(mnt, mpoint) == 0) {
                rel[0] = '\0';
                found = 1;
            }
        }
    }
    mk_lines_close(&r);
    if (!found) {
        errno = ENOENT;
        return -1;
    }
    return 0;
}

/* ---- choosing the cgroup -------------------------------------------------- */

/* 1 when dir holds a usage file that reads as a number. */
static int usable(const char *dir, int version, const struct files *f)
{
    char path[MK_CGROUP_PATH_MAX];
    uint64_t v;
    return join3(path, dir, "/", f->usage) == 0 &&
           read_value(path, version, 0, &v) == 0;
}

/* Fills cg for the cgroup at <root><mnt><rel>, or at the mount point when
 * that is not usable. -1 with errno set when neither is. */
static int settle(struct mk_cgroup *cg, const char *root, int version,
                  const char *mnt, const char *rel)
{
    const struct files *f = version == 1 ? &v1_files : &v2_files;
    char top[MK_CGROUP_PATH_MAX], leaf[MK_CGROUP_PATH_MAX];
    char dir[MK_CGROUP_PATH_MAX], path[MK_CGROUP_PATH_MAX];
    if (join3(top, root, mnt, "") != 0)
        return -1;
    size_t toplen = strlen(top);
    while (toplen > 1 && top[toplen - 1] == '/')   /* no "//" when joining */
        top[--toplen] = '\0';
    if (strstr(rel, "/..") || join3(leaf, top, rel, "") != 0 ||
        !usable(leaf, version, f)) {
        if (!usable(top, version, f)) {
            if (errno != EINVAL)
                errno = ENOENT;
            return -1;
        }
        copy(leaf, top);
    }
    /* The nearest cgroup, leaf first, whose limit is set. */
    copy(dir, leaf);
    for (;;) {
        uint64_t limit;
        if (join3(path, dir, "/", f->limit) == 0 &&
            read_value(path, version, 1, &limit) == 0 && limit != 0 &&
            usable(dir, version, f))
            break;
        char *slash = strrchr(dir, '/');
        if (strlen(dir) <= toplen || !slash || (size_t)(slash - dir) < toplen) {
            copy(dir, leaf);
            break;
        }
        *slash = '\0';
    }
    if (join3(cg->limit_path, dir, "/", f->limit) != 0 ||
        join3(cg->usage_path, dir, "/", f->usage) != 0)
        return -1;
    cg->pressure_path[0] = '\0';
    if (version == 2) {
        char head[8];   /* PSI can be off (psi=0): read, do not stat */
        if (join3(path, leaf, "/", "memory.pressure") == 0 &&
            mk_read_file(path, head, sizeof head) > 0)
            copy(cg->pressure_path, path);
    }
    cg->version = version;
    return 0;
}

int mk_cgroup_init(struct mk_cgroup *cg, const char *root)
{
    int saved = errno;
    char buf[LINE_BUF];
    char v1[MK_CGROUP_PATH_MAX], v2[MK_CGROUP_PATH_MAX];
    char mnt[MK_CGROUP_PATH_MAX], rel[MK_CGROUP_PATH_MAX];
    int has_v1, has_v2;
    cg->version = 0;
    cg->limit_path[0] = cg->usage_path[0] = cg->pressure_path[0] = '\0';
    if (!root)
        root = "";
    if (find_paths(root, buf, v1, &has_v1, v2, &has_v2) != 0)
        return -1;
    int err = ENOENT;       /* a more telling error wins over "not there" */
    if (has_v1) {
        if (find_mount(root, buf, 1, v1, mnt, rel) == 0 &&
            settle(cg, root, 1, mnt, rel) == 0)
            goto found;
        if (err == ENOENT)
            err = errno;
    }
    if (has_v2) {
        if (find_mount(root, buf, 2, v2, mnt, rel) == 0 &&
            settle(cg, root, 2, mnt, rel) == 0)
            goto found;
        if (err == ENOENT)
            err = errno;
    }
    cg->version = 0;
    cg->limit_path[0] = cg->usage_path[0] = cg->pressure_path[0] = '\0';
    errno = err;
    return -1;
found:
    errno = saved;
    return 0;
}

int mk_cgroup_read(const struct mk_cgroup *cg, uint64_t *limit,
                   uint64_t *usage)
{
    int saved = errno;
    if (cg->version != 1 && cg->version != 2) {
        errno = ENOENT;
        return -1;
    }
    uint64_t l = 0, u = 0;
    if ((limit && read_value(cg->limit_path, cg->version, 1, &l) != 0) ||
        (usage && read_value(cg->usage_path, cg->version, 0, &u) != 0))
        return -1;
    if (limit)
        *limit = l;
    if (usage)
        *usage = u;
    errno = saved;
    return 0;
}
