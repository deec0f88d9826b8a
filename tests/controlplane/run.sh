#!/usr/bin/env bash
# Runs the control-plane root tests (a gtest binary) inside a fresh gateway
# namespace set (tests/lib/gateway.sh): client - gw - server, nftables
# masquerade and conntrack on gw. Usage: run.sh TEST_BINARY [gtest args...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
xf_require_root
. "$here/../lib/gateway.sh"
binary=$1
shift
XF_NS_PREFIX=xfcp xf_gw_create
ip netns exec "$XF_NS_GW" "$binary" "$@"
