# Namespace gateway harness for end-to-end tests (DESIGN.md "Tests, in
# layers", item 3). Source tests/lib/common.sh first, then this file.
#
#   client (LAN host) ── lan0 [ gw ] wan0 ── server (WAN host)
#                                   wan1 ── (optional second WAN path)
#
# Topology and addresses (exported after xf_gw_create):
#   XF_NS_CLIENT, XF_NS_GW, XF_NS_SERVER   namespace names
#   XF_GW_LAN=lan0, XF_GW_WAN=wan0, XF_GW_WAN2=wan1 (gw side interfaces)
#   XF_CLIENT_IF=eth0 (client), XF_SERVER_IF=eth0, XF_SERVER_IF2=eth1 (server)
#   LAN 198.18.0.0/24, 2001:2:0:1::/64:  XF_GW_LAN_V4=198.18.0.1  XF_CLIENT_V4=198.18.0.2
#                                        XF_GW_LAN_V6=2001:2:0:1::1  XF_CLIENT_V6=2001:2:0:1::2
#   WAN 198.19.0.0/24, 2001:2:0:2::/64:  XF_GW_WAN_V4=198.19.0.1  XF_SERVER_V4=198.19.0.2
#                                        XF_GW_WAN_V6=2001:2:0:2::1  XF_SERVER_V6=2001:2:0:2::2
#   WAN2 198.19.1.0/24, 2001:2:0:3::/64 (xf_gw_add_wan2): gw .1/::1, server .2/::2
#   XF_PORT_FORWARD=8080: TCP and UDP to the gw WAN address port 8080 (v4 and
#   v6) are DNATed to the client (LAN host) port 8080, so a port-forwarded
#   connection goes server -> gw -> client and crosses the gateway.
#
# Ruleset on gw (table inet xfgw): forward policy drop; ct state
# established,related accept; ct state invalid drop; new from LAN accept;
# ct status dnat accept (port forwards); everything else from the WAN dropped
# (counted by the rule "wan-drop"). Masquerade out of wan0/wan1, v4 and v6.
# The server routes the LAN prefixes to the gw, so a test can try a direct
# (forbidden) connection from the WAN.
#
# The client and server ends keep veth's default offloads (tx checksum
# offload on: they hand the gw CHECKSUM_PARTIAL frames, as containers and VMs
# do), so xdpflow's `--hook auto` runs the TC hook on the gw's veths. A test
# that exercises the XDP hook on purpose sets XF_GW_TX_OFF=1 (and attaches
# with --hook xdp): the ends then send complete checksums, as a real NIC's
# frames are (XDP sees raw bytes: a CHECKSUM_PARTIAL frame forwarded by XDP
# arrives corrupt), and get GRO on, which enables veth NAPI so they accept
# XDP_REDIRECTed frames. The gw ends have GRO on, as a real gateway's NICs
# would (kernel-path baseline).
# The gw has rp_filter off (for xf_gw_route_via_wan2). Set before
# xf_gw_create:
#   XF_NS_PREFIX    namespace name prefix (default xfgw; use your own)
#   XF_GW_TX_OFF=1  tx checksum offload off and GRO on at the client/server
#                   ends: only for tests of the XDP hook (see above)
#   XF_GW_PEER_XDP  path of a pass-only XDP object: attach it (section "xdp")
#                   to the client/server ends (XDP-hook tests: instead of
#                   relying on GRO)
#   XF_GW_GRO=0     GRO off on the gw ends, TSO/GSO off on client/server
#                   (one frame per segment end to end: differential tests)
#
# Functions:
#   xf_gw_create [suffix]   build everything; registers xf_gw_destroy on exit
#   xf_gw_destroy           delete the namespaces (idempotent)
#   xf_gw_add_wan2          second gw<->server link (wan1 <-> eth1), masquerade too
#   xf_gw_route_via_wan2 / xf_gw_route_via_wan1
#                           move gw's route to the server (and the server's
#                           route back to the gw WAN address) to the other path.
#                           Note: the kernel kills a masqueraded connection
#                           whose output interface changes, so a flow meant
#                           to survive this must be a port-forwarded one.
#   xf_client/xf_gw/xf_server CMD...   run CMD in that namespace
#   xf_gw_nft CMD...        nft in gw
#   xf_gw_nstat NAME        absolute value of one nstat counter in gw
#                           (IpForwDatagrams, Ip6OutForwDatagrams, ...)
#   xf_gw_forwarded         IpForwDatagrams + Ip6OutForwDatagrams in gw
#   xf_gw_attach [ARGS...]  start `$XDPFLOW_BIN attach lan0 wan0 [wan1] ARGS`
#                           (or the interfaces in XF_GW_ATTACH_IFACES)
#                           in gw in the background (log: $XF_GW_DIR/attach.log,
#                           pid: XF_XDPFLOW_PID); waits until `stats` answers
#   xf_gw_detach            SIGTERM the attach process and wait for it
#   xf_xdpflow ARGS...      run $XDPFLOW_BIN ARGS in gw
#   xf_stat PATH            one field of `xdpflow stats --json` via jq, e.g.
#                           xf_stat .totals.fast_packets
#   xf_wait_for SECS CMD... poll CMD every 0.1 s until it succeeds or SECS
#                           (may be fractional) pass; returns 1 on timeout
#   xf_gw_offloaded_count   `xdpflow flows --json` connection count (0 on error)
#   xf_gw_tool              path of tests/gateway/xf_traffic.py (TCP/UDP
#                           source and sink with SHA-256 of the payload and the
#                           longest gap between received chunks; --help)
#   XF_GW_DIR               a per-run temp directory (removed on exit)

