#!/usr/bin/env bash
# Event storm: $XF_STORM_FLOWS (default 100000) conntrack entries created in
# one burst (`conntrack -R`: an -I per line) on a gateway whose xdpflow has a
# deliberately tiny conntrack receive buffer (hidden --ct-rcvbuf). The kernel
# must drop events (ENOBUFS), the control plane must say so, grow the buffer
# and resync from a dump, and end up knowing every offloadable connection:
# the table holds them entry by entry but for those counted waiting (the
# entries carry no packets, so none is observed and all wait), as many as
# are missing (ct_vs_flows.py). Then a flush (a DESTROY storm): the table
# empties and nothing waits.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/gateway.sh"
. "$here/lib.sh"
xf_hard_init
N=${XF_STORM_FLOWS:-100000}

xf_gw_create storm
xf_gw_attach --max-flows $((N + 1000)) --ct-rcvbuf 16384

xf_ct_burst_file "$N" 0 "$XF_GW_DIR/burst"
t0=$(date +%s%N)
xf_ct_load "$XF_GW_DIR/burst"
burst_ms=$((($(date +%s%N) - t0) / 1000000))
created=$(xf_gw conntrack -C)
xf_log "created $created conntrack entries in $burst_ms ms"
[ "$created" -ge "$N" ] || xf_fail "only $created of $N entries created"

want=$(xf_ct_offloadable_count)
xf_log "$want offloadable; waiting for the table to match"
xf_wait_for 180 xf_table_matches_conntrack ||
  xf_fail "table + waiting != offloadable conntrack after 180 s: $(cat "$XF_GW_DIR/cmp")"
converge_ms=$((($(date +%s%N) - t0) / 1000000))
xf_log "matched: $(head -1 "$XF_GW_DIR/cmp") ($converge_ms ms after the burst began)"

overruns=$(grep -c "events lost" "$XF_GW_DIR/attach.log" || true)
[ "$overruns" -gt 0 ] ||
  xf_fail "no overrun reported: the storm did not overflow the buffer (log: $(tail -5 "$XF_GW_DIR/attach.log"))"
xf_log "overruns reported: $overruns; last: $(grep "events lost" "$XF_GW_DIR/attach.log" | tail -1)"

# Second storm, the other way: flush conntrack, a DESTROY event per entry.
xf_gw conntrack -F >/dev/null 2>&1 || xf_fail "conntrack -F"
xf_wait_for 180 xf_table_matches_conntrack ||
  xf_fail "after a flush, table != conntrack: $(cat "$XF_GW_DIR/cmp")"
[ "$(xf_stat .flows.offloaded)" = 0 ] || xf_fail "stats still counts offloaded flows after the flush"
xf_log "after conntrack -F: $(head -1 "$XF_GW_DIR/cmp")"
kill -0 "$XF_XDPFLOW_PID" || xf_fail "xdpflow died during the storm: $(tail -5 "$XF_GW_DIR/attach.log")"
echo "PASS: storm of $N entries: $overruns overrun(s) with resync; every offloadable connection ($want) in the table or counted waiting ($(tail -1 "$XF_GW_DIR/cmp" 2>/dev/null)), none after a flush; burst $burst_ms ms, table matched $converge_ms ms after it began"
