// xfbench: the measuring half of scripts/bench (which builds the namespace
// rig and runs the configurations). Each subcommand measures one thing and
// prints result lines (result_line.h); `report` turns them into the tables.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "core/error.h"

int main(int argc, char **argv) {
  CLI::App app{"xfbench: xdpflow benchmark runner (see scripts/bench)", "xfbench"};
  app.require_subcommand(1);
  xfbench::register_fwd(app);
  xfbench::register_pingpong(app);
  xfbench::register_cost(app);
  xfbench::register_report(app);
  xfbench::register_ctinject(app);
  xfbench::register_cpuburst(app);
  xfbench::register_memlat(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const xdpflow::UsageError &e) {
    std::fprintf(stderr, "xfbench: %s\n", e.what());
    return 2;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "xfbench: %s\n", e.what());
    return 1;
  }
  return 0;
}
