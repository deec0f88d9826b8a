#include "core/attach_plan.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace xdpflow {

const LinkFact *LinkTable::find(const std::string &name) const {
  for (const auto &[ifindex, fact] : links)
    if (fact.name == name)
      return &fact;
  return nullptr;
}

const LinkFact *LinkTable::find(std::uint32_t ifindex) const {
  auto it = links.find(ifindex);
  return it == links.end() ? nullptr : &it->second;
}

void LinkTable::apply(const LinkFact &fact) {
  if (fact.deleted)
    links.erase(fact.ifindex);
  else
    links[fact.ifindex] = fact;
}

namespace {

// Deep enough for a VLAN over a VLAN (QinQ) in a bridge; a loop in the
// facts (which the kernel never reports) cannot recurse forever.
constexpr int kMaxDepth = 8;

bool is_bridge(const LinkFact *f) {
  return f && f->kind == "bridge";
}

class Planner {
public:
  Planner(const LinkTable &links, bool running) : links_(links), running_(running) {}

  void name(const std::string &typed) {
    const LinkFact *dev = links_.find(typed);
    if (!dev) {
      if (running_)
        return;
      throw UsageError("interface '" + typed +
                       "' does not exist in this network namespace (ip link lists those that do)");
    }
    if (!typed_.insert(dev->ifindex).second) {
      plan_.notes.push_back(typed + " is named twice: attached once");
      return;
    }
    // The routed device it belongs to: a port's bridge, else itself.
    const LinkFact *master = links_.find(dev->master);
    std::uint32_t side = is_bridge(master) ? master->ifindex : dev->ifindex;
    resolve(*dev, typed, "", side, 0);
  }

  AttachPlan finish(const std::vector<std::string> &names) {
    // Ports named without their bridge: say that newcomers are not followed.
    for (const auto &t : plan_.targets) {
      const LinkFact *dev = links_.find(t.ifindex);
      const LinkFact *master = dev ? links_.find(dev->master) : nullptr;
      if (t.via.empty() && is_bridge(master) &&
          std::find(plan_.followed.begin(), plan_.followed.end(), master->ifindex) ==
              plan_.followed.end())
        plan_.notes.push_back(t.name + " is a port of " + master->name + ": ports joining " +
                              master->name + " later are not attached; name " + master->name +
                              " to follow them");
    }
    if (plan_.targets.empty()) {
      if (!running_)
        throw UsageError("nothing to attach: " + join(names) +
                         " has no device to hook (a bridge without ports?); add the ports "
                         "(ip link set DEV master BRIDGE) or name the interfaces");
      return plan_;
    }
    // Sides reached, also through a device already covered (two VLANs on
    // one Ethernet device are two sides: routed between them, hairpin).
    if (sides_.size() < 2) {
      const LinkFact *side = links_.find(*sides_.begin());
      plan_.warnings.push_back(
          "only one side of the gateway is attached (" + (side ? side->name : join(names)) +
          "): a forwarded connection enters on one side and leaves on another, so nothing can "
          "be offloaded; name the LAN and the WAN side, e.g. xdpflow attach br-lan wan");
    }
    return plan_;
  }

private:
  static std::string join(const std::vector<std::string> &names) {
    std::string out;
    for (const auto &n : names)
      out += (out.empty() ? "" : " ") + n;
    return out;
  }

  void resolve(const LinkFact &dev, const std::string &typed, const std::string &via,
               std::uint32_t side, int depth) {
    if (depth > kMaxDepth)
      throw UsageError(typed + ": devices stacked more than " + std::to_string(kMaxDepth) +
                       " deep below it; name the devices that carry the traffic instead");
    if (dev.kind == "bridge") {
      bridge(dev, typed, side, depth);
      return;
    }
    if (dev.kind == "vlan" || dev.kind == "ppp") {
      const LinkFact &below = lower_of(dev, typed);
      resolve(below, typed, "lower device of " + dev.name, side, depth + 1);
      return;
    }
    sides_.insert(side);
    for (const auto &t : plan_.targets)
      if (t.ifindex == dev.ifindex) {
        plan_.notes.push_back(dev.name + (via.empty() ? "" : " (" + via + ")") +
                              " is already covered" + (t.via.empty() ? "" : " as " + t.via) +
                              ": attached once");
        return;
      }
    std::uint32_t mac_of = is_bridge(links_.find(side)) ? side : dev.ifindex;
    plan_.targets.push_back({dev.ifindex, dev.name, typed, via, side, mac_of});
  }

