#!/usr/bin/env bash
# Programs that close or reuse their standard descriptors (closefds.c):
# memkit changes neither output nor status, and never writes into a file
# the program opened on fd 1 or fd 2, even when it has something to say
# (MEMKIT_LOG=debug and a report it cannot write).
#   test_closed_fds.sh LIBMEMKIT CLOSEFDS
source "$(dirname "$0")/lib.sh"
MEMKIT_LIB=$(abs "$1")
BIN=$(abs "$2")
need_lib

# 1. stdout and stderr closed before exit (like ls, via close_stdout).
run "$T/close.plain" "$T/close.plain.d" -- "$BIN" close
expect_rc "close, plain" "$T/close.plain" 0
for opts in "" "MEMKIT_LOG=debug"; do
    tag=${opts:-default}
    run "$T/close.$tag" "$T/close.$tag.d" LD_PRELOAD="$MEMKIT_LIB" $opts -- "$BIN" close
    same "close stdout+stderr ($tag)" "$T/close.plain" "$T/close.$tag"
    [ "$(other_lines "$T/close.$tag.err")" = 0 ] \
        || fail "close ($tag): stderr has lines that are not memkit's: $(head -3 "$T/close.$tag.err")"
    check "$T/close.$tag.d" --count 1 --check 't["alloc_calls"] >= 2000'
done

# 2. fd 2 closed, then a file opened on it; 3. fd 1 and 2 both reused.
line="the program's own line"
run "$T/reopen.plain" "$T/reopen.plain.d" -- "$BIN" reopen "$T/reopen.plain.d/file"
expect_rc "reopen, plain" "$T/reopen.plain" 0
[ "$(cat "$T/reopen.plain.d/file")" = "$line" ] || fail "reopen, plain: file holds $(cat "$T/reopen.plain.d/file")"
run "$T/out.plain" "$T/out.plain.d" -- "$BIN" reopen-out "$T/out.plain.d/file"
expect_rc "reopen-out, plain" "$T/out.plain" 0

n=0
for opts in "" "MEMKIT_LOG=debug" "MEMKIT_LOG=debug MEMKIT_REPORT=$T/no/such/folder/r.json" \
            "MEMKIT_LOG=debug MEMKIT_COMPACT_THRESHOLD=abc MEMKIT_REPORT=/proc/r.json"; do
    n=$((n + 1))
    d="$T/reopen.$n.d"
    run "$T/reopen.$n" "$d" LD_PRELOAD="$MEMKIT_LIB" $opts -- "$BIN" reopen "$d/file"
    same "reopen fd 2 [$opts]" "$T/reopen.plain" "$T/reopen.$n"
    if [ "$(cat "$d/file")" != "$line" ]; then
        fail "reopen fd 2 [$opts]: memkit wrote into the program's file on fd 2:"
        head -5 "$d/file" | sed 's/^/    | /' >&2
    fi
    d="$T/out.$n.d"
    run "$T/out.$n" "$d" LD_PRELOAD="$MEMKIT_LIB" $opts -- "$BIN" reopen-out "$d/file"
    same "reopen fd 1 and 2 [$opts]" "$T/out.plain" "$T/out.$n"
    [ "$(cat "$d/file")" = "stdout line" ] || fail "reopen fd 1 [$opts]: file on fd 1 holds: $(head -3 "$d/file")"
    [ "$(cat "$d/file.err")" = "stderr line" ] || fail "reopen fd 2 [$opts]: file on fd 2 holds: $(head -3 "$d/file.err")"
done
# With the default report path, the reports were written all the same.
check "$T/reopen.1.d" --count 1 --check 't["alloc_calls"] >= 1000'
check "$T/out.1.d" --count 1 --check 't["alloc_calls"] >= 1000'

finish
