# Shared by the invalidation tests that measure how long traffic takes to
# follow a change: xf_arrivals.py watches where frames arrive, the test
# marks the moment of the change. Source e2e.sh first.
XF_ARRIVALS="$XF_E2E_DIR/xf_arrivals.py"

# xf_follow_start NAME PORTS [--until REGEX]... -- LABEL=NS:IF...: starts
# the watcher (pid in XF_FOLLOW_PID), waits until it listens.
xf_follow_start() {
  local name=$1 ports=$2
  shift 2
  local args=()
  while [ "$1" != -- ]; do
    args+=("$1")
    shift
  done
  shift
  for spec in "$@"; do args+=(--iface "$spec"); done
  rm -f "$XF_GW_DIR/$name".{stop,ready,mark,arrivals}
  python3 "$XF_ARRIVALS" watch "${args[@]}" --ports "$ports" --out "$XF_GW_DIR/$name.arrivals" \
    --stop-file "$XF_GW_DIR/$name.stop" --ready "$XF_GW_DIR/$name.ready" \
    --mark "$XF_GW_DIR/$name.mark" 2>"$XF_GW_DIR/$name.watch.err" &
  XF_FOLLOW_PID=$!
  # It runs in the root namespace: the namespaces' cleanup would miss it.
  xf_on_exit "kill $XF_FOLLOW_PID"
  xf_wait_for 5 test -f "$XF_GW_DIR/$name.ready" ||
    xf_fail "arrival watcher did not start: $(cat "$XF_GW_DIR/$name.watch.err")"
}

# xf_follow_mark NAME: the moment of the change, taken just before it is
# made, into NAME.mark: CLOCK_REALTIME for the watcher, CLOCK_MONOTONIC
# (the control plane's clock) for xf_invalidation_ms.
xf_follow_mark() {
  python3 -c 'import time; print(time.time_ns(), time.monotonic_ns())' >"$XF_GW_DIR/$1.mark.tmp"
  mv "$XF_GW_DIR/$1.mark.tmp" "$XF_GW_DIR/$1.mark"
}

# xf_follow_stop NAME: stops the watcher (or waits for it, with --until).
xf_follow_stop() {
  touch "$XF_GW_DIR/$1.stop"
  wait "$XF_FOLLOW_PID" || xf_fail "arrival watcher failed: $(cat "$XF_GW_DIR/$1.watch.err")"
}
xf_follow_wait() {
  wait "$XF_FOLLOW_PID" || xf_fail "arrival watcher failed: $(cat "$XF_GW_DIR/$1.watch.err")"
}

# xf_follow_ms NAME REGEX: "MS OTHERS": ms from the mark to the first
# frame in a group (LABEL DST-MAC SRC>DST) matching REGEX (-1: none), and
# the frames in other groups after the mark.
xf_follow_ms() {
  python3 "$XF_ARRIVALS" follow "$XF_GW_DIR/$1.arrivals" --to "$2"
}

# xf_invalidation_ms NAME: ms from NAME's mark to the moment the control
# plane had taken the affected entries out of the table (its last
# invalidation, CLOCK_MONOTONIC, plus that sweep's duration), from `status
# --json` (published once a second: waits up to 3 s for an invalidation
# after the mark; -1 if none came).
xf_invalidation_ms() {
  local mono
  mono=$(cut -d' ' -f2 "$XF_GW_DIR/$1.mark")
  _xf_inval_since() {
    xf_xdpflow status --json | jq -e --argjson m "$mono" \
      '.control_plane.observer.last_invalidation_ns >= $m' >/dev/null
  }
  xf_wait_for 3 _xf_inval_since || { echo -1; return; }
  xf_xdpflow status --json | jq -er --argjson m "$mono" \
    '.control_plane.observer | ((.last_invalidation_ns + .last_invalidation_cost_us * 1000 - $m) / 1e6 | floor)'
}
