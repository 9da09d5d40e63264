/* svg_flame.c — the flame graph (see svg_flame.h).
 *
 * Stacks are merged by frame name from the root down, as --folded merges
 * them; a (parent, name) table finds a node's child in constant time, so
 * 100,000 sites of a dozen frames build in a blink. Rectangles narrower
 * than MIN_WIDTH are not drawn (their bytes still widen their parent):
 * they could not be seen or hovered, and would make the file huge. */
#include "svg_flame.h"
#include "frame_names.h"
#include "report_get.h"
#include "svg_text.h"
#include "units.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ROW        18     /* height of one level, gap included */
#define HEAD       28     /* the title above the graph */
#define MIN_WIDTH  0.3    /* px */
#define CHAR_WIDTH 6.7    /* px of one character at 11px monospace */
#define LIST_LINE  16     /* px per line of the top sites list */
#define LIST_DEPTH 4      /* frames named per listed site */
#define NODE_CHUNK 4096

struct node {
    const char  *name;               /* interned */
    uint64_t     bytes, calls;
    struct node *parent, *child, *sibling;
    size_t       nchild;
};

struct chunk {
    struct chunk *next;
    size_t        used;
    struct node   nodes[NODE_CHUNK];
};

struct site {
    uint64_t           bytes, calls;
    const struct node *leaf;
};

struct mkt_flame {
    struct mkt_frame_names *names;
    struct chunk           *chunks;
    struct node            *root;
    struct node           **table;   /* children by (parent, name) */
    size_t                  table_cap, table_used;
    struct site            *sites;
    size_t                  nsites;
};

/* ---- building ---------------------------------------------------------------------- */

static struct node *new_node(struct mkt_flame *f)
{
    if (!f->chunks || f->chunks->used == NODE_CHUNK) {
        struct chunk *c = malloc(sizeof *c);
        if (!c)
            return NULL;
        c->next = f->chunks;
        c->used = 0;
        f->chunks = c;
    }
    struct node *n = &f->chunks->nodes[f->chunks->used++];
    memset(n, 0, sizeof *n);
    return n;
}

static size_t slot_of(const struct node *parent, const char *name, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull ^
                 (uint64_t)(uintptr_t)name * 0xc2b2ae3d27d4eb4full;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static int grow_table(struct mkt_flame *f)
{
    size_t cap = f->table_cap ? 2 * f->table_cap : 4096;
    struct node **t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < f->table_cap; i++) {
        struct node *n = f->table[i];
        if (!n)
            continue;
        size_t k = slot_of(n->parent, n->name, cap);
        while (t[k])
            k = (k + 1) & (cap - 1);
        t[k] = n;
    }
    free(f->table);
    f->table = t;
    f->table_cap = cap;
    return 0;
}

static struct node *child_of(struct mkt_flame *f, struct node *parent, const char *name)
{
    if (2 * (f->table_used + 1) > f->table_cap && grow_table(f) < 0)
        return NULL;
    size_t k = slot_of(parent, name, f->table_cap);
    for (; f->table[k]; k = (k + 1) & (f->table_cap - 1))
        if (f->table[k]->parent == parent && f->table[k]->name == name)
            return f->table[k];
    struct node *n = new_node(f);
    if (!n)
        return NULL;
    n->name = name;
    n->parent = parent;
    n->sibling = parent->child;
    parent->child = n;
    parent->nchild++;
    f->table[k] = n;
    f->table_used++;
    return n;
}

static uint64_t estimate(const json_t *site, const char *key)
{
    const json_t *v = json_object_get(site, key);
    double d = json_is_number(v) ? json_number_value(v) : 0;
    return d > 0 && d < 1.8e19 ? (uint64_t)d : 0;
}

void mkt_flame_free(struct mkt_flame *f)
{
    if (!f)
        return;
    while (f->chunks) {
        struct chunk *c = f->chunks;
        f->chunks = c->next;
        free(c);
    }
    free(f->table);
    free(f->sites);
    mkt_names_free(f->names);
    free(f);
}

