/* sysmem.c — see sysmem.h. */
#include "sysmem.h"
#include "fd_io.h"
#include "scan.h"

#include <errno.h>
#include <string.h>

/* The value of "<key>: <n> kB" at line, in bytes, or -1 when line is not
 * that key or the line is cut short. */
static int field_kib(const char *line, const char *key, uint64_t *bytes)
{
    size_t klen = strlen(key);
    if (strncmp(line, key, klen) != 0 || line[klen] != ':')
        return -1;
    const char *s = line + klen + 1;
    uint64_t kib;
    if (mk_scan_u64(&s, &kib) != 0)
        return -1;
    while (*s == ' ')
        s++;
    if (s[0] != 'k' || s[1] != 'B' || (s[2] != '\n' && s[2] != '\0'))
        return -1;
    if (kib > UINT64_MAX / 1024)
        return -1;
    *bytes = kib * 1024;
    return 0;
}

enum { TOTAL, AVAIL, FREE, BUFFERS, CACHED, NFIELDS };
static const char *const keys[NFIELDS] = {
    "MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached",
};

int mk_sysmem_parse(const char *text, struct mk_sysmem *out)
{
    uint64_t v[NFIELDS] = {0};
    unsigned found = 0;
    for (const char *line = text; line && *line; ) {
        for (int i = 0; i < NFIELDS; i++)
            if (!(found & (1u << i)) && field_kib(line, keys[i], &v[i]) == 0)
                found |= 1u << i;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    if (!(found & (1u << TOTAL)) || v[TOTAL] == 0)
        goto bad;
    out->total = v[TOTAL];
    if (found & (1u << AVAIL)) {
        out->available = v[AVAIL];
        out->estimated = 0;
    } else if (found & (1u << FREE)) {
        /* Buffers or Cached missing (a cut-off text) count as 0. */
        out->available = v[FREE] + v[BUFFERS] + v[CACHED];
        out->estimated = 1;
    } else {
        goto bad;
    }
    if (out->available > out->total)
        out->available = out->total;
    return 0;
bad:
    errno = EINVAL;
    return -1;
}

int mk_sysmem_read(struct mk_sysmem *out)
{
    int saved = errno;
    char buf[4096];     /* meminfo is 1.5 KiB; the fields wanted come first */
    if (mk_read_file("/proc/meminfo", buf, sizeof buf) < 0)
        return -1;
    if (mk_sysmem_parse(buf, out) != 0)
        return -1;
    errno = saved;
    return 0;
}
