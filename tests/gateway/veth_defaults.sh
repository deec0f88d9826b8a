#!/usr/bin/env bash
# The gateway as containers and VMs build it: veths whose ends keep their
# default offloads (tx checksum offload on, so the gw receives
# CHECKSUM_PARTIAL frames), xdpflow attached with the default --hook auto.
# TCP and UDP, IPv4 and IPv6, through masquerade (SNAT) and the port-forward
# (DNAT). For each:
# - status says the gw's veths run the TC hook, and why; flows says each
#   direction is forwarded by TC;
# - TCP: the payload arrives intact (SHA-256) and the transfer ends (a stall
#   is what users saw with XDP here: the sender is bounded by a generous
#   deadline, not a timing assertion);
# - UDP: every datagram is echoed back (zero loss);
# - no checksum error at either end (TcpInCsumErrors, UdpInCsumErrors), where
#   the kernel would drop a corrupt frame;
# - the fast path carries >= 90 % of the packets the gw forwards, from
#   xdpflow's counters against the kernel's (nstat IpForwDatagrams +
#   Ip6OutForwDatagrams).
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
BYTES=${XF_BULK_BYTES:-16777216}
MIN_SHARE=90

xf_gw_create
for ns in "$XF_NS_CLIENT" "$XF_NS_SERVER"; do
  tx=$(ip netns exec "$ns" ethtool -k eth0 | awk '$1 == "tx-checksumming:" { print $2 }')
  [ "$tx" = on ] || xf_fail "$ns: tx checksumming is '$tx': this test needs veth's default (on)"
done
xf_gw_attach
for ifc in "$XF_GW_LAN" "$XF_GW_WAN"; do
  line=$(xf_xdpflow status --json | jq -r --arg i "$ifc" '.interfaces[] | select(.name == $i) | "\(.hook): \(.hook_reason)"')
  xf_log "$ifc: $line"
  case $line in tc:*veth*CHECKSUM_PARTIAL*) ;; *) xf_fail "$ifc: expected the TC hook for veth, status says: $line" ;; esac
done

csum_errors() { # total checksum errors at the client and server
  local n=0 ns c
  for ns in "$XF_NS_CLIENT" "$XF_NS_SERVER"; do
    for c in TcpInCsumErrors UdpInCsumErrors Udp6InCsumErrors; do
      n=$((n + $(ip netns exec "$ns" nstat -asz "$c" | awk -v c="$c" '$1 == c { print $2 }')))
    done
  done
  echo "$n"
}
# Hooks of both directions of the connections using a port ("tc tc").
hooks_of_port() {
  xf_xdpflow flows --json | jq -r --argjson p "$1" '
    [.flows[] | select([.. | objects | (.sport?, .dport?)] | index($p) != null)
     | .original.hook, .reply.hook] | join(" ")'
}
fast_total() { xf_stat .totals.fast_packets; }
csum0=$(csum_errors)
fwd0=$(xf_gw_forwarded)
fast0=$(fast_total)

tcp_case() { # NAME FAMILY SENDER_NS RECEIVER_NS ADDR PORT
  local name=$1 fam=$2 src_ns=$3 dst_ns=$4 addr=$5 port=$6
  local go="$XF_GW_DIR/$name.go"
  xf_sink "$dst_ns" "$name.recv" tcp-sink --port "$port"
  ip netns exec "$src_ns" timeout 120 python3 "$XF_TOOL" tcp-source --to "$addr" --port "$port" \
    --bytes "$BYTES" --go "$go" >"$XF_GW_DIR/$name.sent" 2>"$XF_GW_DIR/$name.err" &
  local src_pid=$!
  xf_wait_for 5 xf_offloaded_port "$port" "$fam" ||
    xf_fail "$name: not offloaded 5 s after the handshake: $(xf_xdpflow flows 2>&1)"
  local hooks
  hooks=$(hooks_of_port "$port")
  [ "$hooks" = "tc tc" ] || xf_fail "$name: directions forwarded by '$hooks', expected 'tc tc'"
  touch "$go"
  wait "$src_pid" || xf_fail "$name: the sender did not finish within 120 s (stall) or failed: $(cat "$XF_GW_DIR/$name.err")"
  wait "$XF_SINK_PID" || xf_fail "$name: receiver failed: $(cat "$XF_GW_DIR/$name.recv.err")"
  xf_same_payload "$XF_GW_DIR/$name.sent" "$XF_GW_DIR/$name.recv.json"
  xf_result "$name: $BYTES bytes intact, longest gap $(xf_json "$XF_GW_DIR/$name.recv.json" max_gap_s) s"
}
tcp_case tcp-snat4 ipv4 "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V4" 5001
tcp_case tcp-snat6 ipv6 "$XF_NS_CLIENT" "$XF_NS_SERVER" "$XF_SERVER_V6" 5002
tcp_case tcp-dnat4 ipv4 "$XF_NS_SERVER" "$XF_NS_CLIENT" "$XF_GW_WAN_V4" "$XF_PORT_FORWARD"
tcp_case tcp-dnat6 ipv6 "$XF_NS_SERVER" "$XF_NS_CLIENT" "$XF_GW_WAN_V6" "$XF_PORT_FORWARD"

