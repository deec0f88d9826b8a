#include "kernel/xdp_link.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <optional>

#include "core/error.h"
#include "kernel/capabilities.h"
#include "kernel/link_watch.h"

namespace xdpflow {

std::uint32_t xdp_mode_flag(XdpMode mode) {
  switch (mode) {
  case XdpMode::Hw:
    return XDP_FLAGS_HW_MODE;
  case XdpMode::Native:
    return XDP_FLAGS_DRV_MODE;
  case XdpMode::Generic:
    return XDP_FLAGS_SKB_MODE;
  case XdpMode::Auto:
    break;
  }
  return 0;
}

XdpLink::XdpLink(int prog_fd, std::uint32_t ifindex, XdpMode mode)
    : ifindex_(ifindex), mode_(mode) {
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = xdp_mode_flag(mode));
  int fd = bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &opts);
  if (fd < 0)
    throw SysError(errno, "attaching XDP in " + std::string(to_string(mode)) + " mode");
  fd_ = UniqueFd(fd);
}

namespace {

// The nearest upper device of ifindex with an XDP program: its name and the
// program's id, for the kernel's "an upper device already has a program".
std::optional<std::pair<std::string, std::uint32_t>> upper_program(std::uint32_t ifindex) {
  try {
    LinkTable links = read_link_table();
    for (const LinkFact *dev = links.find(ifindex); dev && dev->master;) {
      dev = links.find(dev->master);
      if (dev && dev->xdp_prog_id)
        return std::pair{dev->name, dev->xdp_prog_id};
    }
  } catch (const SysError &) {
    // Only a detail of an error message being made.
  }
  return std::nullopt;
}

} // namespace

XdpLink attach_xdp(int prog_fd, const std::string &ifname, std::uint32_t ifindex, XdpMode requested,
                   std::optional<std::uint64_t> features,
                   const std::function<void(const std::string &)> &log) {
  auto plan = plan_attach(requested, features);
  std::string last_reason;
  for (std::size_t i = 0; i < plan.size(); i++) {
    const auto &step = plan[i];
    std::string next =
        i + 1 < plan.size() ? ", falling back to " + std::string(describe(plan[i + 1].mode)) : "";
    if (!step.skip_reason.empty()) {
      log(ifname + ": " + std::string(describe(step.mode)) + " unavailable (" + step.skip_reason +
          ")" + next);
      continue;
    }
    try {
      return XdpLink(prog_fd, ifindex, step.mode);
    } catch (const SysError &e) {
      last_reason = explain_attach_errno(step.mode, e.err());
      // A bpf_link attach returns no extended ack: ask the kernel for its words.
      std::string kernel_says = xdp_refusal_reason(ifindex, xdp_mode_flag(step.mode), prog_fd);
      if (!kernel_says.empty())
        last_reason =
            std::strerror(e.err()) + std::string(": the kernel says \"") + kernel_says + "\"";
      // No other mode can help: the kernel refuses any program under it.
      if (kernel_says.find("upper device") != std::string::npos) {
        auto upper = upper_program(ifindex);
        throw RuntimeError(
            ifname + ": the kernel refuses XDP here: \"" + kernel_says + "\"" +
            (upper ? " (" + upper->first + " has XDP program id " + std::to_string(upper->second) +
                         "); remove it (ip link set dev " + upper->first + " xdp off)"
                   : "; remove the upper device's program") +
            " or attach with --hook tc");
      }
      if (e.err() == EPERM)
        throw RuntimeError(ifname +
                           ": attaching XDP: permission denied; xdpflow attach needs "
                           "CAP_NET_ADMIN and CAP_BPF" +
                           missing_capabilities_note({CAP_NET_ADMIN, CAP_BPF}) +
                           " (run as root or through xdpflow.service)");
      if (requested != XdpMode::Auto)
        throw RuntimeError(ifname + ": the kernel refused " + std::string(describe(step.mode)) +
                           ": " + last_reason + "; try --mode auto" +
                           (step.mode == XdpMode::Generic ? "" : " or --mode generic"));
      log(ifname + ": " + std::string(describe(step.mode)) + " refused by the kernel (" +
          last_reason + ")" + next);
    }
  }
  throw RuntimeError(ifname + ": no XDP mode could be attached (last reason: " + last_reason + ")");
}

} // namespace xdpflow
