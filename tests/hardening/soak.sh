#!/usr/bin/env bash
# Soak: for $XF_SOAK_SECONDS (default 45; 600 for the 10-minute run outside
# CI) connections open and close continuously: every cycle a batch of 2000
# conntrack entries opens, the batch of two cycles before closes (DESTROY
# events), and a real UDP flow crosses the gateway. The loader's RSS and the
# table size must stay flat (RSS at the end within 25 % + 4 MiB of RSS after
# warm-up; the table never above three batches, while churn without removal
# would grow it by a batch a cycle; the injected batches carry no packets,
# so they wait for an observation: offloaded + waiting is what is bounded),
# and at the end the table holds the offloadable conntrack entries, entry by
# entry, but for the ones counted waiting. (On an ASan build RSS is
# reported, not judged: the sanitizer's quarantine alone grows it.)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/gateway.sh"
. "$here/lib.sh"
xf_hard_init
tool=$(xf_gw_tool)
SECONDS_TOTAL=${XF_SOAK_SECONDS:-45}
BATCH=2000

xf_gw_create soak
xf_gw_attach --max-flows 20000
pid=$XF_XDPFLOW_PID
xf_server python3 "$tool" udp-echo --port 7002 --idle $((SECONDS_TOTAL + 60)) >/dev/null 2>&1 &

cycle=0 max_offloaded=0 rss_warm=0 rss_max=0 udp_ok=0 udp_runs=0
end=$(($(date +%s) + SECONDS_TOTAL))
while [ "$(date +%s)" -lt "$end" ] || [ $cycle -lt 4 ]; do
  # Batch c: destination port 1000 + c % 25, so one filtered delete (a single
  # dump pass) closes it; the batch of two cycles ago is closed now.
  file="$XF_GW_DIR/batch$cycle"
  xf_ct_burst_file $BATCH $(((cycle % 25) * 60000)) "$file"
  xf_ct_load "$file"
  rm -f "$file" "$file.err"
  if [ $cycle -ge 2 ]; then
    for p in tcp udp; do
      xf_gw conntrack -D -p $p --dport $((1000 + (cycle - 2) % 25)) >/dev/null 2>&1 || true
    done
  fi
  # A real flow through the gateway, a new source port every cycle.
  if xf_client python3 "$tool" udp-client --to "$XF_SERVER_V4" --port 7002 \
    --sport $((43000 + cycle % 1000)) --count 20 --interval 0.02 >"$XF_GW_DIR/udp.json" 2>&1 &&
    [ "$(jq -r .received "$XF_GW_DIR/udp.json")" = 20 ]; then
    udp_ok=$((udp_ok + 1))
  fi
  udp_runs=$((udp_runs + 1))
  sleep 0.5
  # Offloaded or waiting: the injected batches carry no packets, so they
  # wait (never observed); both kinds of record must go with their
  # connections.
  offloaded=$(xf_stat .flows.offloaded) || xf_fail "stats failed in cycle $cycle"
  waiting=$(xf_xdpflow status --json | jq -er '[.control_plane.observer.waiting[]] | add') ||
    xf_fail "status failed in cycle $cycle"
  offloaded=$((offloaded + waiting))
  rss=$(xf_rss_kb "$pid") || xf_fail "xdpflow died in cycle $cycle: $(tail -5 "$XF_GW_DIR/attach.log")"
  [ "$offloaded" -gt "$max_offloaded" ] && max_offloaded=$offloaded
  [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  [ $cycle = 3 ] && rss_warm=$rss
  echo "cycle $cycle: offloaded $offloaded, rss ${rss} KiB" >>"$XF_GW_DIR/soak.log"
  cycle=$((cycle + 1))
done
xf_wait_for 60 xf_table_matches_conntrack ||
  xf_fail "after the soak, table != offloadable conntrack: $(cat "$XF_GW_DIR/cmp")"
rss_end=$(xf_rss_kb "$pid")
tail -3 "$XF_GW_DIR/soak.log"
[ "$udp_ok" = "$udp_runs" ] || xf_fail "only $udp_ok of $udp_runs real UDP flows echoed every datagram"
[ "$max_offloaded" -le $((3 * BATCH)) ] ||
  xf_fail "offloaded + waiting grew to $max_offloaded connections (at most three batches of $BATCH are open at a time)"
limit=$((rss_warm * 5 / 4 + 4096))
if ldd "$XDPFLOW_BIN" | grep -q libasan; then
  echo "note: ASan build (its quarantine grows RSS by design): RSS $rss_warm -> $rss_end KiB not judged"
else
  [ "$rss_end" -le "$limit" ] ||
    xf_fail "RSS grew from $rss_warm KiB (after warm-up) to $rss_end KiB over $cycle cycles (limit $limit)"
fi
echo "PASS: soak ${SECONDS_TOTAL} s, $cycle cycles ($((cycle * BATCH)) connections opened and closed): table at most $max_offloaded, RSS $rss_warm -> $rss_end KiB (max $rss_max), $(head -1 "$XF_GW_DIR/cmp")"
