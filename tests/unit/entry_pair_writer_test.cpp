// EntryPairWriter (core/entry_pair_writer.h): a connection's two entries
// written, rewritten, moved and removed, never touching another live
// connection's, with the table operations that costs and the counts of what
// the table holds.
#include "unit/flow_sync_fixture.h"

namespace xdpflow::flow_sync_test {
namespace {

// The fake table, counting the operations that are syscalls on the real one.
class CountingTable : public FakeTable {
public:
  using FakeTable::FakeTable;
  bool upsert(const xf_flow_key &k, const xf_flow_value &v) override {
    ops++;
    return FakeTable::upsert(k, v);
  }
  Insert insert(const xf_flow_key &k, const xf_flow_value &v) override {
    ops++;
    return FakeTable::insert(k, v);
  }
  bool remove(const xf_flow_key &k) override {
    ops++;
    return FakeTable::remove(k);
  }
  std::optional<xf_flow_value> lookup(const xf_flow_key &k) const override {
    ops++;
    return FakeTable::lookup(k);
  }
  mutable int ops = 0;
};

class EntryPairWriterTest : public ::testing::Test {
protected:
  using Write = EntryPairWriter::Write;
  FlowEntries entries(const FlowTuple &orig, const FlowTuple &reply, const Egress &to_wan,
                      const Egress &to_lan) {
    return make_flow_entries(orig, reply, to_wan, to_lan);
  }
  Write write(const FlowEntries &e, std::uint32_t ct_id, std::uint64_t now = SEC,
              const std::optional<EntryPairWriter::KnownEntry> &known = std::nullopt,
              bool likely = false) {
    return writer.write(e, ct_id, now, known, likely);
  }
  const xf_flow_value &at(const xf_flow_key &k) { return table.entries.at(k); }

