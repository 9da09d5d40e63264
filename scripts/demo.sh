#!/usr/bin/env bash
# Installs what is missing, builds memkit, runs the demo under the shim and
# shows its report. Run from anywhere; builds in <repo>/build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
cd "$top"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
mkdir -p build/demo-reports
cd build/demo-reports
exec ../tools/memkit run -- ../demo/memkit-demo
