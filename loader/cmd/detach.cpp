// xdpflow detach [IFACE...|--all] [--pin DIR]: removes what a crashed or
// killed run left. A program attached through our bpf_link (XDP, tcx) goes
// away with its process, so this finds leftovers attached the legacy way,
// links someone pinned, clsact filters of the TC program (the fallback where
// the kernel has no tcx: they outlive a killed process, and stop forwarding
// by themselves once its clock is stale), and map pins; it refuses while an
// instance is running here.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <net/if.h>

#include "cmd/commands.h"
#include "core/error.h"
#include "kernel/instance.h"
#include "kernel/map_pins.h"
#include "kernel/netns_lock.h"
#include "kernel/tc_facts.h"
#include "kernel/tcx_link.h"
#include "kernel/xdp_link.h"

namespace xdpflow::cmd {

namespace {

struct DetachFlags {
  std::vector<std::string> interfaces;
  bool all = false;
  std::string pin;
};

// Returns true when something was detached.
bool detach_one(const XdpAttachment &a) {
  std::string what = "xdpflow (program id " + std::to_string(a.prog_id) + ", " +
                     std::string(describe(a.mode)) + ")";
  if (auto link = find_xdp_link(a.prog_id, a.ifindex)) {
    if (bpf_link_detach(link->get()))
      throw SysError(errno, a.ifname + ": detaching the bpf_link of " + what);
    std::printf("%s: detached %s, attached through a bpf_link\n", a.ifname.c_str(), what.c_str());
    return true;
  }
  int fd = bpf_prog_get_fd_by_id(a.prog_id);
  if (fd < 0)
    return false; // gone meanwhile
  UniqueFd prog(fd);
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);
  if (bpf_xdp_detach(static_cast<int>(a.ifindex), xdp_mode_flag(a.mode), &opts)) {
    if (errno == EEXIST || errno == ENOENT)
      return false; // replaced or removed meanwhile
    throw SysError(errno, a.ifname + ": detaching " + what);
  }
  std::printf("%s: detached %s\n", a.ifname.c_str(), what.c_str());
  return true;
}

// The TC program's clsact filters on the ingress of ifindex; returns how many
// were removed.
int detach_clsact_leftovers(std::uint32_t ifindex, const std::string &ifname) {
  int removed = 0;
  for (const auto &p : tc_ingress_programs(ifindex)) {
    if (p.kind != TcLinkKind::Clsact || prog_name_of(p.prog_id) != kTcProgName)
      continue;
    remove_clsact_filter(ifindex, TcDirection::Ingress, p.handle, p.priority);
    std::printf("%s: removed the clsact filter of xdpflow_tc (program id %u)\n", ifname.c_str(),
                p.prog_id);
    removed++;
  }
  return removed;
}

void run_detach(const DetachFlags &f) {
  if (f.interfaces.empty() && !f.all && f.pin.empty())
    throw UsageError("say what to detach: xdpflow detach IFACE... or xdpflow detach --all");
  if (!f.interfaces.empty() && f.all)
    throw UsageError("give interfaces or --all, not both");
  if (auto pid = NetnsLock::holder())
    throw RuntimeError("xdpflow is running in this network namespace (pid " + std::to_string(*pid) +
                       "); stop it instead (kill -TERM it or systemctl stop xdpflow): it "
                       "detaches itself");

  std::vector<XdpAttachment> candidates;
  std::vector<std::pair<std::uint32_t, std::string>> ifaces;
  if (f.all) {
    candidates = list_xdp_attachments();
    for (const auto &[ifindex, name] : list_interfaces())
      ifaces.emplace_back(ifindex, name);
  } else {
    for (const auto &name : f.interfaces) {
      std::uint32_t ifindex = if_nametoindex(name.c_str());
      if (!ifindex)
        throw UsageError("interface '" + name + "' does not exist in this network namespace");
      auto some = xdp_attachments_of(ifindex, name);
      candidates.insert(candidates.end(), some.begin(), some.end());
      ifaces.emplace_back(ifindex, name);
    }
  }
  int detached = 0;
  for (const auto &[ifindex, name] : ifaces)
    detached += detach_clsact_leftovers(ifindex, name);
  for (const auto &a : candidates) {
    if (a.prog_name != kProgName) {
      if (!f.all)
        std::printf("%s: program '%s' (id %u) is not xdpflow's; left alone\n", a.ifname.c_str(),
                    a.prog_name.c_str(), a.prog_id);
      continue;
    }
    detached += detach_one(a);
  }
  if (!f.pin.empty())
    for (const auto &path : MapPins::remove_from(f.pin)) {
      std::printf("removed pin %s\n", path.c_str());
      detached++;
    }
  if (detached == 0)
    std::printf("nothing to detach: no xdpflow program is attached%s in this network namespace\n",
                f.pin.empty() ? "" : " and no pin is left");
}

} // namespace

void register_detach(CLI::App &app) {
  auto flags = std::make_shared<DetachFlags>();
  CLI::App *sub = app.add_subcommand(
      "detach", "Remove xdpflow programs and pins left by a crashed run (a running xdpflow "
                "detaches itself on SIGTERM)");
  sub->add_option("interfaces", flags->interfaces, "Interfaces to clean")->type_name("IFACE");
  sub->add_flag("--all", flags->all, "Every interface of this network namespace");
  sub->add_option("--pin", flags->pin, "Also remove xdpflow's map pins under DIR")
      ->type_name("DIR");
  sub->callback([flags] { run_detach(*flags); });
}

} // namespace xdpflow::cmd
