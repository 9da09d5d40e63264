/* frame_names.c — cached, interned frame names (see frame_names.h).
 *
 * Two open-addressing tables, each kept at most half full: addresses
 * (module, offset) to names, and the set of distinct names. */
#include "frame_names.h"
#include "symbolize.h"

#include <stdlib.h>
#include <string.h>

struct addr_slot {
    int64_t     module;
    uint64_t    offset;
    const char *name;      /* NULL: empty slot */
};

struct mkt_frame_names {
    struct mkt_symbolizer *sym;
    struct addr_slot      *addrs;
    size_t                 addr_cap, addr_used;
    char                 **strings;   /* NULL: empty slot */
    size_t                 str_cap, str_used;
};

#define FIRST_CAP 1024   /* a power of two */

static uint64_t mix(uint64_t x)
{
    /* splitmix64's finaliser: offsets differ in their low bits only. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t hash_text(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

struct mkt_frame_names *mkt_names_new(const json_t *modules)
{
    struct mkt_frame_names *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->sym = mkt_sym_new(modules);
    n->addrs = calloc(FIRST_CAP, sizeof *n->addrs);
    n->strings = calloc(FIRST_CAP, sizeof *n->strings);
    n->addr_cap = n->str_cap = FIRST_CAP;
    if (!n->sym || !n->addrs || !n->strings) {
        mkt_names_free(n);
        return NULL;
    }
    return n;
}

void mkt_names_free(struct mkt_frame_names *n)
{
    if (!n)
        return;
    for (size_t i = 0; n->strings && i < n->str_cap; i++)
        free(n->strings[i]);
    free(n->strings);
    free(n->addrs);
    mkt_sym_free(n->sym);
    free(n);
}

/* ---- the set of names ------------------------------------------------------ */

static int grow_strings(struct mkt_frame_names *n)
{
    size_t cap = n->str_cap * 2;
    char **fresh = calloc(cap, sizeof *fresh);
    if (!fresh)
        return -1;
    for (size_t i = 0; i < n->str_cap; i++) {
        if (!n->strings[i])
            continue;
        size_t k = hash_text(n->strings[i]) & (cap - 1);
        while (fresh[k])
            k = (k + 1) & (cap - 1);
        fresh[k] = n->strings[i];
    }
    free(n->strings);
    n->strings = fresh;
    n->str_cap = cap;
    return 0;
}

const char *mkt_names_intern(struct mkt_frame_names *n, const char *s)
{
    if (2 * (n->str_used + 1) > n->str_cap && grow_strings(n) < 0)
        return NULL;
    size_t k = hash_text(s) & (n->str_cap - 1);
    while (n->strings[k]) {
        if (strcmp(n->strings[k], s) == 0)
            return n->strings[k];
        k = (k + 1) & (n->str_cap - 1);
    }
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    n->strings[k] = copy;
    n->str_used++;
    return copy;
}

/* ---- addresses --------------------------------------------------------------- */

static size_t addr_home(int64_t module, uint64_t offset, size_t cap)
{
    return mix(offset ^ ((uint64_t)module << 48) ^ (uint64_t)module) & (cap - 1);
}

static int grow_addrs(struct mkt_frame_names *n)
{
    size_t cap = n->addr_cap * 2;
    struct addr_slot *fresh = calloc(cap, sizeof *fresh);
    if (!fresh)
        return -1;
    for (size_t i = 0; i < n->addr_cap; i++) {
        struct addr_slot *s = &n->addrs[i];
        if (!s->name)
            continue;
        size_t k = addr_home(s->module, s->offset, cap);
        while (fresh[k].name)
            k = (k + 1) & (cap - 1);
        fresh[k] = *s;
    }
    free(n->addrs);
    n->addrs = fresh;
    n->addr_cap = cap;
    return 0;
}

const char *mkt_names_frame(struct mkt_frame_names *n, int64_t module, uint64_t offset)
{
    size_t k = addr_home(module, offset, n->addr_cap);
    while (n->addrs[k].name) {
        if (n->addrs[k].module == module && n->addrs[k].offset == offset)
            return n->addrs[k].name;
        k = (k + 1) & (n->addr_cap - 1);
    }
    struct mkt_frame_info f;
    mkt_sym_frame(n->sym, module, offset, &f);
    const char *name = mkt_names_intern(n, f.func);
    if (!name)
        return NULL;
    if (2 * (n->addr_used + 1) > n->addr_cap) {
        if (grow_addrs(n) < 0)
            return name;   /* not cached, still right */
        k = addr_home(module, offset, n->addr_cap);
        while (n->addrs[k].name)
            k = (k + 1) & (n->addr_cap - 1);
    }
    n->addrs[k] = (struct addr_slot){ module, offset, name };
    n->addr_used++;
    return name;
}

const char *mkt_names_site_frame(struct mkt_frame_names *n, const json_t *frames, size_t i)
{
    const json_t *fr = json_array_get(frames, i);
    const json_t *m = json_object_get(fr, "module");
    const json_t *o = json_object_get(fr, "offset");
    return mkt_names_frame(n, json_is_integer(m) ? json_integer_value(m) : -1,
                           json_is_integer(o) ? (uint64_t)json_integer_value(o) : 0);
}
