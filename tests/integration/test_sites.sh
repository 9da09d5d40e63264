#!/usr/bin/env bash
# Sampled call sites, end to end: sitesload under the shim, its report read
# by memkit-report.
#   test_sites.sh LIBMEMKIT SITESLOAD MEMKIT_REPORT CASE
# volumes: the estimates per function within 15% of the truth the program
#          prints, the leak shown with its function and line (libdw);
# fork:    a child forked with sampling on leaves its own sites;
# deep:    2000 frames of recursion, stacks cut at MEMKIT_STACK_DEPTH;
# badstack: a frame libunwind cannot follow must not crash the program;
# failed-realloc: a sampled block whose realloc fails stays live at its site.
. "$(dirname "$0")/lib.sh"
LIB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PROG=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
REPORT_TOOL=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
CASE=$4
cd "$T"

run_shim() {
    env LD_PRELOAD="$LIB" MEMKIT_REPORT="$T/r.%p.json" "$@"
}

case $CASE in
volumes)
    run_shim "$PROG" volumes > truth.txt || fail "sitesload failed"
    ls r.*.json > /dev/null 2>&1 || fail "no report"
    rep=$(ls r.*.json | head -1)
    "$REPORT_TOOL" --folded "$rep" > folded.txt || fail "--folded failed"
    "$PY" - truth.txt folded.txt "$rep" <<'PY' || fail "estimates off by more than 15%"
import json, sys
want = {}
for line in open(sys.argv[1]):
    _, name, calls, b = line.split()
    want[name] = (int(calls), int(b))
got = {}
for line in open(sys.argv[2]):
    stack, b = line.rsplit(" ", 1)
    leaf = stack.split(";")[-1]
    got[leaf] = got.get(leaf, 0) + int(b)
r = json.load(open(sys.argv[3]))
ok = True
for name, (calls, b) in want.items():
    est = got.get(name, 0)
    err = (est - b) / b
    print(f"  {name}: true {b} bytes, estimated {est} ({err:+.1%})")
    if abs(err) > 0.15:
        ok = False
live = sum(s["live_bytes_est"] for s in r["sites"])
print(f"  live at exit over all sites: {live} (leaky true {want['leaky'][1]})")
if abs(live - want["leaky"][1]) > 0.15 * want["leaky"][1]:
    ok = False
sys.exit(0 if ok else 1)
PY
    "$REPORT_TOOL" --top 5 "$rep" > summary.txt || fail "memkit-report failed"
    awk '/live at exit/{f=1; next} f && /^ *1\./{print; exit}' summary.txt > leak.txt
    grep -Eq 'leaky \(sitesload\.c:[0-9]+\)' leak.txt ||
        fail "the leak is not first among live-at-exit sites with its line: $(cat leak.txt)"
    note "$(cat leak.txt)"
    ;;
fork)
    run_shim "$PROG" fork > /dev/null || fail "sitesload fork failed"
    n=$(ls r.*.json 2>/dev/null | wc -l)
    [ "$n" = 2 ] || fail "expected 2 reports (parent and child), found $n"
    for rep in r.*.json; do
        "$REPORT_TOOL" --folded "$rep" > f.txt || fail "--folded $rep failed"
        grep -q ';big_blocks ' f.txt || fail "$rep: no big_blocks site"
        grep -q ';leaky ' f.txt || fail "$rep: no leaky site"
    done
    ;;
deep)
    run_shim env MEMKIT_STACK_DEPTH=64 "$PROG" deep > out.txt || fail "sitesload deep failed"
    grep -q "allocated 200" out.txt || fail "wrong output: $(cat out.txt)"
    rep=$(ls r.*.json | head -1)
    "$PY" - "$rep" <<'PY' || fail "deep stacks not cut at 64 frames"
import json, sys
r = json.load(open(sys.argv[1]))
depths = [len(s["frames"]) for s in r["sites"] if s["frames"]]
assert depths and max(depths) == 64, depths
PY
    ;;
badstack)
    run_shim env MEMKIT_SAMPLE=4K "$PROG" badstack > out.txt
    rc=$?
    [ "$rc" = 0 ] || fail "sitesload badstack exited with $rc"
    grep -q survived out.txt || fail "no 'survived'"
    rep=$(ls r.*.json | head -1)
    [ -n "$rep" ] || fail "no report"
    ;;
failed-realloc)
    # 64 KiB at a 4K interval: sampled for certain (weight 1).
    run_shim env MEMKIT_SAMPLE=4K "$PROG" failed-realloc > out.txt ||
        fail "sitesload failed-realloc failed: $(cat out.txt)"
    held=$(awk '/^held/{print $2}' out.txt)
    [ -n "$held" ] || fail "no 'held' line"
    rep=$(ls r.*.json | head -1)
    "$PY" - "$rep" "$held" <<'PY' || fail "the block whose realloc failed is not live at its site"
import json, sys
r = json.load(open(sys.argv[1]))
held = int(sys.argv[2])
live = sum(s["live_bytes_est"] for s in r["sites"])
print(f"  live at exit over all sites: {live} (held {held})")
sys.exit(0 if abs(live - held) <= 0.15 * held else 1)
PY
    ;;
*)
    fail "unknown case $CASE"
    ;;
esac
finish
