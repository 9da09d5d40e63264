#!/usr/bin/env bash
# run_all.sh — every benchmark of issue 8 in one command, written to
# BENCHMARKS.md: memkit side by side with what people use today.
#
#   tests/bench/run_all.sh [--quick] [--build DIR] [--out FILE] [--rounds N]
#   (or: ninja -C build benchmarks)
#
#   1. Shim overhead: malloc_heavy at 1 and 2 threads with small (16-4096 B)
#      and large (16K-256K) blocks, python3 building and dropping a large
#      dict (with its own allocator, and with PYTHONMALLOC=malloc), and sort
#      of a large file; each plain, under memkit (defaults, MEMKIT_SAMPLE=0,
#      MEMKIT_SAMPLE=64K), glibc's libmemusage.so, heaptrack, jemalloc with
#      prof:true and mimalloc with MIMALLOC_SHOW_STATS=1 (and the two
#      allocators alone, as references), with the size of each tool's
#      output. Runner: bench_run. And malloc_heavy's instructions under
#      callgrind, plain and under memkit (instructions.sh): a figure the
#      machine's load does not move.
#   2. Give-back: frag_run (glibc, jemalloc, tcmalloc, mimalloc, each plain
#      and beneath memkit): RSS after the frees and after the wait, the page
#      floor, the longest stall.
#   3. Frame pools: pool_bench (memkit vs AVBufferPool vs malloc/free at
#      640x480, sharing, libmemkit.so's own pool) and gst_pool_bench (memkit
#      vs AVBufferPool vs GstBufferPool vs malloc/free at 640x480 RGB888 and
#      1920x1080 YUV420), 1 and 2 threads.
# Compared runs alternate within each runner; medians of --rounds rounds
# (default: 7 for the shim overhead and gst_pool_bench, 5 for frag_run, whose
# runs take ten seconds each; pool_bench: its own 11).
#
# --quick: small inputs, one round, frag at 16 MiB; a smoke test that must
# finish in under a minute (meson test benchmarks_quick). Its output goes to
# BUILD/tests/bench/BENCHMARKS-quick.md unless --out says otherwise; the full
# run's to BENCHMARKS.md at the top of the source tree.
#
# Exit status: 0 when every runner succeeded and the file has every
# section; 1 otherwise (the file is still written, saying what failed);
# 2 for a usage error.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
quick=0 build="" out="" rounds=""

usage() {
    echo "usage: $0 [--quick] [--build DIR] [--out FILE] [--rounds N]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --build) [ $# -ge 2 ] || usage; build=$2; shift ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift ;;
    --rounds) [ $# -ge 2 ] || usage; rounds=$2; shift ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
    esac
    shift
done
[ -n "$build" ] || build=${MESON_BUILD_ROOT:-$src/build}
build=$(cd "$build" 2>/dev/null && pwd) || { echo "run_all: no build folder $build" >&2; exit 2; }
if [ -z "$out" ]; then
    if [ $quick = 1 ]; then out=$build/tests/bench/BENCHMARKS-quick.md; else out=$src/BENCHMARKS.md; fi
fi
case "$rounds" in
"") if [ $quick = 1 ]; then rounds=1 frag_rounds=1; else rounds=7 frag_rounds=5; fi ;;
*[!0-9]* | 0) usage ;;
*) frag_rounds=$rounds ;;
esac

bin=$build/tests/bench
lib=$build/shim/libmemkit.so
for f in "$bin/bench_run" "$bin/malloc_heavy" "$bin/frag_run" "$bin/frag" "$lib"; do
    [ -e "$f" ] || { echo "run_all: $f is missing: build first (ninja -C $build)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/memkit-run-all.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
md=$tmp/out.md
failures=0
started=$(date +%s)

# ---- the machine ---------------------------------------------------------------

cpu_model() {
    local m
    m=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    [ -n "$m" ] || m=$(uname -m)
    printf '%s' "$m"
}
mem_total() { awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo; }
load1() { cut -d' ' -f1 /proc/loadavg; }
machine_line() {
    printf '%s, %s cores, %s memory, kernel %s' "$(cpu_model)" "$(nproc)" "$(mem_total)" "$(uname -r)"
}
pkg_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || printf '?'
}

