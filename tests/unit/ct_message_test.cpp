// Conntrack message parsing from netlink bytes built in memory.
#include <gtest/gtest.h>

#include <algorithm>

#include "unit/ct_test_messages.h"

namespace xdpflow {
namespace {

using testing::CtMsg;
using testing::tuple;

// The attributes in [begin, end), walked by the test itself (nla_len, then
// 4-byte padding) rather than with the code under test.
std::vector<nlattr *> attrs_in(std::uint8_t *begin, std::uint8_t *end) {
  std::vector<nlattr *> out;
  while (end - begin >= static_cast<std::ptrdiff_t>(sizeof(nlattr))) {
    auto *a = reinterpret_cast<nlattr *>(begin);
    if (a->nla_len < sizeof(nlattr) || a->nla_len > end - begin)
      break;
    out.push_back(a);
    begin += (a->nla_len + 3u) & ~3u;
  }
  return out;
}

std::vector<nlattr *> attrs_of(nlmsghdr *nlh) {
  auto *p = reinterpret_cast<std::uint8_t *>(nlh);
  return attrs_in(p + NLMSG_HDRLEN + ((sizeof(nfgenmsg) + 3u) & ~3u), p + nlh->nlmsg_len);
}

std::vector<nlattr *> nested_of(nlattr *nest) {
  auto *p = reinterpret_cast<std::uint8_t *>(nest);
  return attrs_in(p + NLA_HDRLEN, p + nest->nla_len);
}

CtParseResult parse(const std::vector<std::uint8_t> &b) {
  return parse_ct_message(reinterpret_cast<const nlmsghdr *>(b.data()), b.size());
}

TEST(CtMessage, NewTcpIpv4WithAllAttributes) {
  CtMsg m = CtMsg::flow(tuple("198.18.1.2", 40000, "198.19.0.2", 80),
                        tuple("198.19.0.2", 80, "198.19.0.1", 61000));
  m.kind = CtMsg::New;
  m.status = IPS_CONFIRMED;
  m.tcp_state = TCP_CONNTRACK_SYN_SENT;
  m.mark = 0x42;
  m.id = 7;
  m.timeout = 120;
  auto r = parse(m.bytes());
  ASSERT_EQ(r.status, CtParseStatus::Ok) << r.error;
  EXPECT_EQ(r.event.type, CtEventType::New);
  EXPECT_FALSE(r.event.from_dump);
  EXPECT_EQ(to_string(r.event.orig), "tcp 198.18.1.2:40000 -> 198.19.0.2:80");
  EXPECT_EQ(to_string(r.event.reply), "tcp 198.19.0.2:80 -> 198.19.0.1:61000");
  EXPECT_TRUE(r.event.has_status);
  EXPECT_EQ(r.event.status, unsigned(IPS_CONFIRMED));
  ASSERT_TRUE(r.event.tcp_state);
  EXPECT_EQ(*r.event.tcp_state, TCP_CONNTRACK_SYN_SENT);
  EXPECT_EQ(r.event.mark, 0x42u);
  EXPECT_EQ(r.event.id, 7u);
  EXPECT_EQ(r.event.timeout, 120u);
  EXPECT_EQ(r.event.zone, 0);
  EXPECT_FALSE(r.event.has_helper);
  EXPECT_FALSE(r.event.has_master);
}

TEST(CtMessage, UpdateDestroyAndDumpEntryTypes) {
  CtMsg m = CtMsg::flow(tuple("198.18.1.2", 1, "198.19.0.2", 2));
  EXPECT_EQ(parse(m.bytes()).event.type, CtEventType::Update);
  m.kind = CtMsg::Destroy;
  EXPECT_EQ(parse(m.bytes()).event.type, CtEventType::Destroy);
  m.kind = CtMsg::DumpEntry;
  auto r = parse(m.bytes());
  EXPECT_EQ(r.event.type, CtEventType::Update);
  EXPECT_TRUE(r.event.from_dump);
}

TEST(CtMessage, Ipv6Udp) {
  CtMsg m = CtMsg::flow(tuple("2001:2::1", 5353, "2001:2:0:1::2", 53, IPPROTO_UDP));
  auto r = parse(m.bytes());
  ASSERT_EQ(r.status, CtParseStatus::Ok) << r.error;
  EXPECT_EQ(r.event.orig.src.family, XF_FAMILY_IPV6);
  EXPECT_EQ(r.event.orig.proto, IPPROTO_UDP);
  EXPECT_EQ(to_string(r.event.orig), "udp [2001:2::1]:5353 -> [2001:2:0:1::2]:53");
  EXPECT_FALSE(r.event.tcp_state);
}

TEST(CtMessage, HelperMasterZone) {
  CtMsg m = CtMsg::flow(tuple("198.18.1.2", 40000, "198.19.0.2", 21));
  m.helper = "ftp";
  m.zone = 3;
  m.master = tuple("198.18.1.2", 39999, "198.19.0.2", 21);
  auto r = parse(m.bytes());
  ASSERT_EQ(r.status, CtParseStatus::Ok) << r.error;
  EXPECT_TRUE(r.event.has_helper);
  EXPECT_EQ(r.event.helper, "ftp");
  EXPECT_TRUE(r.event.has_master);
  EXPECT_EQ(r.event.zone, 3);
}

TEST(CtMessage, OtherSubsystemIsNotConntrack) {
  auto b = CtMsg::flow(tuple("198.18.1.2", 1, "198.19.0.2", 2)).bytes();
  auto *nlh = reinterpret_cast<nlmsghdr *>(b.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK_EXP << 8) | IPCTNL_MSG_EXP_NEW;
  EXPECT_EQ(parse(b).status, CtParseStatus::NotConntrack);
}

TEST(CtMessage, EveryTruncationIsACountedErrorNotACrash) {
  auto full = CtMsg::flow(tuple("2001:2::1", 1, "2001:2::2", 2)).bytes();
  // Where top-level attributes end: cutting exactly there leaves a shorter
  // but well-formed message.
  auto *full_nlh = reinterpret_cast<nlmsghdr *>(full.data());
  std::vector<std::size_t> boundaries;
  std::size_t tuples_end = 0;
  for (nlattr *a : attrs_of(full_nlh)) {
    std::size_t end = reinterpret_cast<std::uint8_t *>(a) - full.data() + nl::align(a->nla_len);
    boundaries.push_back(end);
    if (nl::attr_type(a) == CTA_TUPLE_REPLY)
      tuples_end = end;
  }
  ASSERT_GT(tuples_end, 0u);
  for (std::size_t len = 0; len < full.size(); len++) {
    std::vector<std::uint8_t> cut(full.begin(), full.begin() + len);
    // Buffer shorter than the header's length: rejected as truncated.
    auto r = parse_ct_message(len ? reinterpret_cast<const nlmsghdr *>(cut.data()) : nullptr, len);
    EXPECT_EQ(r.status, CtParseStatus::Malformed) << "length " << len;
    // Header length rewritten to match: the attributes themselves are cut.
    if (len >= sizeof(nlmsghdr)) {
      reinterpret_cast<nlmsghdr *>(cut.data())->nlmsg_len = len;
      bool boundary = std::find(boundaries.begin(), boundaries.end(), len) != boundaries.end();
      auto expected = boundary && len >= tuples_end ? CtParseStatus::Ok : CtParseStatus::Malformed;
      EXPECT_EQ(parse(cut).status, expected) << "length " << len;
    }
  }
}

TEST(CtMessage, WrongAttributeLengthIsMalformed) {
  auto b = CtMsg::flow(tuple("198.18.1.2", 1, "198.19.0.2", 2)).bytes();
  // Find CTA_STATUS (4-byte payload) and claim it is 2 bytes.
  auto *nlh = reinterpret_cast<nlmsghdr *>(b.data());
  bool found = false;
  for (nlattr *attr : attrs_of(nlh)) {
    if (nl::attr_type(attr) == CTA_STATUS) {
      attr->nla_len = NLA_HDRLEN + 2;
      found = true;
      break;
    }
  }
  ASSERT_TRUE(found);
  EXPECT_EQ(parse(b).status, CtParseStatus::Malformed);
}

TEST(CtMessage, MissingReplyTupleIsMalformed) {
  std::vector<std::uint8_t> buf(8192);
  nlmsghdr *nlh = nl::put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
  nl::put_extra_header(nlh, sizeof(nfgenmsg));
  put_ct_tuple(nlh, CTA_TUPLE_ORIG, tuple("198.18.1.2", 1, "198.19.0.2", 2));
  buf.resize(nlh->nlmsg_len);
  EXPECT_EQ(parse(buf).status, CtParseStatus::Malformed);
}

TEST(CtMessage, GarbageNeverCrashes) {
  // Deterministic pseudo-random bytes behind a valid conntrack header.
  std::uint32_t seed = 12345;
  for (int round = 0; round < 2000; round++) {
    auto b = CtMsg::flow(tuple("198.18.1.2", 1, "198.19.0.2", 2)).bytes();
    for (std::size_t i = sizeof(nlmsghdr) + sizeof(nfgenmsg); i < b.size(); i++) {
      seed = seed * 1103515245 + 12345;
      if ((seed >> 16) % 7 == 0)
        b[i] = static_cast<std::uint8_t>(seed >> 8);
    }
    auto r = parse(b);
    EXPECT_TRUE(r.status == CtParseStatus::Ok || r.status == CtParseStatus::Malformed);
  }
}

TEST(CtMessage, UpdateRequestRoundTrips) {
  CtUpdate u{tuple("198.18.1.2", 40000, "198.19.0.2", 80), 300u, true};
  std::vector<std::uint8_t> buf(8192);
  std::size_t len = build_ct_update(buf.data(), 9, u);
  ASSERT_LE(len, ct_update_max_size());
  auto *nlh = reinterpret_cast<nlmsghdr *>(buf.data());
  EXPECT_EQ(nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), 0) << "must never create an entry";
  EXPECT_EQ(nlh->nlmsg_seq, 9u);
  // Our own parser reads the tuple and timeout back (no reply tuple: the
  // parser insists on one, so check the attributes directly).
  bool timeout = false, flags_orig = false, flags_reply = false;
  for (nlattr *attr : attrs_of(nlh)) {
    if (nl::attr_type(attr) == CTA_TIMEOUT)
      timeout = ntohl(nl::attr_u32(attr)) == 300;
    if (nl::attr_type(attr) == CTA_PROTOINFO) {
      auto *tcp = reinterpret_cast<nlattr *>(reinterpret_cast<std::uint8_t *>(attr) + NLA_HDRLEN);
      for (nlattr *f : nested_of(tcp)) {
        auto *flags = static_cast<const nf_ct_tcp_flags *>(nl::attr_payload(f));
        bool liberal = flags->flags == IP_CT_TCP_FLAG_BE_LIBERAL &&
                       flags->mask == (IP_CT_TCP_FLAG_BE_LIBERAL | IP_CT_TCP_FLAG_MAXACK_SET);
        if (nl::attr_type(f) == CTA_PROTOINFO_TCP_FLAGS_ORIGINAL)
          flags_orig = liberal;
        if (nl::attr_type(f) == CTA_PROTOINFO_TCP_FLAGS_REPLY)
          flags_reply = liberal;
      }
    }
  }
  EXPECT_TRUE(timeout);
  EXPECT_TRUE(flags_orig);
  EXPECT_TRUE(flags_reply);
}

} // namespace
} // namespace xdpflow
