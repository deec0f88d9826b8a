// XDP attachment through a bpf_link owned by this process: closing the link
// (destructor, exit, crash, kill -9) detaches the program, so no offload can
// outlive its control plane. Also the `auto` fallback walk over modes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/xdp_mode.h"
#include "kernel/unique_fd.h"

namespace xdpflow {

class XdpLink {
public:
  // Attaches prog_fd to ifindex in `mode` (hw, native or generic). Throws
  // SysError with the kernel's errno on refusal.
  XdpLink(int prog_fd, std::uint32_t ifindex, XdpMode mode);
  XdpLink(XdpLink &&) = default;
  XdpLink &operator=(XdpLink &&) = default;

  int fd() const { return fd_.get(); }
  std::uint32_t ifindex() const { return ifindex_; }
  XdpMode mode() const { return mode_; }
  // Detaches now (also done by destruction).
  void release() { fd_.reset(); }

private:
  UniqueFd fd_;
  std::uint32_t ifindex_;
  XdpMode mode_;
};

// Attaches following plan_attach(requested, features); every skipped or
// refused mode is reported through `log` as one line naming the interface,
// the mode and the reason. Throws RuntimeError when no mode is left (for a
// forced mode: the kernel's reason and what to try instead).
XdpLink attach_xdp(int prog_fd, const std::string &ifname, std::uint32_t ifindex, XdpMode requested,
                   std::optional<std::uint64_t> features,
                   const std::function<void(const std::string &)> &log);

// Kernel XDP flag of a mode (XDP_FLAGS_HW_MODE, ...).
std::uint32_t xdp_mode_flag(XdpMode mode);

} // namespace xdpflow
