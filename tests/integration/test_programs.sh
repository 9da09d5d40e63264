#!/usr/bin/env bash
# Real Debian programs, with and without memkit: the same output (files
# compared by checksum), the same exit status, and a complete report from
# every process with the calls it made.
#   test_programs.sh LIBMEMKIT sort|python|git|gcc|sqlite3|xz
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
WHAT=$2
need_lib
export LC_ALL=C TZ=UTC
# meson sets MALLOC_PERTURB_, which makes glibc fill every block: it finds
# nothing more here and makes sort several times slower.
unset MALLOC_PERTURB_

# both NAME SCRIPT: runs the bash SCRIPT (a file in $T) in $T/NAME.plain.d
# and, with memkit preloaded into every process of it, in $T/NAME.shim.d;
# reports go to $T/NAME.reports. Compares stdout, stderr and status.
both() {
    local name=$1 script=$2
    run "$T/$name.plain" "$T/$name.plain.d" -- bash "$script"
    mkdir -p "$T/$name.reports"
    run "$T/$name.shim" "$T/$name.shim.d" LD_PRELOAD="$MEMKIT_LIB" \
        MEMKIT_REPORT="$T/$name.reports/memkit.%e.%p.json" -- bash "$script"
    same "$name" "$T/$name.plain" "$T/$name.shim" stderr
    expect_rc "$name, plain" "$T/$name.plain" 0
    note "$name: $(head -c 300 "$T/$name.plain.out" | head -4 | tr '\n' '|')"
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
    check "$T/sort.reports" --names sort,sort,sort,sha256sum,wc --select sort \
        --check 't["alloc_calls"] > 0' --check 'peak["heap_bytes"] > 0'
    check "$T/sort.reports" --select sort --check 't["alloc_bytes"] >= 10 << 20' --select bash --check 't["alloc_calls"] > 0'
    # at least one sort held the whole input in memory
    "$PY" - "$T/sort.reports" <<'PY' || fail "no sort report shows a heap peak near the input size"
import glob, json, sys
peaks = [json.load(open(f))["peak"]["heap_bytes"] for f in glob.glob(sys.argv[1] + "/memkit.sort.*.json")]
sys.exit(0 if peaks and max(peaks) >= 40 << 20 else 1)
PY
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
    check "$T/python.reports" --count 3 --names python3,python3 --select python3 \
        --check 't["alloc_calls"] > 1000' --check 't["free_calls"] > 0'
    "$PY" - "$T/python.reports" <<'PY' || fail "python3 reports: expected one with pymalloc arenas mapped, one with every object malloc'd"
import glob, json, sys
rs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/memkit.python3.*.json")]
arenas = [r for r in rs if r["totals"]["mmap_calls"] >= 10]
heavy = [r for r in rs if r["totals"]["alloc_calls"] >= 200000 and r["peak"]["heap_bytes"] >= 20 << 20]
for r in rs:
    print("  python3:", {k: r["totals"][k] for k in ("alloc_calls", "mmap_calls")}, "heap peak", r["peak"]["heap_bytes"])
sys.exit(0 if arenas and heavy else 1)
PY
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
    check "$T/git.reports" --min-count 10 --select git --check 't["alloc_calls"] > 0'
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
    check "$T/gcc.reports" --names gcc,cc1,as,ld,nm,prog,prog2 --select cc1 \
        --check 't["alloc_calls"] > 1000' --select gcc --check 't["alloc_calls"] > 0' \
        --select prog --check 'k["malloc"]["calls"] >= 1'
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
    check "$T/sqlite3.reports" --names sqlite3,sqlite3 --select sqlite3 \
        --check 't["alloc_calls"] > 100' --check 't["free_calls"] > 0'
    "$PY" - "$T/sqlite3.reports" <<'PY' || fail "no sqlite3 report counts the database map (PRAGMA mmap_size)"
import glob, json, sys
maps = [json.load(open(f))["totals"]["mmap_calls"] for f in glob.glob(sys.argv[1] + "/memkit.sqlite3.*.json")]
sys.exit(0 if maps and max(maps) > 0 else 1)
PY
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
    check "$T/xz.reports" --names xz,xz,xz --select xz --check 't["alloc_calls"] > 0'
    # the file decompressed is the file compressed
    a=$(sed -n 2p "$T/xz.shim.out"); b=$(sed -n 3p "$T/xz.shim.out")
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "xz round trip under memkit: $a vs $b"
    ;;
*)
    echo "unknown program $WHAT" >&2
    exit 2
    ;;
esac

finish
