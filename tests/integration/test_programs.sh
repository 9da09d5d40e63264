#!/usr/bin/env bash
# Real Debian programs, with and without memkit: the same output (files
# compared by checksum), the same exit status, and a complete report from
# every process with the calls it made. Each program runs three times:
# plain, under memkit with its default options, and under memkit with
# aggressive options (AGGRESSIVE below: compactions after every MiB
# released, the monitor thread at once, a sampled stack every 4 KiB,
# snapshots of the report every second), so that compaction, the monitor
# and sampling really run inside these programs.
#   test_programs.sh LIBMEMKIT sort|python|git|gcc|sqlite3|xz|pigz|zstd|perl|ruby|node|stress-ng|cpython-tests
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
WHAT=$2
need_lib
export LC_ALL=C TZ=UTC
# meson sets MALLOC_PERTURB_, which makes glibc fill every block: it finds
# nothing more here and makes sort several times slower.
unset MALLOC_PERTURB_

AGGRESSIVE=(MEMKIT_AGGRESSIVE=1 MEMKIT_COMPACT_THRESHOLD=1M MEMKIT_COMPACT_MIN_GAP=0
            MEMKIT_POST_COMPACT_DELAY=0 MEMKIT_THREAD_MIN=0 MEMKIT_SAMPLE=4K
            MEMKIT_MONITOR_INTERVAL=200ms MEMKIT_REPORT_INTERVAL=1s)

# both NAME SCRIPT [FILTER]: runs the bash SCRIPT (a file in $T) in
# $T/NAME.plain.d; with memkit preloaded into every process of it in
# $T/NAME.shim.d (reports to $T/NAME.reports); and so again with the
# AGGRESSIVE options in $T/NAME.aggr.d (reports to $T/NAME.aggr.reports).
# Compares stdout, stderr and status of each memkit run with the plain one.
# FILTER, a function, rewrites stdout and stderr (stdin to stdout) before
# they are compared, for what legitimately differs run to run (timings);
# the raw text stays in *.raw.out and *.raw.err. With TOGETHER=1 the three
# runs go at once (programs that mostly wait: timeouts, sleeps).
both() {
    local name=$1 script=$2 filter=${3:-} v start=$SECONDS t0 times=""
    local -a envs
    mkdir -p "$T/$name.reports" "$T/$name.aggr.reports"
    for v in plain shim aggr; do
        case $v in
        plain) envs=() ;;
        shim) envs=(LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$T/$name.reports/memkit.%e.%p.json") ;;
        aggr) envs=(LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$T/$name.aggr.reports/memkit.%e.%p.json"
                    "${AGGRESSIVE[@]}") ;;
        esac
        if [ "${TOGETHER:-}" = 1 ]; then
            run "$T/$name.$v" "$T/$name.$v.d" "${envs[@]}" -- bash "$script" &
        else
            t0=$SECONDS
            run "$T/$name.$v" "$T/$name.$v.d" "${envs[@]}" -- bash "$script"
            times+="$v $((SECONDS - t0)) s, "
        fi
    done
    wait
    note "$name: ${times}all $((SECONDS - start)) s"
    leftovers "$name"
    for v in plain shim aggr; do
        # run's own fail was in a subshell
        case "${TOGETHER:-}:$(cat "$T/$name.$v.rc")" in
        1:124|1:137) fail "$name.$v: timed out after ${RUN_TIMEOUT}s" ;;
        esac
        if [ -n "$filter" ]; then
            mv "$T/$name.$v.out" "$T/$name.$v.raw.out"
            mv "$T/$name.$v.err" "$T/$name.$v.raw.err"
            "$filter" <"$T/$name.$v.raw.out" >"$T/$name.$v.out"
            "$filter" <"$T/$name.$v.raw.err" >"$T/$name.$v.err"
        fi
    done
    same "$name" "$T/$name.plain" "$T/$name.shim" stderr
    same "$name (aggressive options)" "$T/$name.plain" "$T/$name.aggr" stderr
    expect_rc "$name, plain" "$T/$name.plain" 0
    note "$name: $(head -c 300 "$T/$name.plain.out" | head -4 | tr '\n' '|')"
}

