#!/usr/bin/python3
"""check_report.py — validates the memkit reports in a folder.

    check_report.py [--options-def FILE] [--glob PATTERN] DIR [RULE]...
    (--options-def and --glob may also come among the rules)

Every file in DIR matching PATTERN (default memkit.*.json) must be a
complete report: valid JSON, schema "memkit-report/1", every fixed field
of the contract (docs/report-format.md) present with the right type, the
by_kind sums equal to the totals, and a file name memkit.<name>.<pid>.json
that agrees with the process section. No *.tmp file may be left anywhere
under DIR. Then the rules, in order:

    --count N          exactly N reports
    --min-count N      at least N reports
    --names A,B,B      these process names, with repetitions, are among the reports
    --distinct-pids    no two reports share a pid
    --select NAME      the following --check rules apply to reports of that
                       process name ("*": all of them; the default); at
                       least one report must match
    --check EXPR       Python expression that must hold for every selected
                       report; names: r (the report), p (process), t
                       (totals), k (totals.by_kind), am (totals.allocator_maps),
                       peak, end, cfg (config), v (variables given with --var)
    --var NAME=INT     an integer the expressions can use as v['NAME']
    --print EXPR       prints the expression for each selected report

Exit status 0 when everything holds; 1 with one line per failure.
"""
import glob
import json
import os
import re
import sys

FIXED_TOTALS = ["alloc_calls", "free_calls", "alloc_bytes", "free_bytes",
                "mmap_calls", "munmap_calls", "mmap_bytes", "released_bytes"]
FIXED_PEAK = ["heap_bytes", "rss_bytes", "mmap_bytes"]
FIXED_LISTS = ["compactions", "probes", "sites", "modules", "pools", "timeline", "warnings"]

failures = []


def fail(msg):
    failures.append(msg)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def option_names(path):
    names = []
    with open(path) as f:
        for line in f:
            m = re.match(r'\s*MK_OPTION\(\s*\w+\s*,\s*"(MEMKIT_[A-Z0-9_]+)"', line)
            if m:
                names.append(m.group(1))
    return names


def validate(path, r, options):
    where = os.path.basename(path)
    if not isinstance(r, dict):
        fail(f"{where}: not a JSON object")
        return False
    if r.get("schema") != "memkit-report/1":
        fail(f"{where}: schema is {r.get('schema')!r}")
    p = r.get("process")
    if not isinstance(p, dict):
        fail(f"{where}: no process section")
        return False
    if not is_int(p.get("pid")) or p.get("pid") <= 0:
        fail(f"{where}: process.pid {p.get('pid')!r}")
    if not isinstance(p.get("exe"), str):
        fail(f"{where}: process.exe {p.get('exe')!r}")
    argv = p.get("argv")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        fail(f"{where}: process.argv {argv!r}")
    if not isinstance(p.get("start"), str) or not re.match(r"\d{4}-\d\d-\d\dT", p.get("start", "")):
        fail(f"{where}: process.start {p.get('start')!r}")
    d = p.get("duration_s")
    if not isinstance(d, (int, float)) or isinstance(d, bool) or d < 0:
        fail(f"{where}: process.duration_s {d!r}")
    cfg = r.get("config")
    if not isinstance(cfg, dict):
        fail(f"{where}: no config section")
    else:
        for name in options:
            if name not in cfg:
                fail(f"{where}: config lacks {name}")
            elif not isinstance(cfg[name], str):
                fail(f"{where}: config.{name} is not text: {cfg[name]!r}")
    t = r.get("totals")
    if not isinstance(t, dict):
        fail(f"{where}: no totals section")
        return False
    for key in FIXED_TOTALS:
        if not is_int(t.get(key)) or t.get(key) < 0:
            fail(f"{where}: totals.{key} {t.get(key)!r}")
    bk = t.get("by_kind")
    if isinstance(bk, dict) and all(is_int(t.get(x)) for x in ("alloc_calls", "alloc_bytes")):
        calls = sum(v.get("calls", 0) for v in bk.values())
        nbytes = sum(v.get("bytes", 0) for v in bk.values())
        if calls != t["alloc_calls"]:
            fail(f"{where}: by_kind calls sum to {calls}, alloc_calls is {t['alloc_calls']}")
        if nbytes != t["alloc_bytes"]:
            fail(f"{where}: by_kind bytes sum to {nbytes}, alloc_bytes is {t['alloc_bytes']}")
        if is_int(t.get("requested_bytes")):
            req = sum(v.get("requested", 0) for v in bk.values())
            if req != t["requested_bytes"]:
                fail(f"{where}: by_kind requested sum to {req}, requested_bytes is {t['requested_bytes']}")
        for kind, v in bk.items():
            if kind in ("realloc", "reallocarray"):
                continue   # in-place growth counts only the difference
            if v.get("calls", 0) and v.get("bytes", 0) < v.get("requested", 0):
                fail(f"{where}: by_kind.{kind}: usable bytes {v.get('bytes')} below requested {v.get('requested')}")
    pk = r.get("peak")
    if not isinstance(pk, dict):
        fail(f"{where}: no peak section")
    else:
        for key in FIXED_PEAK:
            if not is_int(pk.get(key)) or pk.get(key) < 0:
                fail(f"{where}: peak.{key} {pk.get(key)!r}")
    for key in FIXED_LISTS:
        if not isinstance(r.get(key), list):
            fail(f"{where}: {key} is not a list: {r.get(key)!r}")
    m = re.match(r"memkit\.(.*)\.(\d+)\.json$", os.path.basename(path))
    if m and isinstance(p.get("name"), str):
        if int(m.group(2)) != p.get("pid"):
            fail(f"{where}: file name pid {m.group(2)} but process.pid {p.get('pid')}")
        if m.group(1) != p.get("name").replace("/", "_"):
            fail(f"{where}: file name program {m.group(1)!r} but process.name {p.get('name')!r}")
    return True


