#!/usr/bin/env bash
# tests/fuzz/run.sh [-m] [SECONDS] [TARGET...] — fuzz longer than CI does.
# Builds the libFuzzer targets with clang in build-san-fuzz (configured
# here the first time; only the targets are built) and runs each TARGET
# (default: all of tests/fuzz/fuzz_*.c) for SECONDS (default 300) over its
# corpus, in the same way as `meson test --suite fuzz` (run_target.sh):
# the corpus is read, never written; a failure leaves the input in
# build-san-fuzz/tests/fuzz/artifacts-fuzz_TARGET/.
#   -m  then merges into tests/fuzz/corpus/TARGET the inputs of this run
#       that reach code the corpus does not (libFuzzer -merge=1), to commit
#       with the change that needed them. Keep the corpus small.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
merge=0
[ "${1:-}" = -m ] && { merge=1; shift; }
seconds=300
[[ "${1:-}" =~ ^[0-9]+$ ]] && { seconds=$1; shift; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        t=${f#tests/fuzz/fuzz_}
        targets+=("${t%.c}")
    done
fi
command -v clang >/dev/null || { echo "tests/fuzz/run.sh: clang is not installed" >&2; exit 1; }
dir=build-san-fuzz
[ -f "$dir/build.ninja" ] || CC=clang meson setup "$dir" >/dev/null
ninja -C "$dir" "${targets[@]/#/tests/fuzz/fuzz_}"

status=0
for t in "${targets[@]}"; do
    exe=$dir/tests/fuzz/fuzz_$t
    corpus=tests/fuzz/corpus/$t
    echo "== fuzz_$t: ${seconds}s"
    if [ "$merge" = 1 ]; then
        found=$(mktemp -d)
        # run_target.sh keeps nothing it finds: run the fuzzer here instead.
        ASAN_OPTIONS=detect_leaks=1 "$exe" -max_total_time="$seconds" -timeout=10 \
            -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$dir/tests/fuzz/" \
            $( [ -f "tests/fuzz/$t.dict" ] && echo "-dict=tests/fuzz/$t.dict") \
            "$found" "$corpus" || status=1
        before=$(ls "$corpus" | wc -l)
        "$exe" -merge=1 "$corpus" "$found" >/dev/null 2>&1 || status=1
        echo "fuzz_$t: corpus $before -> $(ls "$corpus" | wc -l) files"
        rm -rf "$found"
    else
        bash tests/fuzz/run_target.sh "$exe" "$corpus" "$seconds" "tests/fuzz/$t.dict" || status=1
    fi
done
exit $status
