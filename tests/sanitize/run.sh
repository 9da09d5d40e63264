#!/usr/bin/env bash
# tests/sanitize/run.sh [STEP...] — the sanitizer runs of issue 7, each a
# build of its own beside the source (build-san-STEP) and one `meson test`
# in it, whose meson-logs/testlog.json scripts/test.sh counts with the rest.
#
#   ubsan  gcc, UBSan (-Db_sanitize=undefined) in everything, libmemkit.so
#          included, preloaded into the integration test programs (which
#          are not instrumented; the UBSan runtime is linked into
#          libmemkit.so, see below). A finding halts the process and is
#          kept in meson-logs/ubsan/, which the last test (ubsan-findings)
#          fails on. The integration suite less SAN_UBSAN_SKIP (below).
#   asan   clang, ASan + UBSan (-Db_sanitize=address,undefined) in what
#          links into a test binary: the unit tests (options parser, report
#          writer, json writer, probes, defrag policy, pool), and
#          memkit-report on the tools fixtures (report-*, sites-*: the
#          reader); then the libFuzzer targets (suite fuzz) for
#          FUZZ_SECONDS each (tests/fuzz).
#   tsan   gcc, TSan (-Db_sanitize=thread): the unit tests, memkit_core
#          instrumented too (tests/unit/meson.build, suite tsan).
# No STEP: all three. Exit status 0 when every step passed.
#
# Environment: SAN_FRESH=1 removes the build folders first (CI);
# FUZZ_SECONDS (default 20); SAN_JOBS (default 2): tests run at once;
# SAN_UBSAN_SKIP: see below.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(ubsan asan tsan)
for step in "${steps[@]}"; do
    case $step in
    ubsan|asan|tsan) ;;
    *) echo "usage: tests/sanitize/run.sh [ubsan] [asan] [tsan]" >&2; exit 2 ;;
    esac
done
jobs=${SAN_JOBS:-2}
# The integration tests the ubsan step leaves out: the real programs
# (minutes; the same wrappers as stress), hostile-options (220 runs of one
# program, 80 s under UBSan; the option parser has its fuzz target), and
# stress-linked-* (stress-preload-* drive the same shim with each
# allocator). SAN_UBSAN_SKIP='^$' runs them all.
ubsan_skip=${SAN_UBSAN_SKIP:-'^(program-.*|hostile-options|stress-linked-.*)$'}
fuzz_seconds=${FUZZ_SECONDS:-20}

# setup DIR CC MESON-OPTION...: configures DIR, or sets the options of
# the DIR configured before.
setup() {
    local dir=$1 cc=$2
    shift 2
    if [ -f "$dir/build.ninja" ]; then
        meson configure "$dir" "$@" >/dev/null
    else
        CC=$cc meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 ||
            { cat "$dir.setup.log" >&2; return 1; }
        rm -f "$dir.setup.log"
    fi
}

# names DIR SUITE PATTERN: the tests of SUITE whose names match the
# extended regular expression PATTERN.
names() {
    meson test -C "$1" --list --suite "$2" 2>/dev/null |
        sed -n 's|^[^ ]* / ||p' | grep -E "^($3)\$" || true
}

# test_in DIR ARGS...: meson test (it builds what the tests need first).
test_in() {
    local dir=$1
    shift
    meson test -C "$dir" --print-errorlogs --num-processes "$jobs" "$@"
}

# note DIR NAME RESULT: a line in DIR's testlog.json for a step that ran no
# test (its build failed: ERROR; clang missing: SKIP), so the summary of
# scripts/test.sh counts it.
note() {
    mkdir -p "$1/meson-logs"
    printf '{"name": "%s", "result": "%s"}\n' "$2" "$3" >"$1/meson-logs/testlog.json"
}

