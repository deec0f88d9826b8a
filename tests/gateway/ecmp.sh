#!/usr/bin/env bash
# ECMP: the gw's route to the service is a multipath route over both WANs.
# With fib_multipath_hash_policy 0 (L3: addresses) and 1 (L4: addresses and
# ports), 12 connections from 4 client addresses and distinct ports. The
# kernel picks each connection's path by its hash; xdpflow must send each
# one's packets exactly where the kernel sent its first ones (interface,
# MACs, masquerade address), never re-deriving the route (what `ip route get`
# says for the destination alone is one of the paths for everyone).
# Policy 0's choice does not depend on ports, so its paths are also compared
# with the kernel path's run (tests/gateway/topology.sh); policy 1's differ
# between the runs by design (other source ports), and it must spread the
# connections over both WANs, or the test would not test anything.
. "$(dirname "$0")/e2e.sh"
. "$XF_E2E_DIR/topology.sh"
xf_e2e_init

SERVICE=198.19.2.1
XF_TOPO_BYTES=${XF_TOPO_BYTES:-1048576}
xf_gw_create
xf_gw_add_wan2
xf_server ip addr add "$SERVICE/32" dev lo
for i in 3 4 5; do xf_client ip addr add "198.18.0.$i/24" dev "$XF_CLIENT_IF"; done
xf_gw ip route add "$SERVICE/32" nexthop via "$XF_SERVER_V4" dev "$XF_GW_WAN" \
  nexthop via "$XF_SERVER2_V4" dev "$XF_GW_WAN2"
xf_gw ping -q -c1 -W2 "$XF_SERVER_V4" >/dev/null
xf_gw ping -q -c1 -W2 "$XF_SERVER2_V4" >/dev/null
SPECS=("wan0=$XF_NS_SERVER:$XF_SERVER_IF" "wan1=$XF_NS_SERVER:$XF_SERVER_IF2"
  "lan=$XF_NS_CLIENT:$XF_CLIENT_IF")

# The 12 connections of a run at once, each to its own service port (the
# L3 hash ignores ports; the L4 hash is only required to use both WANs):
# one after the other they took 250 s of CI time.
PORTS=$(seq -s, 5201 5212)
run_all() {
  local name=$1 base=$2 n=0 pids=()
  xf_topo_record_start "$name" "$PORTS" "${SPECS[@]}"
  for i in 2 3 4 5; do
    for k in 1 2 3; do
      n=$((n + 1))
      xf_topo_transfer "$name.$n" "$XF_NS_CLIENT" "$XF_NS_SERVER" "$SERVICE" $((5200 + n)) \
        $((base + n)) "198.18.0.$i" >"$XF_GW_DIR/$name.$n.out" 2>&1 &
      pids+=($!)
    done
  done
  n=0
  for pid in "${pids[@]}"; do
    n=$((n + 1))
    wait "$pid" || xf_fail "$name.$n: $(cat "$XF_GW_DIR/$name.$n.out")"
    cat "$XF_GW_DIR/$name.$n.out"
  done
  xf_topo_record_stop "$name"
}

for policy in 0 1; do
  xf_gw sysctl -qw net.ipv4.fib_multipath_hash_policy=$policy
  xf_log "hash policy $policy: kernel path"
  run_all "ecmp$policy.kernel" $((43000 + policy * 100))
  xf_gw conntrack -F >/dev/null 2>&1 || true
  xf_gw_attach -v # the decisions in attach.log, shown on a failure
  read -r fast0 rx0 < <(xf_fast_rx)
  xf_log "hash policy $policy: xdpflow"
  run_all "ecmp$policy.xdpflow" $((44000 + policy * 100))
  share=$(xf_topo_fast_share "$fast0" "$rx0")
  xf_gw_detach
  xf_gw conntrack -F >/dev/null 2>&1 || true
  if [ $policy = 0 ]; then
    xf_topo_verdict "ecmp$policy" same
  else
    xf_topo_verdict "ecmp$policy"
    for w in wan0 wan1; do
      grep -q "\"$w " "$XF_GW_DIR/ecmp$policy.xdpflow.paths" ||
        xf_fail "hash policy 1 sent no connection through $w: nothing tested"
    done
  fi
  on_wan1=$(grep -c "to-service: wan1" "$XF_GW_DIR/ecmp$policy.xcheck" || true)
  xf_result "ECMP hash policy $policy: 12 connections, $on_wan1 through wan1, every packet on" \
    "the kernel's path; fast-path share ${share}%"
  xf_ge "$share" 85 || xf_fail "policy $policy: the fast path carried only ${share}%"
done
xf_log "PASS"
