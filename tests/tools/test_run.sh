#!/usr/bin/env bash
# `memkit run` with the real libmemkit.so: exit status, environment,
# reports of a process tree, the command's own output left alone.
#   test_run.sh CASE MEMKIT MEMKIT_REPORT LIBMEMKIT FIXTURES
set -uo pipefail
case_=$1 memkit=$2 report=$3 lib=$4 fixtures=$5
. "$(dirname "$0")/lib.sh"
memkit=$(abs "$memkit") report=$(abs "$report") lib=$(abs "$lib") fixtures=$(abs "$fixtures")

# The reports in the current folder, as "name pid run_id" lines.
reports_here() {
    python3 - "$@" <<'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] if len(sys.argv) > 1 else "memkit.*.json")):
    p = json.load(open(path))["process"]
    print(path, p["name"], p["pid"], p["run_id"])
PY
}

case $case_ in
status)
    run "$memkit" run -- sh -c 'exit 3'
    expect_status 3
    expect_in err "memkit: sh exited with status 3"
    run "$memkit" run -- true
    expect_status 0
    run "$memkit" run -- false
    expect_status 1
    ;;
signal)
    run "$memkit" run -- sh -c 'kill -TERM $$'
    expect_status 143
    expect_in err "memkit: sh was killed by signal 15"
    run "$memkit" run -- bash -c 'kill -KILL $$'
    expect_status 137
    expect_in err "wrote no report: a signal killed it"
    ;;
not-found)
    run "$memkit" run -- no-such-command-for-memkit-tests arg
    expect_status 127
    expect_empty out
    expect_lines err 1
    expect_in err "memkit: no-such-command-for-memkit-tests: command not found"
    run "$memkit" run -- ./not-here
    expect_status 127
    expect_in err "memkit: ./not-here: No such file or directory"
    ;;
not-executable)
    printf '#!/bin/sh\necho ran\n' > script.sh
    chmod 644 script.sh
    run "$memkit" run -- ./script.sh
    expect_status 126
    expect_lines err 1
    expect_in err "memkit: ./script.sh: Permission denied"
    mkdir folder
    run "$memkit" run -- ./folder
    expect_status 126
    ;;
env)
    run "$memkit" run --env FOO=bar --env=BAZ='a b=c' --env EMPTY= -- \
        sh -c 'printf "%s|%s|%s|%s\n" "$FOO" "$BAZ" "${EMPTY-unset}" "$MEMKIT_RUN_ID"'
    expect_status 0
    expect_match out '^bar\|a b=c\|\|[0-9]+-[0-9]+$'
    run "$memkit" run --env NOEQUALS -- true
    expect_status 125
    expect_in err "memkit run: --env wants NAME=VALUE, not 'NOEQUALS'"
    run "$memkit" run --env =x -- true
    expect_status 125
    ;;
summary)
    seq 3 > expected
    run "$memkit" run -- seq 3
    expect_status 0
    cmp -s expected "$box/out" || fail "stdout of seq 3 changed under memkit run"
    pid=$(ls memkit.seq.*.json | sed 's/memkit.seq.\(.*\).json/\1/')
    [ -n "$pid" ] || fail "no memkit.seq.*.json here"
    expect_in err "memkit: seq exited with status 0"
    expect_in err "report      memkit.seq.$pid.json"
    expect_in err "program     seq, pid $pid"
    expect_in err "command     seq 3"
    expect_match err '^peaks       heap [0-9.]+ [KMG]?i?B, RSS [0-9.]+ [KMG]iB'
    expect_match err '^allocs      [0-9,]+ calls'
    expect_not_in err "other process"
    # the same summary memkit-report prints; memkit-report adds the top
    # call sites after a blank line when seq happened to be sampled
    grep -v '^memkit: ' "$box/err" > from-run
    run "$report" "memkit.seq.$pid.json"
    expect_status 0
    sed '/^$/,$d' "$box/out" > from-report
    diff -u from-run from-report >&2 || fail "memkit run and memkit-report summaries differ"
    ;;
timeline)
    # a real run: the report's timeline, in the summary and as a table
    run "$memkit" run --report tl.json -- python3 -c '
import time
b = []
for i in range(40):
    b.append([bytearray(100000) for _ in range(20)])
    time.sleep(0.005)
