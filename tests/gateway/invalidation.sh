#!/usr/bin/env bash
# Invalidation: a change that can alter the kernel's decision takes the
# affected entries out of the table; the kernel decides the next packets and
# the observer re-learns them. Each case runs through the kernel path first,
# then with xdpflow, and reports both figures:
#   firewall   an nft drop rule inserted under a running upload blocks it
#              (time from the insert to the last byte the server got);
#   neighbour  the gw's neighbour entry for the server deleted under an
#              offloaded upload: entries removed, re-learned, payload intact;
#   route      the route to the server moved to wan1 under a port-forwarded
#              (routed, no masquerade on the way back... the server's side) upload and under a
#              masqueraded one: the packets take the kernel's paths in both
#              runs (xf_paths.py same), never the old source out the new WAN.
# Timings are reported, not asserted (the machine may be loaded); what is
# asserted is that the block / removal / re-learning happens at all.
. "$(dirname "$0")/e2e.sh"
. "$XF_E2E_DIR/topology.sh"
xf_e2e_init
xf_gw_create
xf_gw_add_wan2
SPECS=("wan0=$XF_NS_SERVER:$XF_SERVER_IF" "wan1=$XF_NS_SERVER:$XF_SERVER_IF2"
  "lan=$XF_NS_CLIENT:$XF_CLIENT_IF")

obs_field() { xf_xdpflow status --json | jq -er ".control_plane.observer.$1"; }

# upload NAME SRC_NS DST_NS ADDR PORT SPORT BYTES RATE: starts a paced
# upload in the background (sender pid in UP_PID, sink in UP_SINK), waits
# until it is offloaded when xdpflow runs.
upload() {
  local name=$1 src_ns=$2 dst_ns=$3 addr=$4 port=$5 sport=$6 bytes=$7 rate=$8
  xf_sink "$dst_ns" "$name.recv" tcp-sink --port "$port" --progress "$XF_GW_DIR/$name.progress"
  UP_SINK=$XF_SINK_PID
  ip netns exec "$src_ns" python3 "$XF_TOOL" tcp-source --to "$addr" --port "$port" \
    --sport "$sport" --bytes "$bytes" --rate "$rate" \
    >"$XF_GW_DIR/$name.sent" 2>"$XF_GW_DIR/$name.err" &
  UP_PID=$!
  if [ -n "${XF_XDPFLOW_PID:-}" ]; then
    xf_wait_for 5 xf_offloaded_port "$sport" || xf_fail "$name: not offloaded"
  fi
  sleep 1
}
finish_upload() {
  local name=$1
  wait "$UP_PID" || xf_fail "$name: sender failed: $(cat "$XF_GW_DIR/$name.err")"
  wait "$UP_SINK" || xf_fail "$name: receiver failed"
  xf_same_payload "$XF_GW_DIR/$name.sent" "$XF_GW_DIR/$name.recv.json"
}
stop_upload() {
  kill "$UP_PID" "$UP_SINK" 2>/dev/null || true
  wait "$UP_PID" "$UP_SINK" 2>/dev/null || true
}

# --- firewall -------------------------------------------------------------------
# blocked_ms NAME: ms from now to the last growth of the sink's byte count,
# watched for 4 s (-1: never stopped growing).
block_and_measure() {
  local name=$1 t0 last_bytes=-1 last_t now b
  t0=$(date +%s%N)
  xf_gw_nft insert rule inet xfgw forward ip saddr "$XF_CLIENT_V4" drop comment '"test-drop"'
  last_t=$t0
  while :; do
    now=$(date +%s%N)
    [ $((now - t0)) -ge 4000000000 ] && break
    b=$(cat "$XF_GW_DIR/$name.progress" 2>/dev/null || echo 0)
    if [ "$b" != "$last_bytes" ]; then
      last_bytes=$b
      last_t=$now
    fi
    sleep 0.02
  done
  local handle
  handle=$(xf_gw_nft -a list chain inet xfgw forward | sed -n 's/.*test-drop.*handle \([0-9]*\).*/\1/p')
  xf_gw_nft delete rule inet xfgw forward handle "$handle"
  if [ $((last_t - t0)) -ge 3000000000 ]; then echo -1; else echo $(((last_t - t0) / 1000000)); fi
}
firewall_run() {
  local run=$1 sport=$2
  upload "fw.$run" "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V4" 5401 "$sport" 200000000 4000000
  block_and_measure "fw.$run"
  stop_upload
}
xf_log "firewall: kernel path"
fw_kernel=$(firewall_run kernel 47001 | tail -1)
xf_gw conntrack -F >/dev/null 2>&1 || true
xf_gw_attach
xf_log "firewall: xdpflow"
fw_xdp=$(firewall_run xdpflow 47002 | tail -1)
[ "$fw_xdp" -ge 0 ] || xf_fail "firewall: the drop rule did not stop the offloaded upload"
[ "$(obs_field removed.ruleset)" -ge 1 ] || xf_fail "firewall: no removal counted for the ruleset"
xf_result "firewall drop rule: upload blocked after kernel path $fw_kernel ms, xdpflow $fw_xdp ms" \
  "(last byte at the server after the insert; sink progress resolution 100 ms);" \
  "ruleset change cost $(obs_field last_invalidation_cost_us) us"
