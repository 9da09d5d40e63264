/* loader_text.c — where the dynamic loader's code is (loader_text.h). */
#include "loader_text.h"

#include <link.h>
#include <sys/auxv.h>

static uintptr_t text_lo, text_hi;

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    if (info->dlpi_addr != *(const uintptr_t *)arg)
        return 0;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t from = info->dlpi_addr + ph->p_vaddr;
        if (from < lo)
            lo = from;
        if (from + ph->p_memsz > hi)
            hi = from + ph->p_memsz;
    }
    if (lo < hi) {
        text_lo = lo;
        text_hi = hi;
    }
    return 1;
}

void mk_loader_text_find(void)
{
    uintptr_t base = (uintptr_t)getauxval(AT_BASE);   /* the loader's, 0 if none */
    if (base)
        dl_iterate_phdr(visit, &base);
}

int mk_loader_text_has(uintptr_t pc)
{
    return pc - text_lo < text_hi - text_lo;
}