# UDP echo exchanges, all four at once: 2 s to become ASSURED, then 6 s on
# the fast path.
flows=(
  "udp-snat4 ipv4 $XF_NS_CLIENT $XF_SERVER_V4 6001"
  "udp-snat6 ipv6 $XF_NS_CLIENT $XF_SERVER_V6 6002"
  "udp-dnat4 ipv4 $XF_NS_SERVER $XF_GW_WAN_V4 $XF_PORT_FORWARD"
  "udp-dnat6 ipv6 $XF_NS_SERVER $XF_GW_WAN_V6 $XF_PORT_FORWARD"
)
xf_sink "$XF_NS_SERVER" echo6001 udp-echo --port 6001 --idle 20
xf_sink "$XF_NS_SERVER" echo6002 udp-echo --port 6002 --idle 20
xf_sink "$XF_NS_CLIENT" echo8080 udp-echo --port "$XF_PORT_FORWARD" --idle 20
pids=()
for f in "${flows[@]}"; do
  read -r name fam cl_ns addr port <<<"$f"
  ip netns exec "$cl_ns" python3 "$XF_TOOL" udp-client --to "$addr" --port "$port" --count 400 \
    --interval 0.02 --size 600 --pause-after-first 2.2 >"$XF_GW_DIR/$name.json" 2>"$XF_GW_DIR/$name.err" &
  pids+=($!)
done
for f in "${flows[@]}"; do
  read -r name fam cl_ns addr port <<<"$f"
  xf_wait_for 8 xf_offloaded_port "$port" "$fam" ||
    xf_fail "$name: never offloaded: $(xf_ct -p udp; xf_xdpflow flows)"
done
for f in "${flows[@]}"; do
  read -r name fam cl_ns addr port <<<"$f"
  hooks=$(hooks_of_port "$port")
  case $hooks in "tc tc" | "tc tc tc tc") ;; *) xf_fail "$name: directions forwarded by '$hooks', expected tc" ;; esac
done
i=0
for f in "${flows[@]}"; do
  read -r name fam cl_ns addr port <<<"$f"
  wait "${pids[$i]}" || xf_fail "$name: client failed: $(cat "$XF_GW_DIR/$name.err")"
  i=$((i + 1))
  sent=$(xf_json "$XF_GW_DIR/$name.json" sent)
  got=$(xf_json "$XF_GW_DIR/$name.json" received)
  xf_result "$name: $got of $sent datagrams echoed"
  [ "$got" = "$sent" ] || xf_fail "$name: lost $((sent - got)) of $sent datagrams"
done

errors=$(($(csum_errors) - csum0))
[ "$errors" = 0 ] || xf_fail "$errors checksum errors at the client/server: corrupt frames were forwarded"
fast=$(($(fast_total) - fast0))
kernel=$(($(xf_gw_forwarded) - fwd0))
share=$(xf_pct "$fast" $((fast + kernel)))
xf_result "fast path (tc hook) forwarded $fast packets, the kernel $kernel: share ${share}%"
xf_ge "$share" "$MIN_SHARE" || xf_fail "the fast path carried only ${share}% of the forwarded packets"
xf_log "PASS"
