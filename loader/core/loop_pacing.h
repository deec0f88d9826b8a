// LoopPacing: when the control plane's loop (kernel/control_plane.cpp) does
// its periodic work, so that it serves conntrack events and route changes
// promptly while still walking a table of millions of entries. Pure: the
// caller passes CLOCK_MONOTONIC times and says how long its walks took.
//
// - Keepalive passes walk the table a chunk per loop iteration (events are
//   served in between), and the loop does not sleep in poll meanwhile.
// - A pass starts a sixth of conntrack's shortest established timeout after
//   the previous one (between 250 ms and 2 s: a pass walks the whole table,
//   so no more often than needed), later if walking takes more than a tenth
//   of the time, but never so late that an active connection's conntrack
//   entry could expire: at most a third of that timeout.
// - Connections waiting for their egress are retried once a second, in case
//   resolution completed without an event the control plane follows.
// - Connections that left the table idle are looked for in a conntrack dump
//   every 10 s (established streams send no event when packets on the kernel
//   path push their timeout back).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xdpflow {

class LoopPacing {
public:
  // The loop starts at start_ns: the first pass and retry a second later,
  // the first idle check ten seconds later.
  explicit LoopPacing(std::uint64_t start_ns);

  // How long poll may wait for events: not at all while a pass is under
  // way (its next chunk is due), else 100 ms, which also bounds how old the
  // clock the data path stamps hits with can be.
  int poll_timeout_ms() const;

  // Whether a keepalive pass starts now.
  bool pass_due(std::uint64_t now_ns) const { return !in_pass_ && now_ns >= next_pass_; }
  // A pass starts at now_ns; shortest_timeout_sec: the shortest of
  // conntrack's established timeouts (TCP, UDP stream), read afresh.
  void begin_pass(std::uint64_t now_ns, std::uint32_t shortest_timeout_sec);
  bool in_pass() const { return in_pass_; }
  std::uint64_t pass_started() const { return pass_started_; }
  // How many entries to walk in this loop iteration.
  std::size_t chunk_entries() const { return chunk_entries_; }
  // A chunk was walked in busy_ns; more: the walk is not complete. The last
  // chunk ends the pass and schedules the next.
  void chunk_walked(std::uint64_t busy_ns, bool more);
  // When the next pass is due (after the last pass ended).
  std::uint64_t next_pass() const { return next_pass_; }
  // The pass period for a shortest timeout, before slow walks stretch it.
  static std::uint64_t pass_period_ns(std::uint32_t shortest_timeout_sec);

  // Whether to retry the pending connections now; if so, the next retry is
  // a second from now.
  bool retry_now(std::uint64_t now_ns);
  // Whether to look for renewed activity of idle connections now; if so,
  // the next look is ten seconds from now.
  bool idle_check_now(std::uint64_t now_ns);

private:
  static constexpr std::size_t chunk_entries_ = 8192;

  bool in_pass_ = false;
  std::uint64_t pass_started_ = 0, pass_period_ = 0, pass_cap_ = 0, pass_busy_ns_ = 0;
  std::uint64_t next_pass_, next_retry_, next_idle_check_;
};

} // namespace xdpflow
