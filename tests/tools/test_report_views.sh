#!/usr/bin/env bash
# memkit-report's views beyond the summary: --list, --diff, --prom, --svg,
# --top with each, and their refusals; reports made from fixtures/ with
# Python. Call sites point into memkit-report itself (its functions'
# addresses from nm, plus one, as return addresses are), so that libdw
# names them.
#   test_report_views.sh CASE MEMKIT_REPORT FIXTURES METRICS_DOC
set -uo pipefail
case_=$1 report=$2 fixtures=$3 metrics_doc=$4
. "$(dirname "$0")/lib.sh"
report=$(abs "$report") fixtures=$(abs "$fixtures") metrics_doc=$(abs "$metrics_doc")

# A refusal: status 2, nothing on stdout, one line on stderr holding TEXT.
expect_refusal() {
    expect_status 2
    expect_empty out
    expect_lines err 1
    expect_in err "$1"
}

addr_of() {
    local hex
    hex=$(nm "$report" | awk -v s="$1" '$3 == s { print $1; exit }')
    [ -n "$hex" ] && echo $(( 16#$hex + 1 ))
}
build_id=$(readelf -n "$report" | awk '/Build ID/ { print $3; exit }')

# variant SRC OUT CODE: OUT is the report SRC after the Python CODE, which
# edits it as the dict r. Helpers for CODE: site(frames, bytes, calls,
# live) with frames as (module, offset) pairs; fn(NAME, EXTRA) the offset
# of one of memkit-report's functions; me the module entry of
# memkit-report, gone(PATH) one of a file that does not exist.
variant() {
    python3 - "$1" "$2" "$3" "$report" "$build_id" <<'PY' || fail "cannot write $2"
import json, subprocess, sys
src, out, code, exe, bid = sys.argv[1:6]
r = json.load(open(src))
syms = {}
for line in subprocess.run(['nm', exe], capture_output=True, text=True).stdout.splitlines():
    p = line.split()
    if len(p) == 3 and p[1] in 'tT':
        syms.setdefault(p[2], int(p[0], 16))
def fn(name, extra=1):
    return syms[name] + extra
def site(frames, b, c=1, live=0):
    return {"frames": [{"module": m, "offset": o} for m, o in frames],
            "alloc_bytes_est": b, "alloc_calls_est": c, "live_bytes_est": live,
            "peak_live_bytes_est": 0, "samples": 3}
me = {"path": exe, "build_id": bid or None, "base": 93824992231424}
def gone(path):
    return {"path": path, "build_id": "00ff", "base": 140737354006528}
exec(code)
json.dump(r, open(out, "w"), indent=1)
PY
}

# A python3 that has prometheus_client (Debian: python3-prometheus-client).
om_python() {
    local py
    for py in python3 /usr/bin/python3; do
        if "$py" -c 'import prometheus_client.openmetrics.parser' 2>/dev/null; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

# check_prom FILE: promtool and, where there is one, the strict OpenMetrics
# parser accept FILE; every sample has program and pid.
check_prom() {
    command -v promtool >/dev/null || { echo "SKIP: no promtool (Debian: prometheus)"; exit 77; }
    promtool check metrics < "$1" > "$box/promtool" 2>&1 ||
        { cat "$box/promtool" >&2; fail "promtool check metrics refuses $1"; }
    local py
    if py=$(om_python); then
        "$py" - "$1" <<'PY' || fail "the OpenMetrics parser refuses $1"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
n = 0
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        assert 'program' in s.labels and 'pid' in s.labels, s
        n += 1
assert n > 0
PY
    else
        echo "note: no prometheus_client for python3; OpenMetrics parser check skipped"
    fi
}

case $case_ in
list)
    variant "$fixtures/good.json" memkit.sort.11.json "r['process']['pid'] = 11"
    variant "$fixtures/timeline.json" memkit.tiler.22.json "r['kind'] = 'snapshot'"
    variant "$fixtures/good.json" 'memkit.we"ird.33.json' "
r['process']['pid'] = 33; r['process']['name'] = 'tab\there'"
    cp "$fixtures/truncated.json" memkit.cut.44.json
    cp "$fixtures/wrong_schema.json" memkit.other.55.json
    : > memkit.empty.66.json
    mkdir memkit.folder.77.json          # not a file: not listed
    cp "$fixtures/good.json" other.json  # not a report name: not listed
    touch -d '2026-01-01 10:00' memkit.sort.11.json
    touch -d '2026-01-01 12:00' memkit.tiler.22.json
    touch -d '2026-01-01 11:00' 'memkit.we"ird.33.json'
    touch -d '2026-01-01 09:00' memkit.cut.44.json
    touch -d '2026-01-01 08:00' memkit.other.55.json
    touch -d '2026-01-01 08:00' memkit.empty.66.json   # same time: the greater name first
    run "$report" --list
    expect_status 0
    expect_empty err
    expect_lines out 7
    expect_match out '^report +program +pid +started \(UTC\) +ran +heap peak +RSS peak +kind$'
    [ "$(awk 'NR > 1 { print $1 }' "$box/out" | tr '\n' ' ')" = \
      'memkit.tiler.22.json memkit.we"ird.33.json memkit.sort.11.json memkit.cut.44.json memkit.other.55.json memkit.empty.66.json ' ] ||
        fail "not newest first"
    expect_match out '^memkit\.tiler\.22\.json +tiler +6160 +2026-11-22 13:50:01 +33\.02 s +958 MiB +1\.03 GiB +snapshot$'
    expect_match out '^memkit\.sort\.11\.json +sort +11 +2026-11-22 13:50:01 +1\.53 s +4\.88 KiB +4\.00 MiB +final$'
    expect_match out '^memkit\.we"ird\.33\.json +tab\?here +33 '
    expect_match out '^memkit\.cut\.44\.json +unreadable: truncated JSON at line 35'
    expect_match out '^memkit\.other\.55\.json +unreadable: not a memkit report \(schema "memkit-report/2"'
    expect_match out '^memkit\.empty\.66\.json +unreadable: empty file, not a memkit report$'
    expect_not_in out other.json
    expect_not_in out folder
    # the columns line up: each readable line has its kind where the head has "kind"
    col=$(head -1 "$box/out" | awk '{ print index($0, "kind") }')
    [ "$(grep -v unreadable "$box/out" | cut -c"$col"- | tr '\n' ' ')" = "kind snapshot final final " ] ||
        fail "the columns do not line up"
    # a report without "kind", with a start time not in ISO form, still gets its line
    variant "$fixtures/minimal.json" memkit.capture.77.json "r['process']['start'] = 'yesterday'"
    run "$report" --list --top 3
    expect_status 0
    expect_match out '^memkit\.capture\.77\.json +capture +77 +\? +2h03m +2\.00 GiB +2\.10 GiB +\?$'
    ;;
list-empty)
    run "$report" --list
    expect_status 0
    expect_empty out
    expect_lines err 1
    expect_in err "memkit-report: no report (memkit.*.json) in the current folder"
    ;;
list-usage)
    run "$report" --list memkit.a.1.json
    expect_status 2
    expect_empty out
    expect_in err "memkit-report: --list lists the current folder and takes no report ('memkit.a.1.json')"
    run "$report" --list --prom
    expect_status 2
    expect_in err "memkit-report: --list and --prom are different outputs; choose one"
    # a folder memkit-report cannot read (not for root, who reads anything)
    if [ "$(id -u)" != 0 ]; then
        mkdir locked && chmod 000 locked && cd locked 2>/dev/null || true
        if [ "$(basename "$PWD")" = locked ]; then
            run "$report" --list
            expect_status 2
            expect_in err "memkit-report: cannot read the current folder"
        fi
    fi
    ;;
