#!/usr/bin/env bash
# run_target.sh FUZZER CORPUS SECONDS [DICT] — one bounded libFuzzer run:
# every input of CORPUS first (the regressions), then SECONDS of new
# inputs. CORPUS is only read: what the run finds goes to a scratch folder
# that is removed. A crash, a leak, a sanitizer finding or a broken
# property fails the test, and the input that did it is kept beside the
# fuzzer (artifacts-NAME/) and shown in hex, to become a corpus file.
# FUZZ_SEED=N fixes libFuzzer's seed (the test suite uses 1, so a CI run
# explores what a run here explored; tests/fuzz/run.sh leaves it random).
set -u
fuzzer=$1 corpus=$2 seconds=$3 dict=${4:-}
name=$(basename "$fuzzer")
artifacts="$(cd "$(dirname "$fuzzer")" && pwd)/artifacts-$name"
mkdir -p "$artifacts"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/memkit-$name.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
      -artifact_prefix="$artifacts/" -print_final_stats=1)
[ -n "$dict" ] && [ -f "$dict" ] && args+=(-dict="$dict")
[ -n "${FUZZ_SEED:-}" ] && args+=(-seed="$FUZZ_SEED")
[ -d "$corpus" ] || { echo "$name: no corpus folder $corpus" >&2; exit 1; }
# Leaks count here (the unit tests' ASan run turns the check off).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
before=$(ls "$artifacts" | wc -l)
rc=0
"$fuzzer" "${args[@]}" "$scratch" "$corpus" || rc=$?
if [ "$rc" != 0 ]; then
    echo "$name: FAILED (exit status $rc); the input is in $artifacts:" >&2
    for f in $(ls -t "$artifacts" | head -3); do
        echo "--- $f ($(stat -c %s "$artifacts/$f") bytes)" >&2
        head -c 2048 "$artifacts/$f" | od -A d -t x1z | head -40 >&2
    done
    exit 1
fi
[ "$(ls "$artifacts" | wc -l)" = "$before" ] || { echo "$name: new artifacts in $artifacts" >&2; exit 1; }
echo "$name: ok"
