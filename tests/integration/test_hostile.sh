#!/usr/bin/env bash
# Hostile surroundings: nonsense in every MEMKIT_* option, a report path
# that is a planted symlink, in a missing folder, a read-only folder, a
# full file system; SIGKILL while the report is written; MEMKIT_DISABLE. The program's output and status never
# change, memkit says at most one line per bad option, and a report is
# either complete or absent (no partial file, no *.tmp left).
#   test_hostile.sh LIBMEMKIT BEHAVIOURS STRESS CASE
# CASE: options symlink missing-folder read-only full-fs paths killed-writing disable
# (full-fs also runs under a file-size limit)
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
STRESS=$(abs "$3")
CASE=$4
need_lib

# The program every case runs, plain once: behaviours exits with 3.
run "$T/plain" "$T/plain.d" -- "$BIN"
expect_rc "plain run" "$T/plain" 3

# only_reports DIR WHAT: every file in DIR is a complete report (JSON with
# the schema); no temporary file.
only_reports() {
    local dir=$1 what=$2 f
    for f in "$dir"/* "$dir"/.[!.]*; do
        [ -L "$f" ] && continue   # planted by the test, never memkit's
        [ -e "$f" ] || continue
        case "$f" in
        *.tmp) fail "$what: temporary file left: $f" ; continue ;;
        esac
        [ -f "$f" ] || continue
        "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r.get("schema") != "memkit-report/1")' "$f" 2>/dev/null \
            || fail "$what: $f is not a complete report: $(head -c 120 "$f" | tr '\n' ' ')"
    done
}

# unchanged WHAT OUT: same stdout and status as the plain run.
unchanged() {
    same "$1" "$T/plain" "$2"
}

case "$CASE" in
options)
    # Every option of shim/options.def, with its default.
    mapfile -t names < <(sed -n 's/^[[:space:]]*MK_OPTION([^,]*,[[:space:]]*"\(MEMKIT_[A-Z0-9_]*\)".*/\1/p' "$OPTIONS_DEF")
    [ "${#names[@]}" -ge 3 ] || fail "could not read the options from $OPTIONS_DEF"
    note "options: ${names[*]}"
    long=$(printf 'x%.0s' $(seq 1 5000))
    values=('abc' '-1' '99999999999999999999T' '' 'on off' "$long" $'two\nlines' '%n%s%s%s%x' '1e400' $'\t' ' 0x10 ')
    n=0
    # (a) one option at a time; (b) all of them at once; then (c) an option
    # memkit does not know.
    for name in "${names[@]}" ALL; do
        for val in "${values[@]}"; do
            n=$((n + 1))
            envs=()
            if [ "$name" = ALL ]; then
                for x in "${names[@]}"; do envs+=("$x=$val"); done
                max=${#names[@]}
            else
                envs=("$name=$val")
                max=1
            fi
            d="$T/opt.$n.d"
            run "$T/opt.$n" "$d" LD_PRELOAD="$MEMKIT_LIB" "${envs[@]}" -- "$BIN"
            shown="$name=$(printf '%q' "$val" | head -c 40)"
            unchanged "$shown" "$T/opt.$n"
            lines=$(wc -l <"$T/opt.$n.err")
            [ "$lines" -le "$max" ] || fail "$shown: $lines stderr lines (at most $max): $(head -c 300 "$T/opt.$n.err")"
            [ "$(other_lines "$T/opt.$n.err")" = 0 ] \
                || fail "$shown: stderr lines without 'memkit: ': $(grep -v '^memkit: ' "$T/opt.$n.err" | head -c 300)"
            only_reports "$d" "$shown"
            # A rejected value falls back to the default: the report is where
            # the default puts it, its config shows the default, and its
            # warnings have what memkit said.
            if [ "$name" != ALL ]; then
                "$PY" - "$d" "$name" "$OPTIONS_DEF" "$T/opt.$n.err" <<'PY' || fail "$shown: report disagrees with what memkit said"
import glob, json, re, sys
folder, name, defs, err = sys.argv[1:]
default = None
for line in open(defs):
    m = re.match(r'\s*MK_OPTION\(\s*\w+\s*,\s*"([A-Z0-9_]+)"\s*,\s*\w+\s*,\s*"([^"]*)"', line)
    if m and m.group(1) == name:
        default = m.group(2)
said = [l for l in open(err, errors="replace") if name in l]
if not said:
    sys.exit(0)   # the value was taken: nothing to compare
files = glob.glob(folder + "/memkit.behaviours.*.json")
if len(files) != 1:
    print(f"memkit said {said[0].strip()!r}, so the default report was due; found {files}", file=sys.stderr)
    sys.exit(1)
r = json.load(open(files[0]))
if said and r["config"].get(name) != default:
    print(f"memkit said {said[0].strip()!r} but config.{name} is {r['config'].get(name)!r}, default {default!r}",
          file=sys.stderr)
    sys.exit(1)
if said and not any(name in w.get("text", "") for w in r["warnings"]):
    print(f"memkit said {said[0].strip()!r} but the report has no such warning: {r['warnings']}", file=sys.stderr)
    sys.exit(1)
PY
            fi
        done
    done
    run "$T/unknown" "$T/unknown.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_NO_SUCH_OPTION=1 MEMKIT_REPORTT=x -- "$BIN"
    unchanged "unknown options" "$T/unknown"
    [ "$(wc -l <"$T/unknown.err")" -le 2 ] || fail "unknown options: more than one line each: $(cat "$T/unknown.err")"
    [ "$(other_lines "$T/unknown.err")" = 0 ] || fail "unknown options: stderr lines without 'memkit: '"
    only_reports "$T/unknown.d" "unknown options"
    note "$n runs with nonsense options"
    ;;

symlink)
    out="$T/out"
    mkdir -p "$out"
    echo precious >"$T/precious"
    chmod 0644 "$T/precious"
    ln -s "$T/victim" "$out/dangling.json"      # target does not exist
    ln -s "$T/precious" "$out/existing.json"    # target exists
    for link in dangling existing; do
        run "$T/$link" "$T/$link.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$out/$link.json" -- "$BIN"
        unchanged "report path is a symlink ($link)" "$T/$link"
        if [ -L "$out/$link.json" ]; then
            note "$link: memkit left the symlink alone"
        else
            note "$link: memkit replaced the symlink itself with the report"
        fi
    done
    [ -e "$T/victim" ] && fail "the dangling symlink's target was created: $(head -c 100 "$T/victim")"
    [ "$(cat "$T/precious")" = precious ] || fail "the symlink's target was modified: $(head -c 100 "$T/precious")"
    [ "$(stat -c %a "$T/precious")" = 644 ] || fail "the symlink's target changed mode: $(stat -c %a "$T/precious")"
    only_reports "$out" "symlink"
    # Symlinks planted where the temporary file will be (report.h:
    # "<path>.<pid>.<n>.tmp"); the pid is known because bash execs.
    mkdir -p "$T/planted.d"
    cat >"$T/plant.sh" <<'EOF'
for n in 0 1 2 3 4 5 6 7; do
    ln -s "$VICTIM.$n" "$REPORT.$$.$n.tmp"
done
ln -s "$VICTIM" "$REPORT.$$.tmp"
exec "$@"
EOF
    run "$T/planted" "$T/planted.d" VICTIM="$T/victim2" REPORT="$T/planted.d/r.json" \
        LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$T/planted.d/r.json" -- bash "$T/plant.sh" "$BIN"
    unchanged "symlinks planted at the temporary name" "$T/planted"
    ls "$T" | grep -q '^victim2' && fail "a planted symlink was followed: $(ls "$T" | grep '^victim2')"
    only_reports "$T/planted.d" "planted"
    [ "$(find "$T/planted.d" -type l | wc -l)" = 9 ] || note "memkit removed planted symlinks: $(ls "$T/planted.d")"
    note "planted: $(ls "$T/planted.d" | grep -v '\.tmp$' | tr '\n' ' ')"
    ;;

missing-folder)
    run "$T/missing" "$T/missing.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$T/nope/deeper/r.json" -- "$BIN"
    same "report folder missing" "$T/plain" "$T/missing" stderr
    [ -e "$T/nope" ] && fail "memkit created the missing folder"
    [ -z "$(ls -A "$T/missing.d")" ] || fail "files left in the start folder: $(ls -A "$T/missing.d")"
    # MEMKIT_LOG=info says why, in memkit's lines only.
    run "$T/missing2" "$T/missing2.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_LOG=info MEMKIT_REPORT="$T/nope/r.json" -- "$BIN"
    unchanged "report folder missing, MEMKIT_LOG=info" "$T/missing2"
    [ "$(other_lines "$T/missing2.err")" = 0 ] || fail "MEMKIT_LOG=info: lines without 'memkit: '"
    [ "$(memkit_lines "$T/missing2.err")" -ge 1 ] || fail "MEMKIT_LOG=info: memkit did not say why no report was written"
    note "MEMKIT_LOG=info said: $(head -3 "$T/missing2.err" | tr '\n' '|')"
    # A relative report path whose folder does not exist.
    run "$T/missing3" "$T/missing3.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="sub/r.json" -- "$BIN"
    same "relative report folder missing" "$T/plain" "$T/missing3" stderr
    [ -z "$(ls -A "$T/missing3.d")" ] || fail "files left in the start folder: $(ls -A "$T/missing3.d")"
    ;;

