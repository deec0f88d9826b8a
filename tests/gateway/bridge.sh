#!/usr/bin/env bash
# A bridged LAN, the OpenWrt layout: br-lan over the ports lan0 (client) and
# lan1 (client2), the LAN addresses on br-lan, `xdpflow attach br-lan wan0`
# as users type it: xdpflow hooks the bridge's ports, never the bridge
# device, and follows ports joining and leaving it. The kernel
# routes replies to br-lan and the bridge's FDB picks the port; the observer
# sees the frame on that port, so the fast path sends it there, with
# br-lan's MAC as source, as the kernel does. IPv4 and IPv6 masquerade from
# both ports, and the port forward to the host behind lan0; differential
# against the kernel path (tests/gateway/topology.sh). Then, while running,
# a third port lan2 (client3) joins br-lan: it is attached and its
# connections offload; and lan1 leaves: it is detached and the entries
# through it leave the table.
. "$(dirname "$0")/e2e.sh"
. "$XF_E2E_DIR/topology.sh"
xf_e2e_init

xf_gw_create
# client_ns NS: a new client namespace, deleted on exit.
client_ns() {
  xf_on_exit "ip netns del $1"
  ip netns add "$1"
  _xf_gw_sysctls "$1" 0
}
# bridge_client NS HOST: the client NS behind a port of br-lan (its eth0)
# gets the LAN addresses .HOST and ::HOST and the gateway as its router.
bridge_client() {
  local ns=$1 host=$2
  ip -n "$ns" addr add "198.18.0.$host/24" dev eth0
  ip -n "$ns" addr add "2001:2:0:1::$host/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  _xf_gw_peer_rx "$ns" eth0
  ip -n "$ns" route add default via "$XF_GW_LAN_V4"
  ip -n "$ns" -6 route add default via "$XF_GW_LAN_V6"
  _xf_gw_resolve_neighbours "$ns" "$XF_GW_LAN_V4" "$XF_GW_LAN_V6"
}
NS_CLIENT2="${XF_NS_CLIENT}2"
client_ns "$NS_CLIENT2"
# br-lan takes over the LAN addresses; lan0 becomes a port.
xf_topo_bridge_lan lan1 "$NS_CLIENT2" eth0
bridge_client "$NS_CLIENT2" 3
# The client learnt lan0's MAC for the gateway before lan0 became a port;
# LAN hosts of a real bridge know br-lan's. (The kernel routes frames sent
# to a port's own MAC too; xdpflow leaves those to it, as not_for_us.)
ip -n "$XF_NS_CLIENT" neigh flush dev "$XF_CLIENT_IF"
_xf_gw_resolve_neighbours "$XF_NS_CLIENT" "$XF_GW_LAN_V4" "$XF_GW_LAN_V6"
export XF_GW_ATTACH_IFACES="br-lan $XF_GW_WAN"

SPECS=("wan=$XF_NS_SERVER:$XF_SERVER_IF" "client=$XF_NS_CLIENT:$XF_CLIENT_IF"
  "client2=$NS_CLIENT2:eth0")
run_all() {
  local run=$1 base=$2
  xf_topo_record_start "br.$run" 5301,5302,5303,5304,$XF_PORT_FORWARD "${SPECS[@]}"
  xf_topo_transfer "client-v4.$run" "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V4" 5301 $((base + 1))
  xf_topo_transfer "client2-v4.$run" "$NS_CLIENT2" "$XF_NS_SERVER" "$XF_SERVER_V4" 5302 $((base + 2))
  xf_topo_transfer "client-v6.$run" "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V6" 5303 $((base + 3))
  xf_topo_transfer "client2-v6.$run" "$NS_CLIENT2" "$XF_NS_SERVER" "$XF_SERVER_V6" 5304 $((base + 4))
  xf_topo_transfer "forward-v4.$run" "$XF_NS_SERVER" "$XF_NS_CLIENT" "$XF_GW_WAN_V4" \
    "$XF_PORT_FORWARD" $((base + 5))
  xf_topo_record_stop "br.$run"
}

xf_log "kernel path"
run_all kernel 45000
xf_gw conntrack -F >/dev/null 2>&1 || true
xf_gw_attach
read -r fast0 rx0 < <(xf_fast_rx)
xf_log "xdpflow on the ports"
run_all xdpflow 46000
share=$(xf_topo_fast_share "$fast0" "$rx0")
xf_topo_verdict br same
grep -q '"client2 ' "$XF_GW_DIR/br.xdpflow.paths" || xf_fail "nothing reached client2 through lan1"
xf_result "bridged LAN (2 ports, v4 + v6, port forward): every packet on the kernel's port" \
  "with its MACs; fast-path share ${share}%"
# (Checked at the end, so that the port changes below run either way.)
first_share=$share

# XDP program ids on a device of the gateway (empty: none).
xf_xdp_prog_ids() {
  ip -n "$XF_NS_GW" -j link show dev "$1" | jq -r '.[0].xdp | if . == null then empty else
    ([.prog.id?, (.attached[]?.prog.id)] | map(select(. != null)) | unique | .[]) end'
}
# What attach said: the ports it hooked, and never br-lan itself.
grep -q "^$XF_GW_LAN: port of br-lan" "$XF_GW_DIR/attach.log" || xf_fail "attach did not say it hooked $XF_GW_LAN as a port of br-lan: $(cat "$XF_GW_DIR/attach.log")"
[ -z "$(xf_xdp_prog_ids br-lan)" ] || xf_fail "an XDP program is attached to the bridge device itself"
# status: the bridge and the ports it covers.
bridge_ports() { xf_xdpflow status --json | jq -r '.bridges[] | select(.name == "br-lan") | .ports | join(" ")'; }
[ "$(bridge_ports)" = "$XF_GW_LAN lan1" ] || xf_fail "status shows br-lan's ports as '$(bridge_ports)'"
xf_xdpflow status | grep -q "^  br-lan: $XF_GW_LAN, lan1$" || xf_fail "status table lacks br-lan's ports: $(xf_xdpflow status)"