del b
time.sleep(0.05)'
    expect_status 0
    expect_match err '^timeline    [0-9,]+ points, RSS [0-9.]+ [KMG]iB -> [0-9.]+ [KMG]iB peak -> [0-9.]+ [KMG]iB \(--timeline\)$'
    run "$report" --timeline tl.json
    expect_status 0
    expect_empty err
    expect_match out '^timeline: [0-9,]+ points to [0-9.]+ ms, resolution 10 ms; [0-9]+ rows'
    sed 1,2d "$box/out" > rows
    n=$(wc -l < rows)
    [ "$n" -ge 5 ] && [ "$n" -le 24 ] || fail "$n rows, expected 5 to 24"
    # RSS is read by the monitor and at exit, not inside the program's
    # calls: a row has RSS and a bar, or "-" (not read) and none.
    ! grep -vqE '^ *[0-9.]+ (us|ms|s) +[0-9.]+ [KMG]?i?B +[0-9.]+ [KMG]?i?B +([0-9.]+ [KMG]?i?B  #+|-  *$)' rows ||
        fail "a row is not time, heap, maps, and RSS with a bar or -"
    tail -1 rows | grep -qE '[0-9.]+ [KMG]?i?B  #+ +exit$' || fail "the exit row has no RSS: $(tail -1 rows)"
    tail -1 rows | grep -qE ' exit$' || fail "the last row is not the exit"
    # the peak of the run: about 80 MB allocated, a full bar
    grep -qE '#{26}' rows || fail "no row has the full bar"
    ;;
pipeline)
    run "$memkit" run -- bash -c 'seq 1000 | sort -n | tail -1'
    expect_status 0
    [ "$(cat "$box/out")" = 1000 ] || fail "stdout of the pipeline changed"
    expect_in err "program     bash, pid"
    expect_in err "command     bash -c 'seq 1000 | sort -n | tail -1'"
    expect_in err "3 other processes of this run:"
    for name in seq sort tail; do
        expect_match err "^  $name +pid [0-9]+ +[0-9.]+ [um]?s +heap peak +[0-9.]+ [KMG]?i?B +[0-9,]+ allocs +memkit\.$name\.[0-9]+\.json$"
    done
    [ "$(ls memkit.*.json | wc -l)" = 4 ] || fail "expected 4 reports, got: $(ls)"
    # With sh (dash here) the root leaves through _exit and writes no report:
    # still the three others, and the command's output unchanged.
    rm -f memkit.*.json
    run "$memkit" run -- sh -c 'seq 1000 | sort -n | tail -1'
    expect_status 0
    [ "$(cat "$box/out")" = 1000 ] || fail "stdout of the sh pipeline changed"
    expect_in err "3 other processes of this run:"
    expect_match err '^  sort +pid '
    ;;
report-path)
    mkdir out
    run "$memkit" run --report out/root.json -- bash -c 'seq 5 | wc -l'
    expect_status 0
    [ -f out/root.json ] || fail "out/root.json not written"
    ! ls memkit.*.json >/dev/null 2>&1 || fail "reports written in the current folder"
    expect_in err "report      out/root.json"
    expect_in err "program     bash"
    expect_match err '^  seq +pid .* out/memkit\.seq\.[0-9]+\.json$'
    expect_match err '^  wc +pid .* out/memkit\.wc\.[0-9]+\.json$'
    [ "$(ls out | wc -l)" = 3 ] || fail "expected 3 reports in out/: $(ls out)"
    reports_here 'out/root.json' | grep -q ' bash ' || fail "out/root.json is not bash's report"
    # the folder must exist: memkit says so before running anything
    run "$memkit" run --report nowhere/r.json -- touch ran
    expect_status 125
    expect_in err "memkit: report folder $work/nowhere: No such file or directory"
    [ ! -e ran ] || fail "the command ran although the report folder is missing"
    # an inherited MEMKIT_REPORT is honoured the same way
    MEMKIT_REPORT=inherited.json run "$memkit" run -- true
    [ -f inherited.json ] || fail "inherited MEMKIT_REPORT not honoured"
    ;;
report-template)
    run "$memkit" run --report 'r.%e.%p.json' -- bash -c 'seq 5 | wc -l'
    expect_status 0
    [ "$(ls r.*.json | wc -l)" = 3 ] || fail "expected r.bash/seq/wc reports: $(ls)"
    expect_match err '^report      r\.bash\.[0-9]+\.json$'
    expect_match err '^  seq +pid .* r\.seq\.[0-9]+\.json$'
    run "$memkit" run --report 'x%p/r.json' -- true
    expect_status 125
    expect_in err "belong in the file name"
    run "$memkit" run --report 'r.%z.json' -- true
    expect_status 125
    ;;
