// Connections present at start that were not assured yet (core/
// unreported_at_start.h): only those are kept, a later dump entry of one is
// handed on until conntrack says it is assured, and after the window the
// rest are given up and counted.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <netinet/in.h>

#include "core/flow_sync.h"
#include "core/unreported_at_start.h"

namespace xdpflow {
namespace {

constexpr std::uint64_t sec = 1'000'000'000ull;

IpAddr v4(std::uint32_t host_order) {
  const __u32 words[4] = {htonl(host_order), 0, 0, 0};
  return IpAddr::from_words(XF_FAMILY_IPV4, words);
}

CtEvent udp(std::uint16_t sport, std::uint32_t status) {
  CtEvent ev;
  ev.from_dump = true;
  ev.orig.proto = ev.reply.proto = IPPROTO_UDP;
  ev.orig.src = v4(0xc6120001);
  ev.orig.dst = v4(0xc6130001);
  ev.orig.sport = sport;
  ev.orig.dport = 53;
  ev.reply = ev.orig;
  std::swap(ev.reply.src, ev.reply.dst);
  std::swap(ev.reply.sport, ev.reply.dport);
  ev.status = status;
  ev.has_status = true;
  return ev;
}

TEST(UnreportedAtStart, KeepsOnlyTheNotYetAssuredAndHandsThemOnUntilAssured) {
  const FlowSyncConfig rules;
  UnreportedAtStart u;
  u.start(100 * sec);
  const CtEvent waiting = udp(1000, IPS_SEEN_REPLY | IPS_CONFIRMED);
  const CtEvent assured = udp(1001, IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED);
  CtEvent icmp = udp(1002, IPS_CONFIRMED);
  icmp.orig.proto = icmp.reply.proto = IPPROTO_ICMP;
  for (const CtEvent *ev : std::initializer_list<const CtEvent *>{&waiting, &assured, &icmp})
    u.note(*ev, why_not_offloadable(*ev, rules));
  EXPECT_EQ(1u, u.size()) << "only the connection that waits for its assurance";
  EXPECT_TRUE(u.watching(101 * sec));

  EXPECT_FALSE(u.take(udp(1003, IPS_ASSURED))) << "a connection begun after start reports itself";
  EXPECT_TRUE(u.take(waiting)) << "still not assured: handed on, kept";
  EXPECT_EQ(1u, u.size());
  EXPECT_TRUE(u.take(udp(1000, IPS_SEEN_REPLY | IPS_ASSURED)));
  EXPECT_EQ(0u, u.size()) << "assured now: FlowSync has it, forgotten";
  EXPECT_FALSE(u.watching(101 * sec)) << "nothing left to look for";
}

TEST(UnreportedAtStart, GivesUpAfterTheWindowAndCountsThem) {
  UnreportedAtStart u;
  u.start(0);
  u.note(udp(1000, 0), "not assured");
  u.note(udp(1001, 0), "TCP not established");
  u.note(udp(1002, 0), "conntrack helper");
  ASSERT_EQ(2u, u.size());
  EXPECT_EQ(0u, u.expire(UnreportedAtStart::window_ns - 1));
  EXPECT_TRUE(u.watching(UnreportedAtStart::window_ns - 1));
  EXPECT_FALSE(u.watching(UnreportedAtStart::window_ns));
  EXPECT_EQ(2u, u.expire(UnreportedAtStart::window_ns));
  EXPECT_EQ(0u, u.expire(UnreportedAtStart::window_ns + 1)) << "counted once";
}

TEST(UnreportedAtStart, ABacklogOverTheCapIsCutNotTracked) {
  UnreportedAtStart u;
  u.start(0);
  for (std::uint32_t i = 0; i < UnreportedAtStart::max_tracked + 5; i++) {
    CtEvent ev = udp(static_cast<std::uint16_t>(i), 0);
    ev.orig.src = v4(0xc6120000 + (i >> 16));
    u.note(ev, "not assured");
  }
  EXPECT_EQ(UnreportedAtStart::max_tracked, u.size());
  EXPECT_EQ(5u, u.cut());
}

} // namespace
} // namespace xdpflow
