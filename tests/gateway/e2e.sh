# Shared set-up for the tests in tests/gateway/: sources the harness, checks
# root and the binary, and adds helpers for sinks, JSON results and the
# offload checks every test makes.
set -euo pipefail
XF_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$XF_E2E_DIR/../lib/common.sh"
. "$XF_E2E_DIR/../lib/gateway.sh"
XF_TOOL="$XF_E2E_DIR/xf_traffic.py"

xf_e2e_init() {
  xf_require_root
  [ -x "${XDPFLOW_BIN:-}" ] || xf_fail "set XDPFLOW_BIN to the xdpflow binary (ctest does)"
  for tool in nft conntrack jq python3 ethtool ping; do
    command -v "$tool" >/dev/null || xf_fail "$tool missing: run scripts/install-deps.sh"
  done
}

# xf_json FILE FIELD [LINE]: one field of the JSON object on line LINE
# (default last) of FILE.
xf_json() {
  local file=$1 field=$2 line=${3:-\$}
  sed -n "${line}p" "$file" | jq -er ".$field"
}

# xf_sink NS NAME MODE ARGS...: start a xf_traffic.py receiver in namespace NS
# in the background, output in $XF_GW_DIR/NAME.json, pid in XF_SINK_PID; waits
# until it listens.
xf_sink() {
  local ns=$1 name=$2
  shift 2
  rm -f "$XF_GW_DIR/$name.ready"
  ip netns exec "$ns" python3 "$XF_TOOL" "$@" --ready "$XF_GW_DIR/$name.ready" \
    >"$XF_GW_DIR/$name.json" 2>"$XF_GW_DIR/$name.err" &
  XF_SINK_PID=$!
  # 30 s: a python start on a machine busy compiling took more than 5.
  xf_wait_for 30 test -f "$XF_GW_DIR/$name.ready" || xf_fail "receiver $name did not start: $(cat "$XF_GW_DIR/$name.err")"
}

# xf_same_payload SENT RECEIVED: both JSON files report the same byte count
# and SHA-256.
xf_same_payload() {
  local sent=$1 recv=$2
  local sb rb ss rs
  sb=$(xf_json "$sent" bytes) && rb=$(xf_json "$recv" bytes) || xf_fail "no result in $sent/$recv"
  ss=$(xf_json "$sent" sha256) && rs=$(xf_json "$recv" sha256)
  [ "$sb" = "$rb" ] || xf_fail "sent $sb bytes, received $rb"
  [ "$ss" = "$rs" ] || xf_fail "payload corrupted: sha256 sent $ss, received $rs"
}

# Number of offloaded connections (both directions in the map, as
# `xdpflow flows --json` lists them) with the port as a source or destination
# port in either direction, before or after NAT; optionally only of one
# family (ipv4|ipv6).
xf_flows_with_port() {
  xf_xdpflow flows --json 2>/dev/null | jq -r --argjson p "$1" --arg fam "${2:-}" '
    [.flows[] | select(.original != null and .reply != null)
     | select($fam == "" or .family == $fam)
     | select([.. | objects | (.sport?, .dport?)] | index($p) != null)] | length' 2>/dev/null || echo 0
}
# obs_field PATH: a field of `status --json`'s control_plane.observer. The
# observer's counters appear with the control plane's first status
# publication (once a second): waited for up to 5 s (right after attach, a
# bare jq -e failed and set -e ended a test without a word).
obs_field() {
  local end=$(($(date +%s) + 5)) v
  until v=$(xf_xdpflow status --json 2>/dev/null | jq -er ".control_plane.observer.$1"); do
    [ "$(date +%s)" -ge "$end" ] && xf_fail "status --json has no control_plane.observer.$1"
    sleep 0.2
  done
  echo "$v"
}
xf_offloaded_port() { [ "$(xf_flows_with_port "$@")" -gt 0 ]; }
xf_not_offloaded_port() { [ "$(xf_flows_with_port "$@")" -eq 0 ]; }

# Fast-path and received packet totals from one `stats` read (two reads
# would race with the traffic): prints "FAST RX".
xf_fast_rx() { xf_xdpflow stats --json | jq -er '[.totals.fast_packets, .totals.rx_packets] | @tsv'; }

# Conntrack entries in gw matching the conntrack(8) filter arguments.
xf_ct() { ip netns exec "$XF_NS_GW" conntrack -L "$@" 2>/dev/null; }

# Percentage with one decimal: xf_pct PART WHOLE.
xf_pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "0.0"; else printf "%.1f", 100 * a / b }'; }
# xf_ge A B: A >= B for decimals.
xf_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
# xf_lt A B: A < B for decimals.
xf_lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

xf_result() { echo "RESULT $*"; }
