// KeepaliveSchedule (core/keepalive_schedule.h): which pass refreshes which
// connection, from the passes' real spacing and conntrack's timeouts, with
// no per-connection state.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <random>

#include "core/keepalive_schedule.h"

namespace xdpflow {
namespace {

constexpr std::uint64_t MS = 1'000'000ull, SEC = 1000 * MS;

class KeepaliveScheduleTest : public ::testing::Test {
protected:
  KeepaliveScheduleTest() { s.set_ct_timeouts(432000, 120); }
  // Passes at from..to seconds, one a second.
  void passes(int from, int to) {
    for (int n = from; n <= to; n++)
      s.begin_pass(n * SEC);
  }
  // Hashes of many connections, as tuple_hash spreads them.
  std::vector<std::uint64_t> hashes(std::size_t n) {
    std::mt19937_64 rng(42);
    std::vector<std::uint64_t> out(n);
    for (auto &h : out)
      h = rng() | 1;
    return out;
  }

  KeepaliveSchedule s{5 * SEC};
};

TEST_F(KeepaliveScheduleTest, WindowIsTheIntervalButAtMostAThirdOfTheTimeout) {
  EXPECT_EQ(s.window_ns(IPPROTO_TCP), 5 * SEC);
  EXPECT_EQ(s.window_ns(IPPROTO_UDP), 5 * SEC);
  s.set_ct_timeouts(432000, 12);
  EXPECT_EQ(s.window_ns(IPPROTO_UDP), 4 * SEC);
  EXPECT_EQ(s.timeout_sec(IPPROTO_UDP), 12u);
  EXPECT_EQ(s.timeout_sec(IPPROTO_TCP), 432000u);
  EXPECT_EQ(s.window_ns(IPPROTO_TCP), 5 * SEC);
}

// The first pass cannot know the spacing: every connection is due, and any
// hit counts.
TEST_F(KeepaliveScheduleTest, FirstPassEveryConnectionIsDue) {
  s.begin_pass(7 * SEC);
  EXPECT_EQ(s.pass_start(), 7 * SEC);
  for (std::uint64_t h : hashes(100)) {
    EXPECT_TRUE(s.due(h, IPPROTO_TCP));
    EXPECT_TRUE(s.due(h, IPPROTO_UDP));
  }
  EXPECT_EQ(s.hits_count_after(IPPROTO_UDP), 0u);
}

// Passes a second apart, a 5 s window: every connection is due in exactly
// one of any five consecutive passes, and the connections spread evenly.
TEST_F(KeepaliveScheduleTest, EachConnectionDueOncePerWindowSpreadEvenly) {
  auto hs = hashes(5000);
  std::vector<int> due_count(hs.size());
  for (int n = 1; n <= 21; n++) {
    s.begin_pass(n * SEC);
    if (n == 1)
      continue;
    EXPECT_EQ(s.spread(IPPROTO_UDP), 5u);
    std::size_t in_pass = 0;
    for (std::size_t i = 0; i < hs.size(); i++)
      if (s.due(hs[i], IPPROTO_UDP)) {
        due_count[i]++;
        in_pass++;
      }
    EXPECT_GT(in_pass, 800u) << "pass " << n;
    EXPECT_LT(in_pass, 1200u) << "pass " << n;
  }
  for (int c : due_count)
    EXPECT_EQ(c, 4); // passes 2..21: four windows
}

// The spread follows the spacing the passes really have, per protocol's
// window, and is capped (the ring of pass starts holds that many).
TEST_F(KeepaliveScheduleTest, SpreadFollowsTheRealSpacingPerProtocol) {
  s.set_ct_timeouts(432000, 3); // UDP window: 1 s
  s.begin_pass(1 * SEC);
  s.begin_pass(3 * SEC); // 2 s apart
  EXPECT_EQ(s.spread(IPPROTO_TCP), 2u);
  EXPECT_EQ(s.spread(IPPROTO_UDP), 1u) << "a window shorter than the spacing: every pass";
  s.begin_pass(3 * SEC + 10 * MS); // 10 ms apart
  EXPECT_EQ(s.spread(IPPROTO_TCP), KeepaliveSchedule::max_spread);
  EXPECT_EQ(s.spread(IPPROTO_UDP), KeepaliveSchedule::max_spread);
  for (std::uint64_t h : hashes(1000))
    EXPECT_TRUE(s.due(h, IPPROTO_TCP) == ((h + 3) % KeepaliveSchedule::max_spread == 0));
}

// A due connection counts as active when hit since its previous due pass
// started (a little before it, for the clock's coarseness), so the hits of
// one window are never missed and never counted twice but at its edge.
TEST_F(KeepaliveScheduleTest, HitsCountFromThePreviousDuePass) {
  passes(1, 10);
  ASSERT_EQ(s.spread(IPPROTO_UDP), 5u);
  std::uint64_t after = s.hits_count_after(IPPROTO_UDP);
  EXPECT_LT(after, 5 * SEC) << "a hit just before pass 5 started counts";
  EXPECT_GT(after, 5 * SEC - 100 * MS) << "a hit of the window before pass 5 does not";
  // Before `spread` passes happened there is no previous due pass: any hit.
  KeepaliveSchedule fresh(5 * SEC);
  fresh.set_ct_timeouts(432000, 120);
  fresh.begin_pass(1 * SEC);
  fresh.begin_pass(2 * SEC);
  ASSERT_EQ(fresh.spread(IPPROTO_UDP), 5u);
  EXPECT_EQ(fresh.hits_count_after(IPPROTO_UDP), 0u);
}

TEST_F(KeepaliveScheduleTest, HitsCountFromThePreviousDuePassAtTheLargestSpread) {
  for (int n = 0; n < 200; n++)
    s.begin_pass(100 * SEC + n * 10 * MS);
  ASSERT_EQ(s.spread(IPPROTO_UDP), KeepaliveSchedule::max_spread);
  // 64 passes (640 ms) ago, less the clock's slack: the ring of pass starts
  // still holds that one.
  std::uint64_t previous_due_start = 100 * SEC + (199 - 64) * 10 * MS;
  EXPECT_LT(s.hits_count_after(IPPROTO_UDP), previous_due_start);
  EXPECT_GT(s.hits_count_after(IPPROTO_UDP), previous_due_start - 50 * MS);
}

} // namespace
} // namespace xdpflow
