// Which devices `xdpflow attach NAME...` hooks, decided from the names typed
// and the namespace's links (core/link_facts.h). Pure.
//  - A bridge is never hooked itself: its ports are (the bridge's XDP would
//    be generic, and the kernel refuses a port's program under it). Named
//    bridges are followed: the plan is made again on every link change and
//    the difference attached or detached (plan_difference).
//  - A VLAN or PPP(oE) device is hooked on its lower device, where the data
//    path parses and writes the tag or session header.
//  - A device reached twice (a port and its bridge, a name typed twice) is
//    hooked once.
//  - Everything on one side (one interface, or only the ports of one bridge)
//    gets a warning: a forwarded connection enters on one side and leaves on
//    the other, so nothing could be offloaded.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/link_facts.h"

namespace xdpflow {

// The namespace's links by ifindex, and what PPPoE sessions run over.
struct LinkTable {
  std::map<std::uint32_t, LinkFact> links;
  std::vector<std::string> pppoe_devices; // core/link_facts.h parse_pppoe_devices

  const LinkFact *find(const std::string &name) const;
  const LinkFact *find(std::uint32_t ifindex) const;
  // An RTM_NEWLINK updates, an RTM_DELLINK removes.
  void apply(const LinkFact &fact);
};

struct AttachTarget {
  std::uint32_t ifindex = 0;
  std::string name;
  std::string typed;      // the name it was reached from
  std::string via;        // how: "" (typed itself), "port of br-lan", "lower device of wan.7"
  std::uint32_t side = 0; // the routed device it belongs to (bridge, VLAN, itself)
  // The device whose MAC the frames routed by the gateway are sent to: a
  // port's bridge (hosts behind br-lan send to br-lan's MAC), else itself.
  // The data path only forwards frames addressed to it.
  std::uint32_t mac_of = 0;
};

struct AttachPlan {
  std::vector<AttachTarget> targets;   // each device once, in the order reached
  std::vector<std::uint32_t> followed; // named bridges: ports come and go
  std::vector<std::string> notes;      // one line each: what was merged or followed
  std::vector<std::string> warnings;   // one line each: what cannot work as typed
};

// Throws UsageError (one line: what and what to do) for a name that does not
// exist, a lower device in another namespace, a PPP device whose Ethernet
// device cannot be told, or nothing left to hook. running: the plan made
// again while attached: names that left are skipped, not refused (the
// control plane reports removed interfaces), and no error for an empty plan.
AttachPlan plan_targets(const std::vector<std::string> &names, const LinkTable &links,
                        bool running = false);

struct PlanDifference {
  std::vector<AttachTarget> added;
  std::vector<AttachTarget> removed;
};
PlanDifference plan_difference(const AttachPlan &before, const AttachPlan &after);

// "br-lan: lan0, lan1" for each bridge some of the ifindexes are ports of,
// from the link table (for `status`). Bridges in ifindex order.
std::vector<std::pair<std::string, std::vector<std::string>>>
bridges_of(const std::vector<std::uint32_t> &ifindexes, const LinkTable &links);

} // namespace xdpflow