diff)
    variant "$fixtures/compactions.json" old.json "
r['sites'] = [site([(0, fn('mkt_summary_print')), (0, fn('main'))], 3 << 30, 10),
              site([(1, 0x1234), (0, fn('main'))], 1 << 20, 5000),
              site([(0, fn('mkt_count')), (0, fn('main'))], 100 << 20, 7),
              site([], 4096)]
r['modules'] = [me, gone('/nonexistent/libgone.so.1')]"
    # the new run: other offsets in the same functions (a rebuild), one
    # site grown, one gone, one new, more peak RSS and fewer compactions
    variant "$fixtures/compactions.json" new.json "
r['process']['pid'] = 6000
r['peak']['rss_bytes'] *= 2
r['totals']['alloc_calls'] += 1000
r['compactions'] = r['compactions'][:5]
r['compaction']['count'] = 5
r['compaction']['by_reason'] = {'threshold': 4, 'interval': 0, 'pressure': 1, 'manual': 0}
r['sites'] = [site([(0, fn('mkt_summary_print', 9)), (0, fn('main', 30))], 4 << 30, 12),
              site([(1, 0x1234), (0, fn('main', 50))], 1 << 20, 5000),
              site([(0, fn('mkt_bytes')), (0, fn('main'))], 64 << 20, 2),
              site([], 4096)]
