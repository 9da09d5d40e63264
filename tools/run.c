/* run.c — `memkit run`: preload libmemkit.so into a command, run it, then
 * print the summary of the process it started and one line for each other
 * process of its tree.
 *
 * Everything memkit says goes to stderr, so the command's stdout stays
 * exactly what it would have been (pipelines keep working). */
#include "run.h"
#include "options.h"
#include "preload.h"
#include "report_dest.h"
#include "report_summary.h"
#include "spawn.h"
#include "tree.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_MEMKIT   125   /* as env(1) and timeout(1): memkit failed, not the command */
#define EXIT_NOEXEC   126
#define EXIT_NOTFOUND 127

#define RUN_USAGE "usage: memkit run [--report PATH] [--env NAME=VALUE]... -- COMMAND [ARG]...\n"

static void run_help(void)
{
    printf(RUN_USAGE
        "\n"
        "Runs COMMAND with libmemkit.so preloaded, then prints on stderr the\n"
        "summary of its report and one line for each other process it started.\n"
        "\n"
        "  --report PATH     where the report of COMMAND goes; the other processes\n"
        "                    write memkit.<name>.<pid>.json beside it. A PATH with\n"
        "                    %%p, %%e or %%t is a template for every process instead.\n"
        "                    Default: memkit.%%e.%%p.json in the current folder.\n"
        "  --env NAME=VALUE  set a variable for COMMAND (e.g. --env MEMKIT_LOG=info)\n"
        "\n"
        "libmemkit.so is looked for beside memkit, or named by MEMKIT_LIB.\n"
        "Exit status: COMMAND's; 128+N if signal N killed it; 127 if it was not\n"
        "found; 126 if it could not be run; 125 if memkit itself failed.\n");
}

struct run_args {
    const char *report;      /* --report, or NULL */
    int         env_report;  /* --env MEMKIT_REPORT=... was given */
    int         env_run_id;  /* --env MEMKIT_RUN_ID=... was given */
    char      **cmd;         /* NULL-terminated */
};

/* Options up to "--" or the first word that is not one. --env is applied
 * to our environment at once: the command inherits it. */
static int parse_args(int argc, char **argv, struct run_args *a)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *s = argv[i], *val = NULL;
        if (strcmp(s, "--") == 0) {
            i++;
            break;
        }
        if (s[0] != '-')
            break;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            run_help();
            exit(0);
        }
        size_t n = strcspn(s, "=");
        int is_report = n == 8 && strncmp(s, "--report", 8) == 0;
        int is_env = n == 5 && strncmp(s, "--env", 5) == 0;
        if (!is_report && !is_env) {
            fprintf(stderr, "memkit run: unknown option '%s'\n", s);
            return -1;
        }
        if (s[n] == '=')
            val = s + n + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            fprintf(stderr, "memkit run: %s needs a value\n", s);
            return -1;
        }
        if (is_report) {
            a->report = val;
            continue;
        }
        size_t k = strcspn(val, "=");
        if (k == 0 || val[k] != '=') {
            fprintf(stderr, "memkit run: --env wants NAME=VALUE, not '%s'\n", val);
            return -1;
        }
        if (k == strlen("MEMKIT_REPORT") && strncmp(val, "MEMKIT_REPORT", k) == 0)
            a->env_report = 1;
        if (k == strlen("MEMKIT_RUN_ID") && strncmp(val, "MEMKIT_RUN_ID", k) == 0)
            a->env_run_id = 1;
        char *name = strndup(val, k);
        if (!name || setenv(name, val + k + 1, 1) != 0) {
            fprintf(stderr, "memkit run: --env %s: %s\n", val, strerror(errno));
            free(name);
            return -1;
        }
        free(name);
    }
    if (i >= argc) {
        fprintf(stderr, "memkit run: no command to run\n");
        return -1;
    }
    a->cmd = argv + i;
    return 0;
}

/* The id every process of this run carries: the user's --env
 * MEMKIT_RUN_ID, in the form the shim will store, or "<memkit pid>-<unix
 * ns>". An inherited id is not reused: it belongs to an enclosing run. */
