// The hook decisions (core/hook_choice.h): per interface from driver facts,
// per direction from the tc facts of its ingress and egress.
#include <gtest/gtest.h>

#include "core/hook_choice.h"
#include "core/xdp_mode.h"

namespace xdpflow {
namespace {

constexpr std::uint64_t kNicFeatures =
    XDP_FEATURE_BASIC | XDP_FEATURE_REDIRECT | XDP_FEATURE_NDO_XMIT;

TEST(HookChoice, ParsesTheOptionValues) {
  EXPECT_EQ(parse_hook_preference("auto"), HookPreference::Auto);
  EXPECT_EQ(parse_hook_preference("xdp"), HookPreference::Xdp);
  EXPECT_EQ(parse_hook_preference("tc"), HookPreference::Tc);
  EXPECT_EQ(parse_hook_preference("TC"), std::nullopt);
  EXPECT_EQ(parse_hook_preference(""), std::nullopt);
}

TEST(HookChoice, AutoPutsVethAndTapOnTcWithTheChecksumReason) {
  for (const char *driver : {"veth", "tun"}) {
    // veth reports full XDP features: the driver alone decides.
    auto h = choose_interface_hook(HookPreference::Auto, {driver, kNicFeatures});
    EXPECT_EQ(h.hook, Hook::Tc) << driver;
    EXPECT_NE(h.reason.find("CHECKSUM_PARTIAL"), std::string::npos) << h.reason;
  }
}

TEST(HookChoice, AutoPutsNativeXdpNicsOnXdp) {
  auto h = choose_interface_hook(HookPreference::Auto, {"ixgbe", kNicFeatures});
  EXPECT_EQ(h.hook, Hook::Xdp);
  EXPECT_NE(h.reason.find("ixgbe"), std::string::npos) << h.reason;
  // Features unknown (kernel before 6.3) but a real driver: XDP, as before.
  EXPECT_EQ(choose_interface_hook(HookPreference::Auto, {"virtio_net", std::nullopt}).hook,
            Hook::Xdp);
}

TEST(HookChoice, AutoPutsDriversWithoutNativeXdpOrNdoXmitOnTc) {
  auto bridge = choose_interface_hook(HookPreference::Auto, {"bridge", 0});
  EXPECT_EQ(bridge.hook, Hook::Tc);
  EXPECT_NE(bridge.reason.find("no native XDP"), std::string::npos) << bridge.reason;
  auto no_xmit = choose_interface_hook(HookPreference::Auto,
                                       {"somenic", XDP_FEATURE_BASIC | XDP_FEATURE_REDIRECT});
  EXPECT_EQ(no_xmit.hook, Hook::Tc);
  EXPECT_NE(no_xmit.reason.find("ndo-xmit"), std::string::npos) << no_xmit.reason;
  EXPECT_EQ(choose_interface_hook(HookPreference::Auto, {"", std::nullopt}).hook, Hook::Tc);
}

TEST(HookChoice, ForcedHooksWinOverFacts) {
  EXPECT_EQ(choose_interface_hook(HookPreference::Xdp, {"veth", kNicFeatures}).hook, Hook::Xdp);
  EXPECT_EQ(choose_interface_hook(HookPreference::Tc, {"ixgbe", kNicFeatures}).hook, Hook::Tc);
  EXPECT_EQ(choose_interface_hook(HookPreference::Tc, {"ixgbe", kNicFeatures}).reason, "--hook tc");
}

TEST(HookChoice, NeutralQdiscsAreTheQueuesThatDoNotShape) {
  for (const char *kind : {"noqueue", "pfifo_fast", "pfifo", "mq", "fq_codel", "fq"})
    EXPECT_TRUE(is_neutral_qdisc(kind, {})) << kind;
  for (const char *kind : {"htb", "tbf", "hfsc", "cake", "netem", "prio", "sfq"})
    EXPECT_FALSE(is_neutral_qdisc(kind, {})) << kind;
  EXPECT_TRUE(is_neutral_qdisc("sfq", {"sfq"})) << "declared neutral by the user";
  EXPECT_EQ(shaping_qdisc({{"mq", "fq_codel", "htb"}, ""}, {}), "htb");
  EXPECT_EQ(shaping_qdisc({{"mq", "fq_codel"}, ""}, {}), "");
  EXPECT_EQ(shaping_qdisc({{"htb"}, ""}, {"htb"}), "");
}

HookedInterface iface(const char *name, Hook hook, TcFacts tc = {}, bool beside = true) {
  HookedInterface i;
  i.name = name;
  i.hook = hook;
  i.tc_beside_xdp = beside;
  i.tc = std::move(tc);
  return i;
}

TEST(HookChoice, UnshapedDirectionsTakeTheirIngressHook) {
  auto nic = iface("eth0", Hook::Xdp, {{"mq", "fq_codel"}, ""});
  auto veth = iface("veth0", Hook::Tc, {{"noqueue"}, ""});
  EXPECT_EQ(choose_direction(nic, veth, {}).hook, DirectionHook::Xdp);
  EXPECT_EQ(choose_direction(veth, nic, {}).hook, DirectionHook::Tc);
  EXPECT_EQ(choose_direction(nic, veth, {}).reason, "");
}

TEST(HookChoice, ShapedEgressIsForwardedByTcEvenFromAnXdpIngress) {
  auto lan = iface("lan0", Hook::Xdp);
  auto wan = iface("wan0", Hook::Xdp, {{"htb", "pfifo"}, ""});
  auto up = choose_direction(lan, wan, {});
  EXPECT_EQ(up.hook, DirectionHook::TcOnly);
  EXPECT_NE(up.reason.find("wan0 egress is shaped (htb)"), std::string::npos) << up.reason;
  // The other direction leaves through the unshaped LAN: XDP.
  EXPECT_EQ(choose_direction(wan, lan, {}).hook, DirectionHook::Xdp);
  // From a TC ingress the shaped egress is just TC.
  EXPECT_EQ(choose_direction(iface("veth0", Hook::Tc), wan, {}).hook, DirectionHook::Tc);
  // Without the TC program beside XDP, the kernel path keeps the shaping.
  EXPECT_EQ(choose_direction(iface("lan0", Hook::Xdp, {}, false), wan, {}).hook,
            DirectionHook::Kernel);
  // Declared neutral: XDP.
  EXPECT_EQ(choose_direction(lan, wan, {"htb"}).hook, DirectionHook::Xdp);
}

TEST(HookChoice, EgressThatCannotReceiveXdpRedirectsGoesThroughTc) {
  auto lan = iface("lan0", Hook::Xdp);
  auto out = iface("br0", Hook::Tc);
  out.receives_xdp_redirect = false;
  EXPECT_EQ(choose_direction(lan, out, {}).hook, DirectionHook::TcOnly);
}

TEST(HookChoice, IngressRedirectedToAnIfbStaysOnTheKernelPathOtherDirectionNot) {
  auto wan = iface("wan0", Hook::Tc, {{"noqueue"}, "ifb0"});
  auto lan = iface("lan0", Hook::Tc);
  auto down = choose_direction(wan, lan, {});
  EXPECT_EQ(down.hook, DirectionHook::Kernel);
  EXPECT_NE(down.reason.find("ifb0"), std::string::npos) << down.reason;
  EXPECT_EQ(choose_direction(lan, wan, {}).hook, DirectionHook::Tc);
  // Even from an XDP ingress: XDP runs before the ifb's filter.
  auto xdp_wan = iface("wan0", Hook::Xdp, {{}, "ifb0"});
  EXPECT_EQ(choose_direction(xdp_wan, lan, {}).hook, DirectionHook::Kernel);
}

} // namespace
} // namespace xdpflow