r['modules'] = [me, gone('/nonexistent/libgone.so.1')]"
    run "$report" --diff old.json new.json
    expect_status 0
    expect_empty err
    expect_in out "old  old.json: imgd, pid 5150, ran 1h07m"
    expect_in out "new  new.json: imgd, pid 6000, ran 1h07m"
    # figures: largest change first within each table, signs and percentages
    expect_match out '^bytes +old +new +change$'
    expect_match out '^  peak RSS +1\.53 GiB +3\.06 GiB +\+1\.53 GiB +\+100\.0%$'
    expect_match out '^  peak heap +1\.40 GiB +1\.40 GiB +=$'
    [ "$(sed -n '/^bytes /{n;p}' "$box/out" | awk '{print $1, $2}')" = "peak RSS" ] ||
        fail "the bytes table does not start with the largest change"
    expect_match out '^  alloc calls +48,211,003 +48,212,003 +\+1,000 +\+0\.0%$'
    expect_match out '^  compactions +8 +5 +-3 +-37\.5%$'
    expect_match out '^  compactions \(threshold\) +3 +4 +\+1 +\+33\.3%$'
    expect_match out '^  compactions \(interval\) +2 +0 +-2 +-100\.0%$'
    expect_match out '^  duration +1h07m +1h07m +=$'
    # sites: matched by function names, whatever their offsets
    expect_in out "call sites: 4 in old, 4 in new; 3 stacks in both (matched by function names)"
    expect_match out '^ +3\.00 GiB +4\.00 GiB +\+1\.00 GiB +\+33\.3%  mkt_summary_print <- main$'
    expect_match out '^ +100 MiB +- +-100 MiB +-100\.0%  mkt_count <- main$'
    expect_match out '^ +- +64\.0 MiB +\+64\.0 MiB +new  mkt_bytes <- main$'
    expect_not_in out "libgone.so.1+0x1234"   # unchanged: not listed
    [ "$(grep -A1 '^top call sites by change' "$box/out" | tail -1 | awk '{print $1}')" = old ] ||
        fail "no column heads above the sites"
    [ "$(grep -E '<- main$' "$box/out" | head -1 | grep -c mkt_summary_print)" = 1 ] ||
        fail "the sites are not sorted by the size of the change"
    # lines fit 100 columns
    ! grep -qE '^.{101}' "$box/out" || fail "a line is wider than 100 columns"
    # the same run twice: nothing changed
    run "$report" --diff old.json old.json
    expect_status 0
    expect_in out "no call site's estimate changed"
    expect_not_in out "+"
    ;;
diff-sections)
    # reports without compactions, sites or pools: those tables are left out
    run "$report" --diff "$fixtures/good.json" "$fixtures/minimal.json"
    expect_status 0
    expect_empty err
    expect_not_in out "compactions"
    expect_not_in out "pool"
    expect_in out "call sites: none in either report"
    # a figure one report lacks is "-" with no change
    expect_match out '^  heap at the end +3\.38 KiB +- *$'
    expect_match out '^  bytes requested +117 KiB +- *$'
    # pools matched by name; a pool only one run has
    variant "$fixtures/good.json" a.json "
r['pools'] = [{'name': 'decode', 'frame_size': 6220800, 'pooled': 4, 'allocated': 8, 'in_use': 4,
               'hits': 1000, 'misses': 8},
              {'name': 'old-only', 'frame_size': 4096, 'pooled': 1, 'allocated': 1, 'in_use': 0,
               'hits': 0, 'misses': 1}]"
    variant "$fixtures/good.json" b.json "
r['pools'] = [{'name': 'new-only', 'frame_size': 4096, 'pooled': 0, 'allocated': 2, 'in_use': 2,
               'hits': 5, 'misses': 2},
              {'name': 'decode', 'frame_size': 6220800, 'pooled': 6, 'allocated': 12, 'in_use': 6,
               'hits': 3000, 'misses': 12}]"
    run "$report" --diff a.json b.json
    expect_status 0
    expect_match out '^  pool decode hits +1,000 +3,000 +\+2,000 +\+200\.0%$'
    expect_match out '^  pool decode misses +8 +12 +\+4 +\+50\.0%$'
    expect_match out '^  pool decode frame size +5\.93 MiB +5\.93 MiB +=$'
    expect_match out '^  pool old-only misses +1 +- *$'
    expect_match out '^  pool new-only hits +- +5 *$'
    ;;
diff-refusals)
    cp "$fixtures/good.json" ok.json
    for bad in "$fixtures/truncated.json|truncated JSON at line 35" \
               "$fixtures/wrong_schema.json|not a memkit report (schema \"memkit-report/2\"" \
               "missing.json|cannot open: No such file or directory" \
               "$fixtures/not_json.json|not valid JSON"; do
        file=${bad%%|*} why=${bad#*|}
        run "$report" --diff "$file" ok.json
        expect_refusal "memkit-report: $file: $why"
        run "$report" --diff ok.json "$file"
        expect_refusal "memkit-report: $file: $why"
    done
    run "$report" --diff ok.json
    expect_status 2
    expect_empty out
    expect_in err "memkit-report: --diff compares two reports, OLD and NEW (1 given)"
    run "$report" --diff ok.json ok.json ok.json
    expect_status 2
    expect_in err "(3 given)"
    run "$report" --diff
    expect_status 2
    expect_in err "(0 given)"
    ;;
prom)
    variant "$fixtures/timeline.json" t.json "
