#!/usr/bin/env bash
# A station moves from one bridge port to the other (a laptop roaming
# between two access points bridged into br-lan): the bridge's FDB learns
# its MAC behind the new port from its first frame there, and the kernel
# sends it the next frames through that port. xdpflow's entries for the
# station's connections carry the old port (the observer saw the kernel
# send there): the FDB change must take them out of the table, counted as an
# "fdb" invalidation, and the kernel's next packets teach the new port.
#
# Topology: br-lan over lan0 and lan1, both leading to the client namespace
# (its eth0 and eth1), the LAN address on br-lan. The station (MAC M, the
# client's address) is eth0 at first; eth1 has MAC M too but no address and
# no IPv6, so it stays silent. The move, in one step: eth0 takes another MAC
# (frames still sent to M behind lan0 are not for it any more: dropped) and
# gives its address to eth1, whose first frame (ARP for the gw) is from M
# behind lan1. Neither port's carrier changes.
#
# Differential: a UDP echo stream (100 datagrams/s) from the station to the
# server; the time from the move to the first echo arriving at eth1, kernel
# path then xdpflow (`attach lan0 lan1 wan0`).
. "$(dirname "$0")/e2e.sh"
. "$XF_E2E_DIR/topology.sh"
. "$XF_E2E_DIR/follow.sh"
xf_e2e_init
xf_gw_create

PORT=5601
xf_topo_bridge_lan lan1 "$XF_NS_CLIENT" eth1
STATION_MAC=$(xf_client cat "/sys/class/net/$XF_CLIENT_IF/address")
xf_client sysctl -qw net.ipv6.conf.eth1.disable_ipv6=1
xf_client ip link set eth1 address "$STATION_MAC"
xf_client ip link set eth1 up
xf_client ip neigh flush dev "$XF_CLIENT_IF"
xf_client ping -q -c1 -W2 "$XF_GW_LAN_V4" >/dev/null || xf_fail "ping the gw through br-lan"
export XF_GW_ATTACH_IFACES="$XF_GW_LAN lan1 $XF_GW_WAN"

reply_out_lan1() {
  xf_xdpflow flows --json | jq -e --argjson p "$PORT" \
    '[.flows[] | select(.original.dport == $p and .reply.out == "lan1")] | length > 0'
}

# run NAME: sets FOLLOW_MS and OLD_PORT (echoes still sent to lan0), and
# INVAL_MS with xdpflow. Not in a subshell: its exit would run the cleanup.
run() {
  local name=$1
  xf_follow_start "$name" "$PORT" --until "new " --timeout 10 -- \
    "old=$XF_NS_CLIENT:$XF_CLIENT_IF" "new=$XF_NS_CLIENT:eth1"
  local watcher=$XF_FOLLOW_PID
  xf_sink "$XF_NS_SERVER" "$name.echo" udp-echo --port "$PORT" --idle 60
  local echo=$XF_SINK_PID
  ip netns exec "$XF_NS_CLIENT" python3 "$XF_TOOL" udp-client --to "$XF_SERVER_V4" --port "$PORT" --count 3000 \
    --interval 0.01 >/dev/null 2>"$XF_GW_DIR/$name.client.err" &
  local client=$!
  if [ -n "${XF_XDPFLOW_PID:-}" ]; then
    xf_wait_for 12 xf_offloaded_port "$PORT" ||
      xf_fail "$name: the stream was not offloaded: $(xf_xdpflow flows --pending 2>&1)"
  else
    sleep 3
  fi
  sleep 1
  xf_follow_mark "$name"
  xf_client ip -batch - <<EOF
link set $XF_CLIENT_IF address 02:58:46:00:00:e0
addr del $XF_CLIENT_V4/24 dev $XF_CLIENT_IF
addr add $XF_CLIENT_V4/24 dev eth1
route replace default via $XF_GW_LAN_V4 dev eth1
EOF
  XF_FOLLOW_PID=$watcher xf_follow_wait "$name"
  if [ -n "${XF_XDPFLOW_PID:-}" ]; then
    INVAL_MS=$(xf_invalidation_ms "$name")
    xf_wait_for 8 reply_out_lan1 ||
      xf_fail "$name: not offloaded again towards lan1 after the move:" \
        "$(xf_xdpflow flows 2>&1)" "$(xf_xdpflow flows --pending 2>&1)"
  fi
  kill "$client" "$echo" 2>/dev/null || true
  wait "$client" "$echo" 2>/dev/null || true
  read -r FOLLOW_MS OLD_PORT < <(xf_follow_ms "$name" "new ") ||
    xf_fail "$name: no arrival figures: $(cat "$XF_GW_DIR/$name.watch.err")"
}
# The station goes back to eth0 (its own MAC again) for the next run.
move_back() {
  xf_client ip -batch - <<EOF
link set $XF_CLIENT_IF address $STATION_MAC
addr del $XF_CLIENT_V4/24 dev eth1
addr add $XF_CLIENT_V4/24 dev $XF_CLIENT_IF
route replace default via $XF_GW_LAN_V4 dev $XF_CLIENT_IF
EOF
  xf_client ip neigh flush dev eth1
  xf_client ping -q -c1 -W2 "$XF_GW_LAN_V4" >/dev/null || xf_fail "ping the gw from eth0 again"
  xf_gw conntrack -F >/dev/null 2>&1 || true
}

xf_log "kernel path"
run kernel
k_ms=$FOLLOW_MS k_old=$OLD_PORT
[ "$k_ms" -ge 0 ] || xf_fail "the kernel path itself did not follow the station within 10 s"
move_back

xf_gw_attach -v
fdb0=$(obs_field removed.fdb)
xf_log "xdpflow"
run xdpflow
x_ms=$FOLLOW_MS x_old=$OLD_PORT
fdb1=$(obs_field removed.fdb)
xf_result "station moved from lan0 to lan1: echoes reached the new port after kernel path" \
  "$k_ms ms, xdpflow $x_ms ms (entries out of the table $INVAL_MS ms after the move);" \
  "echoes still sent to the old port: kernel path $k_old, xdpflow $x_old;" \
  "fdb removals $((fdb1 - fdb0))"
[ "$x_ms" -ge 0 ] || xf_fail "xdpflow kept sending the station's traffic to lan0 for 10 s:" \
  "$(tail -5 "$XF_GW_DIR/attach.log")" "$(xf_gw bridge fdb show br br-lan | grep -i "$STATION_MAC")"
[ "$fdb1" -gt "$fdb0" ] || xf_fail "the move was not counted as an fdb invalidation:" \
  "$(xf_xdpflow status | sed -n '/invalidations/p')"
xf_log "PASS"
