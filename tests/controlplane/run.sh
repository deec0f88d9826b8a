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
# The tests attach the XDP program themselves (FastPath + XdpLink, no hook
# choice): the XDP hook on purpose, so the ends send complete checksums.
XF_GW_TX_OFF=1 XF_NS_PREFIX=xfcp xf_gw_create
ip netns exec "$XF_NS_GW" "$binary" "$@"
