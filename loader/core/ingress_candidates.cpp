#include "core/ingress_candidates.h"

#include <cstring>
#include <utility>

namespace xdpflow {

void IngressCandidates::learn(std::uint32_t ifindex, const xf_encap &encap) {
  for (const Ingress &p : pairs_)
    if (p.ifindex == ifindex && std::memcmp(&p.encap, &encap, sizeof(encap)) == 0)
      return;
  if (pairs_.size() >= max_pairs)
    pairs_.pop_back();
  pairs_.push_back(Ingress{ifindex, encap});
}

void IngressCandidates::found_at(std::size_t i) {
  if (i > 0 && i < pairs_.size())
    std::swap(pairs_[i], pairs_[i - 1]);
}

} // namespace xdpflow
