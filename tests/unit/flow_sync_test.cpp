// FlowSync decisions against a fake flow table, egress and conntrack writer.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "common/fake_flow_table.h"
#include "core/flow_sync.h"
#include "unit/ct_test_messages.h"

namespace xdpflow {
namespace {

using testing::CtMsg;
using testing::tuple;

using FakeTable = testing::FakeFlowTable;

// Routes by destination address only, as a simple gateway would.
class FakeEgress : public EgressLookup {
public:
  std::optional<Egress> resolve(const FlowTuple &out) override {
    auto it = routes.find(out.dst.to_string());
    if (it == routes.end())
      return std::nullopt;
    return it->second;
  }
  std::map<std::string, Egress> routes;
};

class FakeConntrack : public ConntrackWriter {
public:
  void update(const CtUpdate &u) override { updates.push_back(u); }
  std::vector<CtUpdate> updates;
};

constexpr std::uint32_t LAN = 2, WAN = 3;
constexpr std::uint64_t SEC = 1'000'000'000ull;

Egress egress(std::uint32_t ifindex, std::uint8_t src_last, std::uint8_t dst_last) {
  Egress e;
  e.ifindex = ifindex;
  e.src_mac = {0x02, 0, 0, 0, 0, src_last};
  e.dst_mac = {0x02, 0, 0, 0, 1, dst_last};
  e.mtu = 1500;
  return e;
}

xf_flow_key key_of(std::uint32_t ifindex, const FlowTuple &t) {
  return make_flow_key(ifindex, xf_encap{}, t);
}

__u32 word(const char *addr) {
  __u32 w[4];
  IpAddr::parse(addr)->to_words(w);
  return w[0];
}

class FlowSyncTest : public ::testing::Test {
protected:
  FlowSyncTest() {
    eg.routes["198.18.1.2"] = egress(LAN, 0x0a, 0x02); // client, behind the LAN
    eg.routes["198.19.0.2"] = egress(WAN, 0x0b, 0x03); // server, on the WAN
    eg.routes["2001:2::2"] = egress(LAN, 0x0a, 0x12);
    eg.routes["2001:2:1::2"] = egress(WAN, 0x0b, 0x13);
    config.redirect_ifindexes = {LAN, WAN};
  }
  FlowSync &sync() {
    if (!sync_)
      sync_.emplace(config, table, eg, ct);
    return *sync_;
  }
  SyncOutcome handle(const CtMsg &m, std::uint64_t now = SEC) {
    return sync().handle(m.event(), now);
  }
  const xf_flow_value &entry(std::uint32_t ifindex, const FlowTuple &t) {
    auto it = table.entries.find(key_of(ifindex, t));
    if (it == table.entries.end())
      throw std::runtime_error("no entry for " + to_string(t));
    return it->second;
  }

  FlowSyncConfig config;
  FakeTable table;
  FakeEgress eg;
  FakeConntrack ct;
  std::optional<FlowSync> sync_;

  // Client 198.18.1.2:40000 -> server 198.19.0.2:80, masqueraded to
  // 198.19.0.1:61000 on the WAN.
  FlowTuple snat_orig = tuple("198.18.1.2", 40000, "198.19.0.2", 80);
  FlowTuple snat_reply = tuple("198.19.0.2", 80, "198.19.0.1", 61000);
};

TEST_F(FlowSyncTest, SnatTcpEstablishedAssuredGivesBothDirections) {
  EXPECT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Offloaded);
  ASSERT_EQ(table.entries.size(), 2u);

  const auto &o = entry(LAN, snat_orig); // arrives from the client on the LAN
  EXPECT_EQ(o.action.direction, XF_DIR_ORIGINAL);
  EXPECT_EQ(o.action.egress_ifindex, WAN);
  EXPECT_EQ(o.action.nat, XF_NAT_SRC_ADDR | XF_NAT_SRC_PORT);
  EXPECT_EQ(o.action.new_src[0], word("198.19.0.1"));
  EXPECT_EQ(ntohs(o.action.new_sport), 61000);
  EXPECT_EQ(o.action.src_mac[5], 0x0b);
  EXPECT_EQ(o.action.dst_mac[5], 0x03);
  EXPECT_EQ(o.action.mtu, 1500);