# leftovers NAME: a process of NAME's memkit runs (its environment names
# their report folders) still there a few seconds after they ended is a
# failure: it hung, or memkit kept it alive. Its threads are shown, then it
# is killed (SIGKILL: memkit's monitor thread blocks every other signal).
# Zombie leaders are read through their live threads (task/*/environ).
leftovers() {
    local name=$1 pid left=""
    for _ in $(seq 1 10); do
        left=$(grep -lsaF "MEMKIT_REPORT=$T/$name." /proc/[0-9]*/task/*/environ | cut -d/ -f3 | sort -u)
        [ -z "$left" ] && return 0
        sleep 0.5
    done
    for pid in $left; do
        fail "$name: process $pid outlived its run; threads (name:state): $(
            for t in /proc/"$pid"/task/*; do printf '%s:%s ' "$(cat "$t/comm")" "$(cut -d' ' -f3 "$t/stat")"; done 2>/dev/null)"
        kill -KILL "$pid" 2>/dev/null
    done
}

# check_both NAME [RULE]...: check_report.py with the RULEs over the reports
# of both memkit runs, plus what every report must show: a final report
# (or one of KINDS, a Python tuple, when processes are killed on purpose),
# its compactions all listed or counted as dropped; and in the aggressive
# run, the aggressive options in force, and sampled stacks in any process
# that allocated a MiB or more (at one sample per 4 KiB on average, none in
# a MiB has a chance of e^-256).
check_both() {
    local name=$1
    shift
    local -a every=(--select '*' --check "r['kind'] in ${KINDS:-('final',)}"
        --check "r['compaction']['count'] == len(r['compactions']) + r['compaction']['dropped']")
    check "$T/$name.reports" "$@" "${every[@]}"
    check "$T/$name.aggr.reports" "$@" "${every[@]}" \
        --check "cfg['MEMKIT_SAMPLE'] == '4K' and cfg['MEMKIT_COMPACT_THRESHOLD'] == '1M'" \
        --check "t['alloc_bytes'] < 1 << 20 or len(r['sites']) > 0"
}

# compacted NAME PROCESS MIN: the aggressive run's reports of PROCESS ("*":
# all) made MIN compactions or more in all; prints what each process name
# did (reports, compactions, bytes returned, sites).
compacted() {
    "$PY" - "$T/$1.aggr.reports" "$2" "$3" <<'PY' || fail "$1 (aggressive options): fewer than $3 compaction(s) in the reports of $2"
import collections, glob, json, sys
folder, name, least = sys.argv[1], sys.argv[2], int(sys.argv[3])
by = collections.defaultdict(lambda: [0, 0, 0, 0])
total = 0
for f in glob.glob(folder + "/memkit.*.json"):
    r = json.load(open(f))
    n = r["process"]["name"]
    c = r["compaction"]
    row = by[n]
    row[0] += 1; row[1] += c["count"]; row[2] += c["returned_bytes"]; row[3] += len(r["sites"])
    if name in ("*", n):
        total += c["count"]
for n, (k, cnt, ret, sites) in sorted(by.items()):
    print(f"  aggressive: {n}: {k} report(s), {cnt} compaction(s) returning {ret >> 10} KiB, {sites} site(s)")
sys.exit(0 if total >= least else 1)
PY
}

# Filters for both (stdin to stdout). stress-ng: the metrics (bogo ops
# and times), pids and the run's length go; its messages stay.
stress_ng_filter() {
    sed -E -e '/ metrc: /d' -e 's/\[[0-9]+\]/[pid]/' \
        -e 's/(completed in )[0-9.]+ ?(s|secs?)\b/\1N s/'
}
# CPython's regrtest: elapsed times, load averages, "running: ..." progress
# lines, the total duration and the test counter go; the order of the lines
# too (with -j2 tests finish in any order). Each test's name and result
# stay, and the summary.
regrtest_filter() {
    sed -E -e 's/^[0-9]+:[0-9]{2}:[0-9]{2} (load avg: [0-9.]+ )?//' \
        -e '/^running: /d' -e '/^Total duration: /d' \
        -e 's/ -- running: .*$//' -e 's/^\[ *[0-9]+\/[0-9]+(\/[0-9]+)?\] //' \
        -e 's/ \(([0-9]+ (hour|min) )*[0-9.]+ (sec|ms)\)$//' | sort
}

case "$WHAT" in
sort)
    # ~50 MB of lines: numbers, hex, words; sorted several ways, in memory
    # with threads and through temporary files.
    awk 'BEGIN { for (i = 0; i < 2200000; i++)
                   printf "%d %x w%d\n", (i * 7919) % 1000003, (i * 2654435761) % 4294967296, i % 1000 }' \
        >"$T/big.txt"
    note "input: $(wc -c <"$T/big.txt") bytes"
    cat >"$T/sort.sh" <<EOF
set -e
sort --parallel=2 -k1,1n -k2 "$T/big.txt" | sha256sum
sort -S 4M -T . -k3,3 -k1,1n "$T/big.txt" | sha256sum
sort -u -k3,3 "$T/big.txt" | wc -l
EOF
    both sort "$T/sort.sh"
    check_both sort --names sort,sort,sort,sha256sum,wc --select sort \
        --check 't["alloc_calls"] > 0' --check 'peak["heap_bytes"] > 0'
    check_both sort --select sort --check 't["alloc_bytes"] >= 10 << 20' --select bash --check 't["alloc_calls"] > 0'
    # at least one sort held the whole input in memory
    for d in "$T/sort.reports" "$T/sort.aggr.reports"; do
        "$PY" - "$d" <<'PY' || fail "no sort report in $d shows a heap peak near the input size"
import glob, json, sys
peaks = [json.load(open(f))["peak"]["heap_bytes"] for f in glob.glob(sys.argv[1] + "/memkit.sort.*.json")]
sys.exit(0 if peaks and max(peaks) >= 40 << 20 else 1)
PY
    done
    compacted sort '*' 0   # sort frees its buffer at exit: compactions not required
    ;;
python)
    # Twice: with pymalloc (its arenas are maps of the program's own) and
    # with PYTHONMALLOC=malloc (every object through malloc).
    cat >"$T/py.sh" <<'EOF'
for mode in pymalloc malloc; do
PYTHONMALLOC=$mode PYTHONHASHSEED=0 /usr/bin/python3 -c '
import hashlib, json, collections
class Node:
    __slots__ = ("key", "children", "payload")
    def __init__(self, key):
        self.key = key; self.children = []; self.payload = {"k": key, "s": str(key) * 3}
nodes = [Node(i) for i in range(200000)]
for i, n in enumerate(nodes[1:], 1):
    nodes[(i * 7919) % i].children.append(n)
words = collections.Counter(str(i % 977) for i in range(300000))
blob = json.dumps([n.payload for n in nodes[::7]], sort_keys=True)
big = sorted(nodes, key=lambda n: (len(n.children), -n.key))[:5]
text = " ".join(sorted(words)) * 10
print(len(nodes), sum(len(n.children) for n in nodes), len(blob))
print(hashlib.sha256(blob.encode()).hexdigest())
print([n.key for n in big], words.most_common(3))
print(hashlib.sha256(text.encode()).hexdigest())
'
done
EOF
    both python "$T/py.sh"
    check_both python --count 3 --names python3,python3 --select python3 \
        --check 't["alloc_calls"] > 1000' --check 't["free_calls"] > 0'
    for d in "$T/python.reports" "$T/python.aggr.reports"; do
        "$PY" - "$d" <<'PY' || fail "python3 reports in $d: expected one with pymalloc arenas mapped, one with every object malloc'd"
import glob, json, sys
rs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/memkit.python3.*.json")]
arenas = [r for r in rs if r["totals"]["mmap_calls"] >= 10]
heavy = [r for r in rs if r["totals"]["alloc_calls"] >= 200000 and r["peak"]["heap_bytes"] >= 20 << 20]
for r in rs:
    print("  python3:", {k: r["totals"][k] for k in ("alloc_calls", "mmap_calls")}, "heap peak", r["peak"]["heap_bytes"])
sys.exit(0 if arenas and heavy else 1)
PY
    done
    compacted python python3 1
    ;;
git)
    command -v git >/dev/null || skip "git is not installed"
    cat >"$T/git.sh" <<'EOF'
set -e
export HOME=$PWD GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Memkit GIT_AUTHOR_EMAIL=m@example.invalid
export GIT_COMMITTER_NAME=Memkit GIT_COMMITTER_EMAIL=m@example.invalid
export GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
git init -q -b main repo
cd repo
for i in $(seq 1 200); do seq 1 $i > "f$i.txt"; done
git add .
git commit -q -m "first commit"
for i in $(seq 1 200 | awk 'NR % 3 == 0'); do echo "change $i" >> "f$i.txt"; done
git commit -q -a -m "second commit"
git log --format='%H %an %ad %s' --date=iso-strict
git show --stat HEAD | tail -3
git cat-file -p 'HEAD^{tree}' | head -3
git gc -q
git count-objects -v | grep -E '^(count|in-pack|packs)'
git fsck --no-progress 2>&1
git diff HEAD~1 --stat | tail -1
EOF
    both git "$T/git.sh"
    check_both git --min-count 10 --select git --check 't["alloc_calls"] > 0'
    compacted git git 1
    ;;
gcc)
    command -v gcc >/dev/null || skip "gcc is not installed"
    cat >"$T/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct item { int key; char name[16]; };
static int cmp(const void *a, const void *b) { return ((const struct item *)a)->key - ((const struct item *)b)->key; }
int main(void) {
    struct item *v = malloc(1000 * sizeof *v);
    for (int i = 0; i < 1000; i++) { v[i].key = (i * 7919) % 1009; snprintf(v[i].name, sizeof v[i].name, "n%d", i); }
    qsort(v, 1000, sizeof *v, cmp);
    unsigned long h = 5381;
    for (int i = 0; i < 1000; i++) for (const char *c = v[i].name; *c; c++) h = h * 33 + (unsigned char)*c;
    printf("first=%s last=%s hash=%lu\n", v[0].name, v[999].name, h);
    free(v);
    return 0;
}
EOF
    cat >"$T/gcc.sh" <<EOF
set -e
gcc -O2 -Wall -c "$T/prog.c" -o prog.o
nm prog.o
sha256sum < prog.o
gcc -O2 prog.o -o prog
./prog
gcc -O0 -g -o prog2 "$T/prog.c"
./prog2
EOF
    both gcc "$T/gcc.sh"
    # the driver, the compiler proper, the assembler, the linker: all ran
    # under memkit and reported.
    check_both gcc --names gcc,cc1,as,ld,nm,prog,prog2 --select cc1 \
        --check 't["alloc_calls"] > 1000' --select gcc --check 't["alloc_calls"] > 0' \
        --select prog --check 'k["malloc"]["calls"] >= 1'
    compacted gcc '*' 0   # each process is short: compactions not required
    ;;
sqlite3)
    command -v sqlite3 >/dev/null || skip "sqlite3 is not installed"
    cat >"$T/sqlite.sh" <<'EOF'
set -e
sqlite3 t.db <<'SQL'
PRAGMA mmap_size = 268435456;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t SELECT x, x % 97, 'name-' || (x * 7919 % 100003), x * 1.5 FROM c;
CREATE INDEX t_grp ON t(grp);
SELECT count(*), sum(val), min(name), max(name) FROM t;
SELECT grp, count(*), round(avg(val), 3) FROM t GROUP BY grp ORDER BY grp LIMIT 5;
SELECT count(DISTINCT name) FROM t;
SELECT name FROM t ORDER BY name DESC LIMIT 3;
SQL
sqlite3 t.db 'PRAGMA mmap_size = 268435456; SELECT sum(length(name)) FROM t WHERE grp > 10; PRAGMA integrity_check;'
EOF
    both sqlite3 "$T/sqlite.sh"
    # sqlite maps the database itself (mmap_size): the program's own maps
    check_both sqlite3 --names sqlite3,sqlite3 --select sqlite3 \
        --check 't["alloc_calls"] > 100' --check 't["free_calls"] > 0'
    for d in "$T/sqlite3.reports" "$T/sqlite3.aggr.reports"; do
        "$PY" - "$d" <<'PY' || fail "no sqlite3 report in $d counts the database map (PRAGMA mmap_size)"
import glob, json, sys
maps = [json.load(open(f))["totals"]["mmap_calls"] for f in glob.glob(sys.argv[1] + "/memkit.sqlite3.*.json")]
sys.exit(0 if maps and max(maps) > 0 else 1)
PY
    done
    compacted sqlite3 sqlite3 0   # short: compactions not required
    ;;
xz)
    command -v xz >/dev/null || skip "xz is not installed"
    awk 'BEGIN { for (i = 0; i < 600000; i++) printf "%d line %x of the xz input\n", i, i * 2654435761 % 65536 }' >"$T/xz.in"
    cat >"$T/xz.sh" <<EOF
set -e
xz -T2 --block-size=2MiB -6 -c "$T/xz.in" > in.xz
sha256sum < in.xz
xz -T2 -d -c in.xz | sha256sum
sha256sum < "$T/xz.in"
xz -l in.xz | tail -1 | awk '{print \$1, \$2, \$5}'
EOF
    both xz "$T/xz.sh"
    check_both xz --names xz,xz,xz --select xz --check 't["alloc_calls"] > 0'
    compacted xz xz 0   # its runs last a second or two: on a loaded machine the monitor may not get the CPU before xz ends
    # the file decompressed is the file compressed
    a=$(sed -n 2p "$T/xz.shim.out"); b=$(sed -n 3p "$T/xz.shim.out")
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "xz round trip under memkit: $a vs $b"
    ;;
pigz)
    command -v pigz >/dev/null || skip "pigz is not installed"
    awk 'BEGIN { for (i = 0; i < 700000; i++) printf "%d pigz line %x, %s\n", i, (i * 2654435761) % 65536, (i % 7 ? "same" : "other") }' >"$T/pigz.in"
    cat >"$T/pigz.sh" <<EOF
set -e
pigz -p 2 -n -6 -c "$T/pigz.in" > in.gz
sha256sum < in.gz
pigz -p 2 -n -9 -b 64 --rsyncable -c "$T/pigz.in" | sha256sum
pigz -p 2 -d -c in.gz | sha256sum
sha256sum < "$T/pigz.in"
pigz -t in.gz
EOF
    both pigz "$T/pigz.sh"
    check_both pigz --names pigz,pigz,pigz,pigz --select pigz --check 't["alloc_calls"] > 0'
    compacted pigz pigz 0   # pigz keeps its buffers for reuse: none expected
    a=$(sed -n 3p "$T/pigz.aggr.out"); b=$(sed -n 4p "$T/pigz.aggr.out")
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "pigz round trip under memkit: $a vs $b"
    ;;
zstd)
    command -v zstd >/dev/null || skip "zstd is not installed"
    awk 'BEGIN { for (i = 0; i < 700000; i++) printf "%d zstd line %x of %d\n", i, (i * 2654435761) % 1048576, i % 977 }' >"$T/zstd.in"
    # small files that look alike: a dictionary is trained on them
    mkdir -p "$T/zstd.samples"
    awk -v d="$T/zstd.samples" 'BEGIN { for (f = 0; f < 400; f++) { out = d "/s" f ".json"
        for (i = 0; i < 20; i++) printf "{\"id\": %d, \"name\": \"item-%d\", \"tags\": [\"t%d\", \"t%d\"], \"v\": %d}\n", f * 20 + i, (f * 7919 + i) % 1009, i % 5, f % 11, f * i >out
        close(out) } }'
    cat >"$T/zstd.sh" <<EOF
set -e
zstd -q -T2 -6 -c "$T/zstd.in" > in.zst
sha256sum < in.zst
zstd -q -T2 -9 --long=25 -c "$T/zstd.in" | sha256sum
zstd -q -d -c in.zst | sha256sum
sha256sum < "$T/zstd.in"
zstd -q --train "$T"/zstd.samples/*.json --maxdict=16384 -o dict
sha256sum < dict
zstd -q -T2 -D dict -c "$T"/zstd.samples/s1*.json | zstd -q -d -D dict | sha256sum
cat "$T"/zstd.samples/s1*.json | sha256sum
EOF
    both zstd "$T/zstd.sh"
    check_both zstd --names zstd,zstd,zstd,zstd,zstd,zstd --select zstd --check 't["alloc_calls"] > 0'
    compacted zstd zstd 1
    a=$(sed -n 3p "$T/zstd.aggr.out"); b=$(sed -n 4p "$T/zstd.aggr.out")
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "zstd round trip under memkit: $a vs $b"
    ;;
perl)
    command -v perl >/dev/null || skip "perl is not installed"
    cat >"$T/perl.sh" <<'EOF'
set -e
perl -e '
use strict; use warnings; use Digest::SHA qw(sha256_hex);
$| = 1;
my %h;
for my $i (1 .. 150000) { $h{"k$i"} = [$i, "v" x ($i % 50), { n => $i }]; }
delete $h{"k$_"} for grep { $_ % 3 } 1 .. 150000;
my @keys = sort { $h{$a}[0] <=> $h{$b}[0] } keys %h;
my $text = join ",", map { "$_=" . length($h{$_}[1]) } @keys;
(my $swapped = $text) =~ s/k(\d+)=(\d+)/$2:$1/g;
my %count;
$count{(split /:/)[0]}++ for split /,/, $swapped;
print scalar(@keys), " ", length($text), "\n";
print sha256_hex($swapped), "\n";
print join(" ", map { "$_:$count{$_}" } (sort { $a <=> $b } keys %count)[0 .. 4]), "\n";
# a child that builds its own data and writes it back through a pipe
pipe(my $r, my $w) or die;
my $pid = fork // die;
if ($pid == 0) {
    close $r;
    my @l = map { sprintf "%06d", ($_ * 7919) % 100003 } 1 .. 100000;
    print $w sha256_hex(join "", sort @l), "\n";
    close $w;
    exit 0;
}
close $w;
print "child: ", scalar(<$r>);
waitpid($pid, 0);
print "child status $?\n";
'
EOF
    both perl "$T/perl.sh"
    check_both perl --names perl,perl --select perl --check 't["alloc_calls"] > 1000' --check 't["free_calls"] > 0'
    compacted perl perl 1
    ;;
ruby)
    command -v ruby >/dev/null || skip "ruby is not installed"
    cat >"$T/ruby.sh" <<'EOF'
set -e
ruby -e '
require "digest"
h = {}
300_000.times { |i| h["k#{i}"] = [i, "v" * (i % 50), { n: i }] }
h.delete_if { |_k, v| v[0] % 3 != 0 }
GC.start
keys = h.keys.sort_by { |k| h[k][0] }
text = keys.map { |k| "#{k}=#{h[k][1].size}" }.join(",")
threads = 4.times.map do |t|
  Thread.new { (t * 50_000...(t + 1) * 50_000).map { |i| (i * 7919 % 1_000_003).to_s }.sort.join.size }
end
puts keys.size, text.size
puts Digest::SHA256.hexdigest(text)
puts threads.map(&:value).inspect
puts IO.popen(["ruby", "-e", "puts (1..20000).map { |i| i.to_s * 3 }.join.size"], &:read)
'
EOF
    both ruby "$T/ruby.sh"
    check_both ruby --names ruby,ruby --select ruby --check 't["alloc_calls"] > 1000' --check 't["free_calls"] > 0'
    compacted ruby ruby 1
    ;;
node)
    command -v node >/dev/null || skip "node is not installed"
    cat >"$T/node.sh" <<'EOF'
set -e
node -e '
const crypto = require("crypto"), zlib = require("zlib"), { execFileSync } = require("child_process");
const { Worker } = require("worker_threads");
const m = new Map();
for (let i = 0; i < 300000; i++) m.set("k" + i, { i, s: "v".repeat(i % 50) });
for (let i = 0; i < 300000; i += 3) m.delete("k" + i);
const keys = [...m.keys()].sort();
const text = keys.map(k => k + "=" + m.get(k).s.length).join(",");
// Buffers live outside the JavaScript heap: malloc and free
const bufs = [];
for (let i = 0; i < 2000; i++) bufs.push(Buffer.alloc(16384 + i, i % 251));
const big = Buffer.concat(bufs);
bufs.length = 0;
const sha = b => crypto.createHash("sha256").update(b).digest("hex");
console.log(keys.length, text.length, big.length);
console.log(sha(text));
const gz = zlib.gzipSync(big, { level: 6 });
console.log(gz.length, sha(zlib.gunzipSync(gz)) === sha(big));
console.log(execFileSync(process.execPath, ["-e", "console.log([...Array(50000).keys()].join().length)"]).toString().trim());
// the thread pool (async zlib) and a worker thread with its own heap
zlib.gzip(big, { level: 1 }, (err, z) => {
  if (err) throw err;
  console.log("async", sha(zlib.gunzipSync(z)) === sha(big));
  const w = new Worker("const { parentPort } = require(\"worker_threads\"); " +
    "const a = []; for (let i = 0; i < 200000; i++) a.push({ i, s: String(i * 7919 % 100003) }); " +
    "a.sort((x, y) => x.s < y.s ? -1 : x.s > y.s ? 1 : 0); parentPort.postMessage(a[0].s + \" \" + a[199999].s);",
    { eval: true });
  w.on("message", msg => console.log("worker", msg));
  w.on("exit", code => console.log("worker exit", code));
});
'
EOF
    both node "$T/node.sh"
    # node and the node it starts; nothing else
    check_both node --count 3 --names node,node --select node --check 't["alloc_calls"] > 1000' \
        --select bash --check 't["alloc_calls"] > 0'
    compacted node node 1
    ;;
stress-ng)
    command -v stress-ng >/dev/null || skip "stress-ng is not installed"
    # Each stressor bounded by its operations and by 5 s; --verify makes
    # malloc and mmap check the contents of what they wrote.
    cat >"$T/stress-ng.sh" <<'EOF'
stress-ng --verify --timeout 5s --metrics-brief --yaml out.yaml \
    --malloc 2 --malloc-bytes 256K --malloc-max 4096 --malloc-ops 100000 \
    --mmap 1 --mmap-bytes 8M --mmap-ops 50 \
    --fork 1 --fork-ops 100 --vfork 1 --vfork-ops 200 \
    --pthread 1 --pthread-max 8 --pthread-ops 200
EOF
    TOGETHER=1 both stress-ng "$T/stress-ng.sh" stress_ng_filter
    for v in plain shim aggr; do
        grep -q 'successful run completed' "$T/stress-ng.$v.err" ||
            fail "stress-ng ($v): no \"successful run completed\": $(grep -E 'fail|error' "$T/stress-ng.$v.raw.err" | head -3)"
    done
    # Every process left its report: stress-ng itself, each worker (malloc
    # and mmap run theirs in a child of it, OOM-able), and each child the
    # fork stressor made (its bogo ops, from its YAML output). vfork children
    # leave none: they share the parent's memory and must do nothing.
    for v in shim aggr; do
        d=$T/stress-ng.reports
        [ $v = shim ] || d=$T/stress-ng.aggr.reports
        "$PY" - "$d" "$T/stress-ng.$v.d/out.yaml" <<'PY' || fail "stress-ng ($v): reports missing or unexpected"
import collections, glob, json, re, sys
rs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/memkit.*.json")]
ops = dict(re.findall(r"- stressor: (\S+)\n\s+bogo-ops: (\d+)", open(sys.argv[2]).read()))
role = collections.Counter()
for r in rs:
    a0 = r["process"]["argv"][0]
    role["fork child" if a0.startswith("stress-ng-fork") and "zombie" in a0 else a0.split(" ")[0]] += 1
want = {"bash": 1, "stress-ng": 1, "stress-ng-malloc": 2 * 2, "stress-ng-mmap": 1 * 2, "stress-ng-fork": 1,
        "stress-ng-vfork": 1, "stress-ng-pthread": 1, "fork child": int(ops.get("fork", -1))}
print("  reports:", dict(role), "bogo ops:", ops)
sys.exit(0 if dict(role) == want else 1)
PY
    done
    check_both stress-ng
    # the malloc workers free ~1 GB each
    compacted stress-ng stress-ng 2
    ;;
cpython-tests)
    /usr/bin/python3 -c 'import test.test_subprocess' 2>/dev/null || skip "CPython's tests are not installed (libpython3.11-testsuite)"
    cat >"$T/cpython-tests.sh" <<'EOF'
# --timeout: a test that hangs fails (with its stacks) after 3 minutes
# instead of support.wait_process's 5 for each process it waits on; -W
# shows a failed test's output. The test_pass_fds and test_close_fds
# tests look at every descriptor a child has open: memkit's own (libunwind's pipe once a sample was taken,
# the monitor's pipe and PSI trigger) are there too — README, "What
# memkit does not see". They are left out, with and without memkit.
/usr/bin/python3 -m test -j2 -W --timeout 180 -i '*test_pass_fds*' -i '*test_close_fds*' test_list test_dict test_bytes test_threading test_mmap test_fork1 test_subprocess
EOF
    RUN_TIMEOUT=400 TOGETHER=1 both cpython-tests "$T/cpython-tests.sh" regrtest_filter
    grep -qx '== Tests result: SUCCESS ==' "$T/cpython-tests.plain.out" ||
        fail "CPython's tests failed without memkit: $(tail -5 "$T/cpython-tests.plain.raw.out")"
    for v in shim aggr; do
        grep -E '^(FAIL|ERROR): |timed out|still running' "$T/cpython-tests.$v.raw.out" | sed "s/^/  $v: /"
    done
    # test_subprocess kills children on purpose: with MEMKIT_REPORT_INTERVAL
    # they leave their last snapshot
    KINDS="('final', 'snapshot')" check_both cpython-tests --min-count 100 --select python3 --check 't["alloc_calls"] > 0'
    compacted cpython-tests python3 1
    ;;
*)
    echo "unknown program $WHAT" >&2
    exit 2
    ;;
esac

finish
