#!/usr/bin/env bash
# A connection that began before xdpflow started. With nf_conntrack_events at
# its default (2: events only while someone listens), a conntrack entry
# created while nobody listens never reports an event, not even when it
# becomes ASSURED. A UDP flow whose first exchange passed before attach (so
# not assured yet when xdpflow's start-up dump reads it) must still be
# offloaded once conntrack assures it, as after any start; and attach sets
# the namespace's nf_conntrack_events to 1, so flows begun while xdpflow
# restarts report their events.
. "$(dirname "$0")/e2e.sh"
xf_e2e_init
SPORT=41000

xf_gw_create
[ "$(xf_gw cat /proc/sys/net/netfilter/nf_conntrack_events)" = 2 ] ||
  xf_fail "a new namespace should start with nf_conntrack_events=2 (the kernel's default)"
xf_sink "$XF_NS_SERVER" echo6001 udp-echo --port 6001 --idle 40
# One exchange before attach: conntrack has the entry (reply seen), not
# assured (UDP is assured by a datagram 2 s after the first reply).
ip netns exec "$XF_NS_CLIENT" python3 "$XF_TOOL" udp-client --to "$XF_SERVER_V4" --port 6001 \
  --sport $SPORT --count 2 --interval 0.1 >"$XF_GW_DIR/before.json" ||
  xf_fail "the exchange before attach failed"
entry=$(xf_ct -p udp --orig-port-src $SPORT)
[ -n "$entry" ] || xf_fail "no conntrack entry for the flow begun before attach"
grep -q UNREPLIED <<<"$entry" && xf_fail "the flow's reply did not pass: $entry"
grep -q ASSURED <<<"$entry" && xf_fail "already assured before attach, nothing to test: $entry"

xf_gw_attach
# Set when the control plane starts, before its start-up dump.
xf_wait_for 5 sh -c "[ \"\$(ip netns exec $XF_NS_GW cat /proc/sys/net/netfilter/nf_conntrack_events)\" = 1 ]" ||
  xf_fail "attach did not set nf_conntrack_events to 1"
grep -q ASSURED <<<"$(xf_ct -p udp --orig-port-src $SPORT)" &&
  xf_fail "assured without a datagram (the start-up dump would offload it): nothing to test"

# The same flow goes on: assured at its first datagram now, with no event.
ip netns exec "$XF_NS_CLIENT" python3 "$XF_TOOL" udp-client --to "$XF_SERVER_V4" --port 6001 \
  --sport $SPORT --count 1500 --interval 0.02 >"$XF_GW_DIR/after.json" 2>"$XF_GW_DIR/after.err" &
client=$!
xf_on_exit "kill $client 2>/dev/null"
xf_wait_for 10 sh -c "ip netns exec $XF_NS_GW conntrack -L -p udp --orig-port-src $SPORT 2>/dev/null | grep -q ASSURED" ||
  xf_fail "conntrack never assured the flow"
# Picked up by the control plane's dump within its 10 s period, then
# observed and offloaded.
xf_wait_for 25 xf_offloaded_port 6001 ipv4 ||
  xf_fail "the flow begun before attach was not offloaded 25 s after conntrack assured it: $(xf_xdpflow status | grep -E 'conntrack|waiting')"
read -r fast0 _ < <(xf_fast_rx)
sleep 1
read -r fast1 _ < <(xf_fast_rx)
[ "$fast1" -gt "$fast0" ] || xf_fail "offloaded, but the fast path forwarded none of its datagrams"
wait "$client" || xf_fail "the udp client failed: $(cat "$XF_GW_DIR/after.err")"
lost=$(jq -r '.sent - .received' "$XF_GW_DIR/after.json")
[ "$lost" -le 5 ] || xf_fail "$lost datagrams lost: $(cat "$XF_GW_DIR/after.json")"
echo "PASS: a UDP flow begun before attach, assured after it without an event, was offloaded; nf_conntrack_events is 1"
