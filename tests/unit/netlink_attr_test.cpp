// core/netlink_attr: the bytes it writes, checked against the layout of
// <linux/netlink.h> spelled out by hand (lengths, padding, NLA_F_NESTED),
// and what its readers accept. Runs on every target, big-endian included:
// lengths and types are in the host's order, as the kernel expects them.
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "core/netlink_attr.h"

namespace xdpflow {
namespace {

std::uint16_t u16_at(const std::uint8_t *p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

std::uint32_t u32_at(const std::uint8_t *p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

TEST(NetlinkAttr, MessageOfPaddedAttributesAndANest) {
  alignas(4) std::array<std::uint8_t, 256> buf;
  buf.fill(0xee); // stale bytes must not survive in padding
  nlmsghdr *nlh = nl::put_header(buf.data());
  EXPECT_EQ(nlh->nlmsg_len, 16u);
  auto *extra = static_cast<std::uint8_t *>(nl::put_extra_header(nlh, 3));
  EXPECT_EQ(extra, buf.data() + 16);
  EXPECT_EQ(nlh->nlmsg_len, 20u); // 3 bytes padded to 4
  nl::put_u8(nlh, 7, 0xab);
  nlattr *nest = nl::nest_start(nlh, 9);
  nl::put_u16(nlh, 1, 0x1234);
  nl::put_strz(nlh, 2, "ftp");
  nl::nest_end(nlh, nest);
  nl::put_u32(nlh, 3, 0xdeadbeef);

  const std::uint8_t *p = buf.data();
  // u8 attribute at 20: len 5, type 7, value, 3 bytes of zero padding.
  EXPECT_EQ(u16_at(p + 20), 5);
  EXPECT_EQ(u16_at(p + 22), 7);
  EXPECT_EQ(p[24], 0xab);
  EXPECT_EQ(p[25] | p[26] | p[27], 0);
  // Nest at 28: header 4 + u16 attr 8 (6 + 2 padding) + strz attr 8 = 20.
  EXPECT_EQ(u16_at(p + 28), 20);
  EXPECT_EQ(u16_at(p + 30), 9 | NLA_F_NESTED);
  EXPECT_EQ(u16_at(p + 32), 6);
  EXPECT_EQ(u16_at(p + 36), 0x1234);
  EXPECT_EQ(u16_at(p + 38), 0);
  EXPECT_EQ(u16_at(p + 40), 8);
  EXPECT_EQ(std::memcmp(p + 44, "ftp", 4), 0);
  // u32 at 48.
  EXPECT_EQ(u16_at(p + 48), 8);
  EXPECT_EQ(u32_at(p + 52), 0xdeadbeefu);
  EXPECT_EQ(nlh->nlmsg_len, 56u);

  // Readers on what was written.
  auto *a = reinterpret_cast<const nlattr *>(p + 20);
  EXPECT_EQ(nl::attr_type(a), 7);
  EXPECT_EQ(nl::attr_u8(a), 0xab);
  auto *n = reinterpret_cast<const nlattr *>(p + 28);
  EXPECT_EQ(nl::attr_type(n), 9) << "the nested flag is not part of the type";
  EXPECT_EQ(nl::attr_payload_len(n), 16u);
  EXPECT_EQ(nl::attr_u16(reinterpret_cast<const nlattr *>(p + 32)), 0x1234);
  EXPECT_TRUE(nl::attr_is_strz(reinterpret_cast<const nlattr *>(p + 40)));
  EXPECT_EQ(nl::attr_u32(reinterpret_cast<const nlattr *>(p + 48)), 0xdeadbeefu);
  EXPECT_EQ(nl::payload(nlh, 3), p + 20);
  EXPECT_EQ(nl::payload_len(nlh), 40u);
}

TEST(NetlinkAttr, StringMustEndWithItsAttribute) {
  alignas(4) std::array<std::uint8_t, 64> buf{};
  nlmsghdr *nlh = nl::put_header(buf.data());
  nl::put_attr(nlh, 1, 3, "abc"); // no terminator
  nl::put_attr(nlh, 2, 0, nullptr);
  EXPECT_FALSE(nl::attr_is_strz(reinterpret_cast<const nlattr *>(buf.data() + 16)));
  EXPECT_FALSE(nl::attr_is_strz(reinterpret_cast<const nlattr *>(buf.data() + 24)));
}

} // namespace
} // namespace xdpflow
