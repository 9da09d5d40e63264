#!/usr/bin/env bash
# memkit-report on hand-written reports (fixtures/, following
# docs/report-format.md) and on files that are not reports.
#   test_report.sh CASE MEMKIT_REPORT FIXTURES
set -uo pipefail
case_=$1 report=$2 fixtures=$3
. "$(dirname "$0")/lib.sh"
report=$(abs "$report") fixtures=$(abs "$fixtures")

# A refusal: status 2, nothing on stdout, exactly one line on stderr that
# names the file and holds the reason.
expect_refusal() {
    expect_status 2
    expect_empty out
    expect_lines err 1
    expect_in err "memkit-report: $1: $2"
}

# variant SRC OUT CODE: OUT is the report SRC after the Python CODE, which
# edits it as the dict r (key order kept).
variant() {
    python3 - "$1" "$2" "$3" <<'PY' || fail "cannot write $2"
import json, sys
r = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(r, open(sys.argv[2], "w"), indent=1)
PY
}

# no_compaction OUT RELEASED [CODE]: compactions.json as from a process
# where no compaction ran and the program gave back RELEASED bytes.
no_compaction() {
    variant "$fixtures/compactions.json" "$1" "
c = r['compaction']
c.update(count=0, returned_bytes=0, seconds=0, max_seconds=0, backoff_skipped=0,
         released_bytes=$2, released_since_compact=$2)
c['by_reason'] = dict.fromkeys(c['by_reason'], 0)
r['compactions'] = []
r['totals']['released_bytes'] = $2
${3:-}"
}

case $case_ in
summary)
    run "$report" "$fixtures/good.json"
    expect_status 0
    expect_empty err
    expect_in out "report      $fixtures/good.json"
    expect_in out "program     sort, pid 4242 (parent 4200), ran 1.53 s, started 2026-11-22T13:50:01.250Z"
    expect_in out "command     sort -o out in"
    expect_in out "peaks       heap 4.88 KiB, RSS 4.00 MiB, maps 1.00 MiB"
    expect_in out "at exit     heap 3.38 KiB, RSS 3.00 MiB, maps 512 KiB"
    expect_in out "allocs      1,000 calls, 121 KiB (117 KiB requested), 0 failed"
    expect_in out "frees       990 calls, 117 KiB"
    expect_in out "by kind     malloc 900 (97.7 KiB), calloc 50 (13.1 KiB), realloc 50 (9.77 KiB)"
    expect_not_in out "valloc"            # kinds never called are left out
    expect_in out "maps        program 3 mmap (1.00 MiB), 2 munmap"
    expect_in out "allocator none"
    expect_in out "released    117 KiB"
    expect_in out "allocator   glibc (/lib/x86_64-linux-gnu/libc.so.6)"
    expect_in out "config      MEMKIT_LOG=debug (default warn)"
    expect_not_in out "MEMKIT_DISABLE"    # defaults are not shown
    expect_not_in out "MEMKIT_REPORT"
    expect_in out "warnings    1"
    expect_in out "MEMKIT_LOG='loud' is not a level"
    expect_not_in out "compactions"       # empty sections are not shown
    expect_not_in out "sites"
    ;;
minimal)
    # Only the fixed fields: the name comes from exe, absent parts are left out.
    run "$report" "$fixtures/minimal.json"
    expect_status 0
    expect_empty err
    expect_in out "program     capture, pid 77, ran 2h03m"
    expect_in out "peaks       heap 2.00 GiB, RSS 2.10 GiB, maps 0 B"
    expect_in out "allocs      5 calls, 2.00 GiB"
    expect_not_in out "by kind"
    expect_not_in out "config"
    expect_not_in out "compactions"       # 1 GiB released, but no "compaction" to say why
    ;;
