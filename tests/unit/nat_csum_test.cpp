// NAT and TTL rewrites done the way bpf/rewrite.h does them (csum.h on
// words as they sit in memory), compared with the same rewrite followed by a
// full recomputation of every checksum. IPv4 and IPv6, TCP and UDP, random
// addresses/ports/NAT kinds, the UDP zero-checksum rules and the corners
// where a new checksum computes to 0.
#include <cstring>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <random>
#include <vector>

#include "common/inet_csum.h"
#include "xdpflow/csum.h"
#include "xdpflow/flow.h"

namespace {

using xdpflow::testing::InetSum;
using Bytes = std::vector<std::uint8_t>;

std::uint16_t be16(const Bytes &b, std::size_t at) {
  return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1));
}
void set_be16(Bytes &b, std::size_t at, std::uint16_t v) {
  b.at(at) = static_cast<std::uint8_t>(v >> 8);
  b.at(at + 1) = static_cast<std::uint8_t>(v);
}
template <class T> T load(const Bytes &b, std::size_t at) {
  T v;
  std::memcpy(&v, &b.at(at), sizeof(T));
  return v;
}
template <class T> void store(Bytes &b, std::size_t at, T v) {
  std::memcpy(&b.at(at), &v, sizeof(T));
}

// An IP packet (no layer 2) with a TCP or UDP segment.
struct Datagram {
  int family = XF_FAMILY_IPV4;
  std::uint8_t proto = IPPROTO_TCP;
  Bytes b;

  std::size_t l4() const { return family == XF_FAMILY_IPV4 ? 20 : 40; }
  std::size_t l4_check() const { return l4() + (proto == IPPROTO_TCP ? 16 : 6); }
  std::size_t src() const { return family == XF_FAMILY_IPV4 ? 12 : 8; }
  std::size_t addr_len() const { return family == XF_FAMILY_IPV4 ? 4 : 16; }
  std::size_t dst() const { return src() + addr_len(); }
  std::size_t ttl() const { return family == XF_FAMILY_IPV4 ? 8 : 7; }
};

// Reference: every checksum recomputed from scratch, RFC 768/793/8200.
void recompute(Datagram &d, bool udp_without_checksum = false) {
  if (d.family == XF_FAMILY_IPV4) {
    set_be16(d.b, 10, 0);
    set_be16(d.b, 10, xdpflow::testing::inet_checksum(std::span(d.b).first(20)));
  }
  set_be16(d.b, d.l4_check(), 0);
  if (udp_without_checksum)
    return;
  std::span<const std::uint8_t> seg = std::span(d.b).subspan(d.l4());
  InetSum sum;
  sum.add(std::span(d.b).subspan(d.src(), 2 * d.addr_len()));
  sum.add32(static_cast<std::uint32_t>(seg.size())).add16(d.proto).add(seg);
  std::uint16_t check = sum.checksum();
  if (d.proto == IPPROTO_UDP && check == 0)
    check = 0xffff;
  set_be16(d.b, d.l4_check(), check);
}

Datagram random_datagram(std::mt19937 &rng, int family, std::uint8_t proto) {
  Datagram d{family, proto, {}};
  std::size_t l4_len = (proto == IPPROTO_TCP ? 20 : 8) + rng() % 64;
  d.b.resize(d.l4() + l4_len);
  for (auto &byte : d.b)
    byte = static_cast<std::uint8_t>(rng());
  if (family == XF_FAMILY_IPV4) {
    d.b[0] = 0x45;
    set_be16(d.b, 2, static_cast<std::uint16_t>(d.b.size()));
    d.b[9] = proto;
  } else {
    d.b[0] = 0x60;
    set_be16(d.b, 4, static_cast<std::uint16_t>(l4_len));
    d.b[6] = proto;
  }
  d.b[d.ttl()] = static_cast<std::uint8_t>(2 + rng() % 254);
  if (proto == IPPROTO_UDP)
    set_be16(d.b, d.l4() + 4, static_cast<std::uint16_t>(l4_len));
  else
    d.b[d.l4() + 12] = 0x50;
  recompute(d);
  return d;
}

struct Nat {
  std::uint8_t flags = 0;
  __u32 new_src[4]{}, new_dst[4]{};
  __u16 new_sport = 0, new_dport = 0; // network order
};

