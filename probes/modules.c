/* modules.c — the module table (see modules.h). */
#include "modules.h"
#include "fd_io.h"
#include "line_reader.h"
#include "real.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define MAX_MODULES 1024
#define MAX_RANGES  4096

/* ---- ELF ------------------------------------------------------------------- */

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int find_note(const unsigned char *d, size_t len, uint8_t *id, size_t cap)
{
    size_t pos = 0;
    while (pos + sizeof(Elf64_Nhdr) <= len) {
        Elf64_Nhdr nh;
        memcpy(&nh, d + pos, sizeof nh);
        size_t name_at = pos + sizeof nh;
        size_t desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
        size_t next = desc_at + ((nh.n_descsz + 3) & ~3u);
        if (next > len || desc_at > len)
            return 0;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            memcmp(d + name_at, "GNU", 4) == 0) {
            size_t n = nh.n_descsz < cap ? nh.n_descsz : cap;
            memcpy(id, d + desc_at, n);
            return (int)n;
        }
        pos = next;
    }
    return 0;
}

int mk_elf_build_id(const char *path, uint8_t *id, size_t cap,
                    uint64_t *first_vaddr, uint64_t *first_offset)
{
    int saved = errno;
    int rc = -1;
    int fd = mk_open_own(path, O_RDONLY | O_NOCTTY, 0);
    if (fd < 0)
        goto out;
    Elf64_Ehdr eh;
    if (read_at(fd, &eh, sizeof eh, 0) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phnum == 0 || eh.e_phnum > 128)
        goto close;
    Elf64_Phdr ph[128];
    if (read_at(fd, ph, sizeof(Elf64_Phdr) * eh.e_phnum, eh.e_phoff) < 0)
        goto close;
    rc = 0;
    int have_load = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !have_load) {
            have_load = 1;
            if (first_vaddr)
                *first_vaddr = ph[i].p_vaddr;
            if (first_offset)
                *first_offset = ph[i].p_offset;
        }
        if (ph[i].p_type == PT_NOTE && rc == 0 && ph[i].p_filesz <= 4096) {
            unsigned char notes[4096];
            if (read_at(fd, notes, ph[i].p_filesz, ph[i].p_offset) == 0)
                rc = find_note(notes, ph[i].p_filesz, id, cap);
        }
    }
close:
    close(fd);
out:
    errno = saved;
    return rc;
}

/* ---- /proc/self/maps ------------------------------------------------------- */

static const char *hex(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    for (;; s++) {
        char c = *s;
        if (c >= '0' && c <= '9') x = x * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f') x = x * 16 + (uint64_t)(c - 'a' + 10);
        else break;
    }
    *v = x;
    return s;
}

/* One line: "lo-hi perms offset dev inode   path". 0 when it parsed. */
static int parse_line(const char *s, uint64_t *lo, uint64_t *hi, int *exec,
                      uint64_t *off, const char **path)
{
    s = hex(s, lo);
    if (*s++ != '-')
        return -1;
    s = hex(s, hi);
    if (*s++ != ' ' || strlen(s) < 5)
        return -1;
    *exec = s[2] == 'x';
    s += 4;
    if (*s++ != ' ')
        return -1;
    s = hex(s, off);
    for (int field = 0; field < 2; field++) {   /* dev, inode */
        while (*s == ' ')
            s++;
        while (*s && *s != ' ')
            s++;
    }
    while (*s == ' ')
        s++;
    *path = s;
    return 0;
}

static int64_t find_module(struct mk_modules *m, const char *path)
{
    /* Mappings of one module are adjacent: look at the last few. */
    for (uint32_t i = m->count; i > 0 && i + 8 > m->count; i--)
        if (strcmp(m->mods[i - 1].path, path) == 0)
            return i - 1;
    return -1;
}

int mk_modules_load(struct mk_modules *m)
{
    memset(m, 0, sizeof *m);
    m->mods_bytes = sizeof(struct mk_module) * MAX_MODULES;
    m->ranges_bytes = sizeof(struct mk_code_range) * MAX_RANGES;
    m->mods = mk_pages_alloc(m->mods_bytes);
    m->ranges = mk_pages_alloc(m->ranges_bytes);
    if (!m->mods || !m->ranges)
        return -1;
    /* Where each module's lowest mapping starts, minus its file offset. */
    static uint64_t first_start[MAX_MODULES];
    char buf[4096];
    struct mk_lines r;
    if (mk_lines_open(&r, "/proc/self/maps", buf, sizeof buf) < 0)
        return -1;
    char *line;
    while ((line = mk_lines_next(&r, NULL)) != NULL) {
        uint64_t lo, hi, off;
        int exec;
        const char *path;
        if (parse_line(line, &lo, &hi, &exec, &off, &path) < 0 || !*path)
            continue;
        if (path[0] == '[' && strcmp(path, "[vdso]") != 0)
            continue;   /* [heap], [stack], [vvar]: no code of a module */
        if (strlen(path) >= MK_MODULE_PATH_MAX)
            continue;
        int64_t mi = find_module(m, path);
        if (mi < 0 || off == 0) {   /* offset 0 again: a second instance */
            if (m->count >= MAX_MODULES)
                continue;
            mi = m->count++;
            strcpy(m->mods[mi].path, path);
            first_start[mi] = lo - off;
        }
        if (exec && m->nranges < MAX_RANGES)
            m->ranges[m->nranges++] = (struct mk_code_range){ lo, hi, (uint32_t)mi };
    }
    mk_lines_close(&r);
    /* Drop modules with no code (data files mapped by the program). */
    static uint32_t remap[MAX_MODULES];
    static uint8_t has_code[MAX_MODULES];
    memset(has_code, 0, sizeof has_code);
    for (uint32_t i = 0; i < m->nranges; i++)
        has_code[m->ranges[i].module] = 1;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        if (!has_code[i])
            continue;
        remap[i] = kept;
        if (kept != i) {
            m->mods[kept] = m->mods[i];
            first_start[kept] = first_start[i];
        }
        kept++;
    }
    m->count = kept;
    for (uint32_t i = 0; i < m->nranges; i++)
        m->ranges[i].module = remap[m->ranges[i].module];
    for (uint32_t i = 0; i < m->count; i++) {
        struct mk_module *mod = &m->mods[i];
        uint64_t vaddr = 0, foff = 0;
        int n = mod->path[0] == '/'
              ? mk_elf_build_id(mod->path, mod->build_id, sizeof mod->build_id, &vaddr, &foff)
              : 0;
        mod->build_id_len = n > 0 ? (unsigned)n : 0;
        /* bias = where file offset 0 is mapped - the ELF address of offset 0. */
        mod->base = (uintptr_t)(first_start[i] - ((vaddr - foff) & ~(uint64_t)0xfff));
    }
    return 0;
}

int mk_modules_find(const struct mk_modules *m, uintptr_t ip, uint64_t *offset)
{
    uint32_t a = 0, b = m->nranges;
    while (a < b) {
        uint32_t mid = (a + b) / 2;
        if (m->ranges[mid].hi <= ip)
            a = mid + 1;
        else
            b = mid;
    }
    if (a < m->nranges && m->ranges[a].lo <= ip && ip < m->ranges[a].hi) {
        uint32_t mi = m->ranges[a].module;
        *offset = ip - m->mods[mi].base;
        return (int)mi;
    }
    return -1;
}

void mk_modules_release(struct mk_modules *m)
{
    if (m->mods)
        mk_pages_free(m->mods, m->mods_bytes);
    if (m->ranges)
        mk_pages_free(m->ranges, m->ranges_bytes);
    memset(m, 0, sizeof *m);
}
