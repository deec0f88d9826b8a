// The shared structs as the C++ side sees them: every offset the BPF program
// and the loader agree on, no hidden padding, stable enum numbering. flow.h
// pins a few of these with static_assert; this pins all of them.
#include <gtest/gtest.h>
#include <type_traits>

#include "xdpflow/flow.h"

namespace {

template <class T>
constexpr bool kPlainData = std::is_standard_layout_v<T> &&std::is_trivially_copyable_v<T>;

static_assert(kPlainData<xf_encap> && kPlainData<xf_flow_key> && kPlainData<xf_flow_action> &&
              kPlainData<xf_flow_value> && kPlainData<xf_counters> && kPlainData<xf_status>);

TEST(FlowLayout, Encap) {
  EXPECT_EQ(8u, sizeof(xf_encap));
  EXPECT_EQ(0u, offsetof(xf_encap, vlan_id));
  EXPECT_EQ(4u, offsetof(xf_encap, pppoe_sid));
  EXPECT_EQ(6u, offsetof(xf_encap, vlan_count));
  EXPECT_EQ(7u, offsetof(xf_encap, flags));
}

TEST(FlowLayout, KeyHasNoImplicitPadding) {
  // A hash key is compared byte by byte: any compiler-inserted padding
  // would be garbage that makes equal keys differ.
  EXPECT_EQ(52u, sizeof(xf_flow_key));
  EXPECT_EQ(4u, alignof(xf_flow_key));
  EXPECT_EQ(0u, offsetof(xf_flow_key, ifindex));
  EXPECT_EQ(4u, offsetof(xf_flow_key, encap));
  EXPECT_EQ(12u, offsetof(xf_flow_key, family));
  EXPECT_EQ(13u, offsetof(xf_flow_key, proto));
  EXPECT_EQ(14u, offsetof(xf_flow_key, pad));
  EXPECT_EQ(16u, offsetof(xf_flow_key, src));
  EXPECT_EQ(32u, offsetof(xf_flow_key, dst));
  EXPECT_EQ(48u, offsetof(xf_flow_key, sport));
  EXPECT_EQ(50u, offsetof(xf_flow_key, dport));
  std::size_t members =
      sizeof(xf_flow_key::ifindex) + sizeof(xf_flow_key::encap) + sizeof(xf_flow_key::family) +
      sizeof(xf_flow_key::proto) + sizeof(xf_flow_key::pad) + sizeof(xf_flow_key::src) +
      sizeof(xf_flow_key::dst) + sizeof(xf_flow_key::sport) + sizeof(xf_flow_key::dport);
  EXPECT_EQ(sizeof(xf_flow_key), members);
}

TEST(FlowLayout, Action) {
  EXPECT_EQ(64u, sizeof(xf_flow_action));
  EXPECT_EQ(0u, offsetof(xf_flow_action, egress_ifindex));
  EXPECT_EQ(4u, offsetof(xf_flow_action, mtu));
  EXPECT_EQ(6u, offsetof(xf_flow_action, nat));
  EXPECT_EQ(7u, offsetof(xf_flow_action, direction));
  EXPECT_EQ(8u, offsetof(xf_flow_action, encap));
  EXPECT_EQ(16u, offsetof(xf_flow_action, src_mac));
  EXPECT_EQ(22u, offsetof(xf_flow_action, dst_mac));
  EXPECT_EQ(28u, offsetof(xf_flow_action, new_src));
  EXPECT_EQ(44u, offsetof(xf_flow_action, new_dst));
  EXPECT_EQ(60u, offsetof(xf_flow_action, new_sport));
  EXPECT_EQ(62u, offsetof(xf_flow_action, new_dport));
}

TEST(FlowLayout, ValueCountersAreEightByteAligned) {
  // packets/bytes are updated with atomic adds: they must be 8-aligned.
  EXPECT_EQ(104u, sizeof(xf_flow_value));
  EXPECT_EQ(8u, alignof(xf_flow_value));
  EXPECT_EQ(0u, offsetof(xf_flow_value, action));
  EXPECT_EQ(64u, offsetof(xf_flow_value, packets));
  EXPECT_EQ(72u, offsetof(xf_flow_value, bytes));
  EXPECT_EQ(80u, offsetof(xf_flow_value, last_seen_ns));
  EXPECT_EQ(88u, offsetof(xf_flow_value, flags));
  EXPECT_EQ(92u, offsetof(xf_flow_value, ct_id));
  EXPECT_EQ(96u, offsetof(xf_flow_value, action_check));
}

TEST(FlowLayout, GlobalCounters) {
  EXPECT_EQ(256u, sizeof(xf_counters));
  EXPECT_EQ(0u, offsetof(xf_counters, rx_packets));
  EXPECT_EQ(8u, offsetof(xf_counters, fast_packets));
  EXPECT_EQ(16u, offsetof(xf_counters, fast_bytes));
  EXPECT_EQ(24u, offsetof(xf_counters, redirect_errors));
  EXPECT_EQ(32u, offsetof(xf_counters, slow));
  EXPECT_EQ(static_cast<std::size_t>(XF_SLOW_MAX), std::size(xf_counters{}.slow));
  EXPECT_EQ(32u + 8u * XF_SLOW_MAX, offsetof(xf_counters, pad));
  // Per-CPU values are copied out in 8-byte strides: no tail to lose.
  EXPECT_EQ(0u, sizeof(xf_counters) % 8);
}

TEST(FlowLayout, SlowReasonNumberingIsStable) {
  // The JSON output, the loader and the tests index slow[] with these.
  EXPECT_EQ(0, XF_SLOW_NO_FLOW);
  EXPECT_EQ(1, XF_SLOW_TCP_FIN_RST);
  EXPECT_EQ(2, XF_SLOW_TTL);
  EXPECT_EQ(3, XF_SLOW_MTU);
  EXPECT_EQ(4, XF_SLOW_UNPARSED);
  EXPECT_EQ(5, XF_SLOW_NOT_IP);
  EXPECT_EQ(6, XF_SLOW_NOT_TCP_UDP);
  EXPECT_EQ(7, XF_SLOW_IP_OPTIONS);
  EXPECT_EQ(8, XF_SLOW_FRAGMENT);
  EXPECT_EQ(9, XF_SLOW_IPV6_EXT);
  EXPECT_EQ(10, XF_SLOW_NO_EGRESS);
  EXPECT_EQ(11, XF_SLOW_NOT_UNICAST);
  EXPECT_EQ(12, XF_SLOW_TO_TC);
  EXPECT_EQ(13, XF_SLOW_STALE);
  EXPECT_EQ(14, XF_SLOW_NOT_FOR_US);
  EXPECT_EQ(15, XF_SLOW_ADJUST_FAILED);
  EXPECT_EQ(16, XF_SLOW_TC_UNSUPPORTED);
  EXPECT_EQ(17, XF_SLOW_IP_CSUM);
  EXPECT_EQ(18, XF_SLOW_IP_HEADER);
  EXPECT_EQ(19, XF_SLOW_IP_LENGTH);
  EXPECT_EQ(20, XF_SLOW_L4_TRUNCATED);
  EXPECT_EQ(21, XF_SLOW_TCP_DOFF);
  EXPECT_EQ(22, XF_SLOW_MARTIAN);
  EXPECT_EQ(23, XF_SLOW_TRAILER);
  EXPECT_EQ(24, XF_SLOW_TORN);
  EXPECT_EQ(25, XF_SLOW_MAX);
}

TEST(FlowLayout, Status) {
  EXPECT_EQ(136u, sizeof(xf_status));
  EXPECT_EQ(0u, offsetof(xf_status, pid));
  EXPECT_EQ(4u, offsetof(xf_status, max_flows));
  EXPECT_EQ(8u, offsetof(xf_status, started_ns));
  EXPECT_EQ(0u, offsetof(xf_status, pad) % 8);
}

TEST(FlowLayout, FlagValues) {
  EXPECT_EQ(4, XF_FAMILY_IPV4);
  EXPECT_EQ(6, XF_FAMILY_IPV6);
  EXPECT_EQ(1u, XF_ENCAP_PPPOE);
  EXPECT_EQ(2u, XF_ENCAP_OUTER_8021AD);
  EXPECT_EQ(0x1u, XF_NAT_SRC_ADDR);
  EXPECT_EQ(0x2u, XF_NAT_DST_ADDR);
  EXPECT_EQ(0x4u, XF_NAT_SRC_PORT);
  EXPECT_EQ(0x8u, XF_NAT_DST_PORT);
}

} // namespace
