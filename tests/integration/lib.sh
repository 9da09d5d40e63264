# lib.sh — helpers shared by the integration tests (sourced, bash).
#
# A test runs a command twice, without memkit ("plain") and with it
# ("shim"), each in its own folder, and compares stdout, stderr and exit
# status; then it checks the reports the shim run left with
# check_report.py. It calls fail for each problem (the test goes on, so
# one run shows every difference) and ends with finish. Exit status 77
# means skipped (meson's convention).
#
# Environment the tests honour: INTEG_KEEP=1 keeps the scratch folder.

set -u
set -o pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OPTIONS_DEF="$INTEG_DIR/../../shim/options.def"
PY=/usr/bin/python3            # never a pyenv shim: it must run without memkit
CHECK=("$PY" "$INTEG_DIR/check_report.py" --options-def "$OPTIONS_DEF")
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
FAILED=0
TEST_NAME=$(basename "$0" .sh)

# Nothing from the caller's environment may change what runs here.
unset LD_PRELOAD
for _v in $(env | sed -n 's/^\(MEMKIT_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "$_v"
done
unset _v

fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}

note() {
    echo "  $*"
}

skip() {
    echo "SKIP: $*"
    exit 77
}

# A scratch folder, removed at exit unless INTEG_KEEP is set or it is
# still mounted on.
T=$(mktemp -d "${TMPDIR:-/tmp}/memkit-integ.XXXXXX")
cleanup() {
    local rc=$?
    if [ -n "${INTEG_KEEP:-}" ] || [ "$FAILED" != 0 ]; then
        echo "scratch folder kept: $T" >&2
    else
        rm -rf "$T" 2>/dev/null
    fi
    return $rc
}
trap cleanup EXIT

# finish: the test's verdict.
finish() {
    if [ "$FAILED" != 0 ]; then
        echo "$TEST_NAME: FAILED"
        exit 1
    fi
    echo "$TEST_NAME: ok"
    exit 0
}

need_lib() {
    [ -f "$MEMKIT_LIB" ] || { echo "libmemkit.so not found: $MEMKIT_LIB" >&2; exit 1; }
}

# run OUT DIR [VAR=VALUE]... -- COMMAND [ARG]...
# Runs COMMAND in DIR (created), with the given variables added to the
# environment of COMMAND only, under a timeout. Leaves OUT.out, OUT.err and
# OUT.rc (exit status; 124 means it timed out).
run() {
    local out=$1 dir=$2
    shift 2
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        envs+=("$1")
        shift
    done
    shift
    mkdir -p "$dir"
    local rc=0
    ( cd "$dir" && exec timeout -k 5 "$RUN_TIMEOUT" env "${envs[@]}" "$@" ) \
        >"$out.out" 2>"$out.err" </dev/null || rc=$?
    echo "$rc" >"$out.rc"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        fail "$(basename "$out"): timed out after ${RUN_TIMEOUT}s: $*"
    fi
    return 0
}

# same WHAT A B [stderr]: A.out equals B.out and A.rc equals B.rc; with a
# fourth argument "stderr", A.err equals B.err too.
same() {
    local what=$1 a=$2 b=$3 also=${4:-}
    if ! cmp -s "$a.out" "$b.out"; then
        fail "$what: stdout differs (plain vs memkit):"
        diff "$a.out" "$b.out" 2>&1 | head -20 >&2
    fi
    if [ "$(cat "$a.rc")" != "$(cat "$b.rc")" ]; then
        fail "$what: exit status $(cat "$a.rc") plain, $(cat "$b.rc") under memkit"
        head -5 "$b.err" >&2
    fi
    if [ "$also" = stderr ] && ! cmp -s "$a.err" "$b.err"; then
        fail "$what: stderr differs (plain vs memkit):"
        diff "$a.err" "$b.err" 2>&1 | head -20 >&2
    fi
}

# expect_rc WHAT OUT RC
expect_rc() {
    if [ "$(cat "$2.rc")" != "$3" ]; then
        fail "$1: exit status $(cat "$2.rc"), expected $3"
        head -5 "$2.err" >&2
    fi
}

# check DIR [RULE]...: check_report.py over DIR (see its help).
check() {
    if ! "${CHECK[@]}" "$@"; then
        fail "report check in $1 failed (rules: ${*:2})"
    fi
}

# memkit_lines FILE: stderr lines that are memkit's; bad_lines FILE: the
# other ones.
memkit_lines() { grep -c '^memkit: ' "$1" || true; }
other_lines() { grep -vc '^memkit: ' "$1" || true; }

# value OUT KEY: the integer after KEY= in OUT.out.
value() {
    sed -n "s/^$2=\([0-9][0-9]*\)\$/\1/p" "$1.out" | head -1
}

# find_lib SONAME: the path of a shared library, or nothing.
find_lib() {
    local p
    for p in "/usr/lib/$(gcc -dumpmachine 2>/dev/null)/$1" "/usr/lib/x86_64-linux-gnu/$1" \
             "/lib/x86_64-linux-gnu/$1" "/usr/lib64/$1" "/usr/lib/$1"; do
        [ -f "$p" ] && { echo "$p"; return 0; }
    done
    ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n { print $NF; exit }'
}

# abs PATH: PATH made absolute (meson passes build targets relative to the
# build folder, and the tests run commands in other folders).
abs() {
    case "$1" in
    /*) echo "$1" ;;
    *) echo "$PWD/$1" ;;
    esac
}
