// FlowSync decisions against a fake flow table, egress and conntrack writer.
#include <algorithm>

#include "unit/flow_sync_fixture.h"

namespace xdpflow {
namespace {

using namespace flow_sync_test;

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
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
  EXPECT_EQ(sync().tracked_records(), 0u);
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

  // Its removal refreshed conntrack's timeout (the full 120 s from 61 s).
  ASSERT_FALSE(ct.updates.empty());
  EXPECT_EQ(ct.updates.back().orig, orig);
  EXPECT_EQ(ct.updates.back().timeout_sec, std::optional<std::uint32_t>(120));
  // A dump 70 s in: the timeout has only run down, nothing went through.
  m.kind = CtMsg::DumpEntry;
  m.timeout = 111;
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
  EXPECT_EQ(sync().tracked_records(), 0u);
}

// The table is the state: each entry written by FlowSync names its
// connection (tuples, conntrack id) and its partner, for every kind of NAT,
// both families and encapsulated egress.
TEST_F(FlowSyncTest, EveryEntryDescribesItsConnectionAndPartner) {
  Egress vlan_wan = egress(WAN, 0x0b, 0x04);
  vlan_wan.encap.vlan_count = 1;
  vlan_wan.encap.vlan_id[0] = 42;
  Egress pppoe_wan = egress(WAN, 0x0b, 0x05);
  pppoe_wan.encap.flags = XF_ENCAP_PPPOE;
  pppoe_wan.encap.pppoe_sid = 0x1234;
  eg.routes["198.19.0.4"] = vlan_wan;
  eg.routes["198.19.0.5"] = pppoe_wan;
  struct Case {
    FlowTuple orig, reply;
  } cases[] = {
      {snat_orig, snat_reply},
      {tuple("198.19.0.2", 5000, "198.19.0.1", 8080), tuple("198.18.1.2", 80, "198.19.0.2", 5000)},
      {tuple("198.18.1.2", 1234, "198.18.9.9", 53, IPPROTO_UDP),
       tuple("198.19.0.2", 5353, "198.19.0.1", 4321, IPPROTO_UDP)},
      {tuple("2001:2::2", 40000, "2001:2:1::2", 443), {}},
      {tuple("198.18.1.2", 40001, "198.19.0.4", 80), tuple("198.19.0.4", 80, "198.19.0.1", 1)},
      {tuple("198.18.1.2", 40002, "198.19.0.5", 80), tuple("198.19.0.5", 80, "198.19.0.1", 2)},
  };
  std::uint32_t id = 7;
  for (auto &c : cases) {
    CtMsg m = CtMsg::flow(c.orig, c.reply.proto ? std::optional(c.reply) : std::nullopt);
    m.id = id++;
    ASSERT_EQ(handle(m), SyncOutcome::Offloaded) << to_string(c.orig);
    c.reply = m.reply;
  }
  ASSERT_EQ(table.entries.size(), 2 * std::size(cases));
  std::map<FlowTuple, int> directions_seen;
  for (const auto &[key, value] : table.entries) {
    FlowTuple orig = original_tuple(key, value.action);
    auto c = std::find_if(std::begin(cases), std::end(cases),
                          [&](const Case &x) { return x.orig == orig; });
    ASSERT_NE(c, std::end(cases)) << "entry of an unknown connection " << to_string(orig);
    EXPECT_EQ(reply_tuple(key, value.action), c->reply);
    EXPECT_EQ(value.ct_id, 7u + (c - std::begin(cases)));
    xf_flow_key pk = partner_key(key, value.action);
    auto partner = table.entries.find(pk);
    ASSERT_NE(partner, table.entries.end()) << "partner key of " << to_string(tuple_of(key));
    EXPECT_NE(partner->second.action.direction, value.action.direction);
    EXPECT_TRUE(same_key(partner_key(pk, partner->second.action), key));
    directions_seen[orig] |= 1 << value.action.direction;
  }
  for (const auto &[orig, dirs] : directions_seen)
    EXPECT_EQ(dirs, 3) << to_string(orig);
  // The encapsulated egress: the reply arrives with it, the original leaves with it.
  auto v = entry(LAN, cases[4].orig);
  EXPECT_EQ(v.action.encap.vlan_id[0], 42);
  EXPECT_TRUE(table.entries.count(make_flow_key(WAN, vlan_wan.encap, cases[4].reply)));
  EXPECT_TRUE(table.entries.count(make_flow_key(WAN, pppoe_wan.encap, cases[5].reply)));
}

// Offloaded connections cost the loader no memory of their own: only the
// pending and idle ones are recorded.
TEST_F(FlowSyncTest, NoRecordPerOffloadedConnection) {
  for (std::uint16_t port = 1000; port < 1300; port++)
    ASSERT_EQ(handle(CtMsg::flow(tuple("198.18.1.2", port, "198.19.0.2", 80))),
              SyncOutcome::Offloaded);
  EXPECT_EQ(sync().stats().flows_offloaded, 300u);
  EXPECT_EQ(table.entries.size(), 600u);
  EXPECT_EQ(sync().tracked_records(), 0u);
  // Updates, re-resolves and keepalive passes over them add none either.
  handle(CtMsg::flow(tuple("198.18.1.2", 1000, "198.19.0.2", 80)));
  eg.routes["198.19.0.2"].dst_mac[5] = 0x44;
  sync().reresolve_all(2 * SEC);
  sync().keepalive(3 * SEC);
  EXPECT_EQ(sync().tracked_records(), 0u);
  EXPECT_EQ(entry(LAN, tuple("198.18.1.2", 1299, "198.19.0.2", 80)).action.dst_mac[5], 0x44);
  // One waiting for its neighbour is.
  EXPECT_EQ(handle(CtMsg::flow(tuple("198.18.1.2", 1, "198.19.0.77", 80))),
            SyncOutcome::Unresolved);
  EXPECT_EQ(sync().tracked_records(), 1u);
}

// An UPDATE without CTA_PROTOINFO: a connection in the table is established
// (nothing else is offloaded); an unknown one is not offloaded on a guess.
TEST_F(FlowSyncTest, UpdateWithoutProtoinfo) {
  CtMsg unknown = CtMsg::flow(tuple("198.18.1.2", 40005, "198.19.0.2", 80));
  unknown.tcp_state.reset();
  EXPECT_EQ(handle(unknown), SyncOutcome::NotOffloadable);
  CtMsg m = CtMsg::flow(snat_orig, snat_reply);
  ASSERT_EQ(handle(m), SyncOutcome::Offloaded);
  m.tcp_state.reset();
  eg.routes["198.19.0.2"].dst_mac[5] = 0x55;
  EXPECT_EQ(handle(m), SyncOutcome::Updated);
  EXPECT_EQ(entry(LAN, snat_orig).action.dst_mac[5], 0x55);
}

// DESTROY after the route back to the client went away: the entry is found
// on the attached interfaces anyway.
TEST_F(FlowSyncTest, DestroyFindsTheEntryWithoutARoute) {
  CtMsg m = CtMsg::flow(snat_orig, snat_reply);
  m.id = 5;
  ASSERT_EQ(handle(m), SyncOutcome::Offloaded);
  eg.routes.erase("198.18.1.2");
  m.kind = CtMsg::Destroy;
  EXPECT_EQ(handle(m), SyncOutcome::Removed);
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().flows_offloaded, 0u);
}