XF_GW_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
XF_GW_TOOL="$XF_GW_LIB_DIR/../gateway/xf_traffic.py"
XF_PORT_FORWARD=8080

xf_gw_tool() { echo "$XF_GW_TOOL"; }
xf_client() { ip netns exec "$XF_NS_CLIENT" "$@"; }
xf_gw() { ip netns exec "$XF_NS_GW" "$@"; }
xf_server() { ip netns exec "$XF_NS_SERVER" "$@"; }
xf_gw_nft() { ip netns exec "$XF_NS_GW" nft "$@"; }

xf_wait_for() {
  local secs=$1
  shift
  local end
  end=$(($(date +%s%N) + $(awk -v s="$secs" 'BEGIN { printf "%.0f", s * 1e9 }')))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -ge "$end" ] && return 1
    sleep 0.1
  done
}

_xf_gw_sysctls() {
  local ns=$1 forward=$2
  ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward="$forward" net.ipv6.conf.all.forwarding="$forward"
  ip netns exec "$ns" ip link set lo up
}

# _xf_gw_link GW_IF PEER_NS PEER_IF V4_NET(a.b.c) V6_NET(xxxx:...:) ; gw gets
# .1/::1, the peer .2/::2.
_xf_gw_link() {
  local gwif=$1 pns=$2 pif=$3 v4=$4 v6=$5
  ip -n "$XF_NS_GW" link add "$gwif" type veth peer name "$pif" netns "$pns"
  ip -n "$XF_NS_GW" addr add "$v4.1/24" dev "$gwif"
  ip -n "$XF_NS_GW" addr add "${v6}1/64" dev "$gwif" nodad
  ip -n "$pns" addr add "$v4.2/24" dev "$pif"
  ip -n "$pns" addr add "${v6}2/64" dev "$pif" nodad
  ip -n "$XF_NS_GW" link set "$gwif" up
  ip -n "$pns" link set "$pif" up
  _xf_gw_peer_rx "$pns" "$pif"
  if [ "${XF_GW_GRO:-1}" = 0 ]; then
    ip netns exec "$XF_NS_GW" ethtool -K "$gwif" gro off >/dev/null 2>&1 || true
  else
    ip netns exec "$XF_NS_GW" ethtool -K "$gwif" gro on >/dev/null
  fi
}

# The client/server ends' offloads: defaults, unless the test exercises the
# XDP hook (XF_GW_TX_OFF=1) or needs one frame per segment (XF_GW_GRO=0).
_xf_gw_peer_rx() {
  local ns=$1 ifc=$2
  if [ -n "${XF_GW_PEER_XDP:-}" ]; then
    # veth needs NAPI on the receiving side to accept XDP_REDIRECTed frames:
    # an XDP program (or GRO, below) enables it.
    ip -n "$ns" link set dev "$ifc" xdpdrv obj "$XF_GW_PEER_XDP" sec xdp ||
      xf_fail "cannot attach pass XDP program $XF_GW_PEER_XDP to $ns/$ifc"
  elif [ "${XF_GW_TX_OFF:-0}" = 1 ]; then
    ip netns exec "$ns" ethtool -K "$ifc" gro on >/dev/null ||
      xf_fail "ethtool -K $ifc gro on failed in $ns"
  fi
  if [ "${XF_GW_TX_OFF:-0}" = 1 ]; then
    # Full checksums in what the ends send, for the XDP hook: with tx
    # checksum offload a veth hands the gw CHECKSUM_PARTIAL skbs whose
    # TCP/UDP checksum field holds only the pseudo-header sum; the kernel
    # path and the TC hook keep that state in the skb, but XDP sees raw
    # bytes, so an XDP-forwarded frame would arrive with a bad checksum.
    ip netns exec "$ns" ethtool -K "$ifc" tx off >/dev/null ||
      xf_fail "ethtool -K $ifc tx off failed in $ns"
  fi
  if [ "${XF_GW_GRO:-1}" = 0 ]; then
    ip netns exec "$ns" ethtool -K "$ifc" tso off gso off >/dev/null 2>&1 || true
  fi
}