Nat random_nat(std::mt19937 &rng) {
  Nat n;
  n.flags = static_cast<std::uint8_t>(rng() % 16);
  for (int i = 0; i < 4; i++) {
    n.new_src[i] = static_cast<__u32>(rng());
    n.new_dst[i] = static_cast<__u32>(rng());
  }
  n.new_sport = static_cast<__u16>(rng());
  n.new_dport = static_cast<__u16>(rng());
  return n;
}

// The data path's way (bpf/rewrite.h xf_rewrite_l3l4): changed words summed
// into l3/l4 accumulators, TTL through its 16-bit word, then applied.
void rewrite_incrementally(Datagram &d, const Nat &n) {
  __u32 l3 = 0, l4 = 0;
  int words = static_cast<int>(d.addr_len() / 4);
  auto nat_addr = [&](std::size_t at, const __u32 *to) {
    for (int i = 0; i < words; i++) {
      std::size_t off = at + 4 * static_cast<std::size_t>(i);
      l4 = xf_csum_acc32(l4, load<__u32>(d.b, off), to[i]);
      store(d.b, off, to[i]);
    }
  };
  if (n.flags & XF_NAT_SRC_ADDR)
    nat_addr(d.src(), n.new_src);
  if (n.flags & XF_NAT_DST_ADDR)
    nat_addr(d.dst(), n.new_dst);
  if (d.family == XF_FAMILY_IPV4) {
    l3 = l4;                    // addresses are in both sums
    std::size_t word = d.ttl(); // TTL and protocol share a 16-bit word
    __u16 old_word = load<__u16>(d.b, word);
    d.b[d.ttl()]--;
    l3 = xf_csum_acc16(l3, old_word, load<__u16>(d.b, word));
    store(d.b, 10, xf_csum_apply(load<__u16>(d.b, 10), l3));
  } else {
    d.b[d.ttl()]--;
  }
  if (n.flags & XF_NAT_SRC_PORT) {
    l4 = xf_csum_acc16(l4, load<__u16>(d.b, d.l4()), n.new_sport);
    store(d.b, d.l4(), n.new_sport);
  }
  if (n.flags & XF_NAT_DST_PORT) {
    l4 = xf_csum_acc16(l4, load<__u16>(d.b, d.l4() + 2), n.new_dport);
    store(d.b, d.l4() + 2, n.new_dport);
  }
  __u16 check = load<__u16>(d.b, d.l4_check());
  if (d.proto == IPPROTO_TCP)
    store(d.b, d.l4_check(), xf_csum_apply(check, l4));
  else if (check != 0) // UDP without checksum stays without
    store(d.b, d.l4_check(), xf_csum_apply_udp(check, l4));
}

// The same rewrite on the fields alone, checksums recomputed from scratch.
Datagram rewrite_reference(Datagram d, const Nat &n, bool udp_without_checksum = false) {
  if (n.flags & XF_NAT_SRC_ADDR)
    std::memcpy(&d.b[d.src()], n.new_src, d.addr_len());
  if (n.flags & XF_NAT_DST_ADDR)
    std::memcpy(&d.b[d.dst()], n.new_dst, d.addr_len());
  if (n.flags & XF_NAT_SRC_PORT)
    store(d.b, d.l4(), n.new_sport);
  if (n.flags & XF_NAT_DST_PORT)
    store(d.b, d.l4() + 2, n.new_dport);
  d.b[d.ttl()]--;
  recompute(d, udp_without_checksum);
  return d;
}

struct Case {
  int family;
  std::uint8_t proto;
  const char *name;
};
const Case kCases[] = {{XF_FAMILY_IPV4, IPPROTO_TCP, "ipv4 tcp"},
                       {XF_FAMILY_IPV4, IPPROTO_UDP, "ipv4 udp"},
                       {XF_FAMILY_IPV6, IPPROTO_TCP, "ipv6 tcp"},
                       {XF_FAMILY_IPV6, IPPROTO_UDP, "ipv6 udp"}};

