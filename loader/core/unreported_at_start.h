// Connections conntrack already had when the control plane started, which it
// could not offload then only because they were not assured yet (or, TCP,
// not established). With net.netfilter.nf_conntrack_events at 2 (the
// default, "events only while someone listens"), a connection that began
// while no xdpflow ran carries no event extension and never reports its
// assurance: its only chance to be offloaded is a later dump. The control
// plane keeps their original tuples for a while after start and hands a
// later dump's entries for them to FlowSync as if they were events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_set>

#include "core/ct_message.h"

namespace xdpflow {

class UnreportedAtStart {
public:
  // How long after start they are looked for (a UDP stream is assured 2 s
  // after its first reply; a TCP handshake ends within seconds), and how
  // many at most (a larger start-up backlog is cut, not tracked).
  static constexpr std::uint64_t window_ns = 120'000'000'000ull;
  static constexpr std::size_t max_tracked = 65536;

  // The start-up dump begins at now_ns.
  void start(std::uint64_t now_ns) { deadline_ns_ = now_ns + window_ns; }
  // A start-up dump entry and why FlowSync did not offload it (nullptr:
  // it did, or will once observed): kept when that was its assurance.
  void note(const CtEvent &ev, const char *why_not);
  // Whether a dump is worth making for them now.
  bool watching(std::uint64_t now_ns) const { return !tuples_.empty() && now_ns < deadline_ns_; }
  // A later dump entry: true when it is one of them, to be handled as an
  // event; one that is assured now is forgotten.
  bool take(const CtEvent &ev);
  // After the window: forgets the rest and returns how many there were
  // (0 before the deadline or when none were left).
  std::size_t expire(std::uint64_t now_ns);
  std::size_t size() const { return tuples_.size(); }
  std::size_t cut() const { return cut_; } // not tracked: over max_tracked

private:
  std::unordered_set<std::uint64_t> tuples_; // tuple_hash of the original tuple
  std::uint64_t deadline_ns_ = 0;
  std::size_t cut_ = 0;
};

} // namespace xdpflow
