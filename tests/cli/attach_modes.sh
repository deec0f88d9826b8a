#!/usr/bin/env bash
# Attach in each forced mode on veth, the auto fallback lines with the
# kernel's reason, hw refused clearly, and no program left on any error path.
# XDP modes on purpose: every attach forces --hook xdp (auto would put these
# veths on TC); no traffic crosses, so the ends' offloads do not matter.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
xf_require_root
# XDP on purpose: the ends get GRO (veth takes XDP redirects only then).
XF_GW_TX_OFF=1 xf_gw_create
out=$XF_GW_DIR/out

# mode_of IFACE: the mode `status --json` reports for it.
mode_of() { xf_xdpflow status --json | jq -er --arg i "$1" '.interfaces[] | select(.name == $i) | .mode'; }

# Unprivileged: refused with the capabilities it needs, nothing attached.
xf_expect_rc 1 "$out" ip netns exec "$XF_NS_GW" setpriv --bounding-set=-all --inh-caps=-all \
  --reuid=65534 --regid=65534 --clear-groups -- "$XDPFLOW_BIN" attach lan0 wan0
# The per-netns lock under /run/xdpflow (root's) is the first thing it
# cannot do; with the capabilities but no root, the program load is
# (hardening.least_privilege).
xf_expect_line "$out" '^xdpflow: permission denied taking the per-netns lock /run/xdpflow/netns-[0-9]+\.lock; xdpflow attach needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON'
[ -z "$(xf_xdp_ids "$XF_NS_GW" lan0)" ] || xf_fail "program attached without privileges?"

# native and generic, forced: status and ip link agree on the mode.
for mode in native generic; do
  xf_gw_attach --hook xdp --mode "$mode"
  [ "$(mode_of lan0)" = "$mode" ] || xf_fail "lan0 not in $mode mode: $(mode_of lan0)"
  [ "$(mode_of wan0)" = "$mode" ] || xf_fail "wan0 not in $mode mode"
  want=$([ "$mode" = native ] && echo xdp || echo xdpgeneric)
  xf_gw ip link show dev lan0 | grep -q " $want " || xf_fail "ip link does not show $want on lan0"
  xf_expect_line "$XF_GW_DIR/attach.log" "^lan0: attached in $mode XDP \(program id [0-9]+\)$"
  xf_gw_detach
  [ -z "$(xf_xdp_ids "$XF_NS_GW" lan0)" ] || xf_fail "program left on lan0 after SIGTERM ($mode)"
  : >"$XF_GW_DIR/attach.log"
done

# auto on veth: hw skipped with the driver's reason, native taken.
xf_gw_attach --hook xdp --mode auto
xf_expect_line "$XF_GW_DIR/attach.log" \
  '^lan0: hardware offload unavailable \(the driver reports no hw-offload\), falling back to native XDP$'
xf_expect_line "$XF_GW_DIR/attach.log" '^wan0: attached in native XDP'
xf_gw_detach
: >"$XF_GW_DIR/attach.log"

# hw forced: the kernel refuses on veth; one clear line, exit 1, nothing left.
xf_expect_rc 1 "$out" xf_xdpflow attach lan0 wan0 --hook xdp --mode hw
xf_expect_line "$out" '^xdpflow: lan0: the kernel refused hardware offload: .+; try --mode auto or --mode generic$'
[ -z "$(xf_xdp_ids "$XF_NS_GW" lan0)" ] || xf_fail "program left on lan0 after hw refusal"

# Native refused by the kernel on wan0: veth refuses native XDP when the
# peer's MTU does not fit a page. auto falls back to generic naming the
# kernel's reason; forced native fails after lan0 was attached, and the error
# path must take lan0's program away again (RAII).
xf_server ip link set dev "$XF_SERVER_IF" mtu 9000
xf_gw_attach --hook xdp --mode auto
xf_expect_line "$XF_GW_DIR/attach.log" \
  "^wan0: native XDP refused by the kernel \\(Numerical result out of range \\(MTU too large for XDP on this driver; on veth, the peer's MTU\\)\\), falling back to generic XDP$"
[ "$(mode_of wan0)" = generic ] || xf_fail "wan0 should have fallen back to generic"
[ "$(mode_of lan0)" = native ] || xf_fail "lan0 should stay native"
xf_gw_detach
xf_expect_rc 1 "$out" xf_xdpflow attach lan0 wan0 --hook xdp --mode native
xf_expect_line "$out" '^xdpflow: wan0: the kernel refused native XDP: Numerical result out of range'
[ -z "$(xf_xdp_ids "$XF_NS_GW" lan0)" ] || xf_fail "lan0 kept a program after wan0 failed"
[ -z "$(xf_xdp_ids "$XF_NS_GW" wan0)" ] || xf_fail "wan0 kept a program after failing"
xf_server ip link set dev "$XF_SERVER_IF" mtu 1500

# An egress that cannot receive redirected frames (a veth whose peer has
# neither XDP nor GRO has no ndo-xmit): said so, not an XDP redirect target;
# flows towards it are forwarded by the TC program (core/hook_choice.h).
xf_server ethtool -K "$XF_SERVER_IF" gro off >/dev/null
xf_gw_attach --hook xdp
xf_expect_line "$XF_GW_DIR/attach.log" \
  '^wan0: the driver cannot receive XDP redirects \(no ndo-xmit\); flows leaving through wan0 are forwarded by the TC program$'
status=$(xf_xdpflow status --json)
[ "$(jq '.interfaces[] | select(.name == "wan0") | .redirect_target' <<<"$status")" = false ] ||
  xf_fail "wan0 without ndo-xmit reported as a redirect target"
[ "$(jq '.interfaces[] | select(.name == "lan0") | .redirect_target' <<<"$status")" = true ] ||
  xf_fail "lan0 should be a redirect target"
xf_gw_detach
xf_server ethtool -K "$XF_SERVER_IF" gro on >/dev/null
: >"$XF_GW_DIR/attach.log"

# A foreign XDP program on an interface: refused unless --replace.
xf_gw ip link set dev wan0 xdpgeneric obj "$XDPFLOW_BPF_OBJ" sec xdp 2>/dev/null ||
  xf_fail "could not attach a legacy program to wan0 with ip link"
xf_expect_rc 1 "$out" xf_xdpflow attach lan0 wan0 --hook xdp
xf_expect_line "$out" "^xdpflow: wan0 already has an XDP program attached \(program 'xdpflow' id [0-9]+, generic XDP\); an earlier xdpflow left it: remove it with 'xdpflow detach wan0', or attach with --replace$"
[ -z "$(xf_xdp_ids "$XF_NS_GW" lan0)" ] || xf_fail "lan0 got a program although attach refused"
xf_gw_attach --hook xdp --replace
xf_expect_line "$XF_GW_DIR/attach.log" '^wan0: --replace: detached program .xdpflow. id [0-9]+, generic XDP$'
[ "$(mode_of wan0)" = native ] || xf_fail "wan0 should be native after --replace"
xf_gw_detach
[ -z "$(xf_xdp_ids "$XF_NS_GW" wan0)" ] || xf_fail "wan0 kept a program after SIGTERM"
echo "PASS: forced modes, auto fallback lines, hw refusal, RAII on errors, --replace"
