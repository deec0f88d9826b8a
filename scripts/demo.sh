#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine (as root) it
# installs what is missing, builds xdpflow, builds a namespace gateway
# (client - gw - server, nftables with conntrack and masquerade on gw), and
# shows xdpflow at work: the offloaded connection, the fast-path counters and
# the TCP throughput through the gateway with and without xdpflow. The veths
# keep their default offloads (as containers and VMs have them), so
# `--hook auto` runs the TC hook there; the demo then forces the XDP hook on
# the same veths to show why auto does not (checksum errors), and shapes the
# WAN to show a direction forwarded by TC through its egress qdisc. Everything
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

section "xdpflow attach lan0 wan0 (in the gateway namespace; --hook auto)"
xf_gw_attach
sed 's/^/  /' "$XF_GW_DIR/attach.log"

section "TCP throughput with xdpflow (TC hook on veth), ${secs} s"
fwd0=$(xf_gw_forwarded)
tc_mbps=$(SHOW=1 iperf3_run xdpflow)
tc_fwd=$(($(xf_gw_forwarded) - fwd0))

section "xdpflow status"
xf_xdpflow status
section "xdpflow stats (fast-path counters since attach, per hook)"
xf_xdpflow stats

# udp_exchange LABEL: 150 UDP request/responses through the masquerade;
# prints "REPLIES CSUM_ERRORS" (checksum errors counted by the server).
udp_exchange() {
  local e0 e1 echo
  e0=$(xf_server nstat -asz UdpInCsumErrors | awk '$1 == "UdpInCsumErrors" { print $2 }')
  xf_server python3 "$XF_GW_TOOL" udp-echo --port 7001 --idle 20 >/dev/null 2>&1 &
  echo=$!
  sleep 0.5
  xf_client python3 "$XF_GW_TOOL" udp-client --to "$XF_SERVER_V4" --port 7001 --count 150 \
    --interval 0.02 --pause-after-first 2.2 >"$XF_GW_DIR/$1.udp.json"
  kill "$echo" 2>/dev/null || true
  wait "$echo" 2>/dev/null || true
  e1=$(xf_server nstat -asz UdpInCsumErrors | awk '$1 == "UdpInCsumErrors" { print $2 }')
  echo "$(jq -r .received "$XF_GW_DIR/$1.udp.json") $((e1 - e0))"
}
section "UDP request/response with the TC hook (150 datagrams)"
read -r tc_udp tc_csum < <(udp_exchange tc)
echo "  $tc_udp of 150 replies, $tc_csum checksum errors at the server"

section "The same with the XDP hook forced on these veths (--hook xdp)"
xf_gw_detach
# A veth takes XDP-redirected frames only while the receiving end runs XDP
# (or GRO): a pass-only XDP program on the client's and server's ends, their
# offloads untouched. Without it, --hook xdp would leave these directions to
# the TC program anyway (no ndo-xmit).
pass_obj=${XDPFLOW_BUILD_DIR:-$root/build}/tests/gateway/xfgw_pass.bpf.o
xf_client ip link set dev "$XF_CLIENT_IF" xdpdrv obj "$pass_obj" sec xdp
xf_server ip link set dev "$XF_SERVER_IF" xdpdrv obj "$pass_obj" sec xdp
xf_gw_attach --hook xdp
grep -E 'hook' "$XF_GW_DIR/attach.log" | tail -2 | sed 's/^/  /'
read -r xdp_udp xdp_csum < <(udp_exchange xdp)
echo "  $xdp_udp of 150 replies, $xdp_csum checksum errors at the server"
echo "  The client and server send with tx checksum offload (veth's default): their"
echo "  frames carry only the pseudo-header checksum (CHECKSUM_PARTIAL) and the skb"
echo "  says so. XDP sees raw bytes and forwards them as they are, so they arrive"
echo "  corrupt; the TC hook works on the skb and keeps that state. This is why"
echo "  --hook auto puts veth, tap and interfaces without native XDP on TC, and"
echo "  XDP on NICs with native XDP, whose received frames carry full checksums."
xf_gw_detach
xf_client ip link set dev "$XF_CLIENT_IF" xdpdrv off
xf_server ip link set dev "$XF_SERVER_IF" xdpdrv off

section "A shaped WAN: HTB at 20 Mbit/s on wan0's egress, xdpflow (auto) attached"
xf_gw tc qdisc add dev "$XF_GW_WAN" root handle 1: htb default 10
xf_gw tc class add dev "$XF_GW_WAN" parent 1: classid 1:10 htb rate 20mbit ceil 20mbit
xf_gw_attach
shaped_mbps=$(SHOW=1 iperf3_run shaped)
echo "  ${shaped_mbps} Mbit/s of goodput: the upload is forwarded by TC through wan0's HTB"
xf_gw_detach
xf_gw tc qdisc del dev "$XF_GW_WAN" root

section "Side by side (TCP bulk client -> server)"
printf '  %-26s %10s %26s\n' "path" "Mbit/s" "packets kernel-forwarded"
printf '  %-26s %10s %26s\n' "kernel (nftables+ct)" "$kernel_mbps" "$kernel_fwd"
printf '  %-26s %10s %26s\n' "kernel, gw GRO off" "$nogro_mbps" "$nogro_fwd"
printf '  %-26s %10s %26s\n' "xdpflow, TC hook" "$tc_mbps" "$tc_fwd"
printf '  %-26s %10s %26s\n' "xdpflow, TC, 20 Mbit HTB" "$shaped_mbps" "-"
echo
echo "  With xdpflow the kernel only forwards each connection's handshake and"
echo "  teardown. The TC hook forwards the skbs veth hands over, GSO aggregates of"
echo "  up to 64 KiB included, so TCP bulk keeps the kernel path's aggregation; the"
echo "  XDP hook, on NICs, moves MTU-sized frames before any skb exists and wins on"
echo "  packet rate (see scripts/bench)."
section "Cleaning up (namespaces, XDP programs, temp files)"
