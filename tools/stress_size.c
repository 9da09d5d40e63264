/* stress_size.c — memkit-stress SIZE [--for DURATION]: SIZE resident in
 * chunks of at most 1 GiB, held, then given back. */
#include "stress_hold.h"
#include "stress_memuse.h"
#include "stress_policy.h"
#include "stress_run.h"
#include "stress_say.h"
#include "stress_stop.h"
#include "units.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* What can be taken now without going into the reserve. */
static uint64_t room_now(struct mkt_memuse *u)
{
    uint64_t reserve = mkt_reserve(u->limit);
    return u->available > reserve ? u->available - reserve : 0;
}

/* Gives everything back and says so; the exit status of a stop. */
static int release(struct mkt_hold *h, uint64_t since, int sig, const char *when)
{
    char b[MKT_UNIT_BUF], t[MKT_UNIT_BUF];
    uint64_t held = h->bytes, held_for = mkt_now_ns() - since;
    mkt_hold_release(h);
    mkt_say("released %s%s%s after %s%s", mkt_bytes(b, sizeof b, held),
            sig ? " on " : "", sig ? mkt_signal_name(sig) : "",
            mkt_duration(t, sizeof t, (double)held_for / 1e9), when);
    return MKT_EXIT_OK;
}

int mkt_stress_size(const struct mkt_stress_args *a)
{
    char b1[MKT_UNIT_BUF], b2[MKT_UNIT_BUF], b3[MKT_UNIT_BUF];
    struct mkt_memuse u;
    mkt_memuse_init();
    if (mkt_memuse_read(&u) != 0) {
        mkt_complain("cannot read /proc/meminfo: %s", strerror(errno));
        return MKT_EXIT_FAILED;
    }
    /* Refused up front rather than stopped half-way: asking for more than
     * the machine can give is a mistake the user should see at once. */
    if (a->size > room_now(&u)) {
        mkt_complain("cannot hold %s: %s of %s is available, and %s of it is left free",
                     mkt_bytes(b1, sizeof b1, a->size), mkt_bytes(b2, sizeof b2, u.available),
                     mkt_basis_name(u.basis), mkt_bytes(b3, sizeof b3, mkt_reserve(u.limit)));
        return MKT_EXIT_FAILED;
    }

    uint64_t chunks = (a->size + MKT_CHUNK_MAX - 1) / MKT_CHUNK_MAX;
    mkt_say("holding %s in %llu chunk%s of at most 1 GiB, pid %ld", mkt_bytes(b1, sizeof b1, a->size),
            (unsigned long long)chunks, chunks == 1 ? "" : "s", (long)getpid());

    uint64_t start = mkt_now_ns();
    struct mkt_hold h = MKT_HOLD_INIT;
    for (uint64_t left = a->size; left > 0;) {
        uint64_t chunk = left < MKT_CHUNK_MAX ? left : MKT_CHUNK_MAX;
        /* Others may have taken memory since the last look: each chunk is
         * measured against what is available now. */
        if (h.n && mkt_memuse_read(&u) == 0 && chunk > room_now(&u)) {
            mkt_complain("stopped at %s of %s: only %s is available now",
                         mkt_bytes(b1, sizeof b1, h.bytes), mkt_bytes(b2, sizeof b2, a->size),
                         mkt_bytes(b3, sizeof b3, u.available));
            mkt_hold_release(&h);
            return MKT_EXIT_FAILED;
        }
        int rc = mkt_hold_add(&h, chunk, mkt_stop_requested);
        if (rc < 0) {
            mkt_complain("could not map %s more with %s held: %s", mkt_bytes(b1, sizeof b1, chunk),
                         mkt_bytes(b2, sizeof b2, h.bytes), strerror(errno));
            mkt_hold_release(&h);
            return MKT_EXIT_FAILED;
        }
        if (rc > 0 || mkt_stop_requested())
            return release(&h, start, mkt_stop_requested(), ", before all was resident");
        left -= chunk;
    }

    uint64_t resident_at = mkt_now_ns();
    if (a->for_ns)
        mkt_say("%s resident (written in %s); holding it for %s", mkt_bytes(b1, sizeof b1, h.bytes),
                mkt_duration(b2, sizeof b2, (double)(resident_at - start) / 1e9),
                mkt_duration(b3, sizeof b3, (double)a->for_ns / 1e9));
    else
        mkt_say("%s resident (written in %s); holding it until SIGINT or SIGTERM",
                mkt_bytes(b1, sizeof b1, h.bytes),
                mkt_duration(b2, sizeof b2, (double)(resident_at - start) / 1e9));
    /* --for counts from the moment all of SIZE is resident. */
    int sig = mkt_stop_wait(a->for_ns ? resident_at + a->for_ns : 0);
    return release(&h, resident_at, sig, "");
}
