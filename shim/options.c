/* options.c — the option values in force in this process.
 *
 * Numeric values are single words read with one relaxed load, so the
 * wrappers may consult them. Every option also has its canonical text,
 * guarded by a sequence counter: memkit_config_get copies it whole even
 * while another thread sets it. Writers take a tiny spin lock that a fork
 * child resets (the thread holding it does not exist there). */
#include "options.h"
#include "fd_io.h"
#include "fmt.h"
#include "log.h"

#include "real.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

struct live_text {
    unsigned seq;                 /* odd while being written */
    char     text[MK_OPT_TEXT_MAX];
};

static uint64_t nums[MK_OPT_COUNT];
static struct live_text texts[MK_OPT_COUNT];
static int write_lock;

static void lock(void)
{
    while (__atomic_exchange_n(&write_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
}

static void unlock(void)
{
    __atomic_store_n(&write_lock, 0, __ATOMIC_RELEASE);
}

/* What changing an option does at once; the rest read their value where
 * they use it. */
static void apply(enum mk_option_id id, const struct mk_opt_value *v)
{
    if (id == MK_OPT_LOG)
        mk_log_set_level((enum mk_log_level)v->num);
}

static void store(enum mk_option_id id, const struct mk_opt_value *v)
{
    lock();
    struct live_text *t = &texts[id];
    __atomic_store_n(&t->seq, t->seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    strcpy(t->text, v->text);
    __atomic_store_n(&nums[id], v->num, __ATOMIC_RELAXED);
    __atomic_store_n(&t->seq, t->seq + 1, __ATOMIC_RELEASE);
    unlock();
    apply(id, v);
}

static void store_default(enum mk_option_id id)
{
    struct mk_opt_value v;
    /* The table's defaults always parse (a unit test checks every one). */
    if (mk_parse_value(mk_options[id].type, mk_options[id].def, &v) == 0)
        store(id, &v);
}

static int loaded;   /* the environment (or the defaults) has been read */

int mk_options_loaded(void)
{
    return __atomic_load_n(&loaded, __ATOMIC_ACQUIRE);
}

void mk_options_reset(void)
{
    for (int i = 0; i < MK_OPT_COUNT; i++)
        store_default((enum mk_option_id)i);
    __atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
}

/* A value as it may be quoted in a message: at most 64 characters,
 * control characters shown as '?'. */
static void quotable(const char *s, char *out, size_t len)
{
    size_t n = 0;
    for (; s[n] && n + 1 < len && n < 64; n++)
        out[n] = ((unsigned char)s[n] < 0x20 || s[n] == 0x7f) ? '?' : s[n];
    out[n] = '\0';
    if (s[n] && n >= 64 && len > 68)
        memcpy(out + n, "...", 4);
}

/* Environment variables that begin with MEMKIT_ but are not options:
 * the launcher's own. */
static int known_other(const char *name, size_t len)
{
    return len == 10 && memcmp(name, "MEMKIT_LIB", 10) == 0;
}

/* Did the parent process already give this warning? Children inherit both
 * LD_PRELOAD and the bad value, and a pipeline of ten processes should not
 * say the same thing ten times. The parent warned if it was started with
 * memkit preloaded and the same NAME=value (its /proc environ, which holds
 * what it was started with). A read of a few KiB, only when a warning is
 * due. */
static int parent_warned(const char *entry)
{
    const size_t cap = 128 * 1024;
    char path[32];
    mk_snprintf(path, sizeof path, "/proc/%ld/environ", (long)getppid());
    char *buf = mk_pages_alloc(cap);
    if (!buf)
        return 0;
    long got = mk_read_file(path, buf, cap);
    int same = 0, preloaded = 0;
    for (long i = 0; i < got; i += (long)strlen(buf + i) + 1) {
        same |= strcmp(buf + i, entry) == 0;
        preloaded |= strncmp(buf + i, "LD_PRELOAD=", 11) == 0 && strstr(buf + i, "libmemkit");
    }
    mk_pages_free(buf, cap);
    return same && preloaded;
}

static int entry_is_new(const char *name, const char *value)
{
    char entry[MK_OPT_TEXT_MAX + 64];
    if (mk_snprintf(entry, sizeof entry, "%s=%s", name, value) >= sizeof entry)
        return 1;
    return !parent_warned(entry);
}

void mk_options_load_env(void)
{
    for (int i = 0; i < MK_OPT_COUNT; i++) {
        enum mk_option_id id = (enum mk_option_id)i;
        const char *raw = getenv(mk_options[i].name);
        struct mk_opt_value v;
        if (raw && mk_parse_value(mk_options[i].type, raw, &v) == 0) {
            store(id, &v);
            continue;
        }
        store_default(id);
        if (raw && entry_is_new(mk_options[i].name, raw)) {
            char shown[72];
            quotable(raw, shown, sizeof shown);
            mk_log(MK_LOG_WARN, "%s='%s' is not %s; using %s", mk_options[i].name, shown,
                   mk_type_expectation(mk_options[i].type),
                   mk_options[i].def[0] ? mk_options[i].def : "nothing");
        }
    }
    __atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
    /* A misspelt option would otherwise be ignored without a word. */
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "MEMKIT_", 7) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
        char name[64];
        if (len >= sizeof name || known_other(*e, len))
            continue;
        memcpy(name, *e, len);
        name[len] = '\0';
        if (mk_option_find(name) < 0 && entry_is_new(name, eq ? eq + 1 : ""))
            mk_log(MK_LOG_WARN, "%s is not a memkit option (memkit --help-env lists them); ignored",
                   name);
    }
}

uint64_t mk_opt_num(enum mk_option_id id)
{
    return __atomic_load_n(&nums[id], __ATOMIC_RELAXED);
}

int mk_opt_text(enum mk_option_id id, char *buf, size_t len)
{
    struct live_text *t = &texts[id];
    /* A writer that never finishes is this very thread, interrupted inside
     * mk_options_set by a signal whose handler exits and so reports: after
     * a while the text is taken as it stands (it is always terminated). */
    for (unsigned tries = 0;; tries++) {
        unsigned before = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
        if ((before & 1u) && tries < (1u << 20)) {
            __builtin_ia32_pause();
            continue;
        }
        size_t n = strnlen(t->text, sizeof t->text);
        int fits = n + 1 <= len;
        if (fits) {
            memcpy(buf, t->text, n);
            buf[n] = '\0';
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&t->seq, __ATOMIC_RELAXED) != before && tries < (1u << 20))
            continue;
        if (!fits) {
            errno = ERANGE;
            return -1;
        }
        return 0;
    }
}

int mk_options_set(const char *name, const char *value)
{
    int i = mk_option_find(name);
    if (i < 0) {
        errno = ENOENT;
        return -1;
    }
    struct mk_opt_value v;
    if (mk_parse_value(mk_options[i].type, value, &v) < 0) {
        errno = EINVAL;
        return -1;
    }
    store((enum mk_option_id)i, &v);
    return 0;
}

int mk_options_get(const char *name, char *buf, size_t len)
{
    int i = mk_option_find(name);
    if (i < 0) {
        errno = ENOENT;
        return -1;
    }
    return mk_opt_text((enum mk_option_id)i, buf, len);
}

void mk_options_after_fork_child(void)
{
    /* A thread of the parent may have held the lock mid-write: that option's
     * text may be torn, so it goes back to its default. */
    write_lock = 0;
    for (int i = 0; i < MK_OPT_COUNT; i++) {
        if (texts[i].seq & 1u) {
            texts[i].seq++;
            store_default((enum mk_option_id)i);
        }
    }
}
