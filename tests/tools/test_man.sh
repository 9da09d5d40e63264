#!/usr/bin/env bash
# The manual pages: each renders without a warning (groff -ww, and man-db's
# `man --warnings` where man is installed); a tool's page names every
# option its --help lists; libmemkit(3) names every memkit_* function of
# include/memkit.h and every MEMKIT_* option of shim/options.def.
#   test_man.sh CASE PAGE MEMKIT_H OPTIONS_DEF [TOOL]
#   CASE: tool (PAGE is TOOL's page) or library (PAGE is libmemkit.3)
set -uo pipefail
case_=$1 page=$2 header=$3 def=$4 tool=${5:-}
. "$(dirname "$0")/lib.sh"
page=$(abs "$page") header=$(abs "$header") def=$(abs "$def")
[ -n "$tool" ] && tool=$(abs "$tool")
export LC_ALL=C.UTF-8

[ -s "$page" ] || fail "no page at $page"

# Rendered without warnings.
groff -man -Tutf8 -ww -z "$page" 2> "$box/err" || fail "groff failed on $page"
expect_empty err
if command -v man > /dev/null; then
    MANWIDTH=80 man --warnings -l "$page" > /dev/null 2> "$box/err" || fail "man failed on $page"
    expect_empty err
fi

# The text a reader sees: no hyphenation and wide lines, so that names are
# whole; then one word per line.
groff -man -Tutf8 -rHY=0 -rLL=250n -P-cbou "$page" 2> /dev/null |
    sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g' > "$box/page"
words=$box/words
tr -cs 'A-Za-z0-9_=-' '\n' < "$box/page" > "$words"
names() { grep -qxF -- "$1" "$words"; }

expect_in page "SYNOPSIS"
expect_in page "DESCRIPTION"
expect_in page "SEE ALSO"

case $case_ in
tool)
    name=$(basename "$tool")
    expect_match page "^NAME"
    grep -qE "^ +$name - " "$box/page" || fail "NAME does not say '$name - ...'"
    flags=$("$tool" --help | grep -oE -- '(^|[ [])--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | sort -u)
    [ -n "$flags" ] || fail "$name --help lists no options"
    for f in $flags; do
        names "$f" || fail "the page of $name does not name $f (from its --help)"
    done
    ;;
library)
    functions=$(grep 'MEMKIT_API' "$header" | grep -v '#define' |
                grep -oE 'memkit_[a-z0-9_]+[[:space:]]*\(' | tr -d '( ' | sort -u)
    [ "$(echo "$functions" | wc -l)" -ge 10 ] || fail "found only: $functions"
    for f in $functions; do
        names "$f" || fail "libmemkit.3 does not name $f (from memkit.h)"
    done
    options=$(grep '^MK_OPTION(' "$def" | grep -o '"MEMKIT_[A-Z0-9_]*"' | tr -d '"')
    [ -n "$options" ] || fail "no options in $def"
    for o in $options; do
        names "$o" || fail "libmemkit.3 does not name $o (from options.def)"
    done
    expect_in page "FUNCTIONS"
    expect_in page "ENVIRONMENT"
    echo "libmemkit.3 names $(echo "$functions" | wc -l) functions and $(echo "$options" | wc -l) options"
    ;;
*)
    fail "unknown case $case_"
    ;;
esac
exit 0
