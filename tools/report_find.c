/* report_find.c — find report files in a folder by name pattern. */
#include "report_find.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void join(char *out, size_t len, const char *dir, const char *name)
{
    if (dir[0] == '\0' || strcmp(dir, ".") == 0)
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

int mkt_each_match(const char *dir, const char *pattern,
                   int (*fn)(const char *path, void *arg), void *arg)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (fnmatch(pattern, e->d_name, FNM_PERIOD) != 0)
            continue;
        join(path, sizeof path, dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (fn(path, arg) != 0)
            break;
    }
    closedir(d);
    return 0;
}

struct newest {
    char            path[PATH_MAX];
    struct timespec mtime;
    int             found;
};

static int keep_newest(const char *path, void *arg)
{
    struct newest *n = arg;
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;   /* removed meanwhile */
    int newer = !n->found
        || st.st_mtim.tv_sec > n->mtime.tv_sec
        || (st.st_mtim.tv_sec == n->mtime.tv_sec && st.st_mtim.tv_nsec > n->mtime.tv_nsec)
        || (st.st_mtim.tv_sec == n->mtime.tv_sec && st.st_mtim.tv_nsec == n->mtime.tv_nsec
            && strcmp(path, n->path) > 0);
    if (newer) {
        snprintf(n->path, sizeof n->path, "%s", path);
        n->mtime = st.st_mtim;
        n->found = 1;
    }
    return 0;
}

int mkt_newest_match(const char *dir, const char *pattern, char *out, size_t len)
{
    struct newest n = { .found = 0 };
    if (mkt_each_match(dir, pattern, keep_newest, &n) < 0)
        return -1;
    if (!n.found) {
        errno = ENOENT;
        return -1;
    }
    snprintf(out, len, "%s", n.path);
    return 0;
}
