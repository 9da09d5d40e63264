/* memkit-stress — holds memory resident (the seed's memory-utilisation
 * regulator).
 *
 *   memkit-stress SIZE [--for DURATION] [--quiet]
 *   memkit-stress --target [PERCENT] [--for DURATION] [--quiet]
 *   memkit-stress --help | --version
 *
 * This file reads the arguments; stress_size.c and stress_target.c run the
 * two modes. Every bad argument gets one line on stderr and exit status 2. */
#include "options.h"
#include "stress_policy.h"
#include "stress_run.h"
#include "stress_say.h"
#include "stress_stop.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: memkit-stress SIZE [--for DURATION] [--quiet]\n"
        "       memkit-stress --target [PERCENT] [--for DURATION] [--quiet]\n"
        "       memkit-stress --help | --version\n"
        "\n"
        "Holds memory resident, to see how a machine and its programs behave when\n"
        "memory runs short. The memory is mapped in chunks of at most 1 GiB and\n"
        "every page is written, so it is really resident; it is given back when\n"
        "DURATION has passed or on SIGINT, SIGTERM or SIGHUP, and memkit-stress\n"
        "exits 0.\n"
        "\n"
        "  SIZE        bytes to hold: 100MB, 1GB, 512MiB, 1.5G; K, M, G and T are\n"
        "              powers of 1024, with or without B or iB, as everywhere in\n"
        "              memkit (100MB is 104,857,600 bytes)\n"
        "  --for DURATION\n"
        "              how long to hold: 30s, 5m, 1h, 1.5h, or a number of\n"
        "              seconds; counted from the moment SIZE is resident (from\n"
        "              the start with --target). Without it: until a signal\n"
        "  --target [PERCENT]\n"
        "              instead of SIZE: keep memory use at PERCENT (40, 40%%,\n"
        "              12.5%%) by growing and shrinking the hold, checked every\n"
        "              second. Without PERCENT: 25%% with 8 GiB of memory or\n"
        "              less, 40%% with 16 GiB or more, on a straight line in\n"
        "              between (memory rounded up to whole GiB). Above 90%% is\n"
        "              refused. Use is (MemTotal - MemAvailable) / MemTotal, or\n"
        "              the memory cgroup's usage / limit where memkit-stress runs\n"
        "              in a cgroup whose limit is below MemTotal\n"
        "  --quiet     print no status lines (errors still go to stderr)\n"
        "  --help      this text\n"
        "  --version   the memkit version\n"
        "\n"
        "Status lines go to stdout: one at the start, one each time the hold\n"
        "changes, one when it is given back. memkit-stress leaves 5%% of the\n"
        "memory (at least 32 MiB) available whatever it is asked: a SIZE that\n"
        "does not fit is refused, and in target mode the hold shrinks at once\n"
        "when other programs take that reserve.\n"
        "\n"
        "Exit status: 0 held and given back, 1 the memory could not be held,\n"
        "2 bad usage.\n");
}

const char *mkt_signal_name(int sig)
{
    switch (sig) {
    case SIGINT:  return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP:  return "SIGHUP";
    default:      return "a signal";
    }
}

/* ---- arguments ------------------------------------------------------------ */

/* Does s start like a number? Then after --target it is the PERCENT, good
 * or bad, rather than a SIZE or an option. */
static int numeric(const char *s)
{
    return (s[0] >= '0' && s[0] <= '9') || (s[0] == '.' && s[1] >= '0' && s[1] <= '9');
}

static void refuse_above_max(const char *s)
{
    mkt_complain("a target above 90%% is refused (%s%s asked): it would leave too little "
                 "memory to the rest of the system", s, strchr(s, '%') ? "" : "%");
    exit(MKT_EXIT_USAGE);
}

/* PERCENT for --target, in hundredths; exits 2 when it is not one or is
 * refused. */
