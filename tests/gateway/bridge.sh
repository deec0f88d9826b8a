#!/usr/bin/env bash
# A bridged LAN, the OpenWrt layout: br-lan over the ports lan0 (client) and
# lan1 (client2), the LAN addresses on br-lan, `xdpflow attach lan0 lan1
# wan0` (the ports and the WAN; XDP never on the bridge device). The kernel
# routes replies to br-lan and the bridge's FDB picks the port; the observer
# sees the frame on that port, so the fast path sends it there, with
# br-lan's MAC as source, as the kernel does. IPv4 and IPv6 masquerade from
# both ports, and the port forward to the host behind lan0; differential
# against the kernel path (tests/gateway/topology.sh).
. "$(dirname "$0")/e2e.sh"
. "$XF_E2E_DIR/topology.sh"
xf_e2e_init

xf_gw_create
NS_CLIENT2="${XF_NS_CLIENT}2"
xf_on_exit "ip netns del $NS_CLIENT2"
ip netns add "$NS_CLIENT2"
_xf_gw_sysctls "$NS_CLIENT2" 0
# br-lan takes over the LAN addresses; lan0 becomes a port.
xf_gw ip addr flush dev "$XF_GW_LAN"
xf_gw ip link add br-lan type bridge
xf_gw ip link set "$XF_GW_LAN" master br-lan
ip -n "$XF_NS_GW" link add lan1 type veth peer name eth0 netns "$NS_CLIENT2"
xf_gw ip link set lan1 master br-lan
xf_gw ethtool -K lan1 gro on >/dev/null
xf_gw ip addr add "$XF_GW_LAN_V4/24" dev br-lan
xf_gw ip addr add "$XF_GW_LAN_V6/64" dev br-lan nodad
xf_gw ip link set lan1 up
xf_gw ip link set br-lan up
ip -n "$NS_CLIENT2" addr add 198.18.0.3/24 dev eth0
ip -n "$NS_CLIENT2" addr add 2001:2:0:1::3/64 dev eth0 nodad
ip -n "$NS_CLIENT2" link set eth0 up
_xf_gw_peer_rx "$NS_CLIENT2" eth0
ip -n "$NS_CLIENT2" route add default via "$XF_GW_LAN_V4"
ip -n "$NS_CLIENT2" -6 route add default via "$XF_GW_LAN_V6"
# The forward chain accepts new connections from the LAN by interface: the
# routed LAN interface is br-lan now.
xf_gw_nft insert rule inet xfgw forward iifname "br-lan" accept
# The client learnt lan0's MAC for the gateway before lan0 became a port;
# LAN hosts of a real bridge know br-lan's. (The kernel routes frames sent
# to a port's own MAC too; xdpflow leaves those to it, as not_for_us.)
ip -n "$XF_NS_CLIENT" neigh flush dev "$XF_CLIENT_IF"
_xf_gw_resolve_neighbours "$XF_NS_CLIENT" "$XF_GW_LAN_V4" "$XF_GW_LAN_V6"
_xf_gw_resolve_neighbours "$NS_CLIENT2" "$XF_GW_LAN_V4" "$XF_GW_LAN_V6"
export XF_GW_ATTACH_IFACES="$XF_GW_LAN lan1 $XF_GW_WAN"

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
xf_ge "$share" 90 || xf_fail "the fast path carried only ${share}% of the packets"
xf_log "PASS"