sections)
    # A snapshot on another allocator with compactions and an option unknown here.
    run "$report" "$fixtures/busy.json"
    expect_status 0
    expect_in out "(a snapshot written while the process ran)"
    expect_in out "at snapshot "
    expect_in out "command     pipeline --in 'cam 0'"
    expect_in out "allocs      12,345,678 calls, 50.0 GiB (46.6 GiB requested), 2 failed"
    expect_in out "allocator 120 mmap (1.50 GiB), 100 munmap, peak 768 MiB"
    # compactions in a report older than the "compaction" object: counted
    # from the list
    expect_in out "compactions 2: 1 threshold, 1 pressure"
    expect_in out "            returned 819 MiB, 21 ms in all, longest 12 ms"
    expect_in out "  10m00s  threshold  1.40 GiB -> 900 MiB    534 MiB       12"
    expect_in out "  50m00s  pressure   1.12 GiB -> 862 MiB    286 MiB      9.0"
    expect_not_in out "more"
    expect_not_in out "releases with"     # no release_call in older reports
    expect_in out "MEMKIT_FUTURE_KNOB=7"
    # "/srv/memkit.%e.%p.json" from cwd /srv is the default; "off" is 0.
    expect_not_in out "MEMKIT_REPORT"
    expect_not_in out "MEMKIT_DISABLE"
    expect_not_in out "probes"
    ;;
json)
    for f in good compactions timeline; do
        run "$report" --json "$fixtures/$f.json"
        expect_status 0
        expect_empty err
        cp "$box/out" normalised.json
        # the same document, key order kept (at every level)
        python3 - "$fixtures/$f.json" normalised.json <<'PY' || fail "--json changed $f.json"
import json, sys
from collections import OrderedDict
a = json.load(open(sys.argv[1]), object_pairs_hook=OrderedDict)
b = json.load(open(sys.argv[2]), object_pairs_hook=OrderedDict)
sys.exit(0 if a == b else 1)
PY
        # and memkit-report reads its own output back to the same summary
        run "$report" "$fixtures/$f.json"
        sed 1d "$box/out" > first
        run "$report" normalised.json
        expect_status 0
        sed 1d "$box/out" | diff -u first - >&2 ||
            fail "the summary of the --json output of $f.json differs"
    done
    ;;
compactions)
    run "$report" "$fixtures/compactions.json"
    expect_status 0
    expect_empty err
    expect_in out "allocator   glibc (/lib/x86_64-linux-gnu/libc.so.6), releases with malloc_trim"
    expect_in out "compactions 8: 3 threshold, 2 interval, 2 pressure, 1 manual"
    expect_in out "            returned 3.21 GiB, 593 ms in all, longest 261 ms"
    expect_in out "            2 automatic ones skipped: recent ones returned little"
    expect_not_in out "not listed"        # nothing dropped
    expect_in out "                  at  reason     RSS before -> after   returned       ms"
    # the last five, oldest first, after a count of the others
    expect_in out "            ... 3 more"
    expect_not_in out "12.50 s"
    expect_in out "   2m11s  threshold  1.00 GiB -> 512 MiB    512 MiB       41"
    expect_in out "   3m20s  manual      700 MiB -> 697 MiB   3.05 MiB      4.2"
    expect_in out "   4m20s  threshold  1.10 GiB -> 450 MiB    676 MiB      103"
    expect_in out "   5m20s  pressure   1.30 GiB -> 900 MiB    431 MiB       77"
    expect_in out "   1h05m  interval    944 MiB -> 940 MiB   4.00 MiB      0.9"
    [ "$(grep -E '^ +[0-9].* -> ' "$box/out" | awk '{print $2}' | tr '\n' ' ')" = \
      "threshold manual threshold pressure interval " ] ||
        fail "the table does not end with the last five compactions in order"
    # the block fits the one-screen summary: nothing wider than 78 columns
    ! sed -n '/^compactions /,$p' "$box/out" | grep -qE '^.{79}' ||
        fail "a line of the compactions block is wider than 78 columns"
    expect_in out "released    3.17 GiB given back by free and realloc"
    expect_not_in out "MEMKIT_COMPACT_THRESHOLD"   # 500M is the default

    # fewer listed than ran (dropped): counted, and the list's last shown
    variant "$fixtures/compactions.json" dropped.json "
