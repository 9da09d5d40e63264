#!/usr/bin/env bash
# The defragmenter, end to end: defragload (defragload.c) builds and frees
# heaps under memkit, and the report says which compactions ran, why, and
# what they gave back.
#   test_defrag.sh LIBMEMKIT DEFRAGLOAD CASE [SONAME]
# CASE: threshold, verify, pressure, settle, other-thread, gap, interval, backoff, aggressive,
# runtime, notify, manual, short, fork, exit, child-monitor,
# allocator (SONAME: the allocator preloaded after memkit).
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
CASE=$3
SONAME=${4:-}
need_lib
PRELOAD="$MEMKIT_LIB"

# go NAME [VAR=VALUE]... -- STEPS...: runs defragload under memkit in
# $T/NAME.d (its report lands there); its output is $T/NAME.out.
go() {
    local name=$1
    shift
    run "$T/$name" "$T/$name.d" LD_PRELOAD="$PRELOAD" "$@"
    expect_rc "$name" "$T/$name" 0
    sed "s/^/  $name: /" "$T/$name.out"
}

# report NAME RULE...: checks the one report of run NAME.
report() {
    local name=$1
    shift
    check "$T/$name.d" --count 1 "$@"
}

case "$CASE" in
threshold)
    # 200M released past a 64M threshold: compactions, and RSS comes down.
    go t MEMKIT_COMPACT_THRESHOLD=64M MEMKIT_COMPACT_MIN_GAP=0 MEMKIT_POST_COMPACT_DELAY=0 \
        -- "$BIN" alloc 200M rss free 100 wait 1 5 sleep 0.3 rss
    before=$(sed -n 's/^rss_mib=//p' "$T/t.out" | head -1)
    after=$(sed -n 's/^rss_mib=//p' "$T/t.out" | tail -1)
    [ "$after" -lt $((before / 2)) ] || fail "RSS $before MiB before, $after MiB after the compactions"
    report t --check "r['compaction']['by_reason']['threshold'] >= 1" \
        --check "r['compaction']['monitor_thread'] is True" \
        --check "r['allocator']['release_call'] == 'malloc_trim'" \
        --check "all(c['reason'] == 'threshold' and c['ran'] for c in r['compactions'])" \
        --check "r['compaction']['returned_bytes'] > 100 * 2**20" \
        --check "r['compactions'][0]['released_before'] >= 64 * 2**20" \
        --check "r['compaction']['count'] == len(r['compactions'])"
    ;;
verify)
    # Blocks keep their contents, sizes and alignment while compactions run
    # back to back: with the detour (the default) and without it; plain
    # gives the same output.
    steps=(alloc 100M holes 4 verify 3)
    run "$T/plain" "$T/plain.d" -- "$BIN" "${steps[@]}"
    go v -- "$BIN" "${steps[@]}"
    go nd MEMKIT_COMPACT_DETOUR=0 -- "$BIN" "${steps[@]}"
    grep -q '^verify errors=0 compactions=few$' "$T/plain.out" || fail "plain: $(cat "$T/plain.out")"
    grep -q '^verify errors=0 compactions=many$' "$T/v.out" || fail "detour: $(grep verify "$T/v.out")"
    grep -q '^verify errors=0 compactions=many$' "$T/nd.out" || fail "no detour: $(grep verify "$T/nd.out")"
    report nd --check "r['compaction']['detour']['windows'] == 0"
    report v --check "r['compaction']['by_reason']['manual'] > 10" \
        --check "r['compaction']['detour']['windows'] > 10" \
        --check "r['compaction']['detour']['allocations'] > 0" \
        --check "r['compaction']['detour']['deferred_frees'] > 0" \
        --check "r['totals']['alloc_calls'] - r['totals']['free_calls'] < 300000"
    ;;
pressure)
    # A memory cgroup (v1 here, v2 where that is the hierarchy) whose limit
    # the program nearly fills: memkit samples the cgroup and compacts for
    # pressure, with no threshold at all.
    cg=""
    for root in /sys/fs/cgroup/memory /sys/fs/cgroup; do
        if [ -f "$root/cgroup.procs" ] && mkdir "$root/memkit-test-$$" 2>/dev/null; then
            cg="$root/memkit-test-$$"
            break
        fi
    done
    [ -n "$cg" ] || skip "cannot create a memory cgroup here (needs root and a writable hierarchy)"
    if [ -f "$cg/memory.limit_in_bytes" ]; then
        echo $((96 * 1024 * 1024)) >"$cg/memory.limit_in_bytes"
    elif [ -f "$cg/memory.max" ]; then
        echo $((96 * 1024 * 1024)) >"$cg/memory.max"
    else
        rmdir "$cg"
        skip "the new cgroup has no memory controller"
    fi
    go p MEMKIT_COMPACT_THRESHOLD=0 MEMKIT_THREAD_MIN=1M MEMKIT_MONITOR_INTERVAL=100ms \
        -- sh -c "echo \$\$ >'$cg/cgroup.procs' && exec \"\$0\" \"\$@\"" "$BIN" \
        alloc 90M holes 2 wait 1 5
    rmdir "$cg" 2>/dev/null || true
    report p --check "r['compaction']['by_reason']['pressure'] >= 1" \
        --check "r['compaction']['by_reason']['threshold'] == 0"
    ;;
