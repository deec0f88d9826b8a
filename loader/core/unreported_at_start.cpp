#include "core/unreported_at_start.h"

#include <cstring>
#include <linux/netfilter/nf_conntrack_common.h>

#include "core/flow_entry.h"

namespace xdpflow {

void UnreportedAtStart::note(const CtEvent &ev, const char *why_not) {
  if (!why_not || (std::strcmp(why_not, "not assured") != 0 &&
                   std::strcmp(why_not, "TCP not established") != 0))
    return;
  if (tuples_.size() >= max_tracked) {
    cut_++;
    return;
  }
  tuples_.insert(tuple_hash(ev.orig));
}

bool UnreportedAtStart::take(const CtEvent &ev) {
  auto it = tuples_.find(tuple_hash(ev.orig));
  if (it == tuples_.end())
    return false;
  if (ev.has_status && (ev.status & IPS_ASSURED))
    tuples_.erase(it);
  return true;
}

std::size_t UnreportedAtStart::expire(std::uint64_t now_ns) {
  if (tuples_.empty() || now_ns < deadline_ns_)
    return 0;
  std::size_t n = tuples_.size();
  tuples_.clear();
  return n;
}

} // namespace xdpflow
