#include "cmd/commands.h"

namespace xdpflow::cmd {

void register_all(CLI::App &app) {
  (void)app;
}

} // namespace xdpflow::cmd
