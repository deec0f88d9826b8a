#include "core/neighbour_mirror.h"

#include <linux/neighbour.h>

namespace xdpflow {

namespace {
// States in which the kernel sends to the recorded address.
constexpr std::uint16_t usable_nud =
    NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
} // namespace

std::optional<xf_invalidation> NeighbourMirror::apply(const NeighbourEvent &ev) {
  if (ev.bridge) {
    if (!ev.mac)
      return std::nullopt;
    auto key = std::make_pair(ev.master, *ev.mac);
    auto it = fdb_.find(key);
    if (ev.deleted) {
      if (it == fdb_.end())
        return std::nullopt;
      fdb_.erase(it);
      return XF_INVAL_FDB; // the bridge floods to it now
    }
    if (it == fdb_.end()) {
      fdb_.emplace(key, ev.ifindex); // learned: nothing offloaded went there
      return std::nullopt;
    }
    if (it->second == ev.ifindex)
      return std::nullopt; // refreshed
    it->second = ev.ifindex;
    return XF_INVAL_FDB; // the station moved ports
  }
  auto key = std::make_pair(ev.ifindex, ev.dst);
  auto it = neighbours_.find(key);
  bool usable = !ev.deleted && (ev.state & usable_nud) && ev.mac;
  if (!usable) {
    if (it == neighbours_.end())
      return std::nullopt;
    neighbours_.erase(it);
    return XF_INVAL_NEIGH; // deleted or failed: the kernel resolves anew
  }
  if (it == neighbours_.end()) {
    neighbours_.emplace(key, Neighbour{*ev.mac, ev.state});
    return std::nullopt;
  }
  it->second.state = ev.state;
  if (it->second.mac == *ev.mac)
    return std::nullopt; // NUD churn
  it->second.mac = *ev.mac;
  return XF_INVAL_NEIGH;
}

std::vector<std::pair<std::uint32_t, IpAddr>>
NeighbourMirror::stale_using(const std::set<Mac> &macs) const {
  std::vector<std::pair<std::uint32_t, IpAddr>> out;
  for (const auto &[key, n] : neighbours_)
    if ((n.state & NUD_STALE) && macs.count(n.mac))
      out.push_back(key);
  return out;
}

} // namespace xdpflow
