// `xfbench cp`: control-plane figures (placeholder until the control plane
// lands).
#include "commands.h"
#include "core/error.h"

namespace xfbench {

void register_cp(CLI::App &app) {
  auto *cmd = app.add_subcommand("cp", "control-plane figures");
  cmd->callback([] { throw xdpflow::RuntimeError("xfbench cp: not implemented yet"); });
}

} // namespace xfbench
