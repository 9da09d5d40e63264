/* cu_index.c — a module's CUs by address, and the code inlined in each
 * (cu_index.h).
 *
 * The CU table is every unit's DIE offset and address ranges, sorted by
 * address, built once per module the first time it is needed. A CU's
 * inlined code is a table of its inlined subroutines' ranges (built on
 * the CU's first lookup), flattened so that each address maps to its
 * innermost inlined function. */
#include "cu_index.h"

#include <dwarf.h>
#include <stdlib.h>

/* Part of a CU's code, and the innermost function inlined there (NULL:
 * none). Addresses are DWARF addresses (a frame's address less the
 * module's bias). */
struct seg {
    Dwarf_Addr  low, high;
    const char *name;
};

struct cu {
    Dwarf_Off    die_off;    /* the CU DIE's offset in .debug_info */
    int          inl_built;
    struct seg  *segs;       /* sorted, disjoint; only inlined code */
    size_t       nsegs;
};

struct cu_range {
    Dwarf_Addr low, high;
    size_t     cu;           /* index in cus */
};

/* Makes room for element n of the array at *arr (capacity *cap elements
 * of size each), doubling it from 64. 0 when there is none (the array is
 * left as it was). */
static int room_for(size_t n, size_t *cap, void **arr, size_t size)
{
    if (n < *cap)
        return 1;
    size_t grown = *cap ? 2 * *cap : 64;
    void *fresh = realloc(*arr, grown * size);
    if (!fresh)
        return 0;
    *arr = fresh;
    *cap = grown;
    return 1;
}

static int by_low(const void *a, const void *b)
{
    const struct cu_range *x = a, *y = b;
    return x->low < y->low ? -1 : x->low > y->low ? 1 : 0;
}

/* Every unit's DIE offset and address ranges, once per module: only the
 * units' headers and top DIEs are read. */
static void build_cus(struct mkt_cu_index *m)
{
    if (m->built)
        return;
    m->built = 1;
    Dwarf_Addr bias = 0;
    Dwarf *dw = dwfl_module_getdwarf(m->mod, &bias);
    if (!dw)
        return;
    m->dw = dw;
    m->bias = bias;
    size_t cap_cus = 0, cap_ranges = 0;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dwarf_next_unit(dw, off, &next, &hsize, NULL, NULL, NULL, NULL, NULL, NULL) == 0) {
        Dwarf_Die die;
        if (dwarf_offdie(dw, off + hsize, &die)) {
            if (!room_for(m->ncus, &cap_cus, (void **)&m->cus, sizeof *m->cus))
                break;
            m->cus[m->ncus] = (struct cu){ .die_off = off + hsize };
            ptrdiff_t it = 0;
            Dwarf_Addr base, lo, hi;
            while ((it = dwarf_ranges(&die, it, &base, &lo, &hi)) > 0) {
                if (lo >= hi)
                    continue;
                if (!room_for(m->nranges, &cap_ranges, (void **)&m->ranges, sizeof *m->ranges))
                    break;
                m->ranges[m->nranges++] = (struct cu_range){ lo, hi, m->ncus };
            }
            m->ncus++;
        }
        off = next;
    }
    if (m->nranges)
        qsort(m->ranges, m->nranges, sizeof *m->ranges, by_low);
}

Dwarf_Die *mkt_cu_index_find(struct mkt_cu_index *m, Dwarf_Addr pc, Dwarf_Die *mem)
{
    build_cus(m);
    if (!m->dw)
        return NULL;
    size_t lo = 0, hi = m->nranges;   /* the first range with low > pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ranges[mid].low <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* CUs' ranges do not overlap, but a few stray ones (code a linker
     * dropped, left at 0) may: look a little further back. */
    for (size_t i = lo, n = 0; i > 0 && n < 8; i--, n++) {
        const struct cu_range *r = &m->ranges[i - 1];
        if (pc >= r->low && pc < r->high)
            return dwarf_offdie(m->dw, m->cus[r->cu].die_off, mem);
    }
    return NULL;
}

static struct cu *cu_at(struct mkt_cu_index *m, Dwarf_Off die_off)
{
    build_cus(m);
    size_t lo = 0, hi = m->ncus;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->cus[mid].die_off < die_off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->ncus && m->cus[lo].die_off == die_off ? &m->cus[lo] : NULL;
}

/* ---- inlined code ----------------------------------------------------------- */

struct inl {
    Dwarf_Addr  low, high;
    unsigned    depth;       /* 1: inlined into a function, 2: into that... */
    const char *name;
};

struct inl_list {
    struct inl *v;
    size_t      n, cap;
    int         failed;
};

static void add_inl(struct inl_list *l, struct inl x)
{
    if (l->failed)
        return;
    if (!room_for(l->n, &l->cap, (void **)&l->v, sizeof *l->v)) {
        l->failed = 1;
        return;
    }
    l->v[l->n++] = x;
}

