# Shared by the topology tests (multiwan, ecmp, bridge): each connection is
# run twice, once through the kernel path (xdpflow not attached) and once
# with xdpflow attached, while xf_paths.py records the way every packet
# arrives at the far ends (interface, MACs, addresses after NAT). The test
# then requires, for xdpflow's run:
#   - every connection offloaded and the fast path carrying its bulk;
#   - every packet of a connection on one path: the kernel-forwarded first
#     packets and the fast-path rest agree (xf_paths.py check);
#   - per service, the same set of paths as the kernel path's run
#     (xf_paths.py same), where the kernel's choice does not depend on the
#     source port (everything but ECMP with the L4 hash).
# Source e2e.sh first. The veths keep their default offloads, as on the
# container and VM gateways users run: `attach`'s automatic hook choice puts
# the TC hook on them.
XF_PATHS="$XF_E2E_DIR/xf_paths.py"
XF_TOPO_BYTES=${XF_TOPO_BYTES:-4194304}

# xf_topo_record_start NAME PORTS LABEL=NS:IF...
xf_topo_record_start() {
  local name=$1 ports=$2
  shift 2
  local args=()
  for spec in "$@"; do args+=(--iface "$spec"); done
  rm -f "$XF_GW_DIR/$name.stop" "$XF_GW_DIR/$name.ready"
  python3 "$XF_PATHS" record "${args[@]}" --ports "$ports" --out "$XF_GW_DIR/$name.paths" \
    --stop-file "$XF_GW_DIR/$name.stop" --ready "$XF_GW_DIR/$name.ready" \
    2>"$XF_GW_DIR/$name.rec.err" &
  XF_TOPO_REC_PID=$!
  # It runs in the root namespace: the namespaces' cleanup would miss it.
  xf_on_exit "kill $XF_TOPO_REC_PID"
  xf_wait_for 30 test -f "$XF_GW_DIR/$name.ready" ||
    xf_fail "path recorder did not start: $(cat "$XF_GW_DIR/$name.rec.err")"
}
xf_topo_record_stop() {
  touch "$XF_GW_DIR/$1.stop"
  wait "$XF_TOPO_REC_PID" || xf_fail "path recorder failed: $(cat "$XF_GW_DIR/$1.rec.err")"
}

# xf_topo_transfer NAME SRC_NS DST_NS ADDR PORT SPORT [BIND]: one TCP
# connection with XF_TOPO_BYTES of payload, checked end to end (SHA-256).
# With xdpflow attached (XF_XDPFLOW_PID set), the payload waits until the
# connection is offloaded: only the handshake takes the kernel path.
xf_topo_transfer() {
  local name=$1 src_ns=$2 dst_ns=$3 addr=$4 port=$5 sport=$6 bind=${7:-}
  local go="$XF_GW_DIR/$name.go" args=()
  [ -n "$bind" ] && args+=(--bind "$bind")
  xf_sink "$dst_ns" "$name.recv" tcp-sink --port "$port"
  local sink=$XF_SINK_PID
  ip netns exec "$src_ns" python3 "$XF_TOOL" tcp-source --to "$addr" --port "$port" \
    --sport "$sport" "${args[@]}" --bytes "$XF_TOPO_BYTES" --go "$go" \
    >"$XF_GW_DIR/$name.sent" 2>"$XF_GW_DIR/$name.err" &
  local src=$!
  # 30 s to start and connect: python on a busy machine, or twelve at once.
  xf_wait_for 30 grep -q connected "$XF_GW_DIR/$name.err" ||
    xf_fail "$name: did not connect: $(cat "$XF_GW_DIR/$name.err")"
  if [ -n "${XF_XDPFLOW_PID:-}" ]; then
    xf_wait_for 5 xf_offloaded_port "$sport" ||
      xf_fail "$name: not offloaded 5 s after the handshake: $(xf_xdpflow flows --pending 2>&1)" \
        "$(xf_gw conntrack -L 2>&1 | grep "sport=$sport ")" "$(tail -5 "$XF_GW_DIR/attach.log")" "$(xf_xdpflow status 2>&1 | head -6)"
  fi
  touch "$go"
  wait "$src" || xf_fail "$name: sender failed: $(cat "$XF_GW_DIR/$name.err")"
  wait "$sink" || xf_fail "$name: receiver failed: $(cat "$XF_GW_DIR/$name.recv.err")"
  xf_same_payload "$XF_GW_DIR/$name.sent" "$XF_GW_DIR/$name.recv.json"
  local secs
  secs=$(xf_json "$XF_GW_DIR/$name.recv.json" duration_s)
  xf_result "$name: $(awk -v b="$XF_TOPO_BYTES" -v s="$secs" \
    'BEGIN { printf "%.0f", (s > 0) ? b * 8 / s / 1e6 : 0 }') Mbit/s"
}

# xf_topo_verdict NAME [same]: the checks above on the two recordings
# NAME.kernel.paths and NAME.xdpflow.paths; "same" adds the cross-run one.
xf_topo_verdict() {
  local name=$1 cross=${2:-}
  python3 "$XF_PATHS" check "$XF_GW_DIR/$name.kernel.paths" >"$XF_GW_DIR/$name.kcheck" ||
    xf_fail "$name: the kernel path itself split a connection: $(cat "$XF_GW_DIR/$name.kcheck")"
  python3 "$XF_PATHS" check "$XF_GW_DIR/$name.xdpflow.paths" >"$XF_GW_DIR/$name.xcheck" ||
    xf_fail "$name: a connection's packets took different paths with xdpflow: $(grep SPLIT "$XF_GW_DIR/$name.xcheck")"
  sed 's/^/  /' "$XF_GW_DIR/$name.xcheck"
  if [ "$cross" = same ]; then
    python3 "$XF_PATHS" same "$XF_GW_DIR/$name.kernel.paths" "$XF_GW_DIR/$name.xdpflow.paths" \
      >"$XF_GW_DIR/$name.same" ||
      xf_fail "$name: xdpflow's paths differ from the kernel's: $(grep DIFF "$XF_GW_DIR/$name.same")"
  fi
}

# xf_topo_fast_share FAST0 RX0: percentage of the packets the gw received
# since then that the fast path carried.
xf_topo_fast_share() {
  local fast1 rx1
  read -r fast1 rx1 < <(xf_fast_rx)
  xf_pct $((fast1 - $1)) $((rx1 - $2))
}

# xf_topo_bridge_lan PORT PEER_NS PEER_IF: the OpenWrt LAN layout: br-lan
# over lan0 and PORT (a veth to PEER_IF in PEER_NS), the LAN addresses on
# br-lan, the forward chain accepting new connections from br-lan.
xf_topo_bridge_lan() {
  local port=$1 peer_ns=$2 peer_if=$3
  xf_gw ip addr flush dev "$XF_GW_LAN"
  xf_gw ip link add br-lan type bridge
  xf_gw ip link set "$XF_GW_LAN" master br-lan
  ip -n "$XF_NS_GW" link add "$port" type veth peer name "$peer_if" netns "$peer_ns"
  xf_gw ip link set "$port" master br-lan
  xf_gw ethtool -K "$port" gro on >/dev/null
  xf_gw ip addr add "$XF_GW_LAN_V4/24" dev br-lan
  xf_gw ip addr add "$XF_GW_LAN_V6/64" dev br-lan nodad
  xf_gw ip link set "$port" up
  xf_gw ip link set br-lan up
  xf_gw_nft insert rule inet xfgw forward iifname "br-lan" accept
}
