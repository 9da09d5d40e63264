#!/usr/bin/env bash
# The probe API from a preloaded program: the report's "probes" and
# "checkpoints" sections, and MEMKIT_WARN warning once per crossing.
#   test_probes.sh LIBMEMKIT PROBES
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
need_lib

run "$T/shim" "$T/shim.d" LD_PRELOAD="$MEMKIT_LIB" -- "$BIN"
expect_rc "probes" "$T/shim" 0
grep -q '^done$' "$T/shim.out" || fail "probes did not finish: $(cat "$T/shim.out")"
[ "$(grep -c 'reached MEMKIT_WARN' "$T/shim.err")" = 2 ] ||
    fail "expected 2 MEMKIT_WARN lines on stderr: $(cat "$T/shim.err")"

check "$T/shim.d" --count 1 --select probes \
    --check 'len([w for w in r["warnings"] if "MEMKIT_WARN" in w["text"]]) == 2' \
    --check 'sorted(c["label"] for c in r["checkpoints"]) == ["down", "start", "up"]' \
    --check '[c["count"] for c in r["checkpoints"] if c["label"] == "up"] == [4]' \
    --check 'all(c["rss_min"] <= c["rss_last"] <= c["rss_max"] for c in r["checkpoints"])' \
    --check 'all(c["first_t_s"] <= c["last_t_s"] for c in r["checkpoints"])' \
    --check '[c["rss_max"] - c["rss_min"] >= 4 << 20 for c in r["checkpoints"] if c["label"] == "up"] == [True]' \
    --check 'sorted(x["label"] for x in r["probes"]) == ["critical", "grow", "phase", "worker"]' \
    --check '{x["label"]: x["level"] for x in r["probes"]} == {"critical": "critical", "grow": "medium", "phase": "high", "worker": "medium"}' \
    --check '[x["count"] for x in r["probes"] if x["label"] == "worker"] == [4000]' \
    --check '[x["growth_total"] >= 64 << 20 for x in r["probes"] if x["label"] == "grow"] == [True]' \
    --check '[x["peak_max"] >= 64 << 20 for x in r["probes"] if x["label"] == "phase"] == [True]' \
    --check '[x["rss_max"] > 0 for x in r["probes"] if x["label"] == "phase"] == [True]' \
    --check 'all(x["seconds_max"] <= x["seconds_total"] for x in r["probes"])'

finish
