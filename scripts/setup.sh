#!/usr/bin/env bash
# Installs, with apt-get, the Debian 12 packages memkit needs that are not
# installed yet; does nothing when all are there. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  meson ninja-build gcc pkg-config
  # libraries: reading reports, unit tests; later parts: stacks, symbols, site tables
  libjansson-dev libcriterion-dev libunwind-dev libdw-dev uthash-dev
  # tests: allocators beneath memkit, real programs run under it
  libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev
  python3 git sqlite3 xz-utils coreutils strace
  zstd pigz perl ruby nodejs stress-ng libpython3.11-testsuite
  # pool benchmark: FFmpeg's AVBufferPool side by side
  libavutil-dev
  # benchmarks (tests/bench/run_all.sh): glibc's libmemusage.so, heaptrack,
  # GStreamer's GstBufferPool
  libc-devtools heaptrack libgstreamer1.0-dev
  # tools: manual pages from --help, the SVG rendered headless, metrics checked
  help2man man-db groff-base chromium prometheus python3-prometheus-client
  # sanitizer builds, libFuzzer, valgrind of memkit-report
  clang libclang-rt-14-dev valgrind
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