read-only)
    mkdir -p "$T/ro"
    cat >"$T/ro.sh" <<EOF
mount -t tmpfs -o ro,size=64k tmpfs "$T/ro" || exit 77
cd "$T/ro.d" && LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$T/ro/r.json" "$BIN" >"$T/ro.out" 2>"$T/ro.err"
echo \$? >"$T/ro.rc"
ls -A "$T/ro" >"$T/ro.ls"
umount "$T/ro"
EOF
    mkdir -p "$T/ro.d"
    rc=0
    timeout 60 unshare -m --propagation private bash "$T/ro.sh" 2>"$T/ro.mount.err" || rc=$?
    ran=0
    if [ "$rc" = 0 ]; then
        ran=1
        same "report folder read-only (ro tmpfs)" "$T/plain" "$T/ro" stderr
        [ -s "$T/ro.ls" ] && fail "files appeared in the read-only folder: $(cat "$T/ro.ls")"
        note "read-only tmpfs: checked"
    else
        note "no read-only mount here ($(head -1 "$T/ro.mount.err")); trying a non-root user"
    fi
    # As an unprivileged user, a folder without write permission.
    if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
        mkdir -p "$T/noperm"
        chmod 0555 "$T/noperm"
        chmod 0755 "$T"
        ( cd "$T/noperm" && timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
              env LD_PRELOAD="$MEMKIT_LIB" "$BIN" >"$T/np.out" 2>"$T/np.err"; echo $? >"$T/np.rc" )
        ( cd "$T/noperm" && timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
              "$BIN" >"$T/npp.out" 2>"$T/npp.err"; echo $? >"$T/npp.rc" )
        if [ "$(cat "$T/npp.rc")" = 3 ]; then
            ran=1
            same "report folder not writable (user nobody)" "$T/npp" "$T/np" stderr
            [ -z "$(ls -A "$T/noperm")" ] || fail "files appeared in the unwritable folder: $(ls -A "$T/noperm")"
            note "unwritable folder as user nobody: checked"
        else
            note "could not run as nobody: $(head -1 "$T/npp.err")"
        fi
    fi
    [ "$ran" = 1 ] || skip "neither a read-only mount nor another user is possible here"
    ;;

