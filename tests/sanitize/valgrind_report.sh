#!/usr/bin/env bash
# valgrind_report.sh MEMKIT_REPORT LIBMEMKIT FIXTURES CASE — memkit-report
# under valgrind memcheck: no memory error and no definite leak, whatever
# it reads. The reports are the tools fixtures (good ones and every kind
# of refusal) and one written here by a real run of sort under
# libmemkit.so with small sampling, so --top resolves frames with libdw.
#   CASE refusals: the summary of every fixture memkit-report refuses
#   CASE VIEW (summary json folded timeline svg prom diff list): that view
#        of every readable report
# Exit 77 (skip) when valgrind is not installed.
set -u
report_tool=$1 lib=$2 fixtures=$3 case=$4
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
report_tool=$(cd "$(dirname "$report_tool")" && pwd)/$(basename "$report_tool")
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
T=$(mktemp -d "${TMPDIR:-/tmp}/memkit-valgrind.XXXXXX")
trap 'rm -rf "$T"' EXIT
failed=0

# vg NAME ARGS...: memkit-report ARGS under memcheck; its own exit status
# is not judged here (refusals exit 2), valgrind's finding (99) is.
vg() {
    local name=$1
    shift
    local rc=0
    valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite --track-origins=yes --log-file="$T/vg.log" \
        "$report_tool" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
    if [ "$rc" = 99 ] || [ -s "$T/vg.log" ]; then
        echo "FAIL: valgrind: memkit-report $* ($name):" >&2
        head -60 "$T/vg.log" >&2
        failed=1
    elif [ "$rc" -ge 128 ]; then
        echo "FAIL: memkit-report $* ($name) died with status $rc" >&2
        failed=1
    fi
}

readable=(good minimal busy compactions timeline)
refused=(array bad_compaction bad_timeline bad_type missing_section no_schema not_json
         truncated wrong_schema)

if [ "$case" = refusals ]; then
    for f in "${refused[@]}"; do
        [ -f "$fixtures/$f.json" ] && vg "$f" "$fixtures/$f.json"
    done
    vg missing "$T/no-such-report.json"
    vg folder "$fixtures"
else
    # A real report, with sampled sites of this machine's sort.
    seq 1 200000 | sed 's/$/ line/' >"$T/in"
    env LD_PRELOAD="$lib" MEMKIT_SAMPLE=4K MEMKIT_REPORT="$T/real.json" \
        sort -r "$T/in" -o "$T/sorted" || { echo "FAIL: sort under memkit failed" >&2; exit 1; }
    reports=("$T/real.json")
    for f in "${readable[@]}"; do
        [ -f "$fixtures/$f.json" ] && reports+=("$fixtures/$f.json")
    done
    for r in "${reports[@]}"; do
        n=$(basename "$r")
        case $case in
        summary)  vg "$n" --top 20 "$r" ;;
        json)     vg "$n" --json "$r" ;;
        folded)   vg "$n" --folded "$r" ;;
        timeline) vg "$n" --timeline "$r" ;;
        svg)      vg "$n" --svg - --top 5 "$r" ;;
        prom)     vg "$n" --prom "$r" ;;
        diff)     vg "$n" --diff --top 5 "$fixtures/good.json" "$r" ;;
        list)     cp "$r" "$T/memkit.$n.json" ;;
        *)        echo "unknown case $case" >&2; exit 2 ;;
        esac
    done
    if [ "$case" = list ]; then
        cp "$fixtures/truncated.json" "$T/memkit.truncated.json"
        cd "$T" && vg list --list
    fi
fi
[ "$failed" = 0 ] && echo "valgrind $case: ok"
exit "$failed"