settle)
    # 100M released past a 64M threshold: the first compaction fires at 64M,
    # the remaining 36M are given back once the frees stop.
    go s MEMKIT_COMPACT_THRESHOLD=64M MEMKIT_COMPACT_MIN_GAP=0 MEMKIT_POST_COMPACT_DELAY=0 \
        -- "$BIN" alloc 100M free 100 sleep 1 rss
    after=$(sed -n 's/^rss_mib=//p' "$T/s.out" | tail -1)
    [ "$after" -lt 32 ] || fail "RSS $after MiB after 100M were allocated and freed"
    # However the frees and the compactions interleave, less than a
    # quarter of the threshold is left over.
    report s --check "r['compaction']['by_reason']['threshold'] >= 1" \
        --check "r['compaction']['released_since_compact'] < 16 * 2**20" \
        --print "[(c['t_s'], c['released_before'] >> 20) for c in r['compactions']]"
    ;;
other-thread)
    # glibc trims the top of other threads' arenas only; the compaction
    # reaches the holes inside them (the thread's newest 10% stay live).
    go o MEMKIT_COMPACT_THRESHOLD=64M MEMKIT_COMPACT_MIN_GAP=0 MEMKIT_POST_COMPACT_DELAY=0 \
        -- "$BIN" thread 300M wait 3 5 sleep 0.3 rss
    after=$(sed -n 's/^rss_mib=//p' "$T/o.out" | tail -1)
    [ "$after" -lt 120 ] || fail "other thread's arena: RSS $after MiB after its 300M were 90% freed"
    report o --check "r['compaction']['by_reason']['threshold'] >= 1" \
        --check "r['compaction']['returned_bytes'] >= 150 * 2**20"
    ;;
gap)
    # Bursts every 0.3 s, each past the threshold (and each leaving its
    # newest tenth live, so that the trims give back and never back off);
    # with a 2 s gap the threshold compactions are at least 2 s apart.
    steps=()
    for i in $(seq 14); do steps+=(alloc 40M free 90 sleep 0.3); done
    go g MEMKIT_COMPACT_THRESHOLD=16M MEMKIT_COMPACT_MIN_GAP=2s MEMKIT_POST_COMPACT_DELAY=0 \
        -- "$BIN" "${steps[@]}"
    report g --check "r['compaction']['by_reason']['threshold'] >= 2" \
        --check "all(b['t_s'] - a['t_s'] >= 1.99 for a, b in zip(r['compactions'], r['compactions'][1:]))" \
        --print "[c['t_s'] for c in r['compactions']]"
    ;;
interval)
    # No threshold; every 1 s while bytes were released, and not again
    # once nothing more is released.
    go i MEMKIT_COMPACT_THRESHOLD=0 MEMKIT_COMPACT_INTERVAL=1s MEMKIT_POST_COMPACT_DELAY=0 \
        MEMKIT_THREAD_MIN=8M \
        -- "$BIN" alloc 40M free 100 wait 1 4 sleep 2.5
    report i --check "r['compaction']['count'] == r['compaction']['by_reason']['interval'] == 1" \
        --check "r['compactions'][0]['t_s'] >= 0.95"
    ;;
backoff)
    # Every page keeps a live block: each trim gives back little of what
    # was released, so the back-off doubles and holds compactions back.
    steps=()
    for i in 1 2 3 4 5 6 7 8 9 10; do steps+=(alloc 40M holes 4); done
    go b MEMKIT_COMPACT_THRESHOLD=8M MEMKIT_COMPACT_MIN_GAP=0 MEMKIT_POST_COMPACT_DELAY=0 \
        MEMKIT_THREAD_MIN=8M -- "$BIN" "${steps[@]}" sleep 0.3
    report b --check "r['compaction']['backoff_factor'] >= 8" \
        --check "r['compaction']['backoff_skipped'] >= 1" \
        --check "r['compaction']['count'] <= 12" \
        --print "(r['compaction']['count'], r['compaction']['backoff_factor'], r['compaction']['backoff_skipped'])"
    ;;
aggressive)
    command -v strace >/dev/null || skip "strace is not installed"
    go a MEMKIT_COMPACT_THRESHOLD=32M MEMKIT_COMPACT_MIN_GAP=0 MEMKIT_AGGRESSIVE=1 \
        -- strace -f -e trace=sync -o "$T/a.strace" "$BIN" alloc 64M free 100 wait 1 5
    grep -q '^[0-9]* *sync()' "$T/a.strace" || fail "aggressive mode did not call sync(): $(head -3 "$T/a.strace")"
    go n MEMKIT_COMPACT_THRESHOLD=32M MEMKIT_COMPACT_MIN_GAP=0 \
        -- strace -f -e trace=sync -o "$T/n.strace" "$BIN" alloc 64M free 100 wait 1 5
    ! grep -q 'sync()' "$T/n.strace" || fail "sync() called without aggressive mode"
    ;;
