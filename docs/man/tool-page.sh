#!/usr/bin/env bash
# tool-page.sh TOOL NAME INCLUDE OUT [SUBCOMMAND]...
# The manual page of a memkit tool, written by help2man from `TOOL --help`
# and `TOOL --version`, so the page says what the program says. INCLUDE is
# a help2man include file (sections --help does not hold: EXAMPLES, SEE
# ALSO). Each SUBCOMMAND's own `TOOL SUBCOMMAND --help` becomes a section
# of the page ("memkit run").
#
# help2man builds SYNOPSIS from GNU-style usage lines ("Usage: ...", then
# "  or:  ..."); memkit's tools print "usage: ..." with continuation lines
# indented under it, so help2man runs the tool through a small wrapper
# that rewrites those lines and nothing else.
set -euo pipefail
tool=$1 name=$2 include=$3 out=$4
shift 4
case $tool in /*) ;; *) tool=$PWD/$tool ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prog=$(basename "$tool")

cat > "$tmp/$prog" <<'WRAPPER'
#!/usr/bin/env bash
# Runs the tool; rewrites the usage block of --help for help2man.
set -o pipefail
gnu_usage() {
    awk 'NR == 1 && sub(/^usage:/, "Usage:") { u = 1; print; next }
         u && /^       [^ ]/ { sub(/^       /, "  or:  "); print; next }
         { u = 0; print }'
}
if [ "$*" != "--help" ]; then
    exec "$MK_PAGE_TOOL" "$@"
fi
"$MK_PAGE_TOOL" --help | gnu_usage || exit
for sub in $MK_PAGE_SUBCOMMANDS; do
    # A help2man section per subcommand: "*memkit run*", then its help
    # with "usage: " dropped from its first line.
    printf '\n*%s %s*\n' "$(basename "$MK_PAGE_TOOL")" "$sub"
    "$MK_PAGE_TOOL" "$sub" --help | sed '1s/^usage: //' || exit
done
WRAPPER
chmod +x "$tmp/$prog"

MK_PAGE_TOOL=$tool MK_PAGE_SUBCOMMANDS="$*" \
    help2man --no-info --name="$name" --include="$include" --output="$out.tmp" "$tmp/$prog"
mv "$out.tmp" "$out"
