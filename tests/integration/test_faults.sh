#!/usr/bin/env bash
# memkit out of memory: a build of the library whose own page allocations
# (report text, call-site tables, the sampled set, compaction records)
# fail on demand — every one, every 2nd, 3rd, 5th, 17th — while programs
# allocate, sample, compact and fork. The program's output and exit status
# never change; a report is complete or absent.
#   test_faults.sh LIBMEMKIT_FAULTS BEHAVIOURS STRESS DEFRAGLOAD FORKTHREADS
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BEHAVIOURS=$(abs "$2")
STRESS=$(abs "$3")
DEFRAGLOAD=$(abs "$4")
FORKTHREADS=$(abs "$5")
need_lib

# name|command; each runs plain once, then under every fault rate.
PROGRAMS=(
    "behaviours|$BEHAVIOURS"
    "stress|$STRESS 20000 100"
    "defrag|$DEFRAGLOAD alloc 96M free 90 alloc 8M free 100"
    "fork|$FORKTHREADS"
)
BUSY=(MEMKIT_SAMPLE=4K MEMKIT_COMPACT_THRESHOLD=8M MEMKIT_COMPACT_MIN_GAP=0 MEMKIT_THREAD_MIN=0
      MEMKIT_POST_COMPACT_DELAY=0)

for entry in "${PROGRAMS[@]}"; do
    name=${entry%%|*}
    read -r -a cmd <<<"${entry#*|}"
    run "$T/$name.plain" "$T/$name.plain.d" -- "${cmd[@]}"
    for every in 1 2 3 5 17; do
        out="$T/$name.$every"
        run "$out" "$out.d" LD_PRELOAD="$MEMKIT_LIB" MK_FAULT_EVERY=$every "${BUSY[@]}" -- "${cmd[@]}"
        same "$name, every ${every}th page allocation failing" "$T/$name.plain" "$out" stderr
        check "$out.d"   # whatever reports there are: complete, no temporary file
    done
    # With none failing, this build writes its reports as usual.
    run "$T/$name.0" "$T/$name.0.d" LD_PRELOAD="$MEMKIT_LIB" MK_FAULT_EVERY=0 "${BUSY[@]}" -- "${cmd[@]}"
    same "$name, no fault" "$T/$name.plain" "$T/$name.0" stderr
    check "$T/$name.0.d" --min-count 1
done
finish
