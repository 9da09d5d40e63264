#!/usr/bin/env bash
# instructions.sh — what the shim costs malloc_heavy in instructions, counted
# by valgrind's callgrind: a figure that does not move with the machine's
# load, where wall and CPU times on a shared machine move by 10% from one
# run to the next.
#
#   tests/bench/instructions.sh LIBMEMKIT.so MALLOC_HEAVY [OPS [THREADS [SIZES]]]
#                                          (defaults: 1000000 2 16-4096)
#
# Runs malloc_heavy under callgrind plain, under memkit with default
# options, with MEMKIT_SAMPLE=0 and with MEMKIT_DISABLE=1, and prints a
# Markdown table: the program's instructions (everything callgrind counts
# from exec to exit: the loader, memkit's start and its report included),
# the ratio to plain, and memkit's instructions per allocating call
# (THREADS x OPS calls; each comes with a free, or is a realloc). The
# instructions only: cache misses and the like are not in it, so it bounds
# the cost from below. Sampling draws from the cycle counter, so the
# default row moves by a few hundred thousand between runs.
#
# Exit status: 0, or 1 when a run failed; 2 for a usage error.
set -u

[ $# -ge 2 ] || { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
lib=$1 bench=$2 ops=${3:-1000000} threads=${4:-2} sizes=${5:-16-4096}
for f in "$lib" "$bench"; do
    [ -e "$f" ] || { echo "instructions: $f is missing" >&2; exit 2; }
done
lib=$(realpath "$lib") bench=$(realpath "$bench")
command -v valgrind >/dev/null || { echo "instructions: valgrind is missing" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memkit-instructions.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# count NAME [ENV=VALUE...]: the instructions of one run ("plain": no
# preload), or nothing when it failed.
count() {
    local name=$1
    shift
    local pre=()
    [ "$name" = plain ] || pre=(LD_PRELOAD="$lib")
    # memkit's report goes to the scratch folder; callgrind's own file too.
    (cd "$tmp" && env "$@" MEMKIT_REPORT="$tmp/report.json" valgrind --tool=callgrind \
        --callgrind-out-file="$tmp/cg.out" --trace-children=yes \
        env "${pre[@]}" "$bench" "$ops" "$threads" "$sizes" >/dev/null 2>"$tmp/$name.err") ||
        return 0
    sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$tmp/$name.err" | tail -n 1
}

calls=$((ops * threads))
status=0
printf 'malloc_heavy %s %s %s under callgrind (%s allocating calls)\n\n' "$ops" "$threads" "$sizes" "$calls"
printf '| configuration | instructions | x plain | memkit per call |\n'
printf '| --- | ---: | ---: | ---: |\n'
plain=""
for cfg in "plain" "memkit (defaults)" "memkit SAMPLE=0" "memkit DISABLE=1"; do
    case "$cfg" in
    plain) n=$(count plain) ;;
    "memkit (defaults)") n=$(count memkit) ;;
    "memkit SAMPLE=0") n=$(count sample0 MEMKIT_SAMPLE=0) ;;
    "memkit DISABLE=1") n=$(count disable MEMKIT_DISABLE=1) ;;
    esac
    if [ -z "$n" ]; then
        printf '| %s | failed | | |\n' "$cfg"
        status=1
        continue
    fi
    [ -n "$plain" ] || plain=$n
    if [ "$cfg" = plain ]; then
        printf '| %s | %s | 1.000 | |\n' "$cfg" "$n"
    else
        awk -v c="$cfg" -v n="$n" -v p="$plain" -v k="$calls" \
            'BEGIN { printf "| %s | %d | %.3f | %.1f |\n", c, n, n / p, (n - p) / k }'
    fi
done
exit $status