report-off)
    run "$memkit" run --env MEMKIT_REPORT=off -- sh -c 'exit 5'
    expect_status 5
    expect_in err "memkit: no report was written (MEMKIT_REPORT=off)"
    ! ls ./*.json >/dev/null 2>&1 || fail "a report was written: $(ls)"
    MEMKIT_REPORT=off run "$memkit" run -- true
    expect_status 0
    expect_in err "no report was written"
    run "$memkit" run --env MEMKIT_DISABLE=1 -- true
    expect_status 0
    expect_in err "memkit: no report: MEMKIT_DISABLE is set"
    ;;
run-id)
    # a report of another run in the same folder is not listed
    cp "$fixtures/good.json" memkit.sort.4242.json
    run "$memkit" run -- bash -c 'seq 3 | sort'
    expect_status 0
    expect_in err "2 other processes of this run:"
    expect_not_in err "memkit.sort.4242.json"
    ids=$(reports_here | grep -v 4242 | awk '{print $4}' | sort -u)
    [ "$(echo "$ids" | wc -l)" = 1 ] && [ -n "$ids" ] || fail "run ids: '$ids'"
    rm -f memkit.*.json
    run "$memkit" run --env MEMKIT_RUN_ID=mine -- bash -c 'seq 3 | sort'
    expect_in err "2 other processes of this run:"
    [ "$(reports_here | awk '{print $4}' | sort -u)" = mine ] || fail "MEMKIT_RUN_ID=mine not used"
    # an inherited id belongs to an enclosing run and is not reused
    rm -f memkit.*.json
    MEMKIT_RUN_ID=outer run "$memkit" run -- true
    [ "$(reports_here | awk '{print $4}')" != outer ] || fail "inherited MEMKIT_RUN_ID reused"
    ;;
preload)
    real=$(realpath "$lib")
    run "$memkit" run -- printenv LD_PRELOAD
    [ "$(cat "$box/out")" = "$real" ] || fail "LD_PRELOAD='$(cat "$box/out")', expected $real"
    other=$(realpath "$(ldd /bin/true | awk '/libc\.so/ {print $3}')")
    LD_PRELOAD=$other run "$memkit" run -- printenv LD_PRELOAD
    [ "$(cat "$box/out")" = "$real:$other" ] || fail "existing LD_PRELOAD not kept after memkit"
    LD_PRELOAD=$real run "$memkit" run -- printenv LD_PRELOAD
    [ "$(cat "$box/out")" = "$real" ] || fail "libmemkit.so preloaded twice"
    MEMKIT_LIB=$lib run "$memkit" run -- printenv LD_PRELOAD
    [ "$(cat "$box/out")" = "$real" ] || fail "MEMKIT_LIB not used"
    ;;
no-library)
    MEMKIT_LIB=$work/none/libmemkit.so run "$memkit" run -- touch ran
    expect_status 125
    expect_in err "memkit: MEMKIT_LIB=$work/none/libmemkit.so: No such file or directory"
    [ ! -e ran ] || fail "the command ran without the library"
    mkdir bin
    cp "$memkit" bin/memkit
    run bin/memkit run -- touch ran
    expect_status 125
    expect_in err "cannot find libmemkit.so beside $work/bin"
    # installed layout: <prefix>/bin/memkit and <prefix>/lib/libmemkit.so
    mkdir lib
    cp "$lib" lib/libmemkit.so
    run bin/memkit run -- true
    expect_status 0
    expect_in err "program     true"
    ;;
sigint)
    # memkit ignores ^C while the command runs (the command gets it), and
    # leaves with the command's status. Started with SIGINT at its default:
    # a background job of a script would otherwise inherit it ignored.
    env --default-signal=INT,QUIT "$memkit" run -- bash -c 'echo $$ > pid; exec sleep 30' \
        > "$box/out" 2> "$box/err" &
    launcher=$!
    for _ in $(seq 100); do [ -s pid ] && break; sleep 0.05; done
    [ -s pid ] || fail "the command did not start"
    kill -INT "$launcher"
    sleep 0.3
    kill -0 "$launcher" 2>/dev/null || fail "memkit died of SIGINT"
    kill -INT "$(cat pid)"
    status=0
    wait "$launcher" || status=$?
    expect_status 130
    expect_in err "memkit: bash was killed by signal 2"
    ;;
usage)
    run "$memkit"
    expect_status 125
    expect_in err "usage: memkit run"
    run "$memkit" --help
    expect_status 0
    expect_in out "memkit --help-env"
    run "$memkit" --version
    expect_status 0
    expect_match out '^memkit [0-9]+\.[0-9]+\.[0-9]+$'
    run "$memkit" run --help
    expect_status 0
    expect_in out "--report PATH"
    run "$memkit" run
    expect_status 125
    expect_in err "memkit run: no command to run"
    run "$memkit" run --report
    expect_status 125
    expect_in err "memkit run: --report needs a value"
    run "$memkit" run --frob -- true
    expect_status 125
    expect_in err "memkit run: unknown option '--frob'"
    run "$memkit" frob
    expect_status 125
    expect_in err "memkit: unknown command or option 'frob'"
    ;;
*)
    fail "unknown case $case_"
    ;;
esac
exit 0
