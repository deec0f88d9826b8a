// The compact map keys (loader/core/map_key.h): the loader's key converts to
// the bytes the XDP parser writes for the same packet (head, addresses and
// ports in wire order) and back without loss, encapsulation included.
#include <arpa/inet.h>
#include <cstddef>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "core/flow_key.h"
#include "core/map_key.h"

namespace xdpflow {
namespace {

xf_flow_key key(const char *src, std::uint16_t sport, const char *dst, std::uint16_t dport,
                std::uint8_t proto, const xf_encap &encap) {
  return make_flow_key(9, encap,
                       FlowTuple{*IpAddr::parse(src), *IpAddr::parse(dst), sport, dport, proto});
}

xf_encap qinq_pppoe() {
  xf_encap e{};
  e.vlan_count = 2;
  e.vlan_id[0] = 100;
  e.vlan_id[1] = 4094;
  e.flags = XF_ENCAP_OUTER_8021AD | XF_ENCAP_PPPOE;
  e.pppoe_sid = 0x1234;
  return e;
}

TEST(MapKey, LayoutIsPacked) {
  // The kernel hashes and compares every byte: no hidden padding.
  EXPECT_EQ(12u, sizeof(xf_key_head));
  EXPECT_EQ(24u, sizeof(xf_flow_key4));
  EXPECT_EQ(48u, sizeof(xf_flow_key6));
  EXPECT_EQ(12u, offsetof(xf_flow_key4, src));
  EXPECT_EQ(20u, offsetof(xf_flow_key4, sport));
  EXPECT_EQ(12u, offsetof(xf_flow_key6, src));
  EXPECT_EQ(44u, offsetof(xf_flow_key6, sport));
}

TEST(MapKey, Ipv4KeyHasTheWireBytes) {
  xf_flow_key k = key("198.18.0.2", 40000, "198.19.0.2", 53, IPPROTO_UDP, xf_encap{});
  xf_flow_key4 m = to_map_key4(k);
  EXPECT_EQ(9u, m.head.ifindex);
  EXPECT_EQ(IPPROTO_UDP, m.head.proto);
  EXPECT_EQ(0, m.head.encap);
  const std::uint8_t src[4] = {198, 18, 0, 2}, dst[4] = {198, 19, 0, 2};
  EXPECT_EQ(0, std::memcmp(&m.src, src, 4));
  EXPECT_EQ(0, std::memcmp(&m.dst, dst, 4));
  EXPECT_EQ(htons(40000), m.sport);
  EXPECT_EQ(htons(53), m.dport);
}

TEST(MapKey, EncapsulationPacksIntoTheHead) {
  xf_flow_key k = key("198.18.0.2", 1, "198.19.0.2", 2, IPPROTO_TCP, qinq_pppoe());
  xf_flow_key4 m = to_map_key4(k);
  EXPECT_EQ(100, m.head.vlan_id[0]);
  EXPECT_EQ(4094, m.head.vlan_id[1]);
  EXPECT_EQ(0x1234, m.head.pppoe_sid);
  EXPECT_EQ(2u, XF_KEY_VLAN_COUNT(m.head.encap));
  EXPECT_EQ(XF_ENCAP_OUTER_8021AD | XF_ENCAP_PPPOE, XF_KEY_ENCAP_FLAGS(m.head.encap));
}

TEST(MapKey, RoundTripsBothFamilies) {
  xf_flow_key v4 = key("198.18.0.2", 40000, "198.19.0.2", 5201, IPPROTO_TCP, qinq_pppoe());
  xf_flow_key back4 = from_map_key(to_map_key4(v4));
  EXPECT_EQ(0, std::memcmp(&v4, &back4, sizeof(v4)));

  xf_encap one_tag{};
  one_tag.vlan_count = 1;
  one_tag.vlan_id[0] = 7;
  xf_flow_key v6 = key("2001:2:0:1::2", 1234, "2001:2:0:2::2", 443, IPPROTO_UDP, one_tag);
  xf_flow_key6 m6 = to_map_key6(v6);
  EXPECT_EQ(0, std::memcmp(m6.src, v6.src, 16));
  EXPECT_EQ(0, std::memcmp(m6.dst, v6.dst, 16));
  xf_flow_key back6 = from_map_key(m6);
  EXPECT_EQ(0, std::memcmp(&v6, &back6, sizeof(v6)));
}

TEST(MapKey, FieldsBeyondTheEncapsulationDoNotSplitOneKeyInTwo) {
  // Stale bytes in unused encap fields must not make a second, unreachable
  // key: the parser writes zero there.
  xf_encap dirty{};
  dirty.vlan_id[0] = 55; // no tag counted
  dirty.pppoe_sid = 9;   // no PPPoE flag
  xf_flow_key a = key("198.18.0.2", 1, "198.19.0.2", 2, IPPROTO_UDP, dirty);
  xf_flow_key b = key("198.18.0.2", 1, "198.19.0.2", 2, IPPROTO_UDP, xf_encap{});
  xf_flow_key4 ma = to_map_key4(a), mb = to_map_key4(b);
  EXPECT_EQ(0, std::memcmp(&ma, &mb, sizeof(ma)));
}

} // namespace
} // namespace xdpflow
