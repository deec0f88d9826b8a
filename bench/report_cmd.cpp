// `xfbench report [FILE...]`: reads result lines (stdin when no file) and
// prints the markdown report, or JSON with --json; --chart-data writes the
// bar chart's data file for bench/chart.gp.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "core/error.h"
#include "report.h"

namespace xfbench {
namespace {

struct ReportOptions {
  std::vector<std::string> files;
  bool json = false, check = false;
  std::string chart_data;
};

void read_lines(std::istream &in, Report &report) {
  std::string line;
  while (std::getline(in, line))
    if (auto r = ResultLine::parse(line))
      report.add(*r);
}

void run_report(const ReportOptions &o) {
  Report report;
  if (o.files.empty())
    read_lines(std::cin, report);
  for (const auto &f : o.files) {
    std::ifstream in(f);
    if (!in)
      throw xdpflow::UsageError("cannot read " + f);
    read_lines(in, report);
  }
  if (!o.chart_data.empty()) {
    std::ofstream out(o.chart_data);
    out << report.chart_data();
    if (!out)
      throw xdpflow::RuntimeError("cannot write " + o.chart_data);
  }
  std::fputs(o.json ? report.json().c_str() : report.markdown().c_str(), stdout);
  if (o.check) {
    auto problems = report.problems();
    for (const auto &p : problems)
      std::fprintf(stderr, "xfbench report: %s\n", p.c_str());
    if (!problems.empty())
      throw xdpflow::RuntimeError("the benchmark run is not valid (see above)");
  }
}

} // namespace

void register_report(CLI::App &app) {
  auto o = std::make_shared<ReportOptions>();
  auto *cmd = app.add_subcommand("report", "summarise result lines: markdown table or JSON");
  cmd->add_option("files", o->files, "result files (default: stdin)");
  cmd->add_flag("--json", o->json, "JSON instead of markdown");
  cmd->add_flag(
      "--check", o->check,
      "fail when a configuration forwarded nothing or xdpflow left packets to the kernel");
  cmd->add_option("--chart-data", o->chart_data, "also write the bar chart's data here");
  cmd->callback([o] { run_report(*o); });
}

} // namespace xfbench
