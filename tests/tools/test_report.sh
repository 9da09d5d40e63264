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
    expect_in out "compactions 2 entries"
    expect_in out "MEMKIT_FUTURE_KNOB=7"
    # "/srv/memkit.%e.%p.json" from cwd /srv is the default; "off" is 0.
    expect_not_in out "MEMKIT_REPORT"
    expect_not_in out "MEMKIT_DISABLE"
    expect_not_in out "probes"
    ;;
json)
    run "$report" --json "$fixtures/good.json"
    expect_status 0
    expect_empty err
    cp "$box/out" normalised.json
    # the same document, key order kept
    python3 - "$fixtures/good.json" normalised.json <<'PY' || fail "--json changed the document"
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
sys.exit(0 if a == b and list(a) == list(b) else 1)
PY
    # and memkit-report reads its own output back to the same summary
    run "$report" "$fixtures/good.json"
    sed 1d "$box/out" > first
    run "$report" normalised.json
    expect_status 0
    sed 1d "$box/out" | diff -u first - >&2 || fail "the summary of the --json output differs"
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
*)
    fail "unknown case $case_"
    ;;
esac
exit 0
