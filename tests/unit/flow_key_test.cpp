// Key building (loader/core/flow_key.h): the byte layout the XDP parser
// produces for the same packet, so that a key built by the control plane
// finds the packet's entry in the hash map.
#include <arpa/inet.h>
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "core/flow_key.h"

namespace xdpflow {
namespace {

FlowTuple tuple(const char *src, std::uint16_t sport, const char *dst, std::uint16_t dport,
                std::uint8_t proto) {
  return FlowTuple{*IpAddr::parse(src), *IpAddr::parse(dst), sport, dport, proto};
}

TEST(FlowKey, Ipv4AddressesAndPortsInNetworkOrder) {
  xf_encap e{};
  xf_flow_key k = make_flow_key(7, e, tuple("198.18.0.2", 40000, "198.19.0.2", 53, IPPROTO_UDP));
  EXPECT_EQ(7u, k.ifindex);
  EXPECT_EQ(XF_FAMILY_IPV4, k.family);
  EXPECT_EQ(IPPROTO_UDP, k.proto);
  EXPECT_EQ(0, k.pad);
  // Exactly the bytes of the IPv4 header: a memcpy of saddr/daddr.
  const std::uint8_t src[4] = {198, 18, 0, 2}, dst[4] = {198, 19, 0, 2};
  EXPECT_EQ(0, std::memcmp(&k.src[0], src, 4));
  EXPECT_EQ(0, std::memcmp(&k.dst[0], dst, 4));
  for (int i = 1; i < 4; i++) {
    EXPECT_EQ(0u, k.src[i]) << "IPv4 leaves the rest zero";
    EXPECT_EQ(0u, k.dst[i]);
  }
  const std::uint8_t sport[2] = {0x9c, 0x40}, dport[2] = {0x00, 0x35}; // 40000, 53
  EXPECT_EQ(0, std::memcmp(&k.sport, sport, 2));
  EXPECT_EQ(0, std::memcmp(&k.dport, dport, 2));
}

TEST(FlowKey, Ipv6Addresses) {
  xf_flow_key k =
      make_flow_key(3, xf_encap{}, tuple("2001:2:0:1::2", 1, "2001:2:0:2::2", 2, IPPROTO_TCP));
  EXPECT_EQ(XF_FAMILY_IPV6, k.family);
  in6_addr src{}, dst{};
  inet_pton(AF_INET6, "2001:2:0:1::2", &src);
  inet_pton(AF_INET6, "2001:2:0:2::2", &dst);
  EXPECT_EQ(0, std::memcmp(k.src, &src, 16));
  EXPECT_EQ(0, std::memcmp(k.dst, &dst, 16));
}

TEST(FlowKey, EncapsulationIsCopiedAndPartOfTheKey) {
  xf_encap e{};
  e.vlan_id[0] = 100;
  e.vlan_id[1] = 10;
  e.vlan_count = 2;
  e.pppoe_sid = 0x1234;
  e.flags = XF_ENCAP_OUTER_8021AD | XF_ENCAP_PPPOE;
  FlowTuple t = tuple("198.18.0.2", 1, "198.19.0.2", 2, IPPROTO_TCP);
  xf_flow_key k = make_flow_key(1, e, t);
  EXPECT_EQ(0, std::memcmp(&k.encap, &e, sizeof(e)));
  xf_flow_key untagged = make_flow_key(1, xf_encap{}, t);
  EXPECT_NE(0, std::memcmp(&k, &untagged, sizeof(k)));
}

TEST(FlowKey, EqualTuplesGiveByteEqualKeys) {
  // The hash map compares keys as bytes: nothing uninitialised may differ.
  FlowTuple t = tuple("198.18.0.2", 40000, "198.19.0.2", 80, IPPROTO_TCP);
  xf_flow_key a = make_flow_key(2, xf_encap{}, t);
  xf_flow_key b;
  std::memset(&b, 0xa5, sizeof(b));
  b = make_flow_key(2, xf_encap{}, t);
  EXPECT_EQ(0, std::memcmp(&a, &b, sizeof(a)));
}

TEST(FlowKey, TupleRoundTrip) {
  for (const FlowTuple &t : {tuple("198.18.0.2", 40000, "198.19.0.2", 443, IPPROTO_TCP),
                             tuple("2001:2::1", 65535, "2001:2:0:2::2", 0, IPPROTO_UDP)}) {
    EXPECT_EQ(t, tuple_of(make_flow_key(9, xf_encap{}, t)));
  }
}

TEST(FlowKey, ToString) {
  EXPECT_EQ("tcp 198.18.0.2:40000 -> 198.19.0.2:80",
            to_string(tuple("198.18.0.2", 40000, "198.19.0.2", 80, IPPROTO_TCP)));
  EXPECT_EQ("udp [2001:2::2]:53 -> [2001:2:0:2::1]:61000",
            to_string(tuple("2001:2::2", 53, "2001:2:0:2::1", 61000, IPPROTO_UDP)));
}

TEST(IpAddr, Parse) {
  EXPECT_FALSE(IpAddr::parse("198.18.0.256"));
  EXPECT_FALSE(IpAddr::parse("not an address"));
  EXPECT_FALSE(IpAddr::parse(""));
  auto v4 = IpAddr::parse("198.18.0.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(XF_FAMILY_IPV4, v4->family);
  EXPECT_EQ("198.18.0.1", v4->to_string());
  auto v6 = IpAddr::parse("2001:2::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(XF_FAMILY_IPV6, v6->family);
  EXPECT_EQ("2001:2::1", v6->to_string());
  __u32 words[4];
  v4->to_words(words);
  EXPECT_EQ(*v4, IpAddr::from_words(XF_FAMILY_IPV4, words));
}

} // namespace
} // namespace xdpflow
