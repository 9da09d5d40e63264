#!/usr/bin/env bash
# A shell pipeline under memkit: the same output, and every process of the
# tree (sh, sort, uniq, sort, head) leaves its own complete report,
# memkit.<name>.<pid>.json in the folder it started in. exec keeps the pid:
# one report, the new program's.
#   test_pipeline.sh LIBMEMKIT
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
need_lib
export LC_ALL=C

# 100000 lines of 50 distinct words: every stage exits normally (nothing
# is cut short by SIGPIPE, so every process writes its report).
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "word%d\n", (i * 7919) % 50 + (i % 7 == 0 ? 0 : i % 3) }' >"$T/f"
cmd="sort $T/f | uniq -c | sort -rn | head -3"

run "$T/plain" "$T/plain.d" -- sh -c "$cmd"
expect_rc "plain pipeline" "$T/plain" 0
[ "$(wc -l <"$T/plain.out")" = 3 ] || fail "plain pipeline printed $(wc -l <"$T/plain.out") lines"
# Debian's sh is dash, which leaves with _exit (never exit): it reports
# all the same (README, process trees). bash leaves with exit.
shells=(sh bash)
for i in 0 1 2 3; do
    shell=${shells[$((i % 2))]}
    run "$T/shim$i" "$T/shim$i.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_RUN_ID="integ-pipeline-$i" -- "$shell" -c "$cmd"
    same "pipeline under $shell, run $i" "$T/plain" "$T/shim$i" stderr
    check "$T/shim$i.d" --count 5 --distinct-pids --names "$shell,sort,sort,uniq,head" \
        --check 't["alloc_calls"] > 0' \
        --check 'p.get("run_id", "integ-pipeline-'$i'") == "integ-pipeline-'$i'"' \
        --check 'cfg.get("MEMKIT_RUN_ID", "integ-pipeline-'$i'") == "integ-pipeline-'$i'"' \
        --select uniq --check 'p["argv"] == ["uniq", "-c"]' \
        --select head --check 'p["argv"] == ["head", "-3"]'
    # the shell is the parent of every other process
    check "$T/shim$i.d" --select "$shell" --check 'p["argv"][:2] == ["'"$shell"'", "-c"]'
    "$PY" - "$T/shim$i.d" "$shell" <<'PY' || fail "run $i: the stages' ppid is not the shell's pid"
import glob, json, sys
rs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/memkit.*.json")]
sh = [r for r in rs if r["process"]["name"] == sys.argv[2]]
others = [r for r in rs if r["process"]["name"] != sys.argv[2]]
ppids = {r["process"].get("ppid") for r in others}
ok = len(sh) == 1 and ppids == {sh[0]["process"]["pid"]}
sys.exit(0 if ok else 1)
PY
done

# exec: one process, one report, the program exec'd.
run "$T/execp" "$T/execp.d" -- sh -c "exec head -2 $T/f"
run "$T/execs" "$T/execs.d" LD_PRELOAD="$MEMKIT_LIB" -- sh -c "exec head -2 $T/f"
same "sh -c 'exec head'" "$T/execp" "$T/execs" stderr
check "$T/execs.d" --count 1 --names head

# A relative report path is taken from the folder each process started in,
# even when the shell moves before starting the next one.
mkdir -p "$T/rel.d/a" "$T/rel.d/b"
run "$T/rel" "$T/rel.d/a" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT='r.%e.%p.json' -- \
    sh -c "head -1 $T/f; cd ../b && head -1 $T/f; cd .. && uniq -c $T/f | tail -1"
check "$T/rel.d/a" --glob 'r.*.json' --count 2 --names sh,head
check "$T/rel.d/b" --glob 'r.*.json' --count 1 --names head
check "$T/rel.d" --glob 'r.*.json' --count 2 --names uniq,tail

finish
