#!/usr/bin/env bash
# Installs what is missing, builds memkit and runs every test. Ends with a
# line "N passed, M failed"; exits non-zero when anything failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
cd "$top"
rm -rf build-test
meson setup build-test >/dev/null
ninja -C build-test
status=0
meson test -C build-test --print-errorlogs --num-processes 2 || status=$?
python3 - build-test/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
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
