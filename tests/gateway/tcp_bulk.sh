#!/usr/bin/env bash
# TCP bulk transfers through the gateway with xdpflow attached: IPv4 and IPv6,
# through masquerade (LAN client -> WAN server) and through the DNAT
# port-forward (WAN host -> gw:8080 -> LAN host). For each: the payload
# arrives intact (SHA-256), the fast path carries >= 95 % of the packets the
# gateway receives after the handshake, and the kernel's forwarded counters
# (IpForwDatagrams + Ip6OutForwDatagrams) only move for the handshake and the
# teardown.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
BYTES=${XF_BULK_BYTES:-33554432}
MAX_KERNEL_FORWARDED=40

xf_gw_create
xf_gw_attach

# bulk_case NAME FAMILY SENDER_NS RECEIVER_NS CONNECT_ADDR PORT
bulk_case() {
  local name=$1 fam=$2 src_ns=$3 dst_ns=$4 addr=$5 port=$6
  local go="$XF_GW_DIR/$name.go"
  xf_log "$name: $addr port $port, $BYTES bytes"
  xf_sink "$dst_ns" "$name.recv" tcp-sink --port "$port"
  local fwd0 fwd1 fwd2 fast0 fast1 rx0 rx1
  fwd0=$(xf_gw_forwarded)
  ip netns exec "$src_ns" python3 "$XF_TOOL" tcp-source --to "$addr" --port "$port" \
    --bytes "$BYTES" --go "$go" >"$XF_GW_DIR/$name.sent" 2>"$XF_GW_DIR/$name.err" &
  local src_pid=$!
  xf_wait_for 5 xf_offloaded_port "$port" "$fam" ||
    xf_fail "$name: connection not offloaded 5 s after the handshake: $(xf_xdpflow flows 2>&1)"
  fwd1=$(xf_gw_forwarded)
  read -r fast0 rx0 < <(xf_fast_rx)
  touch "$go"
  wait "$src_pid" || xf_fail "$name: sender failed: $(cat "$XF_GW_DIR/$name.err")"
  wait "$XF_SINK_PID" || xf_fail "$name: receiver failed: $(cat "$XF_GW_DIR/$name.recv.err")"
  xf_wait_for 2 xf_not_offloaded_port "$port" "$fam" || xf_fail "$name: flow still offloaded after the teardown"
  read -r fast1 rx1 < <(xf_fast_rx)
  fwd2=$(xf_gw_forwarded)
  xf_same_payload "$XF_GW_DIR/$name.sent" "$XF_GW_DIR/$name.recv.json"

  local fast=$((fast1 - fast0)) rx=$((rx1 - rx0)) handshake=$((fwd1 - fwd0)) kernel=$((fwd2 - fwd0))
  local share secs mbps
  share=$(xf_pct "$fast" "$rx")
  secs=$(xf_json "$XF_GW_DIR/$name.recv.json" duration_s)
  mbps=$(awk -v b="$BYTES" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0) ? b * 8 / s / 1e6 : 0 }')
  xf_result "$name: fast-path share ${share}% ($fast of $rx packets after the handshake)," \
    "kernel-forwarded $kernel packets (handshake $handshake), ${mbps} Mbit/s"
  xf_ge "$share" 95 || xf_fail "$name: fast path carried only ${share}% of the packets"
  [ "$kernel" -le "$MAX_KERNEL_FORWARDED" ] ||
    xf_fail "$name: the kernel forwarded $kernel packets (more than handshake + teardown)"
}

bulk_case snat4 ipv4 "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V4" 5001
bulk_case snat6 ipv6 "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V6" 5002
bulk_case dnat4 ipv4 "$XF_NS_SERVER" "$XF_NS_CLIENT" "$XF_GW_WAN_V4" "$XF_PORT_FORWARD"
bulk_case dnat6 ipv6 "$XF_NS_SERVER" "$XF_NS_CLIENT" "$XF_GW_WAN_V6" "$XF_PORT_FORWARD"
xf_log "PASS"