r['pools'] = [{'name': 'decode', 'frame_size': 6220800, 'pooled': 4, 'allocated': 8, 'in_use': 3,
               'hits': 1000, 'misses': 8}]
r['compaction']['released_bytes'] += 4096     # memkit_notify_released counts there only"
    run "$report" --prom t.json
    expect_status 0
    expect_empty err
    cp "$box/out" t.prom
    check_prom t.prom
    expect_in out 'memkit_alloc_calls_total{program="tiler",pid="6160"} 48211003'
    expect_in out 'memkit_rss_peak_bytes{program="tiler",pid="6160"} 1110941696'
    expect_in out 'memkit_released_bytes_total{program="tiler",pid="6160"} 3400116633'
    expect_in out 'memkit_compactions_total{program="tiler",pid="6160",reason="threshold"} 1'
    expect_in out 'memkit_compactions_total{program="tiler",pid="6160",reason="manual"} 0'
    expect_in out 'memkit_compaction_seconds_total{program="tiler",pid="6160"} 0.352'
    expect_in out 'memkit_pool_frames_in_use{program="tiler",pid="6160",pool="decode"} 3'
    expect_in out 'memkit_pool_frame_size_bytes{program="tiler",pid="6160",pool="decode"} 6220800'
    expect_in out 'memkit_process_start_time_seconds{program="tiler",pid="6160"} 1795355401.25'
    expect_in out 'memkit_process_uptime_seconds{program="tiler",pid="6160"} 33.021'
    [ "$(tail -1 t.prom)" = "# EOF" ] || fail "no # EOF at the end"
    # the output and docs/metrics.md list the same metrics, with the same
    # type, unit and help
    python3 - t.prom "$metrics_doc" <<'PY' || fail "--prom and docs/metrics.md disagree"
import sys
prom, doc = open(sys.argv[1]).read().splitlines(), open(sys.argv[2]).read().splitlines()
documented = {}
for line in doc:
    if line.startswith('| `memkit_'):
        name, kind, unit, labels, help_text, field = [c.strip() for c in line.split('|')[1:-1]]
        documented[name.strip('`')] = (kind, unit, help_text)
assert len(documented) >= 20, documented
help_, type_, unit, samples = {}, {}, {}, set()
for line in prom:
    if line.startswith('# HELP '):
        name, text = line[7:].split(' ', 1); help_[name] = text
    elif line.startswith('# TYPE '):
        name, t = line[7:].split(' '); type_[name] = t
    elif line.startswith('# UNIT '):
        name, u = line[7:].split(' '); unit[name] = u
    elif not line.startswith('#'):
        samples.add(line.split('{')[0])
ok = True
for name, (t, u, h) in documented.items():
    if name not in samples:
        print('documented, not written:', name); ok = False; continue
    if help_.get(name) != h:
        print('help differs:', name, repr(help_.get(name)), repr(h)); ok = False
    if t == 'gauge' and (type_.get(name) != 'gauge' or unit.get(name, '') != u):
        print('gauge metadata differs:', name); ok = False
    if t == 'counter' and (name in type_ or name in unit or not name.endswith('_total')):
        print('counter metadata differs:', name); ok = False
    if u and not name.removesuffix('_total').endswith('_' + u):
        print('unit not in the name:', name); ok = False
for name in samples - set(documented):
    print('written, not documented:', name); ok = False
sys.exit(0 if ok else 1)
PY
    # a report from before the "end" and "compaction" sections: gauges it
    # cannot know are left out, counters are counted from the list
    run "$report" --prom "$fixtures/busy.json"
    expect_status 0
    cp "$box/out" busy.prom
    check_prom busy.prom
    expect_in out 'memkit_compactions_total{program="pipeline",pid="900",reason="pressure"} 1'
    expect_in out 'memkit_heap_bytes{program="pipeline",pid="900"} '
    expect_in out "memkit_released_bytes_total{program=\"pipeline\",pid=\"900\"} $(python3 -c \
        'import json, sys; print(json.load(open(sys.argv[1]))["totals"]["released_bytes"])' "$fixtures/busy.json")"
    run "$report" --prom "$fixtures/minimal.json"
    expect_status 0
    cp "$box/out" minimal.prom
    check_prom minimal.prom
    expect_not_in out memkit_rss_bytes
    expect_not_in out memkit_pool_
    expect_in out 'memkit_compactions_total{program="capture",pid="77",reason="interval"} 0'
    expect_in out 'memkit_process_start_time_seconds{program="capture",pid="77"} 1795334400'
    ;;
