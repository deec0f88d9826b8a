#!/usr/bin/env bash
# The upstream router's MAC changes without a gratuitous ARP (or unsolicited
# NA): the gateway must follow it as the kernel path does, by its own
# neighbour state machine (STALE -> DELAY -> PROBE; the unicast probes to
# the old MAC go unanswered, FAILED, then a broadcast/multicast
# solicitation learns the new MAC). Offloaded packets never make the kernel
# transmit, so xdpflow keeps that machine running (NTF_USE on the STALE
# neighbours its entries send to); without it the neighbour stays STALE and
# the traffic goes to the old MAC for ever.
#
# Differential: a UDP echo stream (IPv4 and IPv6, 100 datagrams/s each)
# from the client to the server; the server's MAC changes; the time until
# datagrams reach the new MAC is measured at the server, once through the
# kernel path, once with xdpflow.
#   - The gw's neighbour timers on wan0 are shortened for both runs
#     (base_reachable_time 4 s, delay_first_probe_time 1 s) so that the
#     kernel path follows within about 10 s instead of 30-60 s.
#   - The server's entries for the gw are permanent: it never sends an ARP
#     request or NS that would teach the gw its new MAC; only the gw's own
#     probing can.
# Asserted: both runs follow in both families (within 30 s of the change;
# the kernel's worst case with these timers is about 11 s), xdpflow counts a
# neighbour removal and refreshes, and the stream is offloaded again after.
. "$(dirname "$0")/e2e.sh"
. "$XF_E2E_DIR/follow.sh"
xf_e2e_init
xf_gw_create

PORT=5501
for fam in ipv4 ipv6; do
  xf_gw sysctl -qw "net.$fam.neigh.$XF_GW_WAN.base_reachable_time_ms=4000" \
    "net.$fam.neigh.$XF_GW_WAN.delay_first_probe_time=1"
done
gw_mac=$(xf_gw cat "/sys/class/net/$XF_GW_WAN/address")
xf_server ip neigh replace "$XF_GW_WAN_V4" lladdr "$gw_mac" dev "$XF_SERVER_IF" nud permanent
xf_server ip -6 neigh replace "$XF_GW_WAN_V6" lladdr "$gw_mac" dev "$XF_SERVER_IF" nud permanent


