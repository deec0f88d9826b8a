#!/usr/bin/env bash
# What users type to attach (core/attach_plan.h) on a real bridge: br-lan
# over lan0 and a second port lanx. A bridge name hooks its ports and never
# the bridge; a port and its bridge both named, or a name typed twice, are
# attached once; one side only gets a warning; an upper device with an XDP
# program gives the kernel's own reason; unknown names and portless bridges
# are one line, exit 2; no error path leaves a program attached. No traffic
# crosses, so the ends' offloads do not matter.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
xf_require_root
xf_gw_create
out=$XF_GW_DIR/out
xf_gw ip addr flush dev lan0
xf_gw ip link add br-lan type bridge
xf_gw ip link set lan0 master br-lan
xf_gw ip link add lanx type veth peer name lanx-end
xf_gw ip link set lanx master br-lan
xf_gw ip link set lanx up
xf_gw ip link set lanx-end up
xf_gw ip link set br-lan up

# Interfaces `status --json` lists as attached, sorted, one line.
attached() { xf_xdpflow status --json | jq -r '[.interfaces[].name] | sort | join(" ")'; }
# Nothing of xdpflow's left in the gateway: no XDP program anywhere, no
# instance found by status.
nothing_attached() {
  local dev
  for dev in lan0 lanx br-lan wan0; do
    [ -z "$(xf_xdp_ids "$XF_NS_GW" "$dev")" ] || xf_fail "an XDP program is left on $dev"
  done
  ! xf_xdpflow status >/dev/null 2>&1 || xf_fail "status still finds an instance"
}

# attach br-lan wan0: the ports, never the bridge; status shows the bridge.
XF_GW_ATTACH_IFACES="br-lan wan0" xf_gw_attach
xf_expect_line "$XF_GW_DIR/attach.log" '^lan0: port of br-lan$'
xf_expect_line "$XF_GW_DIR/attach.log" '^lanx: port of br-lan$'
[ "$(attached)" = "lan0 lanx wan0" ] || xf_fail "attached: '$(attached)', want lan0 lanx wan0"
[ -z "$(xf_xdp_ids "$XF_NS_GW" br-lan)" ] || xf_fail "a program is attached to br-lan itself"
xf_xdpflow status >"$out"
xf_expect_line "$out" '^  br-lan: lan0, lanx$'
if grep -q '^warning:' "$XF_GW_DIR/attach.log"; then
  cat "$XF_GW_DIR/attach.log" >&2
  xf_fail "a warning for a gateway with both sides attached"
fi
xf_gw_detach
nothing_attached
: >"$XF_GW_DIR/attach.log"

# A port and its bridge both named, and a name twice: accepted, once each.
XF_GW_ATTACH_IFACES="br-lan lan0 wan0 wan0" xf_gw_attach
xf_expect_line "$XF_GW_DIR/attach.log" '^note: lan0 is already covered as port of br-lan: attached once$'
xf_expect_line "$XF_GW_DIR/attach.log" '^note: wan0 is named twice: attached once$'
[ "$(attached)" = "lan0 lanx wan0" ] || xf_fail "attached: '$(attached)', want lan0 lanx wan0"
xf_gw_detach
nothing_attached
: >"$XF_GW_DIR/attach.log"

# One side only: a warning that nothing can be offloaded, still runs.
for typed in "wan0" "br-lan" "lan0 lanx"; do
  XF_GW_ATTACH_IFACES="$typed" xf_gw_attach
  xf_expect_line "$XF_GW_DIR/attach.log" \
    '^warning: only one side of the gateway is attached \(.+\): .*nothing can be offloaded; name the LAN and the WAN side'
  xf_gw_detach
  : >"$XF_GW_DIR/attach.log"
done
nothing_attached

# Unknown name, bridge without ports: one line, exit 2, nothing attached.
xf_expect_rc 2 "$out" xf_xdpflow attach br-lan wan9
xf_expect_line "$out" "^xdpflow: interface 'wan9' does not exist in this network namespace"
[ "$(wc -l <"$out")" = 1 ] || xf_fail "more than one line: $(cat "$out")"
xf_gw ip link add br-empty type bridge
xf_expect_rc 2 "$out" xf_xdpflow attach br-empty
xf_expect_line "$out" '^xdpflow: nothing to attach: br-empty has no device to hook'
nothing_attached

# An upper device with an XDP program: the kernel refuses a program on its
# ports, and the message carries the kernel's own reason.
xf_gw ip link set dev br-lan xdpgeneric obj "$XDPFLOW_BPF_OBJ" sec xdp 2>/dev/null ||
  xf_fail "could not put a program on br-lan"
upper_id=$(xf_xdp_ids "$XF_NS_GW" br-lan)
xf_expect_rc 1 "$out" xf_xdpflow attach --hook xdp br-lan wan0
xf_expect_line "$out" "^xdpflow: (lan0|lanx): the kernel refuses XDP here: \"Cannot attach when an upper device already has a program\" \(br-lan has XDP program id $upper_id\); remove it \(ip link set dev br-lan xdp off\) or attach with --hook tc$"
for dev in lan0 lanx wan0; do
  [ -z "$(xf_xdp_ids "$XF_NS_GW" "$dev")" ] || xf_fail "a program is left on $dev after the refusal"
done
[ "$(xf_xdp_ids "$XF_NS_GW" br-lan)" = "$upper_id" ] || xf_fail "br-lan's own program was touched"
xf_gw ip link set dev br-lan xdpgeneric off
nothing_attached
xf_log "PASS"
