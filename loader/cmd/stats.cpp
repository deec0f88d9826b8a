// xdpflow stats [--json | --format table|json|prometheus] [--watch SEC [--count N]]:
// totals since attach, or per-second rates, read from the running instance's
// maps (found through the attached program, so it works from any shell of
// the netns). --format prometheus: the text exposition format for
// node_exporter's textfile collector (dist/xdpflow-metrics.service).
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>

#include "cmd/clock.h"
#include "cmd/commands.h"
#include "core/error.h"
#include "core/prometheus.h"
#include "kernel/instance.h"
#include "kernel/unique_fd.h"

namespace xdpflow::cmd {

namespace {

enum class StatsFormat { Table, Json, Prometheus };

struct StatsFlags {
  bool json = false;
  StatsFormat format = StatsFormat::Table;
  std::string output; // --output FILE: replaced atomically
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

std::string metrics_text(const RunningInstance &instance) {
  MetricsSnapshot m;
  m.stats = instance.stats();
  m.status.prog_id = instance.prog_id();
  m.status.interfaces = m.stats.interfaces;
  m.status.flows_offloaded = m.stats.flows_offloaded;
  m.status.flows_capacity = m.stats.flows_capacity;
  m.status.cp = instance.control_plane_status();
  m.status.now_ns = now_ns(CLOCK_MONOTONIC);
  m.now_unix_sec = double(now_ns(CLOCK_REALTIME)) / 1e9;
  return prometheus_text(m);
}

std::string totals_text(const RunningInstance &instance, StatsFormat format) {
  switch (format) {
  case StatsFormat::Prometheus:
    return metrics_text(instance);
  case StatsFormat::Json:
    return stats_json(instance.stats());
  case StatsFormat::Table:
    break;
  }
  return stats_table(instance.stats());
}

// Writes text to a temporary file in the same directory and renames it over
// path: a reader (node_exporter's textfile collector) sees the old file or
// the new one, never half of one.
void write_atomically(const std::string &path, const std::string &text) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd)
    throw SysError(errno, "creating " + tmp);
  const char *p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = write(fd.get(), p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      unlink(tmp.c_str());
      throw SysError(err, "writing " + tmp);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (fsync(fd.get()) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    throw SysError(err, "replacing " + path);
  }
}

void run_stats(StatsFlags f) {
  if (f.json)
    f.format = StatsFormat::Json;
  if (!f.output.empty()) {
    std::string text;
    try {
      text = totals_text(RunningInstance::find(), f.format);
    } catch (...) {
      // No instance (or no access): old figures must not look current, so
      // the file goes (alert on absent(xdpflow_control_plane_up)).
      if (unlink(f.output.c_str()) != 0 && errno != ENOENT)
        std::fprintf(stderr, "xdpflow: removing the stale %s: %s\n", f.output.c_str(),
                     std::strerror(errno));
      throw;
    }
    write_atomically(f.output, text);
    return;
  }
  auto instance = RunningInstance::find();
  if (f.watch <= 0) {
    std::fputs(totals_text(instance, f.format).c_str(), stdout);
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
    if (f.format == StatsFormat::Json) {
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
  auto json = sub->add_flag("--json", flags->json,
                            "One JSON object (with --watch: one per interval); --format json");
  const std::map<std::string, StatsFormat> formats{{"table", StatsFormat::Table},
                                                   {"json", StatsFormat::Json},
                                                   {"prometheus", StatsFormat::Prometheus}};
  sub->add_option("--format", flags->format,
                  "table (default), json, or prometheus: the text exposition format for "
                  "node_exporter's textfile collector")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
      ->excludes(json)
      ->type_name("FORMAT");
  sub->add_option("--output,-o", flags->output,
                  "Write to FILE instead of stdout, replacing it atomically (removed when no "
                  "instance is found); e.g. for node_exporter's textfile collector")
      ->type_name("FILE");
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
    if (!flags->output.empty() && flags->watch > 0)
      throw UsageError("--output writes the totals once; run it from a timer instead of --watch");
    if (flags->format == StatsFormat::Prometheus && flags->watch > 0)
      throw UsageError("--format prometheus prints the totals once; the collector computes rates "
                       "(drop --watch)");
    run_stats(*flags);
  });
}

} // namespace xdpflow::cmd