r['compactions'] = r['compactions'][:3]
r['compaction'].update(count=300, dropped=297)"
    run "$report" dropped.json
    expect_status 0
    expect_in out "compactions 300: 3 threshold, 2 interval, 2 pressure, 1 manual"
    expect_in out "            297 not listed in the report (it keeps the first 64 and the last 192)"
    expect_in out "            ... 297 more"
    expect_in out "  12.50 s  threshold  1.20 GiB -> 359 MiB    870 MiB      261"
    # five or fewer: no "more" line
    variant "$fixtures/compactions.json" five.json "
r['compactions'] = r['compactions'][:5]
r['compaction'].update(count=5, backoff_skipped=0)
r['compaction']['by_reason'] = {'threshold': 2, 'interval': 1, 'pressure': 1, 'manual': 1}"
    run "$report" five.json
    expect_status 0
    expect_in out "compactions 5: 2 threshold, 1 interval, 1 pressure, 1 manual"
    expect_in out "  12.50 s  threshold"
    expect_in out "   3m20s  manual"
    expect_not_in out "more"
    expect_not_in out "skipped"
    # a reason this memkit-report does not know is shown, not refused
    variant "$fixtures/compactions.json" future.json "
r['compactions'][-1]['reason'] = 'idle'
r['compaction']['by_reason']['interval'] = 1
r['compaction']['by_reason']['idle'] = 1"
    run "$report" future.json
    expect_status 0
    expect_in out "compactions 8: 3 threshold, 1 interval, 2 pressure, 1 manual, 1 idle"
    expect_in out "   1h05m  idle        944 MiB -> 940 MiB"
    # an allocator without a release call
    variant "$fixtures/compactions.json" none.json "r['allocator']['release_call'] = 'none'"
    run "$report" none.json
    expect_status 0
    expect_in out "allocator   glibc (/lib/x86_64-linux-gnu/libc.so.6), no release call"
    ;;
no-compaction)
    # much released and no compaction: one line on why that may be
    no_compaction under.json 314572800
    run "$report" under.json
    expect_status 0
    expect_empty err
    expect_in out "compactions none ran: 300 MiB released, under MEMKIT_COMPACT_THRESHOLD=500M"
    [ "$(grep -c 'compaction\|none ran' "$box/out")" = 1 ] ||
        fail "more than one line about compactions"
    no_compaction off.json 1073741824 "r['config']['MEMKIT_COMPACT_THRESHOLD'] = '0'"
    run "$report" off.json
    expect_in out "compactions none ran: 1.00 GiB released, MEMKIT_COMPACT_THRESHOLD is off"
    no_compaction skipped.json 1073741824 "r['compaction']['backoff_skipped'] = 3"
    run "$report" skipped.json
    expect_in out "compactions none ran: 1.00 GiB released, 3 skipped (recent ones returned little)"
    no_compaction nothread.json 1073741824 "r['compaction']['monitor_thread'] = False"
    run "$report" nothread.json
    expect_in out "compactions none ran: 1.00 GiB released, but memkit's monitor thread never started"
    no_compaction over.json 1073741824
    run "$report" over.json
    expect_in out "compactions none ran: 1.00 GiB released, over MEMKIT_COMPACT_THRESHOLD=500M;"
    expect_in out "            the process may have ended before the monitor thread acted"
    # a small threshold makes a small release worth a word
    no_compaction small.json 33554432 "r['config']['MEMKIT_COMPACT_THRESHOLD'] = '16M'"
    run "$report" small.json
    expect_in out "compactions none ran: 32.0 MiB released, over MEMKIT_COMPACT_THRESHOLD=16M;"
    # without the option in the config: no comparison
    no_compaction nothreshold.json 1073741824 "del r['config']['MEMKIT_COMPACT_THRESHOLD']"
    run "$report" nothreshold.json
    expect_status 0
    expect_in out "compactions none ran: 1.00 GiB released;"
    expect_not_in out "MEMKIT_COMPACT_THRESHOLD"
    # little released: nothing to say
    no_compaction little.json 1048576
    run "$report" little.json
    expect_status 0
    expect_not_in out "compaction"
    expect_not_in out "none ran"
    ;;
