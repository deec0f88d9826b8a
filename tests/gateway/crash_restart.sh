#!/usr/bin/env bash
# kill -9 of the control plane in the middle of offloaded transfers (IPv4 and
# IPv6): the XDP programs go with the process (bpf_link), the kernel path
# takes over without a pause of 1 s or more at the receivers, the payload is
# intact, and a restarted `xdpflow attach` finds the connections in the
# conntrack dump and offloads them again.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
RATE=5000000
BYTES=35000000 # about 7 s per transfer

xf_gw_create
xf_gw_attach

pids=()
for fam in ipv4 ipv6; do
  if [ $fam = ipv4 ]; then addr=$XF_SERVER_V4 port=5401; else addr=$XF_SERVER_V6 port=5402; fi
  xf_sink "$XF_NS_SERVER" "$fam.recv" tcp-sink --port $port
  pids+=("$XF_SINK_PID")
  xf_client python3 "$XF_TOOL" tcp-source --to "$addr" --port $port --bytes $BYTES --rate $RATE \
    >"$XF_GW_DIR/$fam.sent" 2>"$XF_GW_DIR/$fam.err" &
  pids+=($!)
done
xf_wait_for 5 xf_offloaded_port 5401 ipv4 || xf_fail "ipv4 flow not offloaded"
xf_wait_for 5 xf_offloaded_port 5402 ipv6 || xf_fail "ipv6 flow not offloaded"
sleep 1
fast_before=$(xf_stat .totals.fast_packets)
[ "$fast_before" -gt 0 ] || xf_fail "nothing on the fast path before the crash"

xdp_attached() { xf_gw ip -j link show | jq -e '[.[] | select(.xdp != null)] | length > 0' >/dev/null; }
fwd0=$(xf_gw_forwarded)
xf_log "kill -9 $XF_XDPFLOW_PID"
kill -9 "$XF_XDPFLOW_PID"
wait "$XF_XDPFLOW_PID" 2>/dev/null || true
XF_XDPFLOW_PID=
xf_wait_for 1 eval '! xdp_attached' || xf_fail "an XDP program is still attached after kill -9: $(xf_gw ip link show)"
sleep 1.5
fwd1=$(xf_gw_forwarded)
[ $((fwd1 - fwd0)) -gt 100 ] || xf_fail "the kernel did not take over the flows ($((fwd1 - fwd0)) packets forwarded)"

xf_log "restarting xdpflow attach"
t_restart=$(date +%s%N)
xf_gw_attach
xf_wait_for 5 xf_offloaded_port 5401 ipv4 || xf_fail "ipv4 flow not re-offloaded after the restart"
xf_wait_for 5 xf_offloaded_port 5402 ipv6 || xf_fail "ipv6 flow not re-offloaded after the restart"
reoffload_ms=$((($(date +%s%N) - t_restart) / 1000000))
sleep 1
fast_after=$(xf_stat .totals.fast_packets)
[ "$fast_after" -gt 100 ] || xf_fail "the restarted fast path carries nothing ($fast_after packets)"

for pid in "${pids[@]}"; do
  wait "$pid" || xf_fail "a sender or receiver failed"
done
for fam in ipv4 ipv6; do
  xf_same_payload "$XF_GW_DIR/$fam.sent" "$XF_GW_DIR/$fam.recv.json"
  gap=$(xf_json "$XF_GW_DIR/$fam.recv.json" max_gap_s)
  xf_result "$fam: longest pause at the receiver ${gap} s across kill -9 and restart, payload intact"
  xf_lt "$gap" 1.0 || xf_fail "$fam: transfer stalled for ${gap} s"
done
xf_result "kernel forwarded $((fwd1 - fwd0)) packets in the 1.5 s without xdpflow;" \
  "re-offloaded ${reoffload_ms} ms after the restart (attach included); $fast_after fast-path packets in the next second"
xf_log "PASS"
