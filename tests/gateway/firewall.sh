#!/usr/bin/env bash
# The gateway's firewall stays in charge with xdpflow attached.
# 1. Flows the ruleset rejects are never offloaded: TCP and UDP from the WAN
#    straight to a LAN host (no port-forward), and a LAN -> WAN port that an
#    extra rule drops.
# 2. A drop rule added for a flow that is already offloaded takes effect as
#    soon as conntrack forgets the flow (conntrack -D for IPv4, a table flush
#    for IPv6): within 1 s the flow leaves the map, the rule's counter moves
#    and the receiver gets nothing more.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init

xf_gw_create
xf_gw_attach
rule_packets() { # packets counted by the forward rule with comment $1
  xf_gw_nft -a list chain inet xfgw forward | awk -v c="\"$1\"" '
    $0 ~ "comment " c { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

# --- 1. rejected flows -------------------------------------------------------
drop0=$(rule_packets wan-drop)
xf_sink "$XF_NS_CLIENT" lan-tcp tcp-sink --port 5201
if xf_server timeout 3 python3 "$XF_TOOL" tcp-source --to "$XF_CLIENT_V4" --port 5201 --bytes 1000 \
  >/dev/null 2>&1; then
  xf_fail "a TCP connection from the WAN to a LAN host got through"
fi
xf_sink "$XF_NS_CLIENT" lan-udp udp-echo --port 5202 --idle 1
xf_server python3 "$XF_TOOL" udp-client --to "$XF_CLIENT_V6" --port 5202 --count 300 \
  --interval 0.01 >"$XF_GW_DIR/wan-udp.json"
[ "$(xf_json "$XF_GW_DIR/wan-udp.json" received)" = 0 ] || xf_fail "UDP from the WAN to a LAN host got answers"
xf_not_offloaded_port 5201 || xf_fail "a rejected TCP flow was offloaded"
xf_not_offloaded_port 5202 || xf_fail "a rejected UDP flow was offloaded"
drop1=$(rule_packets wan-drop)
[ "$drop1" -gt "$drop0" ] || xf_fail "the wan-drop rule saw nothing"

xf_gw_nft insert rule inet xfgw forward iifname lan0 tcp dport 5203 counter drop comment '"lan-block"'
xf_sink "$XF_NS_SERVER" blocked tcp-sink --port 5203
if xf_client timeout 3 python3 "$XF_TOOL" tcp-source --to "$XF_SERVER_V4" --port 5203 --bytes 1000 \
  >/dev/null 2>&1; then
  xf_fail "a LAN -> WAN connection to a blocked port got through"
fi
xf_not_offloaded_port 5203 || xf_fail "a blocked LAN flow was offloaded"
[ "$(rule_packets lan-block)" -gt 0 ] || xf_fail "the lan-block rule saw nothing"
xf_result "rejected flows: WAN->LAN TCP/UDP dropped ($((drop1 - drop0)) packets), blocked LAN port dropped ($(rule_packets lan-block) packets), none offloaded"

# --- 2. block an offloaded flow ----------------------------------------------
block_case() {
  local fam=$1 addr=$2 port=$3 how=$4
  local progress="$XF_GW_DIR/block-$fam.progress"
  xf_sink "$XF_NS_SERVER" "block-$fam" tcp-sink --port "$port" --progress "$progress"
  local sink=$XF_SINK_PID
  # 2 MB/s for up to 20 s: the flow is still busy when the rule changes.
  xf_client python3 "$XF_TOOL" tcp-source --to "$addr" --port "$port" --bytes 40000000 \
    --rate 2000000 >/dev/null 2>&1 &
  local src=$!
  xf_wait_for 5 xf_offloaded_port "$port" "$fam" || xf_fail "block-$fam: never offloaded"
  sleep 0.5
  local fast0
  fast0=$(xf_stat .totals.fast_packets)
  sleep 0.5
  [ "$(xf_stat .totals.fast_packets)" -gt "$fast0" ] || xf_fail "block-$fam: fast path idle before the block"
  xf_gw_nft insert rule inet xfgw forward meta nfproto "$fam" tcp dport "$port" counter drop \
    comment "\"block-$fam\""
  local t_del
  t_del=$(date +%s%N)
  if [ "$how" = delete ]; then
    xf_gw conntrack -D -f "$fam" -p tcp --orig-port-dst "$port" >/dev/null 2>&1 ||
      xf_fail "block-$fam: conntrack -D found no entry"
  else
    xf_gw conntrack -F -f "$fam" >/dev/null 2>&1 || xf_fail "block-$fam: conntrack -F failed"
  fi
  xf_wait_for 1 xf_not_offloaded_port "$port" "$fam" ||
    xf_fail "block-$fam: still offloaded 1 s after conntrack -${how:0:1}"
  local gone_ms=$((($(date +%s%N) - t_del) / 1000000))
  sleep 1
  local bytes1 fast1
  bytes1=$(cat "$progress")
  fast1=$(xf_stat .totals.fast_packets)
  sleep 1
  local bytes2 fast2
  bytes2=$(cat "$progress")
  fast2=$(xf_stat .totals.fast_packets)
  [ "$bytes2" = "$bytes1" ] || xf_fail "block-$fam: data still arrives after the block ($bytes1 -> $bytes2)"
  [ "$fast2" = "$fast1" ] || xf_fail "block-$fam: fast path still forwarding after the block"
  local dropped
  dropped=$(rule_packets "block-$fam")
  [ "$dropped" -gt 0 ] || xf_fail "block-$fam: the drop rule saw nothing"
  xf_result "block-$fam: map entry gone ${gone_ms} ms after conntrack $how; $dropped packets dropped by the new rule; receiver stopped at $bytes2 bytes"
  kill "$src" "$sink" 2>/dev/null || true
  wait "$src" "$sink" 2>/dev/null || true
}
block_case ipv4 "$XF_SERVER_V4" 5204 delete
block_case ipv6 "$XF_SERVER_V6" 5205 flush
xf_log "PASS"
