#!/usr/bin/env bash
# TCP teardown with xdpflow attached (IPv4 and IPv6 through masquerade): the
# FIN or RST of an offloaded connection goes to the kernel (counted as
# slow_reasons.tcp_fin_rst), conntrack sees it (state leaves ESTABLISHED), the
# flow leaves the map within 1 s, and a new connection on the same 5-tuple
# works and is offloaded again.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
BYTES=4000000

xf_gw_create
# The FIN case reconnects from a client port in TIME_WAIT (RFC 6191 style
# reuse with timestamps), as a client reusing its port would.
xf_client sysctl -qw net.ipv4.tcp_tw_reuse=1
xf_gw_attach

# conn NAME FAMILY ADDR PORT SPORT [tcp-source options]: one offloaded
# connection from the client, checked end to end.
conn() {
  local name=$1 fam=$2 addr=$3 port=$4 sport=$5
  shift 5
  local go="$XF_GW_DIR/$name.go"
  xf_sink "$XF_NS_SERVER" "$name.recv" tcp-sink --port "$port"
  xf_client python3 "$XF_TOOL" tcp-source --to "$addr" --port "$port" --sport "$sport" \
    --bytes "$BYTES" --go "$go" "$@" >"$XF_GW_DIR/$name.sent" 2>"$XF_GW_DIR/$name.err" &
  local pid=$!
  xf_wait_for 5 xf_offloaded_port "$port" "$fam" ||
    xf_fail "$name: not offloaded after the handshake: $(cat "$XF_GW_DIR/$name.err")"
  local fast0 teardown0
  fast0=$(xf_stat .totals.fast_packets)
  teardown0=$(xf_stat .totals.slow_reasons.tcp_fin_rst)
  touch "$go"
  wait "$pid" || xf_fail "$name: sender failed: $(cat "$XF_GW_DIR/$name.err")"
  wait "$XF_SINK_PID" || xf_fail "$name: receiver failed"
  local t0=$SECONDS
  xf_wait_for 1 xf_not_offloaded_port "$port" "$fam" ||
    xf_fail "$name: flow still in the map 1 s after the teardown: $(xf_xdpflow flows)"
  xf_same_payload "$XF_GW_DIR/$name.sent" "$XF_GW_DIR/$name.recv.json"
  local fast=$(($(xf_stat .totals.fast_packets) - fast0))
  local teardown=$(($(xf_stat .totals.slow_reasons.tcp_fin_rst) - teardown0))
  [ "$fast" -gt 0 ] || xf_fail "$name: no packet took the fast path"
  [ "$teardown" -gt 0 ] || xf_fail "$name: no FIN/RST was handed to the kernel by the fast path"
  local state
  state=$(xf_ct -f "$fam" -p tcp --orig-port-dst "$port" --orig-port-src "$sport" | awk '{ print $4 }' | head -1)
  [ "$state" != ESTABLISHED ] || xf_fail "$name: conntrack still ESTABLISHED after the teardown"
  xf_result "$name: $fast fast-path packets, $teardown FIN/RST to the kernel, conntrack ${state:-gone}, map entry removed"
}

for fam in ipv4 ipv6; do
  if [ $fam = ipv4 ]; then addr=$XF_SERVER_V4; else addr=$XF_SERVER_V6; fi
  conn "fin-$fam" $fam "$addr" 5101 40101
  # The same 5-tuple again: conntrack replaces its TIME_WAIT entry.
  sleep 1.1 # tcp_tw_reuse needs the last timestamp to be 1 s old
  conn "fin-reuse-$fam" $fam "$addr" 5101 40101
  conn "rst-$fam" $fam "$addr" 5102 40102 --rst --hold 0.3
  state=$(xf_ct -f $fam -p tcp --orig-port-dst 5102 | awk '{ print $4 }' | head -1)
  [ -z "$state" ] || [ "$state" = CLOSE ] || xf_fail "rst-$fam: conntrack state $state after RST"
  conn "rst-reuse-$fam" $fam "$addr" 5102 40102 --rst --hold 0.3
done
xf_log "PASS"
