#!/usr/bin/env bash
# A route change under running uploads, differential against the kernel
# path. The gw's route to the server moves from wan0 to wan1 (and the
# server's routes back to the gw move with it). Two uploads run across it:
#   routed   from the client's second address 198.18.0.3, not masqueraded:
#            the kernel forwards its next packets out wan1, and it goes on;
#   masq     from 198.18.0.2, masqueraded to wan0's address: the kernel does
#            not carry wan0's address out wan1. Its NAT hook sees the
#            connection leave by another interface than the one it was
#            masqueraded for (nf_nat_oif_changed: masq_index != out),
#            deletes the conntrack entry and drops the packet; the client's
#            next segment starts a new entry masqueraded to wan1's address,
#            which the server answers with a reset.
# xdpflow must do the same: the route change takes the entries out of the
# table, the kernel handles the next packets as above. Compared per upload:
# whether it completed, and which source addresses reached the server on
# each WAN after the change (no frame with wan0's address out wan1, unless
# the kernel path sent one too). Reported: the time from the change to the
# routed upload's first packet on wan1, and (xdpflow) to its entries leaving
# the table.
. "$(dirname "$0")/e2e.sh"
. "$XF_E2E_DIR/follow.sh"
xf_e2e_init
xf_gw_create
xf_gw_add_wan2

ROUTED=198.18.0.3
xf_client ip addr add "$ROUTED/24" dev "$XF_CLIENT_IF"
# Not masqueraded: accepted in the NAT chain before the masquerade rule.
xf_gw_nft insert rule inet xfgw postrouting ip saddr "$ROUTED" accept
xf_gw ping -q -c1 -W2 "$XF_SERVER2_V4" >/dev/null


# upload NAME PORT SPORT BIND: a paced upload in the background (pids in
# UP_PID, UP_SINK) that connects and waits for the go file (GO) before it
# sends; with xdpflow, waits until it is offloaded (the handshake suffices).
upload() {
  local name=$1 port=$2 sport=$3 bind=$4
  xf_sink "$XF_NS_SERVER" "$name.recv" tcp-sink --port "$port"
  UP_SINK=$XF_SINK_PID
  ip netns exec "$XF_NS_CLIENT" python3 "$XF_TOOL" tcp-source --to "$XF_SERVER_V4" --port "$port" --bind "$bind" \
    --sport "$sport" --bytes 16000000 --rate 4000000 --go "$GO" \
    >"$XF_GW_DIR/$name.sent" 2>"$XF_GW_DIR/$name.err" &
  UP_PID=$!
  if [ -n "${XF_XDPFLOW_PID:-}" ]; then
    xf_wait_for 5 xf_offloaded_port "$sport" ||
      xf_fail "$name: not offloaded: $(xf_xdpflow flows --pending 2>&1)"
  else
    xf_wait_for 5 grep -q connected "$XF_GW_DIR/$name.err" || xf_fail "$name: did not connect"
  fi
}