TEST(NatChecksum, RandomRewritesMatchFullRecomputation) {
  std::mt19937 rng(1624);
  for (const Case &c : kCases) {
    for (int i = 0; i < 20000; i++) {
      Datagram d = random_datagram(rng, c.family, c.proto);
      Nat n = random_nat(rng);
      Datagram want = rewrite_reference(d, n);
      rewrite_incrementally(d, n);
      ASSERT_EQ(want.b, d.b) << c.name << " iteration " << i << " nat " << int(n.flags);
    }
  }
}

TEST(NatChecksum, TtlDecrementAloneOverEveryTtl) {
  std::mt19937 rng(64);
  for (const Case &c : kCases) {
    Datagram d = random_datagram(rng, c.family, c.proto);
    for (int ttl = 2; ttl <= 255; ttl++) {
      Datagram in = d;
      in.b[in.ttl()] = static_cast<std::uint8_t>(ttl);
      recompute(in);
      Datagram want = rewrite_reference(in, Nat{});
      rewrite_incrementally(in, Nat{});
      ASSERT_EQ(want.b, in.b) << c.name << " ttl " << ttl;
      EXPECT_EQ(ttl - 1, in.b[in.ttl()]);
    }
  }
}

TEST(NatChecksum, UdpWithoutChecksumStaysWithout) {
  std::mt19937 rng(768);
  for (int family : {XF_FAMILY_IPV4, XF_FAMILY_IPV6}) {
    for (int i = 0; i < 2000; i++) {
      Datagram d = random_datagram(rng, family, IPPROTO_UDP);
      recompute(d, /*udp_without_checksum=*/true);
      Nat n = random_nat(rng);
      Datagram want = rewrite_reference(d, n, /*udp_without_checksum=*/true);
      rewrite_incrementally(d, n);
      ASSERT_EQ(want.b, d.b) << "family " << family << " iteration " << i;
      ASSERT_EQ(0, be16(d.b, d.l4_check()));
    }
  }
}

// Chooses the last payload word so that the rewritten segment's sum is
// 0xffff: its computed checksum is then 0x0000, which UDP sends as 0xffff.
TEST(NatChecksum, NewChecksumComputingToZero) {
  std::mt19937 rng(8200);
  for (const Case &c : kCases) {
    int reached = 0;
    for (int i = 0; i < 200; i++) {
      Datagram d = random_datagram(rng, c.family, c.proto);
      std::size_t header = c.proto == IPPROTO_TCP ? 20 : 8, seg = d.b.size() - d.l4();
      if (seg % 2 || seg < header + 2) // an aligned payload word, not a header field
        continue;
      std::size_t word = d.b.size() - 2;
      Nat n = random_nat(rng);
      n.flags |= XF_NAT_SRC_ADDR;
      set_be16(d.b, word, 0);
      Datagram probe = rewrite_reference(d, n);
      std::uint16_t c0 = be16(probe.b, probe.l4_check());
      if (c0 == 0xffff) // UDP's stand-in for 0: the sum is already 0xffff
        continue;
      set_be16(d.b, word, c0);
      recompute(d);
      Datagram want = rewrite_reference(d, n);
      std::uint16_t expect = c.proto == IPPROTO_UDP ? 0xffff : 0x0000;
      ASSERT_EQ(expect, be16(want.b, want.l4_check())) << "reference corner not reached";
      rewrite_incrementally(d, n);
      ASSERT_EQ(want.b, d.b) << c.name << " iteration " << i;
      reached++;
    }
    EXPECT_GT(reached, 50) << c.name << ": too few corner cases built";
  }
}

TEST(NatChecksum, IdentityNatChangesOnlyTtl) {
  std::mt19937 rng(1);
  for (const Case &c : kCases) {
    Datagram d = random_datagram(rng, c.family, c.proto);
    Nat n;
    n.flags = XF_NAT_SRC_ADDR | XF_NAT_DST_ADDR | XF_NAT_SRC_PORT | XF_NAT_DST_PORT;
    std::memcpy(n.new_src, &d.b[d.src()], d.addr_len());
    std::memcpy(n.new_dst, &d.b[d.dst()], d.addr_len());
    n.new_sport = load<__u16>(d.b, d.l4());
    n.new_dport = load<__u16>(d.b, d.l4() + 2);
    Datagram out = d;
    rewrite_incrementally(out, n);
    EXPECT_EQ(rewrite_reference(d, Nat{}).b, out.b) << c.name;
  }
}

} // namespace
