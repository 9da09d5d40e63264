# lib.sh — helpers for the tools tests (sourced). Each test runs in a fresh
# folder of its own, with no memkit variables inherited from the caller.

unset MEMKIT_LIB MEMKIT_REPORT MEMKIT_RUN_ID MEMKIT_LOG MEMKIT_DISABLE LD_PRELOAD
started_in=$PWD

# abs PATH: PATH from the folder the test started in (meson passes build
# targets relative to the build folder).
abs() {
    case $1 in
    /*) echo "$1" ;;
    *)  echo "$started_in/$1" ;;
    esac
}

# The test works in $work; what a command printed is kept beside it, in
# $box/out and $box/err, so it never shows among the files a test counts.
box=$(mktemp -d "${TMPDIR:-/tmp}/memkit-tools-test.XXXXXX")
trap 'rm -rf "$box"' EXIT
work=$box/work
mkdir "$work"
cd "$work"

fail() {
    echo "FAIL: $*" >&2
    for f in out err; do
        if [ -s "$box/$f" ]; then
            echo "--- $f:" >&2
            cat "$box/$f" >&2
        fi
    done
    exit 1
}

# run CMD...: runs it with stdout in $box/out, stderr in $box/err, status in $status.
run() {
    status=0
    "$@" > "$box/out" 2> "$box/err" || status=$?
}

expect_status() {
    [ "$status" = "$1" ] || fail "exit status $status, expected $1"
}

# expect_in FILE TEXT: FILE (out or err) holds TEXT (fixed string).
expect_in() {
    grep -qF -- "$2" "$box/$1" || fail "$1 lacks: $2"
}

expect_not_in() {
    ! grep -qF -- "$2" "$box/$1" || fail "$1 should not hold: $2"
}

# expect_match FILE REGEX: a line of FILE matches the extended regex.
expect_match() {
    grep -qE -- "$2" "$box/$1" || fail "$1 has no line matching: $2"
}

expect_empty() {
    [ ! -s "$box/$1" ] || fail "$1 should be empty"
}

expect_lines() {
    local n
    n=$(wc -l < "$box/$1")
    [ "$n" = "$2" ] || fail "$1 has $n lines, expected $2"
}