prom-labels)
    # names that need escaping; pools unnamed, named twice, named like an index
    variant "$fixtures/good.json" odd.json "
r['process']['name'] = 'a\"b\\\\c\nd é'
r['compaction'] = {'count': 1, 'returned_bytes': 10, 'seconds': 0.5,
                   'by_reason': {'threshold': 0, 'interval': 0, 'pressure': 0, 'manual': 0, 'idle': 1}}
r['pools'] = [{'name': 'cam', 'in_use': 1, 'pooled': 0, 'hits': 1, 'misses': 1, 'frame_size': 64},
              {'in_use': 2, 'hits': 0, 'misses': 2},
              {'name': 'cam', 'in_use': 3},
              {'name': '#1', 'in_use': 4},
              'not an object']"
    run "$report" --prom odd.json
    expect_status 0
    cp "$box/out" odd.prom
    check_prom odd.prom
    expect_in out 'memkit_alloc_calls_total{program="a\"b\\c\nd é",pid="4242"} 1000'
    expect_in out 'memkit_compactions_total{program="a\"b\\c\nd é",pid="4242",reason="idle"} 1'
    expect_in out 'pool="cam"} 1'
    expect_in out 'pool="#1"} 2'
    expect_in out 'pool="cam#2"} 3'
    expect_in out 'pool="#1#3"} 4'
    [ "$(grep -c '^memkit_pool_frames_in_use{' odd.prom)" = 4 ] || fail "not one in_use per pool"
    [ "$(grep -c '^memkit_pool_frames_pooled{' odd.prom)" = 1 ] ||
        fail "a pool figure a pool lacks was written"
    # the label values read back as they were
    if py=$(om_python); then
        "$py" - odd.prom <<'PY' || fail "labels do not read back"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
pools = set()
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        assert s.labels['program'] == 'a"b\\c\nd é', s.labels
        assert s.labels['pid'] == '4242'
        if 'pool' in s.labels and fam.name == 'memkit_pool_frames_in_use':
            pools.add(s.labels['pool'])
assert pools == {'cam', '#1', 'cam#2', '#1#3'}, pools
PY
    fi
    ;;
prom-refusals)
    run "$report" --prom "$fixtures/truncated.json"
    expect_refusal "memkit-report: $fixtures/truncated.json: truncated JSON at line 35"
    run "$report" --prom "$fixtures/wrong_schema.json"
    expect_refusal 'not a memkit report (schema "memkit-report/2", expected "memkit-report/1")'
    run "$report" --prom missing.json
    expect_refusal "memkit-report: missing.json: cannot open: No such file or directory"
    run "$report" --prom "$fixtures/bad_type.json"
    expect_refusal 'malformed memkit report: "totals.free_calls" is a string'
    run "$report" --prom
    expect_refusal "memkit-report: no report (memkit.*.json) in the current folder"
    # without REPORT: the newest here
    cp "$fixtures/good.json" memkit.sort.4242.json
    run "$report" --prom
    expect_status 0
    expect_in out 'memkit_alloc_calls_total{program="sort",pid="4242"} 1000'
    ;;
svg|svg-render)
    variant "$fixtures/timeline.json" t.json "
r['process']['name'] = 'tiler <&\"\\'>'
r['sites'] = [site([(0, fn('mkt_summary_print')), (0, fn('main'))], 3 << 30, 10),
              site([(0, fn('mkt_count')), (0, fn('mkt_summary_print')), (0, fn('main'))], 1 << 30, 10),
              site([(1, 0x1234), (0, fn('main'))], 1 << 29, 5000),
              site([(2, 0x99), (0, fn('main'))], 1 << 28, 5),
              site([], 1 << 27)]