runtime)
    # Off at start; memkit_config_set switches the threshold on.
    go r MEMKIT_COMPACT_THRESHOLD=off MEMKIT_COMPACT_MIN_GAP=0 MEMKIT_THREAD_MIN=8M \
        -- "$BIN" alloc 100M free 100 wait 1 1 \
           set MEMKIT_COMPACT_THRESHOLD 16M alloc 40M free 100 wait 1 5
    grep -q '^compactions=0$' "$T/r.out" || fail "a compaction ran with the threshold off"
    grep -q '^set MEMKIT_COMPACT_THRESHOLD=16M rc=0$' "$T/r.out" || fail "config_set/get: $(grep '^set' "$T/r.out")"
    grep -q '^compactions=1$' "$T/r.out" || fail "no compaction after the threshold was set"
    report r --check "cfg['MEMKIT_COMPACT_THRESHOLD'] == '16M'" \
        --check "r['compaction']['by_reason']['threshold'] >= 1"
    ;;
notify)
    # Bytes the program released by its own means count too.
    go n MEMKIT_COMPACT_THRESHOLD=100M MEMKIT_COMPACT_MIN_GAP=0 \
        -- "$BIN" notify 150M wait 1 5
    grep -q '^compactions=1$' "$T/n.out" || fail "memkit_notify_released did not lead to a compaction"
    report n --check "r['totals']['released_bytes'] >= 150 * 2**20" \
        --check "r['compactions'][0]['released_before'] >= 150 * 2**20"
    ;;
manual)
    go m -- "$BIN" alloc 30M free 90 compact
    grep -q '^compact rc=0 ran=1$' "$T/m.out" || fail "memkit_compact: $(grep compact "$T/m.out")"
    report m --check "r['compaction']['by_reason']['manual'] == 1" \
        --check "r['compaction']['monitor_thread'] is False"
    ;;
short)
    # Below MEMKIT_THREAD_MIN: no monitor thread, no compaction.
    go s MEMKIT_COMPACT_THRESHOLD=1M MEMKIT_COMPACT_MIN_GAP=0 \
        -- "$BIN" alloc 30M free 100 sleep 0.2
    report s --check "r['compaction']['monitor_thread'] is False" \
        --check "r['compaction']['count'] == 0"
    ;;
fork)
    # Children forked while another thread compacts: each exits 0 and
    # writes its own report.
    go f MEMKIT_COMPACT_THRESHOLD=32M MEMKIT_COMPACT_MIN_GAP=0 \
        -- "$BIN" alloc 200M free 90 forks 20
    grep -q '^forks=20 ok=20$' "$T/f.out" || fail "fork during compaction: $(grep forks "$T/f.out")"
    check "$T/f.d" --count 21 --distinct-pids
    ;;
exit)
    # exit() while a compaction runs: status 0, a complete report.
    go e -- "$BIN" alloc 400M free 90 exit-compacting
    report e
    ;;
child-monitor)
    # A fork child has no monitor of its own until it has work: then it
    # starts one and compacts its own heap.
    go c MEMKIT_COMPACT_THRESHOLD=32M MEMKIT_COMPACT_MIN_GAP=0 \
        -- "$BIN" alloc 100M free 100 wait 1 5 fork-child 100M
    grep -q '^child compactions=1 rc=0$' "$T/c.out" || fail "fork child: $(grep child "$T/c.out")"
    check "$T/c.d" --count 2 --distinct-pids \
        --check "r['compaction']['monitor_thread'] is True" \
        --check "r['compaction']['by_reason']['threshold'] >= 1"
    ;;
allocator)
    path=$(find_lib "$SONAME")
    [ -n "$path" ] || skip "$SONAME is not installed"
    PRELOAD="$MEMKIT_LIB $path"
    go x MEMKIT_COMPACT_THRESHOLD=64M MEMKIT_COMPACT_MIN_GAP=0 \
        -- "$BIN" alloc 200M free 100 wait 1 5 alloc 1M free 100 sleep 0.2
    case "$SONAME" in
    libjemalloc*) call=arena.4096.purge ;;
    libtcmalloc*) call=MallocExtension_ReleaseFreeMemory ;;
    libmimalloc*) call=mi_collect ;;
    esac
    report x --check "r['allocator']['release_call'] == '$call'" \
        --check "r['compaction']['count'] >= 1" \
        --check "all(c['ran'] for c in r['compactions'])" \
        --print "[(c['rss_before'] >> 20, c['rss_after'] >> 20) for c in r['compactions']]"
    ;;
*)
    fail "unknown case $CASE"
    ;;
esac
finish
