// Where a connection's original-direction entry can be in the table without
// keeping anything per connection: its key is the original tuple plus the
// interface and encapsulation it arrives with, and those are few on a
// gateway (the attached interfaces, their VLANs and PPPoE sessions). The
// pairs original-direction entries were written with are remembered here,
// the most often found first, so a DESTROY or an update of an offloaded
// connection finds its entry with a lookup or two instead of keeping its
// egress observations (about 480 bytes per offloaded connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "xdpflow/flow.h"

namespace xdpflow {

class IngressCandidates {
public:
  struct Ingress {
    std::uint32_t ifindex = 0;
    xf_encap encap{};
  };

  // An original-direction entry arrives with (ifindex, encap). A new pair
  // goes last; beyond max_pairs the last one gives way (a gateway with that
  // many PPPoE sessions over time: the evicted pair's connections are still
  // found while an entry of theirs is visited, see FlowSync::keepalive_visit).
  void learn(std::uint32_t ifindex, const xf_encap &encap);
  // The pair at position i found an entry: it moves one place forward, so
  // the pairs most entries arrive with come first.
  void found_at(std::size_t i);
  const std::vector<Ingress> &pairs() const { return pairs_; }
  void clear() { pairs_.clear(); }

  static constexpr std::size_t max_pairs = 64;

private:
  std::vector<Ingress> pairs_;
};

} // namespace xdpflow
