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
# The client/server stacks hand veth partially-checksummed TCP/UDP
# (CHECKSUM_PARTIAL); a frame the gw forwards through XDP loses that state
# and arrives with only the pseudo-header sum. Real NICs put full checksums on
# the wire: make the veth ends do the same.
for ns in "$XF_NS_CLIENT" "$XF_NS_SERVER"; do
  ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
done
ip netns exec "$XF_NS_GW" "$binary" "$@"
