/* log.c — memkit's one-line messages on stderr, and the warnings kept for
 * the report. No stdio, no allocation, no lock: a message may be logged
 * from a wrapper, a fork child or a destructor. */
#include "log.h"
#include "fd_io.h"
#include "fmt.h"
#include "process.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_level = MK_LOG_WARN;
static unsigned lines_written;           /* atomic: caps what a process prints */

/* Which file fd 2 was at start; 0/0 when it was not open. */
static dev_t err_dev;
static ino_t err_ino;
static int err_known;

/* Kept warnings: a ring whose slots are claimed with one atomic add. Each
 * slot has a sequence number, odd while being written, so a reader never
 * copies half a message. */
struct kept_slot {
    unsigned seq;
    struct mk_warning w;
};
static struct kept_slot kept[MK_LOG_KEEP];
static unsigned kept_next;               /* atomic: slots ever claimed */

void mk_log_init(void)
{
    int saved = errno;
    struct stat st;
    if (fstat(2, &st) == 0) {
        err_dev = st.st_dev;
        err_ino = st.st_ino;
        err_known = 1;
    } else {
        err_known = 0;
    }
    errno = saved;
}

void mk_log_set_level(enum mk_log_level level)
{
    __atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

/* Is fd 2 still the file it was at start? A program that closed stderr and
 * opened a file of its own must never find memkit's text in it. */
static int stderr_is_ours(void)
{
    struct stat st;
    return err_known && fstat(2, &st) == 0 && st.st_dev == err_dev && st.st_ino == err_ino;
}

static void keep(const char *text)
{
    unsigned n = __atomic_fetch_add(&kept_next, 1, __ATOMIC_RELAXED);
    struct kept_slot *slot = &kept[n % MK_LOG_KEEP];
    unsigned seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->seq, seq | 1u, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    slot->w.t_ns = mk_now_ns() - mk_process()->start_mono_ns;
    size_t len = strnlen(text, MK_LOG_TEXT_MAX - 1);
    memcpy(slot->w.text, text, len);
    slot->w.text[len] = '\0';
    __atomic_store_n(&slot->seq, (seq | 1u) + 1, __ATOMIC_RELEASE);
}

void mk_log(enum mk_log_level level, const char *fmt, ...)
{
    if ((int)level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
        return;
    int saved = errno;
    char line[MK_LOG_TEXT_MAX + 16];
    const size_t prefix = 8;   /* "memkit: " */
    memcpy(line, "memkit: ", prefix);
    va_list ap;
    va_start(ap, fmt);
    size_t n = mk_vsnprintf(line + prefix, MK_LOG_TEXT_MAX, fmt, ap);
    va_end(ap);
    if (n > MK_LOG_TEXT_MAX - 1)
        n = MK_LOG_TEXT_MAX - 1;
    if (level <= MK_LOG_WARN)
        keep(line + prefix);

    unsigned nth = __atomic_fetch_add(&lines_written, 1, __ATOMIC_RELAXED);
    if (nth < MK_LOG_MAX_LINES && stderr_is_ours()) {
        line[prefix + n] = '\n';
        mk_write_all(2, line, prefix + n + 1);
    } else if (nth == MK_LOG_MAX_LINES && stderr_is_ours()) {
        static const char last[] = "memkit: further messages suppressed\n";
        mk_write_all(2, last, sizeof last - 1);
    }
    errno = saved;
}

size_t mk_log_kept(struct mk_warning *out, size_t max)
{
    unsigned total = __atomic_load_n(&kept_next, __ATOMIC_ACQUIRE);
    unsigned first = total > MK_LOG_KEEP ? total - MK_LOG_KEEP : 0;
    size_t got = 0;
    for (unsigned i = first; i < total && got < max; i++) {
        struct kept_slot *slot = &kept[i % MK_LOG_KEEP];
        unsigned before = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
        if (before & 1u)
            continue;   /* being written right now */
        out[got] = slot->w;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&slot->seq, __ATOMIC_RELAXED) != before)
            continue;
        got++;
    }
    return got;
}
