# shellcheck shell=bash
# Shared by the hardening fault tests: a namespace gateway (tests/lib/gateway.sh)
# with conntrack entries made in bulk, and the "table == offloadable
# conntrack" check. Source after tests/lib/common.sh and tests/lib/gateway.sh.
XF_HARD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export XF_NS_PREFIX=xfh

xf_hard_init() {
  xf_require_root
  [ -x "${XDPFLOW_BIN:-}" ] || xf_fail "XDPFLOW_BIN is not set to the xdpflow binary"
  for tool in nft conntrack jq python3 ethtool ping; do
    command -v "$tool" >/dev/null || xf_fail "$tool missing: run scripts/install-deps.sh"
  done
}

# xf_ct_burst_file N FIRST FILE [TIMEOUT]: `conntrack -R` input creating N entries
# client -> server with source ports from FIRST: every 10th TCP ESTABLISHED,
# every 7th UDP not yet assured (stays on the kernel path), half of the rest
# masqueraded (reply to the gw's WAN address), the others routed.
xf_ct_burst_file() {
  awk -v n="$1" -v first="$2" -v t="${4:-1200}" -v c="$XF_CLIENT_V4" -v s="$XF_SERVER_V4" -v g="$XF_GW_WAN_V4" 'BEGIN {
    for (i = 0; i < n; i++) {
      k = first + i
      sport = 1024 + k % 60000; dport = 1000 + int(k / 60000)
      proto = (k % 10 == 0) ? "tcp" : "udp"
      status = (k % 7 == 0 && proto == "udp") ? "SEEN_REPLY" : "ASSURED,SEEN_REPLY"
      state = (proto == "tcp") ? " --state ESTABLISHED" : ""
      reply = (k % 2) ? sprintf(" -r %s -q %s --reply-port-src %d --reply-port-dst %d", s, g, dport, sport + 1) : ""
      printf "-I -p %s -s %s -d %s --sport %d --dport %d%s --timeout %d --status %s%s\n", \
        proto, c, s, sport, dport, reply, t, status, state
    }
  }' >"$3"
}

xf_ct_load() { # FILE: runs it through conntrack -R in gw
  xf_gw conntrack -R "$1" >/dev/null 2>"$1.err" || xf_fail "conntrack -R $1: $(tail -3 "$1.err")"
}

xf_ct_offloadable_count() { xf_gw conntrack -L 2>/dev/null | grep -c '\[ASSURED\]'; }

# Succeeds when the flow table holds the offloadable subset of conntrack,
# entry by entry, except the connections the control plane counts as waiting
# (`status`: not observed yet, and so on), as many as are missing; the
# comparison's summary is in $XF_GW_DIR/cmp. Entries injected without packets
# are never observed: they wait, counted, and leave with their conntrack
# entries.
xf_table_matches_conntrack() {
  local waiting
  xf_gw conntrack -L >"$XF_GW_DIR/ct" 2>/dev/null
  waiting=$(xf_xdpflow status --json 2>/dev/null |
    jq -er '[.control_plane.observer.waiting[]] | add') &&
    xf_xdpflow flows --json >"$XF_GW_DIR/flows.json" 2>/dev/null || {
    echo "xdpflow status or flows failed" >"$XF_GW_DIR/cmp"
    return 1
  }
  python3 "$XF_HARD_DIR/ct_vs_flows.py" "$XF_GW_DIR/ct" "$XF_GW_DIR/flows.json" "$waiting" \
    >"$XF_GW_DIR/cmp"
}

xf_xdp_attached_count() { xf_gw ip -j link show | jq '[.[] | select(.xdp != null)] | length'; }

# Resident set of a process in KiB.
xf_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
