#include "core/hook_choice.h"

#include <algorithm>
#include <array>

#include "core/xdp_mode.h"

namespace xdpflow {

std::optional<HookPreference> parse_hook_preference(std::string_view text) {
  if (text == "auto")
    return HookPreference::Auto;
  if (text == "xdp")
    return HookPreference::Xdp;
  if (text == "tc")
    return HookPreference::Tc;
  return std::nullopt;
}

std::string_view to_string(HookPreference pref) {
  switch (pref) {
  case HookPreference::Auto:
    return "auto";
  case HookPreference::Xdp:
    return "xdp";
  case HookPreference::Tc:
    return "tc";
  }
  return "?";
}

std::string_view to_string(Hook hook) {
  return hook == Hook::Xdp ? "xdp" : "tc";
}

std::string_view to_string(DirectionHook hook) {
  switch (hook) {
  case DirectionHook::Xdp:
    return "xdp";
  case DirectionHook::Tc:
    return "tc";
  case DirectionHook::TcOnly:
    return "tc"; // forwarded by the TC program; the reason says XDP passed it
  case DirectionHook::Kernel:
    return "kernel";
  }
  return "?";
}

InterfaceHook choose_interface_hook(HookPreference pref, const DriverFacts &f) {
  if (pref == HookPreference::Xdp)
    return {Hook::Xdp, "--hook xdp"};
  if (pref == HookPreference::Tc)
    return {Hook::Tc, "--hook tc"};
  // Virtual devices fed by a local sender's skb: with the sender's tx
  // checksum offload on (the default) their frames carry only the
  // pseudo-header checksum, which XDP cannot see.
  if (f.driver == "veth")
    return {Hook::Tc,
            "veth (sender checksum offload leaves CHECKSUM_PARTIAL frames XDP cannot see)"};
  if (f.driver == "tun")
    return {Hook::Tc,
            "tun/tap (sender checksum offload leaves CHECKSUM_PARTIAL frames XDP cannot see)"};
  std::string driver = f.driver.empty() ? "the driver" : "driver " + f.driver;
  if (f.xdp_features && !(*f.xdp_features & XDP_FEATURE_BASIC))
    return {Hook::Tc, driver + " has no native XDP (generic XDP would cost more than TC)"};
  if (f.xdp_features && !(*f.xdp_features & XDP_FEATURE_NDO_XMIT))
    return {Hook::Tc, driver + " cannot receive XDP redirects (no ndo-xmit)"};
  if (!f.xdp_features && f.driver.empty())
    return {Hook::Tc, "the kernel says neither the driver nor its XDP features"};
  return {Hook::Xdp, driver + " runs native XDP and hands over complete checksums"};
}

bool is_neutral_qdisc(std::string_view kind, const std::vector<std::string> &user_neutral) {
  // Work-conserving FIFOs and per-flow fair queues: they neither limit the
  // rate nor classify by policy. mq only holds per-queue children (listed
  // separately). noqueue: no queue at all (veth's default).
  static constexpr std::array<std::string_view, 6> builtin = {"noqueue", "pfifo_fast", "pfifo",
                                                              "mq",      "fq_codel",   "fq"};
  if (std::find(builtin.begin(), builtin.end(), kind) != builtin.end())
    return true;
  return std::find(user_neutral.begin(), user_neutral.end(), kind) != user_neutral.end();
}

std::string shaping_qdisc(const TcFacts &facts, const std::vector<std::string> &user_neutral) {
  for (const auto &kind : facts.egress_qdiscs)
    if (!is_neutral_qdisc(kind, user_neutral))
      return kind;
  return {};
}

DirectionDecision choose_direction(const HookedInterface &in, const HookedInterface &out,
                                   const std::vector<std::string> &user_neutral) {
  if (!in.tc.ingress_ifb.empty())
    return {DirectionHook::Kernel, in.name + " ingress is shaped through " + in.tc.ingress_ifb +
                                       " (mirred redirect): the ifb must see it"};
  std::string shaper = shaping_qdisc(out.tc, user_neutral);
  std::string why_tc;
  if (!shaper.empty())
    why_tc = out.name + " egress is shaped (" + shaper + "): forwarded through its qdisc";
  else if (!out.receives_xdp_redirect)
    why_tc = out.name + " cannot receive XDP redirects";
  if (in.hook == Hook::Tc)
    return {DirectionHook::Tc, why_tc};
  if (why_tc.empty())
    return {DirectionHook::Xdp, ""};
  if (in.tc_beside_xdp)
    return {DirectionHook::TcOnly, why_tc + " by TC on " + in.name};
  return {DirectionHook::Kernel, why_tc + "; no TC program on " + in.name};
}

} // namespace xdpflow
