#!/usr/bin/env bash
# The shapes of program that break malloc interposers (torture.c): fork
# from threads amid stdio, vfork/posix_spawn/exec without memkit, thread
# churn, allocating thread-exit destructors, dlopen/dlclose and
# RTLD_DEEPBIND, exit while threads allocate — plain, under memkit with
# its defaults, and with its monitor thread, compactions and dense
# sampling running. Then a static program, which memkit cannot enter.
#   test_torture.sh LIBMEMKIT TORTURE TORTLIB STATIC_HELLO CTORLOAD
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
LIB=$(abs "$3")
STATIC=$4
CTORLOAD=$(abs "$5")
need_lib

STEPS=(sample-fds fork-stdio spawn churn 2000 tls-dtor dlopen "$LIB" 200 deepbind "$LIB" signal-alloc exit-busy)
BUSY=(MEMKIT_THREAD_MIN=0 MEMKIT_COMPACT_THRESHOLD=1M MEMKIT_COMPACT_MIN_GAP=0
      MEMKIT_POST_COMPACT_DELAY=0 MEMKIT_SAMPLE=4K MEMKIT_AGGRESSIVE=1)

run "$T/plain" "$T/plain.d" -- "$BIN" "${STEPS[@]}"
expect_rc "plain run" "$T/plain" 0

run "$T/shim" "$T/shim.d" LD_PRELOAD="$MEMKIT_LIB" -- "$BIN" "${STEPS[@]}"
same "defaults" "$T/plain" "$T/shim" stderr
# The parent, its 20 fork children, and the vfork'd and spawned /bin/true
# (which keep LD_PRELOAD); the exec without it leaves none.
check "$T/shim.d" --count 23 --distinct-pids --names torture,true,true \
    --select torture --check 't["alloc_calls"] > 0'

run "$T/busy" "$T/busy.d" LD_PRELOAD="$MEMKIT_LIB" "${BUSY[@]}" -- "$BIN" "${STEPS[@]}"
same "monitor, compactions and sampling running" "$T/plain" "$T/busy" stderr
check "$T/busy.d" --count 23 --distinct-pids

# glibc frees a joined thread's dynamic TLS under its own stack cache
# lock; with memkit's defaults those 96 MiB are the first release large
# enough to start the monitor thread, which must not start from there.
run "$T/tls.plain" "$T/tls.plain.d" -- "$BIN" tls-join "$LIB"
run "$T/tls" "$T/tls.d" LD_PRELOAD="$MEMKIT_LIB" -- "$BIN" tls-join "$LIB"
same "tls-join (the first large release made by glibc)" "$T/tls.plain" "$T/tls" stderr
check "$T/tls.d" --count 1

# The process ends where little stack is left (a thread on the smallest
# stack calls exit; a crash handler on an 8 KiB alternate stack calls
# _exit): the same status, and a report.
for how in exit-small-stack altstack-exit; do
    run "$T/$how.plain" "$T/$how.plain.d" -- "$BIN" "$how"
    run "$T/$how" "$T/$how.d" LD_PRELOAD="$MEMKIT_LIB" -- "$BIN" "$how"
    same "$how" "$T/$how.plain" "$T/$how" stderr
    check "$T/$how.d" --count 1
done

# Two threads call exit at once: the second waits for the report the
# first is writing (glibc would end the process at it). Ten runs, since
# without the wait about half lose their report.
for i in 0 1 2 3 4 5 6 7 8 9; do
    run "$T/er.$i" "$T/er.$i.d" LD_PRELOAD="$MEMKIT_LIB" -- "$BIN" exit-race
    expect_rc "exit-race run $i" "$T/er.$i" 0
    check "$T/er.$i.d" --count 1
done

# The program's last thread ends without exit (main by pthread_exit; a
# fork child's only thread by returning), with memkit's monitor thread
# running: the process still ends, status 0, and reports.
for how in main-exit fork-return closefrom; do
    run "$T/$how.plain" "$T/$how.plain.d" -- "$BIN" "$how"
    run "$T/$how" "$T/$how.d" LD_PRELOAD="$MEMKIT_LIB" "${BUSY[@]}" -- "$BIN" "$how"
    same "$how, monitor running" "$T/$how.plain" "$T/$how" stderr
done
check "$T/main-exit.d" --count 1 --check 'r["compaction"]["monitor_thread"] is True'
check "$T/fork-return.d" --count 2 --distinct-pids
check "$T/closefrom.d" --count 5 --distinct-pids
"$PY" - "$T/fork-return.d" <<'PY' || fail "fork-return: the child had no monitor thread"
import glob, json, sys
rs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/memkit.*.json")]
sys.exit(0 if any(r["compaction"]["monitor_thread"] for r in rs) else 1)
PY

