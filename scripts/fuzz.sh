#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (tests/fuzz) in their own clang build
# (ASan + UBSan + coverage), $XDPFLOW_FUZZ_BUILD_DIR or build-fuzz/.
#
#   scripts/fuzz.sh [--smoke|--long] [--no-build] [TARGET...]
#
#   --smoke     each target for $XDPFLOW_FUZZ_SECONDS (default 25) seconds (CI)
#   --long      each target for $XDPFLOW_FUZZ_RUNS (default 1000000) executions
#   --no-build  use the binaries already built (how ctest calls it)
#   TARGET      packet, netlink (default: every target that is built)
#
# The corpus grows in BUILD/fuzz/corpus/TARGET, seeds are regenerated into
# BUILD/fuzz/seeds/TARGET, a crashing input lands in BUILD/fuzz/artifacts/TARGET
# and the run fails. The last lines give executions and executions/s.
# The packet target needs root (private network namespace, BPF): without it
# the script exits 77 (skip) unless XDPFLOW_REQUIRE_ROOT_TESTS=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${XDPFLOW_FUZZ_BUILD_DIR:-$root/build-fuzz}
mode=smoke
do_build=1
targets=()
for arg in "$@"; do
  case "$arg" in
  --smoke) mode=smoke ;;
  --long) mode=long ;;
  --no-build) do_build=0 ;;
  -h | --help)
    sed -n '2,17p' "$0"
    exit 0
    ;;
  -*)
    echo "fuzz.sh: unknown option $arg" >&2
    exit 2
    ;;
  *) targets+=("$arg") ;;
  esac
done
all_targets=(packet netlink)
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

if [ "$do_build" = 1 ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DXDPFLOW_FUZZ=ON >/dev/null
  build_targets=()
  for t in "${targets[@]}"; do
    # Only targets this tree defines (netlink needs the conntrack parser).
    if grep -q "xf_fuzz_$t" "$root/tests/fuzz/CMakeLists.txt"; then
      build_targets+=(--target "xf_fuzz_$t" --target "xf_fuzz_${t}_seeds")
    fi
  done
  [ ${#build_targets[@]} -eq 0 ] || cmake --build "$build" -j"$(nproc)" "${build_targets[@]}"
fi

status=0
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/xf_fuzz_$t
  if [ ! -x "$bin" ]; then
    echo "fuzz.sh: $t: not built in $build, skipped"
    continue
  fi
  if [ "$t" = packet ] && [ "$(id -u)" -ne 0 ]; then
    if [ "${XDPFLOW_REQUIRE_ROOT_TESTS:-0}" = 1 ]; then
      echo "FAIL: fuzz target $t needs root" >&2
      exit 1
    fi
    echo "SKIP: fuzz target $t needs root (network namespace, BPF)" >&2
    exit 77
  fi
  corpus=$build/fuzz/corpus/$t seeds=$build/fuzz/seeds/$t artifacts=$build/fuzz/artifacts/$t
  rm -rf "$seeds"
  mkdir -p "$corpus" "$seeds" "$artifacts"
  [ ! -x "${bin}_seeds" ] || "${bin}_seeds" "$seeds"
  if [ "$mode" = smoke ]; then
    budget=(-max_total_time="${XDPFLOW_FUZZ_SECONDS:-25}")
  else
    budget=(-runs="${XDPFLOW_FUZZ_RUNS:-1000000}")
  fi
  log=$build/fuzz/$t.log
  echo "fuzz.sh: $t ($mode), log in $log"
  # Leak checking needs ptrace-like stopping of threads; keep it on, it works
  # here, and report leaks as failures like any other sanitizer finding.
  if "$bin" -artifact_prefix="$artifacts/" -max_len=1600 -print_final_stats=1 \
    "${budget[@]}" "$corpus" "$seeds" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    grep -E -A40 "PROPERTY VIOLATED|ERROR: (Address|Undefined|Leak)Sanitizer|runtime error|deadly signal" \
      "$log" | head -80 >&2 || tail -40 "$log" >&2
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  echo "fuzz.sh: $t $result: ${execs:-?} executions, ${rate:-?} exec/s, corpus $(ls "$corpus" | wc -l) inputs"
done
exit $status
