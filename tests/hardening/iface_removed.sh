#!/usr/bin/env bash
# An attached interface is deleted while flows use it: xdpflow attached to
# lan0, wan0 and wan1; one UDP flow leaves by wan0, one by wan1 (the server's
# second address). `ip link del wan1` in the middle: the wan1 flow's entries
# leave the table, the wan0 flow stays offloaded and loses nothing, the
# control plane keeps running, logs the removal, and still answers `stats`.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/gateway.sh"
. "$here/lib.sh"
xf_hard_init
tool=$(xf_gw_tool)

xf_gw_create ifdel
xf_gw_add_wan2
xf_gw_attach

flows_to() { # number of offloaded connections whose original destination is $1
  xf_xdpflow flows --json | jq --arg d "$1" '[.flows[] | select(.original.dst == $d and .reply != null)] | length'
}
xf_server python3 "$tool" udp-echo --port 7001 --idle 30 --ready "$XF_GW_DIR/echo.ready" \
  >"$XF_GW_DIR/echo.json" 2>&1 &
xf_wait_for 30 test -f "$XF_GW_DIR/echo.ready" || xf_fail "the UDP echo server did not start"
xf_client python3 "$tool" udp-client --to "$XF_SERVER_V4" --port 7001 --sport 42001 \
  --count 240 --interval 0.05 --pause-after-first 2.5 >"$XF_GW_DIR/wan0.json" 2>&1 &
c0=$!
xf_client python3 "$tool" udp-client --to "$XF_SERVER2_V4" --port 7001 --sport 42002 \
  --count 240 --interval 0.05 --pause-after-first 2.5 >"$XF_GW_DIR/wan1.json" 2>&1 &
c1=$!
xf_wait_for 10 eval '[ "$(flows_to '"$XF_SERVER_V4"')" = 1 ] && [ "$(flows_to '"$XF_SERVER2_V4"')" = 1 ]' ||
  xf_fail "both flows should be offloaded: $(xf_xdpflow flows)"

xf_log "deleting wan1 while both flows run"
lines_before=$(wc -l <"$XF_GW_DIR/attach.log")
xf_gw ip link del "$XF_GW_WAN2" || xf_fail "ip link del wan1"
xf_wait_for 5 eval '[ "$(flows_to '"$XF_SERVER2_V4"')" = 0 ]' ||
  xf_fail "the wan1 flow is still in the table: $(xf_xdpflow flows)"
[ "$(flows_to "$XF_SERVER_V4")" = 1 ] || xf_fail "the wan0 flow left the table: $(xf_xdpflow flows)"
kill -0 "$XF_XDPFLOW_PID" || xf_fail "xdpflow died: $(tail -5 "$XF_GW_DIR/attach.log")"
xf_xdpflow stats >/dev/null || xf_fail "stats does not answer any more"

wait "$c0" || xf_fail "wan0 client failed: $(cat "$XF_GW_DIR/wan0.json")"
wait "$c1" || true # its path is gone: datagrams after the deletion are lost, as without xdpflow
sent=$(jq -r .sent "$XF_GW_DIR/wan0.json")
recv=$(jq -r .received "$XF_GW_DIR/wan0.json")
[ "$sent" = "$recv" ] || xf_fail "the wan0 flow lost datagrams: $recv of $sent echoed"
[ "$(flows_to "$XF_SERVER_V4")" = 1 ] || xf_fail "the wan0 flow is no longer offloaded"
fast=$(xf_stat .totals.fast_packets)
[ "$fast" -gt 100 ] || xf_fail "fast path carried only $fast packets"
tail -n +$((lines_before + 1)) "$XF_GW_DIR/attach.log" | grep -q "$XF_GW_WAN2" ||
  xf_fail "the removal of $XF_GW_WAN2 is not in the log: $(tail -5 "$XF_GW_DIR/attach.log")"
kill -0 "$XF_XDPFLOW_PID" || xf_fail "xdpflow died"
echo "PASS: wan1 deleted under traffic: its flow left the table, the wan0 flow stayed offloaded and echoed $recv/$sent, log: $(tail -n +$((lines_before + 1)) "$XF_GW_DIR/attach.log" | grep "$XF_GW_WAN2" | head -1)"