bad-compaction)
    run "$report" "$fixtures/bad_compaction.json"
    expect_refusal "$fixtures/bad_compaction.json" \
        'malformed memkit report: "compactions[4].rss_after" is a string, expected a non-negative integer'
    # each wrong type is refused in one line: CODE|REASON
    while IFS='|' read -r code why; do
        variant "$fixtures/compactions.json" bad.json "$code"
        run "$report" bad.json
        expect_refusal bad.json "$why"
    done <<'CASES'
r['compaction'] = 3|malformed memkit report: "compaction" is an integer, expected an object
r['compaction']['count'] = '8'|malformed memkit report: "compaction.count" is a string, expected a non-negative integer
r['compaction']['returned_bytes'] = -1|malformed memkit report: "compaction.returned_bytes" is a negative integer, expected a non-negative integer
r['compaction']['seconds'] = None|malformed memkit report: "compaction.seconds" is null, expected a number
r['compaction']['max_seconds'] = '0.2'|malformed memkit report: "compaction.max_seconds" is a string, expected a number
r['compaction']['by_reason'] = [2, 1]|malformed memkit report: "compaction.by_reason" is an array, expected an object
r['compaction']['by_reason']['pressure'] = 1.5|malformed memkit report: "compaction.by_reason" "pressure" is a real number, expected a non-negative integer
r['compaction']['backoff_skipped'] = True|malformed memkit report: "compaction.backoff_skipped" is a boolean, expected a non-negative integer
r['compaction']['dropped'] = {}|malformed memkit report: "compaction.dropped" is an object, expected a non-negative integer
r['compaction']['monitor_thread'] = 1|malformed memkit report: "compaction.monitor_thread" is an integer, expected true or false
r['compaction']['released_bytes'] = 1.0|malformed memkit report: "compaction.released_bytes" is a real number, expected a non-negative integer
r['compaction']['released_since_compact'] = '1M'|malformed memkit report: "compaction.released_since_compact" is a string, expected a non-negative integer
r['allocator']['release_call'] = 0|malformed memkit report: "allocator.release_call" is an integer, expected a string
r['compactions'][0] = 'threshold'|malformed memkit report: "compactions[0]" is a string, expected an object
r['compactions'][7]['t_s'] = '3920.5'|malformed memkit report: "compactions[7].t_s" is a string, expected a number
r['compactions'][2]['reason'] = 2|malformed memkit report: "compactions[2].reason" is an integer, expected a string
r['compactions'][1]['rss_before'] = -5|malformed memkit report: "compactions[1].rss_before" is a negative integer, expected a non-negative integer
r['compactions'][3]['seconds'] = [0.1]|malformed memkit report: "compactions[3].seconds" is an array, expected a number
r['compactions'][5]['returned_bytes'] = 0.5|malformed memkit report: "compactions[5].returned_bytes" is a real number, expected a non-negative integer
r['compactions'][6]['released_before'] = False|malformed memkit report: "compactions[6].released_before" is a boolean, expected a non-negative integer
del r['compactions'][4]['reason']|incomplete memkit report: "compactions[4].reason" is missing
r['compaction']['by_reason']['a\x01b'] = 'x'|malformed memkit report: "compaction.by_reason" "a\u0001b" is a string
CASES
    # absent is fine: a report from before the defragmenter, entries
    # without the later fields
    variant "$fixtures/compactions.json" old.json "