xf_gw_detach
xf_gw conntrack -F >/dev/null 2>&1 || true

# --- neighbour deleted ------------------------------------------------------------
xf_gw_attach
xf_log "neighbour: xdpflow"
upload neigh "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V4" 5402 47003 12000000 4000000
before=$(obs_field removed.neighbour)
xf_gw ip neigh del "$XF_SERVER_V4" dev "$XF_GW_WAN"
xf_wait_for 3 test "$(obs_field removed.neighbour)" -gt "$before" ||
  xf_fail "neighbour: deleting the server's neighbour entry removed nothing"
xf_wait_for 5 xf_offloaded_port 47003 || xf_fail "neighbour: not re-learned after the deletion"
finish_upload neigh
xf_result "neighbour deleted: entries removed and re-learned, payload intact"
xf_gw_detach
xf_gw conntrack -F >/dev/null 2>&1 || true

# --- route changes ------------------------------------------------------------------
route_run() {
  local run=$1 base=$2
  xf_topo_record_start "route.$run" 5403,$XF_PORT_FORWARD "${SPECS[@]}"
  # Routed: port-forwarded from the server; it survives the move.
  upload "fwd.$run" "$XF_NS_SERVER" "$XF_NS_CLIENT" "$XF_GW_WAN_V4" "$XF_PORT_FORWARD" \
    $((base + 1)) 12000000 4000000
  local fwd_pid=$UP_PID fwd_sink=$UP_SINK
  # Masqueraded: the kernel kills it when its output interface changes.
  upload "masq.$run" "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V4" 5403 $((base + 2)) \
    12000000 4000000
  local masq_pid=$UP_PID masq_sink=$UP_SINK
  xf_gw_route_via_wan2
  UP_PID=$fwd_pid UP_SINK=$fwd_sink finish_upload "fwd.$run"
  sleep 1
  kill "$masq_pid" "$masq_sink" 2>/dev/null || true
  wait "$masq_pid" "$masq_sink" 2>/dev/null || true
  xf_topo_record_stop "route.$run"
  xf_gw_route_via_wan1
}
xf_log "route change: kernel path"
route_run kernel 47100
xf_gw conntrack -F >/dev/null 2>&1 || true
xf_gw_attach
xf_log "route change: xdpflow"
route_run xdpflow 47200
[ "$(obs_field removed.route)" -ge 1 ] || xf_fail "route: no removal counted for the route change"
python3 "$XF_PATHS" same "$XF_GW_DIR/route.kernel.paths" "$XF_GW_DIR/route.xdpflow.paths" \
  >"$XF_GW_DIR/route.same" ||
  xf_fail "route: xdpflow's paths differ from the kernel's: $(grep DIFF "$XF_GW_DIR/route.same")"
sed 's/^/  /' "$XF_GW_DIR/route.same"
grep -q "wan1 .*198.19.0.1>" "$XF_GW_DIR/route.xdpflow.paths" &&
  ! grep -q "wan1 .*198.19.0.1>" "$XF_GW_DIR/route.kernel.paths" &&
  xf_fail "route: the masqueraded flow left through wan1 with wan0's address"
xf_result "route change: port-forwarded upload followed the kernel to wan1 intact; masqueraded" \
  "one never sent with the old address out the new WAN; $(obs_field removed.route) removals"
xf_log "PASS"