full-fs)
    # A file-size limit below the report's size (true's is about 5 KiB):
    # writing past it would stop the program with SIGXFSZ (status 153);
    # the report is skipped instead.
    mkdir -p "$T/fsize.d"
    ( cd "$T/fsize.d" && ulimit -f 2 &&
      LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$T/fsize.d/r.json" "$(type -P true)" \
          >"$T/fsize.out" 2>"$T/fsize.err" </dev/null
      echo $? >"$T/fsize.rc" )
    [ "$(cat "$T/fsize.rc")" = 0 ] ||
        fail "true under a 2 KiB file-size limit exited with $(cat "$T/fsize.rc")"
    [ -s "$T/fsize.err" ] && fail "it printed: $(head -2 "$T/fsize.err")"
    [ -z "$(ls -A "$T/fsize.d")" ] || fail "files left under a file-size limit: $(ls -A "$T/fsize.d")"

    # A 16 KiB tmpfs, full: then with 1, 2, 3 pages free (the report may or
    # may not fit, but is never partial), then with no inode left.
    cat >"$T/full.sh" <<EOF
set -u
mnt="$T/full"
mount -t tmpfs -o size=16k,mode=0755 tmpfs "\$mnt" || exit 77
for free in 0 1 2 3; do
    rm -f "\$mnt"/*
    dd if=/dev/zero of="\$mnt/fill" bs=4096 count=\$((4 - free)) 2>/dev/null
    [ "\$free" = 0 ] && dd if=/dev/zero of="\$mnt/fill2" bs=1 count=4096 2>/dev/null
    cd "$T/full.d"
    LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="\$mnt/r.json" "$BIN" >"$T/full.\$free.out" 2>"$T/full.\$free.err"
    echo \$? >"$T/full.\$free.rc"
    mkdir -p "$T/full.\$free.ls"
    for f in "\$mnt"/*; do
        case "\$f" in */fill|*/fill2) ;; *) cp -a "\$f" "$T/full.\$free.ls/" ;; esac
    done
