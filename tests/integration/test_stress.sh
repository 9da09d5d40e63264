#!/usr/bin/env bash
# Multi-threaded stress (stress.c) with and without memkit, over glibc or
# another allocator beneath memkit, and the report's totals against what
# the program says it did.
#   test_stress.sh LIBMEMKIT STRESS glibc none
#   test_stress.sh LIBMEMKIT STRESS ALLOC SONAME     ALLOC preloaded after memkit
#   test_stress.sh LIBMEMKIT STRESS_LINKED ALLOC linked   STRESS linked with -lALLOC
#                                                   (STRESS "absent": skip)
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
ALLOC=$3
HOW=$4
need_lib

plain_env=()
shim_env=(LD_PRELOAD="$MEMKIT_LIB")
case "$HOW" in
none) ;;
linked)
    [ "$2" = absent ] && skip "$ALLOC is not installed (no -l$ALLOC to link)"
    LD_TRACE_LOADED_OBJECTS=1 "$BIN" | grep -q "lib$ALLOC" \
        || fail "$BIN is not linked with $ALLOC: $(LD_TRACE_LOADED_OBJECTS=1 "$BIN" | tr '\n' ' ')"
    ;;
*)
    path=$(find_lib "$HOW")
    [ -n "$path" ] || skip "$HOW is not installed"
    plain_env=(LD_PRELOAD="$path")
    shim_env=(LD_PRELOAD="$MEMKIT_LIB $path")
    ;;
esac

run "$T/plain" "$T/plain.d" "${plain_env[@]}" -- "$BIN"
expect_rc "plain run" "$T/plain" 0
grep -q '^result: ok$' "$T/plain.out" || fail "plain run: $(tail -1 "$T/plain.out")"
for i in 1 2; do
    run "$T/shim$i" "$T/shim$i.d" "${shim_env[@]}" -- "$BIN"
    same "stress over $ALLOC ($HOW), run $i" "$T/plain" "$T/shim$i" stderr
    grep -q '^result: ok$' "$T/shim$i.out" || fail "run $i under memkit: $(grep -v '^made' "$T/shim$i.out" | tail -3)"
done
cat "$T/plain.out" | sed 's/^/  plain: /' | head -4

allocs=$(value "$T/plain" allocs_made)
frees=$(value "$T/plain" frees_made)
held=$(value "$T/plain" peak_held_bytes)
vars=(--var "allocs=${allocs:-0}" --var "frees=${frees:-0}" --var "held=${held:-0}")
kinds=()
for k in malloc calloc realloc reallocarray posix_memalign aligned_alloc memalign valloc; do
    n=$(value "$T/plain" "made.$k")
    vars+=(--var "$k=${n:-0}")
    kinds+=(--check "k['$k']['calls'] >= v['$k']")
done
[ -n "$allocs" ] && [ "$allocs" -gt 100000 ] || fail "stress made too few allocations: '$allocs'"

# What the allocator beneath is called in the report, when it says.
case "$ALLOC" in
glibc) name_check='r.get("allocator", {}).get("name", "glibc") == "glibc"' ;;
*) name_check='"'"$ALLOC"'" in r.get("allocator", {}).get("name", "'"$ALLOC"'")' ;;
esac

for i in 1 2; do
    check "$T/shim$i.d" "${vars[@]}" --count 1 --select stress"${BIN##*/stress}" \
        --check 't["alloc_calls"] >= v["allocs"]' \
        --check 't["free_calls"] >= v["frees"]' \
        "${kinds[@]}" \
        --check 't.get("failures", 0) == 0' \
        --check 't["free_bytes"] <= t["alloc_bytes"]' \
        --check 't["alloc_bytes"] >= 300 << 20' \
        --check 'peak["heap_bytes"] >= v["held"] - (1 << 20)' \
        --check 'peak["heap_bytes"] <= t["alloc_bytes"]' \
        --check 't.get("heap_in_use", 0) <= 8 << 20' \
        --check 't.get("heap_in_use", 0) == t["alloc_bytes"] - t["free_bytes"]' \
        --check 'peak["rss_bytes"] >= 16 << 20' \
        --check 't["released_bytes"] == t["free_bytes"]' \
        --check "$name_check" \
        --print 'r.get("allocator")' \
        --print 'am'
done

# stress maps nothing itself: the program's own map count must not have
# the allocator's in it, whichever allocator. glibc maps through internal
# calls (invisible); jemalloc and mimalloc map through the PLT: memkit sees
# those maps and counts them as the allocator's (tcmalloc makes its maps
# with sbrk and raw system calls).
check "$T/shim1.d" --check 't["mmap_calls"] == 0' --check 't["munmap_calls"] == 0'
case "$ALLOC" in
jemalloc|mimalloc)
    check "$T/shim1.d" --check 'am["mmap_calls"] > 0' --check 'am["mmap_bytes"] > 0' \
        --check 'am["in_use"] <= am["peak"]' ;;
esac

finish
