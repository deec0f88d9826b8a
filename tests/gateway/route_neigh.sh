#!/usr/bin/env bash
# Next-hop changes under offloaded traffic (IPv4 and IPv6 at the same time):
# 1. neighbour: the server's MAC changes and the gw's neighbour entries are
#    updated (as a gratuitous ARP / unsolicited NA would), so frames with the
#    old destination MAC would be dropped by the server; flows LAN -> WAN
#    through masquerade.
# 2. route: the gw's route to the server moves from wan0 to a second link
#    wan1 (and the server's route back to the gw moves too). Flows through
#    the port-forward (WAN -> LAN): a masqueraded flow cannot survive this
#    even in the kernel, which kills a masquerade entry whose output
#    interface changes (nf_nat_oif_changed) since its source address would.
# In both cases the transfer continues without a pause of 1 s or more, the
# payload is intact and the fast path carries the flow on its new next hop.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
RATE=5000000 # bytes/s; each transfer lasts about 3 s
BYTES=15000000

xf_gw_create
xf_gw_add_wan2
xf_gw_attach

# start_flows STEP SENDER_NS RECEIVER_NS V4_ADDR V6_ADDR PORT: paced IPv4 and
# IPv6 transfers to PORT (one receiver takes both).
start_flows() {
  local step=$1 src_ns=$2 dst_ns=$3 v4=$4 v6=$5 port=$6 fam addr
  SRC_PIDS=()
  xf_sink "$dst_ns" "$step.recv" tcp-sink --port "$port" --count 2
  SINK_PIDS=("$XF_SINK_PID")
  for fam in ipv4 ipv6; do
    if [ $fam = ipv4 ]; then addr=$v4; else addr=$v6; fi
    ip netns exec "$src_ns" python3 "$XF_TOOL" tcp-source --to "$addr" --port "$port" --bytes $BYTES \
      --rate $RATE >"$XF_GW_DIR/$step-$fam.sent" 2>"$XF_GW_DIR/$step-$fam.err" &
    SRC_PIDS+=($!)
  done
  xf_wait_for 5 xf_offloaded_port "$port" ipv4 || xf_fail "$step: ipv4 flow not offloaded"
  xf_wait_for 5 xf_offloaded_port "$port" ipv6 || xf_fail "$step: ipv6 flow not offloaded"
  sleep 0.5
}

# finish_flows STEP FAST_BEFORE_CHANGE: wait, then check payload, stalls and
# that the fast path kept carrying the flows after the change.
finish_flows() {
  local step=$1 fast_at_change=$2 fam pid
  sleep 1
  local fast_after
  fast_after=$(xf_stat .totals.fast_packets)
  for pid in "${SRC_PIDS[@]}" "${SINK_PIDS[@]}"; do
    wait "$pid" || xf_fail "$step: a sender or receiver failed: $(cat "$XF_GW_DIR/$step"-*.err)"
  done
  # One receiver, two connections: match each sender to its line by hash.
  for fam in ipv4 ipv6; do
    local sha recv gap
    sha=$(xf_json "$XF_GW_DIR/$step-$fam.sent" sha256) || xf_fail "$step $fam: sender reported nothing"
    recv=$(grep -F "\"$sha\"" "$XF_GW_DIR/$step.recv.json") ||
      xf_fail "$step $fam: no connection received the payload intact"
    gap=$(echo "$recv" | jq -r .max_gap_s)
    xf_result "$step $fam: longest pause at the receiver ${gap} s, payload intact"
    xf_lt "$gap" 1.0 || xf_fail "$step $fam: transfer stalled for ${gap} s"
  done
  local fast=$((fast_after - fast_at_change))
  xf_result "$step: $fast fast-path packets in the second after the change"
  [ "$fast" -gt 100 ] || xf_fail "$step: the fast path stopped carrying the flows after the change"
}

# --- 1. neighbour change ------------------------------------------------------
start_flows neigh "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V4" "$XF_SERVER_V6" 5301
new_mac=02:58:46:00:00:02
fast0=$(xf_stat .totals.fast_packets)
xf_server ip link set "$XF_SERVER_IF" address $new_mac
xf_gw ip neigh replace "$XF_SERVER_V4" dev "$XF_GW_WAN" lladdr $new_mac nud reachable
xf_gw ip -6 neigh replace "$XF_SERVER_V6" dev "$XF_GW_WAN" lladdr $new_mac nud reachable
finish_flows neigh "$fast0"

# --- 2. route change ----------------------------------------------------------
start_flows route "$XF_NS_SERVER" "$XF_NS_CLIENT" "$XF_GW_WAN_V4" "$XF_GW_WAN_V6" "$XF_PORT_FORWARD"
rx_of() { xf_server ip -j -s link show "$1" | jq '.[0].stats64.rx.packets'; }
xf_gw_route_via_wan2
sleep 0.5 # let the control plane re-resolve; then no packet may take wan0
old0=$(rx_of "$XF_SERVER_IF")
new0=$(rx_of "$XF_SERVER_IF2")
fast0=$(xf_stat .totals.fast_packets)
finish_flows route "$fast0"
old=$(($(rx_of "$XF_SERVER_IF") - old0))
new=$(($(rx_of "$XF_SERVER_IF2") - new0))
xf_result "route: from 0.5 s after the change, $new packets from the gw took the new link, $old the old one"
[ "$new" -gt 100 ] && [ "$old" -le $((new / 10 + 5)) ] ||
  xf_fail "route: the reply direction did not move to the second WAN link ($new new, $old old)"
xf_log "PASS"
