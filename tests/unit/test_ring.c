/* test_ring.c — the frame ring: every call and error, overwrite and
 * not-yet-written positions, frames straddling the end of the pages (and
 * the pages' second view aliasing the first), both fallbacks forced for
 * real with a seccomp filter, a write caught in the middle of its copy,
 * page faults, fork, the list for the report, and one writer with three
 * readers on threads — once in lockstep (ThreadSanitizer checks every
 * byte) and once free-running, where readers lag and must discard the
 * frames their second read says were overwritten. */
#include "memkit.h"
#include "ring.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- frames that say which position they are --------------------------------- */

static unsigned char byte_of(uint64_t pos, size_t i)
{
    return (unsigned char)(pos * 131 + i * 7 + (i >> 8) + 1);
}

static void fill(unsigned char *buf, size_t len, uint64_t pos)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = byte_of(pos, i);
}

static int holds(const void *frame, size_t len, uint64_t pos)
{
    const unsigned char *b = frame;
    for (size_t i = 0; i < len; i++)
        if (b[i] != byte_of(pos, i))
            return 0;
    return 1;
}

static int64_t write_pos(memkit_ring_t *ring, size_t len, uint64_t pos)
{
    unsigned char *buf = malloc(len);
    cr_assert_not_null(buf);
    fill(buf, len, pos);
    int64_t got = memkit_ring_write(ring, buf, len);
    free(buf);
    return got;
}

/* Writes 5 rounds and a bit; after every write each position from 0 to
 * one past the newest reads as it must: gone, intact, or not yet there. */
static void exercise(memkit_ring_t *ring, size_t capacity, size_t frame_size)
{
    uint64_t total = 5 * capacity + 1;
    for (uint64_t w = 0; w < total; w++) {
        cr_assert_eq(write_pos(ring, frame_size, w), (int64_t)w);
        cr_assert_eq(memkit_ring_written(ring), w + 1);
        cr_assert_eq(memkit_ring_available(ring), w + 1 < capacity ? w + 1 : capacity);
        for (uint64_t pos = 0; pos <= w + 1; pos++) {
            errno = 0;
            const void *p = memkit_ring_read(ring, pos);
            if (pos > w) {
                cr_assert_null(p);
                cr_assert_eq(errno, EAGAIN, "pos %lu after %lu writes", pos, w + 1);
            } else if (w + 1 - pos > capacity) {
                cr_assert_null(p);
                cr_assert_eq(errno, ENODATA, "pos %lu after %lu writes", pos, w + 1);
            } else {
                cr_assert_not_null(p, "pos %lu after %lu writes", pos, w + 1);
                cr_assert(holds(p, frame_size, pos), "pos %lu after %lu writes", pos, w + 1);
            }
        }
    }
}

static struct mk_ring_info info_of(const memkit_ring_t *ring)
{
    struct mk_ring_info info;
    mk_ring_describe(ring, &info);
    return info;
}

/* ---- calls and errors --------------------------------------------------------- */

Test(ring, create_refuses_zero_and_too_big)
{
    errno = 0;
    cr_assert_null(memkit_ring_create(0, 100));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_ring_create(4, 0));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_ring_create(SIZE_MAX, 1));   /* capacity + 1 overflows */
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_ring_create(2, SIZE_MAX / 2));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(memkit_ring_create(1, SIZE_MAX / 4));   /* twice the pages would not fit */
    cr_assert_eq(errno, EINVAL);
}

