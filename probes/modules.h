/* modules.h — the code mapped into this process, for the report: each
 * module's path, GNU build id and load bias, and which module holds an
 * address.
 *
 * Read from /proc/self/maps at report time, not with dl_iterate_phdr: that
 * takes the loader's lock, and the report is written from exit paths
 * (_exit, a fork child of a threaded parent) where a thread that no longer
 * runs may hold it. The maps file needs no lock; its cost is one open and
 * reads of about 100 bytes per mapping (a few hundred mappings in a large
 * program), plus one open and three small preads per module for the build
 * id (read from the file on disk, so an unmapped-meanwhile module cannot
 * fault the reader). */
#ifndef MK_MODULES_H
#define MK_MODULES_H

#include <stddef.h>
#include <stdint.h>

#define MK_MODULE_PATH_MAX 512
#define MK_BUILD_ID_MAX 64            /* bytes; the note is usually 20 */

struct mk_module {
    char      path[MK_MODULE_PATH_MAX];   /* as in the maps file; "[vdso]" too */
    uintptr_t base;                       /* load bias: address = base + ELF vaddr */
    uint8_t   build_id[MK_BUILD_ID_MAX];
    unsigned  build_id_len;               /* 0: none found */
};

struct mk_code_range {
    uintptr_t lo, hi;                     /* an executable mapping [lo, hi) */
    uint32_t  module;
};

struct mk_modules {
    struct mk_module     *mods;
    uint32_t              count;
    struct mk_code_range *ranges;         /* sorted by lo */
    uint32_t              nranges;
    size_t                mods_bytes, ranges_bytes;
};

/* Reads the process's executable mappings. 0, or -1 with errno set (the
 * table is then empty but may still be released). */
int mk_modules_load(struct mk_modules *m);
/* The module holding ip and ip's offset in its ELF address space (what
 * addr2line or libdw take), or -1 when no mapped file holds it. */
int mk_modules_find(const struct mk_modules *m, uintptr_t ip, uint64_t *offset);
void mk_modules_release(struct mk_modules *m);

/* Reads the GNU build id and the first loadable segment's address and file
 * offset from an ELF file (pure; the tools' tests use it too). Returns the
 * id's length (0 when it has none), -1 when the file is not ELF. */
int mk_elf_build_id(const char *path, uint8_t *id, size_t cap,
                    uint64_t *first_vaddr, uint64_t *first_offset);

#endif
