#!/usr/bin/env bash
# ubsan_logs.sh start|check DIR — the UBSan reports of one meson test run
# (UBSAN_OPTIONS=log_path=DIR/ubsan, set by tests/sanitize/meson.build).
#   start: empties DIR (the test that runs first);
#   check: fails when DIR holds a finding, and shows them (the test that
#          runs last), so a finding fails the run even in a process whose
#          status and stderr no test compares.
set -u
what=$1 dir=$2
case $what in
start)
    rm -rf "$dir" && mkdir -p "$dir"
    echo "UBSan reports go to $dir" ;;
check)
    # A finding is a UBSan "runtime error" or a sanitizer "ERROR:" (in a
    # build with ASan too, its reports come here as well); a warning
    # alone is not.
    shopt -s nullglob
    logs=()
    for f in "$dir"/ubsan.*; do
        grep -qE 'runtime error|ERROR: ' "$f" && logs+=("$f")
    done
    if [ ${#logs[@]} -eq 0 ]; then
        echo "no sanitizer finding"
        exit 0
    fi
    echo "FAIL: ${#logs[@]} process(es) with sanitizer findings:" >&2
    grep -hE 'runtime error|ERROR: |^SUMMARY' "${logs[@]}" | sed 's/0x[0-9a-f]*/0x.../g; s/==[0-9]*==/==/' |
        sort | uniq -c | sort -rn >&2
    for f in "${logs[@]:0:3}"; do
        echo "--- $f" >&2
        head -30 "$f" >&2
    done
    exit 1 ;;
*)
    echo "usage: ubsan_logs.sh start|check DIR" >&2
    exit 2 ;;
esac
