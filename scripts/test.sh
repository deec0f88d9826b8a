#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs every test
# layer (unit, data path, control plane, CLI, gateway). Root tests skip when
# not root unless XDPFLOW_REQUIRE_ROOT_TESTS=1, which makes a skip a failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
build=${XDPFLOW_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure --timeout 600 "$@"