Test(ring, a_ring_larger_than_the_machines_memory_is_enomem)
{
    /* Faulted in at once, it would bring the OOM killer, not a failure. */
    size_t ram = (size_t)sysconf(_SC_PHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
    errno = 0;
    cr_assert_null(memkit_ring_create(1, ram / 2 + 4096));   /* two slots: more than RAM */
    cr_assert_eq(errno, ENOMEM);
}

Test(ring, calls_that_succeed_leave_errno_alone)
{
    errno = EXDEV;
    memkit_ring_t *ring = memkit_ring_create(4, 100);
    cr_assert_not_null(ring);
    unsigned char frame[100];
    fill(frame, sizeof frame, 0);
    cr_assert_eq(memkit_ring_write(ring, frame, sizeof frame), 0);
    cr_assert_not_null(memkit_ring_read(ring, 0));
    cr_assert_eq(memkit_ring_available(ring), 1);
    cr_assert_eq(memkit_ring_written(ring), 1);
    memkit_ring_destroy(ring);
    cr_assert_eq(errno, EXDEV);
}

Test(ring, a_write_of_the_wrong_length_or_null_is_refused)
{
    memkit_ring_t *ring = memkit_ring_create(4, 100);
    unsigned char frame[101] = { 0 };
    errno = 0;
    cr_assert_eq(memkit_ring_write(ring, frame, 99), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_ring_write(ring, frame, 101), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_ring_write(ring, NULL, 100), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(memkit_ring_write(NULL, frame, 100), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(memkit_ring_written(ring), 0, "nothing refused was counted");
    memkit_ring_destroy(ring);
}

Test(ring, null_ring)
{
    errno = 0;
    cr_assert_null(memkit_ring_read(NULL, 0));
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(memkit_ring_available(NULL), 0);
    cr_assert_eq(memkit_ring_written(NULL), 0);
    memkit_ring_destroy(NULL);
}

Test(ring, empty_ring_has_nothing_to_read)
{
    memkit_ring_t *ring = memkit_ring_create(3, 64);
    cr_assert_eq(memkit_ring_available(ring), 0);
    cr_assert_eq(memkit_ring_written(ring), 0);
    errno = 0;
    cr_assert_null(memkit_ring_read(ring, 0));
    cr_assert_eq(errno, EAGAIN);
    errno = 0;
    cr_assert_null(memkit_ring_read(ring, UINT64_MAX));
    cr_assert_eq(errno, EAGAIN);
    memkit_ring_destroy(ring);
}

Test(ring, wrap_overwrite_and_not_yet_written)
{
    memkit_ring_t *ring = memkit_ring_create(3, 100);
    exercise(ring, 3, 100);
    errno = 0;
    cr_assert_null(memkit_ring_read(ring, UINT64_MAX));
    cr_assert_eq(errno, EAGAIN);
    memkit_ring_destroy(ring);
}

Test(ring, capacity_one)
{
    memkit_ring_t *ring = memkit_ring_create(1, 5000);
    exercise(ring, 1, 5000);
    memkit_ring_destroy(ring);
}

/* ---- layout --------------------------------------------------------------------- */

/* 4 frames of 3000 bytes (capacity 3, and the one being written) fill
 * 12000 of 12288 bytes: frame 4 starts at 12000 and runs on into the
 * pages' second view. */
Test(ring, frames_straddle_the_end_into_the_second_view)
{
    memkit_ring_t *ring = memkit_ring_create(3, 3000);
    struct mk_ring_info info = info_of(ring);
    cr_assert_eq(info.backing, MK_RING_MEMFD_TWICE, "backing %s", mk_ring_backing_name(info.backing));
    cr_assert_eq(info.bytes, page() + ((4 * 3000 + page() - 1) & ~(page() - 1)));
    cr_assert_eq(info.capacity, 3);
    cr_assert_eq(info.frame_size, 3000);

    cr_assert_eq(write_pos(ring, 3000, 0), 0);
    const unsigned char *start = memkit_ring_read(ring, 0);
    size_t wrap = info.bytes - page();
    for (uint64_t pos = 1; pos <= 4; pos++)
        cr_assert_eq(write_pos(ring, 3000, pos), (int64_t)pos);
    const unsigned char *p4 = memkit_ring_read(ring, 4);
    cr_assert_eq(p4 - start, 12000);
    cr_assert(holds(p4, 3000, 4), "the straddling frame reads whole");
    /* Its tail lives in the first pages: the same memory, seen twice. */
    for (size_t i = 0; i < 3000 - (wrap - 12000); i++)
        cr_assert_eq(start[i], byte_of(4, wrap - 12000 + i), "byte %zu", i);
    memkit_ring_destroy(ring);

    ring = memkit_ring_create(3, 3000);
    exercise(ring, 3, 3000);
    memkit_ring_destroy(ring);
}

Test(ring, page_multiple_frames_need_one_view)
{
    memkit_ring_t *ring = memkit_ring_create(3, 2 * page());
    struct mk_ring_info info = info_of(ring);
    cr_assert_eq(info.backing, MK_RING_MEMFD);
    cr_assert_eq(info.bytes, page() + 8 * page());
    exercise(ring, 3, 2 * page());
    memkit_ring_destroy(ring);
}

/* ---- fallbacks, forced with a seccomp filter (each test runs in its own
 * forked worker, so the filter dies with it) ----------------------------------- */

static void install_filter(struct sock_filter *code, unsigned short len)
{
    struct sock_fprog prog = { .len = len, .filter = code };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        cr_skip_test("seccomp filters unavailable here (%s)", strerror(errno));
}

/* memfd_create fails with ENOSYS, as on a kernel before 3.17. */
static void forbid_memfd(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_memfd_create, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    install_filter(code, sizeof code / sizeof code[0]);
}

/* Shared maps at a fixed address fail: the second view cannot be placed. */
static void forbid_second_view(void)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    const unsigned low = 4;
#else
    const unsigned low = 0;
#endif
    const unsigned both = MAP_SHARED | MAP_FIXED_NOREPLACE;
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3]) + low),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, both),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, both, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    install_filter(code, sizeof code / sizeof code[0]);
}

