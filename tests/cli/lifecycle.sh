#!/usr/bin/env bash
# What stopping leaves behind: SIGTERM detaches (no program, no link, no
# lock, no pin); kill -9 leaves nothing attached either (the bpf_link dies
# with the process) and detach says so; a legacy-attached leftover is
# removed by detach, and so is a link someone pinned; detach refuses while
# an instance runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
xf_require_root
xf_gw_create
out=$XF_GW_DIR/out

lock_held() { xf_lock_held "$XF_NS_GW"; }
nothing_left() { # PROG_ID WHEN
  local ifc
  for ifc in lan0 wan0; do
    [ -z "$(xf_xdp_ids "$XF_NS_GW" "$ifc")" ] || xf_fail "$2: XDP program left on $ifc"
  done
  [ -z "$(xf_links_of_prog "$1")" ] || xf_fail "$2: bpf_link of program $1 left"
  ! lock_held || xf_fail "$2: the per-netns lock $(xf_lock_file "$XF_NS_GW") is still held"
}

# SIGTERM.
xf_gw_attach
prog=$(xf_xdpflow status --json | jq -er .program_id)
[ -n "$(xf_links_of_prog "$prog")" ] || xf_fail "attach did not use a bpf_link"
lock_held || xf_fail "running instance holds no per-netns lock"
xf_expect_rc 1 "$out" xf_xdpflow detach --all
xf_expect_line "$out" "^xdpflow: xdpflow is running in this network namespace \(pid $XF_XDPFLOW_PID\); stop it instead"
# A `stats --watch` running meanwhile notices the stop instead of showing
# frozen counters.
ip netns exec "$XF_NS_GW" "$XDPFLOW_BIN" stats --watch 0.2 >"$XF_GW_DIR/watch.log" 2>&1 &
watch_pid=$!
xf_wait_for 5 grep -q '^TIME' "$XF_GW_DIR/watch.log" || xf_fail "stats --watch printed no header"
kill -TERM "$XF_XDPFLOW_PID"
wait "$XF_XDPFLOW_PID" || xf_fail "attach exited non-zero on SIGTERM"
XF_XDPFLOW_PID=
xf_expect_line "$XF_GW_DIR/attach.log" '^xdpflow stopped: detached from lan0, wan0$'
nothing_left "$prog" "after SIGTERM"
rc=0
wait "$watch_pid" || rc=$?
[ "$rc" = 1 ] || xf_fail "stats --watch exited $rc after the instance stopped, expected 1"
xf_expect_line "$XF_GW_DIR/watch.log" 'xdpflow is not running in this network namespace'


# kill -9: the kernel drops the links with the process.
xf_gw_attach
prog=$(xf_xdpflow status --json | jq -er .program_id)
kill -9 "$XF_XDPFLOW_PID"
wait "$XF_XDPFLOW_PID" 2>/dev/null || true
XF_XDPFLOW_PID=
xf_wait_for 5 test -z "$(xf_links_of_prog "$prog")" || true
nothing_left "$prog" "after kill -9"
xf_expect_rc 0 "$out" xf_xdpflow detach --all
xf_expect_line "$out" '^nothing to detach: no xdpflow program is attached in this network namespace$'

# A leftover attached the legacy (netlink) way, as an old version or a
# hand-made `ip link set ... xdp obj` would leave it: attach refuses, detach
# removes it and names it.
xf_gw ip link set dev lan0 xdpdrv obj "$XDPFLOW_BPF_OBJ" sec xdp 2>/dev/null ||
  xf_fail "could not attach a legacy program with ip link"
legacy=$(xf_xdp_ids "$XF_NS_GW" lan0)
xf_expect_rc 1 "$out" xf_xdpflow attach lan0 wan0
xf_expect_line "$out" "remove it with 'xdpflow detach lan0'"
xf_expect_rc 0 "$out" xf_xdpflow detach lan0
xf_expect_line "$out" "^lan0: detached xdpflow \(program id $legacy, native XDP\)$"
[ -z "$(xf_xdp_ids "$XF_NS_GW" lan0)" ] || xf_fail "detach left the legacy program"