static int run_id(int given_by_user, char *out, size_t len)
{
    if (given_by_user) {
        const char *given = getenv("MEMKIT_RUN_ID");
        struct mk_opt_value v;
        if (mk_parse_value(MK_TYPE_STRING, given, &v) < 0 || !v.text[0]) {
            fprintf(stderr, "memkit run: MEMKIT_RUN_ID='%s': the run id must be "
                    "non-empty text without control characters\n", given);
            return -1;
        }
        snprintf(out, len, "%s", v.text);
        return 0;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, len, "%ld-%lld%09ld", (long)getpid(), (long long)ts.tv_sec, ts.tv_nsec);
    if (setenv("MEMKIT_RUN_ID", out, 1) < 0) {
        fprintf(stderr, "memkit: cannot set MEMKIT_RUN_ID: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* A path as short as it can be said: relative when it is in the current folder. */
static const char *shown_path(const char *path, const char *cwd)
{
    size_t n = strlen(cwd);
    if (n > 1 && strncmp(path, cwd, n) == 0 && path[n] == '/' && path[n + 1])
        return path + n + 1;
    return path;
}

static const char *base(const char *s)
{
    const char *slash = strrchr(s, '/');
    return slash && slash[1] ? slash + 1 : s;
}

/* Why the process memkit started left no report, as well as memkit can tell. */
static void say_no_root_report(const char *cmd, pid_t pid, int status)
{
    struct mk_opt_value v;
    const char *disable = getenv("MEMKIT_DISABLE");
    if (disable && mk_parse_value(MK_TYPE_BOOL, disable, &v) == 0 && v.num)
        fprintf(stderr, "memkit: no report: MEMKIT_DISABLE is set\n");
    else if (WIFSIGNALED(status))
        fprintf(stderr, "memkit: %s (pid %ld) wrote no report: a signal killed it\n",
                cmd, (long)pid);
    else
        fprintf(stderr, "memkit: %s (pid %ld) wrote no report (a program that leaves with "
                "_exit, is statically linked or is setuid writes none; MEMKIT_LOG=info "
                "says why a write failed)\n", cmd, (long)pid);
}

/* --report PATH without a conversion: the root's report takes that name. */
static void move_root_report(struct mkt_tree_report *root, const char *to)
{
    if (rename(root->path, to) != 0) {
        fprintf(stderr, "memkit: cannot move %s to %s: %s\n", root->path, to, strerror(errno));
        return;
    }
    char *p = strdup(to);
    if (p) {
        free(root->path);
        root->path = p;
    }
}

/* One line for each process of the tree but the root. */
static void print_others(const struct mkt_tree *tree, const struct mkt_tree_report *root,
                         const char *cwd)
{
    size_t others = tree->n - (root != NULL);
    if (others == 0)
        return;
    int width = 0;
    for (size_t i = 0; i < tree->n; i++) {
        int w = (int)strlen(mkt_program_name(tree->r[i].doc));
        if (&tree->r[i] != root && w > width)
            width = w;
    }
    fprintf(stderr, "%zu other process%s of this run:\n", others, others == 1 ? "" : "es");
    for (size_t i = 0; i < tree->n; i++)
        if (&tree->r[i] != root)
            mkt_summary_line(stderr, tree->r[i].doc, shown_path(tree->r[i].path, cwd), width);
}

/* The reports this run left: the root's in full, the others in a line. */
static void report_tree(const struct mkt_report_dest *dest, const char *id,
                        const char *cmd, pid_t root_pid, int status)
{
    struct mkt_tree tree = { 0 };
    if (mkt_tree_collect(dest->dir, dest->pattern, id, &tree) < 0) {
        fprintf(stderr, "memkit: cannot read the reports in %s: %s\n", dest->dir, strerror(errno));
        return;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';

    struct mkt_tree_report *root = NULL;
    for (size_t i = 0; i < tree.n; i++)
        if (tree.r[i].pid == (uint64_t)root_pid)
            root = &tree.r[i];
    if (root && dest->root_path[0])
        move_root_report(root, dest->root_path);

    if (root) {
        struct mkt_summary_opts opts = { .top = 10 };
        mkt_summary_print(stderr, root->doc, shown_path(root->path, cwd), &opts);
    } else {
        say_no_root_report(cmd, root_pid, status);
    }
    print_others(&tree, root, cwd);
    mkt_tree_free(&tree);
}

int mkt_run_main(int argc, char **argv)
{
    struct run_args a = { NULL, 0, 0, NULL };
    if (parse_args(argc, argv, &a) < 0) {
        fputs(RUN_USAGE "(memkit run --help tells more)\n", stderr);
        return EXIT_MEMKIT;
    }

    char lib[PATH_MAX], why[3 * PATH_MAX];
    if (mkt_find_library(lib, sizeof lib, why, sizeof why) < 0) {
        fprintf(stderr, "memkit: %s\n", why);
        return EXIT_MEMKIT;
    }
    /* Which report path: --env MEMKIT_REPORT= (already in our environment)
     * wins, then --report, then a MEMKIT_REPORT memkit inherited. */
    const char *spec = a.report;
    if (a.env_report || !spec)
        spec = getenv("MEMKIT_REPORT");
    struct mkt_report_dest dest;
    if (mkt_report_dest(spec, &dest, why, sizeof why) < 0) {
        fprintf(stderr, "memkit: %s\n", why);
        return EXIT_MEMKIT;
    }

    char id[MK_OPT_TEXT_MAX];
    if (run_id(a.env_run_id, id, sizeof id) < 0)
        return EXIT_MEMKIT;
    char *preload = mkt_preload_value(lib, getenv("LD_PRELOAD"));
    if (!preload || setenv("LD_PRELOAD", preload, 1) < 0
        || setenv("MEMKIT_REPORT", dest.off ? "off" : dest.tmpl, 1) < 0) {
        fprintf(stderr, "memkit: cannot set up the environment: %s\n", strerror(errno));
        free(preload);
        return EXIT_MEMKIT;
    }
    free(preload);

    pid_t pid;
    int status, exec_errno;
    int rc = mkt_spawn_wait(a.cmd, &pid, &status, &exec_errno);
    if (rc < 0) {
        fprintf(stderr, "memkit: cannot start %s: %s\n", a.cmd[0], strerror(errno));
        return EXIT_MEMKIT;
    }
    if (rc > 0) {
        if (exec_errno == ENOENT && !strchr(a.cmd[0], '/')) {
            fprintf(stderr, "memkit: %s: command not found\n", a.cmd[0]);
            return EXIT_NOTFOUND;
        }
        fprintf(stderr, "memkit: %s: %s\n", a.cmd[0], strerror(exec_errno));
        return exec_errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
    }

    const char *cmd = base(a.cmd[0]);
    int code;
    if (WIFSIGNALED(status)) {
        code = 128 + WTERMSIG(status);
        fprintf(stderr, "memkit: %s was killed by signal %d (%s)\n", cmd,
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        code = WEXITSTATUS(status);
        fprintf(stderr, "memkit: %s exited with status %d\n", cmd, code);
    }
    if (dest.off)
        fprintf(stderr, "memkit: no report was written (MEMKIT_REPORT=off)\n");
    else
        report_tree(&dest, id, cmd, pid, status);
    return code;
}
