// The control plane loop's pacing (core/loop_pacing.h): keepalive passes
// walked a chunk per iteration, their period from conntrack's timeouts,
// stretched by slow walks but never beyond a third of the shortest timeout,
// and the retry and idle-check timers.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <set>

#include "common/fake_flow_table.h"
#include "core/flow_key.h"
#include "core/loop_pacing.h"

namespace xdpflow {
namespace {

constexpr std::uint64_t MS = 1'000'000ull, SEC = 1000 * MS;
constexpr std::uint64_t T0 = 5000 * SEC; // the loop's start (CLOCK_MONOTONIC)

// Runs one pass started at `start` whose walk takes busy_ns in total, in
// `chunks` pieces; returns when the next is due.
std::uint64_t pass(LoopPacing &p, std::uint64_t start, std::uint32_t shortest_sec,
                   std::uint64_t busy_ns, int chunks = 1) {
  p.begin_pass(start, shortest_sec);
  for (int i = 1; i <= chunks; i++)
    p.chunk_walked(busy_ns / chunks, i < chunks);
  EXPECT_FALSE(p.in_pass());
  return p.next_pass();
}

TEST(LoopPacing, FirstPassAndRetryASecondAfterStartIdleCheckAfterTen) {
  LoopPacing p(T0);
  EXPECT_FALSE(p.pass_due(T0));
  EXPECT_FALSE(p.pass_due(T0 + SEC - 1));
  EXPECT_TRUE(p.pass_due(T0 + SEC));
  EXPECT_FALSE(p.retry_now(T0 + SEC - 1));
  EXPECT_TRUE(p.retry_now(T0 + SEC));
  EXPECT_FALSE(p.idle_check_now(T0 + 10 * SEC - 1));
  EXPECT_TRUE(p.idle_check_now(T0 + 10 * SEC));
}

TEST(LoopPacing, RetriesOnceASecondFromTheLastRetry) {
  LoopPacing p(T0);
  std::vector<std::uint64_t> retries;
  // A loop waking every 300 ms for 5 s.
  for (std::uint64_t t = T0; t <= T0 + 5 * SEC; t += 300 * MS)
    if (p.retry_now(t))
      retries.push_back(t - T0);
  // Each retry is the first wake-up at least a second after the previous one.
  ASSERT_EQ(retries.size(), 4u);
  EXPECT_EQ(retries[0], 1200 * MS);
  for (std::size_t i = 1; i < retries.size(); i++) {
    EXPECT_GE(retries[i] - retries[i - 1], SEC);
    EXPECT_LT(retries[i] - retries[i - 1], SEC + 300 * MS);
  }
}

TEST(LoopPacing, IdleCheckEveryTenSeconds) {
  LoopPacing p(T0);
  int checks = 0;
  for (std::uint64_t t = T0; t < T0 + 60 * SEC; t += 100 * MS)
    checks += p.idle_check_now(t);
  EXPECT_EQ(checks, 5); // at 10, 20, ... 50 s
}

// The loop does not sleep while a pass has chunks left, and sleeps at most
// 100 ms otherwise (which also bounds the age of the data path's clock).
TEST(LoopPacing, PollDoesNotWaitDuringAPass) {
  LoopPacing p(T0);
  EXPECT_EQ(p.poll_timeout_ms(), 100);
  p.begin_pass(T0 + SEC, 120);
  EXPECT_TRUE(p.in_pass());
  EXPECT_EQ(p.poll_timeout_ms(), 0);
  p.chunk_walked(MS, true);
  EXPECT_EQ(p.poll_timeout_ms(), 0);
  p.chunk_walked(MS, false);
  EXPECT_EQ(p.poll_timeout_ms(), 100);
}

TEST(LoopPacing, NoPassStartsWhileOneIsUnderWay) {
  LoopPacing p(T0);
  p.begin_pass(T0 + SEC, 120);
  p.chunk_walked(MS, true);
  EXPECT_FALSE(p.pass_due(T0 + 100 * SEC)) << "even long past its time";
  p.chunk_walked(MS, false);
  EXPECT_TRUE(p.pass_due(T0 + 100 * SEC));
}

// A pass over a big table spans loop iterations of one chunk each, so the
// loop serves events between them; every entry is visited once.
TEST(LoopPacing, APassWalksTheTableAChunkPerIteration) {
  testing::FakeFlowTable table(1'000'000);
  const std::size_t entries = 20'000;
  for (std::uint32_t i = 0; i < entries; i++) {
    FlowTuple t;
    t.src = *IpAddr::parse("198.18.0.1");
    t.dst = *IpAddr::parse("198.19.0.1");
    t.sport = static_cast<std::uint16_t>(1024 + i % 60000);
    t.dport = static_cast<std::uint16_t>(1 + i / 60000);
    t.proto = IPPROTO_UDP;
    table.entries[make_flow_key(2, xf_encap{}, t)] = xf_flow_value{};
  }
  LoopPacing p(T0);
  ASSERT_GT(entries, 2 * p.chunk_entries()) << "the table needs several chunks";
  std::uint64_t now = T0 + SEC;
  ASSERT_TRUE(p.pass_due(now));
  p.begin_pass(now, 120);
  FlowTable::Cursor cursor;
  std::set<std::uint16_t> seen_ports;
  std::size_t visited = 0, iterations = 0;
  while (p.in_pass()) {
    std::size_t in_chunk = 0;
    bool more = table.for_each_chunk(cursor, p.chunk_entries(),
                                     [&](const xf_flow_key &k, const xf_flow_value &) {
                                       in_chunk++;
                                       seen_ports.insert(k.sport);
                                     });
    EXPECT_LE(in_chunk, p.chunk_entries());
    visited += in_chunk;
    iterations++;
    p.chunk_walked(MS, more);
    ASSERT_LT(iterations, entries) << "the pass never ends";
  }
  EXPECT_EQ(visited, entries);
  EXPECT_EQ(seen_ports.size(), entries);
  EXPECT_EQ(iterations, (entries + p.chunk_entries() - 1) / p.chunk_entries());
}

// Passes come often enough to refresh an active flow well before conntrack's
// shortest timeout, a sixth of it, but not more often than every 250 ms nor
// less often than every 2 s when walking is quick.
TEST(LoopPacing, PassPeriodFollowsTheShortestTimeoutWithinBounds) {
  std::uint64_t previous = 0;
  for (std::uint32_t timeout : {1u, 2u, 3u, 6u, 9u, 12u, 30u, 120u, 432000u}) {
    std::uint64_t period = LoopPacing::pass_period_ns(timeout);
    EXPECT_GE(period, 250 * MS) << timeout;
    EXPECT_LE(period, 2 * SEC) << timeout;
    EXPECT_GE(period, previous) << "a longer timeout never means more frequent passes";
    previous = period;
    if (timeout * SEC / 6 >= 250 * MS && timeout * SEC / 6 <= 2 * SEC) {
      EXPECT_EQ(period, timeout * SEC / 6) << timeout;
    }
    // A quick walk: the next pass comes one period after this one started,
    // and always within a third of the timeout.
    LoopPacing p(T0);
    std::uint64_t next = pass(p, T0 + SEC, timeout, MS);
    EXPECT_LE(next - (T0 + SEC), timeout * SEC / 3) << timeout;
    if (period <= timeout * SEC / 3) {
      EXPECT_EQ(next - (T0 + SEC), period) << timeout;
    }
  }
  EXPECT_EQ(LoopPacing::pass_period_ns(120), 2 * SEC);
  EXPECT_EQ(LoopPacing::pass_period_ns(1), 250 * MS);
}

// Walking a huge table takes time: passes are spaced so that walking takes
// about a tenth of the loop's time, counting every chunk of the pass.
TEST(LoopPacing, SlowWalksSpacePassesToATenthOfTheTime) {
  LoopPacing p(T0);
  std::uint64_t start = T0 + SEC;
  std::uint64_t next = pass(p, start, 120, 700 * MS, 7);
  EXPECT_EQ(next - start, 7 * SEC);
  EXPECT_GT(next - start, LoopPacing::pass_period_ns(120));
  // The next pass's busy time counts afresh.
  next = pass(p, next, 120, 10 * MS, 2);
  EXPECT_EQ(next - (start + 7 * SEC), LoopPacing::pass_period_ns(120));
}

// However slow the walk, the next pass starts within a third of the
// shortest timeout of the previous one's start, so the refreshes it sends
// come before conntrack expires an active connection.
TEST(LoopPacing, NeverSparserThanAThirdOfTheShortestTimeout) {
  for (std::uint32_t timeout : {3u, 30u, 120u}) {
    LoopPacing p(T0);
    std::uint64_t start = T0 + SEC;
    std::uint64_t next = pass(p, start, timeout, 1000 * SEC, 100);
    EXPECT_EQ(next - start, timeout * SEC / 3) << timeout;
  }
}

// Timeouts are re-read at every pass: a shorter one applies at once.
TEST(LoopPacing, EachPassUsesTheTimeoutsReadAtItsStart) {
  LoopPacing p(T0);
  std::uint64_t next = pass(p, T0 + SEC, 120, 500 * MS);
  EXPECT_EQ(next - (T0 + SEC), 5 * SEC);
  std::uint64_t after = pass(p, next, 6, 500 * MS);
  EXPECT_EQ(after - next, 2 * SEC) << "capped at a third of the new 6 s timeout";
}

} // namespace
} // namespace xdpflow
