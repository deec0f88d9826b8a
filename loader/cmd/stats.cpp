// xdpflow stats [--json] [--watch SEC [--count N]]: totals since attach, or
// per-second rates, read from the running instance's maps (found through
// the attached program, so it works from any shell of the netns).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <thread>

#include "cmd/clock.h"
#include "cmd/commands.h"
#include "core/error.h"
#include "kernel/instance.h"

namespace xdpflow::cmd {

namespace {

struct StatsFlags {
  bool json = false;
  double watch = 0;
  unsigned count = 0;
};

std::string clock_label() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

void run_stats(const StatsFlags &f) {
  auto instance = RunningInstance::find();
  if (f.watch <= 0) {
    auto s = instance.stats();
    std::fputs((f.json ? stats_json(s) : stats_table(s)).c_str(), stdout);
    return;
  }
  auto before = instance.stats();
  std::uint64_t t0 = now_ns(CLOCK_MONOTONIC);
  const auto period = std::chrono::duration<double>(f.watch);
  for (unsigned row = 0; f.count == 0 || row < f.count; row++) {
    std::this_thread::sleep_for(period);
    // Found again every interval: the map fds we hold would keep showing a
    // stopped instance's frozen counters. Throws once it is gone.
    instance = RunningInstance::find();
    auto after = instance.stats();
    std::uint64_t t1 = now_ns(CLOCK_MONOTONIC);
    if (f.json) {
      std::fputs(stats_json(after).c_str(), stdout);
    } else {
      if (row % 20 == 0)
        std::fputs(rates_header().c_str(), stdout);
      auto rates = compute_rates(before, after, double(t1 - t0) / 1e9);
      std::fputs(rates_row(clock_label(), rates).c_str(), stdout);
    }
    std::fflush(stdout);
    before = after;
    t0 = t1;
  }
}

} // namespace

void register_stats(CLI::App &app) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App *sub = app.add_subcommand(
      "stats", "Fast-path and slow-path counters since attach, or per-second rates (--watch)");
  sub->add_flag("--json", flags->json, "One JSON object (with --watch: one per interval)");
  sub->add_option("--watch", flags->watch,
                  "Print per-second rates every SEC seconds until interrupted")
      ->check(CLI::Range(0.1, 3600.0))
      ->type_name("SEC");
  sub->add_option("--count", flags->count, "With --watch: stop after N intervals")
      ->check(CLI::PositiveNumber)
      ->type_name("N");
  sub->callback([flags, sub] {
    if (sub->get_option("--count")->count() && flags->watch <= 0)
      throw UsageError("--count only makes sense with --watch SEC");
    run_stats(*flags);
  });
}

} // namespace xdpflow::cmd