r['modules'] = [me, gone('/nonexistent/libgone.so.1'), gone('/x/lib<b>&\"q\\'.so')]"
    run "$report" --svg t.svg --top 3 t.json
    expect_status 0
    expect_empty out
    expect_empty err
    [ -s t.svg ] || fail "no SVG written"
    [ "$(stat -c %a t.svg)" = "$(printf '%o' $(( 0666 & ~$(umask) )))" ] || fail "mode $(stat -c %a t.svg)"
    ls t.svg.* 2>/dev/null && fail "a temporary file was left"
    if [ "$case_" = svg ]; then
        python3 - t.svg <<'PY' || fail "the SVG is not what it should be"
import re, sys
import xml.etree.ElementTree as ET
text = open(sys.argv[1], encoding='utf-8').read()
root = ET.fromstring(text)                         # well-formed XML
ns = '{http://www.w3.org/2000/svg}'
assert root.tag == ns + 'svg', root.tag
# self-contained: no scripts, images, links, styles from elsewhere
for bad in ('<script', '<image', '<use', 'href', '<foreignObject', '@import', 'url('):
    assert bad not in text, bad
assert text.count('http://') == 1 and 'xmlns="http://www.w3.org/2000/svg"' in text
texts = [''.join(e.itertext()) for e in root.iter(ns + 'text')]
titles = [''.join(e.itertext()) for e in root.iter(ns + 'title')]
# names from the report come back exactly, escaped in the file
assert any('tiler <&"\'>' in t for t in texts), texts[:3]
assert 'tiler <&"\'>' in titles[0]
assert any(t.startswith("lib<b>&\"q'.so+0x99: 256 MiB") for t in titles), titles
assert any(t.startswith('libgone.so.1+0x1234: 512 MiB') for t in titles)
# the timeline: three series, two compactions with tooltips
assert len(root.findall('.//' + ns + 'polyline')) == 3
comp = [t for t in titles if t.startswith('compaction')]
assert len(comp) == 2, comp
assert comp[0].startswith('compaction (threshold) at 12.50 s: RSS 1.02 GiB -> 108 MiB'), comp[0]
# the flame graph: widths proportional to bytes, root first
def rect_of(prefix):
    for g in root.iter(ns + 'g'):
        t = g.find(ns + 'title')
        r = g.find(ns + 'rect')
        if t is not None and r is not None and t.text.startswith(prefix):
            return float(r.get('width'))
    raise AssertionError('no rectangle for ' + prefix)
total = (3 << 30) + (1 << 30) + (1 << 29) + (1 << 28) + (1 << 27)
w_all, w_main = rect_of('all:'), rect_of('main:')
w_print = rect_of('mkt_summary_print:')
assert abs(w_all - 1168) < 0.01, w_all
assert abs(w_main / w_all - ((3 << 30) + (1 << 30) + (1 << 29) + (1 << 28)) / total) < 1e-3
assert abs(w_print / w_all - ((3 << 30) + (1 << 30)) / total) < 1e-3
assert any(t.startswith('mkt_count: 1.00 GiB') for t in titles)
assert any(t.startswith('[other stacks]: 128 MiB') for t in titles)
# --top 3: three sites listed under the graph
listed = [t for t in texts if re.match(r' ?\d+\. ', t)]
assert len(listed) == 3, listed
assert 'mkt_summary_print <- main' in listed[0], listed[0]
PY
        # "-" writes to stdout; a report without timeline or sites still draws
        run "$report" --svg - "$fixtures/good.json"
        expect_status 0
        expect_in out '<svg xmlns="http://www.w3.org/2000/svg"'
        expect_in out "no timeline points in this report"
        expect_in out "no call sites in this report"
        python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$box/out" ||
            fail "the SVG of good.json is not well-formed"
    else
        # what a browser shows: headless Chromium's screenshot is not blank
        chrome=$(command -v chromium || command -v chromium-browser) ||
            { echo "SKIP: no chromium"; exit 77; }
        height=$(python3 -c 'import sys, xml.etree.ElementTree as E; print(int(float(E.parse(sys.argv[1]).getroot().get("height"))))' t.svg)
        HOME=$work timeout 120 "$chrome" --headless --no-sandbox --disable-gpu \
            --user-data-dir="$work/chrome" --hide-scrollbars --force-device-scale-factor=1 \
            --screenshot="$work/shot.png" --window-size=1200,"$height" "file://$work/t.svg" \
            > "$box/chrome" 2>&1
        [ -s shot.png ] || { cat "$box/chrome" >&2; fail "chromium wrote no screenshot"; }
        python3 - shot.png "$height" <<'PY' || fail "the screenshot looks blank"
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), (depth, ctype)
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
rows, prev, i = [], bytearray(stride), 0
for y in range(h):                     # undo the PNG filters
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line)); prev = line
def region(y0, y1, x0=100, x1=1180):
    colours, inked, total = set(), 0, 0
    for y in range(y0, min(y1, h)):
        for x in range(x0, min(x1, w)):
            px = rows[y][x * bpp:x * bpp + 3]
            colours.add(px); total += 1
            if max(abs(c - 250) for c in px) > 24:   # away from white and the plot's #fafafa
                inked += 1
    return len(colours), inked / total
# the layout of report_svg.c: the timeline's plot at y 82..354, the flame
# graph's rows from y 434
tl_colours, tl_ink = region(82, 354)
fl_colours, fl_ink = region(434, 434 + 4 * 18, 16, 1184)
print(f'timeline: {tl_colours} colours, {tl_ink:.1%} inked; '
      f'flame graph: {fl_colours} colours, {fl_ink:.1%} inked')