static unsigned target_arg(const char *s)
{
    uint64_t h;
    if (mk_parse_percent(s, &h) != 0) {
        /* A plain number above 100 fails the parser; it is a refusal,
         * not a typo, and is answered as one. */
        char *end;
        double v = strtod(s, &end);
        if (end != s && (*end == '\0' || strcmp(end, "%") == 0) && v > 100) {
            refuse_above_max(s);
        } else {
            mkt_complain("--target wants a percentage (e.g. 40 or 12.5%%), not '%s'", s);
        }
        exit(MKT_EXIT_USAGE);
    }
    if (h > MKT_TARGET_MAX)
        refuse_above_max(s);
    if (h == 0) {
        mkt_complain("a target of 0%% holds nothing; give a percentage above 0");
        exit(MKT_EXIT_USAGE);
    }
    return (unsigned)h;
}

static uint64_t duration_arg(const char *s)
{
    uint64_t ns;
    if (mk_parse_duration(s, &ns) != 0) {
        mkt_complain("--for wants a duration (e.g. 30s, 5m, 1h), not '%s'", s);
        exit(MKT_EXIT_USAGE);
    }
    if (ns == 0) {
        mkt_complain("--for %s would hold nothing; leave --for out to hold until a signal", s);
        exit(MKT_EXIT_USAGE);
    }
    return ns;
}

static uint64_t size_arg(const char *s)
{
    uint64_t bytes;
    if (mk_parse_size(s, &bytes) != 0) {
        mkt_complain("'%s' is neither a size (e.g. 100MB, 1GB, 512MiB, 1.5G) nor an option", s);
        exit(MKT_EXIT_USAGE);
    }
    if (bytes == 0) {
        mkt_complain("a SIZE of %s holds nothing; give a size above 0", s);
        exit(MKT_EXIT_USAGE);
    }
    return bytes;
}

/* The value of an option: "--for=30s" or "--for 30s". */
static const char *value_of(const char *opt, int argc, char **argv, int *i)
{
    const char *eq = strchr(argv[*i], '=');
    if (eq)
        return eq + 1;
    if (*i + 1 >= argc) {
        mkt_complain("%s wants a value (memkit-stress --help)", opt);
        exit(MKT_EXIT_USAGE);
    }
    return argv[++*i];
}

/* Is argv[i] the option name, alone or as "name=value"? */
static int is_opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static void read_args(int argc, char **argv, struct mkt_stress_args *a)
{
    const char *size_text = NULL, *for_text = NULL;
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(MKT_EXIT_OK);
        } else if (strcmp(arg, "--version") == 0) {
            printf("memkit-stress %s\n", MEMKIT_VERSION);
            exit(MKT_EXIT_OK);
        } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
            mkt_quiet = 1;
        } else if (is_opt(arg, "--for")) {
            if (for_text) {
                mkt_complain("--for given twice");
                exit(MKT_EXIT_USAGE);
            }
            for_text = value_of("--for", argc, argv, &i);
            a->for_ns = duration_arg(for_text);
        } else if (is_opt(arg, "--target")) {
            if (a->target_mode) {
                mkt_complain("--target given twice");
                exit(MKT_EXIT_USAGE);
            }
            a->target_mode = 1;
            if (arg[8] == '=')
                a->target = target_arg(arg + 9);
            else if (i + 1 < argc && numeric(argv[i + 1]))
                a->target = target_arg(argv[++i]);
        } else if (arg[0] == '-' && arg[1] != '\0') {
            mkt_complain("unknown option '%s' (memkit-stress --help lists them)", arg);
            exit(MKT_EXIT_USAGE);
        } else if (size_text) {
            mkt_complain("one SIZE only, not '%s' and '%s'", size_text, arg);
            exit(MKT_EXIT_USAGE);
        } else {
            size_text = arg;
            a->size = size_arg(arg);
        }
    }
    if (size_text && a->target_mode) {
        mkt_complain("give a SIZE or --target, not both");
        exit(MKT_EXIT_USAGE);
    }
    if (!size_text && !a->target_mode) {
        mkt_complain("what to hold? give a SIZE (e.g. 1GB) or --target (memkit-stress --help)");
        exit(MKT_EXIT_USAGE);
    }
}

int main(int argc, char **argv)
{
    struct mkt_stress_args a;
    read_args(argc, argv, &a);
    /* Blocked before anything is held, so that a stop signal always finds
     * memkit-stress able to give the memory back. */
    mkt_stop_init();
    return a.target_mode ? mkt_stress_target(&a) : mkt_stress_size(&a);
}
