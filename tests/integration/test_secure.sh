#!/usr/bin/env bash
# A setuid program (AT_SECURE) under memkit: memkit reads no environment
# and writes no file, it only passes calls through. The loader preloads a
# library into a secure program only from a system folder and only when
# the library is set-user-ID itself, so the test puts a copy there (and
# removes it); it needs root and is skipped without.
#   test_secure.sh LIBMEMKIT SECURE
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
need_lib
[ "$(id -u)" = 0 ] || skip "needs root to make a setuid program"
id nobody >/dev/null 2>&1 || skip "no user nobody"

sysdir=$(dirname "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6 2>/dev/null || echo /lib/x86_64-linux-gnu/x)")
[ -d "$sysdir" ] || skip "no system library folder"
syslib="$sysdir/libmemkit-secure-test-$$.so"
prog="$T/secure-setuid"
cleanup_secure() { rm -f "$syslib"; }
trap 'cleanup_secure; cleanup' EXIT
cp "$MEMKIT_LIB" "$syslib" && chmod 4755 "$syslib" || skip "cannot write $sysdir"
cp "$BIN" "$prog" && chown nobody "$prog" && chmod 4755 "$prog" || skip "cannot make $prog setuid"
chmod 755 "$T"

# The same program, not setuid, shows that memkit does count there.
run "$T/normal" "$T/normal.d" LD_PRELOAD="$syslib" -- "$BIN"
grep -q '^memkit=loaded stats=0 ' "$T/normal.out" || fail "not setuid: memkit should count: $(cat "$T/normal.out")"

run "$T/secure" "$T/secure.d" LD_PRELOAD="$(basename "$syslib")" MEMKIT_LOG=loud \
    MEMKIT_REPORT="$T/secure.d/r.json" -- "$prog"
expect_rc "setuid" "$T/secure" 0
grep -q '^secure=1$' "$T/secure.out" || fail "the kernel did not mark the program secure: $(cat "$T/secure.out")"
grep -q '^memkit=loaded stats=-1 errno=ENOSYS$' "$T/secure.out" \
    || fail "setuid: memkit should be loaded and pass through: $(cat "$T/secure.out")"
[ ! -s "$T/secure.err" ] || fail "setuid: memkit read the environment (stderr: $(head -2 "$T/secure.err"))"
[ -z "$(ls -A "$T/secure.d")" ] || fail "setuid: memkit wrote a file: $(ls "$T/secure.d")"
finish
