// Which neighbour and bridge FDB changes invalidate offloaded connections,
// pure: the kernel reports every NUD transition (REACHABLE <-> STALE churns
// all the time) and every FDB refresh; only a changed or lost link-layer
// address, or a station seen behind another port, can change the frame the
// kernel would send. Fed from RTM_NEWNEIGH/RTM_DELNEIGH messages (AF_INET,
// AF_INET6 and AF_BRIDGE) by kernel/change_monitor.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/flow_key.h"
#include "xdpflow/observer.h"

namespace xdpflow {

using Mac = std::array<std::uint8_t, 6>;

struct NeighbourEvent {
  bool deleted = false;
  bool bridge = false; // an FDB entry (AF_BRIDGE): mac behind port ifindex
  std::uint32_t ifindex = 0;
  IpAddr dst;               // IP neighbours
  std::optional<Mac> mac;   // NDA_LLADDR
  std::uint16_t state = 0;  // NUD_* (IP neighbours)
  std::uint32_t master = 0; // NDA_MASTER (FDB): the bridge
};

class NeighbourMirror {
public:
  // XF_INVAL_NEIGH / XF_INVAL_FDB when the change can alter a forwarding
  // decision already taken, nullopt for churn or news.
  std::optional<xf_invalidation> apply(const NeighbourEvent &ev);

  // IP neighbours in NUD_STALE whose address is one of macs: the ones
  // offloaded traffic uses without the kernel seeing it, whose state
  // machine must be kept running (NTF_USE) to notice a changed MAC.
  std::vector<std::pair<std::uint32_t, IpAddr>> stale_using(const std::set<Mac> &macs) const;

  std::size_t size() const { return neighbours_.size() + fdb_.size(); }

private:
  struct Neighbour {
    Mac mac{};
    std::uint16_t state = 0;
  };
  std::map<std::pair<std::uint32_t, IpAddr>, Neighbour> neighbours_;
  std::map<std::pair<std::uint32_t, Mac>, std::uint32_t> fdb_; // (bridge, mac) -> port
};

} // namespace xdpflow
