#!/usr/bin/env bash
# `xdpflow stats --format prometheus` against a running instance that has
# forwarded a real masqueraded TCP connection: promtool (Prometheus's own
# parser and linter) accepts the output, and every figure equals what
# `stats --json` reads from the same maps (a differential check between the
# two formats, not against constants). Then the textfile-collector unit's
# command as dist/xdpflow-metrics.service runs it: the file is replaced
# atomically (no temporary left), passes promtool, and is removed once
# xdpflow is gone so stale figures never look current.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
xf_require_root
command -v promtool >/dev/null || xf_fail "promtool missing (scripts/install-deps.sh extracts it from Debian's prometheus package)"
xf_gw_create
out=$XF_GW_DIR/out
tool=$(xf_gw_tool)
port=5201

xf_gw_attach --max-flows 2048
xf_server python3 "$tool" tcp-sink --port $port --ready "$XF_GW_DIR/ready" \
  --progress "$XF_GW_DIR/progress" >/dev/null &
sink=$!
xf_wait_for 5 test -e "$XF_GW_DIR/ready" || xf_fail "sink did not start"
xf_client python3 "$tool" tcp-source --to "$XF_SERVER_V4" --port $port --bytes 1000000 \
  --rate 1000000 --hold 20 >/dev/null &
source_pid=$!
xf_on_exit "kill $source_pid $sink 2>/dev/null"
xf_wait_for 10 sh -c "[ \$(ip netns exec $XF_NS_GW $XDPFLOW_BIN stats --json | jq .totals.fast_packets) -gt 50 ]" ||
  xf_fail "no fast-path packets"
xf_wait_for 20 sh -c "[ \"\$(cat $XF_GW_DIR/progress 2>/dev/null || echo 0)\" -ge 900000 ]" ||
  xf_fail "the payload did not arrive"

# The counters move with any stray packet: take prometheus, json, prometheus
# until both prometheus reads agree (apart from the clock-derived ages), so
# the json read between them saw the same counters.
strip_ages() { grep -v -e '_age_seconds ' -e '^#' "$1"; }
settled=
for _ in $(seq 20); do
  xf_xdpflow stats --format prometheus >"$XF_GW_DIR/m1.prom"
  xf_xdpflow stats --json >"$XF_GW_DIR/s.json"
  xf_xdpflow stats --format prometheus >"$XF_GW_DIR/m2.prom"
  if [ "$(strip_ages "$XF_GW_DIR/m1.prom")" = "$(strip_ages "$XF_GW_DIR/m2.prom")" ]; then
    settled=1
    break
  fi
  sleep 0.5
done
[ -n "$settled" ] || xf_fail "the counters never held still for two reads"
prom=$XF_GW_DIR/m1.prom
xf_log "$(grep -v '^#' "$prom" | head -12)"

promtool check metrics <"$prom" >"$out" 2>&1 || { cat "$out" >&2; xf_fail "promtool check metrics rejected the output"; }
[ ! -s "$out" ] || { cat "$out" >&2; xf_fail "promtool check metrics complained"; }

# value METRIC_WITH_LABELS: the sample's value ("" when absent).
value() { awk -v m="$1" '$1 == m { print $2 }' "$prom"; }
same() { # METRIC JQ
  local got want
  got=$(value "$1")
  want=$(jq -r "$2" "$XF_GW_DIR/s.json")
  [ -n "$got" ] || xf_fail "no sample $1"
  [ "$got" = "$want" ] || xf_fail "$1 is $got, stats --json $2 says $want"
}
# Per hook, against the same hook's counters in the JSON (totals are their sum).
for hook in xdp tc; do
  h=".hooks.$hook"
  same "xdpflow_packets_total{path=\"fast\",hook=\"$hook\"}" "$h.fast_packets"
  same "xdpflow_packets_total{path=\"slow\",hook=\"$hook\"}" "$h.slow_packets"
  same "xdpflow_received_packets_total{hook=\"$hook\"}" "$h.rx_packets"
  same "xdpflow_fast_path_bytes_total{hook=\"$hook\"}" "$h.fast_bytes"
  same "xdpflow_redirect_errors_total{hook=\"$hook\"}" "$h.redirect_errors"
  for reason in $(jq -r "$h.slow_reasons | keys[]" "$XF_GW_DIR/s.json"); do
    same "xdpflow_slow_packets_total{reason=\"$reason\",hook=\"$hook\"}" "$h.slow_reasons.$reason"
  done
