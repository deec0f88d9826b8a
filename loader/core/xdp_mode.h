// XDP attach modes and driver XDP features, and the pure part of `auto`:
// which modes to try on an interface, in which order, and why a mode was
// skipped. The kernel-facing attempt lives in kernel/xdp_link.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xdpflow {

enum class XdpMode { Auto, Hw, Native, Generic };

// "auto", "hw", "native", "generic"; nullopt for anything else.
std::optional<XdpMode> parse_xdp_mode(std::string_view text);
std::string_view to_string(XdpMode mode);
// How `ip link` and users call the attached modes ("hardware offload",
// "native", "generic (skb)").
std::string_view describe(XdpMode mode);

// Driver XDP features (NETDEV_A_DEV_XDP_FEATURES, enum netdev_xdp_act in
// linux/netdev.h since 6.3; defined here because the build's UAPI headers are
// older). Stable kernel ABI.
enum XdpFeature : std::uint64_t {
  XDP_FEATURE_BASIC = 1u << 0,
  XDP_FEATURE_REDIRECT = 1u << 1,
  XDP_FEATURE_NDO_XMIT = 1u << 2,
  XDP_FEATURE_XSK_ZEROCOPY = 1u << 3,
  XDP_FEATURE_HW_OFFLOAD = 1u << 4,
  XDP_FEATURE_RX_SG = 1u << 5,
  XDP_FEATURE_NDO_XMIT_SG = 1u << 6,
};

// Names as `ynl` / iproute2 print them: "basic", "redirect", "ndo-xmit"...
std::vector<std::string> xdp_feature_names(std::uint64_t features);

// One step of the attach plan for one interface: try `mode`, or, when
// `skip_reason` is set, do not try it and print why.
struct AttachStep {
  XdpMode mode;
  std::string skip_reason; // empty: try it
};

// The modes to go through for `requested` given the driver's features
// (nullopt: the kernel could not tell, e.g. older than 6.3). Forced modes
// give a single step that is always tried: the kernel has the last word.
// auto: hw only where the driver reports hw-offload, native where it reports
// basic XDP (or features are unknown), then generic, which always exists.
std::vector<AttachStep> plan_attach(XdpMode requested, std::optional<std::uint64_t> features);

// Whether flows may be redirected towards this interface: the driver must
// accept frames from XDP_REDIRECT (ndo-xmit). Unknown features: assume yes.
bool can_be_redirect_target(std::optional<std::uint64_t> features);

// A kernel refusal made readable: "Operation not supported (EOPNOTSUPP)",
// plus a hint for the errnos that attaching XDP commonly gives.
std::string explain_attach_errno(XdpMode mode, int err);

} // namespace xdpflow