  void bridge(const LinkFact &br, const std::string &typed, std::uint32_t side, int depth) {
    if (std::find(plan_.followed.begin(), plan_.followed.end(), br.ifindex) == plan_.followed.end())
      plan_.followed.push_back(br.ifindex);
    bool any = false;
    for (const auto &[ifindex, port] : links_.links)
      if (port.master == br.ifindex) {
        any = true;
        resolve(port, typed, "port of " + br.name, side, depth + 1);
      }
    if (!any && !running_)
      plan_.notes.push_back(br.name + " has no ports yet: they are attached as they join it");
  }

  // A VLAN's lower device from IFLA_LINK; a PPP device's from IFLA_LINK
  // when given, else the one Ethernet device PPPoE sessions run over.
  const LinkFact &lower_of(const LinkFact &dev, const std::string &typed) {
    std::string what = dev.kind == "vlan" ? "VLAN" : "PPP";
    if (dev.lower_elsewhere)
      throw UsageError(dev.name + " (" + what +
                       ") runs over a device in another network namespace; attach xdpflow "
                       "there, on that device");
    if (dev.lower) {
      if (const LinkFact *below = links_.find(dev.lower))
        return *below;
      throw UsageError(dev.name + ": its lower device (ifindex " + std::to_string(dev.lower) +
                       ") is not in this network namespace; name the device that carries " +
                       dev.name + "'s frames instead");
    }
    if (dev.kind == "ppp") {
      const auto &eth = links_.pppoe_devices;
      if (eth.size() == 1) {
        if (const LinkFact *below = links_.find(eth.front()))
          return *below;
      }
      if (eth.empty())
        throw UsageError(typed + ": " + dev.name +
                         " carries no PPPoE session (/proc/net/pppoe lists none), so its "
                         "Ethernet device is unknown; name that device instead");
      std::string list;
      for (const auto &e : eth)
        list += (list.empty() ? "" : ", ") + e;
      throw UsageError(typed + ": PPPoE sessions run over " + list +
                       ": cannot tell which carries " + dev.name +
                       "; name the Ethernet device instead");
    }
    throw UsageError(dev.name + ": the kernel names no lower device for this VLAN; name the "
                                "device that carries its frames instead");
  }

  const LinkTable &links_;
  bool running_;
  AttachPlan plan_;
  std::set<std::uint32_t> typed_;
  std::set<std::uint32_t> sides_;
};

} // namespace

AttachPlan plan_targets(const std::vector<std::string> &names, const LinkTable &links,
                        bool running) {
  Planner p(links, running);
  for (const auto &n : names)
    p.name(n);
  return p.finish(names);
}

PlanDifference plan_difference(const AttachPlan &before, const AttachPlan &after) {
  auto has = [](const AttachPlan &p, std::uint32_t ifindex) {
    for (const auto &t : p.targets)
      if (t.ifindex == ifindex)
        return true;
    return false;
  };
  PlanDifference d;
  for (const auto &t : after.targets)
    if (!has(before, t.ifindex))
      d.added.push_back(t);
  for (const auto &t : before.targets)
    if (!has(after, t.ifindex))
      d.removed.push_back(t);
  return d;
}

std::vector<std::pair<std::string, std::vector<std::string>>>
bridges_of(const std::vector<std::uint32_t> &ifindexes, const LinkTable &links) {
  std::map<std::uint32_t, std::pair<std::string, std::vector<std::string>>> by_bridge;
  for (std::uint32_t i : ifindexes) {
    const LinkFact *dev = links.find(i);
    const LinkFact *master = dev ? links.find(dev->master) : nullptr;
    if (is_bridge(master)) {
      auto &entry = by_bridge[master->ifindex];
      entry.first = master->name;
      entry.second.push_back(dev->name);
    }
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (auto &[ifindex, entry] : by_bridge)
    out.push_back(std::move(entry));
  return out;
}

} // namespace xdpflow