# run NAME BASE: sets ROUTED_OK, MASQ_OK (the upload completed intact: 1/0),
# FOLLOW_MS, OLD_ADDR_OUT_WAN1 (frames out wan1 with wan0's address after
# the change), NEW_ADDR_OUT_WAN1, and INVAL_MS with xdpflow.
run() {
  local name=$1 base=$2
  GO="$XF_GW_DIR/$name.go"
  xf_follow_start "$name" 5701,5702 -- "wan0=$XF_NS_SERVER:$XF_SERVER_IF" \
    "wan1=$XF_NS_SERVER:$XF_SERVER_IF2"
  upload "routed.$name" 5701 $((base + 1)) "$ROUTED"
  local r_pid=$UP_PID r_sink=$UP_SINK
  upload "masq.$name" 5702 $((base + 2)) "$XF_CLIENT_V4"
  local m_pid=$UP_PID m_sink=$UP_SINK
  touch "$GO" # both send 4 s: the change comes after 1 s
  sleep 1
  xf_follow_mark "$name"
  xf_gw_route_via_wan2
  xf_server ip route replace "$ROUTED/32" via "$XF_GW_WAN2_V4" dev "$XF_SERVER_IF2"
  # (The gw's IPv6 route change comes a few ms later: the last counted.)
  [ -n "${XF_XDPFLOW_PID:-}" ] && sleep 0.2 && INVAL_MS=$(xf_invalidation_ms "$name")
  ROUTED_OK=0 MASQ_OK=0
  if wait "$r_pid" && wait "$r_sink"; then
    (xf_same_payload "$XF_GW_DIR/routed.$name.sent" "$XF_GW_DIR/routed.$name.recv.json") && ROUTED_OK=1
  fi
  # The masqueraded upload: 6 s more at most (it is reset, or stalls).
  local i
  for i in $(seq 60); do
    kill -0 "$m_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$m_pid" 2>/dev/null || true
  if wait "$m_pid"; then
    kill "$m_sink" 2>/dev/null || true
    wait "$m_sink" 2>/dev/null || true
    (xf_same_payload "$XF_GW_DIR/masq.$name.sent" "$XF_GW_DIR/masq.$name.recv.json") && MASQ_OK=1
  else
    MASQ_ERR=$(tail -1 "$XF_GW_DIR/masq.$name.err")
    kill "$m_sink" 2>/dev/null || true
    wait "$m_sink" 2>/dev/null || true
  fi
  xf_follow_stop "$name"
  read -r FOLLOW_MS _ < <(xf_follow_ms "$name" "^wan1 .* $ROUTED>") ||
    xf_fail "$name: no arrival figures: $(cat "$XF_GW_DIR/$name.watch.err")"
  # Counted per source address from the groups (LABEL MAC SRC>DST).
  OLD_ADDR_OUT_WAN1=$(jq '[to_entries[] | select(.key | test("^wan1 .* 198\\.19\\.0\\.1>")) | .value.after_mark] | add // 0' "$XF_GW_DIR/$name.arrivals")
  NEW_ADDR_OUT_WAN1=$(jq '[to_entries[] | select(.key | test("^wan1 .* 198\\.19\\.1\\.1>")) | .value.after_mark] | add // 0' "$XF_GW_DIR/$name.arrivals")
  jq -r 'to_entries[] | "  \(.key): \(.value.count) frames, \(.value.after_mark) after the change"' \
    "$XF_GW_DIR/$name.arrivals"
  xf_gw_route_via_wan1
  xf_server ip route del "$ROUTED/32" 2>/dev/null || true
  xf_gw conntrack -F >/dev/null 2>&1 || true
}

xf_log "kernel path"
MASQ_ERR=""
run kernel 47300
k_routed=$ROUTED_OK k_masq=$MASQ_OK k_follow=$FOLLOW_MS k_old=$OLD_ADDR_OUT_WAN1 k_new=$NEW_ADDR_OUT_WAN1
k_err=$MASQ_ERR
[ "$k_routed" = 1 ] || xf_fail "kernel path: the routed upload did not survive the route change"

xf_gw_attach -v
route0=$(obs_field removed.route)
xf_log "xdpflow"
MASQ_ERR="" INVAL_MS=""
run xdpflow 47400
x_err=$MASQ_ERR
xf_result "route change under a routed upload: completed intact (kernel path $k_routed," \
  "xdpflow $ROUTED_OK), first packet out wan1 after kernel path $k_follow ms, xdpflow" \
  "$FOLLOW_MS ms; entries out of the table $INVAL_MS ms after the change"
xf_result "route change under a masqueraded upload: completed: kernel path $k_masq (${k_err:-})," \
  "xdpflow $MASQ_OK (${x_err:-}); frames out wan1 after the change with wan0's address: kernel" \
  "path $k_old, xdpflow $OLD_ADDR_OUT_WAN1; with wan1's: kernel path $k_new, xdpflow" \
  "$NEW_ADDR_OUT_WAN1; route removals $(($(obs_field removed.route) - route0))"
[ "$ROUTED_OK" = 1 ] || xf_fail "xdpflow: the routed upload did not survive the route change"
[ "$MASQ_OK" = "$k_masq" ] || xf_fail "xdpflow: the masqueraded upload's fate differs from the kernel path's"
[ "$OLD_ADDR_OUT_WAN1" -le "$k_old" ] ||
  xf_fail "xdpflow sent $OLD_ADDR_OUT_WAN1 frames with wan0's address out wan1 (kernel path: $k_old)"
[ "$FOLLOW_MS" -ge 0 ] || xf_fail "xdpflow: nothing of the routed upload went out wan1"
[ "$(obs_field removed.route)" -gt "$route0" ] || xf_fail "no route removal counted"
xf_log "PASS"
