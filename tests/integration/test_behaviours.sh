#!/usr/bin/env bash
# Every observable behaviour of the malloc and mmap families is the same
# with and without memkit (behaviours.c prints one line per behaviour),
# and the report counts what the program did — over glibc, and over
# jemalloc, tcmalloc and mimalloc preloaded beneath memkit.
#   test_behaviours.sh LIBMEMKIT BEHAVIOURS
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
need_lib

run "$T/plain" "$T/plain.d" -- "$BIN"
run "$T/shim" "$T/shim.d" LD_PRELOAD="$MEMKIT_LIB" -- "$BIN"
expect_rc "plain run" "$T/plain" 3
grep -q '^done$' "$T/plain.out" || fail "plain run did not finish"
same "behaviours" "$T/plain" "$T/shim" stderr
[ -s "$T/plain.err" ] && fail "plain run wrote to stderr: $(head -3 "$T/plain.err")"

# The report: in the folder the process started in (it ends in "/").
pid=$(ls "$T/shim.d" | sed -n 's/^memkit\.behaviours\.\([0-9]*\)\.json$/\1/p')
[ -n "$pid" ] || fail "no memkit.behaviours.<pid>.json in the start folder: $(ls "$T/shim.d")"
[ -n "$pid" ] && [ -e "/memkit.behaviours.$pid.json" ] && fail "report written to / (the folder at exit)"
start=$(cd "$T/shim.d" && pwd -P)
check "$T/shim.d" --count 1 --select behaviours \
    --check 'p["argv"] == ["'"$BIN"'"]' \
    --check 't["alloc_calls"] >= 5000' \
    --check 't["free_calls"] >= 150' \
    --check 'all(k[x]["calls"] >= 1 for x in ["malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc"])' \
    --check 'k["realloc"]["calls"] >= 5000' \
    --check 't.get("failures", 24) >= 24' \
    --check 't["mmap_calls"] >= 5 and t["munmap_calls"] >= 4' \
    --check 't.get("mremap_calls", 2) >= 2' \
    --check 't["mmap_bytes"] >= (1 << 20) + 8 * 4096' \
    --check 'peak["heap_bytes"] >= 60 << 20' \
    --check 't["free_bytes"] <= t["alloc_bytes"]' \
    --check 't.get("heap_in_use", 0) < 1 << 20' \
    --check 'r.get("allocator", {}).get("name", "glibc") == "glibc"' \
    --check 'p.get("cwd", "'"$start"'") == "'"$start"'"' \
    --check 'r["warnings"] == []'

# MEMKIT_REPORT=off: the same behaviour, no report.
run "$T/off" "$T/off.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT=off -- "$BIN"
same "behaviours, MEMKIT_REPORT=off" "$T/plain" "$T/off" stderr
[ -z "$(ls -A "$T/off.d")" ] || fail "MEMKIT_REPORT=off left files: $(ls -A "$T/off.d")"

# MEMKIT_DISABLE=1: pass-through keeps every behaviour too.
run "$T/dis" "$T/dis.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_DISABLE=1 -- "$BIN"
same "behaviours, MEMKIT_DISABLE=1" "$T/plain" "$T/dis" stderr
[ -z "$(ls -A "$T/dis.d")" ] || fail "MEMKIT_DISABLE=1 left files: $(ls -A "$T/dis.d")"

# MEMKIT_LOG=debug: the program's stdout and status stay the same, and
# whatever memkit says carries its prefix.
run "$T/dbg" "$T/dbg.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_LOG=debug -- "$BIN"
same "behaviours, MEMKIT_LOG=debug" "$T/plain" "$T/dbg"
[ "$(other_lines "$T/dbg.err")" = 0 ] || fail "MEMKIT_LOG=debug: stderr lines without 'memkit: ': $(grep -v '^memkit: ' "$T/dbg.err" | head -3)"
check "$T/dbg.d" --count 1

# The other allocators beneath: each one's own behaviours (some differ from
# glibc's) must be the same with memkit above it. Those not installed are
# noted, not failed: scripts/setup.sh installs all three.
for soname in libjemalloc.so.2 libtcmalloc_minimal.so.4 libmimalloc.so.2; do
    alloc=$(find_lib "$soname")
    if [ -z "$alloc" ]; then
        note "$soname not installed: not run beneath memkit"
        continue
    fi
    name=${soname%%.so*}
    run "$T/$name.plain" "$T/$name.plain.d" LD_PRELOAD="$alloc" -- "$BIN"
    run "$T/$name.shim" "$T/$name.shim.d" LD_PRELOAD="$MEMKIT_LIB $alloc" -- "$BIN"
    same "behaviours over ${name#lib}" "$T/$name.plain" "$T/$name.shim" stderr
    # jemalloc 5.3 has no pvalloc: glibc's, on jemalloc's memory, crashes
    # the program with or without memkit (the comparison above is what
    # counts then). check_report holds every kind's usable bytes to at least
    # its requested bytes: under tcmalloc that needs the block libstdc++
    # allocates before tcmalloc's constructor (malloc_usable_size answers 0
    # then) counted by tcmalloc's size classes (real.h).
    if [ "$(cat "$T/$name.plain.rc")" = 3 ]; then
        check "$T/$name.shim.d" --count 1 --check 't["alloc_calls"] >= 5000' \
            --check 'r["allocator"]["name"] != "glibc"'
    else
        note "${name#lib}: exit status $(cat "$T/$name.plain.rc") plain and with memkit; report not checked"
    fi
done

finish
