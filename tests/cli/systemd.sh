#!/usr/bin/env bash
# The systemd unit: `systemd-analyze verify` finds nothing to say, and its
# ExecStart line runs in a namespace gateway under exactly the unit's
# capabilities (setpriv), tells systemd READY=1 over $NOTIFY_SOCKET once
# attached and synced, and stops cleanly on SIGTERM. Then the measurement
# behind CapabilityBoundingSet: without any one of those capabilities,
# attach fails with a line naming what it needs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
xf_require_root
command -v systemd-analyze >/dev/null || xf_fail "systemd-analyze missing (scripts/install-deps.sh installs systemd)"
unit_in=${XDPFLOW_SOURCE_DIR:?}/dist/xdpflow.service.in
xf_gw_create
out=$XF_GW_DIR/out

# The unit as installed, with ExecStart pointing at the binary under test.
unit=$XF_GW_DIR/xdpflow.service
sed "s|@CMAKE_INSTALL_FULL_SBINDIR@/xdpflow|$XDPFLOW_BIN|" "$unit_in" >"$unit"
systemd-analyze verify --man=no "$unit" >"$out" 2>&1 || { cat "$out"; xf_fail "systemd-analyze verify failed"; }
[ ! -s "$out" ] || { cat "$out" >&2; xf_fail "systemd-analyze verify complained"; }
grep -qx 'Type=notify' "$unit" || xf_fail "the unit is not Type=notify"

# Its capabilities, in setpriv's syntax: CAP_BPF CAP_NET_ADMIN -> +bpf,+net_admin
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
[ "$caps" = "$(sed -n 's/^AmbientCapabilities=//p' "$unit")" ] || xf_fail "bounding and ambient sets differ"
to_setpriv() { tr ' ' '\n' <<<"$1" | sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd, -; }
# ExecStart, with the config file replaced by the test's.
conf=$XF_GW_DIR/xdpflow.conf
printf 'interfaces = %s %s\nmax-flows = 4096\n' "$XF_GW_LAN" "$XF_GW_WAN" >"$conf"
read -r -a exec_start <<<"$(sed -n 's/^ExecStart=//p' "$unit" | sed "s|/etc/xdpflow.conf|$conf|")"

# run_with CAPS: ExecStart in the gw namespace with only CAPS; background.
run_with() {
  local set
  set=$(to_setpriv "$1")
  ip netns exec "$XF_NS_GW" setpriv --bounding-set="-all,$set" --inh-caps="-all,$set" \
    --ambient-caps="-all,$set" -- "${exec_start[@]}" >"$XF_GW_DIR/attach.log" 2>&1 &
  XF_XDPFLOW_PID=$!
}

# A notify socket like systemd's: records every datagram.
notify=$XF_GW_DIR/notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "a") as log:
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        log.write(msg.replace("\n", ";") + "\n")
        log.flush()
' "$notify" "$XF_GW_DIR/notify.log" &
xf_on_exit "kill $! 2>/dev/null"
xf_wait_for 5 test -S "$notify" || xf_fail "notify socket not created"

NOTIFY_SOCKET=$notify run_with "$caps"
xf_wait_for 15 grep -q 'READY=1' "$XF_GW_DIR/notify.log" || {
  cat "$XF_GW_DIR/attach.log" >&2
  xf_fail "no READY=1 from ExecStart under $caps"
}
xf_expect_line "$XF_GW_DIR/notify.log" "^READY=1;STATUS=offloading on $XF_GW_LAN, $XF_GW_WAN;MAINPID=[0-9]+$"
xf_expect_line "$XF_GW_DIR/attach.log" "^$XF_GW_WAN: tc hook: veth "
xf_expect_line "$XF_GW_DIR/attach.log" "^$XF_GW_WAN: TC program on the ingress: tcx$"
[ "$(xf_xdpflow status --json | jq .control_plane.alive)" = true ] || xf_fail "control plane not alive"
[ "$(xf_stat .flows.capacity)" = 4096 ] || xf_fail "config file not applied"
kill -TERM "$XF_XDPFLOW_PID"
wait "$XF_XDPFLOW_PID" || { cat "$XF_GW_DIR/attach.log" >&2; xf_fail "non-zero exit on SIGTERM"; }
XF_XDPFLOW_PID=
xf_expect_line "$XF_GW_DIR/notify.log" '^STOPPING=1;?$'
[ -z "$(xf_xdp_ids "$XF_NS_GW" "$XF_GW_LAN")" ] || xf_fail "program left after SIGTERM"
xf_log "ExecStart under '$caps': attached, READY=1, clean stop"

# Each capability is needed: drop one, attach fails clearly.
for drop in $caps; do
  fewer=$(tr ' ' '\n' <<<"$caps" | grep -vx "$drop" | paste -sd' ' -)
  run_with "$fewer"
  rc=0
  wait "$XF_XDPFLOW_PID" || rc=$?
  XF_XDPFLOW_PID=
  [ "$rc" = 1 ] || { cat "$XF_GW_DIR/attach.log" >&2; xf_fail "attach without $drop: exit $rc, expected 1"; }
  grep -Eq '^xdpflow: .*(CAP_|Operation not permitted)' "$XF_GW_DIR/attach.log" || {
    cat "$XF_GW_DIR/attach.log" >&2
    xf_fail "attach without $drop failed without saying why"
  }
  xf_log "without $drop: $(grep '^xdpflow:' "$XF_GW_DIR/attach.log")"
  [ -z "$(xf_xdp_ids "$XF_NS_GW" "$XF_GW_LAN")" ] || xf_fail "program left after failing without $drop"
done
echo "PASS: unit verified; ExecStart under its capabilities works; each capability is needed"
