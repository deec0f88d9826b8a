#!/usr/bin/env bash
# kill -9 of `xdpflow attach` when the TC program hangs on clsact filters
# (the fallback for kernels without tcx; this kernel has tcx, so the test
# forces the fallback with XDPFLOW_FORCE_CLSACT=1, a testing switch).
# A clsact filter outlives its process: the program must stop forwarding by
# itself once the control plane's published clock is stale (2 s), so no
# stale offload: a UDP exchange offloaded before the kill goes on without a
# loss, carried by the kernel (its forwarded counter moves, the fast path's
# does not), and `xdpflow detach --all` removes the filters.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
PORT=6101

xf_gw_create
export XDPFLOW_FORCE_CLSACT=1
xf_gw_attach
unset XDPFLOW_FORCE_CLSACT
filters() { xf_gw tc filter show dev "$1" ingress; }
for ifc in "$XF_GW_LAN" "$XF_GW_WAN"; do
  filters "$ifc" | grep -q xdpflow_tc || xf_fail "$ifc: no xdpflow_tc clsact filter: $(filters "$ifc")"
done

xf_sink "$XF_NS_SERVER" echo udp-echo --port $PORT --idle 5
# 12 s of echoes: ASSURED after 2 s, offloaded, killed at ~4 s, then > 2 s
# stale and the rest on the kernel path.
xf_client python3 "$XF_TOOL" udp-client --to "$XF_SERVER_V4" --port $PORT --count 600 \
  --interval 0.02 --pause-after-first 2.2 >"$XF_GW_DIR/udp.json" 2>"$XF_GW_DIR/udp.err" &
client=$!
xf_wait_for 6 xf_offloaded_port $PORT ipv4 || xf_fail "the UDP flow was not offloaded"
sleep 1
fast_before=$(xf_stat .totals.fast_packets)
[ "$fast_before" -gt 20 ] || xf_fail "nothing on the fast path before the kill ($fast_before)"

xf_log "kill -9 $XF_XDPFLOW_PID"
kill -9 "$XF_XDPFLOW_PID"
wait "$XF_XDPFLOW_PID" 2>/dev/null || true
XF_XDPFLOW_PID=
filters "$XF_GW_LAN" | grep -q xdpflow_tc ||
  xf_fail "the clsact filter is gone after kill -9: this test no longer tests the stale clock"
sleep 2.5 # the published clock is stale now (XF_CLOCK_STALE_NS = 2 s)
fast1=$(xf_stat .totals.fast_packets)
fwd1=$(xf_gw_forwarded)
sleep 2
fast2=$(xf_stat .totals.fast_packets)
fwd2=$(xf_gw_forwarded)
xf_result "after the kill: fast path $((fast2 - fast1)) packets, kernel $((fwd2 - fwd1)) packets in 2 s"
[ "$fast2" = "$fast1" ] || xf_fail "the orphaned clsact program still forwards ($((fast2 - fast1)) packets)"
[ $((fwd2 - fwd1)) -gt 100 ] || xf_fail "the kernel did not take over ($((fwd2 - fwd1)) packets)"
wait $client || xf_fail "UDP client failed: $(cat "$XF_GW_DIR/udp.err")"
sent=$(xf_json "$XF_GW_DIR/udp.json" sent)
got=$(xf_json "$XF_GW_DIR/udp.json" received)
[ "$got" = "$sent" ] || xf_fail "lost $((sent - got)) of $sent datagrams across the kill"

xf_xdpflow detach --all | tee "$XF_GW_DIR/detach.txt"
for ifc in "$XF_GW_LAN" "$XF_GW_WAN"; do
  ! filters "$ifc" | grep -q xdpflow_tc || xf_fail "$ifc: the clsact filter is still there after detach"
done
xf_log "PASS"
