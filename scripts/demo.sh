#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine (as root) it
# installs what is missing, builds xdpflow, builds a namespace gateway
# (client - gw - server, nftables with conntrack and masquerade on gw), and
# shows xdpflow at work: the offloaded connection, the fast-path counters and
# the TCP throughput through the gateway with and without xdpflow. Everything
# it creates lives in network namespaces named xfdemo<PID>* and is removed on
# exit, even on failure or Ctrl-C.
#
#   scripts/demo.sh [SECONDS]     (length of each iperf3 run, default 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (it installs packages, creates network namespaces and attaches XDP)" >&2
  exit 1
fi

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

section "Installing dependencies and building"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
export XDPFLOW_BIN=${XDPFLOW_BUILD_DIR:-$root/build}/loader/xdpflow

. "$root/tests/lib/common.sh"
. "$root/tests/lib/gateway.sh"
export XF_NS_PREFIX=xfdemo

section "Creating the namespace gateway"
xf_gw_create
cat <<EOF
  client ($XF_NS_CLIENT)  $XF_CLIENT_V4 / $XF_CLIENT_V6
     | LAN 198.18.0.0/24, 2001:2:0:1::/64
  gw ($XF_NS_GW)  lan0 $XF_GW_LAN_V4 --- wan0 $XF_GW_WAN_V4   nftables: stateful firewall, masquerade, port-forward :$XF_PORT_FORWARD
     | WAN 198.19.0.0/24, 2001:2:0:2::/64
  server ($XF_NS_SERVER)  $XF_SERVER_V4 / $XF_SERVER_V6
EOF

# iperf3_run LABEL: client -> server through the gateway's masquerade for
# $secs seconds; prints Mbit/s. With SHOW=1, prints `xdpflow flows` midway.
iperf3_run() {
  xf_server iperf3 -s -1 -B "$XF_SERVER_V4" >/dev/null 2>&1 &
  local srv=$!
  sleep 0.5
  xf_client iperf3 -c "$XF_SERVER_V4" -t "$secs" -J >"$XF_GW_DIR/$1.json" 2>&1 &
  local cli=$!
  if [ "${SHOW:-0}" = 1 ]; then
    sleep $(((secs + 1) / 2))
    # stderr: stdout is the function's result
    section "xdpflow flows (during the transfer)" >&2
    xf_xdpflow flows >&2
  fi
  wait "$cli" || { cat "$XF_GW_DIR/$1.json" >&2; xf_fail "iperf3 ($1) failed"; }
  wait "$srv" 2>/dev/null || true
  jq -r '.end.sum_received.bits_per_second / 1e6 | floor' "$XF_GW_DIR/$1.json"
}

section "TCP throughput through the kernel path (no xdpflow), ${secs} s"
fwd0=$(xf_gw_forwarded)
kernel_mbps=$(iperf3_run kernel)
kernel_fwd=$(($(xf_gw_forwarded) - fwd0))
echo "  ${kernel_mbps} Mbit/s; the kernel forwarded ${kernel_fwd} packets (GRO aggregates)"

section "The same without GRO on the gateway (the kernel forwards every frame), ${secs} s"
xf_gw ethtool -K "$XF_GW_LAN" gro off
xf_gw ethtool -K "$XF_GW_WAN" gro off
fwd0=$(xf_gw_forwarded)
nogro_mbps=$(iperf3_run kernel-nogro)
nogro_fwd=$(($(xf_gw_forwarded) - fwd0))
echo "  ${nogro_mbps} Mbit/s; the kernel forwarded ${nogro_fwd} packets"
xf_gw ethtool -K "$XF_GW_LAN" gro on
xf_gw ethtool -K "$XF_GW_WAN" gro on

section "xdpflow attach lan0 wan0 (in the gateway namespace)"
xf_gw_attach
sed 's/^/  /' "$XF_GW_DIR/attach.log"

section "TCP throughput with xdpflow, ${secs} s"
fwd0=$(xf_gw_forwarded)
xdp_mbps=$(SHOW=1 iperf3_run xdpflow)
xdp_fwd=$(($(xf_gw_forwarded) - fwd0))

section "xdpflow stats (fast-path counters since attach)"
xf_xdpflow stats

section "Side by side"
printf '  %-22s %14s %26s\n' "path" "Mbit/s" "packets kernel-forwarded"
printf '  %-22s %14s %26s\n' "kernel (nftables+ct)" "$kernel_mbps" "$kernel_fwd"
printf '  %-22s %14s %26s\n' "kernel, gw GRO off" "$nogro_mbps" "$nogro_fwd"
printf '  %-22s %14s %26s\n' "xdpflow" "$xdp_mbps" "$xdp_fwd"
cat <<'EOF'

  With xdpflow the kernel only forwards each connection's handshake and
  teardown; every other packet is rewritten and redirected by XDP. On veth,
  TCP bulk throughput favours the kernel path, which forwards GRO/GSO
  aggregates of up to 64 KiB per skb while XDP moves MTU-sized frames; the
  packet-rate gain shows with small packets (see scripts/bench).
EOF
section "Cleaning up (namespaces, XDP programs, temp files)"
