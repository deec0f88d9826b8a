// One function per subcommand, each in its own file under cmd/: it adds its
// options to the app and sets the callback that runs it.
#pragma once

#include <CLI/CLI.hpp>

namespace xdpflow::cmd {

// Subcommands register here; main() calls every function of this list.
void register_all(CLI::App &app);

} // namespace xdpflow::cmd
