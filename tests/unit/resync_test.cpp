// Resync (core/resync.h): after lost events, what a full conntrack dump
// confirmed stays in the table, the rest is swept, and a confirmed
// connection that lost one of its entries is handed back to be placed again.
#include <algorithm>

#include "unit/flow_sync_fixture.h"

namespace xdpflow::flow_sync_test {
namespace {

class ResyncTest : public ::testing::Test {
protected:
  // Client port p's connection, masqueraded to port p + 20000.
  FlowTuple orig(std::uint16_t p) { return tuple("198.18.1.2", p, "198.19.0.2", 80); }
  FlowTuple reply(std::uint16_t p) {
    return tuple("198.19.0.2", 80, "198.19.0.1", static_cast<std::uint16_t>(p + 20000));
  }
  void offload(std::uint16_t p, std::uint32_t ct_id) {
    FlowEntries e =
        make_flow_entries(orig(p), reply(p), egress(WAN, 0x0b, 0x03), egress(LAN, 0x0a, 0x02));
    for (int d = 0; d < 2; d++) {
      xf_flow_value v{};
      v.action = e.actions[d];
      v.ct_id = ct_id;
      table.entries[e.keys[d]] = v;
    }
  }
  bool has(std::uint16_t p) { return table.entries.count(key_of(LAN, orig(p))) > 0; }

  FakeTable table;
  Resync resync{table, {}};
};

TEST_F(ResyncTest, SweepsWhatTheDumpDidNotConfirm) {
  for (std::uint16_t p = 1000; p < 1010; p++)
    offload(p, p);
  resync.begin();
  for (std::uint16_t p = 1000; p < 1010; p += 2) // the even ones are still in conntrack
    resync.confirm(orig(p));
  resync.confirm(orig(1000)); // a dump may repeat an entry
  int replaced = 0;
  Resync::Result r = resync.sweep([&](const xf_flow_key &, const xf_flow_value &) {
    replaced++;
    return true;
  });
  EXPECT_EQ(replaced, 0) << "every confirmed connection had both entries";
  EXPECT_EQ(r.removed, 5u) << "connections, not entries";
  EXPECT_EQ(r.flows_offloaded, 5u);
  EXPECT_EQ(table.entries.size(), 10u);
  for (std::uint16_t p = 1000; p < 1010; p++) {
    EXPECT_EQ(has(p), p % 2 == 0) << p;
    EXPECT_EQ(resync.confirmed(tuple_hash(orig(p))), p % 2 == 0) << p;
  }
  resync.release();
  EXPECT_FALSE(resync.confirmed(tuple_hash(orig(1000))));
}

// One entry left of a confirmed connection: placed again from it, counted
// if that worked, removed if not.
TEST_F(ResyncTest, ConfirmedConnectionWithOneEntryIsPlacedAgainOrRemoved) {
  offload(1000, 1);
  offload(1001, 2);
  offload(1002, 3);
  table.entries.erase(key_of(WAN, reply(1000))); // lost its reply entry
  table.entries.erase(key_of(LAN, orig(1001)));  // lost its original entry
  resync.begin();
  for (std::uint16_t p = 1000; p <= 1002; p++)
    resync.confirm(orig(p));
  std::vector<std::uint8_t> handed_back;
  Resync::Result r = resync.sweep([&](const xf_flow_key &, const xf_flow_value &v) {
    handed_back.push_back(v.action.direction);
    if (v.ct_id == 2) // 1001 cannot be placed (e.g. its egress is gone)
      return false;
    offload(1000, 1); // 1000 is placed again
    return true;
  });
  // 1000's original entry and 1001's reply entry, once each.
  std::sort(handed_back.begin(), handed_back.end());
  EXPECT_EQ(handed_back, (std::vector<std::uint8_t>{XF_DIR_ORIGINAL, XF_DIR_REPLY}));
  EXPECT_EQ(r.flows_offloaded, 2u) << "1002, and 1000 placed again";
  EXPECT_EQ(r.removed, 1u);
  EXPECT_TRUE(has(1000));
  EXPECT_TRUE(table.entries.count(key_of(WAN, reply(1000))));
  EXPECT_FALSE(table.entries.count(key_of(WAN, reply(1001))));
  EXPECT_EQ(table.entries.size(), 4u);
}

// A dump entry whose two entries were in the table when the resync began,
// with its conntrack id, needs no table access at all.
TEST_F(ResyncTest, KnowsWhichConnectionsHadBothEntriesAtItsBeginning) {
  offload(1000, 1);
  offload(1001, 2);
  table.entries.erase(key_of(WAN, reply(1001)));
  EXPECT_FALSE(resync.both_entries_at_begin(orig(1000), 1)) << "no resync under way";
  resync.begin();
  EXPECT_TRUE(resync.active());
  EXPECT_TRUE(resync.both_entries_at_begin(orig(1000), 1));
  EXPECT_FALSE(resync.both_entries_at_begin(orig(1000), 5)) << "another conntrack entry";
  EXPECT_FALSE(resync.both_entries_at_begin(orig(1001), 2)) << "one entry only";
  EXPECT_FALSE(resync.both_entries_at_begin(orig(1002), 0)) << "not in the table";
  resync.confirm(orig(1000));
  resync.sweep([](const xf_flow_key &, const xf_flow_value &) { return false; });
  EXPECT_FALSE(resync.active());
  resync.release();
  EXPECT_FALSE(resync.both_entries_at_begin(orig(1000), 1));
}

TEST_F(ResyncTest, ConfirmationsOutsideAResyncAreIgnored) {
  offload(1000, 1);
  resync.confirm(orig(1000)); // an event before the resync
  resync.begin();
  Resync::Result r = resync.sweep([](const xf_flow_key &, const xf_flow_value &) { return true; });
  EXPECT_EQ(r.removed, 1u);
  EXPECT_TRUE(table.entries.empty());
}

} // namespace
} // namespace xdpflow::flow_sync_test
