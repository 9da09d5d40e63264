#!/usr/bin/env bash
# memkit-report's call site views (--top tables, --folded, MEMKIT_PROBE_FUNCS)
# on reports made from fixtures/good.json with a "sites" and "modules"
# section added. The resolvable module is memkit-report itself: the frame
# offsets are its own functions' addresses (from nm) plus one, as a return
# address would be.
#   test_sites.sh CASE MEMKIT_REPORT FIXTURES
set -uo pipefail
case_=$1 report=$2 fixtures=$3
. "$(dirname "$0")/lib.sh"
report=$(abs "$report") fixtures=$(abs "$fixtures")

addr_of() {
    local hex
    hex=$(nm "$report" | awk -v s="$1" '$3 == s { print $1; exit }')
    [ -n "$hex" ] && echo $(( 16#$hex + 1 ))
}
build_id=$(readelf -n "$report" | awk '/Build ID/ { print $3; exit }')
main_off=$(addr_of main)
help_off=$(addr_of mkt_summary_print)
[ -n "$main_off" ] && [ -n "$help_off" ] || { echo "SKIP: memkit-report has no symbols"; exit 77; }

# make OUT [BUILD_ID] [PROBE_FUNCS]: the fixture with three sites.
make() {
    python3 - "$fixtures/good.json" "$1" "$report" "${2-$build_id}" "$main_off" "$help_off" "${3:-}" <<'PY' || fail "cannot write $1"
import json, sys
src, out, exe, bid, main_off, help_off, funcs = sys.argv[1:8]
r = json.load(open(src))
r['config']['MEMKIT_SAMPLE'] = '512K'
if funcs:
    r['config']['MEMKIT_PROBE_FUNCS'] = funcs
m, h = int(main_off), int(help_off)
def site(frames, b, c, live, peak):
    return {"frames": [{"module": mi, "offset": o} for mi, o in frames],
            "alloc_bytes_est": b, "alloc_calls_est": c, "live_bytes_est": live,
            "peak_live_bytes_est": peak, "samples": 7}
r['sites'] = [
    site([(0, h), (0, m)], 3 << 30, 10, 0, 1 << 20),
    site([(1, 0x1234), (0, m)], 1 << 20, 5000, 4096, 0),
    site([(0, h), (0, m)], 1 << 30, 3, 0, 0),      # same names: merged when folded
    dict(site([], 512, 1, 0, 0), other=True),
]
r['modules'] = [{"path": exe, "build_id": bid or None, "base": 93824992231424},
                {"path": "/nonexistent/libgone.so.1", "build_id": "00ff", "base": 140737354006528}]
json.dump(r, open(out, "w"), indent=1)
PY
}

case $case_ in
top)
    make sites.json
    run "$report" --sites --top 2 sites.json
    expect_status 0
    expect_empty err
    expect_in out "call sites: sampled estimates (one sample per 512K allocated on average), 4 sites"
    expect_in out "top call sites by bytes allocated"
    expect_match out "1\.  +3\.00 GiB +10 calls +live +0 B +mkt_summary_print \(report_summary\.c:[0-9]+\)"
    expect_match out "<- main \(memkit_report\.c:[0-9]+\)"
    expect_in out "top call sites by calls"
    expect_match out "1\.  +1\.00 MiB +5,000 calls +live +4\.00 KiB +libgone\.so\.1\+0x1234"
    expect_in out "top call sites by bytes live at exit (leak suspects)"
    expect_in out "top call sites by bytes live at the heap's peak"
    [ "$(grep -c '^ *3\. ' "$box/out")" = 0 ] || fail "--top 2 printed a third row"
    ;;
summary)
    # the summary's part: two tables, one line a site, on one screen
    make sites.json
    run "$report" --top 2 sites.json
    expect_status 0
    expect_empty err
    expect_in out "call sites: 4, sampled estimates (one sample per 512K allocated); --sites has more"
    expect_match out "^   1\. +3\.00 GiB +10 calls +live +0 B  mkt_summary_print \(report_summary\.c:[0-9]+\) <- main$"
    expect_match out "^   1\. +1\.00 MiB +5,000 calls +live +4\.00 KiB  libgone\.so\.1\+0x1234 <- main$"
    expect_in out "top call sites by bytes live at exit (leak suspects)"
    expect_not_in out "top call sites by calls"
    expect_not_in out "heap's peak"
    expect_not_in out "                           <- "
    [ "$(grep -c '^ *3\. ' "$box/out")" = 0 ] || fail "--top 2 printed a third row"
    # 100 sites of 40 frames at the default --top: one screen, 100 columns
    python3 - sites.json many.json <<'PY' || fail "cannot write many.json"
import json, sys
r = json.load(open(sys.argv[1]))
s = r['sites'][0]
r['sites'] = [dict(s, frames=s['frames'] * 20, alloc_bytes_est=i + 1, live_bytes_est=i)
              for i in range(100)]
json.dump(r, open(sys.argv[2], 'w'))
PY
    run "$report" many.json
    expect_status 0
    lines=$(wc -l < "$box/out")
    [ "$lines" -le 50 ] || fail "the summary takes $lines lines"
    ! grep -qE '^.{101}' "$box/out" || fail "a line is wider than 100 columns"
    expect_match out "^   1\. +100 B +10 calls +live +99 B  mkt_summary_print \(report_summary\.c:[0-9]+\) <- main \.\.\.$"
    ;;
stale-build)
    # A file whose build id is not the report's is not trusted.
    make sites.json 0123456789abcdef
    run "$report" sites.json
    expect_status 0
    expect_in out "memkit-report+0x"
    expect_not_in out "mkt_summary_print (report_summary.c"
    ;;
folded)
    make sites.json
    run "$report" --folded sites.json
    expect_status 0
    expect_empty err
    expect_lines out 3
    expect_in out "main;mkt_summary_print $(( (3 << 30) + (1 << 30) ))"
    expect_in out "main;libgone.so.1+0x1234 $((1 << 20))"
    expect_in out "[other stacks] 512"
    ;;
folded-json)
    make sites.json
    run "$report" --folded --json sites.json
    expect_status 2
    expect_empty out
    expect_in err "choose one"
    ;;
probe-funcs)
    make sites.json "" "main,mkt_summary_print,absent_fn"
    run "$report" sites.json
    expect_status 0
    expect_in out "probe functions (MEMKIT_PROBE_FUNCS"
    expect_match out "^  main +4\.00 GiB +5,013 calls"
    expect_match out "^  mkt_summary_print +4\.00 GiB +13 calls"
    expect_match out "^  absent_fn +0 B +0 calls"
    ;;
no-sites)
    run "$report" --folded "$fixtures/good.json"
    expect_status 0
    expect_empty out
    run "$report" "$fixtures/good.json"
    expect_not_in out "call sites"
    ;;
*)
    fail "unknown case $case_"
    ;;
esac
exit 0
