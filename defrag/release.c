/* release.c — finding and making the allocator's release call (release.h). */
#include "release.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef int  (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
typedef int  (*malloc_trim_fn)(size_t);
typedef void (*void_fn)(void);
typedef void (*release_to_system_fn)(size_t);
typedef void (*mi_collect_fn)(_Bool);
typedef int  (*mi_version_fn)(void);
typedef void (*mi_option_set_fn)(int, long);

static enum mk_release_kind kind = MK_RELEASE_NONE;
static void *call;        /* the function, cast at the call */
static unsigned epoch;    /* mimalloc collection requests */
/* mimalloc: its own eager give-back, switched on at the first compaction. */
static mi_option_set_fn mi_option_set_call;
static int mi_version_seen, mi_eager_done;

/* Whether sym is defined in the same loaded object as the allocator. */
static int same_object(void *sym, const Dl_info *alloc)
{
    Dl_info info;
    return sym && dladdr(sym, &info) && info.dli_fbase == alloc->dli_fbase;
}

void mk_release_detect(void *real_malloc)
{
    Dl_info alloc;
    kind = MK_RELEASE_NONE;
    call = NULL;
    if (!real_malloc || !dladdr(real_malloc, &alloc))
        return;
    static const struct { const char *symbol; enum mk_release_kind kind; } known[] = {
        /* Order matters: a tcmalloc or jemalloc also exports malloc_trim
         * (one that does nothing), and newer tcmalloc has both of its names. */
        { "mallctl", MK_RELEASE_JEMALLOC_PURGE },
        { "MallocExtension_Internal_ReleaseMemoryToSystem", MK_RELEASE_TCMALLOC_INTERNAL },
        { "MallocExtension_ReleaseFreeMemory", MK_RELEASE_TCMALLOC_FREE },
        { "mi_collect", MK_RELEASE_MIMALLOC_COLLECT },
        { "malloc_trim", MK_RELEASE_MALLOC_TRIM },
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        void *sym = dlsym(RTLD_DEFAULT, known[i].symbol);
        if (same_object(sym, &alloc)) {
            kind = known[i].kind;
            call = sym;
            break;
        }
    }
    if (kind == MK_RELEASE_MIMALLOC_COLLECT) {
        void *set = dlsym(RTLD_DEFAULT, "mi_option_set");
        void *version = dlsym(RTLD_DEFAULT, "mi_version");
        /* The program's own settings win. */
        int user = getenv("MIMALLOC_PAGE_RESET") || getenv("MIMALLOC_DECOMMIT_DELAY") ||
                   getenv("MIMALLOC_PURGE_DELAY") || getenv("MIMALLOC_RESET_DELAY");
        if (same_object(set, &alloc) && same_object(version, &alloc) && !user) {
            mi_option_set_call = (mi_option_set_fn)set;
            mi_version_seen = ((mi_version_fn)version)();
        }
    }
}

/* mimalloc gives a page back by itself as it empties when its page reset
 * is on with no delay: measured here on 1 GiB freed oldest-first, RSS
 * fell to 1.03x the floor during the frees, with no call over 5 ms. It is
 * off by default; memkit turns it on once the program has shown, by a
 * compaction, that it releases memory. Option numbers are those of
 * mimalloc 2.0 (page_reset 11, decommit_delay 15) and 2.1 (purge_delay
 * 15; purging is on by default there); other versions are left alone. */
static void mimalloc_eager_release(void)
{
    if (!mi_option_set_call || __atomic_exchange_n(&mi_eager_done, 1, __ATOMIC_ACQ_REL))
        return;
    if (mi_version_seen >= 200 && mi_version_seen < 210)
        mi_option_set_call(11, 1);   /* mi_option_page_reset */
    if (mi_version_seen >= 200 && mi_version_seen < 300)
        mi_option_set_call(15, 0);   /* decommit_delay (2.0), purge_delay (2.1) */
}

enum mk_release_kind mk_release_kind(void)
{
    return kind;
}

const char *mk_release_call_name(void)
{
    switch (kind) {
    case MK_RELEASE_MALLOC_TRIM:       return "malloc_trim";
    case MK_RELEASE_JEMALLOC_PURGE:    return "arena.4096.purge";
    case MK_RELEASE_TCMALLOC_FREE:     return "MallocExtension_ReleaseFreeMemory";
    case MK_RELEASE_TCMALLOC_INTERNAL: return "MallocExtension_Internal_ReleaseMemoryToSystem";
    case MK_RELEASE_MIMALLOC_COLLECT:  return "mi_collect";
    case MK_RELEASE_NONE:              break;
    }
    return "none";
}

int mk_release_run(void)
{
    switch (kind) {
    case MK_RELEASE_MALLOC_TRIM:
        ((malloc_trim_fn)call)(0);
        return 1;
    case MK_RELEASE_JEMALLOC_PURGE:
        ((mallctl_fn)call)("arena.4096.purge", NULL, NULL, NULL, 0);
        return 1;
    case MK_RELEASE_TCMALLOC_FREE:
        ((void_fn)call)();
        return 1;
    case MK_RELEASE_TCMALLOC_INTERNAL:
        ((release_to_system_fn)call)(SIZE_MAX);
        return 1;
    case MK_RELEASE_MIMALLOC_COLLECT:
        mimalloc_eager_release();
        __atomic_add_fetch(&epoch, 1, __ATOMIC_SEQ_CST);
        return 1;
    case MK_RELEASE_NONE:
        break;
    }
    return 0;
}

unsigned mk_release_epoch(void)
{
    return __atomic_load_n(&epoch, __ATOMIC_SEQ_CST);
}

void mk_release_collect_here(void)
{
    if (kind == MK_RELEASE_MIMALLOC_COLLECT)
        ((mi_collect_fn)call)(0);
}
