// `xfbench cpuburst --pid P`: the CPU time of a process's periodic bursts of
// work, e.g. the control plane's keepalive passes, which come at intervals
// the control plane chooses itself (longer on huge tables). Samples the
// process's scheduler run time (schedstat of its threads, ns) every 5 ms; a
// burst starts with a sample in which the process ran more than a fifth of
// the time and ends after 50 ms without one (a pass preempted for a moment
// stays one burst); its CPU is the sum. Prints one result line with the
// median burst and how many were seen.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "report.h"
#include "result_line.h"

namespace xfbench {
namespace {

struct BurstOptions {
  int pid = 0;
  double seconds = 60;
  unsigned bursts = 2; // stop after this many complete bursts
};

// Total CPU time of the process in ns, from the scheduler: the sum over its
// threads (/proc/P/schedstat alone is the main thread's).
std::uint64_t run_ns(int pid) {
  std::uint64_t total = 0;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat)
    throw xdpflow::RuntimeError("process " + std::to_string(pid) + " is gone");
  std::string tasks_dir = "/proc/" + std::to_string(pid) + "/task/";
  for (const auto &entry : std::filesystem::directory_iterator(tasks_dir)) {
    std::ifstream in(entry.path() / "schedstat");
    std::uint64_t ns = 0;
    if (in >> ns)
      total += ns;
  }
  return total;
}

void run_cpuburst(const BurstOptions &o) {
  using Clock = std::chrono::steady_clock;
  constexpr auto tick = std::chrono::milliseconds(5);
  constexpr std::uint64_t busy_ns = 1'000'000; // > 1 ms of 5 ms: in a burst
  constexpr int quiet_ticks_to_end = 10;       // 50 ms without work ends a burst
  std::vector<double> bursts_ms;
  double current_ms = 0;
  bool in_burst = false, seen_quiet = false;
  int quiet = 0;
  auto start = Clock::now();
  std::uint64_t prev = run_ns(o.pid);
  while (Clock::now() - start < std::chrono::duration<double>(o.seconds) &&
         bursts_ms.size() < o.bursts) {
    std::this_thread::sleep_for(tick);
    std::uint64_t now = run_ns(o.pid);
    std::uint64_t delta = now - prev;
    double delta_ms = static_cast<double>(delta) / 1e6;
    prev = now;
    if (delta > busy_ns) {
      // A burst already running when we started is not counted.
      in_burst = in_burst || seen_quiet;
      quiet = 0;
    } else {
      seen_quiet = true;
      quiet++;
    }
    if (!in_burst)
      continue;
    current_ms += delta_ms;
    // Short pauses (preemption, a poll wake-up) belong to the same burst.
    if (quiet >= quiet_ticks_to_end) {
      bursts_ms.push_back(current_ms);
      current_ms = 0;
      in_burst = false;
    }
  }
  ResultLine line;
  line.set("kind", "cpuburst")
      .set("bursts", std::to_string(bursts_ms.size()))
      .set("median_ms", spread_of(bursts_ms).median)
      .set("max_ms", spread_of(bursts_ms).max);
  std::printf("%s\n", line.to_string().c_str());
}

} // namespace

void register_cpuburst(CLI::App &app) {
  auto o = std::make_shared<BurstOptions>();
  auto *cmd = app.add_subcommand("cpuburst", "CPU time of a process's periodic bursts of work");
  cmd->add_option("--pid", o->pid, "process to watch")->required();
  cmd->add_option("--seconds", o->seconds, "watch at most this long")->capture_default_str();
  cmd->add_option("--bursts", o->bursts, "stop after this many complete bursts")
      ->capture_default_str();
  cmd->callback([o] { run_cpuburst(*o); });
}

} // namespace xfbench
