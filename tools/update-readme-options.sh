#!/usr/bin/env bash
# Regenerates README.md's options section, between the lines
# <!-- options:begin --> and <!-- options:end -->, from the option table
# (shim/options.def) through `memkit --help-env=markdown`.
#
#   tools/update-readme-options.sh [BUILD_DIR]     (default: build)
#
# The test tools/readme-options fails until this has been run after the
# table changes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
memkit=$build/tools/memkit
readme=$top/README.md
begin='<!-- options:begin -->'
end='<!-- options:end -->'

if [ ! -x "$memkit" ]; then
    echo "update-readme-options: $memkit not found; build first" \
         "(meson setup $build && ninja -C $build) or name the build folder" >&2
    exit 1
fi
if [ "$(grep -cxF -- "$begin" "$readme")" != 1 ] || [ "$(grep -cxF -- "$end" "$readme")" != 1 ]; then
    echo "update-readme-options: README.md must hold the lines '$begin' and '$end' once each" >&2
    exit 1
fi

if [ "$(grep -nxF -- "$begin" "$readme" | cut -d: -f1)" -gt "$(grep -nxF -- "$end" "$readme" | cut -d: -f1)" ]; then
    echo "update-readme-options: '$begin' must come before '$end' in README.md" >&2
    exit 1
fi

section=$(mktemp)
out=$(mktemp "$readme.XXXXXX")
trap 'rm -f "$section" "$out"' EXIT
"$memkit" --help-env=markdown > "$section"
awk -v begin="$begin" -v end="$end" -v section="$section" '
    $0 == begin { print; while ((getline line < section) > 0) print line; skip = 1; next }
    $0 == end   { skip = 0 }
    !skip       { print }
' "$readme" > "$out"
chmod --reference="$readme" "$out"
mv "$out" "$readme"
echo "README.md: options section regenerated from $memkit"