del r['compaction'], r['allocator']['release_call']
for e in r['compactions']:
    del e['returned_bytes'], e['released_before']"
    run "$report" old.json
    expect_status 0
    expect_empty err
    expect_in out "compactions 8: 3 threshold, 2 interval, 2 pressure, 1 manual"
    expect_in out "            returned 3.21 GiB, 593 ms in all, longest 261 ms"
    expect_in out "   1h05m  interval    944 MiB -> 940 MiB   4.00 MiB      0.9"
    expect_not_in out "releases with"
    # a compaction after which RSS grew returned nothing, not a huge number
    variant "$fixtures/compactions.json" grew.json "
e = r['compactions'][-1]; del e['returned_bytes']; e['rss_after'] = e['rss_before'] + 4096"
    run "$report" grew.json
    expect_status 0
    expect_in out "   1h05m  interval    944 MiB -> 944 MiB        0 B      0.9"
    ;;
wrong-schema)
    run "$report" "$fixtures/wrong_schema.json"
    expect_refusal "$fixtures/wrong_schema.json" \
        'not a memkit report (schema "memkit-report/2", expected "memkit-report/1")'
    ;;
no-schema)
    run "$report" "$fixtures/no_schema.json"
    expect_refusal "$fixtures/no_schema.json" 'not a memkit report (no "schema"'
    run "$report" "$fixtures/array.json"
    expect_refusal "$fixtures/array.json" 'not a memkit report (the JSON is an array'
    ;;
missing-section)
    run "$report" "$fixtures/missing_section.json"
    expect_refusal "$fixtures/missing_section.json" 'incomplete memkit report: "peak" is missing'
    run "$report" "$fixtures/bad_type.json"
    expect_refusal "$fixtures/bad_type.json" \
        'malformed memkit report: "totals.free_calls" is a string, expected a non-negative integer'
    ;;
truncated)
    run "$report" "$fixtures/truncated.json"
    expect_refusal "$fixtures/truncated.json" 'truncated JSON at line 35:'
    # cut anywhere: always refused, never a summary
    size=$(wc -c < "$fixtures/good.json")
    for n in 1 100 500 1000 1500 2000 $((size - 3)); do
        head -c "$n" "$fixtures/good.json" > cut.json
        run "$report" cut.json
        expect_status 2
        expect_lines err 1
        expect_empty out
    done
    ;;
not-json)
    run "$report" "$fixtures/not_json.json"
    expect_refusal "$fixtures/not_json.json" 'not valid JSON at line 1, column 3:'
    : > empty.json
    run "$report" empty.json
    expect_refusal empty.json 'empty file, not a memkit report'
    head -c 256 /bin/sh > binary.json
    run "$report" binary.json
    expect_refusal binary.json 'not valid JSON'
    run "$report" missing.json
    expect_refusal missing.json 'cannot open: No such file or directory'
    ;;
no-report)
    run "$report"
    expect_status 2
    expect_empty out
    expect_lines err 1
    expect_in err "memkit-report: no report (memkit.*.json) in the current folder"
    # names that are not reports do not count
    cp "$fixtures/good.json" other.json
    cp "$fixtures/good.json" memkit.sort.1.json.2.3.tmp
    run "$report"
    expect_status 2
    ;;
newest)
    for pid in 11 22 33; do
        sed "s/\"pid\": 4242/\"pid\": $pid/" "$fixtures/good.json" > "memkit.sort.$pid.json"
    done
    touch -d '2026-01-01 10:00' memkit.sort.11.json
    touch -d '2026-01-01 12:00' memkit.sort.22.json   # the newest
    touch -d '2026-01-01 11:00' memkit.sort.33.json
    cp "$fixtures/good.json" newer-but-not-a-report-name.json
    run "$report"
    expect_status 0
    expect_in out "report      memkit.sort.22.json"
    expect_in out "pid 22 "
    # the newest is refused when broken, not skipped for an older one
    cp "$fixtures/truncated.json" memkit.sort.44.json
    run "$report"
    expect_refusal memkit.sort.44.json 'truncated JSON'
    ;;