_xf_gw_ruleset() {
  cat <<EOF
table inet xfgw {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname { "$XF_GW_WAN", "$XF_GW_WAN2" } ip daddr $XF_GW_WAN_V4 meta l4proto { tcp, udp } th dport $XF_PORT_FORWARD dnat ip to $XF_CLIENT_V4 comment "port-forward"
    iifname { "$XF_GW_WAN", "$XF_GW_WAN2" } ip6 daddr $XF_GW_WAN_V6 meta l4proto { tcp, udp } th dport $XF_PORT_FORWARD dnat ip6 to $XF_CLIENT_V6 comment "port-forward6"
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct state invalid counter drop comment "invalid"
    iifname "$XF_GW_LAN" accept comment "new-from-lan"
    ct status dnat accept comment "port-forwards"
    counter drop comment "wan-drop"
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname { "$XF_GW_WAN", "$XF_GW_WAN2" } masquerade
  }
}
EOF
}

xf_gw_create() {
  local suffix=${1:-}
  local base="${XF_NS_PREFIX:-xfgw}$$${suffix}"
  export XF_NS_CLIENT="${base}c" XF_NS_GW="${base}g" XF_NS_SERVER="${base}s"
  export XF_GW_LAN=lan0 XF_GW_WAN=wan0 XF_GW_WAN2=wan1
  export XF_CLIENT_IF=eth0 XF_SERVER_IF=eth0 XF_SERVER_IF2=eth1
  export XF_GW_LAN_V4=198.18.0.1 XF_CLIENT_V4=198.18.0.2
  export XF_GW_LAN_V6=2001:2:0:1::1 XF_CLIENT_V6=2001:2:0:1::2
  export XF_GW_WAN_V4=198.19.0.1 XF_SERVER_V4=198.19.0.2
  export XF_GW_WAN_V6=2001:2:0:2::1 XF_SERVER_V6=2001:2:0:2::2
  export XF_GW_WAN2_V4=198.19.1.1 XF_SERVER2_V4=198.19.1.2
  export XF_GW_WAN2_V6=2001:2:0:3::1 XF_SERVER2_V6=2001:2:0:3::2
  export XF_PORT_FORWARD
  # A test whose output pipe is gone (e.g. `| tail` killed) must still clean
  # up: without this, SIGPIPE on the first write kills the cleanup.
  trap '' PIPE
  XF_GW_DIR=$(mktemp -d "/tmp/${base}.XXXXXX")
  export XF_GW_DIR
  xf_on_exit "rm -rf '$XF_GW_DIR'"
  xf_on_exit xf_gw_destroy

  local ns
  for ns in "$XF_NS_CLIENT" "$XF_NS_GW" "$XF_NS_SERVER"; do
    ip netns add "$ns" || xf_fail "ip netns add $ns"
  done
  _xf_gw_sysctls "$XF_NS_CLIENT" 0
  _xf_gw_sysctls "$XF_NS_SERVER" 0
  _xf_gw_sysctls "$XF_NS_GW" 1

  _xf_gw_link "$XF_GW_LAN" "$XF_NS_CLIENT" "$XF_CLIENT_IF" 198.18.0 2001:2:0:1::
  _xf_gw_link "$XF_GW_WAN" "$XF_NS_SERVER" "$XF_SERVER_IF" 198.19.0 2001:2:0:2::
  ip -n "$XF_NS_CLIENT" route add default via "$XF_GW_LAN_V4"
  ip -n "$XF_NS_CLIENT" -6 route add default via "$XF_GW_LAN_V6"
  # The WAN side knows the LAN prefixes are behind the gw (as an ISP would),
  # so direct connections from the WAN reach the gw and meet its firewall.
  ip -n "$XF_NS_SERVER" route add 198.18.0.0/24 via "$XF_GW_WAN_V4"
  ip -n "$XF_NS_SERVER" -6 route add 2001:2:0:1::/64 via "$XF_GW_WAN_V6"

  _xf_gw_ruleset | ip netns exec "$XF_NS_GW" nft -f - || xf_fail "loading the gateway ruleset"
  _xf_gw_resolve_neighbours "$XF_NS_CLIENT" "$XF_GW_LAN_V4" "$XF_GW_LAN_V6"
  _xf_gw_resolve_neighbours "$XF_NS_SERVER" "$XF_GW_WAN_V4" "$XF_GW_WAN_V6"
}

