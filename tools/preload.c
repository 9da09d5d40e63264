/* preload.c — find libmemkit.so beside the memkit executable, and put it
 * first in LD_PRELOAD. */
#include "preload.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIBNAME "libmemkit.so"

/* ld.so splits LD_PRELOAD at spaces and colons, and has no quoting. */
static int preloadable(const char *path, char *why, size_t why_len)
{
    if (strpbrk(path, " :\t\n")) {
        snprintf(why, why_len, "%s: LD_PRELOAD cannot carry a path with a space or a colon; "
                 "set MEMKIT_LIB to a path without one", path);
        return 0;
    }
    return 1;
}

/* How many folders up from <prefix>/<bindir> to <prefix>. */
static int depth(const char *rel)
{
    int n = 0;
    for (const char *p = rel; *p;) {
        size_t k = strcspn(p, "/");
        if (k && !(k == 1 && p[0] == '.'))
            n++;
        p += k + (p[k] == '/');
    }
    return n;
}

static int try_candidate(const char *cand, char *out, size_t len)
{
    char real[PATH_MAX];
    if (access(cand, R_OK) != 0 || !realpath(cand, real) || strlen(real) >= len)
        return 0;
    strcpy(out, real);
    return 1;
}

int mkt_find_library(char *out, size_t len, char *why, size_t why_len)
{
    const char *env = getenv("MEMKIT_LIB");
    if (env && *env) {
        char real[PATH_MAX];
        if (!realpath(env, real) || access(real, R_OK) != 0) {
            snprintf(why, why_len, "MEMKIT_LIB=%s: %s", env, strerror(errno));
            return -1;
        }
        if (strlen(real) >= len) {
            snprintf(why, why_len, "MEMKIT_LIB=%s: path too long", env);
            return -1;
        }
        strcpy(out, real);
        return preloadable(out, why, why_len) ? 0 : -1;
    }

    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        snprintf(why, why_len, "cannot find this executable (/proc/self/exe: %s); "
                 "set MEMKIT_LIB=/path/to/" LIBNAME, strerror(errno));
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';   /* self is now the folder memkit is in */

    char cand[3][PATH_MAX + 64];
    int count = 0;
    /* the build tree */
    snprintf(cand[count++], sizeof cand[0], "%s/../shim/" LIBNAME, self);
    /* installed: up from bindir to the prefix, then into libdir */
    char prefix[PATH_MAX + 64];
    snprintf(prefix, sizeof prefix, "%s", self);
    for (int i = depth(MK_INSTALL_BINDIR); i > 0; i--)
        strncat(prefix, "/..", sizeof prefix - strlen(prefix) - 1);
    if (MK_INSTALL_LIBDIR[0] == '/')
        snprintf(cand[count++], sizeof cand[0], "%s/" LIBNAME, MK_INSTALL_LIBDIR);
    else
        snprintf(cand[count++], sizeof cand[0], "%.*s/%s/" LIBNAME, PATH_MAX, prefix, MK_INSTALL_LIBDIR);
    snprintf(cand[count++], sizeof cand[0], "%.*s/lib/" LIBNAME, PATH_MAX, prefix);

    for (int i = 0; i < count; i++)
        if (try_candidate(cand[i], out, len))
            return preloadable(out, why, why_len) ? 0 : -1;
    snprintf(why, why_len, "cannot find " LIBNAME " beside %s (looked for %s, %s, %s); "
             "set MEMKIT_LIB=/path/to/" LIBNAME, self, cand[0], cand[1], cand[2]);
    return -1;
}

char *mkt_preload_value(const char *lib, const char *old)
{
    if (!old || !*old)
        return strdup(lib);
    /* Already there (memkit run inside memkit run): loading it twice gains nothing. */
    size_t n = strlen(lib);
    for (const char *p = old; *p;) {
        size_t k = strcspn(p, " :");
        if (k == n && strncmp(p, lib, n) == 0)
            return strdup(old);
        p += k + (p[k] != '\0');
    }
    char *v = malloc(n + 1 + strlen(old) + 1);
    if (v)
        sprintf(v, "%s:%s", lib, old);
    return v;
}
