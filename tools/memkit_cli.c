/* memkit — the launcher.
 *
 *   memkit run [--report PATH] [--env NAME=VALUE]... -- COMMAND [ARG]...
 *   memkit --help-env[=markdown]
 *   memkit --help | --version */
#include "help_env.h"
#include "run.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
        "usage: memkit run [--report PATH] [--env NAME=VALUE]... -- COMMAND [ARG]...\n"
        "       memkit --help-env[=markdown]\n"
        "       memkit --help | --version\n"
        "\n"
        "  run          run COMMAND with libmemkit.so preloaded, then print on stderr\n"
        "               what it did with memory (memkit run --help for more)\n"
        "  --help-env   every MEMKIT_* option with its default and meaning\n"
        "               (=markdown: the table README.md embeds)\n"
        "\n"
        "Reports are read with memkit-report.\n");
}

int main(int argc, char **argv)
{
    const char *a = argc > 1 ? argv[1] : "";
    if (strcmp(a, "run") == 0)
        return mkt_run_main(argc - 1, argv + 1);
    if (argc == 2 && (strcmp(a, "--help-env") == 0 || strcmp(a, "--help-env=text") == 0)) {
        mkt_help_env_text(stdout);
        return fflush(stdout) == 0 ? 0 : 125;
    }
    if (argc == 2 && strcmp(a, "--help-env=markdown") == 0) {
        mkt_help_env_markdown(stdout);
        return fflush(stdout) == 0 ? 0 : 125;
    }
    if (argc == 2 && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(a, "--version") == 0) {
        printf("memkit %s\n", MEMKIT_VERSION);
        return 0;
    }
    if (argc < 2)
        fprintf(stderr, "memkit: what to do? (run, --help-env, --help)\n");
    else
        fprintf(stderr, "memkit: unknown command or option '%s'\n", a);
    usage(stderr);
    return 125;
}
