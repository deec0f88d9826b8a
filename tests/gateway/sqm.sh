#!/usr/bin/env bash
# SQM on the WAN with xdpflow attached (defaults: --hook auto, TC on veth):
# HTB at 50 Mbit/s on wan0's egress (upload), and ingress shaping at
# 20 Mbit/s through an ifb (tc ingress u32 match-all filter with `action
# mirred egress redirect dev ifb0`, HTB on ifb0: download).
# - iperf3 upload and download stay within 5 % of the shaped rates (iperf3's
#   goodput converted to the wire rate HTB meters: x 1514/1448 for IPv4 TCP
#   with timestamps), measured with xdpflow attached;
# - the upload direction is forwarded by TC through wan0's qdisc (xdpflow's
#   TC counters and the entry's packets move), the download direction stays
#   on the kernel path (its entry is never hit; the kernel forwards it);
# - removing both shapers lets both directions be offloaded (flows says
#   "tc tc"), polled with a generous deadline (the control plane follows tc
#   changes within 1 s; no timing assertion here).
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
command -v iperf3 >/dev/null || xf_fail "iperf3 missing: run scripts/install-deps.sh"
UP_MBIT=50
DOWN_MBIT=20
SECS=8
PORT=5201

xf_gw_create
xf_gw ip link add ifb0 type ifb
xf_gw ip link set ifb0 up
xf_gw tc qdisc add dev "$XF_GW_WAN" root handle 1: htb default 10
xf_gw tc class add dev "$XF_GW_WAN" parent 1: classid 1:10 htb rate ${UP_MBIT}mbit ceil ${UP_MBIT}mbit
xf_gw tc qdisc add dev "$XF_GW_WAN" handle ffff: ingress
xf_gw tc filter add dev "$XF_GW_WAN" parent ffff: protocol all u32 match u32 0 0 \
  action mirred egress redirect dev ifb0
xf_gw tc qdisc add dev ifb0 root handle 1: htb default 10
xf_gw tc class add dev ifb0 parent 1: classid 1:10 htb rate ${DOWN_MBIT}mbit ceil ${DOWN_MBIT}mbit
xf_gw_attach

# One iperf3 server per phase (one that just ran a test may still be closing
# it and refuse the next as busy); killed with the namespace (xf_gw_destroy
# kills what runs there).
for p in $PORT $((PORT + 1)) $((PORT + 2)); do
  xf_server iperf3 -s -p $p >"$XF_GW_DIR/iperf3-server$p.log" 2>&1 &
  xf_wait_for 5 xf_client bash -c "exec 3<>/dev/tcp/$XF_SERVER_V4/$p" || xf_fail "iperf3 server $p did not start"
done
sleep 0.5

# The connection's two directions as flows --json shows them: "ORIG REPLY"
# hooks and packets, for the iperf3 data connection (the busiest on PORT).
directions() {
  xf_xdpflow flows --json --sort packets | jq -r --argjson p "${1:-$PORT}" '
    [.flows[] | select(.original != null and .reply != null and .original.dport == $p)][0]
    | "\(.original.hook) \(.reply.hook) \(.original.packets) \(.reply.packets)"'
}

# run NAME PORT [iperf3 args]: prints the receiver's goodput (bit/s); checks
# the hooks while it runs.
run() {
  local name=$1 port=$2
  shift 2
  xf_client iperf3 -c "$XF_SERVER_V4" -p "$port" -t $SECS -J "$@" >"$XF_GW_DIR/$name.json" &
  local pid=$!
  sleep 4 # the data connection is established and offloaded by now
  directions "$port" >"$XF_GW_DIR/$name.dirs"
  wait $pid || xf_fail "$name: iperf3 failed: $(head -c 2000 "$XF_GW_DIR/$name.json")"
  jq -r '.end.sum_received.bits_per_second' "$XF_GW_DIR/$name.json"
}
wire() { awk -v b="$1" 'BEGIN { printf "%.1f", b * 1514 / 1448 / 1e6 }'; }
within5() { awk -v r="$1" -v t="$2" 'BEGIN { d = r - t; if (d < 0) d = -d; exit !(d <= 0.05 * t) }'; }