Test(ring, without_memfd_frames_go_in_slots_of_anonymous_memory)
{
    forbid_memfd();
    memkit_ring_t *ring = memkit_ring_create(3, 3000);
    cr_assert_not_null(ring);
    struct mk_ring_info info = info_of(ring);
    cr_assert_eq(info.backing, MK_RING_ANONYMOUS, "backing %s", mk_ring_backing_name(info.backing));
    cr_assert_eq(write_pos(ring, 3000, 0), 0);
    const unsigned char *slot0 = memkit_ring_read(ring, 0);
    for (uint64_t pos = 1; pos <= 4; pos++)
        write_pos(ring, 3000, pos);
    cr_assert_eq((const unsigned char *)memkit_ring_read(ring, 4), slot0,
                 "frame 4 takes slot 0 of 4, whole");
    memkit_ring_destroy(ring);

    ring = memkit_ring_create(3, 3000);
    exercise(ring, 3, 3000);
    memkit_ring_destroy(ring);
}

Test(ring, without_a_second_view_frames_go_in_slots_of_the_memfd)
{
    forbid_second_view();
    memkit_ring_t *ring = memkit_ring_create(3, 3000);
    cr_assert_not_null(ring);
    cr_assert_eq(info_of(ring).backing, MK_RING_MEMFD, "backing %s",
                 mk_ring_backing_name(info_of(ring).backing));
    exercise(ring, 3, 3000);
    memkit_ring_destroy(ring);
}

/* ---- a write caught in the middle of its copy ------------------------------------
 * The source of frame 3's write has its second page unreadable; the copy
 * faults half-way, and the SIGSEGV handler looks at the ring from inside
 * the write before letting it finish. Capacity 2: frames 1 and 2 must
 * stay readable and intact throughout, frame 0 is gone, frame 3 is not
 * there yet. */

static memkit_ring_t *mid_ring;
static unsigned char *mid_fence;          /* the unreadable page */
static size_t mid_frame;
static struct {
    int         ran;
    const void *gone, *oldest, *newest, *coming;
    int         gone_errno, coming_errno, oldest_intact, newest_intact;
} mid;

