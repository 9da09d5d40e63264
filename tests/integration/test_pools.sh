#!/usr/bin/env bash
# Frame pools, a frame ring and a mapping cache in a program linked with
# -lmemkit (poolload.c): the report's pools, rings and map_caches
# sections, aggressive compaction draining the idle buffers and mappings,
# and memkit-report's summary of them.
#   test_pools.sh POOLLOAD MEMKIT_REPORT
source "$(dirname "$0")/lib.sh"
BIN=$(abs "$1")
REPORT_TOOL=$(abs "$2")

run "$T/p" "$T/p.d" MEMKIT_AGGRESSIVE=1 -- "$BIN"
expect_rc "poolload" "$T/p" 0
grep -q '^camera pooled_after_compact=0 in_use=0 hits=3996 misses=4$' "$T/p.out" ||
    fail "pool figures after an aggressive compaction: $(cat "$T/p.out")"
check "$T/p.d" --count 1 \
    --check 'len(r["pools"]) == 2' \
    --check 'r["pools"][0]["name"] == "camera0" and r["pools"][0]["frame_size"] == 640 * 480 * 3' \
    --check 'r["pools"][0]["hits"] == 3996 and r["pools"][0]["misses"] == 4' \
    --check 'r["pools"][0]["max_pooled"] == 4 and r["pools"][0]["peak_in_use"] == 4' \
    --check 'r["pools"][1]["name"] == "" and (r["pools"][1]["destroyed"] or r["pools"][1]["retired"])' \
    --check 'r["pool_totals"]["created"] == 2 and not r["pool_totals"]["unread"]' \
    --check 'r["rings"] == [] and r["map_caches"] == []' \
    --check 'r["compactions"][0]["pool_buffers_drained"] >= 4' \
    --check 'r["compactions"][0]["map_bytes_drained"] == 1 << 20'
( cd "$T/p.d" && "$REPORT_TOOL" ) >"$T/summary" 2>&1 || fail "memkit-report: $(cat "$T/summary")"
grep -Eq '^pools +name' "$T/summary" || fail "no pools table in the summary: $(cat "$T/summary")"
grep -Eq '^ +camera0 +900 KiB +0 +4 +0 +4 +3,996 +4 +0' "$T/summary" ||
    fail "the camera0 row: $(grep -A3 '^pools' "$T/summary")"

finish
