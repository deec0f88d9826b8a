// xfbench subcommands, one file each; main() registers them all.
#pragma once

#include <CLI/CLI.hpp>

namespace xfbench {

void register_fwd(CLI::App &app);      // fwd_cmd.cpp: one forwarding-rate run
void register_pingpong(CLI::App &app); // pingpong_cmd.cpp: UDP exchange for conntrack
void register_cost(CLI::App &app);     // cost_cmd.cpp: per-packet program cost
void register_report(CLI::App &app);   // report_cmd.cpp: table, JSON, chart data
void register_ctinject(CLI::App &app); // ctinject_cmd.cpp: conntrack entries in bulk
void register_cpuburst(CLI::App &app); // cpuburst_cmd.cpp: CPU of periodic work
void register_memlat(CLI::App &app);   // memlat_cmd.cpp: one memory miss, measured

} // namespace xfbench