  const auto &r = entry(WAN, snat_reply); // the server's answer on the WAN
  EXPECT_EQ(r.action.direction, XF_DIR_REPLY);
  EXPECT_EQ(r.action.egress_ifindex, LAN);
  EXPECT_EQ(r.action.nat, XF_NAT_DST_ADDR | XF_NAT_DST_PORT);
  EXPECT_EQ(r.action.new_dst[0], word("198.18.1.2"));
  EXPECT_EQ(ntohs(r.action.new_dport), 40000);
  EXPECT_EQ(r.action.src_mac[5], 0x0a);
  EXPECT_EQ(r.action.dst_mac[5], 0x02);

  // TCP: conntrack is told to be liberal about windows, in both directions.
  ASSERT_EQ(ct.updates.size(), 1u);
  EXPECT_TRUE(ct.updates[0].be_liberal);
  EXPECT_EQ(ct.updates[0].orig, snat_orig);
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
}

TEST_F(FlowSyncTest, DnatPortForward) {
  // WAN host 198.19.0.2:5000 -> gateway 198.19.0.1:8080, forwarded to the
  // LAN server 198.18.1.2:80.
  auto orig = tuple("198.19.0.2", 5000, "198.19.0.1", 8080);
  auto reply = tuple("198.18.1.2", 80, "198.19.0.2", 5000);
  EXPECT_EQ(handle(CtMsg::flow(orig, reply)), SyncOutcome::Offloaded);
  const auto &o = entry(WAN, orig);
  EXPECT_EQ(o.action.egress_ifindex, LAN);
  EXPECT_EQ(o.action.nat, XF_NAT_DST_ADDR | XF_NAT_DST_PORT);
  EXPECT_EQ(o.action.new_dst[0], word("198.18.1.2"));
  EXPECT_EQ(ntohs(o.action.new_dport), 80);
  const auto &r = entry(LAN, reply);
  EXPECT_EQ(r.action.egress_ifindex, WAN);
  EXPECT_EQ(r.action.nat, XF_NAT_SRC_ADDR | XF_NAT_SRC_PORT);
  EXPECT_EQ(r.action.new_src[0], word("198.19.0.1"));
  EXPECT_EQ(ntohs(r.action.new_sport), 8080);
}

TEST_F(FlowSyncTest, SnatAndDnatTogetherAddressesOnly) {
  // Both ends rewritten, ports kept.
  auto orig = tuple("198.18.1.2", 1234, "198.18.9.9", 53, IPPROTO_UDP);
  auto reply = tuple("198.19.0.2", 53, "198.19.0.1", 1234, IPPROTO_UDP);
  EXPECT_EQ(handle(CtMsg::flow(orig, reply)), SyncOutcome::Offloaded);
  const auto &o = entry(LAN, orig);
  EXPECT_EQ(o.action.nat, XF_NAT_SRC_ADDR | XF_NAT_DST_ADDR);
  EXPECT_EQ(o.action.new_src[0], word("198.19.0.1"));
  EXPECT_EQ(o.action.new_dst[0], word("198.19.0.2"));
  const auto &r = entry(WAN, reply);
  EXPECT_EQ(r.action.nat, XF_NAT_SRC_ADDR | XF_NAT_DST_ADDR);
  EXPECT_EQ(r.action.new_src[0], word("198.18.9.9"));
  EXPECT_EQ(r.action.new_dst[0], word("198.18.1.2"));
  EXPECT_TRUE(ct.updates.empty()) << "BE_LIBERAL is for TCP only";
}

TEST_F(FlowSyncTest, RoutedIpv6WithoutNat) {
  auto orig = tuple("2001:2::2", 40000, "2001:2:1::2", 443);
  EXPECT_EQ(handle(CtMsg::flow(orig)), SyncOutcome::Offloaded);
  const auto &o = entry(LAN, orig);
  EXPECT_EQ(o.action.nat, 0);
  EXPECT_EQ(o.action.egress_ifindex, WAN);
  EXPECT_EQ(o.action.dst_mac[5], 0x13);
  EXPECT_EQ(entry(WAN, reversed(orig)).action.egress_ifindex, LAN);
}

TEST_F(FlowSyncTest, TcpOnlyOnceEstablishedAndAssured) {
  CtMsg m = CtMsg::flow(snat_orig, snat_reply);
  m.kind = CtMsg::New;
  m.status = IPS_CONFIRMED;
  m.tcp_state = TCP_CONNTRACK_SYN_SENT;
  EXPECT_EQ(handle(m), SyncOutcome::NotOffloadable);
  m.kind = CtMsg::Update;
  m.status = IPS_CONFIRMED | IPS_SEEN_REPLY;
  m.tcp_state = TCP_CONNTRACK_SYN_RECV;
  EXPECT_EQ(handle(m), SyncOutcome::NotOffloadable);
  m.tcp_state = TCP_CONNTRACK_ESTABLISHED; // established, not yet assured
  EXPECT_EQ(handle(m), SyncOutcome::NotOffloadable);
  EXPECT_TRUE(table.entries.empty());
  m.status = IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED;
  EXPECT_EQ(handle(m), SyncOutcome::Offloaded);
  EXPECT_EQ(table.entries.size(), 2u);
}

TEST_F(FlowSyncTest, UdpOnceAssured) {
  auto orig = tuple("198.18.1.2", 5000, "198.19.0.2", 5001, IPPROTO_UDP);
  CtMsg m = CtMsg::flow(orig);
  m.status = IPS_CONFIRMED | IPS_SEEN_REPLY;
  EXPECT_EQ(handle(m), SyncOutcome::NotOffloadable);
  m.status = IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED;
  EXPECT_EQ(handle(m), SyncOutcome::Offloaded);
}

TEST_F(FlowSyncTest, LeavingEstablishedRemoves) {
  CtMsg m = CtMsg::flow(snat_orig, snat_reply);
  ASSERT_EQ(handle(m), SyncOutcome::Offloaded);
  // An event without CTA_PROTOINFO keeps the known state.
  CtMsg status_only = m;
  status_only.tcp_state.reset();
  EXPECT_EQ(handle(status_only), SyncOutcome::Unchanged);
  m.tcp_state = TCP_CONNTRACK_FIN_WAIT;
  EXPECT_EQ(handle(m), SyncOutcome::Removed);
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().flows_offloaded, 0u);
  EXPECT_EQ(sync().stats().removals_total, 1u);
}