assert tl_colours >= 20 and tl_ink >= 0.05, 'timeline looks blank'
assert fl_colours >= 20 and fl_ink >= 0.30, 'flame graph looks blank'
# the three series' colours are there
def near(rgb, want, d=40):
    return all(abs(a - b) <= d for a, b in zip(rgb, want))
seen = set()
for y in range(82, 354):
    for x in range(100, 1180):
        px = rows[y][x * bpp:x * bpp + 3]
        for name, want in (('heap', (0x1f, 0x77, 0xb4)), ('maps', (0x2c, 0xa0, 0x2c)),
                           ('RSS', (0xd6, 0x27, 0x28)), ('compaction', (0xff, 0x7f, 0x0e))):
            if near(px, want):
                seen.add(name)
assert seen == {'heap', 'maps', 'RSS', 'compaction'}, seen
PY
    fi
    ;;
svg-refusals)
    cp "$fixtures/good.json" ok.json
    run "$report" --svg out.svg "$fixtures/truncated.json"
    expect_refusal "memkit-report: $fixtures/truncated.json: truncated JSON at line 35"
    run "$report" --svg out.svg "$fixtures/wrong_schema.json"
    expect_refusal 'not a memkit report (schema "memkit-report/2"'
    run "$report" --svg out.svg missing.json
    expect_refusal "memkit-report: missing.json: cannot open: No such file or directory"
    [ ! -e out.svg ] || fail "an SVG was written for a refused report"
    run "$report" --svg no/such/folder/out.svg ok.json
    expect_refusal "memkit-report: cannot write no/such/folder/out.svg: No such file or directory"
    run "$report" --svg
    expect_status 2
    expect_in err "memkit-report: --svg needs a value"
    run "$report" --svg '' ok.json
    expect_status 2
    expect_in err "memkit-report: --svg needs a file name (or - for stdout)"
    # never over the report itself
    run "$report" --svg ok.json ok.json
    expect_refusal "memkit-report: ok.json is the report itself; name another file for the SVG"
    cmp -s ok.json "$fixtures/good.json" || fail "the report was overwritten"
    # an existing SVG is replaced whole
    echo old > out.svg
    run "$report" --svg out.svg ok.json
    expect_status 0
    grep -q '</svg>' out.svg || fail "out.svg not replaced"
    [ "$(ls | grep -c 'out.svg')" = 1 ] || fail "a temporary file was left"
    ;;
refusals)
    # every view refuses what is not a report the same way: one line naming
    # the file, exit status 2, nothing on stdout (and no SVG written)
    mkdir folder.json
    cp "$fixtures/good.json" ok.json
    cp "$fixtures/good.json" locked.json
    chmod 000 locked.json
    cases="$fixtures/wrong_schema.json|not a memkit report (schema
$fixtures/no_schema.json|not a memkit report (no \"schema\"
$fixtures/truncated.json|truncated JSON at line 35
$fixtures/not_json.json|not valid JSON at line 1
$fixtures/missing_section.json|incomplete memkit report: \"peak\" is missing
missing.json|cannot open: No such file or directory
folder.json|is a folder, not a report"
    [ "$(id -u)" = 0 ] || cases="$cases
locked.json|cannot open: Permission denied"
    while IFS='|' read -r file why; do
        for view in "" --json --folded --timeline --sites "--svg out.svg" --prom "--diff ok.json" \
                    "--diff @ ok.json"; do
            args=($view)
            if [ "${args[1]:-}" = @ ]; then args[1]=$file; else args+=("$file"); fi
            run "$report" "${args[@]}"
            expect_refusal "memkit-report: $file: $why"
        done
    done <<< "$cases"
    [ ! -e out.svg ] || fail "an SVG was written for a refused report"
    ;;
top)
    variant "$fixtures/good.json" s.json "
r['sites'] = [site([(0, fn(f)), (0, fn('main'))], (i + 1) << 20, i + 1)
              for i, f in enumerate(['mkt_count', 'mkt_bytes', 'mkt_duration', 'mkt_at', 'mkt_u64'])]
r['modules'] = [me]"
    variant s.json s2.json "
for s in r['sites']:
    s['alloc_bytes_est'] *= 3"
    cp s.json memkit.s.1.json
    # accepted by every view
    for view in "" --json --folded --timeline --sites "--svg out.svg" "--diff s.json" --prom --list; do
        run "$report" --top 2 $view $( [ "$view" = --list ] || echo s2.json )
        expect_status 0
    done
    # and cuts the lists where there are some
    run "$report" --top 2 --diff s.json s2.json
    [ "$(grep -cE '<- main$' "$box/out")" = 2 ] || fail "--diff --top 2 listed other than 2 sites"
    run "$report" --top 4 --diff s.json s2.json
    [ "$(grep -cE '<- main$' "$box/out")" = 4 ] || fail "--diff --top 4 listed other than 4 sites"
    run "$report" --top 2 --svg - s.json
    [ "$(grep -cE '<text[^>]*> ?[0-9]+\. ' "$box/out")" = 2 ] || fail "--svg --top 2 listed other than 2 sites"
    run "$report" --svg - s.json
    [ "$(grep -cE '<text[^>]*> ?[0-9]+\. ' "$box/out")" = 5 ] || fail "--svg lists every site when fewer than 10"
    run "$report" --top 0 --prom s.json
    expect_status 2
    expect_in err "memkit-report: --top wants a positive whole number, not '0'"
    ;;