struct mkt_flame *mkt_flame_build(const json_t *r)
{
    struct mkt_flame *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    const json_t *sites = mkt_at(r, "sites");
    size_t n = json_array_size(sites);
    f->names = mkt_names_new(mkt_at(r, "modules"));
    f->root = new_node(f);
    f->sites = calloc(n ? n : 1, sizeof *f->sites);
    const char *other = f->names ? mkt_names_intern(f->names, "[other stacks]") : NULL;
    if (!f->names || !f->root || !f->sites || !other || grow_table(f) < 0) {
        mkt_flame_free(f);
        return NULL;
    }
    f->root->name = mkt_names_intern(f->names, "all");
    for (size_t i = 0; i < n; i++) {
        const json_t *site = json_array_get(sites, i);
        uint64_t bytes = estimate(site, "alloc_bytes_est");
        if (!bytes)
            continue;
        uint64_t calls = estimate(site, "alloc_calls_est");
        const json_t *frames = json_object_get(site, "frames");
        size_t depth = json_array_size(frames);
        struct node *at = f->root;
        at->bytes += bytes;
        at->calls += calls;
        if (depth == 0) {
            at = child_of(f, at, other);
            if (!at)
                break;
            at->bytes += bytes;
            at->calls += calls;
        }
        for (size_t k = depth; k-- > 0 && at;) {   /* root first */
            const char *name = mkt_names_site_frame(f->names, frames, k);
            at = name ? child_of(f, at, name) : NULL;
            if (at) {
                at->bytes += bytes;
                at->calls += calls;
            }
        }
        if (!at)
            break;   /* out of memory: what was built is drawn */
        f->sites[f->nsites++] = (struct site){ bytes, calls, at };
    }
    return f;
}

/* ---- drawing --------------------------------------------------------------------------- */

static int by_bytes(const void *a, const void *b)
{
    const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* The children, heaviest first; NULL when there are none or no memory. */
static struct node **children(const struct node *n)
{
    if (!n->nchild)
        return NULL;
    struct node **v = malloc(n->nchild * sizeof *v);
    if (!v)
        return NULL;
    size_t i = 0;
    for (struct node *c = n->child; c; c = c->sibling)
        v[i++] = c;
    qsort(v, n->nchild, sizeof *v, by_bytes);
    return v;
}

/* Levels below n that have a rectangle wide enough to draw. */
static size_t depth_drawn(const struct node *n, double px_per_byte)
{
    size_t deepest = 0;
    for (const struct node *c = n->child; c; c = c->sibling) {
        if ((double)c->bytes * px_per_byte < MIN_WIDTH)
            continue;
        size_t d = 1 + depth_drawn(c, px_per_byte);
        if (d > deepest)
            deepest = d;
    }
    return deepest;
}

static size_t list_rows(const struct mkt_flame *f, int top)
{
    return f->nsites == 0 ? 0 : 1 + (f->nsites < (size_t)top ? f->nsites : (size_t)top);
}

double mkt_flame_height(const struct mkt_flame *f, double w, int top)
{
    if (!f->root->bytes)
        return HEAD + ROW;
    size_t levels = 1 + depth_drawn(f->root, w / (double)f->root->bytes);
    return HEAD + (double)levels * ROW + 12 + (double)list_rows(f, top) * LIST_LINE;
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h ^ (h >> 32);
}

/* Warm colours for symbols, as flame graphs have them; blue-grey for
 * frames without one; grey for the root and the stacks past the table. */
static void fill_of(const struct node *n, int is_root, char *buf, size_t len)
{
    if (is_root || strcmp(n->name, "[other stacks]") == 0) {
        snprintf(buf, len, "#c8c8c8");
        return;
    }
    uint64_t h = hash_name(n->name);
    double v1 = (double)(h & 0xff) / 255, v2 = (double)((h >> 8) & 0xff) / 255,
           v3 = (double)((h >> 16) & 0xff) / 255;
    if (strstr(n->name, "+0x") || strncmp(n->name, "0x", 2) == 0)
        snprintf(buf, len, "rgb(%d,%d,%d)", 150 + (int)(40 * v1), 165 + (int)(40 * v1),
                 195 + (int)(45 * v2));
    else
        snprintf(buf, len, "rgb(%d,%d,%d)", 205 + (int)(50 * v3), (int)(230 * v1),
                 (int)(55 * v2));
}

static void draw_node(FILE *out, const struct node *n, const struct node *root, double x,
                      double y, double px_per_byte)
{
    double w = (double)n->bytes * px_per_byte;
    char b[MKT_UNIT_BUF], c[MKT_UNIT_BUF], fill[48];
    fill_of(n, n == root, fill, sizeof fill);
    fputs("<g><title>", out);
    mkt_svg_put(out, n->name, 400);
    fprintf(out, ": %s, %.1f%%, %s calls</title>", mkt_bytes(b, sizeof b, n->bytes),
            100.0 * (double)n->bytes / (double)root->bytes, mkt_count(c, sizeof c, n->calls));
    fprintf(out, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
            "rx=\"2\"/>", x, y, w, ROW - 1, fill);
    size_t fit = w > 6 ? (size_t)((w - 6) / CHAR_WIDTH) : 0;
    if (fit >= 5) {   /* two characters and "..." at least */
        fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + ROW - 5);
        if (n == root)
            fprintf(out, "all: %s sampled", mkt_bytes(b, sizeof b, n->bytes));
        else
            mkt_svg_put(out, n->name, fit);
        fputs("</text>", out);
    }
    fputs("</g>\n", out);

    struct node **v = children(n);
    double cx = x;
    for (size_t i = 0; v && i < n->nchild; i++) {
        double cw = (double)v[i]->bytes * px_per_byte;
        if (cw < MIN_WIDTH)
            break;   /* heaviest first: the rest are narrower still */
        draw_node(out, v[i], root, cx, y + ROW, px_per_byte);
        cx += cw;
    }
    free(v);
}