// The resync also forgets pending and idle connections the dump did not
// confirm, and a lone entry whose partner is gone.
TEST_F(FlowSyncTest, ResyncForgetsUnconfirmedRecordsAndLoneEntries) {
  config.idle_timeout_ns = 60 * SEC;
  CtMsg pending = CtMsg::flow(tuple("198.18.1.2", 1, "198.19.0.77", 80));
  ASSERT_EQ(handle(pending), SyncOutcome::Unresolved);
  auto udp = tuple("198.18.1.2", 5000, "198.19.0.2", 5001, IPPROTO_UDP);
  ASSERT_EQ(handle(CtMsg::flow(udp), 0), SyncOutcome::Offloaded);
  sync().keepalive(61 * SEC);
  ASSERT_EQ(sync().stats().flows_idle, 1u);
  CtMsg kept = CtMsg::flow(snat_orig, snat_reply);
  ASSERT_EQ(handle(kept, 62 * SEC), SyncOutcome::Offloaded);
  // The connection is still in conntrack, but only its reply entry is left.
  CtMsg lone = CtMsg::flow(tuple("198.18.1.2", 40009, "198.19.0.2", 80));
  ASSERT_EQ(handle(lone, 62 * SEC), SyncOutcome::Offloaded);
  table.entries.erase(key_of(LAN, lone.orig));
  ASSERT_EQ(sync().tracked_records(), 2u);

  sync().begin_resync();
  kept.kind = CtMsg::DumpEntry;
  EXPECT_EQ(handle(kept, 63 * SEC), SyncOutcome::Unchanged);
  CtMsg lone_dump = lone;
  lone_dump.kind = CtMsg::DumpEntry;
  lone_dump.tcp_state = TCP_CONNTRACK_CLOSE_WAIT; // no longer offloadable
  EXPECT_EQ(handle(lone_dump, 63 * SEC), SyncOutcome::NotOffloadable);
  EXPECT_EQ(sync().end_resync(), 1u);
  EXPECT_EQ(sync().tracked_records(), 0u);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
  EXPECT_NO_THROW(entry(LAN, snat_orig));
}

