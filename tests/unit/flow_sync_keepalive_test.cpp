// FlowSync's keepalive, stateless: which connections get their conntrack
// timeout refreshed in which pass, and which leave the table idle, decided
// from the entries' last hit alone.
#include <set>

#include "unit/flow_sync_fixture.h"

namespace xdpflow {
namespace {

using namespace flow_sync_test;

class KeepaliveTest : public FlowSyncTest {
protected:
  KeepaliveTest() {
    config.idle_timeout_ns = 60 * SEC;
    config.keepalive_interval_ns = 5 * SEC;
  }
  // A packet through the fast path at `at`, as the data path records it.
  void hit(const xf_flow_key &key, std::uint64_t at) {
    auto &v = table.entries.at(key);
    v.packets++;
    v.last_seen_ns = at;
  }
  // Passes from..to, one a second; before each, hits on the given entries
  // half a second earlier. Returns the passes that refreshed conntrack.
  std::vector<int> passes(int from, int to, const std::vector<xf_flow_key> &active) {
    std::vector<int> refreshed;
    for (int n = from; n <= to; n++) {
      for (const auto &k : active)
        hit(k, n * SEC - SEC / 2);
      std::size_t before = ct.updates.size();
      sync().keepalive(n * SEC);
      if (ct.updates.size() > before)
        refreshed.push_back(n);
      EXPECT_LE(ct.updates.size() - before, 1u) << "pass " << n << " refreshed twice";
    }
    return refreshed;
  }

