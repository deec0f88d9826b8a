// The benchmark report's arithmetic (no privileges): result-line round trip,
// medians, ratios taken within a round, targets and the validity check.
#include <gtest/gtest.h>

#include "report.h"

namespace xfbench {
namespace {

ResultLine fwd(const std::string &config, int round, double mpps, const std::string &extra = "") {
  std::string text = "kind=fwd\tconfig=" + config + "\tround=" + std::to_string(round) +
                     "\tmpps=" + std::to_string(mpps) +
                     "\tns_per_packet=" + std::to_string(1000 / mpps) + "\treceived=1000" + extra;
  return *ResultLine::parse(text);
}

TEST(BenchResultLine, RoundTripKeepsOrderAndSpaces) {
  ResultLine l;
  l.set("kind", "fwd").set("title", "kernel path: nft + ct").set("mpps", 1.5);
  auto back = ResultLine::parse(l.to_string());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_string(), l.to_string());
  EXPECT_EQ(back->text("title"), "kernel path: nft + ct");
  EXPECT_DOUBLE_EQ(back->number("mpps"), 1.5);
  EXPECT_FALSE(ResultLine::parse(""));
  EXPECT_THROW(back->number("title"), std::runtime_error);
  EXPECT_THROW(back->text("missing"), std::runtime_error);
}

TEST(BenchResultLine, TabsInValuesCannotSplitAField) {
  ResultLine l;
  l.set("note", "a\tb\nc");
  EXPECT_EQ(ResultLine::parse(l.to_string())->text("note"), "a b c");
}

TEST(BenchSpread, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(spread_of({3, 1, 2}).median, 2);
  EXPECT_DOUBLE_EQ(spread_of({4, 1, 3, 2}).median, 2.5);
  EXPECT_DOUBLE_EQ(spread_of({4, 1, 3, 2}).min, 1);
  EXPECT_DOUBLE_EQ(spread_of({4, 1, 3, 2}).max, 4);
  EXPECT_DOUBLE_EQ(spread_of({}).median, 0);
}

TEST(BenchReport, RatiosAreMediansOfSameRoundRatios) {
  Report r;
  // Round 2 is slow for both: the per-round ratio stays 4, while the ratio
  // of medians would not.
  r.add(fwd("kernel", 1, 1.0));
  r.add(fwd("kernel", 2, 0.5));
  r.add(fwd("kernel", 3, 1.0));
  r.add(fwd("xdpflow", 1, 4.0, "\tvs_kernel=kernel\ttarget_kernel=5"));
  r.add(fwd("xdpflow", 2, 2.0, "\tvs_kernel=kernel\ttarget_kernel=5"));
  r.add(fwd("xdpflow", 3, 4.0, "\tvs_kernel=kernel\ttarget_kernel=5"));
  auto s = r.forwarding();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].config, "xdpflow");
  EXPECT_EQ(s[1].runs, 3);
  EXPECT_DOUBLE_EQ(s[1].mpps.median, 4.0);
  ASSERT_TRUE(s[1].vs_kernel);
  EXPECT_DOUBLE_EQ(*s[1].vs_kernel, 4.0);
  auto t = r.targets();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_FALSE(t[0].met);
  EXPECT_NE(r.markdown().find("4.00 x"), std::string::npos);
}

TEST(BenchReport, KernelTargetShowsTheBareForwardersBound) {
  // Kernel 1.0, bare 4.8, xdpflow 4.2 in one round: xdpflow misses 5 x,
  // and the report says that the bare forwarder itself only reaches 4.8 x.
  Report r;
  r.add(fwd("kernel", 1, 1.0));
  r.add(fwd("bare", 1, 4.8));
  r.add(fwd("xdpflow", 1, 4.2, "\tvs_kernel=kernel\tvs_bare=bare\ttarget_kernel=5"));
  auto t = r.targets();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_FALSE(t[0].met);
  EXPECT_EQ(t[0].bound, "bare / kernel: 4.80 x");
  EXPECT_NE(r.markdown().find("| bare / kernel: 4.80 x |"), std::string::npos);
}

// Cost targets: at most 1.10 x the bare forwarder's ns, and 1 M flows at
// most 120 ns above the same program's 1-flow cost, both per round.
TEST(BenchReport, CostTargetsAgainstBareAndOwnOneFlowCost) {
  Report r;
  r.add(fwd("bare", 1, 10.0));                                        // 100 ns
  r.add(fwd("one", 1, 8.0, "\tvs_bare=bare\ttarget_bare=1.1"));       // 125 ns: 1.25 x
  r.add(fwd("million", 1, 4.0, "\tvs_self=one\ttarget_plus_ns=120")); // 250 ns: +125
  auto s = r.forwarding();
  ASSERT_TRUE(s[1].cost_vs_bare);
  EXPECT_DOUBLE_EQ(*s[1].cost_vs_bare, 1.25);
  ASSERT_TRUE(s[2].plus_ns);
  EXPECT_DOUBLE_EQ(*s[2].plus_ns, 125.0);
  auto t = r.targets();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_FALSE(t[0].met);
  EXPECT_EQ(t[0].measured, "1.25 x");
  EXPECT_FALSE(t[1].met);
  EXPECT_EQ(t[1].measured, "125.0 ns");
}

ResultLine memlat(double mib, double ns) {
  return *ResultLine::parse("kind=memlat\tbytes=" + std::to_string(mib * 1024 * 1024) +
                            "\tpages=4k\tns_per_load=" + std::to_string(ns));
}

