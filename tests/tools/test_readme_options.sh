#!/usr/bin/env bash
# README.md's options section is what `memkit --help-env=markdown` prints
# from the current option table.
#   test_readme_options.sh MEMKIT README
set -uo pipefail
memkit=$1 readme=$2
. "$(dirname "$0")/lib.sh"
memkit=$(abs "$memkit") readme=$(abs "$readme")

begin='<!-- options:begin -->'
end='<!-- options:end -->'
[ "$(grep -cxF -- "$begin" "$readme")" = 1 ] && [ "$(grep -cxF -- "$end" "$readme")" = 1 ] ||
    fail "$readme must hold the lines '$begin' and '$end' once each"

awk -v begin="$begin" -v end="$end" '
    $0 == end   { inside = 0 }
    inside      { print }
    $0 == begin { inside = 1 }
' "$readme" > in-readme
"$memkit" --help-env=markdown > expected || fail "memkit --help-env=markdown failed"
if ! diff -u in-readme expected >&2; then
    echo "README.md's options section differs from 'memkit --help-env=markdown' (diff above)." >&2
    echo "Regenerate it with: tools/update-readme-options.sh BUILD_DIR   (e.g. build), then commit README.md" >&2
    exit 1
fi
exit 0
