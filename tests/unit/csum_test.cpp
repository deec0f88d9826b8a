// include/xdpflow/csum.h (the incremental arithmetic the XDP program runs)
// against tests/common/inet_csum.h (plain full recomputation, RFC 1071):
// fold/apply basics, exhaustive single-word changes, and the 0x0000/0xffff
// corners.
#include <cstring>
#include <gtest/gtest.h>
#include <vector>

#include "common/inet_csum.h"
#include "xdpflow/csum.h"

namespace {

using xdpflow::testing::inet_checksum;
using Bytes = std::vector<std::uint8_t>;

// Words as the data path sees them: loaded from packet memory, no swapping.
__u16 load16(const Bytes &b, std::size_t at) {
  __u16 v;
  std::memcpy(&v, &b.at(at), 2);
  return v;
}
void store16(Bytes &b, std::size_t at, __u16 v) {
  std::memcpy(&b.at(at), &v, 2);
}
std::uint16_t be16(const Bytes &b, std::size_t at) {
  return static_cast<std::uint16_t>(b.at(at) << 8 | b.at(at + 1));
}
void set_be16(Bytes &b, std::size_t at, std::uint16_t v) {
  b.at(at) = static_cast<std::uint8_t>(v >> 8);
  b.at(at + 1) = static_cast<std::uint8_t>(v);
}

// A valid IPv4 header: 198.18.0.2 -> 198.19.0.2, TTL 64, UDP.
Bytes ipv4_header() {
  Bytes h{0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 64, 17,
          0,    0,    198,  18,   0,    2,    198,  19,   0,  2};
  set_be16(h, 10, inet_checksum(h));
  return h;
}

TEST(InetSum, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const Bytes data{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(0x220d, inet_checksum(data));
  Bytes with_sum = data;
  with_sum.push_back(0x22);
  with_sum.push_back(0x0d);
  EXPECT_EQ(0, inet_checksum(with_sum)) << "data plus its checksum verifies to 0";
  EXPECT_EQ(inet_checksum(Bytes{0xab, 0x00}), inet_checksum(Bytes{0xab})) << "odd byte padded";
}

TEST(CsumFold, EndAroundCarry) {
  EXPECT_EQ(0x0000, xf_csum_fold(0));
  EXPECT_EQ(0xffff, xf_csum_fold(0xffff));
  EXPECT_EQ(0x0001, xf_csum_fold(0x10000));
  EXPECT_EQ(0xffff, xf_csum_fold(0x1fffe));
  EXPECT_EQ(0xffff, xf_csum_fold(0xffffffffu)); // 0xffff + 0xffff = 0x1fffe -> 0xffff
  EXPECT_EQ(0x0002, xf_csum_fold(0x00010001u));
}

TEST(CsumApply, NoChangeKeepsEveryChecksum) {
  for (std::uint32_t old = 0; old <= 0xffff; old++) {
    __u16 check = static_cast<__u16>(old);
    // Nothing accumulated, and a word replaced by itself.
    EXPECT_EQ(check, xf_csum_apply(check, 0)) << old;
    __u32 same = xf_csum_acc16(0, 0x1234, 0x1234);
    __u16 got = xf_csum_apply(check, same);
    // 0x0000 and 0xffff are the two zeros of one's complement.
    if (old == 0xffff)
      EXPECT_TRUE(got == 0xffff || got == 0x0000);
    else
      EXPECT_EQ(check, got) << old;
  }
}

TEST(CsumApply, UdpSendsComputedZeroAsAllOnes) {
  for (std::uint32_t old = 0; old <= 0xffff; old += 7) {
    for (__u32 acc : {0u, 0x1u, 0xfffeu, 0x1fffeu, 0x12345u}) {
      __u16 plain = xf_csum_apply(static_cast<__u16>(old), acc);
      __u16 udp = xf_csum_apply_udp(static_cast<__u16>(old), acc);
      EXPECT_EQ(plain == 0 ? 0xffff : plain, udp);
      EXPECT_NE(0, udp);
    }
  }
}

// Every possible new value of one header word (the IPv4 ID), so every
// possible resulting checksum, 0x0000 included, against full recomputation.
TEST(CsumIncremental, EveryValueOfOneWordMatchesRecomputation) {
  const Bytes orig = ipv4_header();
  int zero_results = 0;
  for (std::uint32_t id = 0; id <= 0xffff; id++) {
    Bytes h = orig;
    set_be16(h, 4, static_cast<std::uint16_t>(id));
    __u32 acc = xf_csum_acc16(0, load16(orig, 4), load16(h, 4));
    store16(h, 10, xf_csum_apply(load16(orig, 10), acc));
    Bytes ref = h;
    set_be16(ref, 10, 0);
    std::uint16_t want = inet_checksum(ref);
    ASSERT_EQ(want, be16(h, 10)) << "id " << id;
    ASSERT_EQ(0, inet_checksum(h)) << "the updated header verifies, id " << id;
    zero_results += want == 0;
  }
  EXPECT_EQ(1, zero_results) << "exactly one ID gives a checksum of 0x0000";
}

// The same for a 32-bit word (an address), a sample of all values.
TEST(CsumIncremental, AddressWordChanges) {
  const Bytes orig = ipv4_header();
  for (std::uint64_t v = 0; v <= 0xffffffffull; v += 0x00010f01ull) {
    Bytes h = orig;
    __u32 old_word, new_word = static_cast<__u32>(v);
    std::memcpy(&old_word, &h[12], 4);
    std::memcpy(&h[12], &new_word, 4);
    store16(h, 10, xf_csum_apply(load16(orig, 10), xf_csum_acc32(0, old_word, new_word)));
    ASSERT_EQ(0, inet_checksum(h)) << std::hex << v;
  }
}

TEST(CsumIncremental, FromAZeroChecksum) {
  // A header whose valid checksum is 0x0000: choose the ID that makes it so.
  Bytes h = ipv4_header();
  set_be16(h, 4, 0);
  set_be16(h, 10, 0);
  set_be16(h, 4, inet_checksum(h)); // sum + ~sum = 0xffff -> checksum 0
  set_be16(h, 10, inet_checksum(h));
  ASSERT_EQ(0, be16(h, 10));
  Bytes changed = h;
  changed[8] = 63; // TTL
  __u32 acc = xf_csum_acc16(0, load16(h, 8), load16(changed, 8));
  store16(changed, 10, xf_csum_apply(load16(h, 10), acc));
  EXPECT_EQ(0, inet_checksum(changed));
  EXPECT_NE(0, be16(changed, 10));
}

TEST(CsumIncremental, ManyChangesAccumulateWithoutOverflow) {
  // Worst case per word is 0x1fffe; 32 words still fit a __u32 easily.
  Bytes a(64, 0x00), b(64, 0xff);
  set_be16(a, 0, 0);
  std::uint16_t check_a = inet_checksum(a);
  __u32 acc = 0;
  for (std::size_t i = 0; i < a.size(); i += 2)
    acc = xf_csum_acc16(acc, load16(a, i), load16(b, i));
  Bytes check_field{static_cast<std::uint8_t>(check_a >> 8), static_cast<std::uint8_t>(check_a)};
  __u16 got = xf_csum_apply(load16(check_field, 0), acc);
  Bytes got_bytes(2);
  store16(got_bytes, 0, got);
  EXPECT_EQ(inet_checksum(b), be16(got_bytes, 0));
}

} // namespace
