#!/usr/bin/env bash
# fork from a SIGALRM handler while the only thread allocates in a loop
# (forksignal.c): must neither hang nor change anything. Every process
# reports: the parent, and each child, which leaves with _exit straight
# from the signal handler (README: a fork child reports on exit or _exit).
#   test_fork_signal.sh LIBMEMKIT FORKSIGNAL
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
need_lib
RUN_TIMEOUT=60
RUNS=10
FORKS=60   # as in forksignal.c
# Fork from a signal handler that interrupted malloc deadlocks in glibc
# itself once a process has a second thread (fork then takes the arena
# locks; README, "What cannot work in a multi-threaded glibc process").
# memkit's monitor is such a thread when it starts, which a loaded machine
# makes likely here (the program frees more before its 60 forks): it is
# kept off as the README says, and the reports must show it never ran.
NO_MONITOR=(MEMKIT_COMPACT_THRESHOLD=0 MEMKIT_COMPACT_INTERVAL=0 MEMKIT_PRESSURE=0)

run "$T/plain" "$T/plain.d" -- "$BIN"
expect_rc "plain run" "$T/plain" 0
for i in $(seq 1 $RUNS); do
    run "$T/shim$i" "$T/shim$i.d" LD_PRELOAD="$MEMKIT_LIB" "${NO_MONITOR[@]}" -- "$BIN"
    same "fork from a signal handler, run $i" "$T/plain" "$T/shim$i" stderr
    check "$T/shim$i.d" --count $((FORKS + 1)) --distinct-pids --check 'p["name"] == "forksignal"' \
        --check 'r["compaction"]["monitor_thread"] is False'
    "$PY" - "$T/shim$i.d" <<'PY' || fail "run $i: the reports are not one parent that allocated and its children"
import glob, json, sys
rs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/memkit.*.json")]
pids = {r["process"]["pid"] for r in rs}
parents = [r for r in rs if r["process"].get("ppid") not in pids]
if len(parents) != 1:
    print(f"{len(parents)} reports whose parent did not report", file=sys.stderr)
    sys.exit(1)
t = parents[0]["totals"]
if t["alloc_calls"] <= 100 or t["free_bytes"] > t["alloc_bytes"]:
    print(f"parent totals: {t}", file=sys.stderr)
    sys.exit(1)
for r in rs:
    if r is not parents[0] and r["process"]["ppid"] != parents[0]["process"]["pid"]:
        print(f"child {r['process']['pid']} has ppid {r['process']['ppid']}", file=sys.stderr)
        sys.exit(1)
PY
    [ "$FAILED" = 0 ] || break
done
cat "$T/plain.out" | sed 's/^/  /'

finish
