#!/usr/bin/env bash
# Differential fidelity test: the frames xdpflow's fast path emits must be
# byte-identical to what the kernel's forwarding path (nftables, conntrack,
# NAT) emits for the same input.
#
# 1. Record: a scripted real exchange through the gateway (no xdpflow) —
#    TCP and UDP, IPv4 and IPv6, through masquerade and through the
#    port-forward, a UDP flow with checksum 0 — recording every frame the
#    client and the server send (full checksums: tx offload off).
# 2. Replay those exact frames, with their timing, into the gateway twice,
#    endpoints silenced (their TCP/UDP input dropped), capturing what arrives
#    at the client and the server: run A without xdpflow, run B with it
#    (conntrack flushed before each, so NAT picks the same ports).
# 3. Compare per flow, frame by frame, every byte (IPv4 ID, TTL, checksums,
#    MACs, NAT rewrites). Any difference fails the test, listed field by field.
# The gw has GRO off and the ends TSO/GSO off, so every frame is captured as
# it was forwarded. XF_DIFF_HOOK picks the hook under test: xdp (default; the
# ends run a pass-only XDP program so veth accepts XDP_REDIRECTed frames) or
# tc (differential_tc.sh). Both record with tx checksum offload off at the
# ends: a packet socket replays frames as they are (CHECKSUM_NONE), so the
# recorded ones must carry complete checksums. CHECKSUM_PARTIAL frames from
# ends at their default offloads are tested live by veth_defaults.sh.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
[ -f "${XF_PASS_OBJ:-}" ] || xf_fail "set XF_PASS_OBJ to the pass-only XDP object (ctest does)"
REPLAY="$XF_E2E_DIR/xf_replay.py"

HOOK=${XF_DIFF_HOOK:-xdp}
export XF_GW_GRO=0
[ "$HOOK" = xdp ] && export XF_GW_PEER_XDP=$XF_PASS_OBJ XF_GW_TX_OFF=1
xf_gw_create
xf_client ethtool -K "$XF_CLIENT_IF" tx off >/dev/null
xf_server ethtool -K "$XF_SERVER_IF" tx off >/dev/null
IFACES=(--iface "client=$XF_NS_CLIENT:$XF_CLIENT_IF" --iface "server=$XF_NS_SERVER:$XF_SERVER_IF")
D=$XF_GW_DIR

# --- 1. record the scripted exchange -------------------------------------------
python3 "$REPLAY" record "${IFACES[@]}" --out "$D/script.jsonl" --stop-file "$D/stop" \
  --ready "$D/recorder.ready" >"$D/record.json" &
recorder=$!
# A failure before the stop file must not leave it holding ctest's output.
xf_on_exit "kill $recorder 2>/dev/null || true"
xf_wait_for 5 test -f "$D/recorder.ready" || xf_fail "recorder did not start"

