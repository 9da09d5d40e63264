/* cu_index.h — which compile unit holds an address, and which function
 * is inlined there, for modules libdw's own lookup cannot serve.
 *
 * libdwfl finds an address's CU through .debug_aranges; clang emits none
 * by default, and libdw 0.188 then finds no CU at all. This index reads
 * the units' headers and ranges instead (once per module), and, per CU on
 * first use, the ranges of its inlined subroutines. Addresses here are
 * DWARF addresses: a module address less mkt_cu_index_bias(). */
#ifndef MKT_CU_INDEX_H
#define MKT_CU_INDEX_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stddef.h>

struct cu;
struct cu_range;

struct mkt_cu_index {
    Dwfl_Module     *mod;
    int              built;    /* the tables below are made on first need */
    Dwarf           *dw;       /* NULL: no DWARF */
    Dwarf_Addr       bias;
    struct cu       *cus;      /* in .debug_info order (offsets ascending) */
    size_t           ncus;
    struct cu_range *ranges;   /* sorted by low */
    size_t           nranges;
};

void mkt_cu_index_init(struct mkt_cu_index *m, Dwfl_Module *mod);
void mkt_cu_index_free(struct mkt_cu_index *m);
/* The bias between the module's addresses and its DWARF addresses. */
Dwarf_Addr mkt_cu_index_bias(struct mkt_cu_index *m);
/* The DIE of the CU whose ranges hold pc, in *mem; NULL when none does. */
Dwarf_Die *mkt_cu_index_find(struct mkt_cu_index *m, Dwarf_Addr pc, Dwarf_Die *mem);
/* The innermost function inlined at pc in cudie's CU, or NULL. The name
 * lives as long as the module's Dwfl. */
const char *mkt_cu_index_inlined(struct mkt_cu_index *m, Dwarf_Die *cudie, Dwarf_Addr pc);

#endif
