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
# A 6-second demo cannot wait the default minute between compactions:
# these two options let the give-back show after its release phase.
exec ../tools/memkit run --env MEMKIT_COMPACT_MIN_GAP=1s --env MEMKIT_POST_COMPACT_DELAY=500ms \
    -- ../demo/memkit-demo 6