# Bytes, not packets: the ends send TSO/GSO aggregates, which the kernel
# and the TC hook both forward as one skb.
tc_bytes() { xf_stat .hooks.tc.fast_bytes; }
received_bytes() { jq -r '.end.sum_received.bytes' "$XF_GW_DIR/$1.json"; }
tc0=$(tc_bytes)
up=$(wire "$(run upload $PORT)")
read -r up_orig up_reply up_orig_pk up_reply_pk <"$XF_GW_DIR/upload.dirs"
tc1=$(tc_bytes)
up_tc=$(xf_pct $((tc1 - tc0)) "$(received_bytes upload)")
xf_result "upload: ${up} Mbit/s on the wire (shaped at $UP_MBIT), hooks: data $up_orig, acks $up_reply;" \
  "TC forwarded ${up_tc}% of the uploaded bytes"
within5 "$up" $UP_MBIT || xf_fail "upload at ${up} Mbit/s, not within 5 % of $UP_MBIT"
[ "$up_orig" = tc ] || xf_fail "upload data direction forwarded by '$up_orig', expected tc"
[ "$up_reply" = kernel ] || xf_fail "upload ack direction (arriving on the ifb-shaped wan0) by '$up_reply', expected kernel"
xf_ge "$up_tc" 90 || xf_fail "TC forwarded only ${up_tc}% of the upload's bytes"

fwd1=$(xf_gw_forwarded)
tc2=$(tc_bytes)
down=$(wire "$(run download $((PORT + 1)) -R)")
read -r d_orig d_reply d_orig_pk d_reply_pk <"$XF_GW_DIR/download.dirs"
fwd2=$(xf_gw_forwarded)
tc3=$(tc_bytes)
down_tc=$(xf_pct $((tc3 - tc2)) "$(received_bytes download)")
xf_result "download: ${down} Mbit/s on the wire (shaped at $DOWN_MBIT), hooks: acks $d_orig, data $d_reply;" \
  "kernel forwarded $((fwd2 - fwd1)) skbs, data entry hit $d_reply_pk times, TC bytes ${down_tc}% of the download (acks)"
within5 "$down" $DOWN_MBIT || xf_fail "download at ${down} Mbit/s, not within 5 % of $DOWN_MBIT"
[ "$d_reply" = kernel ] || xf_fail "download data direction forwarded by '$d_reply', expected kernel"
[ "$d_reply_pk" = 0 ] || xf_fail "the download's entry was hit $d_reply_pk times: it bypassed the ifb"
xf_lt "$down_tc" 10 || xf_fail "TC forwarded ${down_tc}% of the download's bytes: the data bypassed the ifb"
[ $((fwd2 - fwd1)) -gt 100 ] || xf_fail "the kernel forwarded only $((fwd2 - fwd1)) skbs of the download"

# Shapers gone: a long-lived connection moves to TC in both directions.
P2=$((PORT + 2))
xf_client iperf3 -c "$XF_SERVER_V4" -p $P2 -t 40 -b 5M -J >"$XF_GW_DIR/after.json" &
after=$!
xf_wait_for 15 eval '[ "$(directions $P2 | cut -d" " -f1-2)" = "tc kernel" ]' ||
  xf_fail "shaped connection not placed as 'tc kernel': $(directions $P2)"
xf_gw tc qdisc del dev "$XF_GW_WAN" root
xf_gw tc qdisc del dev "$XF_GW_WAN" ingress
t0=$(date +%s%N)
xf_wait_for 10 eval '[ "$(directions $P2 | cut -d" " -f1-2)" = "tc tc" ]' ||
  xf_fail "after removing the shapers the directions are '$(directions $P2)', expected 'tc tc'"
xf_result "both directions offloaded $((($(date +%s%N) - t0) / 1000000)) ms after the shapers were removed"
kill $after 2>/dev/null || true
wait $after 2>/dev/null || true
xf_log "PASS"