status=0
for step in "${steps[@]}"; do
    start=$(date +%s)
    rc=0
    dir=build-san-$step
    [ -n "${SAN_FRESH:-}" ] && rm -rf "$dir"
    rm -f "$dir/meson-logs/testlog.json"
    case $step in
    ubsan)
        # -static-libubsan: a libubsan.so needed by libmemkit.so would load
        # libstdc++ into every program and run its constructors (which
        # allocate) before memkit's. object-size is off until
        # probes/sample.c find_self() stops reading the program headers
        # through the one-Elf64_Ehdr object __ehdr_start (reported; with
        # it on, every sampling process halts there).
        setup "$dir" gcc -Db_sanitize=undefined -Dc_link_args=-static-libubsan \
            -Dc_args='-fsanitize=float-cast-overflow -fno-sanitize=object-size' || rc=$?
        if [ "$rc" = 0 ]; then
            mapfile -t sel < <(names "$dir" integration '.*' | grep -Ev "$ubsan_skip")
            test_in "$dir" --suite integration "${sel[@]}" || rc=$?
        fi ;;
    asan)
        if ! command -v clang >/dev/null; then
            echo "sanitize: asan: clang is not installed: step skipped" >&2
            note "$dir" sanitize-asan SKIP
            continue
        fi
        # -gdwarf-aranges: memkit-report's libdw (0.188) finds no source
        # line in code without .debug_aranges, which clang leaves out by
        # default (reported), and sites-top reads memkit-report's own.
        setup "$dir" clang -Db_sanitize=address,undefined -Db_lundef=false \
            -Dc_args='-fno-sanitize-recover=all -gdwarf-aranges' \
            -Dfuzz_seconds="$fuzz_seconds" || rc=$?
        if [ "$rc" = 0 ]; then
            # Not the api tests nor wrapper_blocks: they link memkit's
            # wrappers, whose malloc cannot stand in for ASan's. Every
            # sanitizer report (ASan's too) goes to meson-logs/ubsan/,
            # which ubsan-findings checks (tests/sanitize/meson.build).
            # No leak check here: Criterion
            # leaks its own (memkit-report's leaks: suite valgrind; the
            # fuzz targets: run_target.sh). Tests that expect a SEGV or
            # SIGBUS death keep the default action.
            mapfile -t sel < <(names "$dir" unit '.*' | grep -Ev '^(api(-probes)?|wrapper_blocks)$'
                               names "$dir" tools 'report-.*|sites-.*'
                               names "$dir" fuzz '.*')
            # Left out (a Criterion pattern): ring/writes_take_no_page_faults
            # counts page faults, which ASan's shadow memory adds; and
            # fork/children_of_a_busy_multithreaded_parent, because clang
            # 14's ASan allocator takes no lock at fork: a child forked
            # while another thread is inside ASan's malloc waits forever on
            # its futex (caught with gdb, 1 run in ~10 under load; later
            # LLVM releases lock it at fork). Both run in the main build.
            CRITERION_TEST_PATTERN='!(ring/writes_take_no_page_faults|fork/children_of_a_busy_multithreaded_parent)' \
            ASAN_OPTIONS=abort_on_error=1:detect_leaks=0:handle_segv=0:handle_sigbus=0:strict_string_checks=1:detect_stack_use_after_return=1 \
                test_in "$dir" --suite unit --suite tools --suite fuzz "${sel[@]}" || rc=$?
        fi ;;
    tsan)
        setup "$dir" gcc -Db_sanitize=thread || rc=$?
        # Criterion's runner cannot start under TSan: the tsan suite has
        # each unit test linked with tests/unit/criterion_tsan_runner.c
        # (the pool's own -tsan tests run in the main build already).
        if [ "$rc" = 0 ]; then
            mapfile -t sel < <(names "$dir" tsan '.*' | grep -Ev '^(frame_pool|ring|map_cache)-tsan$')
            test_in "$dir" --suite tsan "${sel[@]}" || rc=$?
        fi ;;
    esac
    [ "$rc" != 0 ] && [ ! -f "$dir/meson-logs/testlog.json" ] && note "$dir" "sanitize-$step" ERROR
    echo "sanitize: $step: $([ "$rc" = 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - start ))s"
    [ "$rc" = 0 ] || status=1
done
exit $status
