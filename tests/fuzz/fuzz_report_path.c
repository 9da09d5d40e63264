/* fuzz_report_path.c — libFuzzer target: MEMKIT_REPORT templates, parsed
 * (mk_parse_path_template) and expanded (mk_report_path_expand).
 *
 * The input is up to four parts split at '\n': template, start folder,
 * program name, and a last part whose bytes pick the pid, the start time
 * and the output length. Both the parsed template and the raw one (which
 * the shim never passes, but the function must survive) are expanded
 * into an exact-size heap buffer. What must hold:
 *  - success: the path is NUL-terminated inside the buffer; a relative
 *    template starts with the folder; the program name adds no '/' and
 *    no control character, so the path has exactly as many '/' as the
 *    folder, its separator and the template put there;
 *  - failure: errno is ENAMETOOLONG or EINVAL and the buffer holds "". */
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) { \
        fprintf(stderr, "fuzz_report_path: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        abort(); } } while (0)

static size_t count_slashes(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '/';
    return n;
}

static void expand(const char *tpl, const char *dir, const char *prog, long pid,
                   long long start, size_t len)
{
    char *out = malloc(len ? len : 1);
    if (!out)
        return;
    if (len)
        memset(out, 'x', len);
    errno = 0;
    int rc = mk_report_path_expand(tpl, dir, pid, prog, start, out, len);
    if (rc < 0) {
        CHECK(errno == ENAMETOOLONG || errno == EINVAL);
        CHECK(len == 0 || out[0] == '\0');
        free(out);
        return;
    }
    CHECK(rc == 0);
    CHECK(len > 0 && memchr(out, '\0', len) != NULL);
    if (tpl[0] != '/' && dir[0]) {
        size_t dl = strlen(dir);
        CHECK(strncmp(out, dir, dl) == 0);
    }
    /* Every '/' comes from the folder, the separator or the template. */
    size_t want = count_slashes(tpl);
    if (tpl[0] != '/' && dir[0]) {
        want += count_slashes(dir);
        want += dir[strlen(dir) - 1] != '/';
    }
    CHECK(count_slashes(out) == want);
    for (const char *c = out; *c; c++)
        CHECK((unsigned char)*c >= 0x20 || strchr(tpl, *c) || strchr(dir, *c));
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *part[4] = { "", "", "", "" };
    size_t nparts = 0;
    char *p = buf;
    while (nparts < 4) {
        part[nparts++] = p;
        char *nl = nparts < 4 ? strchr(p, '\n') : NULL;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    const char *tpl = part[0], *dir = part[1], *prog = part[2];
    const unsigned char *k = (const unsigned char *)part[3];
    size_t kl = strlen(part[3]);
    long pid = kl > 0 ? (long)k[0] * 997 * (k[0] & 1 ? -1 : 1) : 4242;
    long long start = kl > 1 ? (long long)((uint64_t)k[1] << (k[1] % 64)) : 1795355401LL;
    if (kl > 2 && (k[2] == 'M' || k[2] == 'N'))
        pid = k[2] == 'M' ? LONG_MIN : LONG_MAX;   /* the extremes */
    size_t len = kl > 3 ? k[3] : 4096;

    char parsed[MK_OPT_TEXT_MAX];
    if (mk_parse_path_template(tpl, parsed, sizeof parsed) == 0 && strcmp(parsed, "off") != 0) {
        /* A parsed template never fails but for length. */
        char *big = malloc(8192);
        if (big) {
            errno = 0;
            CHECK(mk_report_path_expand(parsed, dir, pid, prog, start, big, 8192) == 0 ||
                  errno == ENAMETOOLONG);
            free(big);
        }
        expand(parsed, dir, prog, pid, start, len);
    }
    expand(tpl, dir, prog, pid, start, len);
    free(buf);
    return 0;
}