static const char *inlined_name(Dwarf_Die *die)
{
    Dwarf_Attribute mem;
    const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &mem));
    return name && *name ? name : "?";
}

/* Every inlined subroutine's ranges under parent: the DIEs that hold code
 * are walked, not the types. */
static void collect_inlined(Dwarf_Die *parent, unsigned depth, struct inl_list *l)
{
    Dwarf_Die child;
    if (depth > 200 || dwarf_child(parent, &child) != 0)
        return;
    do {
        switch (dwarf_tag(&child)) {
        case DW_TAG_inlined_subroutine: {
            const char *name = inlined_name(&child);
            ptrdiff_t it = 0;
            Dwarf_Addr base, lo, hi;
            while ((it = dwarf_ranges(&child, it, &base, &lo, &hi)) > 0)
                if (lo < hi)
                    add_inl(l, (struct inl){ lo, hi, depth + 1, name });
            if (dwarf_haschildren(&child))
                collect_inlined(&child, depth + 1, l);
            break;
        }
        case DW_TAG_subprogram:
        case DW_TAG_lexical_block:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
        case DW_TAG_namespace:
        case DW_TAG_module:
            if (dwarf_haschildren(&child))
                collect_inlined(&child, depth, l);
            break;
        default:
            break;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

static int by_low_then_depth(const void *a, const void *b)
{
    const struct inl *x = a, *y = b;
    if (x->low != y->low)
        return x->low < y->low ? -1 : 1;
    return x->depth < y->depth ? -1 : x->depth > y->depth ? 1 : 0;
}

static int add_seg(struct cu *c, size_t *cap, Dwarf_Addr low, Dwarf_Addr high, const char *name)
{
    if (low >= high)
        return 0;
    if (!room_for(c->nsegs, cap, (void **)&c->segs, sizeof *c->segs))
        return -1;
    c->segs[c->nsegs++] = (struct seg){ low, high, name };
    return 0;
}

/* The CU's inlined ranges, nested, flattened into disjoint segments each
 * naming the innermost function inlined there. */
static void build_inlined(struct cu *c, Dwarf_Die *cudie)
{
    c->inl_built = 1;
    struct inl_list l = { 0 };
    collect_inlined(cudie, 0, &l);
    if (l.failed || !l.n) {
        free(l.v);
        return;
    }
    qsort(l.v, l.n, sizeof *l.v, by_low_then_depth);
    const struct inl **stack = malloc(l.n * sizeof *stack);
    if (!stack) {
        free(l.v);
        return;
    }
    size_t sp = 0, cap = 0;
    Dwarf_Addr cur = 0;   /* painted up to here */
    int bad = 0;
    for (size_t i = 0; i < l.n && !bad; i++) {
        const struct inl *x = &l.v[i];
        while (sp && stack[sp - 1]->high <= x->low && !bad) {
            const struct inl *top = stack[--sp];
            if (cur < top->high) {
                bad = add_seg(c, &cap, cur, top->high, top->name);
                cur = top->high;
            }
        }
        if (sp && cur < x->low)
            bad = add_seg(c, &cap, cur, x->low, stack[sp - 1]->name);
        if (cur < x->low)
            cur = x->low;
        stack[sp++] = x;
    }
    while (sp && !bad) {
        const struct inl *top = stack[--sp];
        if (cur < top->high) {
            bad = add_seg(c, &cap, cur, top->high, top->name);
            cur = top->high;
        }
    }
    free(stack);
    if (bad) {
        free(c->segs);
        c->segs = NULL;
        c->nsegs = 0;
    }
    /* The names point into the module's string sections, which stay. */
    free(l.v);
}

const char *mkt_cu_index_inlined(struct mkt_cu_index *m, Dwarf_Die *cudie, Dwarf_Addr pc)
{
    struct cu *c = cu_at(m, dwarf_dieoffset(cudie));
    if (!c)
        return NULL;
    if (!c->inl_built)
        build_inlined(c, cudie);
    size_t lo = 0, hi = c->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->segs[mid].low <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && pc < c->segs[lo - 1].high ? c->segs[lo - 1].name : NULL;
}

void mkt_cu_index_init(struct mkt_cu_index *m, Dwfl_Module *mod)
{
    *m = (struct mkt_cu_index){ .mod = mod };
}

Dwarf_Addr mkt_cu_index_bias(struct mkt_cu_index *m)
{
    build_cus(m);
    return m->bias;
}

void mkt_cu_index_free(struct mkt_cu_index *m)
{
    for (size_t c = 0; c < m->ncus; c++)
        free(m->cus[c].segs);
    free(m->cus);
    free(m->ranges);
    *m = (struct mkt_cu_index){ 0 };
}