# run NAME NEW_MAC: sets V4_MS, V6_MS (from the change to the first datagram
# at the new MAC) and OLD_MAC (datagrams to the old one meanwhile). Not in a
# subshell: its exit would run the cleanup.
run() {
  local name=$1 new_mac=$2
  # The gw starts with a REACHABLE entry for the server's current MAC.
  xf_gw ip neigh flush dev "$XF_GW_WAN"
  xf_gw ping -q -c1 -W2 "$XF_SERVER_V4" >/dev/null
  xf_gw ping -q -6 -c1 -W2 "$XF_SERVER_V6" >/dev/null
  local to4="$new_mac $XF_GW_WAN_V4>" to6="$new_mac $XF_GW_WAN_V6>"
  xf_follow_start "$name" "$PORT" --until "$to4" --until "$to6" --timeout 30 -- \
    "server=$XF_NS_SERVER:$XF_SERVER_IF"
  local watcher=$XF_FOLLOW_PID
  xf_sink "$XF_NS_SERVER" "$name.echo" udp-echo --port "$PORT" --idle 60
  local echo=$XF_SINK_PID pids=() addr
  for addr in "$XF_SERVER_V4" "$XF_SERVER_V6"; do
    ip netns exec "$XF_NS_CLIENT" python3 "$XF_TOOL" udp-client --to "$addr" --port "$PORT" --count 6000 \
      --interval 0.01 >/dev/null 2>"$XF_GW_DIR/$name.client.err" &
    pids+=($!)
  done
  if [ -n "${XF_XDPFLOW_PID:-}" ]; then
    local fam
    for fam in ipv4 ipv6; do
      xf_wait_for 12 xf_offloaded_port "$PORT" "$fam" ||
        xf_fail "$name: the $fam stream was not offloaded: $(xf_xdpflow flows --pending 2>&1)"
    done
  else
    sleep 3
  fi
  sleep 1
  xf_follow_mark "$name"
  xf_server ip link set "$XF_SERVER_IF" address "$new_mac"
  XF_FOLLOW_PID=$watcher xf_follow_wait "$name"
  if [ -n "${XF_XDPFLOW_PID:-}" ]; then
    # Learned again, with the new MAC: offloaded, the fast path carrying it.
    local fast0
    fast0=$(xf_stat .totals.fast_packets)
    xf_wait_for 8 xf_offloaded_port "$PORT" ipv4 && xf_wait_for 8 xf_offloaded_port "$PORT" ipv6 ||
      xf_fail "$name: the stream was not offloaded again after the MAC change:" \
        "$(xf_xdpflow flows --pending 2>&1)"
    sleep 1
    [ "$(xf_stat .totals.fast_packets)" -gt "$fast0" ] ||
      xf_fail "$name: the fast path carries nothing after re-learning"
  fi
  kill "${pids[@]}" "$echo" 2>/dev/null || true
  wait "${pids[@]}" "$echo" 2>/dev/null || true
  jq -r 'to_entries[] | "  \(.key): \(.value.count) frames, \(.value.after_mark) after the change"' \
    "$XF_GW_DIR/$name.arrivals"
  read -r V4_MS _ < <(xf_follow_ms "$name" "$to4") ||
    xf_fail "$name: no arrival figures: $(cat "$XF_GW_DIR/$name.watch.err")"
  read -r V6_MS _ < <(xf_follow_ms "$name" "$to6") ||
    xf_fail "$name: no arrival figures: $(cat "$XF_GW_DIR/$name.watch.err")"
  read -r _ OLD_MAC < <(xf_follow_ms "$name" "$new_mac") ||
    xf_fail "$name: no arrival figures: $(cat "$XF_GW_DIR/$name.watch.err")"
}

xf_log "kernel path"
run kernel 02:58:46:00:00:a1
k4=$V4_MS k6=$V6_MS kold=$OLD_MAC
xf_log "kernel path: followed after $k4 ms (IPv4), $k6 ms (IPv6); $kold datagrams to the old MAC"
[ "$k4" -ge 0 ] && [ "$k6" -ge 0 ] ||
  xf_fail "the kernel path itself did not follow the new MAC within 30 s ($k4/$k6 ms): the test's premise is wrong"
xf_gw conntrack -F >/dev/null 2>&1 || true

xf_gw_attach -v
removed0=$(obs_field removed.neighbour)
xf_log "xdpflow"
run xdpflow 02:58:46:00:00:a2
x4=$V4_MS x6=$V6_MS xold=$OLD_MAC
xf_result "upstream MAC changed without gratuitous ARP: traffic reached the new MAC after" \
  "kernel path $k4 ms (IPv4) / $k6 ms (IPv6), xdpflow $x4 / $x6 ms; datagrams sent to the" \
  "old MAC meanwhile: kernel path $kold, xdpflow $xold;" \
  "$(obs_field neighbour_refreshes) neighbour refreshes (NTF_USE)"
[ "$x4" -ge 0 ] && [ "$x6" -ge 0 ] ||
  xf_fail "xdpflow kept sending to the old MAC for 30 s after the change ($x4/$x6 ms):" \
    "$(tail -5 "$XF_GW_DIR/attach.log")" "$(xf_gw ip neigh show dev "$XF_GW_WAN")"
[ "$(obs_field removed.neighbour)" -gt "$removed0" ] ||
  xf_fail "no neighbour removal counted for the MAC change"
[ "$(obs_field neighbour_refreshes)" -ge 1 ] || xf_fail "no neighbour refresh sent"
xf_log "PASS"
