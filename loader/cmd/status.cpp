// xdpflow status [--json]: attached interfaces with mode and driver XDP
// features, table fill, and whether the control plane is alive.
#include <cstdio>
#include <memory>

#include "cmd/commands.h"
#include "core/status_report.h"
#include "kernel/instance.h"

namespace xdpflow::cmd {

void register_status(CLI::App &app) {
  auto json = std::make_shared<bool>(false);
  CLI::App *sub = app.add_subcommand(
      "status", "Attached interfaces, their XDP mode and driver features, flow table fill, "
                "control-plane liveness");
  sub->add_flag("--json", *json, "One JSON object");
  sub->callback([json] {
    auto s = RunningInstance::find().status();
    std::fputs((*json ? status_json(s) : status_table(s)).c_str(), stdout);
  });
}

} // namespace xdpflow::cmd