// 1 M flows: the ns above the 1-flow cost in misses, each the memory
// latency measured at the size closest to the table's own.
TEST(BenchReport, NsAboveOneFlowCountedInMissesOfTheClosestSize) {
  Report r;
  r.add(memlat(32, 125.0));
  r.add(memlat(512, 190.0));
  r.add(memlat(512, 200.0));                    // a second run: median 195
  r.add(fwd("one", 1, 10.0));                   // 100 ns
  r.add(fwd("million", 1, 1000.0 / 490.0,       // 490 ns: +390
            "\tvs_self=one\ttarget_plus_ns=120" // the target
            "\ttable_bytes=" +
                std::to_string(400.0 * 1024 * 1024)));
  auto m = r.memlat();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_DOUBLE_EQ(m[1].ns.median, 195.0);
  EXPECT_EQ(m[1].runs, 2);
  auto s = r.forwarding();
  ASSERT_TRUE(s[1].misses);
  EXPECT_DOUBLE_EQ(*s[1].miss_ns, 195.0);
  EXPECT_NEAR(*s[1].misses, 2.0, 1e-9);
  auto t = r.targets();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_FALSE(t[0].met);
  EXPECT_EQ(t[0].target, "<= 120 ns");
  EXPECT_EQ(t[0].measured, "390.0 ns ≈ 2.0 misses");
  EXPECT_EQ(t[0].bound, "one miss: 195.0 ns (512 MiB, 4 KiB pages)");
  std::string md = r.markdown();
  EXPECT_NE(md.find("| 32 MiB | 125.0 | 125.0 - 125.0 | 1 |"), std::string::npos);
  EXPECT_NE(md.find("closest to its flow table's 400 MiB"), std::string::npos);
  EXPECT_NE(r.json().find("\"misses_above_self\":2"), std::string::npos);
}

TEST(BenchReport, MissesUseTheSmallerSizeForASmallTableAndTheLargestWithoutOne) {
  Report small;
  small.add(memlat(32, 125.0));
  small.add(memlat(512, 200.0));
  small.add(fwd("one", 1, 10.0));
  small.add(fwd("tenk", 1, 4.0, "\tvs_self=one\ttarget_plus_ns=120\ttable_bytes=50000000"));
  EXPECT_DOUBLE_EQ(*small.forwarding()[1].miss_ns, 125.0); // +150 ns
  EXPECT_DOUBLE_EQ(*small.forwarding()[1].misses, 1.2);

  Report unknown;
  unknown.add(memlat(32, 125.0));
  unknown.add(memlat(512, 200.0));
  unknown.add(fwd("one", 1, 10.0));
  unknown.add(fwd("million", 1, 4.0, "\tvs_self=one\ttarget_plus_ns=120"));
  EXPECT_DOUBLE_EQ(*unknown.forwarding()[1].miss_ns, 200.0);

  Report none; // no memlat lines: no misses figure, the target still judged
  none.add(fwd("one", 1, 10.0));
  none.add(fwd("million", 1, 4.0, "\tvs_self=one\ttarget_plus_ns=120"));
  EXPECT_FALSE(none.forwarding()[1].misses);
  EXPECT_EQ(none.targets()[0].measured, "150.0 ns");
}

TEST(BenchReport, RatioNeedsTheBaselineInTheSameRound) {
  Report r;
  r.add(fwd("bare", 1, 5.0));
  r.add(fwd("xdpflow", 2, 4.0, "\tvs_bare=bare\ttarget_bare=1.1"));
  auto s = r.forwarding();
  EXPECT_FALSE(s[1].cost_vs_bare);
  auto t = r.targets();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].measured, "not measured");
  EXPECT_FALSE(t[0].met);
}

TEST(BenchReport, ControlPlaneTargetsHigherOrLowerIsBetter) {
  Report r;
  r.add(*ResultLine::parse("kind=cp\tmetric=rate\ttitle=rate\tvalue=60000\tunit=/s\ttarget=50000"));
  r.add(*ResultLine::parse(
      "kind=cp\tmetric=rss\ttitle=rss\tvalue=70\tunit=MiB\ttarget=64\tbetter=lower"));
  auto t = r.targets();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_TRUE(t[0].met);
  EXPECT_FALSE(t[1].met);
  EXPECT_EQ(t[1].target, "< 64.0 MiB");
}

TEST(BenchReport, ProblemsNameEmptyRunsAndKernelFallback) {
  Report r;
  EXPECT_TRUE(r.problems().empty());
  auto dead =
      *ResultLine::parse("kind=fwd\tconfig=kernel\tround=1\tmpps=0\tns_per_packet=0\treceived=0");
  r.add(dead);
  r.add(fwd("bare", 1, 5.0, "\tnapi_packets=1000\tfull_packets=0"));
  r.add(fwd("xdpflow", 1, 3.0, "\tgw_fast_packets=90\tgw_slow_packets=10"));
  auto p = r.problems();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_NE(p[0].find("kernel round 1"), std::string::npos);
  EXPECT_NE(p[1].find("bare round 1: the gateway's NAPI kthread ran no two full-budget polls"),
            std::string::npos);
  EXPECT_NE(p[2].find("90.0 %"), std::string::npos);
}

TEST(BenchReport, JsonAndChartCarryEveryConfiguration) {
  Report r;
  r.add(fwd("kernel", 1, 1.0, "\ttitle=kernel \"path\""));
  r.add(fwd("bare", 1, 5.0, "\tgw=bare"));
  std::string json = r.json();
  EXPECT_NE(json.find("\"config\":\"kernel\""), std::string::npos);
  EXPECT_NE(json.find("\"config\":\"bare\""), std::string::npos);
  std::string chart = r.chart_data();
  EXPECT_NE(chart.find("0 \"kernel 'path', IPv4\" 1000.0"), std::string::npos);
  EXPECT_NE(chart.find("\" 200.0 200.0 200.0 2\n"), std::string::npos);
}

} // namespace
} // namespace xfbench
