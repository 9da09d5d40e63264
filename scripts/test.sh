#!/usr/bin/env bash
# Installs what is missing, builds memkit and runs every test: the build's
# own (build-test), then the sanitizer builds (tests/sanitize/run.sh:
# build-san-ubsan, -asan with the fuzz targets, -tsan). Ends with a line
# "N passed, M failed, K skipped" over all of them; exits non-zero when
# anything failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
cd "$top"
san_dirs=(build-san-ubsan build-san-asan build-san-tsan)
rm -rf build-test "${san_dirs[@]}"
meson setup build-test >/dev/null
ninja -C build-test
status=0
meson test -C build-test --print-errorlogs --num-processes 2 || status=$?
SAN_FRESH=1 tests/sanitize/run.sh || status=1
logs=(build-test/meson-logs/testlog.json)
for d in "${san_dirs[@]}"; do
    [ -f "$d/meson-logs/testlog.json" ] && logs+=("$d/meson-logs/testlog.json")
done
python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in (l for path in sys.argv[1:] for l in open(path)):
    result = json.loads(line)["result"]
    if result in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif result == "SKIP":
        skipped += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
