#!/usr/bin/env bash
# fork while other threads allocate (forkthreads.c): the same output and
# status with memkit, and one complete report per process: the parent and
# each child (which leaves with exit, so writes its own).
#   test_fork_threads.sh LIBMEMKIT FORKTHREADS
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
need_lib
FORKS=8

run "$T/plain" "$T/plain.d" -- "$BIN"
expect_rc "plain run" "$T/plain" 0
grep -q "^forks=$FORKS failed=0\$" "$T/plain.out" || fail "plain run: $(tail -1 "$T/plain.out")"

for i in 1 2 3; do
    run "$T/shim$i" "$T/shim$i.d" LD_PRELOAD="$MEMKIT_LIB" -- "$BIN"
    same "fork from threads, run $i" "$T/plain" "$T/shim$i" stderr
    # The parent: the one report whose pid is every other's ppid.
    check "$T/shim$i.d" --count $((FORKS + 1)) --distinct-pids --names forkthreads \
        --check 'p["name"] == "forkthreads"' \
        --check 't["alloc_calls"] >= 400' \
        --check 'p.get("ppid", 1) > 0'
    "$PY" - "$T/shim$i.d" "$FORKS" <<'PY' || fail "run $i: reports do not form one parent and its children"
import glob, json, sys
reports = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/memkit.*.json")]
forks = int(sys.argv[2])
pids = {r["process"]["pid"] for r in reports}
parents = [r for r in reports if r["process"].get("ppid") not in pids]
children = [r for r in reports if r["process"].get("ppid") in pids]
ok = True
if len(parents) != 1 or len(children) != forks:
    print(f"expected 1 parent and {forks} children, got {len(parents)} and {len(children)}",
          file=sys.stderr)
    ok = False
elif not all(c["process"]["ppid"] == parents[0]["process"]["pid"] for c in children):
    print("a child's ppid is not the parent's pid", file=sys.stderr)
    ok = False
else:
    # Each child counted its own calls: 200 allocations and 200 reallocs
    # at least, and not the parent's (which made far more).
    for c in children:
        t = c["totals"]
        if t["alloc_calls"] < 400 or t["by_kind"]["realloc"]["calls"] < 200:
            print(f"child {c['process']['pid']}: too few calls: {t['alloc_calls']}", file=sys.stderr)
            ok = False
        if t["free_calls"] < 200:
            print(f"child {c['process']['pid']}: too few frees: {t['free_calls']}", file=sys.stderr)
            ok = False
sys.exit(0 if ok else 1)
PY
done

finish