conflicts)
    for pair in "--svg x.svg|--prom|--svg and --prom" "--diff|--json|--diff and --json" \
                "--prom|--list|--prom and --list" "--timeline|--svg x.svg|--timeline and --svg" \
                "--folded|--diff|--folded and --diff"; do
        IFS='|' read -r a b says <<< "$pair"
        run "$report" $a $b "$fixtures/good.json"
        expect_status 2
        expect_empty out
        expect_in err "memkit-report: $says are different outputs; choose one"
    done
    [ ! -e x.svg ] || fail "an SVG was written despite the refusal"
    run "$report" --prom a.json b.json
    expect_status 2
    expect_in err "one report at a time ('b.json' is one too many)"
    run "$report" --help
    expect_status 0
    for flag in --svg --diff --prom --list --top; do
        expect_in out "  $flag"
    done
    ;;
big)
    # 100,000 sites of 3 to 12 frames into memkit-report's own functions
    # (and a module that is gone): how long the one-screen views take
    python3 - "$fixtures/timeline.json" big.json "$report" "$build_id" <<'PY' || fail "cannot write big.json"
import json, random, subprocess, sys
src, out, exe, bid = sys.argv[1:5]
syms = [int(l.split()[0], 16) + 1
        for l in subprocess.run(['nm', exe], capture_output=True, text=True).stdout.splitlines()
        if len(l.split()) == 3 and l.split()[1] in 'tT']
rnd = random.Random(6)
r = json.load(open(src))
r['config']['MEMKIT_SAMPLE'] = '512K'
r['sites'] = [{"frames": [{"module": rnd.choice((0, 0, 0, 1)), "offset": rnd.choice(syms)}
                          for _ in range(rnd.randint(3, 12))],
               "alloc_bytes_est": rnd.randint(1, 1 << 30), "alloc_calls_est": rnd.randint(1, 99999),
               "live_bytes_est": rnd.randint(0, 1 << 20), "peak_live_bytes_est": rnd.randint(0, 1 << 22),
               "samples": rnd.randint(1, 99)} for _ in range(100000)]
r['modules'] = [{"path": exe, "build_id": bid, "base": 93824992231424},
                {"path": "/nonexistent/libgone.so.1", "build_id": "00ff", "base": 140737354006528}]
json.dump(r, open(out, 'w'))
PY
    seconds() {
        local t0 t1
        t0=$(date +%s.%N)
        run "$report" "$@"
        t1=$(date +%s.%N)
        expect_status 0
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
    }
    size=$(du -m big.json | cut -f1)
    summary=$(seconds --top 10 big.json)
    expect_in out "call sites: 100000, sampled"
    [ "$(grep -c '^ *[0-9]*\. ' "$box/out")" = 20 ] || fail "not 10 rows in each of the two tables"
    [ "$(wc -l < "$box/out")" -le 50 ] || fail "the summary does not fit one screen"
    svg=$(seconds --svg big.svg big.json)
    prom=$(seconds --prom big.json)
    diff=$(seconds --top 10 --diff big.json big.json)
    expect_in out "call sites: 100000 in old, 100000 in new"
    echo "100,000 sites (${size} MB): summary --top 10 ${summary} s, --svg ${svg} s," \
         "--prom ${prom} s (reading alone), --diff ${diff} s (two of them)"
    # About a second on a quiet machine, nearly all of it jansson's parse
    # (what --prom takes). The limits leave slack for a busy machine, and
    # grow with the parse when the machine is so busy that it alone is slow:
    # what they catch is a view that is slow in itself.
    within() {   # within SECONDS LIMIT PARSES
        awk -v s="$1" -v l="$2" -v k="$3" -v p="$prom" 'BEGIN { exit !(s < l || s < k * p) }'
    }
    within "$summary" 5 2.5 || fail "the summary took ${summary} s (reading ${prom} s)"
    within "$svg" 8 3 || fail "--svg took ${svg} s (reading ${prom} s)"
    within "$diff" 12 5 || fail "--diff took ${diff} s (reading ${prom} s)"
    ;;
*)
    fail "unknown case $case_"
    ;;
esac
exit 0