  FlowTuple udp = tuple("198.18.1.2", 5000, "198.19.0.2", 5001, IPPROTO_UDP);
  xf_flow_key udp_orig_key = key_of(LAN, udp);
  xf_flow_key udp_reply_key = key_of(WAN, reversed(udp));
};

// Passes once a second, a 5 s interval: each connection is due every fifth
// pass, at a phase set by its tuple's hash, and refreshed there if it was
// hit since its previous due pass, once even with both directions active.
TEST_F(KeepaliveTest, ActiveConnectionRefreshedOncePerIntervalAtItsDuePasses) {
  ASSERT_EQ(handle(CtMsg::flow(udp), 0), SyncOutcome::Offloaded);
  sync().set_ct_timeouts(432000, 120);
  std::vector<int> refreshed = passes(1, 21, {udp_orig_key, udp_reply_key});
  // Pass 1 cannot know the spacing yet: everything active is due.
  ASSERT_FALSE(refreshed.empty());
  EXPECT_EQ(refreshed.front(), 1);
  std::vector<int> expected = {1};
  std::uint64_t h = tuple_hash(udp);
  for (int n = 2; n <= 21; n++)
    if ((h + n) % 5 == 0)
      expected.push_back(n);
  EXPECT_EQ(refreshed, expected);
  EXPECT_EQ(expected.size(), 5u);
  for (const auto &u : ct.updates) {
    EXPECT_EQ(u.orig, udp);
    EXPECT_EQ(u.timeout_sec, 120u);
    EXPECT_FALSE(u.be_liberal);
  }
  EXPECT_EQ(sync().stats().keepalive_refreshes, 5u);
}

// Many connections spread evenly over the passes instead of all refreshing
// in one.
TEST_F(KeepaliveTest, RefreshesSpreadOverPasses) {
  std::vector<xf_flow_key> keys;
  for (std::uint16_t port = 1000; port < 1500; port++) {
    auto t = tuple("198.18.1.2", port, "198.19.0.2", 5001, IPPROTO_UDP);
    ASSERT_EQ(handle(CtMsg::flow(t), 0), SyncOutcome::Offloaded);
    keys.push_back(key_of(LAN, t));
  }
  sync().keepalive(1 * SEC);
  ct.updates.clear();
  std::set<FlowTuple> refreshed;
  for (int n = 2; n <= 6; n++) {
    for (const auto &k : keys)
      hit(k, n * SEC - SEC / 2);
    std::size_t before = ct.updates.size();
    sync().keepalive(n * SEC);
    std::size_t in_pass = ct.updates.size() - before;
    EXPECT_GT(in_pass, 60u) << "pass " << n;
    EXPECT_LT(in_pass, 140u) << "pass " << n;
  }
  for (const auto &u : ct.updates)
    refreshed.insert(u.orig);
  EXPECT_EQ(refreshed.size(), 500u) << "five passes refresh every connection once";
  EXPECT_EQ(ct.updates.size(), 500u);
}

TEST_F(KeepaliveTest, OnlyConnectionsHitSinceTheirPreviousDuePass) {
  ASSERT_EQ(handle(CtMsg::flow(udp), 0), SyncOutcome::Offloaded);
  EXPECT_TRUE(passes(1, 12, {}).empty()) << "never hit: nothing to refresh";
  // One packet at 12.5 s, then silence: refreshed once, at the next due pass.
  hit(udp_reply_key, 12 * SEC + SEC / 2);
  std::vector<int> refreshed = passes(13, 30, {});
  ASSERT_EQ(refreshed.size(), 1u);
  std::uint64_t h = tuple_hash(udp);
  EXPECT_EQ((h + refreshed[0]) % 5, 0u);
  EXPECT_LE(refreshed[0], 17);
}

// Only the reply direction carries packets (e.g. a download over UDP): its
// entry alone keeps the connection alive.
TEST_F(KeepaliveTest, ReplyOnlyActiveConnectionIsRefreshed) {
  ASSERT_EQ(handle(CtMsg::flow(udp), 0), SyncOutcome::Offloaded);
  EXPECT_EQ(passes(1, 21, {udp_reply_key}).size(), 5u);
  std::uint64_t h = tuple_hash(udp);
  std::size_t due = 0;
  for (int n = 22; n <= 100; n++)
    due += (h + n) % 5 == 0;
  EXPECT_EQ(passes(22, 100, {udp_reply_key}).size(), due);
  EXPECT_EQ(table.entries.size(), 2u) << "an active reply keeps both entries";
  EXPECT_EQ(entry(LAN, udp).packets, 0u);
}

// A short conntrack timeout shortens the window to a third of it: with a
// 3 s timeout every pass (1 s apart) refreshes an active connection.
TEST_F(KeepaliveTest, ShortConntrackTimeoutRefreshesEveryPass) {
  ASSERT_EQ(handle(CtMsg::flow(udp), 0), SyncOutcome::Offloaded);
  sync().set_ct_timeouts(432000, 3);
  EXPECT_EQ(passes(1, 8, {udp_orig_key}).size(), 8u);
  for (const auto &u : ct.updates)
    EXPECT_EQ(u.timeout_sec, 3u);
}

// Whatever the phase, an active connection never goes a window without a
// refresh (conntrack's timeout is at least three windows).
TEST_F(KeepaliveTest, NoRefreshGapLongerThanTheWindow) {
  std::vector<FlowTuple> tuples;
  std::vector<xf_flow_key> keys;
  for (std::uint16_t port = 2000; port < 2050; port++) {
    tuples.push_back(tuple("198.18.1.2", port, "198.19.0.2", 5001, IPPROTO_UDP));
    ASSERT_EQ(handle(CtMsg::flow(tuples.back()), 0), SyncOutcome::Offloaded);
    keys.push_back(key_of(WAN, reversed(tuples.back())));
  }
  std::map<FlowTuple, int> last;
  for (int n = 1; n <= 40; n++) {
    for (const auto &k : keys)
      hit(k, n * SEC - SEC / 2);
    std::size_t before = ct.updates.size();
    sync().keepalive(n * SEC);
    for (std::size_t i = before; i < ct.updates.size(); i++) {
      const FlowTuple &t = ct.updates[i].orig;
      if (last.count(t)) {
        EXPECT_LE(n - last[t], 5) << to_string(t);
      }
      last[t] = n;
    }
  }
  EXPECT_EQ(last.size(), tuples.size());
  for (const auto &[t, n] : last)
    EXPECT_GE(n, 36) << to_string(t) << " not refreshed in the last window";
}

TEST_F(KeepaliveTest, IdleConnectionLeavesOnlyWhenBothDirectionsAreIdle) {
  ASSERT_EQ(handle(CtMsg::flow(udp), 0), SyncOutcome::Offloaded);
  auto other = tuple("198.18.1.2", 5002, "198.19.0.2", 5001, IPPROTO_UDP);
  ASSERT_EQ(handle(CtMsg::flow(other), 0), SyncOutcome::Offloaded);
  hit(key_of(LAN, other), 30 * SEC); // original direction active at 30 s
  sync().keepalive(59 * SEC);
  EXPECT_EQ(table.entries.size(), 4u) << "idle for 59 s: stays";
  sync().keepalive(61 * SEC);
  EXPECT_EQ(table.entries.size(), 2u) << "idle for 61 s: leaves; the other one stays";
  EXPECT_NO_THROW(entry(LAN, other));
  EXPECT_NO_THROW(entry(WAN, reversed(other))) << "its idle reply entry stays with it";
  EXPECT_EQ(sync().stats().idle_removals, 1u);
  EXPECT_EQ(sync().stats().flows_offloaded, 1u);
  EXPECT_EQ(sync().stats().flows_idle, 1u);
  sync().keepalive(91 * SEC);
  EXPECT_TRUE(table.entries.empty());
  EXPECT_EQ(sync().stats().flows_idle, 2u);
  EXPECT_EQ(sync().stats().flows_offloaded, 0u);
}

// A connection hit once after its offload, then idle: it leaves the table,
// and traffic through the kernel a few seconds after that brings it back.
// Its removal set conntrack's timeout to the full length, so a timeout
// conntrack pushed further than removal + timeout can only come from packets
// conntrack saw.
TEST_F(KeepaliveTest, IdleConnectionHitOnceComesBackWithTrafficSoonAfterItsRemoval) {
  config.idle_timeout_ns = 2 * SEC;
  auto tcp = tuple("198.18.1.2", 40000, "198.19.0.2", 5008, IPPROTO_TCP);
  CtMsg m = CtMsg::flow(tcp);
  m.timeout = 432000;
  ASSERT_EQ(handle(m, 0), SyncOutcome::Offloaded);
  sync().set_ct_timeouts(432000, 120);
  sync().keepalive(1 * SEC);
  hit(key_of(WAN, reversed(tcp)), 1 * SEC + SEC / 2); // the delayed ACK
  sync().keepalive(2 * SEC);
  sync().keepalive(3 * SEC);
  sync().keepalive(4 * SEC);
  ASSERT_TRUE(table.entries.empty()) << "idle for 2.5 s: leaves";
  ASSERT_EQ(sync().stats().flows_idle, 1u);
  m.kind = CtMsg::DumpEntry;
  // A dump right after removal: the timeout only ran down.
  m.timeout = 432000 - 1;
  EXPECT_EQ(handle(m, 5 * SEC), SyncOutcome::Idle);
  // Traffic at 8 s, seen by the dump at 9 s: back in the table.
  m.timeout = 432000 - 1;
  EXPECT_EQ(handle(m, 9 * SEC), SyncOutcome::Offloaded);
  EXPECT_EQ(table.entries.size(), 2u);
}

// Idle connections are remembered compactly: a home gateway keeps many
// long-lived idle TCP connections.
TEST_F(KeepaliveTest, IdleConnectionsCostFewBytesEach) {
  table = FakeTable(100000);
  const int n = 20000;
  for (int i = 0; i < n; i++) {
    auto t = tuple("198.18.1.2", static_cast<std::uint16_t>(1024 + i / 4), "198.19.0.2",
                   static_cast<std::uint16_t>(5001 + i % 4), IPPROTO_UDP);
    ASSERT_EQ(handle(CtMsg::flow(t), 0), SyncOutcome::Offloaded);
  }
  sync().keepalive(61 * SEC);
  ASSERT_EQ(sync().stats().flows_idle, static_cast<std::uint64_t>(n));
  EXPECT_TRUE(table.entries.empty());
  double bytes = static_cast<double>(sync().idle_memory_bytes()) / n;
  EXPECT_LE(bytes, 48.0);
  RecordProperty("idle_bytes_per_connection", std::to_string(bytes));
  std::printf("idle records: %.1f bytes per idle connection\n", bytes);
}

// A TCP connection that comes back sending: while its data is
// unacknowledged conntrack gives it 300 s (nf_conntrack_tcp_timeout_
// unacknowledged), not the established timeout, so a dump then sees an
// expiry earlier than the one its removal set. Only a packet moves it
// there: the connection is active again. (Judged by "pushed further" only,
// it looked idle for as long as it kept data in flight at the dumps: the
// control-plane test IdleFlowLeavesAndComesBackWithTraffic, exchanging
// continuously, was never re-offloaded.)
TEST_F(KeepaliveTest, IdleConnectionBackWithDataInFlightIsActiveAgain) {
  config.idle_timeout_ns = 2 * SEC;
  auto tcp = tuple("198.18.1.2", 40001, "198.19.0.2", 5008, IPPROTO_TCP);
  CtMsg m = CtMsg::flow(tcp);
  m.timeout = 432000;
  ASSERT_EQ(handle(m, 0), SyncOutcome::Offloaded);
  sync().set_ct_timeouts(432000, 120);
  sync().keepalive(1 * SEC);
  sync().keepalive(3 * SEC);
  ASSERT_TRUE(table.entries.empty()) << "idle for 3 s: leaves";
  ASSERT_FALSE(ct.updates.empty());
  EXPECT_EQ(ct.updates.back().timeout_sec, std::optional<std::uint32_t>(432000))
      << "its removal refreshes conntrack to the full timeout";
  m.kind = CtMsg::DumpEntry;
  m.timeout = 432000 - 7; // nothing since: 7 s ran down
  EXPECT_EQ(handle(m, 10 * SEC), SyncOutcome::Idle);
  m.timeout = 299; // data in flight at the dump
  EXPECT_EQ(handle(m, 20 * SEC), SyncOutcome::Offloaded);
  EXPECT_EQ(table.entries.size(), 2u);
}

} // namespace
} // namespace xdpflow