# A link someone pinned (bpftool link pin) outlives a kill -9 and keeps the
# program attached: detach finds the link by program and interface and
# detaches it (the XDP hook on purpose: its link is the one found through
# `ip link`). bpffs pins live in one mount namespace: one `ip netns exec`.
xf_gw sh -euc '
  mount -t bpf bpf /sys/fs/bpf
  "$0" attach lan0 wan0 --hook xdp >"$1/pinlink.log" 2>&1 &
  pid=$!
  for i in $(seq 100); do "$0" stats --json >/dev/null 2>&1 && break; sleep 0.1; done
  prog=$(ip -j link show dev lan0 | jq -r ".[0].xdp.prog.id")
  link=$(bpftool -j link show | jq -r --argjson p "$prog" "[.[] | select(.prog_id == \$p)][0].id")
  bpftool link pin id "$link" /sys/fs/bpf/xfcli-link
  kill -9 $pid
  wait $pid || true
  ip -j link show dev lan0 | jq -r ".[0].xdp.prog.id // empty" >"$1/pinlink.after-kill"
  "$0" attach lan0 wan0 >"$1/pinlink.reattach" 2>&1 || echo "rc=$?" >>"$1/pinlink.reattach"
  "$0" detach lan0 >"$1/pinlink.detach" 2>&1
  ip -j link show dev lan0 | jq -r ".[0].xdp.prog.id // empty" >"$1/pinlink.after-detach"
  rm /sys/fs/bpf/xfcli-link
' "$XDPFLOW_BIN" "$XF_GW_DIR"
[ -n "$(cat "$XF_GW_DIR/pinlink.after-kill")" ] || xf_fail "the pinned link did not keep the program attached"
xf_expect_line "$XF_GW_DIR/pinlink.reattach" "^xdpflow: lan0 already has an XDP program attached .*xdpflow detach lan0"
xf_expect_line "$XF_GW_DIR/pinlink.reattach" '^rc=1$'
xf_expect_line "$XF_GW_DIR/pinlink.detach" '^lan0: detached xdpflow \(program id [0-9]+, native XDP\), attached through a bpf_link$'
[ -z "$(cat "$XF_GW_DIR/pinlink.after-detach")" ] || xf_fail "detach left the pinned link's program on lan0"

# --pin: pins exist while running and go on SIGTERM. bpffs pins are only
# visible in the mount namespace that made them, so all of it runs in one
# `ip netns exec` shell.
xf_gw sh -euc '
  mount -t bpf bpf /sys/fs/bpf
  "$0" attach lan0 wan0 --pin /sys/fs/bpf/xfcli >"$1/pin.log" 2>&1 &
  pid=$!
  for i in $(seq 100); do [ -e /sys/fs/bpf/xfcli/xf_status ] && break; sleep 0.1; done
  ls /sys/fs/bpf/xfcli | tr "\n" " " >"$1/pins.running"
  kill -TERM $pid; wait $pid
  ls /sys/fs/bpf/xfcli | tr "\n" " " >"$1/pins.stopped"
' "$XDPFLOW_BIN" "$XF_GW_DIR"
[ "$(cat "$XF_GW_DIR/pins.running")" = "xf_counters xf_devmap xf_flows4 xf_flows6 xf_status " ] ||
  xf_fail "pins while running: '$(cat "$XF_GW_DIR/pins.running")'"
[ -z "$(cat "$XF_GW_DIR/pins.stopped")" ] || xf_fail "pins left after SIGTERM: $(cat "$XF_GW_DIR/pins.stopped")"
echo "PASS: SIGTERM and kill -9 leave no program, link, lock or pin; detach removes leftovers"
