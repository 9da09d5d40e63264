#!/usr/bin/env bash
# `memkit --help-env` lists every option of shim/options.def, as text and
# as the markdown table.
#   test_help_env.sh MEMKIT OPTIONS_DEF
set -uo pipefail
memkit=$1 def=$2
. "$(dirname "$0")/lib.sh"
memkit=$(abs "$memkit") def=$(abs "$def")

names=$(grep '^MK_OPTION(' "$def" | grep -o '"MEMKIT_[A-Z0-9_]*"' | tr -d '"')
[ -n "$names" ] || fail "no options found in $def"
count=$(echo "$names" | wc -l)

run "$memkit" --help-env
expect_status 0
expect_empty err
for n in $names; do
    expect_match out "^$n +default: "
done
[ "$(grep -c '^MEMKIT_' "$box/out")" = "$count" ] || fail "text lists another number of options than $count"
[ "$(grep -c '^ \{4,\}value: ' "$box/out")" = "$count" ] || fail "an option lacks its value line"
awk 'length > 79 { exit 1 }' "$box/out" || fail "a line is wider than 79 columns"

run "$memkit" --help-env=markdown
expect_status 0
expect_in out "| variable | default | meaning |"
for n in $names; do
    expect_match out "^\| \`$n\` \| .* \| .+ \|$"
done
[ "$(grep -c '^| `MEMKIT_' "$box/out")" = "$count" ] || fail "markdown has another number of rows than $count"
expect_in out '| `MEMKIT_REPORT` | `memkit.%e.%p.json` |'

run "$memkit" --help-env=html
expect_status 125
exit 0