usage)
    run "$report" --help
    expect_status 0
    expect_in out "usage: memkit-report"
    expect_in out "--timeline"
    run "$report" --version
    expect_status 0
    expect_match out '^memkit-report [0-9]+\.[0-9]+\.[0-9]+$'
    run "$report" --top 3 "$fixtures/good.json"
    expect_status 0
    run "$report" "$fixtures/good.json" --top=25
    expect_status 0
    for bad in 0 -1 abc 3x ''; do
        run "$report" --top "$bad" "$fixtures/good.json"
        expect_status 2
        expect_in err "memkit-report: --top wants a positive whole number"
    done
    run "$report" --top
    expect_status 2
    expect_in err "--top needs a value"
    run "$report" --frobnicate
    expect_status 2
    expect_in err "memkit-report: unknown option '--frobnicate'"
    expect_in err "usage: memkit-report"
    run "$report" a.json b.json
    expect_status 2
    expect_empty out
    ;;
probes)
    # the probes and checkpoints tables, most time first
    variant "$fixtures/good.json" probes.json "
r['probes'] = [
  {'label': 'load_model', 'level': 'high', 'count': 3, 'seconds_total': 0.5, 'seconds_max': 0.3,
   'growth_total': 104857600, 'growth_max': 52428800, 'peak_max': 209715200, 'rss_max': 0},
  {'label': 'parse\u0007file', 'level': 'low', 'count': 1200, 'seconds_total': 2.0,
   'seconds_max': 0.01, 'growth_total': -4096, 'growth_max': 0, 'peak_max': 0, 'rss_max': 0}]
r['checkpoints'] = [
  {'label': 'after_load', 'count': 2, 'first_t_s': 1.5, 'last_t_s': 9.25, 'rss_last': 104857600,
   'rss_min': 52428800, 'rss_max': 157286400, 'heap_last': 1024}]"
    run "$report" probes.json
    expect_status 0
    expect_in out "probes      2 labels"
    expect_in out "parse?file"
    expect_in out "load_model"
    expect_in out "-4.00 KiB"
    expect_in out "checkpoints 1 label"
    expect_in out "after_load"
    expect_in out "150 MiB"
    [ "$(grep -nF 'parse?file' "$box/out" | cut -d: -f1)" -lt "$(grep -nF 'load_model' "$box/out" | cut -d: -f1)" ] ||
        fail "probes not sorted by total time"
    # wrong types are refused: CODE|REASON
    while IFS='|' read -r code why; do
        variant probes.json bad.json "$code"
        run "$report" bad.json
        expect_refusal bad.json "$why"
    done <<'CASES'
r['probes'][0] = 'x'|malformed memkit report: "probes[0]" is a string, expected an object
r['probes'][1]['count'] = -1|malformed memkit report: "probes[1].count" is a negative integer, expected a non-negative integer
r['probes'][0]['growth_total'] = '1M'|malformed memkit report: "probes[0].growth_total" is a string, expected a number
r['checkpoints'] = {}|malformed memkit report: "checkpoints" is an object, expected an array
r['checkpoints'][0]['rss_min'] = 1.5|malformed memkit report: "checkpoints[0].rss_min" is a real number, expected a non-negative integer
CASES
    ;;