TEST_F(FlowSyncTest, DestroyRemovesButNotASuccessorWithTheSameTuple) {
  CtMsg m = CtMsg::flow(snat_orig, snat_reply);
  m.id = 100;
  ASSERT_EQ(handle(m), SyncOutcome::Offloaded);
  CtMsg old = m;
  old.kind = CtMsg::Destroy;
  old.id = 99;
  EXPECT_EQ(handle(old), SyncOutcome::Ignored);
  EXPECT_EQ(table.entries.size(), 2u);
  CtMsg d = m;
  d.kind = CtMsg::Destroy;
  EXPECT_EQ(handle(d), SyncOutcome::Removed);
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(handle(d), SyncOutcome::Ignored);
}

// A lost DESTROY, then masquerade hands the same port to another client: the
// new connection's reply tuple is the dead one's. The new flow must own its
// entries, and neither a re-resolve nor the late removal of the dead flow
// may touch them.
TEST_F(FlowSyncTest, NewFlowReusingADeadFlowsReplyTupleOwnsItsEntries) {
  CtMsg dead = CtMsg::flow(snat_orig, snat_reply);
  dead.id = 1;
  ASSERT_EQ(handle(dead), SyncOutcome::Offloaded);
  FlowTuple other_orig = tuple("198.18.1.2", 40001, "198.19.0.2", 80);
  CtMsg live = CtMsg::flow(other_orig, snat_reply); // same NAT port reused
  live.id = 2;
  ASSERT_EQ(handle(live, 2 * SEC), SyncOutcome::Offloaded);
  EXPECT_EQ(table.entries.size(), 2u); // the dead flow's original entry is gone
  EXPECT_THROW(entry(LAN, snat_orig), std::runtime_error);
  // The reply entry un-NATs towards the live flow's client port.
  EXPECT_EQ(entry(WAN, snat_reply).action.new_dport, htons(40001));
  EXPECT_EQ(sync().stats().evicted_stale, 1u);

  // Routes change: re-resolving must not give the key back to the dead flow.
  eg.routes["198.19.0.2"].dst_mac[5] = 0x33;
  sync().reresolve_all(3 * SEC);
  EXPECT_EQ(entry(WAN, snat_reply).action.new_dport, htons(40001));
  EXPECT_EQ(entry(LAN, other_orig).action.dst_mac[5], 0x33);

  // The resync that follows the lost events sweeps the dead flow only.
  sync().begin_resync();
  handle(live, 4 * SEC);
  sync().end_resync();
  EXPECT_EQ(sync().known_flows(), 1u);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(entry(WAN, snat_reply).action.new_dport, htons(40001));
}

