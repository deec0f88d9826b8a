#!/usr/bin/env bash
# Multi-WAN as mwan3 builds it, differential against the kernel path:
#   - by mark: nftables marks new LAN connections to port 5102 in prerouting
#     (meta mark 0x2, saved in the ct mark and restored for every later
#     packet), `ip rule fwmark 0x2 -> table 102` sends them out wan1;
#   - by source: `ip rule from 198.18.0.3 -> table 103` sends the second
#     client address out wan1;
#   - the rest follows the main table out wan0.
# The service address 198.19.2.1 is reachable through both WANs, so only
# the policy decides. Every connection's packets must reach the server on
# the kernel's WAN, with the kernel's MACs and masquerade address, in the
# kernel path's run and in xdpflow's (tests/gateway/topology.sh).
. "$(dirname "$0")/e2e.sh"
. "$XF_E2E_DIR/topology.sh"
xf_e2e_init

SERVICE=198.19.2.1
CLIENT2=198.18.0.3
xf_gw_create
xf_gw_add_wan2
xf_server ip addr add "$SERVICE/32" dev lo
xf_client ip addr add "$CLIENT2/24" dev "$XF_CLIENT_IF"
xf_gw ip route add "$SERVICE/32" via "$XF_SERVER_V4" dev "$XF_GW_WAN"
xf_gw ip route add "$SERVICE/32" via "$XF_SERVER2_V4" dev "$XF_GW_WAN2" table 102
xf_gw ip route add default via "$XF_SERVER2_V4" dev "$XF_GW_WAN2" table 103
xf_gw ip rule add fwmark 0x2 table 102 pref 100
xf_gw ip rule add from "$CLIENT2" table 103 pref 101
xf_gw_nft -f - <<NFT || xf_fail "loading the mwan ruleset"
table ip mwan {
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    ct mark != 0 meta mark set ct mark
    iifname "$XF_GW_LAN" tcp dport 5102 ct state new meta mark set 0x2 ct mark set meta mark
  }
}
NFT
# The gw's first packets to each next hop must not wait for ARP.
xf_gw ping -q -c1 -W2 "$XF_SERVER_V4" >/dev/null
xf_gw ping -q -c1 -W2 "$XF_SERVER2_V4" >/dev/null

IFS_SPECS=("wan0=$XF_NS_SERVER:$XF_SERVER_IF" "wan1=$XF_NS_SERVER:$XF_SERVER_IF2"
  "lan=$XF_NS_CLIENT:$XF_CLIENT_IF")
run_all() {
  local run=$1 base=$2
  xf_topo_record_start "mwan.$run" 5101,5102,5103 "${IFS_SPECS[@]}"
  xf_topo_transfer "main.$run" "$XF_NS_CLIENT" "$XF_NS_SERVER" "$SERVICE" 5101 $((base + 1))
  xf_topo_transfer "mark.$run" "$XF_NS_CLIENT" "$XF_NS_SERVER" "$SERVICE" 5102 $((base + 2))
  xf_topo_transfer "source.$run" "$XF_NS_CLIENT" "$XF_NS_SERVER" "$SERVICE" 5103 $((base + 3)) "$CLIENT2"
  xf_topo_record_stop "mwan.$run"
}

xf_log "kernel path"
t0=$(date +%s%N)
run_all kernel 41000
t_kernel=$((($(date +%s%N) - t0) / 1000000))
xf_gw conntrack -F >/dev/null 2>&1 || true

xf_gw_attach
read -r fast0 rx0 < <(xf_fast_rx)
xf_log "xdpflow"
t0=$(date +%s%N)
run_all xdpflow 42000
t_xdp=$((($(date +%s%N) - t0) / 1000000))
share=$(xf_topo_fast_share "$fast0" "$rx0")

xf_topo_verdict mwan same
grep -q "wan1 .*198.19.1.1>$SERVICE" "$XF_GW_DIR/mwan.xdpflow.paths" ||
  xf_fail "no connection left through wan1: the policy routing under test did not apply"
xf_result "multi-WAN (mark, source, main): kernel path $t_kernel ms, xdpflow $t_xdp ms for 3 x" \
  "$XF_TOPO_BYTES bytes; fast-path share ${share}%"
xf_ge "$share" 90 || xf_fail "the fast path carried only ${share}% of the packets"
xf_log "PASS"