static void look_mid_copy(int sig, siginfo_t *si, void *context)
{
    (void)context;
    int saved = errno;
    unsigned char *at = si->si_addr;
    if (at >= mid_fence && at < mid_fence + page() && !mid.ran) {
        mid.ran = 1;
        errno = 0;
        mid.gone = memkit_ring_read(mid_ring, 0);
        mid.gone_errno = errno;
        mid.oldest = memkit_ring_read(mid_ring, 1);
        mid.oldest_intact = mid.oldest && holds(mid.oldest, mid_frame, 1);
        mid.newest = memkit_ring_read(mid_ring, 2);
        mid.newest_intact = mid.newest && holds(mid.newest, mid_frame, 2);
        errno = 0;
        mid.coming = memkit_ring_read(mid_ring, 3);
        mid.coming_errno = errno;
        mprotect(mid_fence, page(), PROT_READ | PROT_WRITE);
    } else {
        signal(sig, SIG_DFL);
    }
    errno = saved;
}

Test(ring, frames_in_the_window_stay_intact_while_a_write_is_half_done)
{
    mid_frame = 2 * page();
    mid_ring = memkit_ring_create(2, mid_frame);
    for (uint64_t pos = 0; pos < 3; pos++)
        write_pos(mid_ring, mid_frame, pos);
    unsigned char *src = mmap(NULL, mid_frame, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fill(src, mid_frame, 3);
    mid_fence = src + page();
    mprotect(mid_fence, page(), PROT_NONE);
    struct sigaction sa = { .sa_sigaction = look_mid_copy, .sa_flags = SA_SIGINFO };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);

    cr_assert_eq(memkit_ring_write(mid_ring, src, mid_frame), 3);
    cr_assert(mid.ran, "the copy was caught half-way");
    cr_assert_null(mid.gone);
    cr_assert_eq(mid.gone_errno, ENODATA);
    cr_assert(mid.oldest_intact, "frame 1 intact during the write");
    cr_assert(mid.newest_intact, "frame 2 intact during the write");
    cr_assert_null(mid.coming);
    cr_assert_eq(mid.coming_errno, EAGAIN);
    cr_assert(holds(memkit_ring_read(mid_ring, 3), mid_frame, 3));
    cr_assert(holds(memkit_ring_read(mid_ring, 2), mid_frame, 2));
    munmap(src, mid_frame);
    memkit_ring_destroy(mid_ring);
}

/* ---- page faults, fork, the list ---------------------------------------------------- */

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_minflt;
}

Test(ring, writes_take_no_page_faults)
{
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    cr_skip_test("a sanitizer faults its shadow pages in as frames are first written");
#endif
    size_t fs = 640 * 480 * 3 + 8;   /* 921608: not a page multiple */
    unsigned char *frame = malloc(fs);
    memset(frame, 7, fs);
    memkit_ring_t *ring = memkit_ring_create(8, fs);
    long before = minor_faults();
    for (int i = 0; i < 40; i++)
        memkit_ring_write(ring, frame, fs);
    long faults = minor_faults() - before;
    cr_assert_eq(faults, 0, "%ld minor faults over 40 writes", faults);
    memkit_ring_destroy(ring);
    free(frame);
}

