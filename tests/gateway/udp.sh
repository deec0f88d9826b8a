#!/usr/bin/env bash
# UDP through the gateway with xdpflow attached, both ways (LAN -> WAN through
# masquerade, WAN -> LAN through the port-forward), IPv4 and IPv6, each an
# echo exchange (traffic in both directions of the flow). The conntrack UDP
# stream timeout is lowered to 4 s and every flow lives more than three
# times that while the fast path carries it: the conntrack entry must be the
# same one at the end (same id, never expired and recreated), still ASSURED
# and still offloaded, and no datagram may be lost.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
STREAM_TIMEOUT=4
DURATION=25 # seconds of traffic per flow: up to 12 s to become ASSURED (a loaded
            # machine) + > 3 timeouts
INTERVAL=0.02

xf_gw_create
xf_gw sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream=$STREAM_TIMEOUT \
  net.netfilter.nf_conntrack_udp_timeout=$STREAM_TIMEOUT
xf_gw_attach
count=$(awk -v d=$DURATION -v i=$INTERVAL 'BEGIN { printf "%d", d / i }')

# name family echo-ns client-ns connect-addr port
flows=(
  "snat4 ipv4 $XF_NS_SERVER $XF_NS_CLIENT $XF_SERVER_V4 6001"
  "snat6 ipv6 $XF_NS_SERVER $XF_NS_CLIENT $XF_SERVER_V6 6002"
  "dnat4 ipv4 $XF_NS_CLIENT $XF_NS_SERVER $XF_GW_WAN_V4 $XF_PORT_FORWARD"
  "dnat6 ipv6 $XF_NS_CLIENT $XF_NS_SERVER $XF_GW_WAN_V6 $XF_PORT_FORWARD"
)
# One echo server per namespace and port (dnat4 and dnat6 share the
# client's dual-stack socket on 8080).
xf_sink "$XF_NS_SERVER" echo6001 udp-echo --port 6001 --idle 20
xf_sink "$XF_NS_SERVER" echo6002 udp-echo --port 6002 --idle 20
xf_sink "$XF_NS_CLIENT" echo8080 udp-echo --port "$XF_PORT_FORWARD" --idle 20

pids=()
for f in "${flows[@]}"; do
  read -r name fam echo_ns cl_ns addr port <<<"$f"
  ip netns exec "$cl_ns" python3 "$XF_TOOL" udp-client --to "$addr" --port "$port" \
    --count "$count" --interval $INTERVAL >"$XF_GW_DIR/$name.json" 2>"$XF_GW_DIR/$name.err" &
  pids+=($!)
done

# conntrack id of the flow: family, original destination port
ct_id() {
  xf_ct -f "$1" -p udp --orig-port-dst "$2" -o id | sed -n 's/.*id=\([0-9]*\).*/\1/p' | head -1
}
ct_assured() { xf_ct -f "$1" -p udp --orig-port-dst "$2" | grep -q ASSURED; }

# UDP is ASSURED (and offloadable) once it has lasted 2 s with replies.
for f in "${flows[@]}"; do
  read -r name fam echo_ns cl_ns addr port <<<"$f"
  # 2 s after the first reply at the earliest; generous for a loaded machine
  # (the clients are python processes started just before).
  xf_wait_for 12 ct_assured "$fam" "$port" || xf_fail "$name: conntrack never marked the flow ASSURED"
done
for f in "${flows[@]}"; do
  read -r name fam echo_ns cl_ns addr port <<<"$f"
  xf_wait_for 3 xf_offloaded_port "$port" "$fam" || xf_fail "$name: not offloaded after ASSURED"
done
declare -A id0
for f in "${flows[@]}"; do
  read -r name fam echo_ns cl_ns addr port <<<"$f"
  id0[$name]=$(ct_id "$fam" "$port")
  [ -n "${id0[$name]}" ] || xf_fail "$name: no conntrack entry"
done
read -r fast0 rx0 < <(xf_fast_rx)
t0=$SECONDS
xf_log "offloaded; running for 3 x the ${STREAM_TIMEOUT} s UDP stream timeout"
sleep $((3 * STREAM_TIMEOUT + 1))
read -r fast1 rx1 < <(xf_fast_rx)
for f in "${flows[@]}"; do
  read -r name fam echo_ns cl_ns addr port <<<"$f"
  id1=$(ct_id "$fam" "$port")
  [ "$id1" = "${id0[$name]}" ] ||
    xf_fail "$name: conntrack entry ${id0[$name]} expired under XDP-only traffic (now: '${id1}')"
  ct_assured "$fam" "$port" || xf_fail "$name: conntrack entry no longer ASSURED"
  xf_offloaded_port "$port" "$fam" || xf_fail "$name: no longer offloaded after $((SECONDS - t0)) s"
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || xf_fail "udp client ${flows[$i]%% *} failed"
done
for f in "${flows[@]}"; do
  read -r name fam echo_ns cl_ns addr port <<<"$f"
  sent=$(xf_json "$XF_GW_DIR/$name.json" sent)
  recv=$(xf_json "$XF_GW_DIR/$name.json" received)
  xf_result "$name: $recv of $sent datagrams echoed, conntrack id ${id0[$name]} alive after $((3 * STREAM_TIMEOUT + 1)) s of XDP-only traffic"
  [ "$recv" = "$sent" ] || xf_fail "$name: $((sent - recv)) datagrams lost"
done
share=$(xf_pct $((fast1 - fast0)) $((rx1 - rx0)))
xf_result "fast-path share while offloaded: ${share}% ($((fast1 - fast0)) of $((rx1 - rx0)) packets)"
xf_ge "$share" 95 || xf_fail "fast path carried only ${share}%"
xf_log "PASS"