# The program closes its standard descriptors for 1.5 s while the monitor
# reads /proc and writes snapshots: each descriptor memkit opens then is
# moved high by its next system call, so the numbers the program will
# dup2() its saved descriptors onto are never left holding memkit's files
# (traced per thread: the monitor's, and the main thread's after it closed
# fd 2).
if command -v strace >/dev/null; then
    run "$T/cs.plain" "$T/cs.plain.d" -- "$BIN" closed-stdio
    run "$T/cs" "$T/cs.d" -- strace -f -ff -qq -o "$T/cs.trace" \
        -e trace=open,openat,pipe2,memfd_create,fcntl,close,dup2 \
        -E LD_PRELOAD="$MEMKIT_LIB" -E MEMKIT_REPORT_INTERVAL=100ms \
        -E MEMKIT_MONITOR_INTERVAL=50ms $(printf -- '-E %s ' "${BUSY[@]}") "$BIN" closed-stdio
    same "closed-stdio, monitor running" "$T/cs.plain" "$T/cs" stderr
    "$PY" - "$T"/cs.trace.* <<'PY' || fail "closed-stdio: memkit left a descriptor at a low number"
import re, sys
opened = re.compile(r'^(open|openat|memfd_create)\(.*\)\s+= (\d+)$')
piped = re.compile(r'^pipe2\(\[(\d+), (\d+)\].*\)\s+= 0$')
moved = re.compile(r'^fcntl\((\d+), F_DUPFD_CLOEXEC, (\d+)\)\s+= (\d+)$')
main = min(int(p.rsplit(".", 1)[1]) for p in sys.argv[1:])
bad = checked = 0
for path in sys.argv[1:]:
    calls = [l.rstrip("\n") for l in open(path)]
    watching = int(path.rsplit(".", 1)[1]) != main   # the monitor: from its start
    for i, call in enumerate(calls):
        if not watching:
            watching = re.match(r"close\(2\)\s+= 0$", call) is not None
            continue
        m, p = opened.match(call), piped.match(call)
        fds = [int(m.group(2))] if m else [int(p.group(1)), int(p.group(2))] if p else []
        for k, fd in enumerate(fds):
            checked += 1
            nxt = calls[i + 1 + k] if i + 1 + k < len(calls) else ""
            mv = moved.match(nxt)
            if not (mv and int(mv.group(1)) == fd and int(mv.group(3)) >= int(mv.group(2)) > 2):
                bad += 1
                print(f"  {path}: {call!r} then {nxt!r}", file=sys.stderr)
print(f"  closed-stdio: {checked} descriptors opened by memkit, {bad} left low")
sys.exit(1 if bad or checked < 5 else 0)
PY
else
    note "no strace: closed-stdio skipped"
fi

# memkit's descriptors live at 900 and up, and the kernel grows a
# descriptor table that threads share only after an RCU grace period (an
# 11 ms stall, measured, of the thread whose free had memkit read /proc).
# So memkit grows the table while the process has one thread: in its
# constructor and in a fork child. FDSize in /proc/self/status is the
# table's size.
run "$T/fdt.plain" "$T/fdt.plain.d" -- "$BIN" fd-table
run "$T/fdt" "$T/fdt.d" LD_PRELOAD="$MEMKIT_LIB" -- "$BIN" fd-table
expect_rc "fd-table" "$T/fdt" 0
"$PY" - "$T/fdt.plain.out" "$T/fdt.out" <<'PY' || fail "fd-table: memkit did not grow the table while single-threaded"
import sys
def sizes(path):
    return {l.split()[1]: int(l.split()[2]) for l in open(path) if l.startswith("fd-table ")}
plain, shim = sizes(sys.argv[1]), sizes(sys.argv[2])
print(f"  fd-table: FDSize plain {plain}, under memkit {shim}")
ok = set(shim) == {"parent", "child"} and min(shim.values()) >= 1024
sys.exit(0 if ok else 1)
PY

# A library's constructor allocates before memkit has read its options
# (libstdc++'s does): the main thread's allocations are still sampled.
run "$T/ctor" "$T/ctor.d" LD_PRELOAD="$MEMKIT_LIB" -- "$CTORLOAD"
expect_rc "ctorload" "$T/ctor" 0
check "$T/ctor.d" --count 1 --check 'len(r["sites"]) >= 1' \
    --check 'sum(s["alloc_bytes_est"] for s in r["sites"]) > 100e6'

# Static: the loader never reads LD_PRELOAD; the program is as it was.
if [ -x "$STATIC" ] || [ -x "$(abs "$STATIC" 2>/dev/null)" ]; then
    STATIC=$(abs "$STATIC")
    run "$T/st.plain" "$T/st.plain.d" -- "$STATIC"
    run "$T/st.shim" "$T/st.shim.d" LD_PRELOAD="$MEMKIT_LIB" -- "$STATIC"
    same "static program" "$T/st.plain" "$T/st.shim" stderr
    [ -z "$(ls "$T/st.shim.d")" ] || fail "a static program left a report: $(ls "$T/st.shim.d")"
else
    note "no static program (libc.a missing): skipped that part"
fi
sed 's/^/  /' "$T/plain.out"
finish