def main(argv):
    options = []
    pattern = "memkit.*.json"
    args = []
    rest = list(argv)
    while rest:   # --options-def and --glob may stand anywhere
        a = rest.pop(0)
        if a in ("--options-def", "--glob") and rest:
            val = rest.pop(0)
            if a == "--options-def":
                options = option_names(val)
            else:
                pattern = val
        else:
            args.append(a)
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    folder = args.pop(0)

    for root, _dirs, files in os.walk(folder):
        for f in files:
            if f.endswith(".tmp"):
                fail(f"temporary file left: {os.path.join(root, f)}")

    reports = []
    for path in sorted(glob.glob(os.path.join(glob.escape(folder), pattern))):
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
            r = json.loads(raw.decode("utf-8"))
        except Exception as e:   # noqa: BLE001 — any failure to read is a failure
            fail(f"{os.path.basename(path)}: not valid JSON ({e})")
            continue
        if validate(path, r, options):
            reports.append((path, r))

    variables = {}
    selected = [r for _p, r in reports]
    select_name = "*"
    while args:
        rule = args.pop(0)
        if rule == "--count":
            n = int(args.pop(0))
            if len(reports) != n:
                fail(f"expected {n} report(s), found {len(reports)}: "
                     + ", ".join(os.path.basename(p) for p, _ in reports))
        elif rule == "--min-count":
            n = int(args.pop(0))
            if len(reports) < n:
                fail(f"expected at least {n} report(s), found {len(reports)}")
        elif rule == "--names":
            want = [x for x in args.pop(0).split(",") if x]
            have = [r["process"].get("name") for _p, r in reports]
            for name in set(want):
                if have.count(name) < want.count(name):
                    fail(f"expected {want.count(name)} report(s) of {name!r}, found "
                         f"{have.count(name)} (names: {sorted(map(str, have))})")
        elif rule == "--distinct-pids":
            pids = [r["process"].get("pid") for _p, r in reports]
            if len(set(pids)) != len(pids):
                fail(f"pids not distinct: {sorted(pids)}")
        elif rule == "--var":
            name, _, val = args.pop(0).partition("=")
            variables[name] = int(val)
        elif rule == "--select":
            select_name = args.pop(0)
            selected = [r for _p, r in reports
                        if select_name == "*" or r["process"].get("name") == select_name]
            if not selected:
                fail(f"no report of process {select_name!r}")
        elif rule in ("--check", "--print"):
            expr = args.pop(0)
            for r in selected:
                t = r.get("totals", {})
                env = {"r": r, "p": r.get("process", {}), "t": t,
                       "k": t.get("by_kind", {}), "am": t.get("allocator_maps", {}),
                       "peak": r.get("peak", {}), "end": r.get("end", {}),
                       "cfg": r.get("config", {}), "v": variables}
                who = f"{r['process'].get('name')}[{r['process'].get('pid')}]"
                try:
                    ok = eval(expr, dict(env, __builtins__=__builtins__))   # noqa: S307
                except Exception as e:   # noqa: BLE001
                    fail(f"{who}: {expr}: {type(e).__name__}: {e}")
                    continue
                if rule == "--print":
                    print(f"{who}: {expr} = {ok}")
                elif not ok:
                    fail(f"{who}: does not hold: {expr}   (totals: "
                         + json.dumps({x: t.get(x) for x in FIXED_TOTALS + ['failures', 'heap_in_use']})
                         + f", peak: {json.dumps(r.get('peak'))})")
        else:
            print(f"check_report.py: unknown rule {rule}", file=sys.stderr)
            return 2

    for f in failures:
        print(f"check_report: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
