/* criterion_tsan_runner.c — a minimal stand-in for libcriterion's runtime,
 * enough to run Criterion test files under ThreadSanitizer: Criterion's
 * own runner maps its BoxFort arena at addresses TSan has reserved and
 * crashes before the first test (upstream: Snaipe/Criterion#274). The
 * test files, their registration and the assertion macros are Criterion's;
 * only the runner is this file.
 * Each test runs in a forked child; .init/.fini (test or suite), .signal,
 * .exit_code, .disabled and cr_skip_test are honoured; assertion failures
 * print file:line: message. Usage: ./test [substring-filter]. Prints "N passed, M failed". */
#include <criterion/criterion.h>
#include <criterion/options.h>
#include <criterion/stats.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct criterion_options criterion_options;
static const struct criterion_test *current;
static const struct criterion_suite *current_suite;
const struct criterion_test *const criterion_current_test;
const struct criterion_suite *const criterion_current_suite;

extern struct criterion_test *__start_cr_tst[], *__stop_cr_tst[];
extern struct criterion_suite *__start_cr_sts[] __attribute__((weak)), *__stop_cr_sts[] __attribute__((weak));

int cr_vasprintf(char **strp, const char *fmt, va_list ap) { return vasprintf(strp, fmt, ap); }
int cr_asprintf(char **strp, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt); int r = vasprintf(strp, fmt, ap); va_end(ap); return r;
}
void cr_asprintf_free(char *buf) { free(buf); }
char *cr_translate_assert_msg(int msg_index, ...)
{
    (void)msg_index;
    va_list ap; va_start(ap, msg_index);
    const char *cond = va_arg(ap, const char *);
    va_end(ap);
    char *s; if (asprintf(&s, "assertion failed: %s", cond ? cond : "?") < 0) return NULL;
    return s;
}
void cri_asserts_passed_incr(void) {}
static int failed_asserts;   /* in the test's child: cr_expect goes on after a failure */

void criterion_send_assert(struct criterion_assert_stats *st)
{
    if (!st->passed) {
        failed_asserts++;
        fprintf(stderr, "    %s:%u: %s\n", st->file, st->line, st->message ? st->message : "");
    }
}
void criterion_abort_test(void) { _exit(1); }
void criterion_continue_test(void) {}
void criterion_skip_test(const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt); fprintf(stderr, "    skipped: "); vfprintf(stderr, fmt, ap); fprintf(stderr, "\n"); va_end(ap);
    _exit(77);
}
void criterion_test_die(const char *msg, ...)
{
    va_list ap; va_start(ap, msg); vfprintf(stderr, msg, ap); va_end(ap); _exit(1);
}

static struct criterion_test_extra_data *suite_data(const char *name)
{
    if (!__start_cr_sts)
        return NULL;
    for (struct criterion_suite **s = __start_cr_sts; s < __stop_cr_sts; s++)
        if (*s && strcmp((*s)->name, name) == 0) {
            current_suite = *s;
            return (*s)->data;
        }
    return NULL;
}

void criterion_internal_test_setup(void)
{
    struct criterion_test_extra_data *sd = suite_data(current->category);
    if (current->data->init) current->data->init();
    else if (sd && sd->init) sd->init();
}
void criterion_internal_test_main(void (*fn)(void)) { fn(); }
void criterion_internal_test_teardown(void)
{
    struct criterion_test_extra_data *sd = suite_data(current->category);
    if (current->data->fini) current->data->fini();
    else if (sd && sd->fini) sd->fini();
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    for (struct criterion_test **t = __start_cr_tst; t < __stop_cr_tst; t++) {
        if (!*t) continue;
        char name[256];
        snprintf(name, sizeof name, "%s/%s", (*t)->category, (*t)->name);
        if (argc > 1 && !strstr(name, argv[1])) continue;
        if ((*t)->data->disabled) { skipped++; continue; }
        fflush(stdout); fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(240);
            current = *t;
            (*t)->test();
            _exit(failed_asserts ? 1 : 0);
        }
        int status;
        waitpid(pid, &status, 0);
        int want_sig = (*t)->data->signal, want_code = (*t)->data->exit_code, ok;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77) { skipped++; printf("[SKIP] %s\n", name); continue; }
        if (want_sig) ok = WIFSIGNALED(status) && WTERMSIG(status) == want_sig;
        else ok = WIFEXITED(status) && WEXITSTATUS(status) == want_code;
        printf("[%s] %s (status %#x)\n", ok ? "PASS" : "FAIL", name, status);
        ok ? passed++ : failed++;
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed != 0;
}
