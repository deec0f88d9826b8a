#include "cmd/commands.h"

namespace xdpflow::cmd {

void register_all(CLI::App &app) {
  register_attach(app);
  register_detach(app);
  register_stats(app);
  register_flows(app);
  register_status(app);
}

} // namespace xdpflow::cmd
