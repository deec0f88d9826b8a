// The test packet builder (tests/datapath/packet_builder) writes wire order
// whatever the host's byte order: read back byte by byte at the offsets the
// protocols define, and every checksum verifies when summed as big-endian
// words. Runs on the build host and on the cross targets under qemu
// (big-endian mips included), where a forgotten htons would show.
#include <gtest/gtest.h>

#include "datapath/packet_builder.h"

namespace xdpflow::testing {
namespace {

std::uint32_t be16(const Bytes &f, std::size_t at) {
  return std::uint32_t(f[at]) << 8 | f[at + 1];
}

std::uint32_t be32(const Bytes &f, std::size_t at) {
  return be16(f, at) << 16 | be16(f, at + 2);
}

// One's complement sum of big-endian 16-bit words, folded (0xffff: verifies).
std::uint32_t folded_sum(const Bytes &f, std::size_t from, std::size_t len, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i < len; i += 2)
    sum += (std::uint32_t(f[from + i]) << 8) | (i + 1 < len ? f[from + i + 1] : 0);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

const Mac kDst{0x02, 0, 0, 0, 0, 0x01}, kSrc{0x02, 0, 0, 0, 0, 0x02};

TEST(PacketBuilderWireOrder, VlanIpv4Tcp) {
  TcpOpts t;
  t.seq = 0x11223344;
  Bytes f = Packet()
                .eth(kDst, kSrc)
                .vlan(0x123)
                .ipv4("198.18.0.2", "198.19.0.3")
                .tcp(40000, 443, t)
                .payload(10)
                .build();
  ASSERT_EQ(14u + 4 + 20 + 20 + 10, f.size());
  EXPECT_EQ(0x8100u, be16(f, 12));
  EXPECT_EQ(0x123u, be16(f, 14) & 0x0fff);
  EXPECT_EQ(0x0800u, be16(f, 16));
  const std::size_t ip = 18, tcp = ip + 20;
  EXPECT_EQ(0x45u, f[ip]);
  EXPECT_EQ(20u + 20 + 10, be16(f, ip + 2)); // total length
  EXPECT_EQ(0x4000u, be16(f, ip + 6));       // DF
  EXPECT_EQ(6u, f[ip + 9]);
  EXPECT_EQ((198u << 24) | (18u << 16) | 2u, be32(f, ip + 12));
  EXPECT_EQ((198u << 24) | (19u << 16) | 3u, be32(f, ip + 16));
  EXPECT_EQ(0xffffu, folded_sum(f, ip, 20)) << "IPv4 header checksum";
  EXPECT_EQ(40000u, be16(f, tcp));
  EXPECT_EQ(443u, be16(f, tcp + 2));
  EXPECT_EQ(0x11223344u, be32(f, tcp + 4));
  // Pseudo header: addresses, protocol, TCP length.
  std::uint32_t pseudo = folded_sum(f, ip + 12, 8) + 6 + 30;
  EXPECT_EQ(0xffffu, folded_sum(f, tcp, 30, pseudo)) << "TCP checksum";
}

TEST(PacketBuilderWireOrder, PppoeIpv6Udp) {
  Bytes f = Packet()
                .eth(kDst, kSrc)
                .pppoe(0x2a)
                .ipv6("2001:2::1", "2001:2::2")
                .udp(5353, 53)
                .payload(7)
                .build();
  EXPECT_EQ(0x8864u, be16(f, 12));
  EXPECT_EQ(0x2au, be16(f, 16));           // session id
  EXPECT_EQ(40u + 8 + 7 + 2, be16(f, 18)); // PPPoE length: PPP protocol + payload
  EXPECT_EQ(0x0057u, be16(f, 20));         // PPP: IPv6
  const std::size_t ip = 22, udp = ip + 40;
  EXPECT_EQ(6u, f[ip] >> 4);
  EXPECT_EQ(15u, be16(f, ip + 4)); // payload length
  EXPECT_EQ(17u, f[ip + 6]);
  EXPECT_EQ(0x20010002u, be32(f, ip + 8));
  EXPECT_EQ(1u, be32(f, ip + 20));
  EXPECT_EQ(5353u, be16(f, udp));
  EXPECT_EQ(15u, be16(f, udp + 4));
  std::uint32_t pseudo = folded_sum(f, ip + 8, 32) + 17 + 15;
  EXPECT_EQ(0xffffu, folded_sum(f, udp, 15, pseudo)) << "UDP checksum";
}

} // namespace
} // namespace xdpflow::testing
