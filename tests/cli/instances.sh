#!/usr/bin/env bash
# One xdpflow per network namespace: a second attach in the same netns is
# refused naming the first one's pid, while an instance in another netns runs
# side by side; each `ip netns exec` (own mount namespace, no pins) finds
# only its own namespace's instance. The lock is a root-only file under
# /run/xdpflow keyed by the namespace: an unprivileged user squatting what
# used to be the lock (the abstract socket @xdpflow), or trying to make or
# open the lock file, does not keep xdpflow from starting.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
xf_require_root
xf_gw_create
out=$XF_GW_DIR/out

# uid 65534 in the gateway's namespace: binds and listens on @xdpflow, and
# tries to create the lock directory and the lock file.
as_nobody() {
  ip netns exec "$XF_NS_GW" setpriv --reuid=65534 --regid=65534 --clear-groups \
    --bounding-set=-all --inh-caps=-all -- "$@"
}
lock=$(xf_lock_file "$XF_NS_GW")
as_nobody /usr/bin/python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0xdpflow")
s.listen(16)
for what, call in (("mkdir", lambda: os.mkdir("/run/xdpflow", 0o777)),
                   ("create", lambda: os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666))):
    try:
        call()
        print(what, "succeeded", flush=True)
    except FileExistsError:
        print(what, "exists", flush=True)
    except PermissionError:
        print(what, "denied", flush=True)
print("squatting", flush=True)
time.sleep(600)
' "$lock" >"$XF_GW_DIR/squat.log" 2>&1 &
squat_pid=$!
xf_on_exit "kill $squat_pid 2>/dev/null"
xf_wait_for 5 grep -q squatting "$XF_GW_DIR/squat.log" || { cat "$XF_GW_DIR/squat.log"; xf_fail "squatter did not start"; }
! grep -q succeeded "$XF_GW_DIR/squat.log" || { cat "$XF_GW_DIR/squat.log"; xf_fail "uid 65534 could create the lock"; }
xf_gw ss -xlH | grep -q '@xdpflow\b' || xf_fail "the squatter does not hold @xdpflow"

xf_gw_attach
xf_lock_held "$XF_NS_GW" || xf_fail "attach runs beside the squatter but holds no lock $lock"
[ "$(stat -c '%u %a' "$lock")" = "0 600" ] || xf_fail "lock file $lock is $(stat -c '%u %a' "$lock"), expected root's 0600"
[ "$(stat -c '%u' /run/xdpflow)" = 0 ] || xf_fail "/run/xdpflow is not root's"
# Nor can the squatter open it to take a shared lock on it.
xf_expect_rc 1 "$out" as_nobody /usr/bin/python3 -c 'import os, sys; os.open(sys.argv[1], os.O_RDONLY)' "$lock"
xf_expect_line "$out" 'PermissionError'
xf_expect_rc 1 "$out" xf_xdpflow attach lan0 wan0
xf_expect_line "$out" "^xdpflow: xdpflow is already running in this network namespace \(pid $XF_XDPFLOW_PID\); stop it first"
kill -0 "$XF_XDPFLOW_PID" || xf_fail "the refused attach disturbed the running one"

# A second namespace with its own veth pair and its own instance.
other="xfcli$$o"
ip netns add "$other"
xf_on_exit "ip netns pids $other | xargs -r kill -9; ip netns del $other"
ip -n "$other" link add xa type veth peer name xb
ip -n "$other" link set xa up
ip -n "$other" link set xb up
ip netns exec "$other" "$XDPFLOW_BIN" attach xa xb >"$XF_GW_DIR/other.log" 2>&1 &
other_pid=$!
xf_wait_for 10 ip netns exec "$other" "$XDPFLOW_BIN" stats --json ||
  { cat "$XF_GW_DIR/other.log"; xf_fail "second instance did not come up"; }

[ "$(xf_lock_file "$other")" != "$lock" ] || xf_fail "both namespaces map to the lock $lock"
xf_lock_held "$other" || xf_fail "the second namespace's instance holds no lock $(xf_lock_file "$other")"

# Each sees its own interfaces, program and control plane, nothing else.
gw_ifs=$(xf_xdpflow stats --json | jq -c '[.interfaces[].name] | sort')
other_ifs=$(ip netns exec "$other" "$XDPFLOW_BIN" stats --json | jq -c '[.interfaces[].name] | sort')
[ "$gw_ifs" = '["lan0","wan0"]' ] || xf_fail "gw instance shows $gw_ifs"
[ "$other_ifs" = '["xa","xb"]' ] || xf_fail "other instance shows $other_ifs"
gw_status=$(xf_xdpflow status --json)
other_status=$(ip netns exec "$other" "$XDPFLOW_BIN" status --json)
[ "$(jq .control_plane.pid <<<"$gw_status")" = "$XF_XDPFLOW_PID" ] || xf_fail "gw status pid"
[ "$(jq .control_plane.pid <<<"$other_status")" = "$other_pid" ] || xf_fail "other status pid"
[ "$(jq .program_id <<<"$gw_status")" != "$(jq .program_id <<<"$other_status")" ] ||
  xf_fail "both namespaces report the same program"

# Without privileges the read-only commands say what they need.
xf_expect_rc 1 "$out" ip netns exec "$XF_NS_GW" setpriv --bounding-set=-all --inh-caps=-all \
  --reuid=65534 --regid=65534 --clear-groups -- "$XDPFLOW_BIN" status
xf_expect_line "$out" 'permission denied; reading a running xdpflow needs CAP_SYS_ADMIN \(run as root\)$'

# A stuck control plane shows as stale in status; alive again once resumed.
kill -STOP "$XF_XDPFLOW_PID"
xf_on_exit "kill -CONT $XF_XDPFLOW_PID 2>/dev/null"
xf_wait_for 15 sh -c "[ \"\$(ip netns exec $XF_NS_GW $XDPFLOW_BIN status --json | jq .control_plane.alive)\" = false ]" ||
  xf_fail "status never reported the stopped control plane as not alive"
xf_xdpflow status >"$out"
xf_expect_line "$out" '\(STALE: control plane stuck or gone; offloaded flows are not maintained\)$'
kill -CONT "$XF_XDPFLOW_PID"
xf_wait_for 10 sh -c "[ \"\$(ip netns exec $XF_NS_GW $XDPFLOW_BIN status --json | jq .control_plane.alive)\" = true ]" ||
  xf_fail "status did not report the resumed control plane alive"

# Stopping one leaves the other running and attached.
kill -TERM "$other_pid"
wait "$other_pid" || xf_fail "second instance exited non-zero on SIGTERM"
xf_expect_rc 1 "$out" ip netns exec "$other" "$XDPFLOW_BIN" stats
xf_expect_line "$out" '^xdpflow: xdpflow is not running in this network namespace'
xf_expect_rc 0 "$out" xf_xdpflow stats --json
[ "$(jq -c '[.interfaces[].name] | sort' "$out")" = '["lan0","wan0"]' ] || xf_fail "gw instance lost"
echo "PASS: one instance per netns, side by side across namespaces; an unprivileged squatter of @xdpflow does not block attach and cannot make or open the lock"
