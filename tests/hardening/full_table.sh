#!/usr/bin/env bash
# Full table: xdpflow with room for 3 connections, 8 real UDP flows through
# the gateway plus 500 more assured conntrack entries. The extra flows stay
# on the kernel path and still work (every datagram echoed), `stats` counts
# the refusals (flows.rejected_full), the table holds exactly its capacity,
# and the log does not repeat itself (rate-limited: a few lines, not one per
# refused flow).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/gateway.sh"
. "$here/lib.sh"
xf_hard_init
tool=$(xf_gw_tool)
CAP=3 FLOWS=8

xf_gw_create full
xf_gw_attach --max-flows $CAP

xf_server python3 "$tool" udp-echo --port 7000 --idle 20 --ready "$XF_GW_DIR/echo.ready" \
  >"$XF_GW_DIR/echo.json" 2>&1 &
echo_pid=$!
# Listening before the first datagram (a fixed sleep was too short on a
# loaded machine: the first datagrams met a closed port).
xf_wait_for 30 test -f "$XF_GW_DIR/echo.ready" || xf_fail "the UDP echo server did not start"
fwd0=$(xf_gw_forwarded)
pids=()
for i in $(seq $FLOWS); do
  # 2.5 s pause after the first datagram: conntrack assures UDP after 2 s.
  xf_client python3 "$tool" udp-client --to "$XF_SERVER_V4" --port 7000 --sport $((41000 + i)) \
    --count 80 --interval 0.05 --pause-after-first 2.5 >"$XF_GW_DIR/client$i.json" 2>&1 &
  pids+=($!)
done
xf_wait_for 30 eval '[ "$(xf_stat .flows.offloaded)" -ge '$CAP' ]' ||
  xf_fail "the table never filled: $(xf_xdpflow stats --json)"

# More pressure: 500 assured entries in a burst, all refused.
xf_ct_burst_file 500 20000 "$XF_GW_DIR/more"
xf_ct_load "$XF_GW_DIR/more"

for i in $(seq $FLOWS); do
  wait "${pids[$((i - 1))]}" || xf_fail "client $i failed: $(cat "$XF_GW_DIR/client$i.json")"
  sent=$(jq -r .sent "$XF_GW_DIR/client$i.json")
  recv=$(jq -r .received "$XF_GW_DIR/client$i.json")
  [ "$sent" = "$recv" ] || xf_fail "flow $i: $recv of $sent datagrams echoed (the table being full must not lose packets)"
done
kill "$echo_pid" 2>/dev/null || true

offloaded=$(xf_stat .flows.offloaded)
capacity=$(xf_stat .flows.capacity)
rejected=$(xf_stat .flows.rejected_full)
fast=$(xf_stat .totals.fast_packets)
kernel=$(($(xf_gw_forwarded) - fwd0))
[ "$capacity" = $CAP ] || xf_fail "stats capacity $capacity, expected $CAP"
[ "$offloaded" = $CAP ] || xf_fail "stats offloaded $offloaded, expected $CAP (the table is full)"
[ "$rejected" -ge $((FLOWS - CAP)) ] || xf_fail "rejected_full $rejected, expected at least $((FLOWS - CAP))"
[ "$fast" -gt 0 ] || xf_fail "nothing went through the fast path"
# The kernel carried the flows that did not fit: both directions, most datagrams.
[ "$kernel" -gt $(((FLOWS - CAP) * 80)) ] || xf_fail "the kernel forwarded only $kernel packets"
log_lines=$(grep -ciE "full" "$XF_GW_DIR/attach.log" || true)
[ "$log_lines" -le 5 ] ||
  xf_fail "$log_lines log lines about the full table for $rejected refusals: not rate-limited: $(grep -iE full "$XF_GW_DIR/attach.log" | head -5)"
[ "$log_lines" -ge 1 ] || xf_fail "the full table was never logged"
kill -0 "$XF_XDPFLOW_PID" || xf_fail "xdpflow died"
echo "PASS: capacity $CAP: $offloaded offloaded, $rejected refused (stats), all $FLOWS flows echoed every datagram ($fast fast-path, $kernel kernel-forwarded packets), $log_lines log line(s) about it: $(grep -iE full "$XF_GW_DIR/attach.log" | head -1)"
