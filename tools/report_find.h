/* report_find.h — find report files in a folder by name pattern. */
#ifndef MKT_REPORT_FIND_H
#define MKT_REPORT_FIND_H

#include <stddef.h>

#define MKT_DEFAULT_PATTERN "memkit.*.json"

/* Calls fn(path, arg) for each regular file in dir whose name matches the
 * fnmatch pattern; path is "dir/name" ("name" when dir is "."). Stops early
 * when fn returns non-zero. 0, or -1 with errno when dir cannot be read. */
int mkt_each_match(const char *dir, const char *pattern,
                   int (*fn)(const char *path, void *arg), void *arg);

/* The matching file with the newest modification time (ties: the greatest
 * name, so the choice never depends on folder order). 0 with the path in
 * out; -1 with errno ENOENT when there is none, or the reason dir could not
 * be read. */
int mkt_newest_match(const char *dir, const char *pattern, char *out, size_t len);

#endif