timeline)
    # --timeline: at most 24 rows, the first and last points and every event
    # kept, a compaction's begin and end one row
    f=$fixtures/timeline.json
    run "$report" --timeline "$f"
    expect_status 0
    expect_empty err
    expect_in out "timeline: 159 points to 33.02 s, resolution 80 ms; 24 rows: events and each stretch's highest RSS"
    expect_match out '^ +time +heap +maps +RSS +RSS, full bar 1.03 GiB$'
    sed 1,2d "$box/out" > rows
    [ "$(wc -l < rows)" -le 24 ] && [ "$(wc -l < rows)" -ge 20 ] ||
        fail "$(wc -l < rows) rows, expected 20 to 24"
    ! grep -qE '^.{101}' "$box/out" || fail "a line is wider than 100 columns"
    head -1 rows | grep -qE '^ 2\.0 ms +0 B +0 B +1\.50 MiB  #$' || fail "the first point is not the first row"
    tail -1 rows | grep -qE '^33\.02 s +2\.00 MiB +0 B +168 MiB  #+ +exit$' || fail "the last row is not the exit"
    # the begin and end of a compaction merged, with RSS before -> after
    expect_match out '^12\.50 s +40\.0 MiB +64\.0 MiB +1\.02 GiB  #{26}  compaction  1\.02 GiB -> 108 MiB$'
    # also when a point was taken between them
    expect_match out '^25\.00 s +96\.0 MiB +64\.0 MiB +271 MiB  #+ +compaction  271 MiB -> 168 MiB$'
    [ "$(grep -c compaction rows)" = 2 ] || fail "expected two compaction rows"
    expect_not_in out "begins"
    expect_not_in out "ends"
    # the highest RSS is shown, with the full bar
    expect_match out '^12\.32 s +958 MiB +64\.0 MiB +1\.03 GiB  #{26}$'
    # rows in time order, bars as long as RSS allows
    python3 - rows <<'PY' || fail "rows out of order or bars not scaled"
import re, sys
units = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
def sec(v, u):
    return float(v) * {"us": 1e-6, "ms": 1e-3, "s": 1}[u]
last = -1
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d.]+) (us|ms|s)\s+\S+ \S+\s+\S+ \S+\s+([\d.]+) (\w+)  (#*)", line)
    assert m, line
    t = sec(m[1], m[2])
    assert t >= last, line
    last = t
    rss = float(m[3]) * units[m[4]]
    want = rss * 26 / (1.03 * (1 << 30))
    assert abs(len(m[5]) - want) <= 1.5, (line, want)
PY
    # few points: every one a row
    variant "$f" few.json "r['timeline'] = r['timeline'][:3] + r['timeline'][-2:]"
    run "$report" --timeline few.json
    expect_status 0
    expect_in out "timeline: 5 points to 33.02 s, resolution 80 ms; 5 rows"
    expect_not_in out "stretch"
    [ "$(sed 1,2d "$box/out" | wc -l)" = 5 ] || fail "expected 5 rows"
    # a compaction cut by the end of a snapshot; an event from a later memkit
    variant "$f" cut.json "
i = next(i for i, p in enumerate(r['timeline']) if p.get('event') == 'compaction_begin')
r['kind'] = 'snapshot'; r['timeline'] = r['timeline'][:i + 1]
r['timeline'][1]['event'] = 'warn\u0007'"
    run "$report" --timeline cut.json
    expect_status 0
    expect_match out '  compaction begins$'
    expect_match out '  warn\?$'
    expect_not_in out "exit"
    # more events than rows: the rows stay bounded, and the rest is counted
    variant "$f" many.json "
tl = []
for k in range(60):
    for ev, rss in (('compaction_begin', 900 << 20), ('compaction_end', 100 << 20)):
        tl.append({'t_s': k + 0.5, 'heap': 1 << 20, 'maps': 0, 'rss': rss, 'event': ev})
    tl.append({'t_s': k + 0.9, 'heap': 1 << 20, 'maps': 0, 'rss': 500 << 20})
r['timeline'] = tl"
    run "$report" --timeline many.json
    expect_status 0
    [ "$(grep -c '^ *[0-9]' "$box/out")" = 24 ] || fail "expected 24 rows"
    expect_in out "... 37 more events not shown (memkit-report --json lists every point)"
    # one output at a time
    run "$report" --timeline --json "$f"
    expect_status 2
    expect_empty out
    expect_in err "choose one"
    ;;
timeline-summary)
    # the summary says one line about the timeline, within 78 columns
    run "$report" "$fixtures/timeline.json"
    expect_status 0
    expect_empty err
    expect_in out "timeline    159 points, RSS 1.50 MiB -> 1.03 GiB peak -> 168 MiB (--timeline)"
    [ "$(grep -c '^timeline' "$box/out")" = 1 ] || fail "more than one timeline line"
    expect_not_in out "entries"
    [ "$(wc -l < "$box/out")" -le 24 ] || fail "the summary is longer than a screen"
    ! grep -E '^timeline' "$box/out" | grep -qE '^.{79}' ||
        fail "the timeline line is wider than 78 columns"
    # the widest figures still fit: what does not is left out, the count stays
    variant "$fixtures/timeline.json" wide.json "