# ---- sections ---------------------------------------------------------------------

# section TITLE FORMAT CMD... — runs CMD, its stdout into the file (FORMAT
# md: as it is; text: in a code block), with the command, the machine, the
# load at the start and the end and the time it took around it.
section() {
    local title=$1 format=$2
    shift 2
    local shown="" a
    for a in "$@"; do
        a=${a//$build/BUILD}
        a=${a//$tmp/TMP}
        case "$a" in
        *[[:space:]\"\'\$\;\&\|\<\>\(\)\{\}\*\?]*) shown+=" '$a'" ;;
        *) shown+=" $a" ;;
        esac
    done
    shown=${shown# }
    echo "run_all: $title" >&2
    local l0 t0 status
    l0=$(load1)
    t0=$(date +%s)
    "$@" >"$tmp/section.out" 2>"$tmp/section.err"
    status=$?
    {
        printf '\n### %s\n\n' "$title"
        printf -- '- command: `%s` (BUILD: the meson build folder)\n' "$shown"
        printf -- '- machine: %s; load average %s at the start, %s at the end; %s s\n\n' \
            "$(machine_line)" "$l0" "$(load1)" "$(($(date +%s) - t0))"
        if [ "$format" = text ]; then
            printf '```\n'
            cat "$tmp/section.out"
            printf '```\n'
        else
            cat "$tmp/section.out"
        fi
        if [ $status != 0 ]; then
            printf '\n**The runner failed (exit status %s).** Its messages:\n\n```\n' "$status"
            tail -n 30 "$tmp/section.err"
            printf '```\n'
        fi
    } >>"$md"
    if [ $status != 0 ]; then
        failures=$((failures + 1))
        echo "run_all: $title: exit status $status" >&2
        tail -n 30 "$tmp/section.err" >&2
    fi
    cp "$tmp/section.out" "$tmp/$(printf '%s' "$title" | tr -c 'A-Za-z0-9' '_').out"
    return 0
}

# ---- inputs ------------------------------------------------------------------------

if [ $quick = 1 ]; then
    small_ops=20000 large_ops=2000 dict_n=100000 sort_lines=20000
    frag_args=(--size 16M --wait 0.5)
    pool_args=(--quick)
    gst_args=(--quick)
else
    small_ops=1000000 large_ops=200000 dict_n=3000000 sort_lines=3000000
    frag_args=(--size 1G --wait 5)
    pool_args=()
    gst_args=(--rounds "$rounds")
fi
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
# sort's input: SORT_LINES lines of 8 to 24 random hex digits, the same on
# every run (seeded).
awk -v n="$sort_lines" 'BEGIN {
        srand(1)
        for (i = 0; i < n; i++) {
            s = sprintf("%08x%08x%08x", int(rand() * 4294967296), int(rand() * 4294967296),
                        int(rand() * 4294967296))
            print substr(s, 1, 8 + int(rand() * 17))
        }
    }' >"$tmp/sort-input.txt"
sort_bytes=$(stat -c %s "$tmp/sort-input.txt")

configs=plain,memkit,memkit-sample0,memkit-sample64k,memusage,heaptrack,jemalloc,jeprof,mimalloc,mistats
br=("$bin/bench_run" --markdown --rounds "$rounds" --configs "$configs")
dict_code="d = {i: str(i) for i in range($dict_n)}; del d"

# ---- the file's head ------------------------------------------------------------------

commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo "?")
dirty=""
[ -n "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=" (with uncommitted changes)"
{
    printf '# memkit benchmarks\n\n'
    if [ $quick = 1 ]; then
        printf '**Quick mode** (a smoke test: small inputs, one round). These numbers mean nothing.\n\n'
    fi
    printf 'Written by `tests/bench/run_all.sh%s` (or `ninja -C build benchmarks`) on %s,\n' \
        "$([ $quick = 1 ] && printf ' --quick')" "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'memkit %s%s. Every runner alternates the compared runs (the order rotates from\n' "$commit" "$dirty"
    printf 'round to round) and prints medians of %s round%s (frag_run: %s) unless it says\n' \
        "$rounds" "$([ "$rounds" = 1 ] || printf s)" "$frag_rounds"
    printf 'otherwise. Run it on your own machine: the numbers below are from a small, shared one.\n\n'
    printf '## Machine\n\n'
    printf -- '- CPU: %s, %s cores online\n' "$(cpu_model)" "$(nproc)"
    printf -- '- memory: %s; kernel: %s %s; %s\n' "$(mem_total)" "$(uname -s)" "$(uname -r)" \
        "$(. /etc/os-release 2>/dev/null && printf '%s' "$PRETTY_NAME")"
    printf -- '- load average at the start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf -- '- versions: glibc %s, jemalloc %s, tcmalloc %s, mimalloc %s, heaptrack %s, ' \
        "$(pkg_version libc6)" "$(pkg_version libjemalloc2)" "$(pkg_version libtcmalloc-minimal4)" \
        "$(pkg_version libmimalloc2.0)" "$(pkg_version heaptrack)"
    printf 'GStreamer %s, FFmpeg libavutil %s, Python %s, coreutils %s\n' \
        "$(pkg_version libgstreamer1.0-0)" "$(pkg_version libavutil57)" \
        "$("$python" -c 'import platform; print(platform.python_version())' 2>/dev/null)" \
        "$(pkg_version coreutils)"
    printf '\n@@SUMMARY@@\n'
    printf '\n## 1. Shim overhead\n\n'
    printf 'Each workload plain, under memkit and under the tools people use today. memkit rows\n'
    printf 'write their report (as by default); jemalloc prof:true dumps its heap profile at exit\n'
    printf '(prof_final); heaptrack runs as `heaptrack -o FILE COMMAND` on the same input as the\n'
    printf 'others (no smaller input was needed); libmemusage.so and mimalloc print their summary on\n'
    printf 'stderr (coreutils'"'"' sort closes its stderr at exit, before they write: there they\n'
    printf 'have no output). "output" is the size of what the tool wrote. jemalloc and mimalloc\n'
    printf 'alone are there as references for their measuring modes.\n'
} >"$md"

# ---- 1. shim overhead ------------------------------------------------------------------

section "malloc_heavy, 1 thread, 16-4096 B" md \
    "${br[@]}" --no-rss --ops "$small_ops" --threads 1 --sizes 16-4096 "$lib"
section "malloc_heavy, 2 threads, 16-4096 B" md \
    "${br[@]}" --ops "$small_ops" --threads 2 --sizes 16-4096 "$lib"
if [ $quick = 0 ]; then
    section "malloc_heavy, 1 thread, 16K-256K" md \
        "${br[@]}" --no-rss --ops "$large_ops" --threads 1 --sizes 16K-256K "$lib"
fi
section "malloc_heavy, 2 threads, 16K-256K" md \
    "${br[@]}" --no-rss --ops "$large_ops" --threads 2 --sizes 16K-256K "$lib"
if command -v valgrind >/dev/null; then
    section "malloc_heavy, 2 threads, 16-4096 B, in instructions (callgrind)" md \
        "$here/instructions.sh" "$lib" "$bin/malloc_heavy" "$small_ops" 2 16-4096
else
    printf '\n### malloc_heavy in instructions\n\nNot measured: no valgrind.\n' >>"$md"
    failures=$((failures + 1))
fi
if [ -n "$python" ]; then
    section "python3: a dict of $dict_n entries built and dropped" md \
        "${br[@]}" "$lib" -- "$python" -c "$dict_code"
    if [ $quick = 0 ]; then
        section "python3 with PYTHONMALLOC=malloc: the same dict" md \
            "${br[@]}" --env PYTHONMALLOC=malloc "$lib" -- "$python" -c "$dict_code"
    fi
else
    printf '\n### python3\n\nNot measured: no python3.\n' >>"$md"
    failures=$((failures + 1))
fi
section "sort of a $sort_lines-line file ($((sort_bytes / 1048576)) MiB), LC_ALL=C" md \
    "${br[@]}" --env LC_ALL=C "$lib" -- sort -o /dev/null "$tmp/sort-input.txt"

# ---- 2. give-back -----------------------------------------------------------------------

{
    printf '\n## 2. Giving memory back\n\n'
    printf 'frag builds a 1 GiB heap of 32-1024 B objects on two threads, frees 90%% of them\n'
    printf '(the oldest, or a random 90%%), then keeps allocating for the wait; see\n'
    printf '`tests/bench/frag.c`. The floor is the pages the live objects touch: no allocator that\n'
    printf 'cannot move objects can hold less.\n'
} >>"$md"
[ $quick = 1 ] && sed -i '$s/.*/&\n(Quick mode: 16 MiB, a 0.5 s wait.)/' "$md"
section "frag_run: glibc, jemalloc, tcmalloc, mimalloc, plain and + memkit" md \
    "$bin/frag_run" --markdown --rounds "$frag_rounds" "${frag_args[@]}" --frag "$bin/frag" --memkit "$lib"

# ---- 3. pools ---------------------------------------------------------------------------

printf '\n## 3. Frame pools\n' >>"$md"
if [ -x "$bin/gst_pool_bench" ]; then
    section "memkit pool vs AVBufferPool vs GstBufferPool vs malloc/free" md \
        "$bin/gst_pool_bench" "${gst_args[@]}"
else
    printf '\n### GstBufferPool\n\nNot measured: gst_pool_bench was not built (no gstreamer-1.0: Debian libgstreamer1.0-dev).\n' >>"$md"
    failures=$((failures + 1))
fi
if [ -x "$bin/pool_bench" ]; then
    section "pool_bench: 640x480 RGB888, sharing a frame, libmemkit.so's own pool" text \
        "$bin/pool_bench" "${pool_args[@]}" --memkit "$lib"
else
    printf '\n### pool_bench\n\nNot measured: pool_bench was not built (no libavutil: Debian libavutil-dev).\n' >>"$md"
    failures=$((failures + 1))
fi

# ---- summary: the headline ratios ----------------------------------------------------------

# Column COL (awk's field: 2 is the name) of a configuration's row in a
# section's output, up to its first space.
cell() {
    local f="$tmp/$(printf '%s' "$1" | tr -c 'A-Za-z0-9' '_').out"
    [ -f "$f" ] || { printf -- '-'; return; }
    awk -F'|' -v row="$2" -v col="$3" '$2 == " " row " " { v = $col; gsub(/^ +| +$/, "", v); sub(/ .*/, "", v); print v; found = 1; exit }
        END { if (!found) printf "-" }' "$f"
}
workloads=("malloc_heavy, 1 thread, 16-4096 B" "malloc_heavy, 2 threads, 16-4096 B"
    "malloc_heavy, 1 thread, 16K-256K" "malloc_heavy, 2 threads, 16K-256K"
    "python3: a dict of $dict_n entries built and dropped"
    "python3 with PYTHONMALLOC=malloc: the same dict"
    "sort of a $sort_lines-line file ($((sort_bytes / 1048576)) MiB), LC_ALL=C")
tools=("memkit (defaults)" "memkit SAMPLE=0 (no call sites)" "memkit SAMPLE=64K"
    "glibc libmemusage.so" "heaptrack" "jemalloc prof:true" "mimalloc SHOW_STATS=1")
# headline_table COL: one row per workload, one column per tool.
headline_table() {
    printf '| workload | memkit | memkit SAMPLE=0 | memkit SAMPLE=64K | libmemusage | heaptrack | jemalloc prof | mimalloc stats |\n'
    printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
    local w row
    for w in "${workloads[@]}"; do
        [ -f "$tmp/$(printf '%s' "$w" | tr -c 'A-Za-z0-9' '_').out" ] || continue
        printf '| %s' "$w"
        for row in "${tools[@]}"; do
            printf ' | %s' "$(cell "$w" "$row" "$1")"
        done
        printf ' |\n'
    done
}
# Output sizes: one row per workload.
output_table() {
    printf '| workload | memkit report | SAMPLE=0 report | SAMPLE=64K report | libmemusage summary | heaptrack .zst | jemalloc heap dump | mimalloc stats |\n'
    printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
    local w row f
    for w in "${workloads[@]}"; do
        f="$tmp/$(printf '%s' "$w" | tr -c 'A-Za-z0-9' '_').out"
        [ -f "$f" ] || continue
        printf '| %s' "$w"
        for row in "${tools[@]}"; do
            printf ' | %s' "$(awk -F'|' -v row="$row" '$2 == " " row " " {
                    v = $(NF - 1); gsub(/^ +| +$/, "", v)
                    if (v ~ /^none/) v = "none"; else { n = split(v, a, " "); v = a[1] " " a[2] }
                    print v; found = 1; exit }
                END { if (!found) printf "-" }' "$f")"
        done
        printf ' |\n'
    done
}
{
    printf '## Headline\n\n'
    printf '### CPU time relative to plain glibc (median; lower is better)\n\n'
    headline_table 4
    printf '\nCPU: user + system time of the whole process tree (heaptrack'"'"'s interpreter and\n'
    printf 'compressor included), which waiting for a CPU on a busy machine does not inflate.\n\n'
    printf '### Time relative to plain glibc (median; lower is better)\n\n'
    headline_table 7
    printf '\nmalloc_heavy rows: its own time (thread creation to last join); the others: the\n'
    printf 'wall time of the whole command. Both include waiting for a CPU, so on a busy machine\n'
    printf 'they are noisier than CPU time. jemalloc prof and mimalloc stats run on another\n'
    printf 'allocator than glibc: their ratio to that allocator alone is in the tables below.\n\n'
    printf '### Size of each tool'"'"'s output (median)\n\n'
    output_table
} >"$tmp/summary.md"
awk -v f="$tmp/summary.md" '$0 == "@@SUMMARY@@" { while ((getline l < f) > 0) print l; next } { print }' \
    "$md" >"$tmp/out2.md" && mv "$tmp/out2.md" "$md"

elapsed=$(($(date +%s) - started))
{
    printf '\n## This run\n\n'
    printf 'Took %d min %d s; load average %s at the end.' $((elapsed / 60)) $((elapsed % 60)) \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
    if [ $failures = 0 ]; then
        printf ' Every runner succeeded.\n'
    else
        printf ' **%d runner(s) failed or could not run**: see their sections.\n' "$failures"
    fi
} >>"$md"

# ---- the file is complete: check it, then put it in place --------------------------------

missing=0
for want in "## Machine" "## Headline" "## 1. Shim overhead" "### malloc_heavy, 1 thread" \
    "### malloc_heavy, 2 threads, 16-4096" "### malloc_heavy, 2 threads, 16K-256K" "### python3" \
    "### sort" "## 2. Giving memory back" "| glibc+memkit | oldest |" "## 3. Frame pools" \
    "| memkit (defaults) |" "| heaptrack |" "GstBufferPool"; do
    grep -qF -- "$want" "$md" || { echo "run_all: BENCHMARKS lacks \"$want\"" >&2; missing=1; }
done
mkdir -p "$(dirname "$out")"
cp "$md" "$out.tmp.$$" && mv "$out.tmp.$$" "$out" || { echo "run_all: cannot write $out" >&2; exit 1; }
echo "run_all: wrote $out in ${elapsed} s ($failures failure(s))" >&2
[ $failures = 0 ] && [ $missing = 0 ]
