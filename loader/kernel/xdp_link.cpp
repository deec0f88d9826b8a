#include "kernel/xdp_link.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <linux/capability.h>
#include <linux/if_link.h>

#include "core/error.h"
#include "kernel/capabilities.h"

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
