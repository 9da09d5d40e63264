/* stress_run.h — memkit-stress's two modes, run once the arguments are
 * read. Each returns the exit status: MKT_EXIT_OK when it held what it was
 * asked to until the time ran out or a stop signal came, MKT_EXIT_FAILED
 * when memory could not be held. */
#ifndef MKT_STRESS_RUN_H
#define MKT_STRESS_RUN_H

#include <stdint.h>

enum { MKT_EXIT_OK = 0, MKT_EXIT_FAILED = 1, MKT_EXIT_USAGE = 2 };

struct mkt_stress_args {
    uint64_t size;         /* SIZE mode: bytes to hold; 0 in target mode */
    int      target_mode;  /* --target given */
    unsigned target;       /* hundredths of a percent; 0: the default */
    uint64_t for_ns;       /* --for; 0: until a stop signal */
};

/* memkit-stress SIZE: holds size bytes, refusing first when more than the
 * available memory less the reserve (stress_policy.h). */
int mkt_stress_size(const struct mkt_stress_args *a);

/* memkit-stress --target: regulates the hold every second. */
int mkt_stress_target(const struct mkt_stress_args *a);

/* "SIGINT", "SIGTERM", "SIGHUP" for the stop signals. */
const char *mkt_signal_name(int sig);

#endif