done
umount "\$mnt"
mount -t tmpfs -o size=1m,nr_inodes=2 tmpfs "\$mnt" || exit 77
touch "\$mnt/a" "\$mnt/b" "\$mnt/c" 2>/dev/null
cd "$T/full.d"
LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="\$mnt/r.json" "$BIN" >"$T/full.inodes.out" 2>"$T/full.inodes.err"
echo \$? >"$T/full.inodes.rc"
ls -A "\$mnt" >"$T/full.inodes.ls"
umount "\$mnt"
EOF
    mkdir -p "$T/full" "$T/full.d"
    rc=0
    timeout 100 unshare -m --propagation private bash "$T/full.sh" 2>"$T/full.mount.err" || rc=$?
    [ "$rc" = 77 ] && skip "cannot mount a tmpfs here: $(head -1 "$T/full.mount.err")"
    [ "$rc" = 0 ] || fail "the full-fs script failed ($rc): $(head -3 "$T/full.mount.err")"
    for free in 0 1 2 3; do
        same "file system full ($free pages free)" "$T/plain" "$T/full.$free" stderr
        only_reports "$T/full.$free.ls" "file system full ($free pages free)"
        note "$free pages free: $(ls "$T/full.$free.ls" | tr '\n' ' ')"
    done
    [ -z "$(ls -A "$T/full.0.ls")" ] || fail "a report appeared on a full file system: $(ls -A "$T/full.0.ls")"
    same "no inode left" "$T/plain" "$T/full.inodes" stderr
    grep -v -x -e a -e b -e c "$T/full.inodes.ls" | grep -q . && fail "files appeared with no inode left: $(cat "$T/full.inodes.ls")"
    [ -z "$(ls -A "$T/full.d")" ] || fail "files left in the start folder: $(ls -A "$T/full.d")"
    ;;

paths)
    # An existing file at the report path is replaced whole; a path in
    # /proc, a name too long for the file system and a template that
    # expands past PATH_MAX are skipped: the program never notices.
    mkdir -p "$T/ex.d"
    echo "old contents" >"$T/ex.d/r.json"
    run "$T/ex" "$T/ex.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$T/ex.d/r.json" -- "$BIN"
    same "an existing report file" "$T/plain" "$T/ex" stderr
    check "$T/ex.d" --glob r.json --count 1
    only_reports "$T/ex.d" "an existing report file"

    before=$(md5sum </proc/self/status | cut -c1-8)
    for target in /proc/self/status /proc/1/environ /proc/memkit.json; do
        run "$T/pr" "$T/pr.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$target" -- "$BIN"
        same "MEMKIT_REPORT=$target" "$T/plain" "$T/pr" stderr
        [ -z "$(ls -A "$T/pr.d")" ] || fail "MEMKIT_REPORT=$target left: $(ls -A "$T/pr.d")"
    done
    [ ! -e /proc/memkit.json ] || fail "a file appeared in /proc"

    long=$(printf 'n%.0s' $(seq 1 300))
    # under the option's 1023 characters, past PATH_MAX once each %e is
    # the program's name (10 characters)
    huge=$(printf '%%e%.0s' $(seq 1 450))
    for tpl in "$T/lg.d/$long.json" "$T/lg.d/$huge/x.json" "$T/lg.d/$huge.json"; do
        mkdir -p "$T/lg.d"
        run "$T/lg" "$T/lg.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT="$tpl" -- "$BIN"
        same "a report path too long (${#tpl} characters before expansion)" "$T/plain" "$T/lg" stderr
        [ -z "$(ls -A "$T/lg.d")" ] || fail "a too-long report path left: $(ls -A "$T/lg.d" | cut -c1-80)"
    done
    ;;