done
fast_sum=$(awk '$1 ~ /^xdpflow_packets_total\{path="fast",/ { n += $2 } END { print n }' "$prom")
[ "$fast_sum" = "$(jq .totals.fast_packets "$XF_GW_DIR/s.json")" ] || xf_fail "fast packets over hooks $fast_sum != totals"
[ "$fast_sum" -gt 50 ] || xf_fail "only $fast_sum fast-path packets counted"
same xdpflow_flows_offloaded .flows.offloaded
same xdpflow_flows_capacity .flows.capacity
same xdpflow_flows_rejected_full_total .flows.rejected_full
[ "$(value xdpflow_flows_offloaded)" -ge 1 ] || xf_fail "no connection offloaded"
[ "$(value xdpflow_control_plane_up)" = 1 ] || xf_fail "control plane not up"
[ -n "$(value xdpflow_control_plane_heartbeat_age_seconds)" ] || xf_fail "no heartbeat age"
[ "$(value xdpflow_offloads_total)" = "$(xf_xdpflow status --json | jq .control_plane.offloads_total)" ] ||
  xf_fail "offloads_total differs from status --json"
for ifc in lan0 wan0; do
  [ "$(awk -v i="interface=\"$ifc\"" 'index($1, "xdpflow_interface_info{") == 1 && index($1, i) { print $2 }' "$prom")" = 1 ] ||
    xf_fail "no xdpflow_interface_info for $ifc"
done

# The flow table's memory in status is the kernel's own accounting of the
# program's two flow maps, as bpftool reports it (memlock), and per
# connection of --max-flows.
prog=$(xf_xdpflow status --json | jq -er .program_id)
kernel_bytes=$(bpftool -j prog show id "$prog" | jq -r '.map_ids[]' | while read -r id; do
  bpftool -j map show id "$id"
done | jq -s '[.[] | select(.name == "xf_flows4" or .name == "xf_flows6") | .bytes_memlock] | add')
table=$(xf_xdpflow status --json | jq -c .table)
[ "$(jq -r .bytes <<<"$table")" = "$kernel_bytes" ] ||
  xf_fail "status table.bytes $(jq -r .bytes <<<"$table") differs from bpftool's memlock of the flow maps, $kernel_bytes"
[ "$(jq -r .bytes_per_connection <<<"$table")" = $((kernel_bytes / 2048)) ] ||
  xf_fail "status bytes_per_connection $(jq -r .bytes_per_connection <<<"$table") is not $kernel_bytes / 2048 (--max-flows)"
xf_xdpflow status | grep -q "memory: $((kernel_bytes / 2048)) bytes of kernel memory per connection" ||
  xf_fail "no memory line in status: $(xf_xdpflow status)"
xf_log "flow table: $kernel_bytes bytes for --max-flows 2048, $((kernel_bytes / 2048)) per connection"

# The textfile unit's ExecStart, writing into a directory of the test's own.
unit=${XDPFLOW_SOURCE_DIR:?}/dist/xdpflow-metrics.service.in
dir=$XF_GW_DIR/textfile
mkdir -p "$dir"
read -r -a exec_start <<<"$(sed -n 's/^ExecStart=//p' "$unit" |
  sed -e "s|@CMAKE_INSTALL_FULL_SBINDIR@/xdpflow|$XDPFLOW_BIN|" -e "s|/var/lib/prometheus/node-exporter|$dir|")"
[ "${exec_start[1]}" = stats ] || xf_fail "unexpected ExecStart in $unit: ${exec_start[*]}"
xf_gw "${exec_start[@]}" || xf_fail "the metrics unit's command failed"
[ "$(ls "$dir")" = xdpflow.prom ] || xf_fail "expected only xdpflow.prom in the textfile directory: $(ls "$dir")"
promtool check metrics <"$dir/xdpflow.prom" || xf_fail "promtool rejected the written file"
xf_gw_detach
rc=0
xf_gw "${exec_start[@]}" >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$out" >&2; xf_fail "metrics unit with xdpflow stopped: exit $rc, expected 1"; }
[ -z "$(ls "$dir")" ] || xf_fail "stale metrics left after xdpflow stopped: $(ls "$dir")"
echo "PASS: prometheus output passes promtool and equals stats --json; the textfile unit writes it atomically and removes it when xdpflow stops"
