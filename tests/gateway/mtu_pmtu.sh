#!/usr/bin/env bash
# Path MTU through an offloaded flow: the gw's WAN link gets MTU 1400 while
# the client and the server both have 1500, so the server's MSS lets the
# client send 1500-byte packets. The fast path must hand those to the kernel
# (slow_reasons.mtu), which answers with ICMP fragmentation needed / ICMPv6
# packet too big; the client lowers its path MTU, the transfer completes
# intact and the rest of it takes the fast path. IPv4 and IPv6.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
BYTES=8000000
WAN_MTU=1400

xf_gw_create
xf_gw ip link set "$XF_GW_WAN" mtu $WAN_MTU
xf_gw_attach

mtu_case() {
  local fam=$1 addr=$2 port=$3 icmp_counter=$4
  local go="$XF_GW_DIR/$fam.go"
  xf_sink "$XF_NS_SERVER" "$fam.recv" tcp-sink --port "$port"
  xf_client python3 "$XF_TOOL" tcp-source --to "$addr" --port "$port" --bytes $BYTES --go "$go" \
    >"$XF_GW_DIR/$fam.sent" 2>"$XF_GW_DIR/$fam.err" &
  local pid=$!
  xf_wait_for 5 xf_offloaded_port "$port" "$fam" || xf_fail "$fam: not offloaded after the handshake"
  local mtu0 icmp0 fast0 rx0
  mtu0=$(xf_stat .totals.slow_reasons.mtu)
  icmp0=$(xf_gw_nstat "$icmp_counter")
  read -r fast0 rx0 < <(xf_fast_rx)
  touch "$go"
  wait "$pid" || xf_fail "$fam: sender failed: $(cat "$XF_GW_DIR/$fam.err")"
  wait "$XF_SINK_PID" || xf_fail "$fam: receiver failed"
  xf_same_payload "$XF_GW_DIR/$fam.sent" "$XF_GW_DIR/$fam.recv.json"
  local too_big=$(($(xf_stat .totals.slow_reasons.mtu) - mtu0))
  local icmp=$(($(xf_gw_nstat "$icmp_counter") - icmp0))
  local fast1 rx1
  read -r fast1 rx1 < <(xf_fast_rx)
  local fast=$((fast1 - fast0)) rx=$((rx1 - rx0))
  local pmtu
  pmtu=$(xf_client ip route get "$addr" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
  xf_result "$fam: $too_big oversized packets passed to the kernel, $icmp $icmp_counter sent," \
    "client path MTU ${pmtu:-none}, fast-path share $(xf_pct $fast $rx)% of the transfer"
  [ "$too_big" -gt 0 ] || xf_fail "$fam: the fast path never refused an oversized packet"
  [ "$icmp" -gt 0 ] || xf_fail "$fam: the gw sent no $icmp_counter"
  [ "$pmtu" = $WAN_MTU ] || xf_fail "$fam: the client's path MTU is '${pmtu}', expected $WAN_MTU"
  xf_ge "$(xf_pct $fast $rx)" 90 || xf_fail "$fam: the fast path did not take over after PMTU discovery"
}
mtu_case ipv4 "$XF_SERVER_V4" 5501 IcmpOutDestUnreachs
mtu_case ipv6 "$XF_SERVER_V6" 5502 Icmp6OutPktTooBigs
xf_log "PASS"
