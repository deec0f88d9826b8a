#!/usr/bin/env bash
# scripts/cross.sh TARGET [--no-install] [--build-only]
#   TARGET: arm64 | armhf | mipsel | mips (big-endian)
#
# Cross-builds xdpflow with Debian's cross toolchain and the target's
# multiarch libraries (cmake/toolchains/TARGET.cmake) into build-TARGET/, then
# runs under qemu-user: the unit suite (pure core, checksum math, key
# builder, test packet builder), and the BTF layout check of the BPF object
# built for the target's byte order against the target's own C++ view of
# include/xdpflow/flow.h (printed under qemu, compared on the host with
# libbpf). arm64 and armhf also build the xdpflow binary and run
# `xdpflow --version` under qemu.
#
# What Debian 12 lacks: mips (big-endian) is no longer a Debian architecture,
# so no library exists for it: googletest is built (static) from the host's
# /usr/src/googletest; the pure core needs neither libmnl nor libbpf (it has
# its own netlink attribute code), and without libbpf mips builds the core,
# the unit tests and the BPF object, not the xdpflow binary. mipsel:
# libbpf-dev:mipsel cannot be installed next to the host's (zlib1g:mipsel is
# a different version), so the same as mips, with Debian's googletest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-}
shift || true
install=1
run_tests=1
for a in "$@"; do
  case $a in
  --no-install) install=0 ;;
  --build-only) run_tests=0 ;;
  *) echo "cross.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
case $target in
arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64-static bpf_target=bpfel full=1 libs="libbpf-dev libmnl-dev libgtest-dev" ;;
armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm-static bpf_target=bpfel full=1 libs="libbpf-dev libmnl-dev libgtest-dev" ;;
mipsel) triplet=mipsel-linux-gnu qemu=qemu-mipsel-static bpf_target=bpfel full=0 libs="libgtest-dev" ;;
mips) triplet=mips-linux-gnu qemu=qemu-mips-static bpf_target=bpfeb full=0 libs="" ;;
*)
  echo "usage: scripts/cross.sh arm64|armhf|mipsel|mips [--no-install] [--build-only]" >&2
  exit 2
  ;;
esac
build=${XDPFLOW_CROSS_BUILD_DIR:-$root/build-$target}
jobs=${XDPFLOW_JOBS:-2}
log() { echo "cross.sh $target: $*"; }
t0=$(date +%s)

# 1. Toolchain, qemu, the target's libraries.
if [ $install = 1 ]; then
  pkgs=(g++-$triplet qemu-user-static clang bpftool libbpf-dev libgtest-dev cmake pkg-config)
  for l in $libs; do pkgs+=("$l:$target"); done
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "cross.sh: missing ${missing[*]}; run as root" >&2; exit 1; }
    if [ -n "$libs" ] && ! dpkg --print-foreign-architectures | grep -qx "$target"; then
      dpkg --add-architecture "$target"
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
t_install=$(($(date +%s) - t0))

# 2. What Debian has not got for the target, from source, static.
prefix=$build/prefix
cmake_extra=()
if [ "$target" = mips ] || [ "$target" = mipsel ]; then
  cmake_extra+=(-DXDPFLOW_BUILD_BPF=OFF -DXDPFLOW_BUILD_BPF_OBJECT=ON)
fi
if [ "$target" = mips ]; then
  cmake_extra+=(-DXDPFLOW_CROSS_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix")
  if [ ! -e "$prefix/lib/libgtest.a" ]; then
    log "googletest from /usr/src/googletest"
    cmake -S /usr/src/googletest -B "$build/googletest" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$target.cmake" \
      -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_GMOCK=OFF >/dev/null
    cmake --build "$build/googletest" -j"$jobs" >/dev/null
    cmake --install "$build/googletest" >/dev/null
  fi
fi

# 3. Configure and build.
targets=(xdpflow_unit_tests xdpflow_layout_view xf_fastpath_obj)
[ $full = 1 ] && targets=(xdpflow_unit_tests xdpflow_layout_view xdpflow)
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/$target.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_extra[@]}" >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j"$jobs" --target "${targets[@]}"
t_build=$(($(date +%s) - t0 - t_install))
[ $run_tests = 1 ] || { log "built in ${t_build}s (install ${t_install}s)"; exit 0; }

# 4. Under qemu-user.
run() { "$qemu" -L "/usr/$triplet" "$@"; }
log "unit tests under $qemu"
run "$build/tests/unit/xdpflow_unit_tests" --gtest_brief=1 >"$build/unit.log" 2>&1 ||
  { cat "$build/unit.log"; log "FAIL: unit tests"; exit 1; }
unit_count=$(grep -oE '^\[  PASSED  \] [0-9]+ tests' "$build/unit.log" | grep -oE '[0-9]+')
log "unit tests: $unit_count passed"

if [ $full = 1 ]; then
  run "$build/loader/xdpflow" --version || { log "FAIL: xdpflow --version under qemu"; exit 1; }
fi

# The BTF of the target's object against the target's C++ view, on the host
# (libbpf reads BTF of either byte order).
run "$build/tests/layout/xdpflow_layout_view" >"$build/layout.view"
host=${XDPFLOW_BUILD_DIR:-$root/build}
if [ ! -x "$host/tests/layout/xdpflow_btf_layout_test" ]; then
  cmake -S "$root" -B "$host" >/dev/null
  cmake --build "$host" -j"$jobs" --target xdpflow_btf_layout_test
fi
XDPFLOW_BTF_OBJECT=$build/bpf/xf_fastpath.bpf.o XDPFLOW_BTF_TARGET=$bpf_target \
  XDPFLOW_LAYOUT_VIEW=$build/layout.view "$host/tests/layout/xdpflow_btf_layout_test" \
  --gtest_filter='BtfLayout.ObjectOfThisBuild' --gtest_brief=1 >"$build/btf.log" 2>&1 ||
  { cat "$build/btf.log"; log "FAIL: BTF layout check"; exit 1; }
log "BTF check: the $bpf_target object against the $target C++ view: passed"
t_test=$(($(date +%s) - t0 - t_install - t_build))
log "PASS: $unit_count unit tests + BTF check under qemu; install ${t_install}s, build ${t_build}s, tests ${t_test}s"
