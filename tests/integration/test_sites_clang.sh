#!/usr/bin/env bash
# Call sites of a clang-built program (-g -O2: no .debug_aranges, which
# libdw 0.188's address lookup needs): memkit-report must still give the
# allocating function's file:line, and name code inlined into a function.
#   test_sites_clang.sh LIBMEMKIT SITESCLANG_C MEMKIT_REPORT
# SITESCLANG_C is the source (sitesclang.c), built here with clang; the test
# is skipped when clang is not installed.
. "$(dirname "$0")/lib.sh"
LIB=$(abs "$1")
SRC=$(abs "$2")
REPORT_TOOL=$(abs "$3")

CLANG=
for c in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
    if command -v "$c" > /dev/null 2>&1; then
        CLANG=$c
        break
    fi
done
[ -n "$CLANG" ] || skip "clang is not installed"
cd "$T"

# The lines the frames must resolve to, from the markers in the source.
loop_line=$(grep -n 'ALLOC-LOOP \*/' "$SRC" | cut -d: -f1)
inl_line=$(grep -n 'ALLOC-INLINED \*/' "$SRC" | cut -d: -f1)
[ -n "$loop_line" ] && [ -n "$inl_line" ] || { echo "FAIL: no markers in $SRC" >&2; exit 1; }

"$CLANG" -g -O2 -fno-builtin-malloc -fno-builtin-free -o sitesclang "$SRC" 2> cc.err ||
    { cat cc.err >&2; echo "FAIL: $CLANG cannot build $SRC" >&2; exit 1; }
if readelf -S sitesclang | grep -q '\.debug_aranges'; then
    note "$CLANG emitted .debug_aranges: the fallback is not exercised here"
fi

run shim "$T/run" LD_PRELOAD="$LIB" MEMKIT_SAMPLE=4K MEMKIT_REPORT="$T/r.json" -- "$T/sitesclang"
expect_rc "sitesclang under memkit" shim 0
grep -q '^done ' shim.out || fail "sitesclang printed: $(cat shim.out)"
[ -f r.json ] || { fail "no report"; finish; }

"$REPORT_TOOL" --top 5 r.json > summary.txt 2> summary.err || fail "memkit-report --top failed: $(cat summary.err)"
"$REPORT_TOOL" --sites --top 5 r.json > sites.txt 2> sites.err || fail "memkit-report --sites failed: $(cat sites.err)"
table() {   # the "by bytes allocated" table of $1
    awk '/top call sites by bytes allocated/{f=1; next} /^$/{f=0} f' "$1"
}
table summary.txt > top.txt
table sites.txt > top_sites.txt

# The summary: one line a site, the leaf with its file:line.
grep -Eq "^ +[0-9]+\. .* loop_allocs \(sitesclang\.c:${loop_line}\) <- main" top.txt ||
    fail "--top: loop_allocs without sitesclang.c:${loop_line}: $(cat top.txt)"
grep -Eq "^ +[0-9]+\. .* inlined_alloc \(sitesclang\.c:${inl_line}, inlined into with" top.txt ||
    fail "--top: inlined_alloc not shown inlined with sitesclang.c:${inl_line}: $(cat top.txt)"
# --sites: the whole text and the callers' lines.
grep -Eq "inlined_alloc \(sitesclang\.c:${inl_line}, inlined into with_inlined\)$" top_sites.txt ||
    fail "--sites: inlined_alloc not shown inlined into with_inlined: $(cat top_sites.txt)"
grep -Eq "<- main \(sitesclang\.c:[0-9]+\)" top_sites.txt ||
    fail "--sites: main's frames without their lines: $(cat top_sites.txt)"
# The inlined function is no frame of its own: --folded names the function
# it is inlined into.
"$REPORT_TOOL" --folded r.json > folded.txt || fail "memkit-report --folded failed"
grep -q ';with_inlined ' folded.txt || fail "--folded: no with_inlined leaf: $(cat folded.txt)"
note "$(grep -E 'loop_allocs|inlined_alloc' top.txt)"
finish