static int by_site_bytes(const void *a, const void *b)
{
    const struct site *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return (x->calls < y->calls) - (x->calls > y->calls);
}

/* "1. 3.00 GiB in 10 calls: leaf <- caller <- caller" */
static void draw_list(FILE *out, const struct mkt_flame *f, double x, double y, double w, int top)
{
    struct site *v = malloc(f->nsites * sizeof *v);
    if (!v)
        return;
    memcpy(v, f->sites, f->nsites * sizeof *v);
    qsort(v, f->nsites, sizeof *v, by_site_bytes);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">top call sites by bytes "
            "allocated</text>\n", x, y + 12);
    size_t chars = (size_t)(w / CHAR_WIDTH);
    for (size_t i = 0; i < f->nsites && i < (size_t)top; i++) {
        char b[MKT_UNIT_BUF], c[MKT_UNIT_BUF], head[96], stack[600];
        int n = snprintf(head, sizeof head, "%2zu. %10s in %s calls: ", i + 1,
                         mkt_bytes(b, sizeof b, v[i].bytes), mkt_count(c, sizeof c, v[i].calls));
        size_t o = 0;
        const struct node *at = v[i].leaf;
        stack[0] = '\0';
        for (int k = 0; at && at->parent && k < LIST_DEPTH && o < sizeof stack; k++) {
            o += (size_t)snprintf(stack + o, sizeof stack - o, "%s%s", k ? " <- " : "", at->name);
            at = at->parent;
        }
        if (at && at->parent && o + 8 < sizeof stack)
            snprintf(stack + o, sizeof stack - o, " <- ...");
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" xml:space=\"preserve\">", x,
                y + 12 + (double)(i + 1) * LIST_LINE);
        mkt_svg_put(out, head, 96);
        mkt_svg_put(out, stack, chars > (size_t)n ? chars - (size_t)n : 3);
        fputs("</text>\n", out);
    }
    free(v);
}

void mkt_flame_draw(FILE *out, const struct mkt_flame *f, double x, double y, double w, int top)
{
    fprintf(out, "<g id=\"flame\">\n<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">bytes "
            "allocated by call stack (sampled estimates; callers above callees)</text>\n",
            x, y + 16);
    if (!f->root->bytes) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#666666\">no call sites in this report "
                "(MEMKIT_SAMPLE=0, or written before call sites were kept)</text>\n</g>\n",
                x, y + HEAD + 12);
        return;
    }
    double px_per_byte = w / (double)f->root->bytes;
    fputs("<g font-size=\"11\">\n", out);
    draw_node(out, f->root, f->root, x, y + HEAD, px_per_byte);
    fputs("</g>\n", out);
    size_t levels = 1 + depth_drawn(f->root, px_per_byte);
    draw_list(out, f, x, y + HEAD + (double)levels * ROW + 12, w, top);
    fputs("</g>\n", out);
}