# Pinging the gw from each end resolves the neighbours in both directions
# (the gw learns the requester's MAC), so the first connection is not delayed.
_xf_gw_resolve_neighbours() {
  local ns=$1 v4=$2 v6=$3
  ip netns exec "$ns" ping -q -c1 -W2 "$v4" >/dev/null || xf_fail "ping $v4 from $ns"
  ip netns exec "$ns" ping -q -6 -c1 -W2 "$v6" >/dev/null || xf_fail "ping $v6 from $ns"
}

xf_gw_add_wan2() {
  _xf_gw_link "$XF_GW_WAN2" "$XF_NS_SERVER" "$XF_SERVER_IF2" 198.19.1 2001:2:0:3::
  _xf_gw_resolve_neighbours "$XF_NS_SERVER" "$XF_GW_WAN2_V4" "$XF_GW_WAN2_V6"
}

# The server's main addresses stay on eth0; /32 and /128 routes move the
# path both ways (the gw's way to the server, the server's way back to the
# gw's WAN address, which is the masquerade source).
xf_gw_route_via_wan2() {
  ip -n "$XF_NS_GW" route replace "$XF_SERVER_V4/32" via "$XF_SERVER2_V4" dev "$XF_GW_WAN2"
  ip -n "$XF_NS_GW" -6 route replace "$XF_SERVER_V6/128" via "$XF_SERVER2_V6" dev "$XF_GW_WAN2"
  ip -n "$XF_NS_SERVER" route replace "$XF_GW_WAN_V4/32" via "$XF_GW_WAN2_V4" dev "$XF_SERVER_IF2"
  ip -n "$XF_NS_SERVER" -6 route replace "$XF_GW_WAN_V6/128" via "$XF_GW_WAN2_V6" dev "$XF_SERVER_IF2"
}
xf_gw_route_via_wan1() {
  ip -n "$XF_NS_GW" route del "$XF_SERVER_V4/32" 2>/dev/null || true
  ip -n "$XF_NS_GW" -6 route del "$XF_SERVER_V6/128" 2>/dev/null || true
  ip -n "$XF_NS_SERVER" route del "$XF_GW_WAN_V4/32" 2>/dev/null || true
  ip -n "$XF_NS_SERVER" -6 route del "$XF_GW_WAN_V6/128" 2>/dev/null || true
}

xf_gw_destroy() {
  [ -n "${XF_XDPFLOW_PID:-}" ] && xf_gw_detach
  local ns
  for ns in "${XF_NS_CLIENT:-}" "${XF_NS_GW:-}" "${XF_NS_SERVER:-}"; do
    [ -n "$ns" ] || continue
    # Kill whatever a test left running in the namespace, then delete it.
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null) || true
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null || true
  done
}

xf_gw_nstat() {
  ip netns exec "$XF_NS_GW" nstat -asz "$1" 2>/dev/null | awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}
xf_gw_forwarded() {
  echo $(($(xf_gw_nstat IpForwDatagrams) + $(xf_gw_nstat Ip6OutForwDatagrams)))
}

xf_xdpflow() {
  [ -x "${XDPFLOW_BIN:-}" ] || xf_fail "XDPFLOW_BIN is not set to the xdpflow binary"
  ip netns exec "$XF_NS_GW" "$XDPFLOW_BIN" "$@"
}

xf_stat() {
  xf_xdpflow stats --json | jq -er "$1"
}

xf_gw_offloaded_count() {
  local out
  out=$(xf_xdpflow flows --json 2>/dev/null) || { echo 0; return; }
  echo "$out" | jq -r '.flows | length' 2>/dev/null || echo 0
}

xf_gw_attach() {
  [ -x "${XDPFLOW_BIN:-}" ] || xf_fail "XDPFLOW_BIN is not set to the xdpflow binary"
  local ifaces=("$XF_GW_LAN" "$XF_GW_WAN")
  ip -n "$XF_NS_GW" link show "$XF_GW_WAN2" >/dev/null 2>&1 && ifaces+=("$XF_GW_WAN2")
  # A topology of its own (bridge ports...): XF_GW_ATTACH_IFACES="a b c".
  [ -n "${XF_GW_ATTACH_IFACES:-}" ] && read -r -a ifaces <<<"$XF_GW_ATTACH_IFACES"
  ip netns exec "$XF_NS_GW" "$XDPFLOW_BIN" attach "${ifaces[@]}" "$@" \
    >>"$XF_GW_DIR/attach.log" 2>&1 &
  XF_XDPFLOW_PID=$!
  export XF_XDPFLOW_PID
  if ! xf_wait_for 10 xf_xdpflow stats --json; then
    cat "$XF_GW_DIR/attach.log" >&2
    xf_fail "xdpflow attach ${ifaces[*]} did not come up within 10 s"
  fi
}

xf_gw_detach() {
  local pid=${XF_XDPFLOW_PID:-}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  XF_XDPFLOW_PID=
}