  CountingTable table{100};
  std::vector<std::string> log;
  EntryPairWriter writer{table, [this](const std::string &l) { log.push_back(l); }};
  Egress wan = egress(WAN, 0x0b, 0x03), lan = egress(LAN, 0x0a, 0x02);
  FlowTuple orig = tuple("198.18.1.2", 40000, "198.19.0.2", 80);
  FlowTuple reply = tuple("198.19.0.2", 80, "198.19.0.1", 61000);
  xf_flow_key k0 = key_of(LAN, orig), k1 = key_of(WAN, reply);
};

TEST_F(EntryPairWriterTest, NewConnectionTwoInsertsThenNothingToDo) {
  FlowEntries e = entries(orig, reply, wan, lan);
  EXPECT_EQ(write(e, 7, 3 * SEC), Write::Offloaded);
  EXPECT_EQ(table.ops, 2) << "one insert per direction";
  ASSERT_EQ(table.entries.size(), 2u);
  for (const auto &k : {k0, k1}) {
    EXPECT_EQ(at(k).ct_id, 7u);
    EXPECT_EQ(at(k).last_seen_ns, 3 * SEC) << "not idle from the start";
    EXPECT_EQ(at(k).packets, 0u);
  }
  EXPECT_EQ(at(k0).action.direction, XF_DIR_ORIGINAL);
  EXPECT_EQ(at(k1).action.direction, XF_DIR_REPLY);
  EXPECT_EQ(writer.counts().flows_offloaded, 1u);
  EXPECT_EQ(writer.counts().offloads_total, 1u);

  // The same again, as an update would: looked up, nothing written.
  table.ops = 0;
  EXPECT_EQ(write(e, 7, 9 * SEC, std::nullopt, /*likely_in_table=*/true), Write::Unchanged);
  EXPECT_EQ(table.ops, 2) << "two lookups";
  EXPECT_EQ(at(k0).last_seen_ns, 3 * SEC);
  // Without the hint, the refused inserts find the entries.
  table.ops = 0;
  EXPECT_EQ(write(e, 7), Write::Unchanged);
  EXPECT_EQ(table.ops, 3) << "a refused insert and two lookups";
  EXPECT_EQ(writer.counts().flows_offloaded, 1u);
  EXPECT_EQ(writer.counts().offloads_total, 1u);
}

TEST_F(EntryPairWriterTest, ChangedActionRewritesKeepingCounters) {
  write(entries(orig, reply, wan, lan), 7);
  table.entries[k0].packets = 10;
  table.entries[k0].bytes = 1000;
  table.entries[k0].last_seen_ns = 5 * SEC;
  Egress new_gw = egress(WAN, 0x0b, 0x33); // the upstream router's MAC changed
  EXPECT_EQ(write(entries(orig, reply, new_gw, lan), 7, 6 * SEC), Write::Updated);
  EXPECT_EQ(at(k0).action.dst_mac[5], 0x33);
  EXPECT_EQ(at(k0).packets, 10u);
  EXPECT_EQ(at(k0).bytes, 1000u);
  EXPECT_EQ(at(k0).last_seen_ns, 5 * SEC);
  EXPECT_EQ(writer.counts().flows_offloaded, 1u);
}

// The reply's route changed: the original entry's key (where it arrives)
// moves; the old pair leaves, the counters move with it.
TEST_F(EntryPairWriterTest, MovedOriginalKeyTakesTheOldPairsPlace) {
  write(entries(orig, reply, wan, lan), 7);
  table.entries[k0].packets = 3;
  table.entries[k1].packets = 4;
  EntryPairWriter::KnownEntry known{k0, at(k0)};
  Egress lan2 = egress(9, 0x0c, 0x02);
  EXPECT_EQ(write(entries(orig, reply, wan, lan2), 7, 2 * SEC, known), Write::Updated);
  EXPECT_FALSE(table.entries.count(k0));
  xf_flow_key moved = key_of(9, orig);
  ASSERT_TRUE(table.entries.count(moved));
  EXPECT_EQ(at(moved).packets, 3u);
  ASSERT_TRUE(table.entries.count(k1));
  EXPECT_EQ(at(k1).action.egress_ifindex, 9u);
  EXPECT_EQ(at(k1).packets, 4u);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(writer.counts().flows_offloaded, 1u);
}

// Conntrack keeps tuples unique: another connection owning a key is dead
// (its DESTROY was lost). Its pair goes, the new one takes the key.
TEST_F(EntryPairWriterTest, DeadConnectionOnAKeyIsEvictedWithItsPartner) {
  FlowTuple dead_orig = tuple("198.18.1.9", 50000, "198.19.0.2", 80);
  write(entries(dead_orig, reply, wan, lan), 3); // masquerade gave it the same port
  ASSERT_EQ(writer.counts().flows_offloaded, 1u);
  EXPECT_EQ(write(entries(orig, reply, wan, lan), 7), Write::Offloaded);
  EXPECT_FALSE(table.entries.count(key_of(LAN, dead_orig)));
  EXPECT_EQ(at(k1).ct_id, 7u);
  EXPECT_EQ(at(k0).ct_id, 7u);
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_EQ(writer.counts().evicted_stale, 1u);
  EXPECT_EQ(writer.counts().flows_offloaded, 1u);
  EXPECT_EQ(writer.counts().removals_total, 1u);
  EXPECT_EQ(log.size(), 1u);
}

TEST_F(EntryPairWriterTest, FullTableLeavesNothingOfTheConnection) {
  CountingTable small(3);
  EntryPairWriter w(small, {});
  w.write(entries(tuple("198.18.1.3", 1, "198.19.0.2", 80),
                  tuple("198.19.0.2", 80, "198.19.0.1", 2), wan, lan),
          1, SEC, std::nullopt, false);
  EXPECT_FALSE(w.table_full());
  // Its original entry fits, its reply does not: the original leaves again.
  EXPECT_EQ(w.write(entries(orig, reply, wan, lan), 7, SEC, std::nullopt, false), Write::Full);
  EXPECT_EQ(small.entries.size(), 2u);
  EXPECT_FALSE(small.entries.count(k0));
  EXPECT_TRUE(w.table_full());
  EXPECT_EQ(w.counts().flows_offloaded, 1u);
  // Something leaving makes room.
  auto first = small.entries.begin();
  EXPECT_TRUE(w.remove_pair(first->first, first->second));
  EXPECT_FALSE(w.table_full());
  EXPECT_TRUE(small.entries.empty());
  EXPECT_EQ(w.counts().flows_offloaded, 0u);
  EXPECT_EQ(w.counts().removals_total, 1u);
}

// A late DESTROY names its conntrack id: it must not remove a successor
// with the same tuple. Anything else finding another id there removes it as
// stale.
TEST_F(EntryPairWriterTest, RemoveAtChecksTheConntrackIdWhenAsked) {
  write(entries(orig, reply, wan, lan), 7);
  EXPECT_FALSE(writer.remove_at(k1, 7, true)) << "the key of an original entry only";
  EXPECT_FALSE(writer.remove_at(k0, 6, true));
  EXPECT_EQ(table.entries.size(), 2u);
  EXPECT_TRUE(writer.remove_at(k0, 6, false));
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(writer.counts().evicted_stale, 1u);
  EXPECT_EQ(writer.counts().flows_offloaded, 0u);
}

// A partner is only the entry that names this one back, of the same
// connection: an entry whose partner is gone or another's removes alone.
TEST_F(EntryPairWriterTest, LoneEntryRemovesAloneAndIsNotCounted) {
  write(entries(orig, reply, wan, lan), 7);
  table.entries.erase(k1);
  EXPECT_FALSE(writer.partner_of(k0, at(k0)));
  EXPECT_EQ(writer.remove_entries(k0, writer.partner_of(k0, at(k0))),
            EntryPairWriter::Removal::EntryOnly);
  EXPECT_EQ(writer.remove_entries(k0, std::nullopt), EntryPairWriter::Removal::None);
  EXPECT_EQ(writer.counts().flows_offloaded, 1u) << "the lone entry's removal is no connection's";

  write(entries(orig, reply, wan, lan), 8);
  std::optional<xf_flow_value> pv;
  auto pk = writer.partner_of(k0, at(k0), &pv);
  ASSERT_TRUE(pk);
  EXPECT_TRUE(same_key(*pk, k1));
  EXPECT_EQ(pv->action.direction, XF_DIR_REPLY);
  table.entries[k1].ct_id = 99; // another connection's entry there now
  EXPECT_FALSE(writer.partner_of(k0, at(k0)));
}

TEST_F(EntryPairWriterTest, ResyncedRecountsAndMakesRoom) {
  writer.resynced(5, 0);
  EXPECT_EQ(writer.counts().flows_offloaded, 5u);
  EXPECT_EQ(writer.counts().removals_total, 0u);
  writer.resynced(3, 2);
  EXPECT_EQ(writer.counts().flows_offloaded, 3u);
  EXPECT_EQ(writer.counts().removals_total, 2u);
}

} // namespace
} // namespace xdpflow::flow_sync_test