TEST_F(FlowSyncTest, NeverOffloaded) {
  CtMsg helper = CtMsg::flow(tuple("198.18.1.2", 40001, "198.19.0.2", 21));
  helper.helper = "ftp";
  EXPECT_EQ(handle(helper), SyncOutcome::NotOffloadable);

  CtMsg expected = CtMsg::flow(tuple("198.18.1.2", 40002, "198.19.0.2", 20));
  expected.master = tuple("198.18.1.2", 40001, "198.19.0.2", 21);
  EXPECT_EQ(handle(expected), SyncOutcome::NotOffloadable);

  CtMsg zoned = CtMsg::flow(tuple("198.18.1.2", 40003, "198.19.0.2", 80));
  zoned.zone = 1;
  EXPECT_EQ(handle(zoned), SyncOutcome::NotOffloadable);

  CtMsg icmp = CtMsg::flow(tuple("198.18.1.2", 0, "198.19.0.2", 0, IPPROTO_ICMP));
  EXPECT_EQ(handle(icmp), SyncOutcome::NotOffloadable);

  CtMsg sctp = CtMsg::flow(tuple("198.18.1.2", 1, "198.19.0.2", 2, IPPROTO_SCTP));
  EXPECT_EQ(handle(sctp), SyncOutcome::NotOffloadable);
  EXPECT_TRUE(table.entries.empty());
}

TEST_F(FlowSyncTest, ExcludedMarkStaysOnKernelPath) {
  config.exclude_mark = 0x10;
  config.exclude_mask = 0xf0;
  CtMsg qos = CtMsg::flow(tuple("198.18.1.2", 40000, "198.19.0.2", 80));
  qos.mark = 0x1234'5617; // & 0xf0 == 0x10
  EXPECT_EQ(handle(qos), SyncOutcome::NotOffloadable);
  CtMsg other = CtMsg::flow(tuple("198.18.1.2", 40001, "198.19.0.2", 80));
  other.mark = 0x27;
  EXPECT_EQ(handle(other), SyncOutcome::Offloaded);
  // The mark changes to an excluded one: the flow leaves the table.
  other.mark = 0x1f;
  EXPECT_EQ(handle(other), SyncOutcome::Removed);
  EXPECT_TRUE(table.entries.empty());
}

TEST_F(FlowSyncTest, UnresolvedNeighbourPendsUntilResolved) {
  eg.routes.erase("198.19.0.2");
  EXPECT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Unresolved);
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().flows_pending, 1u);
  sync().retry_pending(2 * SEC); // still no neighbour
  EXPECT_TRUE(table.entries.empty());
  eg.routes["198.19.0.2"] = egress(WAN, 0x0b, 0x03);
  sync().retry_pending(3 * SEC);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(sync().stats().flows_pending, 0u);
}