// A re-resolve looks at each entry's own egress: a change on the client's
// side (the reply's egress, and the original direction's ingress) moves the
// original entry and rewrites the reply entry, counters kept where the key
// stays.
TEST_F(FlowSyncTest, ReresolveFollowsTheReplysEgressToo) {
  config.redirect_ifindexes.insert(4);
  ASSERT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Offloaded);
  table.entries[key_of(WAN, snat_reply)].packets = 7;
  eg.routes["198.18.1.2"].dst_mac[5] = 0x66;
  sync().reresolve_all(2 * SEC);
  EXPECT_EQ(entry(WAN, snat_reply).action.dst_mac[5], 0x66);
  EXPECT_EQ(entry(WAN, snat_reply).packets, 7u);
  EXPECT_EQ(entry(LAN, snat_orig).action.dst_mac[5], 0x03) << "the other direction untouched";
  eg.routes["198.18.1.2"].ifindex = 4; // the client moved behind interface 4
  sync().reresolve_all(3 * SEC);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(entry(4, snat_orig).action.egress_ifindex, WAN);
  EXPECT_EQ(entry(WAN, snat_reply).action.egress_ifindex, 4u);
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
  EXPECT_EQ(sync().stats().offloads_total, 1u) << "moved, not offloaded anew";
}

// A resync restores a connection that is still offloadable but lost one of
// its entries, whether the loss shows when the resync begins or only after
// (the dump entry of a connection whose entries were both there costs no
// table access; the sweep finds the half).
TEST_F(FlowSyncTest, ResyncRestoresAConnectionThatLostAnEntry) {
  CtMsg before = CtMsg::flow(snat_orig, snat_reply);
  before.id = 1;
  CtMsg after = CtMsg::flow(tuple("198.18.1.2", 40010, "198.19.0.2", 80));
  after.id = 2;
  ASSERT_EQ(handle(before), SyncOutcome::Offloaded);
  ASSERT_EQ(handle(after), SyncOutcome::Offloaded);
  table.entries.erase(key_of(WAN, snat_reply));
  sync().begin_resync();
  table.entries.erase(key_of(LAN, after.orig));
  before.kind = after.kind = CtMsg::DumpEntry;
  EXPECT_EQ(handle(before, 2 * SEC), SyncOutcome::Updated);
  EXPECT_EQ(handle(after, 2 * SEC), SyncOutcome::Unchanged);
  EXPECT_EQ(sync().end_resync(), 0u);
  EXPECT_EQ(table.entries.size(), 4u);
  EXPECT_NO_THROW(entry(WAN, snat_reply));
  EXPECT_NO_THROW(entry(LAN, after.orig));
  EXPECT_EQ(entry(LAN, after.orig).ct_id, 2u);
  EXPECT_EQ(sync().stats().flows_offloaded, 2u);
}

// Both ends move at once (a renumbering of interfaces): the connection's old
// pair leaves, the new one carries its counters; and when the client's side
// is no longer an attached interface, both entries leave although neither
// key is where the new routes would put it.
TEST_F(FlowSyncTest, ReresolveMovesOrRemovesBothEntriesWhenBothEndsMove) {
  config.redirect_ifindexes.insert({4, 5});
  ASSERT_EQ(handle(CtMsg::flow(snat_orig, snat_reply)), SyncOutcome::Offloaded);
  table.entries[key_of(LAN, snat_orig)].packets = 3;
  table.entries[key_of(WAN, snat_reply)].packets = 4;
  eg.routes["198.18.1.2"].ifindex = 4;
  eg.routes["198.19.0.2"].ifindex = 5;
  sync().reresolve_all(2 * SEC);
  ASSERT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(entry(4, snat_orig).action.egress_ifindex, 5u);
  EXPECT_EQ(entry(4, snat_orig).packets, 3u);
  EXPECT_EQ(entry(5, snat_reply).action.egress_ifindex, 4u);
  EXPECT_EQ(entry(5, snat_reply).packets, 4u);
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
  eg.routes["198.18.1.2"].ifindex = 9; // not attached
  sync().reresolve_all(3 * SEC);
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().flows_offloaded, 0u);
  EXPECT_EQ(sync().stats().flows_pending, 1u);
}

} // namespace
} // namespace xdpflow