Test(ring, a_fork_child_shares_the_frames_and_the_count)
{
    memkit_ring_t *ring = memkit_ring_create(4, 3000);
    write_pos(ring, 3000, 0);
    write_pos(ring, 3000, 1);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int ok = holds(memkit_ring_read(ring, 0), 3000, 0) &&
                 holds(memkit_ring_read(ring, 1), 3000, 1) &&
                 write_pos(ring, 3000, 2) == 2;
        _exit(ok ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child read 0, 1 and wrote 2");
    cr_assert_eq(memkit_ring_written(ring), 3, "the child's write is counted here");
    cr_assert(holds(memkit_ring_read(ring, 2), 3000, 2));
    memkit_ring_destroy(ring);
}

static const struct mk_ring_info *listed(const struct mk_ring_info *all, long n, size_t frame_size)
{
    for (long i = 0; i < n; i++)
        if (all[i].frame_size == frame_size)
            return &all[i];
    return NULL;
}

Test(ring, the_report_lists_live_rings)
{
    struct mk_ring_info all[16];
    long before = mk_rings_list(all, 16);
    cr_assert_geq(before, 0);
    memkit_ring_t *a = memkit_ring_create(5, 1111);
    memkit_ring_t *b = memkit_ring_create(2, 2222);
    write_pos(a, 1111, 0);
    write_pos(a, 1111, 1);
    long n = mk_rings_list(all, 16);
    cr_assert_eq(n, before + 2);
    const struct mk_ring_info *ia = listed(all, n, 1111), *ib = listed(all, n, 2222);
    cr_assert_not_null(ia);
    cr_assert_not_null(ib);
    cr_assert_eq(ia->capacity, 5);
    cr_assert_eq(ia->written, 2);
    cr_assert_eq(ia->bytes, page() + ((6 * 1111 + page() - 1) & ~(page() - 1)));
    cr_assert_str_eq(mk_ring_backing_name(ia->backing), "memfd-twice");
    cr_assert_eq(ib->written, 0);
    cr_assert_eq(mk_rings_list(all, 1), before + 2, "the count is whole when out is short");
    memkit_ring_destroy(a);
    n = mk_rings_list(all, 16);
    cr_assert_eq(n, before + 1);
    cr_assert_null(listed(all, n, 1111));
    memkit_ring_destroy(b);
    cr_assert_eq(mk_rings_list(NULL, 0), before);
}

/* ---- one writer, three readers ---------------------------------------------------------
 * Frames are 8-byte words that all hold their position; 4896 bytes, not a
 * page multiple, so frames straddle the end of the pages. */

#define READERS 3
#define WORDS 612

static void fill_words(uint64_t *frame, uint64_t pos)
{
    for (int i = 0; i < WORDS; i++)
        frame[i] = pos;
}

/* Lockstep: the writer writes frame q only when every reader has finished
 * with the frame that q's copy lands on, and says so with an acquire of
 * the readers' releases. No byte races, so ThreadSanitizer checks them
 * all, and the ring's own ordering carries the frames to the readers. */
struct lockstep {
    memkit_ring_t   *ring;
    uint64_t         frames;
    size_t           capacity;
    _Atomic uint64_t done_up_to[READERS];   /* reader r has finished frames < this */
    _Atomic int      failures;
    int              next_id;
    pthread_mutex_t  id_lock;
};

static void *lockstep_reader(void *arg)
{
    struct lockstep *ls = arg;
    pthread_mutex_lock(&ls->id_lock);
    int me = ls->next_id++;
    pthread_mutex_unlock(&ls->id_lock);
    for (uint64_t pos = 0; pos < ls->frames; pos++) {
        const uint64_t *frame;
        while (!(frame = memkit_ring_read(ls->ring, pos))) {
            if (errno != EAGAIN) {
                atomic_fetch_add(&ls->failures, 1);
                return NULL;
            }
            sched_yield();
        }
        for (int i = 0; i < WORDS; i++)
            if (frame[i] != pos) {
                atomic_fetch_add(&ls->failures, 1);
                break;
            }
        if (!memkit_ring_read(ls->ring, pos))
            atomic_fetch_add(&ls->failures, 1);
        atomic_store_explicit(&ls->done_up_to[me], pos + 1, memory_order_release);
    }
    return NULL;
}

Test(ring, three_readers_in_lockstep_see_every_frame_whole)
{
    struct lockstep ls = { .frames = 20000, .capacity = 8, .id_lock = PTHREAD_MUTEX_INITIALIZER };
    ls.ring = memkit_ring_create(ls.capacity, WORDS * 8);
    cr_assert_eq(info_of(ls.ring).backing, MK_RING_MEMFD_TWICE);
    pthread_t t[READERS];
    for (int r = 0; r < READERS; r++)
        pthread_create(&t[r], NULL, lockstep_reader, &ls);
    uint64_t frame[WORDS];
    for (uint64_t q = 0; q < ls.frames; q++) {
        /* q's copy lands where frame q - capacity - 1 was; and a reader
         * must still find its frame in the window once q is written. */
        for (int r = 0; r < READERS; r++)
            while (atomic_load_explicit(&ls.done_up_to[r], memory_order_acquire) + ls.capacity <= q)
                sched_yield();
        fill_words(frame, q);
        cr_assert_eq(memkit_ring_write(ls.ring, frame, sizeof frame), (int64_t)q);
    }
    for (int r = 0; r < READERS; r++)
        pthread_join(t[r], NULL);
    cr_assert_eq(atomic_load(&ls.failures), 0);
    memkit_ring_destroy(ls.ring);
}

/* Free-running: the writer never waits, readers lag (a pause now and
 * then, some in the middle of a frame), and each frame is checked after
 * it is read: a frame the second read confirms must be whole; one it
 * does not is discarded. The frame bytes race by design when a reader
 * lags; the one function that reads them is left out of
 * ThreadSanitizer's view (its accesses to the ring's counter are not). */
struct free_run {
    memkit_ring_t   *ring;
    _Atomic int      writer_done;
    _Atomic uint64_t confirmed_but_torn, confirmed, discarded, skipped;
};

__attribute__((no_sanitize_thread, noinline))
static int words_hold(const volatile uint64_t *frame, uint64_t pos, int pause_midway)
{
    int whole = 1;
    for (int i = 0; i < WORDS; i++) {
        if (frame[i] != pos)
            whole = 0;
        if (pause_midway && i == WORDS / 2)
            sched_yield();
    }
    return whole;
}

static void *free_reader(void *arg)
{
    struct free_run *fr = arg;
    uint64_t pos = 0, n = 0;
    for (;;) {
        const uint64_t *frame = memkit_ring_read(fr->ring, pos);
        if (!frame) {
            if (errno == ENODATA) {
                /* Overrun: go on from the oldest frame still there. */
                atomic_fetch_add(&fr->skipped, 1);
                pos = memkit_ring_written(fr->ring) - memkit_ring_available(fr->ring);
                continue;
            }
            if (atomic_load(&fr->writer_done) && pos >= memkit_ring_written(fr->ring))
                return NULL;
            sched_yield();
            continue;
        }
        int whole = words_hold(frame, pos, ++n % 5 == 0);
        if (memkit_ring_read(fr->ring, pos)) {
            atomic_fetch_add(&fr->confirmed, 1);
            if (!whole)
                atomic_fetch_add(&fr->confirmed_but_torn, 1);
        } else {
            atomic_fetch_add(&fr->discarded, 1);
        }
        if (n % 64 == 0) {
            struct timespec pause = { 0, 20 * 1000 };
            nanosleep(&pause, NULL);
        }
        pos++;
    }
}

Test(ring, lagging_readers_discard_exactly_the_frames_overwritten_under_them)
{
    struct free_run fr = { 0 };
    fr.ring = memkit_ring_create(16, WORDS * 8);
    pthread_t t[READERS];
    for (int r = 0; r < READERS; r++)
        pthread_create(&t[r], NULL, free_reader, &fr);
    uint64_t frame[WORDS];
    for (uint64_t q = 0; q < 60000; q++) {
        fill_words(frame, q);
        memkit_ring_write(fr.ring, frame, sizeof frame);
        if (q % 8 == 0)
            sched_yield();   /* let the readers keep up now and then */
    }
    atomic_store(&fr.writer_done, 1);
    for (int r = 0; r < READERS; r++)
        pthread_join(t[r], NULL);
    cr_assert_eq(atomic_load(&fr.confirmed_but_torn), 0,
                 "%lu frames confirmed by the second read were torn",
                 (unsigned long)atomic_load(&fr.confirmed_but_torn));
    cr_assert_gt(atomic_load(&fr.confirmed), 0);
    memkit_ring_destroy(fr.ring);
}
