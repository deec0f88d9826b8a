#!/usr/bin/env bash
# stats, flows and status, human and JSON, checked field by field against a
# real masqueraded TCP connection through the namespace gateway, read from
# separate `ip netns exec` shells while attach runs. The veths keep their
# default offloads, so --hook auto forwards through TC: the ends' TSO
# aggregates are forwarded as one skb each (counted once).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
xf_require_root
xf_gw_create
out=$XF_GW_DIR/out
tool=$(xf_gw_tool)
port=5201

xf_gw_attach --max-flows 1024
xf_server python3 "$tool" tcp-sink --port $port --ready "$XF_GW_DIR/ready" \
  --progress "$XF_GW_DIR/progress" >"$XF_GW_DIR/sink.json" &
sink=$!
xf_wait_for 5 test -e "$XF_GW_DIR/ready" || xf_fail "sink did not start"
# 3 MB at 1 MB/s, then 10 s idle before the FIN: the flow stays offloaded and
# still while the counters are compared below.
xf_client python3 "$tool" tcp-source --to "$XF_SERVER_V4" --port $port --bytes 3000000 \
  --rate 1000000 --hold 10 >"$XF_GW_DIR/source.json" &
source_pid=$!
xf_on_exit "kill $source_pid $sink 2>/dev/null"

# Offloaded: one connection in flows, fast-path packets counted.
xf_wait_for 10 sh -c "[ \$(ip netns exec $XF_NS_GW $XDPFLOW_BIN flows --json | jq .count) -ge 1 ]" ||
  xf_fail "the connection was never offloaded"
xf_wait_for 10 sh -c "[ \$(ip netns exec $XF_NS_GW $XDPFLOW_BIN stats --json | jq .totals.fast_packets) -gt 100 ]" ||
  xf_fail "no fast-path packets"
# Wait for the payload (the source then idles for 10 s): the counters settle
# once the last ACK is through. The sink writes its progress at most every
# 0.1 s, so the last chunk may not show before EOF.
xf_wait_for 20 sh -c "[ \"\$(cat $XF_GW_DIR/progress 2>/dev/null || echo 0)\" -ge 2900000 ]" ||
  xf_fail "the payload did not arrive: $(cat "$XF_GW_DIR/progress" 2>/dev/null) bytes"
sleep 2

flows=$(xf_xdpflow flows --json)
stats=$(xf_xdpflow stats --json)
status=$(xf_xdpflow status --json)
flows_txt=$(xf_xdpflow flows)
stats_txt=$(xf_xdpflow stats)
status_txt=$(xf_xdpflow status)
xf_log "flows: $flows_txt"

# flows --json: the connection as conntrack sees it, plus rewrite and egress.
[ "$(jq .count <<<"$flows")" = 1 ] || xf_fail "expected 1 offloaded connection: $flows"
f='.flows[0]'
sport=$(jq -r "$f.original.sport" <<<"$flows")
check() { # JQ_EXPR EXPECTED (on $flows/$stats/$status in $1)
  local got
  got=$(jq -r "$2" <<<"$1")
  [ "$got" = "$3" ] || xf_fail "$2 is '$got', expected '$3'"
}
check "$flows" "$f.proto" tcp
check "$flows" "$f.family" ipv4
check "$flows" "$f.original.src" "$XF_CLIENT_V4"
check "$flows" "$f.original.dst" "$XF_SERVER_V4"
check "$flows" "$f.original.dport" $port
check "$flows" "$f.original.in" lan0
check "$flows" "$f.original.out" wan0
check "$flows" "$f.original.nat.src" "$XF_GW_WAN_V4"
check "$flows" "$f.reply.src" "$XF_SERVER_V4"
check "$flows" "$f.reply.dst" "$XF_GW_WAN_V4"
check "$flows" "$f.reply.sport" $port
check "$flows" "$f.reply.in" wan0
check "$flows" "$f.reply.out" lan0
check "$flows" "$f.reply.nat.dst" "$XF_CLIENT_V4"
# Masquerade keeps the port when it is free: nat lists only what changes.
masq_port=$(jq -r "$f.reply.dport" <<<"$flows")
check "$flows" "$f.original.nat.sport // $f.original.sport" "$masq_port"
check "$flows" "$f.reply.nat.dport // $f.reply.dport" "$sport"
orig_pkts=$(jq "$f.original.packets" <<<"$flows")
reply_pkts=$(jq "$f.reply.packets" <<<"$flows")
orig_bytes=$(jq "$f.original.bytes" <<<"$flows")
[ "$orig_bytes" -gt 2000000 ] || xf_fail "original direction has only $orig_bytes fast bytes"
[ "$orig_pkts" -gt 10 ] || xf_fail "original direction has only $orig_pkts fast packets"
[ "$reply_pkts" -gt 10 ] || xf_fail "reply direction (ACKs) has only $reply_pkts fast packets"
check "$flows" "$f.packets" $((orig_pkts + reply_pkts))
idle=$(jq "$f.idle_sec" <<<"$flows")
[ "$idle" -ge 0 ] && [ "$idle" -le 60 ] || xf_fail "idle_sec $idle: not the seconds since the last packet"

