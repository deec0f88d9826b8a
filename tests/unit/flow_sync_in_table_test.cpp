// FlowSync with an EgressLookup that, like the egress observer, knows a
// direction's egress only until it is in the table (placed() makes it
// forget): offloaded connections are handled from their entries alone.
#include "unit/flow_sync_fixture.h"

namespace xdpflow {
namespace {

using namespace flow_sync_test;

// Knows what it was told per outgoing tuple, until the direction is placed.
class ForgetfulEgress : public EgressLookup {
public:
  std::optional<Egress> resolve(const FlowTuple &out) override {
    asked++;
    auto it = known.find(to_string(out));
    if (it == known.end())
      return std::nullopt;
    return it->second;
  }
  std::optional<Egress> resolve_in_table(const FlowTuple &, const Egress &written) override {
    if (!attached.count(written.ifindex))
      return std::nullopt;
    return written;
  }
  void placed(const FlowTuple &, const FlowTuple &out) override { known.erase(to_string(out)); }

  std::map<std::string, Egress> known;
  std::set<std::uint32_t> attached{LAN, WAN};
  int asked = 0;
};

xf_encap vlan(std::uint16_t vid) {
  xf_encap e{};
  e.vlan_id[0] = vid;
  e.vlan_count = 1;
  return e;
}

class FlowSyncInTableTest : public FlowSyncTest {
protected:
  EgressLookup &lookup() override { return forgetful; }
  // The kernel was seen sending both directions of the connection (the
  // client's side on the LAN on VLAN lan_vid, when given).
  void observe(const CtMsg &m, std::uint16_t lan_vid = 0) {
    Egress to_client = egress(LAN, 0x0a, 0x02);
    if (lan_vid)
      to_client.encap = vlan(lan_vid);
    forgetful.known[to_string(reversed(m.reply))] = egress(WAN, 0x0b, 0x03);
    forgetful.known[to_string(reversed(m.orig))] = to_client;
  }
  CtMsg conn(std::uint16_t port, std::uint32_t id) {
    CtMsg m = CtMsg::flow(tuple("198.18.1.2", port, "198.19.0.2", 80),
                          tuple("198.19.0.2", 80, "198.19.0.1", port));
    m.id = id;
    return m;
  }

  ForgetfulEgress forgetful;
};

TEST_F(FlowSyncInTableTest, OffloadedConnectionsKeepNothingOutsideTheTable) {
  for (std::uint16_t port = 1000; port < 1100; port++) {
    CtMsg m = conn(port, port);
    observe(m);
    ASSERT_EQ(handle(m), SyncOutcome::Offloaded);
  }
  EXPECT_TRUE(forgetful.known.empty()) << "both directions placed: the lookup let go";
  EXPECT_EQ(sync().tracked_records(), 0u);
  EXPECT_EQ(table.entries.size(), 200u);
  // Conntrack's updates (our own refreshes coming back, with and without
  // CTA_PROTOINFO, or a resync's dump) leave them as they are.
  CtMsg m = conn(1042, 1042);
  EXPECT_EQ(handle(m), SyncOutcome::Unchanged);
  m.tcp_state.reset();
  EXPECT_EQ(handle(m), SyncOutcome::Unchanged);
  m.kind = CtMsg::DumpEntry;
  EXPECT_EQ(handle(m), SyncOutcome::Unchanged);
  EXPECT_EQ(table.entries.size(), 200u);
  EXPECT_EQ(sync().stats().flows_offloaded, 100u);
  EXPECT_EQ(sync().stats().flows_pending, 0u);
}

// DESTROY removes both entries, found where the original direction arrives,
// encapsulation included, though the lookup knows nothing of them any more;
// a late DESTROY of an older connection with the same tuple removes nothing.
TEST_F(FlowSyncInTableTest, DestroyFindsEntriesFromTheTableAlone) {
  CtMsg plain = conn(2000, 7), tagged = conn(2001, 8);
  observe(plain);
  observe(tagged, 10);
  ASSERT_EQ(handle(plain), SyncOutcome::Offloaded);
  ASSERT_EQ(handle(tagged), SyncOutcome::Offloaded);
  ASSERT_TRUE(forgetful.known.empty());
  ASSERT_TRUE(table.entries.count(make_flow_key(LAN, vlan(10), tagged.orig)));
  CtMsg older = tagged;
  older.id = 3;
  older.kind = CtMsg::Destroy;
  EXPECT_EQ(handle(older), SyncOutcome::Ignored);
  EXPECT_EQ(table.entries.size(), 4u);
  tagged.kind = plain.kind = CtMsg::Destroy;
  EXPECT_EQ(handle(tagged), SyncOutcome::Removed);
  EXPECT_EQ(handle(plain), SyncOutcome::Removed);
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().flows_offloaded, 0u);
}

// An offloaded connection that stops being offloadable (TCP leaving
// ESTABLISHED) leaves the table from its entries alone.
TEST_F(FlowSyncInTableTest, LeavingEstablishedRemovesFromTheTableAlone) {
  CtMsg m = conn(2100, 9);
  observe(m, 20);
  ASSERT_EQ(handle(m), SyncOutcome::Offloaded);
  m.tcp_state = TCP_CONNTRACK_FIN_WAIT;
  EXPECT_EQ(handle(m), SyncOutcome::Removed);
  EXPECT_TRUE(table.entries.empty());
}

// Re-resolving (a hook or an interface changed) keeps what still holds;
// relearning (every observation forgotten) sends every connection back to
// wait for the kernel's next packets, and they come back when observed.
TEST_F(FlowSyncInTableTest, ReresolveKeepsRelearnWaits) {
  CtMsg a = conn(3000, 1), b = conn(3001, 2);
  observe(a);
  observe(b);
  ASSERT_EQ(handle(a), SyncOutcome::Offloaded);
  ASSERT_EQ(handle(b), SyncOutcome::Offloaded);
  sync().reresolve_all(2 * SEC);
  EXPECT_EQ(table.entries.size(), 4u);
  EXPECT_EQ(sync().stats().flows_offloaded, 2u);

  sync().relearn_all(3 * SEC);
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().flows_pending, 2u);
  int pending = 0;
  sync().for_each_pending([&](const FlowTuple &, const FlowTuple &, std::uint32_t, bool full) {
    pending++;
    EXPECT_FALSE(full);
  });
  EXPECT_EQ(pending, 2);
  // The kernel's next packets of one of them are seen: a targeted retry.
  observe(b);
  sync().retry_observed({reversed(b.reply)}, 4 * SEC);
  EXPECT_EQ(sync().stats().flows_pending, 1u);
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
  EXPECT_TRUE(table.entries.count(key_of(LAN, b.orig)));
  // An update of the one still waiting does not offload it on a guess.
  EXPECT_EQ(handle(a), SyncOutcome::Unresolved);
}

// An interface no longer attached: its connections leave the table and wait.
TEST_F(FlowSyncInTableTest, ReresolveRemovesWhatLeavesThroughADetachedInterface) {
  CtMsg m = conn(3100, 4);
  observe(m);
  ASSERT_EQ(handle(m), SyncOutcome::Offloaded);
  forgetful.attached.erase(WAN);
  sync().set_redirect_target(WAN, false);
  sync().reresolve_all(2 * SEC);
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().flows_offloaded, 0u);
  EXPECT_EQ(sync().stats().flows_pending, 1u);
}

} // namespace
} // namespace xdpflow
