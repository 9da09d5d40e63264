/* report_path.c — expands MEMKIT_REPORT's template into a path. */
#include "report.h"
#include "fmt.h"

#include <errno.h>
#include <string.h>

struct path_out {
    char  *buf;
    size_t len, pos;
};

static int add(struct path_out *o, const char *s, size_t n)
{
    if (o->pos + n + 1 > o->len)
        return -1;
    memcpy(o->buf + o->pos, s, n);
    o->pos += n;
    o->buf[o->pos] = '\0';
    return 0;
}

/* The program name as one safe file-name component. */
static int add_name(struct path_out *o, const char *prog)
{
    if (!prog || !*prog || strcmp(prog, ".") == 0 || strcmp(prog, "..") == 0)
        prog = "unknown";
    for (const char *c = prog; *c; c++) {
        char ch = (*c == '/' || (unsigned char)*c < 0x20 || *c == 0x7f) ? '_' : *c;
        if (add(o, &ch, 1) < 0)
            return -1;
    }
    return 0;
}

int mk_report_path_expand(const char *tpl, const char *dir, long pid,
                          const char *prog, long long start_s,
                          char *out, size_t len)
{
    struct path_out o = { out, len, 0 };
    if (!len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    out[0] = '\0';
    int too_long = 0;
    if (tpl[0] != '/' && dir && dir[0]) {
        size_t dl = strlen(dir);
        too_long |= add(&o, dir, dl) < 0;
        if (dl && dir[dl - 1] != '/')
            too_long |= add(&o, "/", 1) < 0;
    }
    for (const char *p = tpl; *p && !too_long; p++) {
        if (*p != '%') {
            too_long |= add(&o, p, 1) < 0;
            continue;
        }
        char num[24];
        switch (*++p) {
        case 'p':
            too_long |= add(&o, num, mk_snprintf(num, sizeof num, "%ld", pid)) < 0;
            break;
        case 't':
            too_long |= add(&o, num, mk_snprintf(num, sizeof num, "%lld", start_s)) < 0;
            break;
        case 'e':
            too_long |= add_name(&o, prog) < 0;
            break;
        case '%':
            too_long |= add(&o, "%", 1) < 0;
            break;
        default:
            out[0] = '\0';
            errno = EINVAL;
            return -1;
        }
    }
    if (too_long) {
        out[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}