TEST_F(FlowSyncTest, EgressNotAttachedIsNotOffloaded) {
  eg.routes["198.19.0.2"] = egress(7, 0x0b, 0x03); // not an xdpflow interface
  EXPECT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Unresolved);
  EXPECT_TRUE(table.entries.empty());
}

TEST_F(FlowSyncTest, NeighbourMacChangeRewritesKeepingCounters) {
  ASSERT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Offloaded);
  table.entries[key_of(LAN, snat_orig)].packets = 10;
  eg.routes["198.19.0.2"].dst_mac[5] = 0x33;
  sync().reresolve_all(2 * SEC);
  const auto &o = entry(LAN, snat_orig);
  EXPECT_EQ(o.action.dst_mac[5], 0x33);
  EXPECT_EQ(o.packets, 10u);
  EXPECT_EQ(table.entries.size(), 2u);
  // The route moves to another attached interface: keys follow (the reply now
  // arrives there).
  config.redirect_ifindexes.insert(4);
  sync_.reset();
  table.entries.clear();
  ASSERT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Offloaded);
  eg.routes["198.19.0.2"].ifindex = 4;
  sync().reresolve_all(3 * SEC);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(entry(LAN, snat_orig).action.egress_ifindex, 4u);
  EXPECT_EQ(entry(4, snat_reply).action.egress_ifindex, LAN);
  // The link goes down (no route any more): both entries leave.
  eg.routes.erase("198.19.0.2");
  sync().reresolve_all(4 * SEC);
  EXPECT_TRUE(table.entries.empty());
}

TEST_F(FlowSyncTest, TableFullRejectsCountsOnceAndKeepsOthers) {
  table = FakeTable(2);
  ASSERT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Offloaded);
  CtMsg second = CtMsg::flow(tuple("198.18.1.2", 40001, "198.19.0.2", 80));
  EXPECT_EQ(handle(second), SyncOutcome::RejectedFull);
  EXPECT_EQ(handle(second), SyncOutcome::RejectedFull);
  EXPECT_EQ(sync().stats().rejected_full, 1u);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(entry(LAN, snat_orig).action.egress_ifindex, WAN);
  sync().retry_pending(2 * SEC); // still full: not even tried
  EXPECT_EQ(sync().stats().rejected_full, 1u);
  // Room again: the refused flow gets in on the next retry.
  CtMsg d = CtMsg::flow(snat_orig, snat_reply);
  d.kind = CtMsg::Destroy;
  handle(d);
  sync().retry_pending(3 * SEC);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
  EXPECT_EQ(sync().stats().rejected_full, 1u);
}

TEST_F(FlowSyncTest, ResyncSweepsWhatTheDumpDidNotConfirm) {
  CtMsg a = CtMsg::flow(snat_orig, snat_reply);
  CtMsg b = CtMsg::flow(tuple("198.18.1.2", 40001, "198.19.0.2", 80));
  ASSERT_EQ(handle(a), SyncOutcome::Offloaded);
  ASSERT_EQ(handle(b), SyncOutcome::Offloaded);
  // An entry no flow owns (as if written for an event we then lost).
  xf_flow_value stray{};
  table.entries[key_of(WAN, tuple("198.19.0.9", 1, "198.19.0.1", 2))] = stray;
  ASSERT_EQ(table.entries.size(), 5u);

  sync().begin_resync();
  a.kind = CtMsg::DumpEntry;
  EXPECT_EQ(handle(a), SyncOutcome::Unchanged);
  EXPECT_EQ(sync().end_resync(), 2u); // flow b, and the stray entry
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_NO_THROW(entry(LAN, snat_orig));
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
}

