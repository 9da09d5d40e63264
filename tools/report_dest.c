/* report_dest.c — turn the report path a user gives `memkit run` into the
 * MEMKIT_REPORT template every process of the tree gets (rule in
 * report_dest.h). */
#include "report_dest.h"
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_NAME "memkit.%e.%p.json"

/* Copies the folder part of a template, turning %% into %; -1 on any other
 * conversion (a folder that varies per process cannot be searched). */
static int unescape_dir(const char *s, size_t n, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 1 >= n || s[i + 1] != '%')
                return -1;
            i++;
        }
        if (o + 1 >= len)
            return -1;
        out[o++] = s[i];
    }
    out[o] = '\0';
    return 0;
}

/* A real folder name as template text: % doubled. */
static int escape_dir(const char *s, char *out, size_t len)
{
    size_t o = 0;
    for (; *s; s++) {
        if (o + 3 >= len)
            return -1;
        if (*s == '%')
            out[o++] = '%';
        out[o++] = *s;
    }
    out[o] = '\0';
    return 0;
}

/* The file names a template produces, as an fnmatch pattern: each
 * conversion matches anything, literal text matches itself. */
static int name_pattern(const char *name, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = name; *p; p++) {
        if (o + 3 >= len)
            return -1;
        if (*p == '%') {
            p++;
            if (*p == '%')
                out[o++] = '%';
            else if (o == 0 || out[o - 1] != '*')
                out[o++] = '*';
        } else {
            if (strchr("*?[\\", *p))
                out[o++] = '\\';
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return 0;
}

int mkt_report_dest(const char *spec, struct mkt_report_dest *d, char *why, size_t len)
{
    memset(d, 0, sizeof *d);
    struct mk_opt_value v;
    if (mk_parse_value(MK_TYPE_PATH, spec ? spec : DEFAULT_NAME, &v) < 0) {
        snprintf(why, len, "report path '%s' is not %s", spec, mk_type_expectation(MK_TYPE_PATH));
        return -1;
    }
    if (strcmp(v.text, "off") == 0) {
        d->off = 1;
        return 0;
    }

    /* The folder part, made absolute from the current folder. */
    const char *t = v.text;
    const char *slash = strrchr(t, '/');
    const char *name = slash ? slash + 1 : t;
    char given[PATH_MAX], cwd[PATH_MAX];
    if (unescape_dir(t, slash ? (size_t)(slash - t) : 0, given, sizeof given) < 0) {
        snprintf(why, len, "report path '%s': %%p, %%e and %%t belong in the file name, "
                 "not in the folder", t);
        return -1;
    }
    if (t[0] == '/') {
        snprintf(d->dir, sizeof d->dir, "%s", given[0] ? given : "/");
    } else {
        if (!getcwd(cwd, sizeof cwd)) {
            snprintf(why, len, "cannot tell the current folder: %s", strerror(errno));
            return -1;
        }
        if ((size_t)snprintf(d->dir, sizeof d->dir, "%s%s%s", cwd,
                             given[0] && strcmp(cwd, "/") ? "/" : "", given) >= sizeof d->dir) {
            snprintf(why, len, "report path '%s': too long", t);
            return -1;
        }
    }
    /* Checked now: the processes themselves would fail in silence. */
    struct stat st;
    if (stat(d->dir, &st) != 0) {
        snprintf(why, len, "report folder %s: %s", d->dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, len, "report folder %s: not a folder", d->dir);
        return -1;
    }

    /* No conversion in the name: that name is the root's, the others go beside it. */
    int root_only = strchr(name, '%') == NULL;
    char edir[PATH_MAX];
    if (root_only) {
        if ((size_t)snprintf(d->root_path, sizeof d->root_path, "%s%s%s", d->dir,
                             strcmp(d->dir, "/") ? "/" : "", name) >= sizeof d->root_path) {
            snprintf(why, len, "report path '%s': too long", t);
            return -1;
        }
        name = DEFAULT_NAME;
    }
    if (escape_dir(d->dir, edir, sizeof edir) < 0
        || (size_t)snprintf(d->tmpl, sizeof d->tmpl, "%s%s%s", edir,
                            strcmp(d->dir, "/") ? "/" : "", name) >= MK_OPT_TEXT_MAX
        || name_pattern(name, d->pattern, sizeof d->pattern) < 0) {
        snprintf(why, len, "report path '%s': too long (MEMKIT_REPORT holds at most %d bytes)",
                 t, MK_OPT_TEXT_MAX - 1);
        return -1;
    }
    return 0;
}