# A connection through lan1, offloaded and kept going through the port
# changes below (a slow sender, so that it is learned again after any
# invalidation): its entries must leave with lan1.
through_lan1() { xf_xdpflow flows --json | jq '[.flows[] | select(.original.in == "lan1" or .original.out == "lan1" or .reply.in == "lan1" or .reply.out == "lan1")] | length'; }
xf_sink "$XF_NS_SERVER" held.recv tcp-sink --port 5307
held_sink=$XF_SINK_PID
ip netns exec "$NS_CLIENT2" python3 "$XF_TOOL" tcp-source --to "$XF_SERVER_V4" --port 5307 \
  --sport 47003 --bytes 100000000 --rate 100000 >/dev/null 2>"$XF_GW_DIR/held.err" &
held_src=$!
xf_on_exit "kill $held_src $held_sink 2>/dev/null"
# Connected (within tcp-source's 10 s) and offloaded, on a loaded machine.
xf_wait_for 20 xf_offloaded_port 47003 ||
  xf_fail "the held connection through lan1 was not offloaded: $(xf_xdpflow flows --pending 2>&1)" \
    "$(xf_ct 2>&1 | grep 47003)" "$(cat "$XF_GW_DIR/held.err")" "$(tail -5 "$XF_GW_DIR/attach.log")"
[ "$(through_lan1)" -ge 1 ] || xf_fail "no entry through lan1 before it left: $(xf_xdpflow flows)"
xf_log "a third port joins br-lan while xdpflow runs"
NS_CLIENT3="${XF_NS_CLIENT}3"
client_ns "$NS_CLIENT3"
ip -n "$XF_NS_GW" link add lan2 type veth peer name eth0 netns "$NS_CLIENT3"
xf_gw ethtool -K lan2 gro on >/dev/null
xf_gw ip link set lan2 master br-lan
xf_gw ip link set lan2 up
bridge_client "$NS_CLIENT3" 4
xf_wait_for 5 grep -q "^lan2: port of br-lan, joined while running: attached" "$XF_GW_DIR/attach.log" ||
  xf_fail "lan2 joined br-lan but xdpflow did not attach it: $(tail -5 "$XF_GW_DIR/attach.log")"
[ "$(bridge_ports)" = "$XF_GW_LAN lan1 lan2" ] || xf_fail "status shows br-lan's ports as '$(bridge_ports)'"
read -r fast0 rx0 < <(xf_fast_rx)
xf_topo_record_start br3.xdpflow 5305,5306 "${SPECS[@]}" "client3=$NS_CLIENT3:eth0"
xf_topo_transfer client3-v4.xdpflow "$NS_CLIENT3" "$XF_NS_SERVER" "$XF_SERVER_V4" 5305 47001
xf_topo_transfer client3-v6.xdpflow "$NS_CLIENT3" "$XF_NS_SERVER" "$XF_SERVER_V6" 5306 47002
xf_topo_record_stop br3.xdpflow
python3 "$XF_PATHS" check "$XF_GW_DIR/br3.xdpflow.paths" >"$XF_GW_DIR/br3.xcheck" ||
  xf_fail "lan2's connections took different paths: $(grep SPLIT "$XF_GW_DIR/br3.xcheck")"
grep -q '"client3 ' "$XF_GW_DIR/br3.xdpflow.paths" || xf_fail "nothing reached client3 through lan2"
# xf_topo_transfer waited for each to be offloaded: which needs the observer
# on lan2 (the replies leave there) and lan2 among the fast path's ports.
share=$(xf_topo_fast_share "$fast0" "$rx0")
xf_ge "$share" 90 ||
  xf_fail "the fast path carried only ${share}% of lan2's connections' packets:" \
    "$(xf_xdpflow stats)" "$(tail -20 "$XF_GW_DIR/attach.log")"
xf_result "a port that joined br-lan while running: its connections offloaded; fast-path share ${share}%"

xf_log "lan1 leaves br-lan while xdpflow runs"
xf_gw ip link set lan1 nomaster
xf_wait_for 5 grep -q "^lan1: left (was port of br-lan): detached" "$XF_GW_DIR/attach.log" ||
  xf_fail "lan1 left br-lan but xdpflow did not detach it: $(tail -5 "$XF_GW_DIR/attach.log")"
[ "$(through_lan1)" = 0 ] || xf_fail "entries through lan1 stayed after it left: $(xf_xdpflow flows)"
[ "$(bridge_ports)" = "$XF_GW_LAN lan2" ] || xf_fail "status shows br-lan's ports as '$(bridge_ports)'"
xf_xdpflow status --json | jq -e '[.interfaces[].name] | index("lan1") == null' >/dev/null ||
  xf_fail "status still lists lan1 as attached"
[ -z "$(xf_xdp_prog_ids lan1)" ] || xf_fail "an XDP program stayed on lan1 after it left"
kill -0 "$XF_XDPFLOW_PID" || xf_fail "xdpflow exited: $(tail -5 "$XF_GW_DIR/attach.log")"
xf_result "a port that left br-lan while running: detached, its entries left the table"
xf_ge "$first_share" 90 || xf_fail "the fast path carried only ${first_share}% of the packets (ports lan0, lan1)"
xf_log "PASS"