# flows (human): one line like conntrack -L plus rewrite, egress, counters.
grep -Eq "^tcp +$XF_CLIENT_V4:$sport -> $XF_SERVER_V4:$port +snat $XF_GW_WAN_V4:$masq_port +lan0 +wan0 +tc/tc +$((orig_pkts + reply_pkts)) +[0-9]+ +[0-9]+s$" <<<"$flows_txt" ||
  xf_fail "flows table line not as expected"
grep -q '^1 connection offloaded$' <<<"$flows_txt" || xf_fail "flows summary line"

# stats --json: DESIGN.md's field names; this one connection is all the
# fast path carried, and every received frame is fast or slow.
fast=$(jq .totals.fast_packets <<<"$stats")
check "$stats" .totals.fast_packets $((orig_pkts + reply_pkts))
check "$stats" .totals.fast_bytes "$(jq "$f.bytes" <<<"$flows")"
check "$stats" '.totals.rx_packets' "$(jq '.totals.fast_packets + .totals.slow_packets' <<<"$stats")"
check "$stats" '.totals.slow_packets' "$(jq '[.totals.slow_reasons[]] | add' <<<"$stats")"
check "$stats" '.totals.slow_reasons | has("no_flow") and has("tcp_fin_rst") and has("ttl") and has("mtu") and has("unparsed")' true
check "$stats" '.totals.slow_reasons.no_flow > 0' true # the handshake went the kernel path
check "$stats" .totals.redirect_errors 0
check "$stats" .flows.offloaded 1
check "$stats" .flows.capacity 1024
check "$stats" .flows.rejected_full 0
check "$stats" '[.interfaces[] | "\(.name)=\(.hook)"] | sort | join(",")' "lan0=tc,wan0=tc"
check "$flows" "$f.original.hook" tc
check "$flows" "$f.reply.hook" tc
check "$stats" '.interfaces[] | select(.name == "lan0") | .ifindex' "$(xf_gw cat /sys/class/net/lan0/ifindex)"
# stats (human) shows the same totals.
# The total, its share, then the XDP and TC hooks' counts (their sum): all TC.
grep -Eq "^fast path +$fast +[0-9.]+% +0 +$fast$" <<<"$stats_txt" || xf_fail "stats table: fast path row"
check "$stats" '.hooks.xdp.fast_packets + .hooks.tc.fast_packets' "$fast"
grep -q "^Flows offloaded: 1 of 1024 " <<<"$stats_txt" || xf_fail "stats table: flows line"

# status: liveness from xf_status, modes, features, fill.
check "$status" .control_plane.pid "$XF_XDPFLOW_PID"
check "$status" .control_plane.alive true
check "$status" '.control_plane.ct_events > 0' true
check "$status" '.control_plane.offloads_total >= 1' true
check "$status" .flows.offloaded 1
check "$status" .flows.capacity 1024
check "$status" '.interfaces[] | select(.name == "wan0") | .hook' tc
check "$status" '.interfaces[] | select(.name == "wan0") | .tc_ingress' tcx
check "$status" '.interfaces[] | select(.name == "wan0") | .mode' null
check "$status" '.interfaces[] | select(.name == "wan0") | .driver' veth
check "$status" '.interfaces[] | select(.name == "wan0") | .hook_reason' \
  "veth (sender checksum offload leaves CHECKSUM_PARTIAL frames XDP cannot see)"
grep -Eq "^Control plane: pid $XF_XDPFLOW_PID, up [0-9]+s, heartbeat [0-9.]+s ago \(alive\)$" <<<"$status_txt" ||
  xf_fail "status: control plane line"
grep -Eq '^wan0 +[0-9]+ +veth +tc/tcx +- ' <<<"$status_txt" || xf_fail "status: wan0 row"
grep -Eq '^  wan0: tc: veth \(sender checksum offload' <<<"$status_txt" || xf_fail "status: wan0 hook line"

# stats --watch: a header, then one aligned row per interval.
xf_xdpflow stats --watch 1 --count 2 >"$out"
[ "$(wc -l <"$out")" = 3 ] || xf_fail "--watch 1 --count 2 printed $(wc -l <"$out") lines"
xf_expect_line "$out" '^TIME +RX pps +FAST pps +FAST bps +SLOW pps +no_flow +fin_rst +ttl +mtu +other +REDIR err/s +HIT +FLOWS$'
xf_expect_line "$out" '^[0-9]{2}:[0-9]{2}:[0-9]{2} +[0-9.kM]+ +[0-9.kM]+ .* [0-9]+$'
[ "$(awk '{ print length }' "$out" | sort -u | wc -l)" = 1 ] || xf_fail "--watch rows are not aligned"

# The connection closes through the kernel path and the payload arrived
# intact through the fast path.
wait "$source_pid" || xf_fail "the TCP source failed"
wait "$sink" || xf_fail "the TCP sink failed"
[ "$(jq -r .sha256 "$XF_GW_DIR/sink.json")" = "$(jq -r .sha256 "$XF_GW_DIR/source.json")" ] ||
  xf_fail "payload corrupted through the fast path"
xf_wait_for 5 sh -c "[ \$(ip netns exec $XF_NS_GW $XDPFLOW_BIN flows --json | jq .count) = 0 ]" ||
  xf_fail "the closed connection is still in flows"
echo "PASS: stats, flows, status agree with a real offloaded connection"
