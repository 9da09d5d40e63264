/* symbolize.c — report frames to names and lines (see symbolize.h).
 *
 * Lines come from libdwfl's address lookup, which finds a module's CU
 * through .debug_aranges; where there are none (clang), the CU comes from
 * cu_index.h and its line from dwarf_getsrc_die. cu_index.h also names
 * the function inlined at an address. */
#include "symbolize.h"
#include "cu_index.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct module {
    const char  *path;       /* from the report */
    const char  *build_id;   /* hex, or NULL */
    int          tried;
    Dwfl        *dwfl;
    Dwfl_Module *mod;        /* NULL: not resolvable */
    struct mkt_cu_index cus; /* for CUs .debug_aranges does not name */
};

struct mkt_symbolizer {
    const json_t  *modules;
    size_t         count;
    struct module *mods;
};

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

struct mkt_symbolizer *mkt_sym_new(const json_t *modules)
{
    struct mkt_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->modules = modules;
    s->count = json_is_array(modules) ? json_array_size(modules) : 0;
    s->mods = calloc(s->count ? s->count : 1, sizeof *s->mods);
    if (!s->mods) {
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < s->count; i++) {
        const json_t *m = json_array_get(modules, i);
        s->mods[i].path = json_string_value(json_object_get(m, "path"));
        s->mods[i].build_id = json_string_value(json_object_get(m, "build_id"));
    }
    return s;
}

void mkt_sym_free(struct mkt_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++) {
        struct module *m = &s->mods[i];
        mkt_cu_index_free(&m->cus);
        if (m->dwfl)
            dwfl_end(m->dwfl);
    }
    free(s->mods);
    free(s);
}

/* Does the file libdw opened carry the build id the report recorded? A
 * report without one (or a file without one) is taken on trust. */
static int same_build(Dwfl_Module *mod, const char *want)
{
    const unsigned char *bits;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &bits, &vaddr);
    if (!want || n <= 0)
        return 1;
    if (strlen(want) != (size_t)n * 2)
        return 0;
    for (int i = 0; i < n; i++) {
        char hex[3];
        snprintf(hex, sizeof hex, "%02x", bits[i]);
        if (hex[0] != want[2 * i] || hex[1] != want[2 * i + 1])
            return 0;
    }
    return 1;
}

static Dwfl_Module *open_module(struct module *m)
{
    if (m->tried)
        return m->mod;
    m->tried = 1;
    if (!m->path || m->path[0] != '/')
        return NULL;
    m->dwfl = dwfl_begin(&callbacks);
    if (!m->dwfl)
        return NULL;
    dwfl_report_begin(m->dwfl);
    Dwfl_Module *mod = dwfl_report_elf(m->dwfl, m->path, m->path, -1, 0, false);
    dwfl_report_end(m->dwfl, NULL, NULL);
    if (mod && same_build(mod, m->build_id))
        m->mod = mod;
    mkt_cu_index_init(&m->cus, m->mod);
    return m->mod;
}

static const char *base_name(const char *p)
{
    const char *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

void mkt_sym_frame(struct mkt_symbolizer *s, int64_t module, uint64_t offset,
                   struct mkt_frame_info *out)
{
    memset(out, 0, sizeof *out);
    struct module *m = module >= 0 && (size_t)module < s->count ? &s->mods[module] : NULL;
    Dwfl_Module *mod = m ? open_module(m) : NULL;
    if (mod) {
        /* Reported at base 0, a shared object's addresses are its ELF
         * addresses, and a fixed executable sits at its link address: in
         * both the frame's offset is the address to ask about. */
        GElf_Addr addr = offset ? offset - 1 : 0;
        GElf_Off off;
        GElf_Sym sym;
        const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
        if (name) {
            snprintf(out->func, sizeof out->func, "%s", name);
            out->resolved = 1;
        }
        /* The fast path: a CU that .debug_aranges names. */
        Dwfl_Line *line = dwfl_module_getsrc(mod, addr);
        if (line) {
            int lineno = 0;
            const char *src = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
            if (src) {
                snprintf(out->file, sizeof out->file, "%s", base_name(src));
                out->line = lineno;
            }
        }
        Dwarf_Addr bias = 0;
        Dwarf_Die *cudie = dwfl_module_addrdie(mod, addr, &bias), cu_mem;
        if (!cudie) {
            /* None (clang): the CU from the module's table of CU ranges. */
            bias = mkt_cu_index_bias(&m->cus);
            cudie = addr >= bias ? mkt_cu_index_find(&m->cus, addr - bias, &cu_mem) : NULL;
        }
        if (cudie) {
            Dwarf_Addr pc = addr - bias;
            if (!out->line) {
                Dwarf_Line *dl = dwarf_getsrc_die(cudie, pc);
                int lineno = 0;
                const char *src = dl ? dwarf_linesrc(dl, NULL, NULL) : NULL;
                if (src && dwarf_lineno(dl, &lineno) == 0 && lineno > 0) {
                    snprintf(out->file, sizeof out->file, "%s", base_name(src));
                    out->line = lineno;
                }
            }
            const char *inl = out->resolved ? mkt_cu_index_inlined(&m->cus, cudie, pc) : NULL;
            if (inl)
                snprintf(out->inlined, sizeof out->inlined, "%s", inl);
        }
        if (out->resolved)
            return;
    }
    if (m && m->path)
        snprintf(out->func, sizeof out->func, "%s+0x%llx", base_name(m->path),
                 (unsigned long long)offset);
    else
        snprintf(out->func, sizeof out->func, "0x%llx", (unsigned long long)offset);
}

const char *mkt_frame_text(const struct mkt_frame_info *f, char *buf, size_t len)
{
    if (f->inlined[0] && f->file[0] && f->line)
        snprintf(buf, len, "%s (%s:%d, inlined into %s)", f->inlined, f->file, f->line, f->func);
    else if (f->inlined[0])
        snprintf(buf, len, "%s (inlined into %s)", f->inlined, f->func);
    else if (f->file[0] && f->line)
        snprintf(buf, len, "%s (%s:%d)", f->func, f->file, f->line);
    else
        snprintf(buf, len, "%s", f->func);
    return buf;
}
