// One function per subcommand, each in its own file under cmd/: it adds its
// options to the app and sets the callback that runs it. Callbacks throw
// UsageError (exit 2) or anything else (exit 1); main() prints one line.
#pragma once

#include <CLI/CLI.hpp>

namespace xdpflow::cmd {

void register_attach(CLI::App &app);
void register_detach(CLI::App &app);
void register_stats(CLI::App &app);
void register_flows(CLI::App &app);
void register_status(CLI::App &app);

// Subcommands register here; main() calls it once.
void register_all(CLI::App &app);

} // namespace xdpflow::cmd
