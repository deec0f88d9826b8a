#!/usr/bin/env bash
# Next-hop changes under offloaded traffic (IPv4 and IPv6 at the same time):
# 1. neighbour: the server's MAC changes and the gw's neighbour entries are
#    updated (as a gratuitous ARP / unsolicited NA would), so frames with the
#    old destination MAC would be dropped by the server;
# 2. route: the gw's route to the server moves from wan0 to a second link
#    wan1 (and the server's route back to the gw moves too).
# In both cases the transfer continues without a pause of 1 s or more, the
# payload is intact and the fast path carries the flow on its new next hop.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
RATE=5000000 # bytes/s; each transfer lasts about 3 s
BYTES=15000000

xf_gw_create
xf_gw_add_wan2
xf_gw_attach

# start_flows STEP: paced transfers to the server, port 5300+n for ipv4/ipv6.
start_flows() {
  local step=$1 fam addr port
  SRC_PIDS=()
  SINK_PIDS=()
  for fam in ipv4 ipv6; do
    if [ $fam = ipv4 ]; then addr=$XF_SERVER_V4 port=5301; else addr=$XF_SERVER_V6 port=5302; fi
    xf_sink "$XF_NS_SERVER" "$step-$fam.recv" tcp-sink --port $port
    SINK_PIDS+=("$XF_SINK_PID")
    xf_client python3 "$XF_TOOL" tcp-source --to "$addr" --port $port --bytes $BYTES --rate $RATE \
      >"$XF_GW_DIR/$step-$fam.sent" 2>"$XF_GW_DIR/$step-$fam.err" &
    SRC_PIDS+=($!)
  done
  xf_wait_for 5 xf_offloaded_port 5301 ipv4 || xf_fail "$step: ipv4 flow not offloaded"
  xf_wait_for 5 xf_offloaded_port 5302 ipv6 || xf_fail "$step: ipv6 flow not offloaded"
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
    wait "$pid" || xf_fail "$step: a sender or receiver failed"
  done
  for fam in ipv4 ipv6; do
    xf_same_payload "$XF_GW_DIR/$step-$fam.sent" "$XF_GW_DIR/$step-$fam.recv.json"
    local gap
    gap=$(xf_json "$XF_GW_DIR/$step-$fam.recv.json" max_gap_s)
    xf_result "$step $fam: longest pause at the receiver ${gap} s, payload intact"
    xf_lt "$gap" 1.0 || xf_fail "$step $fam: transfer stalled for ${gap} s"
  done
  local fast=$((fast_after - fast_at_change))
  xf_result "$step: $fast fast-path packets in the second after the change"
  [ "$fast" -gt 100 ] || xf_fail "$step: the fast path stopped carrying the flows after the change"
}

# --- 1. neighbour change ------------------------------------------------------
start_flows neigh
new_mac=02:58:46:00:00:02
fast0=$(xf_stat .totals.fast_packets)
xf_server ip link set "$XF_SERVER_IF" address $new_mac
xf_gw ip neigh replace "$XF_SERVER_V4" dev "$XF_GW_WAN" lladdr $new_mac nud reachable
xf_gw ip -6 neigh replace "$XF_SERVER_V6" dev "$XF_GW_WAN" lladdr $new_mac nud reachable
finish_flows neigh "$fast0"

# --- 2. route change ----------------------------------------------------------
start_flows route
rx_wan2() { xf_server ip -j -s link show "$XF_SERVER_IF2" | jq '.[0].stats64.rx.packets'; }
rx0=$(rx_wan2)
fast0=$(xf_stat .totals.fast_packets)
xf_gw_route_via_wan2
finish_flows route "$fast0"
rx1=$(rx_wan2)
xf_result "route: $((rx1 - rx0)) packets arrived over the second WAN link"
[ $((rx1 - rx0)) -gt 1000 ] || xf_fail "route: the traffic did not move to the second WAN link"
xf_log "PASS"