killed-writing)
    # SIGKILL while the report is being written (strace holds the first
    # write back: true writes nothing of its own, so that is the report's):
    # nothing is left, neither a partial report nor a temporary file.
    command -v strace >/dev/null || skip "strace not installed"
    mkdir -p "$T/kw.d"
    ( cd "$T/kw.d" && exec strace -qq -o /dev/null -E LD_PRELOAD="$MEMKIT_LIB" \
        -e trace=write -e inject=write:delay_enter=5000000 \
        /bin/true ) >"$T/kw.out" 2>"$T/kw.err" &
    tracer=$!
    victim=""
    for _ in $(seq 1 200); do
        victim=$(pgrep -P "$tracer" | head -1)
        [ -n "$victim" ] && [ "$(cut -d' ' -f1 "/proc/$victim/syscall" 2>/dev/null)" = 1 ] && break
        sleep 0.05
    done
    if [ -z "$victim" ] || [ "$(cut -d' ' -f1 "/proc/$victim/syscall" 2>/dev/null)" != 1 ]; then
        kill -KILL "$tracer" 2>/dev/null
        fail "the program never reached its report's write"
    else
        ls -l "/proc/$victim/fd" >"$T/kw.fds" 2>&1
        kill -KILL "$victim" "$tracer"
        wait "$tracer" 2>/dev/null
        grep -q 'deleted' "$T/kw.fds" || note "the report was written by name (no O_TMPFILE here)"
        [ -z "$(ls -A "$T/kw.d")" ] ||
            fail "killed while writing its report, it left: $(ls -A "$T/kw.d")"
    fi
    ;;
disable)
    for val in 1 yes true on; do
        run "$T/dis.$val" "$T/dis.$val.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_DISABLE=$val \
            MEMKIT_REPORT="$T/dis.$val.d/r.json" -- "$BIN"
        same "MEMKIT_DISABLE=$val" "$T/plain" "$T/dis.$val" stderr
        [ -z "$(ls -A "$T/dis.$val.d")" ] || fail "MEMKIT_DISABLE=$val wrote: $(ls -A "$T/dis.$val.d")"
    done
    # disabled under threads (pass-through on every path)
    run "$T/sp" "$T/sp.d" -- "$STRESS" 5000 100
    run "$T/sd" "$T/sd.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_DISABLE=1 -- "$STRESS" 5000 100
    same "stress, MEMKIT_DISABLE=1" "$T/sp" "$T/sd" stderr
    [ -z "$(ls -A "$T/sd.d")" ] || fail "MEMKIT_DISABLE=1 (stress) wrote: $(ls -A "$T/sd.d")"
    # and off: no report either
    run "$T/off" "$T/off.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_REPORT=off -- "$BIN"
    same "MEMKIT_REPORT=off" "$T/plain" "$T/off" stderr
    [ -z "$(ls -A "$T/off.d")" ] || fail "MEMKIT_REPORT=off wrote: $(ls -A "$T/off.d")"
    # MEMKIT_DISABLE=0 is not disabled: a report
    run "$T/on" "$T/on.d" LD_PRELOAD="$MEMKIT_LIB" MEMKIT_DISABLE=0 -- "$BIN"
    same "MEMKIT_DISABLE=0" "$T/plain" "$T/on" stderr
    check "$T/on.d" --count 1 --check 'cfg["MEMKIT_DISABLE"] in ("0", "off", "no", "false")'
    ;;
*)
    echo "unknown case $CASE" >&2
    exit 2
    ;;
esac

finish