xf_sink "$XF_NS_SERVER" tsink tcp-sink --port 5601 --count 2
tsink=$XF_SINK_PID
xf_sink "$XF_NS_CLIENT" tfwd tcp-sink --port "$XF_PORT_FORWARD" --count 2
tfwd=$XF_SINK_PID
# A generous idle: on a loaded machine the clients may start seconds later.
xf_sink "$XF_NS_SERVER" uecho udp-echo --port 5603 --idle 20
xf_sink "$XF_NS_CLIENT" ufwd udp-echo --port "$XF_PORT_FORWARD" --idle 20
pids=()
tcp() { # NS NAME ADDR PORT BYTES
  ip netns exec "$1" python3 "$XF_TOOL" tcp-source --to "$3" --port "$4" --bytes "$5" --go "$D/go" \
    >"$D/$2.sent" 2>"$D/$2.err" &
  pids+=($!)
}
udp() { # NS NAME ADDR PORT SIZE [options]
  local ns=$1 name=$2 addr=$3 port=$4 size=$5
  shift 5
  ip netns exec "$ns" python3 "$XF_TOOL" udp-client --to "$addr" --port "$port" --count 40 \
    --interval 0.01 --size "$size" --pause-after-first 2.2 "$@" >"$D/$name.json" 2>"$D/$name.err" &
  pids+=($!)
}
tcp "$XF_NS_CLIENT" tcp-snat4 "$XF_SERVER_V4" 5601 300000
tcp "$XF_NS_CLIENT" tcp-snat6 "$XF_SERVER_V6" 5601 200000
tcp "$XF_NS_SERVER" tcp-dnat4 "$XF_GW_WAN_V4" "$XF_PORT_FORWARD" 200000
tcp "$XF_NS_SERVER" tcp-dnat6 "$XF_GW_WAN_V6" "$XF_PORT_FORWARD" 300000
udp "$XF_NS_CLIENT" udp-snat4 "$XF_SERVER_V4" 5603 200
udp "$XF_NS_CLIENT" udp-snat6 "$XF_SERVER_V6" 5603 1000
udp "$XF_NS_CLIENT" udp-snat4-nocsum "$XF_SERVER_V4" 5603 64 --no-check
udp "$XF_NS_SERVER" udp-dnat4 "$XF_GW_WAN_V4" "$XF_PORT_FORWARD" 1400
udp "$XF_NS_SERVER" udp-dnat6 "$XF_GW_WAN_V6" "$XF_PORT_FORWARD" 100
sleep 1 # handshakes done; the data follows after a pause (time to offload)
touch "$D/go"
for pid in "${pids[@]}" "$tsink" "$tfwd"; do
  wait "$pid" || xf_fail "scripted traffic failed: $(cat "$D"/*.err)"
done
for name in udp-snat4 udp-snat6 udp-snat4-nocsum udp-dnat4 udp-dnat6; do
  [ "$(xf_json "$D/$name.json" received)" = 40 ] || xf_fail "$name: lost datagrams while recording"
done
touch "$D/stop"
wait "$recorder" || xf_fail "recorder failed"
recorded=$(jq -r .recorded "$D/record.json")
xf_log "recorded $recorded frames"

# --- 2. replay twice --------------------------------------------------------------
for ns in "$XF_NS_CLIENT" "$XF_NS_SERVER"; do
  ip netns exec "$ns" nft -f - <<'NFT'
table inet xfgw_silence {
  chain input { type filter hook input priority -300; policy accept; meta l4proto { tcp, udp } drop; }
}
NFT
done
replay() { # RUN
  xf_gw conntrack -F >/dev/null 2>&1 || true
  xf_gw conntrack -F -f ipv6 >/dev/null 2>&1 || true
  python3 "$REPLAY" replay --script "$D/script.jsonl" "${IFACES[@]}" --out "$D/$1.jsonl" >"$D/$1.json" ||
    xf_fail "replay $1 failed"
  jq -c . "$D/$1.json"
}
replay kernel
captured=$(jq -r .captured "$D/kernel.json")
[ "$captured" = "$recorded" ] ||
  xf_fail "the kernel path forwarded $captured of the $recorded replayed frames (script not replayable)"

xf_gw_attach --hook "$HOOK"
for ifc in "$XF_GW_LAN" "$XF_GW_WAN"; do
  got=$(xf_xdpflow status --json | jq -r --arg i "$ifc" '.interfaces[] | select(.name == $i) | .hook')
  [ "$got" = "$HOOK" ] || xf_fail "$ifc runs the $got hook, not $HOOK"
done
fast0=$(xf_stat .totals.fast_packets)
replay xdpflow
fast=$(($(xf_stat .totals.fast_packets) - fast0))

# --- 3. compare ---------------------------------------------------------------------
set +e
python3 "$REPLAY" compare "$D/kernel.jsonl" "$D/xdpflow.jsonl" | tee "$D/compare.txt"
rc=${PIPESTATUS[0]}
set -e
xf_result "differential ($HOOK hook): $recorded frames replayed, $fast of them forwarded by the fast path" \
  "($(xf_pct "$fast" "$recorded")%), $(head -1 "$D/compare.txt")"
[ "$rc" = 0 ] || xf_fail "the fast path's frames differ from the kernel's (DIFF lines above)"
# A comparison where xdpflow forwarded little proves little.
xf_ge "$(xf_pct "$fast" "$recorded")" 60 || xf_fail "only $fast of $recorded frames took the fast path"
xf_log "PASS"
