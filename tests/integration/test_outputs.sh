#!/usr/bin/env bash
# The periodic outputs: MEMKIT_REPORT_INTERVAL (a report rewritten while the
# process runs, so SIGKILL leaves its last state) and MEMKIT_PROM (metrics
# for node_exporter's textfile collector, checked with promtool).
#   test_outputs.sh LIBMEMKIT DEFRAGLOAD
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
need_lib

# start_killed NAME DIR SECONDS [VAR=VALUE]... -- ARGS: runs defragload ARGS
# under memkit in DIR, kills it with SIGKILL after SECONDS.
start_killed() {
    local name=$1 dir=$2 secs=$3
    shift 3
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    mkdir -p "$dir"
    ( cd "$dir" && exec env LD_PRELOAD="$MEMKIT_LIB" "${envs[@]}" "$BIN" "$@" ) \
        >"$T/$name.out" 2>"$T/$name.err" </dev/null &
    local pid=$!
    sleep "$secs"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -s "$T/$name.err" ] && fail "$name: stderr: $(head -3 "$T/$name.err")"
    echo "$pid"
}

# 1. SIGKILL after 3 s with snapshots every second: a snapshot no older
#    than that, with the 40 MiB the program holds, and no temporary file.
pid=$(start_killed snap "$T/snap.d" 3.5 MEMKIT_REPORT_INTERVAL=1s -- alloc 40M sleep 0.3 alloc 1M sleep 30)
check "$T/snap.d" --count 1 \
    --check 'r["kind"] == "snapshot"' \
    --check 'r["end"]["heap_bytes"] >= 41 << 20' \
    --check 'r["process"]["duration_s"] >= 1.0' \
    --check "r['config']['MEMKIT_REPORT_INTERVAL'] == '1s'"
ls "$T/snap.d" | grep -q '\.tmp$' && fail "a temporary file was left: $(ls "$T/snap.d")"
# Its age when killed: within an interval (and scheduling slack) of the end.
"$PY" - "$T/snap.d" <<'PY' || fail "the last snapshot is older than the interval"
import glob, json, os, sys, time
f = glob.glob(sys.argv[1] + "/memkit.*.json")[0]
age = time.time() - os.stat(f).st_mtime
sys.exit(0 if age < 2.5 else 1)
PY

# 2. A process that ends normally: the final report replaces the snapshots.
run "$T/fin" "$T/fin.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT_INTERVAL=200ms \
    -- "$BIN" alloc 10M sleep 0.3 alloc 1M sleep 0.5 free 100
expect_rc "snapshots, then exit" "$T/fin" 0
check "$T/fin.d" --count 1 --check 'r["kind"] == "final"' \
    --check 'r["compaction"]["monitor_thread"] is True'
ls "$T/fin.d" | grep -q '\.tmp$' && fail "a temporary file was left: $(ls "$T/fin.d")"

# 3. Off (the default): no thread for it, one final report.
run "$T/off" "$T/off.d" LD_PRELOAD="$MEMKIT_LIB" -- "$BIN" alloc 10M sleep 1.2 alloc 1M
check "$T/off.d" --count 1 --check 'r["kind"] == "final"' \
    --check 'r["compaction"]["monitor_thread"] is False'

# 4. A bad value: one memkit: line, the default (off).
run "$T/bad" "$T/bad.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT_INTERVAL=often -- "$BIN" alloc 1M
[ "$(memkit_lines "$T/bad.err")" = 1 ] || fail "bad MEMKIT_REPORT_INTERVAL: $(cat "$T/bad.err")"
check "$T/bad.d" --count 1 --check "r['config']['MEMKIT_REPORT_INTERVAL'] == '0'"

# 5. MEMKIT_PROM: the metrics file, written every monitor interval, passes
#    promtool and carries the process's figures.
pid=$(start_killed prom "$T/prom.d" 2.5 MEMKIT_PROM=metrics.%p.prom MEMKIT_MONITOR_INTERVAL=500ms \
      MEMKIT_REPORT=off -- alloc 24M sleep 0.6 alloc 1M sleep 30)
prom="$T/prom.d/metrics.$pid.prom"
if [ ! -f "$prom" ]; then
    fail "MEMKIT_PROM: no $prom ($(ls "$T/prom.d"))"
else
    if command -v promtool >/dev/null; then
        promtool check metrics <"$prom" >"$T/promtool.out" 2>&1 ||
            fail "promtool: $(head -5 "$T/promtool.out")"
    else
        fail "promtool not found (scripts/setup.sh installs the prometheus package)"
    fi
    # and a strict OpenMetrics parser (docs/metrics.md: one text for both)
    "$PY" -c 'import prometheus_client' 2>/dev/null ||
        fail "python3-prometheus-client missing (scripts/setup.sh installs it)"
    "$PY" - "$prom" <<'PY' || fail "MEMKIT_PROM is not strict OpenMetrics"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
assert len(families) >= 15, len(families)
PY
    "$PY" - "$prom" "$pid" <<'PY' || fail "MEMKIT_PROM figures: $(head -c 600 "$prom")"
import re, sys
text = open(sys.argv[1]).read()
pid = sys.argv[2]
samples = {}
for line in text.splitlines():
    if line.startswith("#"):
        continue
    m = re.fullmatch(r'(\w+)\{([^}]*)\} (\S+)', line)
    assert m, line
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
    assert labels["pid"] == pid and labels["program"] == "defragload", labels
    samples[(m.group(1), labels.get("reason"))] = float(m.group(3))
assert samples[("memkit_heap_bytes", None)] >= 25 << 20, samples
assert samples[("memkit_alloc_calls_total", None)] > 1000
assert samples[("memkit_rss_bytes", None)] >= 25 << 20
assert ("memkit_compactions_total", "threshold") in samples
PY
fi
ls "$T/prom.d" | grep -q '\.tmp$' && fail "a temporary file was left: $(ls "$T/prom.d")"

# 6. A process that exits removes its metrics file (the report keeps the
#    figures); the monitor wrote it meanwhile.
run "$T/promx" "$T/promx.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_PROM=m.prom MEMKIT_MONITOR_INTERVAL=100ms \
    -- "$BIN" alloc 10M sleep 0.5 rss
expect_rc "MEMKIT_PROM, then exit" "$T/promx" 0
[ -e "$T/promx.d/m.prom" ] && fail "the metrics file outlived its process"
ls "$T/promx.d" | grep -q '\.tmp$' && fail "a temporary file was left: $(ls "$T/promx.d")"
check "$T/promx.d" --count 1 --check "r['config']['MEMKIT_PROM'] == 'm.prom'" \
    --check 'r["compaction"]["monitor_thread"] is True'

finish