p = r['timeline'][0]
r['timeline'] = [dict(p, t_s=i * 0.01, rss=(19 << 29) + i) for i in range(1024)]
r['timeline'][0]['rss'] = 3 << 29"
    run "$report" wide.json
    expect_status 0
    expect_in out "timeline    1,024 points, RSS 1.50 GiB -> 9.50 GiB peak -> 9.50 GiB"
    expect_not_in out "(--timeline)"
    ! grep -E '^timeline' "$box/out" | grep -qE '^.{79}' ||
        fail "the timeline line is wider than 78 columns"
    # the launcher's summary has it too (the same code): checked in test_run.sh
    ;;
no-timeline)
    # a report from before the timeline: an empty list, no resolution
    run "$report" --timeline "$fixtures/good.json"
    expect_status 0
    expect_empty err
    expect_lines out 1
    expect_in out "timeline: no points (the report was written before memkit kept one)"
    run "$report" "$fixtures/good.json"
    expect_status 0
    expect_not_in out "timeline"
    # a resolution but no points
    variant "$fixtures/good.json" empty.json "r['timeline_resolution_s'] = 0.01"
    run "$report" --timeline empty.json
    expect_status 0
    expect_lines out 1
    expect_in out "timeline: no points in this report"
    ;;
bad-timeline)
    run "$report" --timeline "$fixtures/bad_timeline.json"
    expect_refusal "$fixtures/bad_timeline.json" \
        'malformed memkit report: "timeline[3].rss" is a string, expected a non-negative integer'
    run "$report" "$fixtures/bad_timeline.json"
    expect_status 2
    # each wrong type is refused in one line: CODE|REASON
    while IFS='|' read -r code why; do
        variant "$fixtures/timeline.json" bad.json "$code"
        run "$report" bad.json
        expect_refusal bad.json "$why"
    done <<'CASES'
r['timeline'] = {}|malformed memkit report: "timeline" is an object, expected an array
r['timeline'][0] = [0.1, 0, 0, 0]|malformed memkit report: "timeline[0]" is an array, expected an object
r['timeline'][5]['t_s'] = '1.5'|malformed memkit report: "timeline[5].t_s" is a string, expected a number
r['timeline'][6]['heap'] = -1|malformed memkit report: "timeline[6].heap" is a negative integer, expected a non-negative integer
r['timeline'][7]['maps'] = None|malformed memkit report: "timeline[7].maps" is null, expected a non-negative integer
r['timeline'][8]['rss'] = 1.5|malformed memkit report: "timeline[8].rss" is a real number, expected a non-negative integer
r['timeline'][9]['event'] = 1|malformed memkit report: "timeline[9].event" is an integer, expected a string
del r['timeline'][10]['rss']|incomplete memkit report: "timeline[10].rss" is missing
del r['timeline'][0]['t_s']|incomplete memkit report: "timeline[0].t_s" is missing
r['timeline_resolution_s'] = '10ms'|malformed memkit report: "timeline_resolution_s" is a string, expected a number
CASES
    # an event this memkit-report does not know is accepted
    variant "$fixtures/timeline.json" future.json "r['timeline'][3]['event'] = 'oom_kill'"
    run "$report" future.json
    expect_status 0
    ;;
*)
    fail "unknown case $case_"
    ;;
esac
exit 0
