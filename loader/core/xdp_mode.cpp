#include "core/xdp_mode.h"

#include <cerrno>
#include <cstring>

namespace xdpflow {

std::optional<XdpMode> parse_xdp_mode(std::string_view text) {
  if (text == "auto")
    return XdpMode::Auto;
  if (text == "hw")
    return XdpMode::Hw;
  if (text == "native")
    return XdpMode::Native;
  if (text == "generic")
    return XdpMode::Generic;
  return std::nullopt;
}

std::string_view to_string(XdpMode mode) {
  switch (mode) {
  case XdpMode::Auto:
    return "auto";
  case XdpMode::Hw:
    return "hw";
  case XdpMode::Native:
    return "native";
  case XdpMode::Generic:
    return "generic";
  }
  return "?";
}

std::string_view describe(XdpMode mode) {
  switch (mode) {
  case XdpMode::Hw:
    return "hardware offload";
  case XdpMode::Native:
    return "native XDP";
  case XdpMode::Generic:
    return "generic XDP";
  case XdpMode::Auto:
    break;
  }
  return "auto";
}

std::vector<std::string> xdp_feature_names(std::uint64_t features) {
  static constexpr std::pair<std::uint64_t, const char *> names[] = {
      {XDP_FEATURE_BASIC, "basic"},
      {XDP_FEATURE_REDIRECT, "redirect"},
      {XDP_FEATURE_NDO_XMIT, "ndo-xmit"},
      {XDP_FEATURE_XSK_ZEROCOPY, "xsk-zerocopy"},
      {XDP_FEATURE_HW_OFFLOAD, "hw-offload"},
      {XDP_FEATURE_RX_SG, "rx-sg"},
      {XDP_FEATURE_NDO_XMIT_SG, "ndo-xmit-sg"},
  };
  std::vector<std::string> out;
  std::uint64_t known = 0;
  for (const auto &[bit, name] : names) {
    known |= bit;
    if (features & bit)
      out.emplace_back(name);
  }
  for (unsigned i = 0; i < 64; i++)
    if ((features & ~known) & (std::uint64_t{1} << i))
      out.push_back("bit" + std::to_string(i));
  return out;
}

std::vector<AttachStep> plan_attach(XdpMode requested, std::optional<std::uint64_t> features) {
  if (requested != XdpMode::Auto)
    return {{requested, ""}};
  std::vector<AttachStep> plan;
  if (features && (*features & XDP_FEATURE_HW_OFFLOAD))
    plan.push_back({XdpMode::Hw, ""});
  else
    plan.push_back({XdpMode::Hw, features ? "the driver reports no hw-offload"
                                          : "the kernel does not report the driver's XDP "
                                            "features"});
  if (!features || (*features & XDP_FEATURE_BASIC))
    plan.push_back({XdpMode::Native, ""});
  else
    plan.push_back({XdpMode::Native, "the driver has no native XDP support"});
  plan.push_back({XdpMode::Generic, ""});
  return plan;
}

bool can_be_redirect_target(std::optional<std::uint64_t> features) {
  return !features || (*features & XDP_FEATURE_NDO_XMIT);
}

std::string explain_attach_errno(XdpMode mode, int err) {
  std::string text = std::strerror(err);
  switch (err) {
  case EOPNOTSUPP:
    text += mode == XdpMode::Hw ? " (the driver cannot offload XDP to hardware)"
                                : " (the driver does not support this XDP mode)";
    break;
  case EINVAL:
    if (mode == XdpMode::Hw)
      text += " (hardware offload needs a NIC that supports it, e.g. nfp)";
    else if (mode == XdpMode::Native)
      text += " (e.g. MTU too large for XDP, or LRO enabled on the device)";
    break;
  case ERANGE: // veth: "Peer MTU is too large to set XDP"
    text += " (MTU too large for XDP on this driver; on veth, the peer's MTU)";
    break;
  case EBUSY:
  case EEXIST:
    text += " (another XDP program or link is attached)";
    break;
  case EPERM:
    text += " (needs CAP_NET_ADMIN and CAP_BPF)";
    break;
  default:
    break;
  }
  return text;
}

} // namespace xdpflow