TEST_F(FlowSyncTest, KeepaliveRefreshesActiveFlowsOnlyAndRemovesIdleOnes) {
  config.idle_timeout_ns = 60 * SEC;
  config.keepalive_interval_ns = 5 * SEC;
  auto orig = tuple("198.18.1.2", 5000, "198.19.0.2", 5001, IPPROTO_UDP);
  ASSERT_EQ(handle(CtMsg::flow(orig), 0), SyncOutcome::Offloaded);
  sync().set_ct_timeouts(432000, 30);
  auto &value = table.entries[key_of(WAN, reversed(orig))];

  sync().keepalive(1 * SEC); // no packets yet
  EXPECT_TRUE(ct.updates.empty());
  value.packets = 5;
  sync().keepalive(2 * SEC); // active, but refreshed at offload 2 s ago
  EXPECT_TRUE(ct.updates.empty());
  sync().keepalive(6 * SEC); // interval passed, activity pending
  ASSERT_EQ(ct.updates.size(), 1u);
  EXPECT_EQ(ct.updates[0].orig, orig);
  EXPECT_EQ(ct.updates[0].timeout_sec, 30u);
  EXPECT_FALSE(ct.updates[0].be_liberal);
  sync().keepalive(12 * SEC); // no new packets since: no refresh
  EXPECT_EQ(ct.updates.size(), 1u);
  value.packets = 6;
  sync().keepalive(13 * SEC);
  EXPECT_EQ(ct.updates.size(), 2u);
  EXPECT_EQ(sync().stats().keepalive_refreshes, 2u);

  sync().keepalive(72 * SEC); // idle for 59 s: stays
  EXPECT_EQ(table.entries.size(), 2u);
  sync().keepalive(74 * SEC); // idle for 61 s: leaves the table
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().idle_removals, 1u);
  EXPECT_EQ(sync().stats().flows_offloaded, 0u);
}

TEST_F(FlowSyncTest, IdleFlowComesBackWhenConntrackSeesPacketsAgain) {
  config.idle_timeout_ns = 60 * SEC;
  auto orig = tuple("198.18.1.2", 5000, "198.19.0.2", 5001, IPPROTO_UDP);
  CtMsg m = CtMsg::flow(orig);
  m.timeout = 120;
  ASSERT_EQ(handle(m, 0), SyncOutcome::Offloaded);
  sync().keepalive(61 * SEC); // no packet for 61 s
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().flows_idle, 1u);
  EXPECT_EQ(sync().stats().flows_pending, 0u);
  sync().retry_pending(62 * SEC); // idle is not pending
  sync().reresolve_all(62 * SEC);
  EXPECT_TRUE(table.entries.empty());

  // A dump 70 s in: the timeout has only run down, nothing went through.
  m.kind = CtMsg::DumpEntry;
  m.timeout = 50;
  EXPECT_EQ(handle(m, 70 * SEC), SyncOutcome::Idle);
  EXPECT_TRUE(table.entries.empty());
  // 80 s in: conntrack pushed the timeout back, so it saw packets.
  m.timeout = 120;
  EXPECT_EQ(handle(m, 80 * SEC), SyncOutcome::Offloaded);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(sync().stats().flows_idle, 0u);

  // Idle again, then destroyed: forgotten.
  sync().keepalive(141 * SEC);
  EXPECT_EQ(sync().stats().flows_idle, 1u);
  CtMsg d = m;
  d.kind = CtMsg::Destroy;
  EXPECT_EQ(handle(d, 150 * SEC), SyncOutcome::Removed);
  EXPECT_EQ(sync().stats().flows_idle, 0u);
  EXPECT_EQ(sync().known_flows(), 0u);
}

TEST_F(FlowSyncTest, ShortConntrackTimeoutRefreshesMoreOften) {
  config.keepalive_interval_ns = 5 * SEC;
  auto orig = tuple("198.18.1.2", 5000, "198.19.0.2", 5001, IPPROTO_UDP);
  ASSERT_EQ(handle(CtMsg::flow(orig), 0), SyncOutcome::Offloaded);
  sync().set_ct_timeouts(432000, 3); // refresh at least every second
  auto &value = table.entries[key_of(LAN, orig)];
  for (int s = 1; s <= 4; s++) {
    value.packets = s;
    sync().keepalive(s * SEC);
  }
  EXPECT_EQ(ct.updates.size(), 4u);
}

} // namespace
} // namespace xdpflow
